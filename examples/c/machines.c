/* The robustness rules on the role state machines: a too-small buffer keeps the message
 * queued, a NULL output or a wrong handle changes nothing, an unknown enum value is refused,
 * and a failing random source is reported before anything changes. */
#include "check.h"

static const uint8_t anchor[32] = {9};
static const char BINDING[] = "exporter value of the session";

static keyprov_device_provisioning *connected_device(void) {
    keyprov_device_provisioning_config config;
    keyprov_device_provisioning *device = NULL;
    memset(&config, 0, sizeof config);
    memcpy(config.trust_anchor, anchor, sizeof anchor);
    config.subject = KEYPROV_SUBJECT_ANONYMOUS;
    config.response_timeout = 30;
    EXPECT_OK(keyprov_device_provisioning_new(&config, &device));
    EXPECT_OK(keyprov_device_provisioning_handle_connected(
        device, 100, anchor, 32, (const uint8_t *)BINDING, strlen(BINDING)));
    return device;
}

static void small_buffer_keeps_the_message(void) {
    keyprov_device_provisioning *device = connected_device();
    uint8_t small[4], full[512];
    size_t needed = 0, len = 0;
    uint64_t deadline = 0;

    EXPECT_RESULT(keyprov_device_provisioning_poll_transmit(device, small, sizeof small, &needed),
                  KEYPROV_BUFFER_TOO_SMALL);
    EXPECT(needed > sizeof small);
    EXPECT_RESULT(keyprov_device_provisioning_poll_transmit(device, full, sizeof full, NULL),
                  KEYPROV_NULL_POINTER);
    EXPECT_OK(keyprov_device_provisioning_poll_transmit(device, full, sizeof full, &len));
    EXPECT(len == needed);
    EXPECT_OK(keyprov_device_provisioning_poll_transmit(device, full, sizeof full, &len));
    EXPECT(len == 0);
    EXPECT_OK(keyprov_device_provisioning_poll_timeout(device, &deadline));
    EXPECT(deadline == 130);
    EXPECT_OK(keyprov_device_provisioning_handle_timeout(device, 129));
    keyprov_device_provisioning_free(device);
}

static void failed_calls_change_nothing(void) {
    keyprov_device_provisioning *device = connected_device();
    keyprov_device_event event;
    uint8_t bytes[512];
    size_t len;

    EXPECT_RESULT(keyprov_device_provisioning_poll_event(device, NULL), KEYPROV_NULL_POINTER);
    EXPECT_RESULT(keyprov_device_provisioning_handle_store_result(device, 77, KEYPROV_OK),
                  KEYPROV_UNKNOWN_HANDLE);
    EXPECT_RESULT(keyprov_device_provisioning_handle_connected(device, 100, anchor, 32,
                                                               (const uint8_t *)BINDING,
                                                               strlen(BINDING)),
                  KEYPROV_INVALID_STATE);
    EXPECT_RESULT(keyprov_device_provisioning_handle_message(device, 100, NULL, 3),
                  KEYPROV_NULL_POINTER);
    /* Still waiting for the agent, the request still queued. */
    EXPECT_OK(keyprov_device_provisioning_poll_transmit(device, bytes, sizeof bytes, &len));
    EXPECT(len > 0);
    EXPECT_OK(keyprov_device_provisioning_poll_event(device, &event));
    EXPECT(event.kind == KEYPROV_DEVICE_EVENT_NONE);
    /* The deadline passes: the machine fails for good, once. */
    EXPECT_RESULT(keyprov_device_provisioning_handle_timeout(device, 200), KEYPROV_TIMED_OUT);
    EXPECT_OK(keyprov_device_provisioning_poll_event(device, &event));
    EXPECT(event.kind == KEYPROV_DEVICE_EVENT_FAILED && event.error == KEYPROV_TIMED_OUT);
    EXPECT_RESULT(keyprov_device_provisioning_handle_closed(device), KEYPROV_FAILED);
    keyprov_device_provisioning_free(device);
}

static void untrusted_agent_and_bad_enums(void) {
    keyprov_device_provisioning_config config;
    keyprov_device_provisioning *device = NULL;
    uint8_t other[32] = {8};
    keyprov_device_event event;

    memset(&config, 0, sizeof config);
    config.subject = 9;
    EXPECT_RESULT(keyprov_device_provisioning_new(&config, &device), KEYPROV_OUT_OF_RANGE);
    expect_last_error_mentions("subject");
    EXPECT(device == NULL);
    EXPECT_RESULT(keyprov_device_provisioning_new(NULL, &device), KEYPROV_NULL_POINTER);
    device = connected_device();
    keyprov_device_provisioning_free(device);
    config.subject = KEYPROV_SUBJECT_ANONYMOUS;
    memcpy(config.trust_anchor, anchor, sizeof anchor);
    EXPECT_OK(keyprov_device_provisioning_new(&config, &device));
    EXPECT_RESULT(keyprov_device_provisioning_handle_connected(device, 1, other, 32,
                                                               (const uint8_t *)BINDING,
                                                               strlen(BINDING)),
                  KEYPROV_UNTRUSTED_AGENT);
    EXPECT_OK(keyprov_device_provisioning_poll_event(device, &event));
    EXPECT(event.kind == KEYPROV_DEVICE_EVENT_FAILED && event.error == KEYPROV_UNTRUSTED_AGENT);
    keyprov_device_provisioning_free(device);
}

static keyprov_result refusing_rng(void *userdata, uint8_t *out, size_t len) {
    (void)out;
    (void)len;
    ++*(int *)userdata;
    return 77;
}

static void failing_random_source_changes_nothing(void) {
    keyprov_device_registration_config config;
    keyprov_device_registration *registration = NULL;
    keyprov_key_id *key_id = NULL;
    uint8_t secret[KEYPROV_KEY_LEN] = {1}, bytes[512];
    size_t len = 1;
    int calls = 0;
    keyprov_drbg *drbg = NULL;
    uint8_t entropy[32] = {2};

    memset(&config, 0, sizeof config);
    config.service = (const uint8_t *)"sip.example.com";
    config.service_len = 15;
    config.mode = KEYPROV_REGISTRATION_CHALLENGE_RESPONSE;
    config.response_timeout = 10;
    EXPECT_OK(keyprov_key_id_new_structured(1, "pbx-1", 5, "ext:100", 7, 1, &key_id));
    EXPECT_OK(keyprov_device_registration_new(&config, key_id, secret, sizeof secret,
                                              &registration));
    EXPECT_RESULT(keyprov_device_registration_start(registration, 5, refusing_rng, &calls),
                  KEYPROV_CALLBACK_FAILED);
    EXPECT(calls == 1);
    EXPECT_OK(keyprov_device_registration_poll_transmit(registration, bytes, sizeof bytes, &len));
    EXPECT(len == 0);
    EXPECT_RESULT(keyprov_device_registration_start(registration, 5, NULL, NULL),
                  KEYPROV_NULL_POINTER);
    config.mode = 0;
    EXPECT_RESULT(keyprov_device_registration_new(&config, key_id, secret, sizeof secret,
                                                  &(keyprov_device_registration *){NULL}),
                  KEYPROV_OUT_OF_RANGE);
    /* The same machine starts once a working source is given. */
    EXPECT_OK(keyprov_drbg_new(entropy, sizeof entropy, NULL, 0, NULL, 0, &drbg));
    EXPECT_OK(keyprov_device_registration_start(registration, 5, keyprov_drbg_rng_callback,
                                                drbg));
    EXPECT_OK(keyprov_device_registration_poll_transmit(registration, bytes, sizeof bytes, &len));
    EXPECT(len > 0);
    keyprov_drbg_free(drbg);
    keyprov_device_registration_free(registration);
    keyprov_key_id_free(key_id);
}

int main(void) {
    small_buffer_keeps_the_message();
    failed_calls_change_nothing();
    untrusted_agent_and_bad_enums();
    failing_random_source_changes_nothing();
    keyprov_device_provisioning_free(NULL);
    keyprov_device_registration_free(NULL);
    keyprov_agent_provisioning_free(NULL);
    keyprov_registrar_session_free(NULL);
    printf("machines: ok\n");
    return 0;
}
