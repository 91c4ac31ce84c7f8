/* The hosts around the three role state machines, as a phone, an agent and a registrar would
 * write them in C, and the in-memory links that stand in for TLS sessions and datagrams. */
#ifndef KEYPROV_EXAMPLES_ROLES_H
#define KEYPROV_EXAMPLES_ROLES_H

#include "check.h"

#define MAX_MESSAGE 4096
#define QUEUE_SLOTS 8

/* Messages in flight in one direction. */
typedef struct queue {
    uint8_t data[QUEUE_SLOTS][MAX_MESSAGE];
    size_t len[QUEUE_SLOTS];
    size_t head, count;
} queue;

void queue_push(queue *q, const uint8_t *bytes, size_t len);
/* Takes the oldest message into `bytes`; returns 0 when the queue is empty. */
int queue_pop(queue *q, uint8_t *bytes, size_t *len);

/* A random source for the library: a DRBG seeded with a fixed byte, for reproducible runs. */
keyprov_drbg *seeded_generator(uint8_t fill);

/* agent.c: the key generating agent's host. */
typedef struct agent_host {
    keyprov_agent_config *config;
    keyprov_drbg *rng;
    uint32_t next_counter;      /* the durable counter of the one device of this example */
    uint8_t alice_verifier[32]; /* the directory: one user */
    uint32_t issued;
} agent_host;

void agent_host_init(agent_host *agent, const uint8_t identity[32]);
int agent_provisioning_pump(agent_host *agent, keyprov_agent_provisioning *machine, queue *in,
                            queue *out, uint64_t now);
int agent_key_service_pump(agent_host *agent, keyprov_agent_key_service *machine, queue *in,
                           queue *out, uint64_t now);
void agent_host_free(agent_host *agent);

/* phone.c: the device's host. */
typedef struct phone_host {
    keyprov_drbg *rng;
    uint8_t key_id[KEYPROV_KEY_ID_MAX_LEN];
    size_t key_id_len;
    uint8_t secret_key[KEYPROV_KEY_LEN]; /* what the phone keeps in its secure storage */
    uint8_t authentication_key[KEYPROV_KEY_LEN];
    uint8_t send_key[KEYPROV_KEY_LEN], receive_key[KEYPROV_KEY_LEN];
    int provisioned, registered;
    keyprov_result failure;
} phone_host;

void phone_host_init(phone_host *phone);
int phone_provisioning_pump(phone_host *phone, keyprov_device_provisioning *machine, queue *in,
                            queue *out, uint64_t now);
int phone_registration_pump(phone_host *phone, keyprov_device_registration *machine, queue *in,
                            queue *out);
void phone_host_free(phone_host *phone);

/* registrar.c: the registrar's host, which fetches keys from the agent over its own link. */
typedef struct registrar_host {
    keyprov_registrar *registrar;
    keyprov_key_client *client;
    keyprov_drbg *rng;
    uint64_t pending_handle; /* the session's key fetch in flight */
    uint32_t pending_request;
    int fetching, fetches, registered;
    keyprov_result failure;
    uint8_t send_key[KEYPROV_KEY_LEN], receive_key[KEYPROV_KEY_LEN];
} registrar_host;

void registrar_host_init(registrar_host *host, const char *service);
int registrar_session_pump(registrar_host *host, keyprov_registrar_session *session, queue *in,
                           queue *out, queue *to_agent, queue *from_agent, uint64_t now);
void registrar_host_free(registrar_host *host);

#endif
