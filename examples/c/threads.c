/* The threading rules: distinct objects on distinct threads need no lock, and the last-error
 * message belongs to the thread whose call failed. Built with -pthread. */
#include <pthread.h>

#include "check.h"

#define ROUNDS 200

typedef struct worker {
    uint8_t fill;
    int fail;
    uint8_t last_key[KEYPROV_KEY_LEN];
} worker;

/* Derives keys from its own schedule and key identifiers; one worker also makes a call fail
 * every round and checks that the message it reads is its own. */
static void *work(void *argument) {
    worker *w = argument;
    uint8_t master[KEYPROV_KEY_LEN];
    keyprov_key_schedule *schedule = NULL;
    char message[128];
    size_t len;
    int round;

    memset(master, w->fill, sizeof master);
    EXPECT_OK(keyprov_key_schedule_new(master, sizeof master, 1, &schedule));
    for (round = 0; round < ROUNDS; round++) {
        keyprov_key_id *key_id = NULL;
        EXPECT_OK(keyprov_key_id_new_structured(1, "pbx-1", 5, "ext:100", 7, (uint32_t)round,
                                                &key_id));
        EXPECT_OK(keyprov_key_schedule_device_key(schedule, key_id, w->last_key,
                                                  sizeof w->last_key));
        keyprov_key_id_free(key_id);
        if (w->fail) {
            EXPECT_RESULT(keyprov_authentication_key(master, 31, w->last_key, 32),
                          KEYPROV_WRONG_LENGTH);
            EXPECT_OK(keyprov_last_error_message(message, sizeof message, &len));
            EXPECT(strcmp(message, "device secret key has length 31, expected 32") == 0);
        } else {
            EXPECT_OK(keyprov_last_error_message(message, sizeof message, &len));
            EXPECT(len == 1 && message[0] == '\0');
        }
    }
    keyprov_key_schedule_free(schedule);
    return NULL;
}

int main(void) {
    worker workers[2] = {{0x11, 1, {0}}, {0x22, 0, {0}}};
    pthread_t threads[2];
    keyprov_key_schedule *schedule = NULL;
    keyprov_key_id *key_id = NULL;
    uint8_t master[KEYPROV_KEY_LEN], expected[KEYPROV_KEY_LEN];
    int i;

    for (i = 0; i < 2; i++) {
        EXPECT(pthread_create(&threads[i], NULL, work, &workers[i]) == 0);
    }
    for (i = 0; i < 2; i++) {
        EXPECT(pthread_join(threads[i], NULL) == 0);
    }
    /* Each thread's last key is what one thread alone derives for the same inputs. */
    for (i = 0; i < 2; i++) {
        memset(master, workers[i].fill, sizeof master);
        EXPECT_OK(keyprov_key_schedule_new(master, sizeof master, 1, &schedule));
        EXPECT_OK(keyprov_key_id_new_structured(1, "pbx-1", 5, "ext:100", 7, ROUNDS - 1,
                                                &key_id));
        EXPECT_OK(keyprov_key_schedule_device_key(schedule, key_id, expected, sizeof expected));
        EXPECT(memcmp(expected, workers[i].last_key, sizeof expected) == 0);
        keyprov_key_id_free(key_id);
        keyprov_key_schedule_free(schedule);
    }
    printf("threads: ok\n");
    return 0;
}
