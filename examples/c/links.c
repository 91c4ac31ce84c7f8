/* In-memory links between the roles, and a reproducible random source. */
#include "roles.h"

void queue_push(queue *q, const uint8_t *bytes, size_t len) {
    size_t slot = (q->head + q->count) % QUEUE_SLOTS;
    EXPECT(q->count < QUEUE_SLOTS && len <= MAX_MESSAGE);
    memcpy(q->data[slot], bytes, len);
    q->len[slot] = len;
    q->count++;
}

int queue_pop(queue *q, uint8_t *bytes, size_t *len) {
    if (q->count == 0) {
        return 0;
    }
    *len = q->len[q->head];
    memcpy(bytes, q->data[q->head], *len);
    keyprov_secure_zero(q->data[q->head], *len);
    q->head = (q->head + 1) % QUEUE_SLOTS;
    q->count--;
    return 1;
}

keyprov_drbg *seeded_generator(uint8_t fill) {
    uint8_t entropy[KEYPROV_DRBG_MIN_ENTROPY_LEN];
    keyprov_drbg *drbg = NULL;
    memset(entropy, fill, sizeof entropy);
    EXPECT_OK(keyprov_drbg_new(entropy, sizeof entropy, NULL, 0, (const uint8_t *)"example", 7,
                               &drbg));
    return drbg;
}
