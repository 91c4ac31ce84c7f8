/* Result codes, messages, the size-query convention and version checks. */
#include "check.h"

static void version_matches_header(void) {
    char expected[32];
    sprintf(expected, "%d.%d.%d", KEYPROV_VERSION_MAJOR, KEYPROV_VERSION_MINOR,
            KEYPROV_VERSION_PATCH);
    EXPECT(strcmp(expected, KEYPROV_VERSION_STRING) == 0);
    EXPECT(strcmp(keyprov_version(), KEYPROV_VERSION_STRING) == 0);
}

static void message_size_can_be_asked_first(void) {
    const char *expected = "output buffer too small";
    size_t needed = 0;
    char *message;

    EXPECT_RESULT(keyprov_result_message(KEYPROV_BUFFER_TOO_SMALL, NULL, 0, &needed),
                  KEYPROV_BUFFER_TOO_SMALL);
    EXPECT(needed == strlen(expected) + 1);
    message = malloc(needed);
    EXPECT(message != NULL);
    EXPECT_OK(keyprov_result_message(KEYPROV_BUFFER_TOO_SMALL, message, needed, &needed));
    EXPECT(strcmp(message, expected) == 0);
    free(message);
}

static void undersized_buffer_is_left_untouched(void) {
    char small[4] = {'x', 'x', 'x', 'x'};
    size_t needed = 0;
    EXPECT_RESULT(keyprov_result_message(KEYPROV_OK, small, sizeof small, &needed),
                  KEYPROV_BUFFER_TOO_SMALL);
    EXPECT(needed == strlen("success") + 1);
    EXPECT(memcmp(small, "xxxx", 4) == 0);
}

static void null_arguments_are_refused(void) {
    char message[64];
    EXPECT_RESULT(keyprov_result_message(KEYPROV_OK, message, sizeof message, NULL),
                  KEYPROV_NULL_POINTER);
    EXPECT_RESULT(keyprov_result_message(KEYPROV_OK, NULL, 100, &(size_t){0}),
                  KEYPROV_NULL_POINTER);
    expect_last_error_mentions("null pointer: buf");
}

static void groups_and_unknown_codes(void) {
    char message[64];
    size_t len;
    EXPECT(keyprov_result_group(KEYPROV_OK) == 0);
    EXPECT(keyprov_result_group(KEYPROV_TOO_LONG) == 1);
    EXPECT(keyprov_result_group(KEYPROV_TRUNCATED) == 2);
    EXPECT(keyprov_result_group(KEYPROV_WRONG_PROOF) == 3);
    EXPECT(keyprov_result_group(KEYPROV_BUFFER_TOO_SMALL) == 4);
    EXPECT(keyprov_result_group(KEYPROV_DIGEST_SYNTAX) == 5);
    EXPECT(keyprov_result_group(KEYPROV_PANIC) == 9);
    EXPECT_OK(keyprov_result_message(12345, message, sizeof message, &len));
    EXPECT(strcmp(message, "unknown result code") == 0);
}

int main(void) {
    version_matches_header();
    message_size_can_be_asked_first();
    undersized_buffer_is_left_untouched();
    null_arguments_are_refused();
    groups_and_unknown_codes();
    printf("basics: ok\n");
    return 0;
}
