/*
 * A phone, an agent and a registrar from scratch, with nothing but the header: provisioning with
 * and without a PIN-checked user; registration with a challenge, by the clock and by sequence
 * number, with and without a PIN signature, the registrar fetching each key from the agent's
 * key service; then a SIP Digest registration in which the phone answers the Digest registrar's
 * challenge with the password derived from its own keys, and the registrar checks it with the
 * password derived from the key it fetched.
 */
#include "check.h"

#define CHECK(call) EXPECT_OK(call)

static int failures = 0;

static const char AGENT[] = "agent-1";
static const char SERVICE[] = "sip.example.com";
static const char LOGIN[] = "alice";
static const char PIN[] = "0042";
static const uint8_t SALT[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static uint8_t agent_identity[32];
static uint8_t registrar_identity[32];

struct world {
    keyprov_drbg *rng;
    keyprov_agent_config *config;
    keyprov_registrar *registrar;
    uint64_t now;
};

struct credentials {
    keyprov_key_id *key_id;
    uint8_t secret_key[KEYPROV_KEY_LEN];
    uint8_t authentication_key[KEYPROV_KEY_LEN];
};

/* Moves every queued byte string of the device to the agent. */
static void device_to_agent(struct world *w, keyprov_device_provisioning *dev,
                            keyprov_agent_provisioning *agent) {
    uint8_t buf[4096];
    size_t len = 0;
    for (;;) {
        CHECK(keyprov_device_provisioning_poll_transmit(dev, buf, sizeof buf, &len));
        if (len == 0) break;
        CHECK(keyprov_agent_provisioning_handle_message(agent, w->config, keyprov_drbg_rng_callback,
                                                       w->rng, buf, len));
    }
}

static void agent_to_device(struct world *w, keyprov_agent_provisioning *agent,
                            keyprov_device_provisioning *dev) {
    uint8_t buf[4096];
    size_t len = 0;
    for (;;) {
        CHECK(keyprov_agent_provisioning_poll_transmit(agent, buf, sizeof buf, &len));
        if (len == 0) break;
        CHECK(keyprov_device_provisioning_handle_message(dev, w->now, buf, len));
    }
}

/* Answers the agent's requests; returns how many events were handled. */
static int drain_agent(struct world *w, keyprov_agent_provisioning *agent, uint32_t *counter) {
    keyprov_agent_event ev;
    int n = 0;
    for (;;) {
        CHECK(keyprov_agent_provisioning_poll_event(agent, &ev));
        if (ev.kind == KEYPROV_AGENT_EVENT_NONE) break;
        n++;
        switch (ev.kind) {
        case KEYPROV_AGENT_EVENT_LOOKUP_USER: {
            keyprov_agent_user user;
            memset(&user, 0, sizeof user);
            EXPECT(ev.login_len == strlen(LOGIN) && memcmp(ev.login, LOGIN, ev.login_len) == 0);
            CHECK(keyprov_pin_verifier(SALT, sizeof SALT, PIN, strlen(PIN), user.verifier,
                                       sizeof user.verifier));
            user.has_verifier = 1;
            CHECK(keyprov_agent_provisioning_handle_user_result(agent, w->config, w->now,
                                                                ev.handle, &user));
            break;
        }
        case KEYPROV_AGENT_EVENT_RESERVE_COUNTER:
            EXPECT(ev.reservation == KEYPROV_RESERVATION_DEVICE);
            *counter += 1;
            CHECK(keyprov_agent_provisioning_handle_counter_result(agent, w->config, w->now,
                                                                   ev.handle, KEYPROV_OK,
                                                                   *counter));
            break;
        case KEYPROV_AGENT_EVENT_ISSUED:
            EXPECT(ev.counter == *counter);
            break;
        case KEYPROV_AGENT_EVENT_PIN_ACCEPTED:
            break;
        default:
            fprintf(stderr, "unexpected agent event %u (error %u)\n", ev.kind, ev.error);
            failures++;
            return n;
        }
    }
    return n;
}

static void provision(struct world *w, int with_pin, uint32_t *counter, struct credentials *out) {
    keyprov_device_provisioning_config cfg;
    keyprov_device_provisioning *dev = NULL;
    keyprov_agent_provisioning *agent = NULL;
    keyprov_device_event ev;
    uint8_t binding[32];
    int provisioned = 0, rounds;
    static const char device[] = "mac:00:1A:2B:3C:4D:5E";

    memset(&cfg, 0, sizeof cfg);
    memcpy(cfg.trust_anchor, agent_identity, 32);
    cfg.subject = KEYPROV_SUBJECT_DEVICE_ID;
    cfg.device_id = device;
    cfg.device_id_len = strlen(device);
    if (with_pin) {
        cfg.login = (const uint8_t *)LOGIN;
        cfg.login_len = strlen(LOGIN);
        cfg.pin = PIN;
        cfg.pin_len = strlen(PIN);
        cfg.salt = SALT;
        cfg.salt_len = sizeof SALT;
    }
    cfg.expected_agent = AGENT;
    cfg.expected_agent_len = strlen(AGENT);
    cfg.response_timeout = 30;
    CHECK(keyprov_device_provisioning_new(&cfg, &dev));
    CHECK(keyprov_agent_provisioning_new(&agent));

    CHECK(keyprov_drbg_generate(w->rng, NULL, 0, binding, sizeof binding));
    CHECK(keyprov_agent_provisioning_handle_connected(agent, binding, sizeof binding));
    CHECK(keyprov_device_provisioning_handle_connected(dev, w->now, agent_identity, 32, binding,
                                                       sizeof binding));
    for (rounds = 0; rounds < 10 && !provisioned; rounds++) {
        device_to_agent(w, dev, agent);
        drain_agent(w, agent, counter);
        agent_to_device(w, agent, dev);
        for (;;) {
            CHECK(keyprov_device_provisioning_poll_event(dev, &ev));
            if (ev.kind == KEYPROV_DEVICE_EVENT_NONE) break;
            switch (ev.kind) {
            case KEYPROV_DEVICE_EVENT_STORE_CREDENTIALS:
                EXPECT(ev.counter == *counter);
                EXPECT(ev.agent_id_len == strlen(AGENT));
                CHECK(keyprov_key_id_decode(ev.key_id, ev.key_id_len, &out->key_id));
                memcpy(out->secret_key, ev.key, KEYPROV_KEY_LEN);
                CHECK(keyprov_device_provisioning_handle_store_result(dev, ev.handle, KEYPROV_OK));
                break;
            case KEYPROV_DEVICE_EVENT_CLOSE_SESSION:
                CHECK(keyprov_device_provisioning_handle_closed(dev));
                break;
            case KEYPROV_DEVICE_EVENT_PROVISIONED:
                memcpy(out->authentication_key, ev.key, KEYPROV_KEY_LEN);
                provisioned = 1;
                break;
            default:
                fprintf(stderr, "unexpected device event %u (error %u)\n", ev.kind, ev.error);
                failures++;
                rounds = 100;
                break;
            }
            keyprov_secure_zero(&ev, sizeof ev);
        }
    }
    EXPECT(provisioned);
    {
        /* The authentication key the device reports must match the derivation. */
        uint8_t auth[KEYPROV_KEY_LEN];
        keyprov_key_schedule *schedule = NULL;
        uint8_t master[KEYPROV_KEY_LEN], derived[KEYPROV_KEY_LEN];
        static const uint8_t seed[32] = {0x5e};
        CHECK(keyprov_authentication_key(out->secret_key, 32, auth, sizeof auth));
        EXPECT(memcmp(auth, out->authentication_key, 32) == 0);
        CHECK(keyprov_master_key_from_seed(seed, sizeof seed, (const uint8_t *)"example.com", 11,
                                           1, master, sizeof master));
        CHECK(keyprov_key_schedule_new(master, sizeof master, 1, &schedule));
        CHECK(keyprov_key_schedule_device_key(schedule, out->key_id, derived, sizeof derived));
        EXPECT(memcmp(derived, out->secret_key, 32) == 0);
        keyprov_key_schedule_free(schedule);
        keyprov_secure_zero(master, sizeof master);
    }
    keyprov_device_provisioning_free(dev);
    keyprov_agent_provisioning_free(agent);
}

/* The registrar's key fetch: key client to the agent's key service and back. */
static void fetch_key(struct world *w, const keyprov_registrar_event *ev,
                      keyprov_fetched_key *key_out, keyprov_result *result_out) {
    keyprov_key_client *client = NULL;
    keyprov_agent_key_service *service = NULL;
    keyprov_key_id *key_id = NULL;
    keyprov_agent_event aev;
    uint8_t buf[4096];
    size_t len = 0;
    uint32_t request_id = 0, answered = 0;

    CHECK(keyprov_key_id_decode(ev->key_id, ev->key_id_len, &key_id));
    CHECK(keyprov_key_client_new(&client));
    CHECK(keyprov_agent_key_service_new(registrar_identity, 32, &service));
    CHECK(keyprov_key_client_request(client, key_id, (const uint8_t *)SERVICE, strlen(SERVICE),
                                     ev->has_login ? ev->login : NULL,
                                     ev->has_login ? ev->login_len : 0, &request_id));
    for (;;) {
        CHECK(keyprov_key_client_poll_transmit(client, buf, sizeof buf, &len));
        if (len == 0) break;
        CHECK(keyprov_agent_key_service_handle_message(service, w->config, buf, len));
    }
    for (;;) {
        CHECK(keyprov_agent_key_service_poll_event(service, &aev));
        if (aev.kind == KEYPROV_AGENT_EVENT_NONE) break;
        if (aev.kind == KEYPROV_AGENT_EVENT_CHECK_KEY) {
            keyprov_key_check check;
            memset(&check, 0, sizeof check);
            EXPECT(memcmp(aev.registrar, registrar_identity, 32) == 0);
            EXPECT(aev.service_len == strlen(SERVICE));
            check.authorized = 1;
            check.status = KEYPROV_KEY_STATUS_CURRENT;
            check.not_after = w->now + 86400;
            if (aev.has_login) {
                check.has_pin_verifier = 1;
                CHECK(keyprov_pin_verifier(SALT, sizeof SALT, PIN, strlen(PIN),
                                           check.pin_verifier, 32));
            }
            CHECK(keyprov_agent_key_service_handle_check_result(service, w->config, w->now,
                                                                aev.handle, &check));
        } else {
            fprintf(stderr, "unexpected key service event %u\n", aev.kind);
            failures++;
        }
    }
    for (;;) {
        CHECK(keyprov_agent_key_service_poll_transmit(service, buf, sizeof buf, &len));
        if (len == 0) break;
        CHECK(keyprov_key_client_handle_message(client, buf, len, &answered, result_out, key_out));
        EXPECT(answered == request_id);
    }
    keyprov_key_id_free(key_id);
    keyprov_key_client_free(client);
    keyprov_agent_key_service_free(service);
}

static void do_register(struct world *w, const struct credentials *c, uint32_t mode,
                        int with_pin, uint64_t sequence, uint8_t service_key_out[32]) {
    keyprov_device_registration_config cfg;
    keyprov_device_registration *dev = NULL;
    keyprov_registrar_session *session = NULL;
    keyprov_device_event dev_ev;
    keyprov_registrar_event reg_ev;
    uint8_t buf[4096];
    size_t len = 0;
    int dev_done = 0, reg_done = 0, rounds, messages = 0;
    uint8_t dev_send[32], dev_recv[32], reg_send[32], reg_recv[32];

    memset(&cfg, 0, sizeof cfg);
    cfg.service = (const uint8_t *)SERVICE;
    cfg.service_len = strlen(SERVICE);
    cfg.mode = mode;
    cfg.sequence = sequence;
    if (with_pin) {
        cfg.login = (const uint8_t *)LOGIN;
        cfg.login_len = strlen(LOGIN);
        cfg.pin = PIN;
        cfg.pin_len = strlen(PIN);
        cfg.salt = SALT;
        cfg.salt_len = sizeof SALT;
    }
    cfg.response_timeout = 5;
    CHECK(keyprov_device_registration_new(&cfg, c->key_id, c->secret_key, 32, &dev));
    CHECK(keyprov_registrar_session_new(&session));
    CHECK(keyprov_device_registration_start(dev, w->now, keyprov_drbg_rng_callback, w->rng));

    for (rounds = 0; rounds < 10 && !(dev_done && reg_done); rounds++) {
        for (;;) {
            CHECK(keyprov_device_registration_poll_transmit(dev, buf, sizeof buf, &len));
            if (len == 0) break;
            messages++;
            CHECK(keyprov_registrar_session_handle_message(session, w->registrar, w->now,
                                                           keyprov_drbg_rng_callback, w->rng,
                                                           buf, len));
        }
        for (;;) {
            CHECK(keyprov_registrar_session_poll_event(session, &reg_ev));
            if (reg_ev.kind == KEYPROV_REGISTRAR_EVENT_NONE) break;
            if (reg_ev.kind == KEYPROV_REGISTRAR_EVENT_FETCH_KEY) {
                keyprov_fetched_key key;
                keyprov_result result = 0;
                memset(&key, 0, sizeof key);
                EXPECT(reg_ev.has_login == (with_pin ? 1 : 0));
                fetch_key(w, &reg_ev, &key, &result);
                EXPECT(result == KEYPROV_OK);
                EXPECT(key.has_pin_key == (with_pin ? 1 : 0));
                memcpy(service_key_out, key.service_key, 32);
                CHECK(keyprov_registrar_session_handle_key_result(
                    session, w->registrar, w->now, keyprov_drbg_rng_callback, w->rng,
                    reg_ev.handle, result, &key));
                keyprov_secure_zero(&key, sizeof key);
            } else if (reg_ev.kind == KEYPROV_REGISTRAR_EVENT_REGISTERED) {
                memcpy(reg_send, reg_ev.send_key, 32);
                memcpy(reg_recv, reg_ev.receive_key, 32);
                reg_done = 1;
            } else {
                fprintf(stderr, "unexpected registrar event %u (error %u)\n", reg_ev.kind,
                        reg_ev.error);
                failures++;
                rounds = 100;
            }
        }
        for (;;) {
            CHECK(keyprov_registrar_session_poll_transmit(session, buf, sizeof buf, &len));
            if (len == 0) break;
            messages++;
            CHECK(keyprov_device_registration_handle_message(dev, buf, len));
        }
        for (;;) {
            CHECK(keyprov_device_registration_poll_event(dev, &dev_ev));
            if (dev_ev.kind == KEYPROV_DEVICE_EVENT_NONE) break;
            if (dev_ev.kind == KEYPROV_DEVICE_EVENT_REGISTERED) {
                memcpy(dev_send, dev_ev.send_key, 32);
                memcpy(dev_recv, dev_ev.receive_key, 32);
                dev_done = 1;
            } else {
                fprintf(stderr, "unexpected device event %u (error %u)\n", dev_ev.kind,
                        dev_ev.error);
                failures++;
                rounds = 100;
            }
            keyprov_secure_zero(&dev_ev, sizeof dev_ev);
        }
    }
    EXPECT(dev_done && reg_done);
    EXPECT(memcmp(dev_send, reg_recv, 32) == 0);
    EXPECT(memcmp(dev_recv, reg_send, 32) == 0);
    EXPECT(messages == (mode == KEYPROV_REGISTRATION_CHALLENGE_RESPONSE ? 4 : 2));
    {
        uint8_t expected[32];
        CHECK(keyprov_service_key(c->authentication_key, 32, (const uint8_t *)SERVICE,
                                  strlen(SERVICE), expected, sizeof expected));
        EXPECT(memcmp(expected, service_key_out, 32) == 0);
    }
    keyprov_device_registration_free(dev);
    keyprov_registrar_session_free(session);
}

static void digest(struct world *w, const struct credentials *c, const uint8_t service_key[32]) {
    keyprov_digest_registrar *reg = NULL;
    keyprov_digest_client *phone = NULL;
    keyprov_digest_credentials *creds = NULL;
    keyprov_digest_request request;
    keyprov_digest_stored_credential stored;
    keyprov_digest_verdict verdict;
    keyprov_str values[8];
    char challenges[8][512];
    char nonce[256], username[128], authz[2048], info[1024];
    char phone_password[KEYPROV_DIGEST_PASSWORD_LEN + 1];
    char store_password[KEYPROV_DIGEST_PASSWORD_LEN + 1];
    uint8_t phone_service_key[32], nonce_secret[32], hashed = 9, verified = 9;
    size_t count = 0, i, len = 0;
    static const char uri[] = "sip:sip.example.com";

    /* Phone: password from its own authentication key. */
    CHECK(keyprov_service_key(c->authentication_key, 32, (const uint8_t *)SERVICE,
                              strlen(SERVICE), phone_service_key, 32));
    CHECK(keyprov_digest_password(phone_service_key, 32, phone_password, sizeof phone_password,
                                  &len));
    EXPECT(len == KEYPROV_DIGEST_PASSWORD_LEN + 1);
    CHECK(keyprov_key_id_text(c->key_id, username, sizeof username, &len));
    CHECK(keyprov_digest_client_new(username, len - 1, (const uint8_t *)phone_password,
                                    KEYPROV_DIGEST_PASSWORD_LEN, NULL, &phone));

    /* Registrar: challenge. */
    CHECK(keyprov_drbg_generate(w->rng, NULL, 0, nonce_secret, 32));
    CHECK(keyprov_digest_registrar_new(SERVICE, strlen(SERVICE), NULL, nonce_secret, 32, &reg));
    CHECK(keyprov_digest_registrar_issue_nonce(reg, w->now, keyprov_drbg_rng_callback, w->rng,
                                               nonce, sizeof nonce, &len));
    CHECK(keyprov_digest_registrar_challenge_count(reg, &count));
    EXPECT(count >= 1 && count <= 8);
    for (i = 0; i < count && i < 8; i++) {
        CHECK(keyprov_digest_registrar_challenge(reg, nonce, strlen(nonce), 0, i, challenges[i],
                                                 sizeof challenges[i], &len));
        values[i].ptr = challenges[i];
        values[i].len = len - 1;
    }
    CHECK(keyprov_digest_client_handle_challenges(phone, values, count));
    memset(&request, 0, sizeof request);
    request.method = "REGISTER";
    request.method_len = 8;
    request.uri = uri;
    request.uri_len = strlen(uri);
    CHECK(keyprov_digest_client_authorize(phone, &request, keyprov_drbg_rng_callback, w->rng,
                                          authz, sizeof authz, &len));

    /* Registrar: verify with the password derived from the fetched service key. */
    CHECK(keyprov_digest_credentials_parse(authz, len - 1, &creds));
    CHECK(keyprov_digest_credentials_username(creds, username, sizeof username, &len, &hashed));
    EXPECT(hashed == 0);
    CHECK(keyprov_digest_password(service_key, 32, store_password, sizeof store_password, &len));
    memset(&stored, 0, sizeof stored);
    stored.lookup = KEYPROV_DIGEST_LOOKUP_PASSWORD;
    stored.secret = (const uint8_t *)store_password;
    stored.secret_len = KEYPROV_DIGEST_PASSWORD_LEN;
    CHECK(keyprov_digest_registrar_verify(reg, creds, &request, w->now, &stored, &verdict));
    EXPECT(verdict.outcome == KEYPROV_DIGEST_OUTCOME_ACCEPTED);
    EXPECT(verdict.status_code == 200);
    EXPECT(verdict.algorithm == KEYPROV_DIGEST_SHA512_256);
    /* The same answer again is a replay. */
    CHECK(keyprov_digest_registrar_verify(reg, creds, &request, w->now, &stored, &verdict));
    EXPECT(verdict.outcome == KEYPROV_DIGEST_OUTCOME_REPLAY);
    CHECK(keyprov_digest_registrar_authentication_info(reg, NULL, 0, info, sizeof info, &len));
    CHECK(keyprov_digest_client_handle_authentication_info(phone, info, len - 1, NULL, 0,
                                                           &verified));
    EXPECT(verified == 1);

    keyprov_digest_credentials_free(creds);
    keyprov_digest_client_free(phone);
    keyprov_digest_registrar_free(reg);
    keyprov_secure_zero(phone_password, sizeof phone_password);
    keyprov_secure_zero(store_password, sizeof store_password);
}

int main(void) {
    struct world w;
    struct credentials plain, pinned;
    keyprov_registrar_config rcfg;
    uint8_t entropy[32], master[32], service_key[32];
    static const uint8_t seed[32] = {0x5e};
    uint32_t counter = 0;

    EXPECT(strcmp(keyprov_version(), KEYPROV_VERSION_STRING) == 0);
    memset(&w, 0, sizeof w);
    memset(&plain, 0, sizeof plain);
    memset(&pinned, 0, sizeof pinned);
    memset(entropy, 0x11, sizeof entropy);
    memset(agent_identity, 0xa5, sizeof agent_identity);
    memset(registrar_identity, 0x5a, sizeof registrar_identity);
    w.now = 1700000000;
    CHECK(keyprov_drbg_new(entropy, sizeof entropy, NULL, 0, NULL, 0, &w.rng));
    CHECK(keyprov_master_key_from_seed(seed, sizeof seed, (const uint8_t *)"example.com", 11, 1,
                                       master, sizeof master));
    CHECK(keyprov_agent_config_new(AGENT, strlen(AGENT), 86400, 0, 5, &w.config));
    CHECK(keyprov_agent_config_add_master_key(w.config, master, sizeof master, 1));
    keyprov_secure_zero(master, sizeof master);

    memset(&rcfg, 0, sizeof rcfg);
    rcfg.service = (const uint8_t *)SERVICE;
    rcfg.service_len = strlen(SERVICE);
    rcfg.challenge_lifetime = 30;
    rcfg.clock_window = 30;
    rcfg.registration_lifetime = 3600;
    rcfg.key_cache_capacity = 16;
    rcfg.replay_cache_capacity = 64;
    CHECK(keyprov_registrar_new(&rcfg, &w.registrar));

    provision(&w, 0, &counter, &plain);
    provision(&w, 1, &counter, &pinned);
    do_register(&w, &plain, KEYPROV_REGISTRATION_CHALLENGE_RESPONSE, 0, 0, service_key);
    do_register(&w, &plain, KEYPROV_REGISTRATION_TIME, 0, 0, service_key);
    do_register(&w, &pinned, KEYPROV_REGISTRATION_CHALLENGE_RESPONSE, 1, 0, service_key);
    do_register(&w, &pinned, KEYPROV_REGISTRATION_SEQUENCE, 1, 1, service_key);
    digest(&w, &pinned, service_key);

    keyprov_key_id_free(plain.key_id);
    keyprov_key_id_free(pinned.key_id);
    keyprov_registrar_free(w.registrar);
    keyprov_agent_config_free(w.config);
    keyprov_drbg_free(w.rng);
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    puts("fleet: ok");
    return 0;
}
