/* A phone, a key generating agent and a registrar, each driven by its own C host (phone.c,
 * agent.c, registrar.c), talking through in-memory links: the phone is provisioned with a
 * PIN-checked request, registers with a challenge (the registrar fetches its key from the
 * agent), registers again challenge-free from the registrar's key cache, and a phone holding a
 * wrong key is refused. Exits non-zero on any failure. */
#include "roles.h"

static const uint8_t agent_identity[32] = {0xa6, 0x01, 0x02, 0x03};
static const char *channel_binding = "exporter value of the device-agent TLS session";
static queue phone_to_agent, agent_to_phone, phone_to_registrar, registrar_to_phone;
static queue registrar_to_agent, agent_to_registrar;

static void provision(phone_host *phone, agent_host *agent, uint64_t now) {
    keyprov_device_provisioning_config config;
    keyprov_device_provisioning *device = NULL;
    keyprov_agent_provisioning *session = NULL;
    int round;

    memset(&config, 0, sizeof config);
    memcpy(config.trust_anchor, agent_identity, sizeof config.trust_anchor);
    config.subject = KEYPROV_SUBJECT_DEVICE_ID;
    config.device_id = "mac:00:1A:2B:3C:4D:5E";
    config.device_id_len = strlen(config.device_id);
    config.login = (const uint8_t *)"alice";
    config.login_len = 5;
    config.pin = "2468";
    config.pin_len = 4;
    config.salt = (const uint8_t *)"salt-alice";
    config.salt_len = 10;
    config.expected_agent = "pbx-1";
    config.expected_agent_len = 5;
    config.require_address = 1;
    config.response_timeout = 30;

    EXPECT_OK(keyprov_device_provisioning_new(&config, &device));
    EXPECT_RESULT(keyprov_device_provisioning_handle_connected(
                      device, now, agent_identity, 32, (const uint8_t *)channel_binding,
                      strlen(channel_binding)),
                  KEYPROV_NO_ADDRESS);
    EXPECT_OK(keyprov_device_provisioning_handle_address(device));
    EXPECT_OK(keyprov_device_provisioning_handle_connected(
        device, now, agent_identity, 32, (const uint8_t *)channel_binding,
        strlen(channel_binding)));
    EXPECT_OK(keyprov_agent_provisioning_new(&session));
    EXPECT_OK(keyprov_agent_provisioning_handle_connected(
        session, (const uint8_t *)channel_binding, strlen(channel_binding)));

    for (round = 0; round < 20 && !phone->provisioned && !phone->failure; round++) {
        phone_provisioning_pump(phone, device, &agent_to_phone, &phone_to_agent, now);
        agent_provisioning_pump(agent, session, &phone_to_agent, &agent_to_phone, now);
    }
    EXPECT(phone->failure == KEYPROV_OK && phone->provisioned && agent->issued == 1);
    keyprov_agent_provisioning_free(session);
    keyprov_device_provisioning_free(device);
}

/* What the phone stored checks out: the key identifier names its device, counter 1 and agent
 * pbx-1, and the authentication key follows from the stored secret key. */
static void check_credentials(const phone_host *phone) {
    keyprov_key_id *key_id = NULL;
    keyprov_key_id_info info;
    uint8_t authentication[KEYPROV_KEY_LEN];
    char device[64];
    size_t len;
    EXPECT_OK(keyprov_key_id_decode(phone->key_id, phone->key_id_len, &key_id));
    EXPECT_OK(keyprov_key_id_inspect(key_id, &info));
    EXPECT(info.form == KEYPROV_KEY_ID_STRUCTURED && info.counter == 1 && info.epoch == 1);
    EXPECT(info.agent_len == 5 && memcmp(info.agent, "pbx-1", 5) == 0);
    EXPECT_OK(keyprov_key_id_device_text(key_id, device, sizeof device, &len));
    EXPECT(strcmp(device, "mac:00-1a-2b-3c-4d-5e") == 0);
    EXPECT_OK(keyprov_authentication_key(phone->secret_key, KEYPROV_KEY_LEN, authentication,
                                         sizeof authentication));
    EXPECT(memcmp(authentication, phone->authentication_key, KEYPROV_KEY_LEN) == 0);
    keyprov_key_id_free(key_id);
}

/* One registration; returns 1 if both sides ended registered with matching session keys. */
static int register_phone(phone_host *phone, registrar_host *registrar, agent_host *agent,
                          const uint8_t *secret_key, uint32_t mode, uint64_t sequence,
                          uint64_t now) {
    keyprov_device_registration_config config;
    keyprov_device_registration *device = NULL;
    keyprov_registrar_session *session = NULL;
    keyprov_agent_key_service *key_service = NULL;
    keyprov_key_id *key_id = NULL;
    uint8_t registrar_identity[32];
    int round, progress = 1;

    memset(&config, 0, sizeof config);
    config.service = (const uint8_t *)"sip.example.com";
    config.service_len = 15;
    config.mode = mode;
    config.sequence = sequence;
    config.response_timeout = 10;
    memset(registrar_identity, 0x4e, sizeof registrar_identity);
    phone->registered = 0;
    phone->failure = KEYPROV_OK;
    registrar->registered = 0;
    registrar->failure = KEYPROV_OK;

    EXPECT_OK(keyprov_key_id_decode(phone->key_id, phone->key_id_len, &key_id));
    EXPECT_OK(keyprov_device_registration_new(&config, key_id, secret_key, KEYPROV_KEY_LEN,
                                              &device));
    EXPECT_OK(keyprov_registrar_session_new(&session));
    EXPECT_OK(keyprov_agent_key_service_new(registrar_identity, 32, &key_service));
    EXPECT_OK(keyprov_device_registration_start(device, now, keyprov_drbg_rng_callback,
                                                phone->rng));
    for (round = 0; round < 20 && progress; round++) {
        progress = phone_registration_pump(phone, device, &registrar_to_phone,
                                           &phone_to_registrar);
        progress += registrar_session_pump(registrar, session, &phone_to_registrar,
                                           &registrar_to_phone, &registrar_to_agent,
                                           &agent_to_registrar, now);
        progress += agent_key_service_pump(agent, key_service, &registrar_to_agent,
                                           &agent_to_registrar, now);
    }
    keyprov_agent_key_service_free(key_service);
    keyprov_registrar_session_free(session);
    keyprov_device_registration_free(device);
    keyprov_key_id_free(key_id);
    if (!phone->registered || !registrar->registered) {
        return 0;
    }
    EXPECT(memcmp(phone->send_key, registrar->receive_key, KEYPROV_KEY_LEN) == 0);
    EXPECT(memcmp(phone->receive_key, registrar->send_key, KEYPROV_KEY_LEN) == 0);
    EXPECT(memcmp(phone->send_key, phone->receive_key, KEYPROV_KEY_LEN) != 0);
    return 1;
}

int main(void) {
    phone_host phone;
    agent_host agent;
    registrar_host registrar;
    uint8_t wrong_key[KEYPROV_KEY_LEN];
    uint64_t now = 1700000000;

    agent_host_init(&agent, agent_identity);
    phone_host_init(&phone);
    registrar_host_init(&registrar, "sip.example.com");

    provision(&phone, &agent, now);
    check_credentials(&phone);
    printf("enterprise: provisioned, key id of %zu bytes\n", phone.key_id_len);

    EXPECT(register_phone(&phone, &registrar, &agent, phone.secret_key,
                          KEYPROV_REGISTRATION_CHALLENGE_RESPONSE, 1, now + 5));
    EXPECT(registrar.fetches == 1);
    printf("enterprise: registered with a challenge, key fetched from the agent\n");

    EXPECT(register_phone(&phone, &registrar, &agent, phone.secret_key, KEYPROV_REGISTRATION_TIME,
                          2, now + 10));
    EXPECT(registrar.fetches == 1);
    printf("enterprise: registered again without a challenge, key from the cache\n");

    memcpy(wrong_key, phone.secret_key, sizeof wrong_key);
    wrong_key[0] ^= 0x01;
    EXPECT(!register_phone(&phone, &registrar, &agent, wrong_key,
                           KEYPROV_REGISTRATION_CHALLENGE_RESPONSE, 3, now + 20));
    EXPECT(registrar.failure == KEYPROV_WRONG_PROOF && phone.failure != KEYPROV_OK);
    printf("enterprise: a wrong key is refused (registrar %u, phone %u)\n",
           (unsigned)registrar.failure, (unsigned)phone.failure);

    registrar_host_free(&registrar);
    phone_host_free(&phone);
    agent_host_free(&agent);
    printf("enterprise: ok\n");
    return 0;
}
