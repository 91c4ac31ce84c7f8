/* The key schedule, step by step, against the first vector of tests/vectors/derivations.json
 * ("typical sizes"), whose values tests/python/check_derivations.py recomputes from
 * docs/protocol.md with Python's hashlib and hmac alone. */
#include "check.h"

#define SEED "01203f5e7d9cbbdaf91837567594b3d2f1102f4e6d8cabcae90827466584a3c2"
#define MASTER_KEY "9344aa64daf99599c5b948a3822e2bdaf558955ca60cfc3adc22f627cef80629"
#define KEY_ID "0221405f7e9dbcdbfa1938577695b4d3f211304f6e8daccb"
#define DEVICE_KEY "c8a3e7076f5c5354c77f906b60e339405e6d4951f5ff61c31f44623b0cb86683"
#define AUTH_KEY "3f9006c8035d99e3668d5753c61bc1760bbb44921acbbb448c85b1f738eea817"
#define SERVICE_KEY "f4da3dee386c317384fb5113fd41141d35a4132b5c9f2ab082a62e79dbc4b0a6"
#define TRANSCRIPT_MAC "22180ea0c66f522cce1844a823875f6b074aa0fc550b58fbd1a8bd2848e697f8"
#define SALT "1837567594b3d2f1102f4e6d8cabcae9"
#define PIN_VERIFIER "611c85a68f53f86c79a1e3cae553f08d76368f464543304592c3dab02b67b676"
#define PIN_KEY "49434f6f9b0541d9299865aa56b676cb1c35e1aacd5d551fa47e84e6e4157b4e"
#define PIN_MESSAGE "70726f766973696f6e696e672072657175657374"
#define PIN_SIGNATURE "f4b1aca3a84506d0c041d8b3dafbfc6e3f819b9bd12683949d949527db94f1eb"
#define DEVICE_NONCE "04234261809fbeddfc1b3a597897b6d5"
#define REGISTRAR_NONCE "0524436281a0bfdefd1c3b5a7998b7d6"
#define D2R "360530a85b4ea8af88b69d542630563266635845a92ca3ef2919e44bdd5335c4"
#define R2D "1afb130ca3f9d3587f074ec2d63874edd5bc9d45415531d07a5f90fb4356d934"
#define TRANSCRIPT                                                                              \
    "032241607f9ebddcfb1a39587796b5d4f31231506f8eadcceb0a29486786a5c4e30221405f7e9dbcdbfa19385" \
    "77695b4d3f211304f6e8daccbea0928476685a4c3e201203f5e7d9cbbdaf91837567594b3d2f1102f4e6d8cab" \
    "cae90827466584a3c2e1001f3e5d7c9bbad9f81736557493b2d1f00f2e4d6c8baac9e80726456483a2c1e0ff1" \
    "e3d5c7b9ab9d8f71635547392b1d0ef0e2d4c6b8aa9c8e70625446382a1c0dffe1d3c5b7a99b8d7f6153453729" \
    "1b0cfee0d2c4b6a89a8c7e60524436281a0bfdefd1c"

static uint8_t key[KEYPROV_KEY_LEN];

static const uint8_t *bytes(const char *hex, size_t *len) {
    static uint8_t pool[8][512];
    static int next;
    uint8_t *out = pool[next++ % 8];
    *len = hex_decode(hex, out, sizeof pool[0]);
    return out;
}

static void chain_of_derivations(void) {
    size_t len, id_len, service_len = strlen("sip.example.com");
    const uint8_t *seed = bytes(SEED, &len);
    const uint8_t *key_id = bytes(KEY_ID, &id_len);
    keyprov_key_schedule *schedule = NULL;
    uint16_t epoch = 0;

    EXPECT_OK(keyprov_master_key_from_seed(seed, len, (const uint8_t *)"example.com", 11, 1,
                                           key, sizeof key));
    EXPECT_HEX(key, sizeof key, MASTER_KEY);
    EXPECT_OK(keyprov_key_schedule_new(key, sizeof key, 1, &schedule));
    EXPECT_OK(keyprov_key_schedule_epoch(schedule, &epoch));
    EXPECT(epoch == 1);
    EXPECT_OK(keyprov_key_schedule_device_key_bytes(schedule, key_id, id_len, key, sizeof key));
    EXPECT_HEX(key, sizeof key, DEVICE_KEY);
    keyprov_key_schedule_free(schedule);
    EXPECT_OK(keyprov_authentication_key(key, sizeof key, key, sizeof key));
    EXPECT_HEX(key, sizeof key, AUTH_KEY);
    EXPECT_OK(keyprov_service_key(key, sizeof key, (const uint8_t *)"sip.example.com",
                                  service_len, key, sizeof key));
    EXPECT_HEX(key, sizeof key, SERVICE_KEY);
}

static void service_key_uses(void) {
    size_t len, t_len, k_len, d_len, r_len;
    const uint8_t *service = bytes(SERVICE_KEY, &len);
    const uint8_t *transcript = bytes(TRANSCRIPT, &t_len);
    const uint8_t *key_id = bytes(KEY_ID, &k_len);
    uint8_t tag[KEYPROV_TAG_LEN], d2r[KEYPROV_KEY_LEN], r2d[KEYPROV_KEY_LEN];
    char password[KEYPROV_DIGEST_PASSWORD_LEN + 1];
    keyprov_session_context context;

    EXPECT_OK(keyprov_service_mac(service, len, transcript, t_len, tag, sizeof tag));
    EXPECT_HEX(tag, sizeof tag, TRANSCRIPT_MAC);
    EXPECT_OK(keyprov_service_mac_verify(service, len, transcript, t_len, tag, sizeof tag));
    tag[31] ^= 1;
    EXPECT_RESULT(keyprov_service_mac_verify(service, len, transcript, t_len, tag, sizeof tag),
                  KEYPROV_WRONG_PROOF);

    context.key_id = key_id;
    context.key_id_len = k_len;
    context.service_id = (const uint8_t *)"sip.example.com";
    context.service_id_len = strlen("sip.example.com");
    context.device_nonce = bytes(DEVICE_NONCE, &d_len);
    context.device_nonce_len = d_len;
    context.registrar_nonce = bytes(REGISTRAR_NONCE, &r_len);
    context.registrar_nonce_len = r_len;
    EXPECT_OK(keyprov_session_keys(service, len, &context, d2r, sizeof d2r, r2d, sizeof r2d));
    EXPECT_HEX(d2r, sizeof d2r, D2R);
    EXPECT_HEX(r2d, sizeof r2d, R2D);
    context.device_nonce_len = 15;
    EXPECT_RESULT(keyprov_session_keys(service, len, &context, d2r, sizeof d2r, r2d, sizeof r2d),
                  KEYPROV_TOO_SHORT);
    expect_last_error_mentions("device nonce");

    EXPECT_OK(keyprov_digest_password(service, len, password, sizeof password, &len));
    EXPECT(strcmp(password, "ZX5NF3J45XFCK2FPBVUCL4HFPWUB467J") == 0);
}

static void pin_signature(void) {
    size_t len, m_len, salt_len;
    const uint8_t *device = bytes(DEVICE_KEY, &len);
    const uint8_t *message = bytes(PIN_MESSAGE, &m_len);
    const uint8_t *salt = bytes(SALT, &salt_len);
    uint8_t signature[KEYPROV_TAG_LEN], verifier[KEYPROV_KEY_LEN];

    /* The device, from the PIN and the user's salt. */
    EXPECT_OK(keyprov_pin_signing_key(device, len, "0042", 4, salt, salt_len, key, sizeof key));
    EXPECT_HEX(key, sizeof key, PIN_KEY);
    /* The agent, from the verifier its directory stores: the same key. */
    EXPECT_OK(keyprov_pin_verifier(salt, salt_len, "0042", 4, verifier, sizeof verifier));
    EXPECT_HEX(verifier, sizeof verifier, PIN_VERIFIER);
    memset(key, 0, sizeof key);
    EXPECT_OK(keyprov_pin_signing_key_from_verifier(device, len, verifier, sizeof verifier, key,
                                                    sizeof key));
    EXPECT_HEX(key, sizeof key, PIN_KEY);
    EXPECT_RESULT(keyprov_pin_signing_key_from_verifier(device, len, verifier, 31, key,
                                                        sizeof key), KEYPROV_WRONG_LENGTH);
    EXPECT_OK(keyprov_pin_sign(key, sizeof key, message, m_len, signature, sizeof signature));
    EXPECT_HEX(signature, sizeof signature, PIN_SIGNATURE);
    EXPECT_OK(keyprov_pin_verify(key, sizeof key, message, m_len, signature, sizeof signature));
    EXPECT_RESULT(keyprov_pin_verify(key, sizeof key, message, m_len - 1, signature,
                                     sizeof signature), KEYPROV_WRONG_PROOF);
    EXPECT_RESULT(keyprov_pin_signing_key(device, len, "12a4", 4, salt, salt_len, key,
                                          sizeof key), KEYPROV_INVALID_VALUE);
    EXPECT_RESULT(keyprov_pin_signing_key(device, len, "123", 3, salt, salt_len, key,
                                          sizeof key), KEYPROV_TOO_SHORT);
}

/* RFC 5869 appendix A.1 (tests/vectors/rfc5869-hkdf-sha256.txt). */
static void hkdf_rfc5869_case_1(void) {
    size_t ikm_len, salt_len, info_len;
    const uint8_t *ikm = bytes("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", &ikm_len);
    const uint8_t *salt = bytes("000102030405060708090a0b0c", &salt_len);
    const uint8_t *info = bytes("f0f1f2f3f4f5f6f7f8f9", &info_len);
    uint8_t prk[KEYPROV_KEY_LEN], okm[42];
    EXPECT_OK(keyprov_hkdf_extract(salt, salt_len, ikm, ikm_len, prk, sizeof prk));
    EXPECT_HEX(prk, sizeof prk,
               "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
    EXPECT_OK(keyprov_hkdf_expand(prk, sizeof prk, info, info_len, okm, sizeof okm));
    EXPECT_HEX(okm, sizeof okm,
               "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c"
               "5db02d56ecc4c5bf34007208d5b887185865");
}

static void refusals(void) {
    uint8_t small[16];
    keyprov_key_schedule *schedule = NULL;
    keyprov_key_id *key_id = NULL;
    EXPECT_RESULT(keyprov_authentication_key(key, 31, small, sizeof small), KEYPROV_WRONG_LENGTH);
    EXPECT_RESULT(keyprov_authentication_key(key, sizeof key, small, sizeof small),
                  KEYPROV_BUFFER_TOO_SMALL);
    EXPECT_RESULT(keyprov_authentication_key(NULL, 32, key, sizeof key), KEYPROV_NULL_POINTER);
    EXPECT_RESULT(keyprov_service_key(key, sizeof key, NULL, 0, key, sizeof key),
                  KEYPROV_TOO_SHORT);
    expect_last_error_mentions("service identifier");
    EXPECT_RESULT(keyprov_master_key_from_seed(key, 16, (const uint8_t *)"e", 1, 1, key,
                                               sizeof key), KEYPROV_TOO_SHORT);

    EXPECT_OK(keyprov_key_schedule_new(key, sizeof key, 2, &schedule));
    EXPECT_OK(keyprov_key_id_new_structured(3, "pbx", 3, "ext:100", 7, 1, &key_id));
    EXPECT_RESULT(keyprov_key_schedule_device_key(schedule, key_id, key, sizeof key),
                  KEYPROV_INVALID_VALUE);
    expect_last_error_mentions("epoch");
    keyprov_key_id_free(key_id);
    keyprov_key_schedule_free(schedule);
    keyprov_key_schedule_free(NULL);
}

int main(void) {
    chain_of_derivations();
    service_key_uses();
    pin_signature();
    hkdf_rfc5869_case_1();
    refusals();
    printf("keys: ok\n");
    return 0;
}
