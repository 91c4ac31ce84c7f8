/*
 * Flags and capacities a host passes in: a flag field is 0 or 1 and any other value is refused
 * with KEYPROV_OUT_OF_RANGE, leaving the object as it was; a cache capacity beyond the
 * registrar's limit is refused instead of exhausting memory.
 */
#include "check.h"

static const char AGENT[] = "agent-1";
static const char SERVICE[] = "sip.example.com";
static const char DEVICE[] = "mac:00:1A:2B:3C:4D:5E";
static uint8_t registrar_identity[32];

static keyprov_result fixed_rng(void *userdata, uint8_t *out, size_t len) {
    (void)userdata;
    memset(out, 0x42, len);
    return KEYPROV_OK;
}

static void agent_config_flags(void) {
    keyprov_agent_config *config = NULL;
    EXPECT_RESULT(keyprov_agent_config_new(AGENT, strlen(AGENT), 3600, 2, 5, &config),
                  KEYPROV_OUT_OF_RANGE);
    EXPECT(config == NULL);
    EXPECT_OK(keyprov_agent_config_new(AGENT, strlen(AGENT), 3600, 1, 5, &config));
    keyprov_agent_config_free(config);
}

static void device_config_flags(void) {
    keyprov_device_provisioning_config config;
    keyprov_device_provisioning *device = NULL;
    memset(&config, 0, sizeof config);
    config.subject = KEYPROV_SUBJECT_DEVICE_ID;
    config.device_id = DEVICE;
    config.device_id_len = strlen(DEVICE);
    config.response_timeout = 30;
    config.require_address = 2;
    EXPECT_RESULT(keyprov_device_provisioning_new(&config, &device), KEYPROV_OUT_OF_RANGE);
    config.require_address = 0;
    config.has_last_counter = 255;
    EXPECT_RESULT(keyprov_device_provisioning_new(&config, &device), KEYPROV_OUT_OF_RANGE);
    EXPECT(device == NULL);
    config.has_last_counter = 1;
    EXPECT_OK(keyprov_device_provisioning_new(&config, &device));
    keyprov_device_provisioning_free(device);
}

static void digest_flags(void) {
    keyprov_digest_client_policy client_policy;
    keyprov_digest_registrar_policy registrar_policy;
    keyprov_digest_client *client = NULL;
    keyprov_digest_registrar *registrar = NULL;
    uint8_t secret[32];
    char nonce[256], challenge[512];
    size_t len = 0;
    memset(secret, 7, sizeof secret);

    EXPECT_OK(keyprov_digest_client_policy_init(&client_policy));
    client_policy.allow_md5 = 2;
    EXPECT_RESULT(keyprov_digest_client_new("u", 1, (const uint8_t *)"p", 1, &client_policy,
                                            &client),
                  KEYPROV_OUT_OF_RANGE);
    EXPECT_OK(keyprov_digest_client_policy_init(&client_policy));
    client_policy.use_userhash = 9;
    EXPECT_RESULT(keyprov_digest_client_new_ha1("u", 1, KEYPROV_DIGEST_SHA256,
                                                "00000000000000000000000000000000"
                                                "00000000000000000000000000000000",
                                                64, &client_policy, &client),
                  KEYPROV_OUT_OF_RANGE);
    EXPECT(client == NULL);

    EXPECT_OK(keyprov_digest_registrar_policy_init(&registrar_policy));
    registrar_policy.userhash = 2;
    EXPECT_RESULT(keyprov_digest_registrar_new(SERVICE, strlen(SERVICE), &registrar_policy,
                                               secret, sizeof secret, &registrar),
                  KEYPROV_OUT_OF_RANGE);
    EXPECT_OK(keyprov_digest_registrar_policy_init(&registrar_policy));
    registrar_policy.allow_rfc2069 = 3;
    EXPECT_RESULT(keyprov_digest_registrar_new(SERVICE, strlen(SERVICE), &registrar_policy,
                                               secret, sizeof secret, &registrar),
                  KEYPROV_OUT_OF_RANGE);
    EXPECT(registrar == NULL);

    EXPECT_OK(keyprov_digest_registrar_new(SERVICE, strlen(SERVICE), NULL, secret,
                                           sizeof secret, &registrar));
    EXPECT_OK(keyprov_digest_registrar_issue_nonce(registrar, 1000, fixed_rng, NULL, nonce,
                                                   sizeof nonce, &len));
    EXPECT_RESULT(keyprov_digest_registrar_challenge(registrar, nonce, len - 1, 2, 0, challenge,
                                                     sizeof challenge, &len),
                  KEYPROV_OUT_OF_RANGE);
    EXPECT_OK(keyprov_digest_registrar_challenge(registrar, nonce, strlen(nonce), 1, 0,
                                                 challenge, sizeof challenge, &len));
    EXPECT(strstr(challenge, "stale=true") != NULL);
    keyprov_digest_registrar_free(registrar);
}

/* The key service refuses a check answer with a bad flag and still takes the right one. */
static void key_check_flags(const keyprov_key_id *key_id) {
    keyprov_agent_config *config = NULL;
    keyprov_agent_key_service *service = NULL;
    keyprov_key_client *client = NULL;
    keyprov_agent_event event;
    keyprov_key_check check;
    uint8_t master[32], buf[2048];
    size_t len = 0;
    uint32_t request_id = 0;
    memset(master, 9, sizeof master);
    EXPECT_OK(keyprov_agent_config_new(AGENT, strlen(AGENT), 3600, 0, 5, &config));
    EXPECT_OK(keyprov_agent_config_add_master_key(config, master, sizeof master, 1));
    EXPECT_OK(keyprov_key_client_new(&client));
    EXPECT_OK(keyprov_agent_key_service_new(registrar_identity, 32, &service));
    EXPECT_OK(keyprov_key_client_request(client, key_id, (const uint8_t *)SERVICE,
                                         strlen(SERVICE), NULL, 0, &request_id));
    EXPECT_OK(keyprov_key_client_poll_transmit(client, buf, sizeof buf, &len));
    EXPECT_OK(keyprov_agent_key_service_handle_message(service, config, buf, len));
    EXPECT_OK(keyprov_agent_key_service_poll_event(service, &event));
    EXPECT(event.kind == KEYPROV_AGENT_EVENT_CHECK_KEY);

    memset(&check, 0, sizeof check);
    check.authorized = 2;
    check.status = KEYPROV_KEY_STATUS_CURRENT;
    check.not_after = 5000;
    EXPECT_RESULT(keyprov_agent_key_service_handle_check_result(service, config, 1000,
                                                                event.handle, &check),
                  KEYPROV_OUT_OF_RANGE);
    check.authorized = 1;
    check.has_pin_verifier = 2;
    EXPECT_RESULT(keyprov_agent_key_service_handle_check_result(service, config, 1000,
                                                                event.handle, &check),
                  KEYPROV_OUT_OF_RANGE);
    check.has_pin_verifier = 0;
    EXPECT_OK(keyprov_agent_key_service_handle_check_result(service, config, 1000, event.handle,
                                                            &check));
    EXPECT_OK(keyprov_agent_key_service_poll_transmit(service, buf, sizeof buf, &len));
    EXPECT(len > 0);
    keyprov_agent_key_service_free(service);
    keyprov_key_client_free(client);
    keyprov_agent_config_free(config);
}

/* A registrar session refuses a fetched key with a bad flag and still takes the right one. */
static void fetched_key_flags(const keyprov_key_id *key_id) {
    keyprov_registrar_config config;
    keyprov_registrar *registrar = NULL;
    keyprov_registrar_session *session = NULL;
    keyprov_device_registration_config device_config;
    keyprov_device_registration *device = NULL;
    keyprov_registrar_event event;
    keyprov_fetched_key key;
    uint8_t secret_key[32], authentication_key[32], buf[2048];
    size_t len = 0;
    memset(secret_key, 5, sizeof secret_key);

    memset(&config, 0, sizeof config);
    config.service = (const uint8_t *)SERVICE;
    config.service_len = strlen(SERVICE);
    config.challenge_lifetime = 30;
    config.clock_window = 30;
    config.registration_lifetime = 3600;
    config.key_cache_capacity = (size_t)1 << 40;
    config.replay_cache_capacity = 16;
    EXPECT_RESULT(keyprov_registrar_new(&config, &registrar), KEYPROV_OUT_OF_RANGE);
    config.key_cache_capacity = 16;
    config.replay_cache_capacity = SIZE_MAX;
    EXPECT_RESULT(keyprov_registrar_new(&config, &registrar), KEYPROV_OUT_OF_RANGE);
    EXPECT(registrar == NULL);
    config.replay_cache_capacity = 16;
    EXPECT_OK(keyprov_registrar_new(&config, &registrar));

    memset(&device_config, 0, sizeof device_config);
    device_config.service = (const uint8_t *)SERVICE;
    device_config.service_len = strlen(SERVICE);
    device_config.mode = KEYPROV_REGISTRATION_TIME;
    device_config.response_timeout = 5;
    EXPECT_OK(keyprov_device_registration_new(&device_config, key_id, secret_key, 32, &device));
    EXPECT_OK(keyprov_device_registration_start(device, 1000, fixed_rng, NULL));
    EXPECT_OK(keyprov_device_registration_poll_transmit(device, buf, sizeof buf, &len));
    EXPECT_OK(keyprov_registrar_session_new(&session));
    EXPECT_OK(keyprov_registrar_session_handle_message(session, registrar, 1000, fixed_rng, NULL,
                                                       buf, len));
    EXPECT_OK(keyprov_registrar_session_poll_event(session, &event));
    EXPECT(event.kind == KEYPROV_REGISTRAR_EVENT_FETCH_KEY);

    memset(&key, 0, sizeof key);
    EXPECT_OK(keyprov_authentication_key(secret_key, 32, authentication_key, 32));
    EXPECT_OK(keyprov_service_key(authentication_key, 32, (const uint8_t *)SERVICE,
                                  strlen(SERVICE), key.service_key, 32));
    key.not_after = 5000;
    key.has_pin_key = 2;
    EXPECT_RESULT(keyprov_registrar_session_handle_key_result(session, registrar, 1000,
                                                              fixed_rng, NULL, event.handle,
                                                              KEYPROV_OK, &key),
                  KEYPROV_OUT_OF_RANGE);
    key.has_pin_key = 0;
    EXPECT_OK(keyprov_registrar_session_handle_key_result(session, registrar, 1000, fixed_rng,
                                                          NULL, event.handle, KEYPROV_OK, &key));
    EXPECT_OK(keyprov_registrar_session_poll_event(session, &event));
    EXPECT(event.kind == KEYPROV_REGISTRAR_EVENT_REGISTERED);
    keyprov_secure_zero(&key, sizeof key);
    keyprov_secure_zero(&event, sizeof event);
    keyprov_registrar_session_free(session);
    keyprov_device_registration_free(device);
    keyprov_registrar_free(registrar);
}

int main(void) {
    keyprov_key_id *key_id = NULL;
    memset(registrar_identity, 0x5a, sizeof registrar_identity);
    EXPECT_OK(keyprov_key_id_new_structured(1, AGENT, strlen(AGENT), DEVICE, strlen(DEVICE), 7,
                                            &key_id));
    agent_config_flags();
    device_config_flags();
    digest_flags();
    key_check_flags(key_id);
    fetched_key_flags(key_id);
    keyprov_key_id_free(key_id);
    puts("flags: ok");
    return 0;
}
