/* HMAC_DRBG against the NIST CAVP records (SP 800-90A, SHA-256, no reseed) in
 * tests/vectors/nist-sp800-90a-hmac-drbg-sha256-noreseed.txt, read at run time; then the
 * reseed counter, the generator as a random source, and refusals. */
#include "check.h"

#define VECTOR_FILE KEYPROV_VECTORS "/nist-sp800-90a-hmac-drbg-sha256-noreseed.txt"

typedef struct record {
    uint8_t entropy[64], nonce[64], personalization[64], additional[2][64], returned[128];
    size_t entropy_len, nonce_len, personalization_len, additional_len[2], returned_len;
} record;

/* Reads the hex value after "NAME = " on `line` into `out` if the line starts with NAME. */
static int field(const char *line, const char *name, uint8_t *out, size_t *len, size_t max) {
    size_t name_len = strlen(name);
    char hex[600];
    if (strncmp(line, name, name_len) != 0 || strncmp(line + name_len, " =", 2) != 0) {
        return 0;
    }
    if (sscanf(line + name_len + 2, " %599[0-9a-f]", hex) != 1) {
        hex[0] = '\0';
    }
    *len = hex_decode(hex, out, max);
    return 1;
}

static void run(const record *r) {
    keyprov_drbg *drbg = NULL;
    uint8_t out[128];
    EXPECT_OK(keyprov_drbg_new(r->entropy, r->entropy_len, r->nonce, r->nonce_len,
                               r->personalization, r->personalization_len, &drbg));
    EXPECT_OK(keyprov_drbg_generate(drbg, r->additional[0], r->additional_len[0], out,
                                    r->returned_len));
    EXPECT_OK(keyprov_drbg_generate(drbg, r->additional[1], r->additional_len[1], out,
                                    r->returned_len));
    EXPECT(memcmp(out, r->returned, r->returned_len) == 0);
    keyprov_drbg_free(drbg);
}

static int cavp_records(void) {
    FILE *file = fopen(VECTOR_FILE, "r");
    char line[700];
    record r;
    int additional = 0, count = 0;
    EXPECT(file != NULL);
    memset(&r, 0, sizeof r);
    while (fgets(line, sizeof line, file) != NULL) {
        if (field(line, "EntropyInput", r.entropy, &r.entropy_len, sizeof r.entropy) ||
            field(line, "Nonce", r.nonce, &r.nonce_len, sizeof r.nonce) ||
            field(line, "PersonalizationString", r.personalization, &r.personalization_len,
                  sizeof r.personalization)) {
            continue;
        }
        if (field(line, "AdditionalInput", r.additional[additional % 2],
                  &r.additional_len[additional % 2], sizeof r.additional[0])) {
            additional++;
            continue;
        }
        if (field(line, "ReturnedBits", r.returned, &r.returned_len, sizeof r.returned)) {
            run(&r);
            count++;
            additional = 0;
            memset(&r, 0, sizeof r);
        }
    }
    fclose(file);
    return count;
}

static keyprov_drbg *fresh(void) {
    uint8_t entropy[KEYPROV_DRBG_MIN_ENTROPY_LEN];
    keyprov_drbg *drbg = NULL;
    memset(entropy, 0x5a, sizeof entropy);
    EXPECT_OK(keyprov_drbg_new(entropy, sizeof entropy, NULL, 0, NULL, 0, &drbg));
    return drbg;
}

static void reseed_interval_is_enforced(void) {
    keyprov_drbg *drbg = fresh();
    uint8_t entropy[KEYPROV_DRBG_MIN_ENTROPY_LEN] = {1};
    uint8_t out[16], before[16];
    uint64_t left = 0;

    EXPECT_OK(keyprov_drbg_set_reseed_interval(drbg, 2));
    EXPECT_OK(keyprov_drbg_requests_before_reseed(drbg, &left));
    EXPECT(left == 2);
    EXPECT_OK(keyprov_drbg_generate(drbg, NULL, 0, out, sizeof out));
    EXPECT_OK(keyprov_drbg_generate(drbg, NULL, 0, out, sizeof out));
    memcpy(before, out, sizeof out);
    EXPECT_RESULT(keyprov_drbg_generate(drbg, NULL, 0, out, sizeof out),
                  KEYPROV_RESEED_REQUIRED);
    EXPECT(memcmp(before, out, sizeof out) == 0);
    EXPECT_OK(keyprov_drbg_reseed(drbg, entropy, sizeof entropy, NULL, 0));
    EXPECT_OK(keyprov_drbg_generate(drbg, NULL, 0, out, sizeof out));
    EXPECT_RESULT(keyprov_drbg_set_reseed_interval(drbg, 0), KEYPROV_OUT_OF_RANGE);
    keyprov_drbg_free(drbg);
}

static void serves_as_a_random_source(void) {
    keyprov_drbg *a = fresh(), *b = fresh();
    uint8_t via_callback[100], direct[100];
    EXPECT_OK(keyprov_drbg_rng_callback(a, via_callback, sizeof via_callback));
    EXPECT_OK(keyprov_drbg_generate(b, NULL, 0, direct, sizeof direct));
    EXPECT(memcmp(via_callback, direct, sizeof direct) == 0);
    keyprov_drbg_free(a);
    keyprov_drbg_free(b);
}

static void bad_input_is_refused(void) {
    keyprov_drbg *drbg = NULL;
    uint8_t entropy[KEYPROV_DRBG_MIN_ENTROPY_LEN] = {0};
    EXPECT_RESULT(keyprov_drbg_new(entropy, sizeof entropy - 1, NULL, 0, NULL, 0, &drbg),
                  KEYPROV_TOO_SHORT);
    expect_last_error_mentions("entropy");
    EXPECT(drbg == NULL);
    EXPECT_RESULT(keyprov_drbg_new(NULL, 32, NULL, 0, NULL, 0, &drbg), KEYPROV_NULL_POINTER);
    EXPECT_RESULT(keyprov_drbg_generate(NULL, NULL, 0, entropy, 4), KEYPROV_NULL_POINTER);
    drbg = fresh();
    EXPECT_RESULT(keyprov_drbg_generate(drbg, NULL, 0, NULL, 4), KEYPROV_NULL_POINTER);
    EXPECT_OK(keyprov_drbg_generate(drbg, NULL, 0, NULL, 0));
    EXPECT_RESULT(keyprov_drbg_requests_before_reseed(drbg, NULL), KEYPROV_NULL_POINTER);
    keyprov_drbg_free(drbg);
    keyprov_drbg_free(NULL);
}

int main(void) {
    int records = cavp_records();
    EXPECT(records >= 16);
    reseed_interval_is_enforced();
    serves_as_a_random_source();
    bad_input_is_refused();
    printf("drbg: ok (%d NIST CAVP records)\n", records);
    return 0;
}
