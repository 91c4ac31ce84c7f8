/* The registrar's host: sessions for registering phones, and key fetches from the agent. */
#include "roles.h"

void registrar_host_init(registrar_host *host, const char *service) {
    keyprov_registrar_config config;
    memset(host, 0, sizeof *host);
    config.service = (const uint8_t *)service;
    config.service_len = strlen(service);
    config.challenge_lifetime = 30;
    config.clock_window = 60;
    config.registration_lifetime = 3600;
    config.key_cache_capacity = 64;
    config.replay_cache_capacity = 64;
    EXPECT_OK(keyprov_registrar_new(&config, &host->registrar));
    EXPECT_OK(keyprov_key_client_new(&host->client));
    host->rng = seeded_generator(0x7e);
}

/* FETCH_KEY: ask the agent over the key client's connection. */
static void fetch(registrar_host *host, const keyprov_registrar_event *event) {
    static uint8_t bytes[MAX_MESSAGE];
    keyprov_key_id *key_id = NULL;
    EXPECT(!host->fetching);
    EXPECT_OK(keyprov_key_id_decode(event->key_id, event->key_id_len, &key_id));
    EXPECT_OK(keyprov_key_client_request(host->client, key_id, (const uint8_t *)"sip.example.com",
                                         15, event->login, event->login_len,
                                         &host->pending_request));
    keyprov_key_id_free(key_id);
    host->pending_handle = event->handle;
    host->fetching = 1;
    host->fetches++;
    (void)bytes;
}

static int key_client_pump(registrar_host *host, keyprov_registrar_session *session,
                           queue *to_agent, queue *from_agent, uint64_t now) {
    static uint8_t bytes[MAX_MESSAGE];
    keyprov_fetched_key key;
    keyprov_result key_result;
    uint32_t request;
    size_t len;
    int progress = 0;
    for (;;) {
        EXPECT_OK(keyprov_key_client_poll_transmit(host->client, bytes, sizeof bytes, &len));
        if (len == 0) {
            break;
        }
        queue_push(to_agent, bytes, len);
        progress++;
    }
    while (queue_pop(from_agent, bytes, &len)) {
        EXPECT_OK(keyprov_key_client_handle_message(host->client, bytes, len, &request,
                                                    &key_result, &key));
        keyprov_secure_zero(bytes, len);
        EXPECT(host->fetching && request == host->pending_request);
        keyprov_registrar_session_handle_key_result(session, host->registrar, now,
                                                    keyprov_drbg_rng_callback, host->rng,
                                                    host->pending_handle, key_result, &key);
        keyprov_secure_zero(&key, sizeof key);
        host->fetching = 0;
        progress++;
    }
    return progress;
}

int registrar_session_pump(registrar_host *host, keyprov_registrar_session *session, queue *in,
                           queue *out, queue *to_agent, queue *from_agent, uint64_t now) {
    static uint8_t bytes[MAX_MESSAGE];
    keyprov_registrar_event event;
    size_t len;
    int progress = 0;
    while (queue_pop(in, bytes, &len)) {
        keyprov_registrar_session_handle_message(session, host->registrar, now,
                                                 keyprov_drbg_rng_callback, host->rng, bytes,
                                                 len);
        progress++;
    }
    for (;;) {
        EXPECT_OK(keyprov_registrar_session_poll_event(session, &event));
        if (event.kind == KEYPROV_REGISTRAR_EVENT_NONE) {
            break;
        }
        if (event.kind == KEYPROV_REGISTRAR_EVENT_FETCH_KEY) {
            fetch(host, &event);
        } else if (event.kind == KEYPROV_REGISTRAR_EVENT_REGISTERED) {
            memcpy(host->send_key, event.send_key, sizeof host->send_key);
            memcpy(host->receive_key, event.receive_key, sizeof host->receive_key);
            host->registered = 1;
        } else if (event.kind == KEYPROV_REGISTRAR_EVENT_PIN_REJECTED) {
            /* A real registrar counts this guess towards the user's lockout. */
        } else {
            EXPECT(event.kind == KEYPROV_REGISTRAR_EVENT_FAILED);
            host->failure = event.error;
        }
        keyprov_secure_zero(&event, sizeof event);
        progress++;
    }
    progress += key_client_pump(host, session, to_agent, from_agent, now);
    for (;;) {
        EXPECT_OK(keyprov_registrar_session_poll_transmit(session, bytes, sizeof bytes, &len));
        if (len == 0) {
            break;
        }
        queue_push(out, bytes, len);
        progress++;
    }
    return progress;
}

void registrar_host_free(registrar_host *host) {
    keyprov_key_client_free(host->client);
    keyprov_registrar_free(host->registrar);
    keyprov_drbg_free(host->rng);
}
