/* SIP Digest through the C API: the RFC 7616 section 3.9.1 example as a known answer, then a
 * registrar and a phone talking to each other in memory (challenge, answer, verification,
 * rspauth, replay, wrong password, unknown key identifier), and the no-change-on-failure rule. */
#include "check.h"

#define REALM "sip.example.com"

static keyprov_digest_request request(const char *method, const char *uri) {
    keyprov_digest_request r;
    r.method = method;
    r.method_len = strlen(method);
    r.uri = uri;
    r.uri_len = strlen(uri);
    r.body = NULL;
    r.body_len = 0;
    return r;
}

static keyprov_str str(const char *text) {
    keyprov_str s;
    s.ptr = text;
    s.len = strlen(text);
    return s;
}

/* RFC 7616 section 3.9.1, SHA-256 (tests/vectors: rfc7616-digest-examples.txt). */
static void rfc7616_sha256_example(void) {
    const char *challenge =
        "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=SHA-256, "
        "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
        "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
    const char *cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
    keyprov_digest_request get = request("GET", "/dir/index.html");
    keyprov_digest_client *client = NULL;
    keyprov_str values[1];
    char value[1024], ha1[80];
    size_t len;

    values[0] = str(challenge);
    EXPECT_OK(keyprov_digest_ha1(KEYPROV_DIGEST_SHA256, "Mufasa", 6, "http-auth@example.org", 21,
                                 (const uint8_t *)"Circle of Life", 14, ha1, sizeof ha1, &len));
    EXPECT(strcmp(ha1, "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232") == 0);
    EXPECT_OK(keyprov_digest_client_new("Mufasa", 6, (const uint8_t *)"Circle of Life", 14, NULL,
                                        &client));
    EXPECT_OK(keyprov_digest_client_handle_challenges(client, values, 1));
    EXPECT_OK(keyprov_digest_client_authorize_with_cnonce(client, &get, cnonce, strlen(cnonce),
                                                          value, sizeof value, &len));
    EXPECT(strstr(value, "response=\"753927fa0e85d155564e2e272a28d180"
                         "2ca10daf4496794697cf8db5856cb6c1\"") != NULL);
    EXPECT(strstr(value, "nc=00000001") != NULL);
    keyprov_digest_client_free(client);
}

typedef struct registrar_side {
    keyprov_digest_registrar *registrar;
    keyprov_drbg *rng;
    char nonce[128];
} registrar_side;

static keyprov_drbg *generator(uint8_t fill) {
    uint8_t entropy[KEYPROV_DRBG_MIN_ENTROPY_LEN];
    keyprov_drbg *drbg = NULL;
    memset(entropy, fill, sizeof entropy);
    EXPECT_OK(keyprov_drbg_new(entropy, sizeof entropy, NULL, 0, NULL, 0, &drbg));
    return drbg;
}

/* The registrar's 401: every challenge value for one fresh nonce. */
static size_t challenge(registrar_side *side, uint64_t now, char values[][512],
                        keyprov_str *strs) {
    size_t count = 0, i, len;
    EXPECT_OK(keyprov_digest_registrar_issue_nonce(side->registrar, now, keyprov_drbg_rng_callback,
                                                   side->rng, side->nonce, sizeof side->nonce,
                                                   &len));
    EXPECT_OK(keyprov_digest_registrar_challenge_count(side->registrar, &count));
    EXPECT(count == 2);
    for (i = 0; i < count; i++) {
        EXPECT_OK(keyprov_digest_registrar_challenge(side->registrar, side->nonce,
                                                     strlen(side->nonce), 0, i, values[i], 512,
                                                     &len));
        strs[i] = str(values[i]);
    }
    return count;
}

/* The registrar's side of a REGISTER carrying `authorization`. */
static keyprov_digest_verdict verify(registrar_side *side, const char *authorization,
                                     uint64_t now, uint32_t lookup, const char *password) {
    keyprov_digest_request reg = request("REGISTER", "sip:" REALM);
    keyprov_digest_credentials *credentials = NULL;
    keyprov_digest_stored_credential stored;
    keyprov_digest_verdict verdict;
    char username[128];
    size_t len;
    uint8_t hashed = 9;

    EXPECT_OK(keyprov_digest_credentials_parse(authorization, strlen(authorization),
                                               &credentials));
    EXPECT_OK(keyprov_digest_credentials_username(credentials, username, sizeof username, &len,
                                                  &hashed));
    EXPECT(strcmp(username, "kp1AQEABwVwYngtMQYGABorPE1eAAAAKg") == 0 && hashed == 0);
    stored.lookup = lookup;
    stored.hash = 0;
    stored.secret = (const uint8_t *)password;
    stored.secret_len = password ? strlen(password) : 0;
    EXPECT_OK(keyprov_digest_registrar_verify(side->registrar, credentials, &reg, now, &stored,
                                              &verdict));
    keyprov_digest_credentials_free(credentials);
    return verdict;
}

static void phone_registers_with_registrar(void) {
    const char *user = "kp1AQEABwVwYngtMQYGABorPE1eAAAAKg";
    const char *password = "ZX5NF3J45XFCK2FPBVUCL4HFPWUB467J";
    uint8_t secret[32];
    registrar_side side;
    keyprov_digest_client *phone = NULL;
    keyprov_drbg *phone_rng = generator(0x22);
    keyprov_digest_request reg = request("REGISTER", "sip:" REALM);
    keyprov_digest_verdict verdict;
    char values[4][512], authorization[1024], info[512];
    keyprov_str strs[4];
    size_t count, len;
    uint8_t verified = 0;
    uint32_t nc = 99;

    memset(secret, 0x33, sizeof secret);
    side.rng = generator(0x11);
    EXPECT_OK(keyprov_digest_registrar_new(REALM, strlen(REALM), NULL, secret, sizeof secret,
                                           &side.registrar));
    EXPECT_OK(keyprov_digest_client_new(user, strlen(user), (const uint8_t *)password,
                                        strlen(password), NULL, &phone));

    count = challenge(&side, 1000, values, strs);
    EXPECT(strstr(values[0], "algorithm=SHA-512-256") != NULL);
    EXPECT_OK(keyprov_digest_client_handle_challenges(phone, strs, count));
    EXPECT_OK(keyprov_digest_client_authorize(phone, &reg, keyprov_drbg_rng_callback, phone_rng,
                                              authorization, sizeof authorization, &len));
    EXPECT_OK(keyprov_digest_client_nonce_count(phone, &nc));
    EXPECT(nc == 1);

    verdict = verify(&side, authorization, 1001, KEYPROV_DIGEST_LOOKUP_PASSWORD, password);
    EXPECT(verdict.outcome == KEYPROV_DIGEST_OUTCOME_ACCEPTED && verdict.status_code == 200);
    EXPECT(verdict.algorithm == KEYPROV_DIGEST_SHA512_256 && verdict.reason == 0);
    EXPECT_OK(keyprov_digest_registrar_authentication_info(side.registrar, NULL, 0, info,
                                                           sizeof info, &len));
    EXPECT_OK(keyprov_digest_client_handle_authentication_info(phone, info, strlen(info), NULL, 0,
                                                               &verified));
    EXPECT(verified == 1);

    /* The same Authorization again is a replay: challenge again with stale=true. */
    verdict = verify(&side, authorization, 1002, KEYPROV_DIGEST_LOOKUP_PASSWORD, password);
    EXPECT(verdict.outcome == KEYPROV_DIGEST_OUTCOME_REPLAY && verdict.status_code == 401);
    EXPECT(verdict.stale == 1);

    /* A next request on the same nonce counts up and is accepted. */
    EXPECT_OK(keyprov_digest_client_authorize(phone, &reg, keyprov_drbg_rng_callback, phone_rng,
                                              authorization, sizeof authorization, &len));
    EXPECT(strstr(authorization, "nc=00000002") != NULL);
    verdict = verify(&side, authorization, 1003, KEYPROV_DIGEST_LOOKUP_PASSWORD, password);
    EXPECT(verdict.outcome == KEYPROV_DIGEST_OUTCOME_ACCEPTED);

    /* Wrong password, unknown key identifier: both a plain 403. */
    EXPECT_OK(keyprov_digest_client_authorize(phone, &reg, keyprov_drbg_rng_callback, phone_rng,
                                              authorization, sizeof authorization, &len));
    verdict = verify(&side, authorization, 1004, KEYPROV_DIGEST_LOOKUP_PASSWORD, "not it");
    EXPECT(verdict.outcome == KEYPROV_DIGEST_OUTCOME_WRONG_RESPONSE && verdict.status_code == 403);
    verdict = verify(&side, authorization, 1004, KEYPROV_DIGEST_LOOKUP_UNKNOWN_KEY_ID, NULL);
    EXPECT(verdict.outcome == KEYPROV_DIGEST_OUTCOME_UNKNOWN_KEY_ID && verdict.status_code == 403);
    /* Long after the nonce expired: stale. */
    verdict = verify(&side, authorization, 100000, KEYPROV_DIGEST_LOOKUP_PASSWORD, password);
    EXPECT(verdict.outcome == KEYPROV_DIGEST_OUTCOME_STALE && verdict.stale == 1);

    keyprov_digest_client_free(phone);
    keyprov_digest_registrar_free(side.registrar);
    keyprov_drbg_free(side.rng);
    keyprov_drbg_free(phone_rng);
}

static keyprov_result failing_rng(void *userdata, uint8_t *out, size_t len) {
    (void)userdata;
    (void)out;
    (void)len;
    return 1234;
}

static void failures_change_nothing(void) {
    const char *challenge = "Digest realm=\"r\", qop=\"auth\", algorithm=SHA-256, nonce=\"abc\"";
    keyprov_digest_request get = request("GET", "/");
    keyprov_digest_client *client = NULL;
    keyprov_str values[1];
    char small[8], value[512];
    size_t needed = 0, len;
    uint32_t nc = 0;

    values[0] = str(challenge);
    EXPECT_OK(keyprov_digest_client_new("u", 1, (const uint8_t *)"p", 1, NULL, &client));
    EXPECT_RESULT(keyprov_digest_client_authorize_with_cnonce(client, &get, "c", 1, value,
                                                              sizeof value, &len),
                  KEYPROV_INVALID_STATE);
    EXPECT_OK(keyprov_digest_client_handle_challenges(client, values, 1));
    EXPECT_RESULT(keyprov_digest_client_authorize(client, &get, failing_rng, NULL, value,
                                                  sizeof value, &len),
                  KEYPROV_CALLBACK_FAILED);
    expect_last_error_mentions("1234");
    EXPECT_RESULT(keyprov_digest_client_authorize(client, &get, NULL, NULL, value, sizeof value,
                                                  &len),
                  KEYPROV_NULL_POINTER);
    EXPECT_RESULT(keyprov_digest_client_authorize_with_cnonce(client, &get, "c", 1, small,
                                                              sizeof small, &needed),
                  KEYPROV_BUFFER_TOO_SMALL);
    EXPECT_OK(keyprov_digest_client_nonce_count(client, &nc));
    EXPECT(nc == 0 && needed > sizeof small);
    EXPECT_OK(keyprov_digest_client_authorize_with_cnonce(client, &get, "c", 1, value, needed,
                                                          &len));
    EXPECT(len == needed && strstr(value, "nc=00000001") != NULL);

    values[0] = str("Basic realm=\"r\"");
    EXPECT_RESULT(keyprov_digest_client_handle_challenges(client, values, 1),
                  KEYPROV_DIGEST_NO_SUPPORTED_CHALLENGE);
    EXPECT_RESULT(keyprov_digest_client_handle_challenges(client, NULL, 1), KEYPROV_NULL_POINTER);
    EXPECT_RESULT(keyprov_digest_credentials_parse("Digest realm=", 13,
                                                   &(keyprov_digest_credentials *){NULL}),
                  KEYPROV_DIGEST_SYNTAX);
    keyprov_digest_client_free(client);
    keyprov_digest_client_free(NULL);
    keyprov_digest_registrar_free(NULL);
}

int main(void) {
    rfc7616_sha256_example();
    phone_registers_with_registrar();
    failures_change_nothing();
    printf("digest: ok\n");
    return 0;
}
