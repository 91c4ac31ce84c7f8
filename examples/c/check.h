/* Small assertion helpers shared by the C examples, which double as integration tests. */
#ifndef KEYPROV_EXAMPLES_CHECK_H
#define KEYPROV_EXAMPLES_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keyprov.h>

/* Fails the program unless `call` returns `want`, printing the library's last message. */
#define EXPECT_RESULT(call, want) expect_result((call), (want), #call, __FILE__, __LINE__)
#define EXPECT_OK(call) EXPECT_RESULT(call, KEYPROV_OK)
#define EXPECT(condition) expect_true((condition), #condition, __FILE__, __LINE__)
/* Fails unless `len` bytes at `got` equal the hexadecimal text `want_hex`. */
#define EXPECT_HEX(got, len, want_hex) expect_hex((got), (len), (want_hex), __FILE__, __LINE__)

static inline void expect_result(keyprov_result got, keyprov_result want, const char *call,
                                 const char *file, int line) {
    char message[256];
    size_t len = 0;
    if (got == want) {
        return;
    }
    if (keyprov_last_error_message(message, sizeof message, &len) != KEYPROV_OK) {
        strcpy(message, "(message does not fit)");
    }
    fprintf(stderr, "%s:%d: %s returned %u, expected %u; last error: %s\n", file, line, call,
            (unsigned)got, (unsigned)want, message);
    exit(1);
}

static inline void expect_true(int condition, const char *text, const char *file, int line) {
    if (!condition) {
        fprintf(stderr, "%s:%d: expected %s\n", file, line, text);
        exit(1);
    }
}

/* Decodes hexadecimal text into `out`, returning the byte count; exits on malformed text. */
static inline size_t hex_decode(const char *hex, uint8_t *out, size_t out_len) {
    size_t len = strlen(hex) / 2;
    size_t i;
    if (strlen(hex) % 2 != 0 || len > out_len) {
        fprintf(stderr, "bad hex constant %s\n", hex);
        exit(1);
    }
    for (i = 0; i < len; i++) {
        unsigned int byte;
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1) {
            fprintf(stderr, "bad hex constant %s\n", hex);
            exit(1);
        }
        out[i] = (uint8_t)byte;
    }
    return len;
}

static inline void expect_hex(const uint8_t *got, size_t len, const char *want_hex,
                              const char *file, int line) {
    uint8_t want[1024];
    size_t want_len = hex_decode(want_hex, want, sizeof want);
    size_t i;
    if (want_len == len && memcmp(got, want, len) == 0) {
        return;
    }
    fprintf(stderr, "%s:%d: got ", file, line);
    for (i = 0; i < len; i++) {
        fprintf(stderr, "%02x", got[i]);
    }
    fprintf(stderr, ", expected %s\n", want_hex);
    exit(1);
}

/* Fails unless the last error message on this thread contains `part`. */
static inline void expect_last_error_mentions(const char *part) {
    char message[256];
    size_t len = 0;
    EXPECT_OK(keyprov_last_error_message(message, sizeof message, &len));
    if (strstr(message, part) == NULL) {
        fprintf(stderr, "last error \"%s\" does not mention \"%s\"\n", message, part);
        exit(1);
    }
}

#endif
