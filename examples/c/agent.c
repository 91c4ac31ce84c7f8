/* The key generating agent's host: a master key from a seed, a directory with one user, one
 * durable counter, and the answers its machines ask for. */
#include "roles.h"

#define MASTER_SEED "an enterprise seed of at least thirty-two bytes, kept offline"

void agent_host_init(agent_host *agent, const uint8_t identity[32]) {
    uint8_t master[KEYPROV_KEY_LEN];
    (void)identity; /* the TLS layer would present it; the phone checks it as its anchor */
    memset(agent, 0, sizeof *agent);
    agent->rng = seeded_generator(0xa9);
    agent->next_counter = 1;
    EXPECT_OK(keyprov_agent_config_new("pbx-1", 5, 365 * 86400, 1, 3, &agent->config));
    EXPECT_OK(keyprov_master_key_from_seed((const uint8_t *)MASTER_SEED, strlen(MASTER_SEED),
                                           (const uint8_t *)"example.com", 11, 1, master,
                                           sizeof master));
    EXPECT_OK(keyprov_agent_config_add_master_key(agent->config, master, sizeof master, 1));
    keyprov_secure_zero(master, sizeof master);
    EXPECT_OK(keyprov_pin_verifier((const uint8_t *)"salt-alice", 10, "2468", 4,
                                   agent->alice_verifier, sizeof agent->alice_verifier));
}

static void answer_provisioning_event(agent_host *agent, keyprov_agent_provisioning *machine,
                                      const keyprov_agent_event *event, uint64_t now) {
    keyprov_agent_user user;
    switch (event->kind) {
    case KEYPROV_AGENT_EVENT_LOOKUP_USER:
        /* An unknown login gets its own failure count too (none here), never NULL. */
        memset(&user, 0, sizeof user);
        if (event->login_len == 5 && memcmp(event->login, "alice", 5) == 0) {
            memcpy(user.verifier, agent->alice_verifier, sizeof user.verifier);
            user.has_verifier = 1;
            EXPECT_OK(keyprov_agent_provisioning_handle_user_result(machine, agent->config, now,
                                                                    event->handle, &user));
        } else {
            EXPECT_RESULT(keyprov_agent_provisioning_handle_user_result(
                              machine, agent->config, now, event->handle, &user),
                          KEYPROV_WRONG_PROOF);
        }
        break;
    case KEYPROV_AGENT_EVENT_RESERVE_COUNTER:
        EXPECT(event->reservation == KEYPROV_RESERVATION_DEVICE);
        EXPECT(event->device_type == KEYPROV_DEVICE_ID_MAC);
        /* A real agent writes the counter to durable storage before answering. */
        EXPECT_OK(keyprov_agent_provisioning_handle_counter_result(
            machine, agent->config, now, event->handle, KEYPROV_OK, agent->next_counter++));
        break;
    case KEYPROV_AGENT_EVENT_ISSUED:
        agent->issued++;
        break;
    case KEYPROV_AGENT_EVENT_PIN_ACCEPTED:
    case KEYPROV_AGENT_EVENT_PIN_REJECTED:
        break;
    default:
        fprintf(stderr, "agent: unexpected event %u (error %u)\n", (unsigned)event->kind,
                (unsigned)event->error);
        exit(1);
    }
}

/* Moves every message and event of one provisioning machine one step on. */
int agent_provisioning_pump(agent_host *agent, keyprov_agent_provisioning *machine, queue *in,
                            queue *out, uint64_t now) {
    static uint8_t bytes[MAX_MESSAGE];
    keyprov_agent_event event;
    size_t len;
    int progress = 0;
    while (queue_pop(in, bytes, &len)) {
        keyprov_agent_provisioning_handle_message(machine, agent->config,
                                                  keyprov_drbg_rng_callback, agent->rng, bytes,
                                                  len);
        progress++;
    }
    for (;;) {
        EXPECT_OK(keyprov_agent_provisioning_poll_event(machine, &event));
        if (event.kind == KEYPROV_AGENT_EVENT_NONE) {
            break;
        }
        answer_provisioning_event(agent, machine, &event, now);
        progress++;
    }
    for (;;) {
        EXPECT_OK(keyprov_agent_provisioning_poll_transmit(machine, bytes, sizeof bytes, &len));
        if (len == 0) {
            break;
        }
        queue_push(out, bytes, len);
        keyprov_secure_zero(bytes, len); /* the answer carries the device secret key */
        progress++;
    }
    return progress;
}

/* Moves every key request of one registrar connection one step on. */
int agent_key_service_pump(agent_host *agent, keyprov_agent_key_service *machine, queue *in,
                           queue *out, uint64_t now) {
    static uint8_t bytes[MAX_MESSAGE];
    keyprov_agent_event event;
    keyprov_key_check check;
    size_t len;
    int progress = 0;
    while (queue_pop(in, bytes, &len)) {
        EXPECT_OK(keyprov_agent_key_service_handle_message(machine, agent->config, bytes, len));
        progress++;
    }
    for (;;) {
        EXPECT_OK(keyprov_agent_key_service_poll_event(machine, &event));
        if (event.kind == KEYPROV_AGENT_EVENT_NONE) {
            break;
        }
        EXPECT(event.kind == KEYPROV_AGENT_EVENT_CHECK_KEY);
        EXPECT(event.service_len == 15 && memcmp(event.service, "sip.example.com", 15) == 0);
        memset(&check, 0, sizeof check);
        check.authorized = 1;
        check.status = KEYPROV_KEY_STATUS_CURRENT;
        check.not_after = now + 86400;
        EXPECT_OK(keyprov_agent_key_service_handle_check_result(machine, agent->config, now,
                                                                event.handle, &check));
        progress++;
    }
    for (;;) {
        EXPECT_OK(keyprov_agent_key_service_poll_transmit(machine, bytes, sizeof bytes, &len));
        if (len == 0) {
            break;
        }
        queue_push(out, bytes, len);
        keyprov_secure_zero(bytes, len);
        progress++;
    }
    return progress;
}

void agent_host_free(agent_host *agent) {
    keyprov_agent_config_free(agent->config);
    keyprov_drbg_free(agent->rng);
}
