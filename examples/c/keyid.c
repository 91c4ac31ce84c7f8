/* Key identifiers: build, encode, decode, inspect, and every refusal the C caller can meet.
 *
 * Expected encodings were computed by hand from the layout in docs/protocol.md section 3 and
 * the text form with Python's base64.urlsafe_b64encode (padding stripped). */
#include "check.h"

#define STRUCTURED_HEX "01010007057062782d310606001a2b3c4d5e0000002a"
#define STRUCTURED_TEXT "kp1AQEABwVwYngtMQYGABorPE1eAAAAKg"
#define UNSTRUCTURED_TEXT "kp1AQIBAANyZWcDBN6tvu8"

static keyprov_key_id *structured(uint32_t counter) {
    keyprov_key_id *key_id = NULL;
    const char *device = "mac:001A.2B3C.4D5E";
    EXPECT_OK(keyprov_key_id_new_structured(7, "pbx-1", 5, device, strlen(device), counter,
                                            &key_id));
    EXPECT(key_id != NULL);
    return key_id;
}

static void structured_encodes_as_specified(void) {
    keyprov_key_id *key_id = structured(42);
    uint8_t bytes[KEYPROV_KEY_ID_MAX_LEN];
    char text[KEYPROV_KEY_ID_MAX_TEXT_LEN + 1];
    char device[64];
    size_t len = 0;

    EXPECT_OK(keyprov_key_id_encode(key_id, bytes, sizeof bytes, &len));
    EXPECT_HEX(bytes, len, STRUCTURED_HEX);
    EXPECT_OK(keyprov_key_id_text(key_id, text, sizeof text, &len));
    EXPECT(strcmp(text, STRUCTURED_TEXT) == 0 && len == strlen(STRUCTURED_TEXT) + 1);
    EXPECT_OK(keyprov_key_id_device_text(key_id, device, sizeof device, &len));
    EXPECT(strcmp(device, "mac:00-1a-2b-3c-4d-5e") == 0);
    keyprov_key_id_free(key_id);
}

static void inspect_reports_every_field(void) {
    keyprov_key_id *key_id = structured(42);
    keyprov_key_id_info info;
    EXPECT_OK(keyprov_key_id_inspect(key_id, &info));
    EXPECT(info.version == 1 && info.form == KEYPROV_KEY_ID_STRUCTURED && info.epoch == 7);
    EXPECT(info.counter == 42 && info.device_type == KEYPROV_DEVICE_ID_MAC);
    EXPECT(info.value_source == 0);
    EXPECT(info.agent_len == 5 && memcmp(info.agent, "pbx-1", 5) == 0);
    EXPECT_HEX(info.value, info.value_len, "001a2b3c4d5e");
    keyprov_key_id_free(key_id);
}

static void decode_and_parse_round_trip(void) {
    uint8_t bytes[64];
    size_t len = hex_decode(STRUCTURED_HEX, bytes, sizeof bytes);
    keyprov_key_id *decoded = NULL, *parsed = NULL, *original = structured(42);

    EXPECT_OK(keyprov_key_id_decode(bytes, len, &decoded));
    EXPECT_OK(keyprov_key_id_parse(STRUCTURED_TEXT, strlen(STRUCTURED_TEXT), &parsed));
    EXPECT(keyprov_key_id_equal(decoded, original) == 1);
    EXPECT(keyprov_key_id_equal(parsed, original) == 1);
    EXPECT(keyprov_key_id_equal(parsed, NULL) == 0);
    keyprov_key_id_free(decoded);
    keyprov_key_id_free(parsed);
    keyprov_key_id_free(original);
}

static void unstructured_value(void) {
    const uint8_t value[] = {0xde, 0xad, 0xbe, 0xef};
    keyprov_key_id *key_id = NULL;
    keyprov_key_id_info info;
    char text[KEYPROV_KEY_ID_MAX_TEXT_LEN + 1];
    size_t len;

    EXPECT_OK(keyprov_key_id_new_unstructured(256, "reg", 3, KEYPROV_VALUE_SOURCE_HASH, value,
                                              sizeof value, &key_id));
    EXPECT_OK(keyprov_key_id_text(key_id, text, sizeof text, &len));
    EXPECT(strcmp(text, UNSTRUCTURED_TEXT) == 0);
    EXPECT_OK(keyprov_key_id_inspect(key_id, &info));
    EXPECT(info.form == KEYPROV_KEY_ID_UNSTRUCTURED && info.epoch == 256 && info.counter == 0);
    EXPECT(info.value_source == KEYPROV_VALUE_SOURCE_HASH && info.device_type == 0);
    EXPECT_HEX(info.value, info.value_len, "deadbeef");
    EXPECT_RESULT(keyprov_key_id_device_text(key_id, text, sizeof text, &len),
                  KEYPROV_INVALID_VALUE);
    EXPECT_RESULT(keyprov_key_id_successor(key_id, &(keyprov_key_id *){NULL}),
                  KEYPROV_INVALID_VALUE);
    keyprov_key_id_free(key_id);
}

static void successor_counts_up_and_stops(void) {
    keyprov_key_id *last = structured(UINT32_MAX - 1), *next = NULL, *none = NULL;
    keyprov_key_id_info info;
    EXPECT_OK(keyprov_key_id_successor(last, &next));
    EXPECT_OK(keyprov_key_id_inspect(next, &info));
    EXPECT(info.counter == UINT32_MAX);
    EXPECT_RESULT(keyprov_key_id_successor(next, &none), KEYPROV_COUNTER_EXHAUSTED);
    EXPECT(none == NULL);
    expect_last_error_mentions("4294967295");
    keyprov_key_id_free(last);
    keyprov_key_id_free(next);
}

static void bad_input_gets_a_code_and_a_message(void) {
    keyprov_key_id *key_id = NULL;
    uint8_t bytes[64];
    size_t len = hex_decode(STRUCTURED_HEX "00", bytes, sizeof bytes);

    EXPECT_RESULT(keyprov_key_id_new_structured(1, "Pbx", 3, "ext:1", 5, 0, &key_id),
                  KEYPROV_INVALID_VALUE);
    expect_last_error_mentions("agent identifier");
    EXPECT_RESULT(keyprov_key_id_new_structured(1, "pbx", 3, "ext:12a", 7, 0, &key_id),
                  KEYPROV_INVALID_VALUE);
    EXPECT_RESULT(keyprov_key_id_new_unstructured(1, "pbx", 3, 9, bytes, 1, &key_id),
                  KEYPROV_OUT_OF_RANGE);
    expect_last_error_mentions("value source");
    EXPECT_RESULT(keyprov_key_id_decode(bytes, len, &key_id), KEYPROV_TRAILING_BYTES);
    EXPECT_RESULT(keyprov_key_id_decode(NULL, 0, &key_id), KEYPROV_TRUNCATED);
    EXPECT_RESULT(keyprov_key_id_parse(STRUCTURED_TEXT "=", strlen(STRUCTURED_TEXT) + 1,
                                       &key_id), KEYPROV_INVALID_VALUE);
    EXPECT_RESULT(keyprov_key_id_parse("kp1\xff", 4, &key_id), KEYPROV_INVALID_VALUE);
    expect_last_error_mentions("not utf-8");
    EXPECT(key_id == NULL);
}

static void null_and_small_buffers_are_refused(void) {
    keyprov_key_id *key_id = structured(42);
    uint8_t small[8];
    size_t needed = 0;

    EXPECT_RESULT(keyprov_key_id_decode(NULL, 5, &key_id), KEYPROV_NULL_POINTER);
    EXPECT_RESULT(keyprov_key_id_encode(NULL, small, sizeof small, &needed),
                  KEYPROV_NULL_POINTER);
    EXPECT_RESULT(keyprov_key_id_new_structured(7, "pbx-1", 5, "ext:1", 5, 1, NULL),
                  KEYPROV_NULL_POINTER);
    EXPECT_RESULT(keyprov_key_id_inspect(key_id, NULL), KEYPROV_NULL_POINTER);
    EXPECT_RESULT(keyprov_key_id_encode(key_id, small, sizeof small, &needed),
                  KEYPROV_BUFFER_TOO_SMALL);
    EXPECT(needed == strlen(STRUCTURED_HEX) / 2);
    EXPECT_RESULT(keyprov_key_id_text(key_id, NULL, 0, &needed), KEYPROV_BUFFER_TOO_SMALL);
    EXPECT(needed == strlen(STRUCTURED_TEXT) + 1);
    keyprov_key_id_free(key_id);
    keyprov_key_id_free(NULL);
}

static void device_spellings_have_one_canonical_form(void) {
    const char *spellings[] = {"mac:00:1A:2b:3c:4d:5e", "mac:001a2b3c4d5e", "mac:001A.2B3C.4D5E"};
    char canonical[64];
    size_t i, len;
    for (i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        EXPECT_OK(keyprov_device_id_canonical(spellings[i], strlen(spellings[i]), canonical,
                                              sizeof canonical, &len));
        EXPECT(strcmp(canonical, "mac:00-1a-2b-3c-4d-5e") == 0);
    }
    EXPECT_OK(keyprov_device_id_canonical("sn:ab-12", 8, canonical, sizeof canonical, &len));
    EXPECT(strcmp(canonical, "sn:AB-12") == 0);
    EXPECT_RESULT(keyprov_device_id_canonical("ipv6:fe80::1%eth0", 17, canonical,
                                              sizeof canonical, &len),
                  KEYPROV_IPV6_ZONE_IDENTIFIER);
}

int main(void) {
    structured_encodes_as_specified();
    inspect_reports_every_field();
    decode_and_parse_round_trip();
    unstructured_value();
    successor_counts_up_and_stops();
    bad_input_gets_a_code_and_a_message();
    null_and_small_buffers_are_refused();
    device_spellings_have_one_canonical_form();
    printf("keyid: ok\n");
    return 0;
}
