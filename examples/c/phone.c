/* The phone's host: it stores what provisioning gives it and registers with it. */
#include "roles.h"

void phone_host_init(phone_host *phone) {
    memset(phone, 0, sizeof *phone);
    phone->rng = seeded_generator(0x5e);
}

static void on_event(phone_host *phone, keyprov_device_provisioning *provisioning,
                     const keyprov_device_event *event) {
    switch (event->kind) {
    case KEYPROV_DEVICE_EVENT_STORE_CREDENTIALS:
        /* A real phone writes these to flash before answering. */
        memcpy(phone->key_id, event->key_id, event->key_id_len);
        phone->key_id_len = event->key_id_len;
        memcpy(phone->secret_key, event->key, sizeof phone->secret_key);
        EXPECT_OK(keyprov_device_provisioning_handle_store_result(provisioning, event->handle,
                                                                  KEYPROV_OK));
        break;
    case KEYPROV_DEVICE_EVENT_CLOSE_SESSION:
        EXPECT_OK(keyprov_device_provisioning_handle_closed(provisioning));
        break;
    case KEYPROV_DEVICE_EVENT_PROVISIONED:
        memcpy(phone->authentication_key, event->key, sizeof phone->authentication_key);
        phone->provisioned = 1;
        break;
    case KEYPROV_DEVICE_EVENT_REGISTERED:
        memcpy(phone->send_key, event->send_key, sizeof phone->send_key);
        memcpy(phone->receive_key, event->receive_key, sizeof phone->receive_key);
        phone->registered = 1;
        break;
    case KEYPROV_DEVICE_EVENT_FAILED:
        phone->failure = event->error;
        break;
    default:
        fprintf(stderr, "phone: unexpected event %u\n", (unsigned)event->kind);
        exit(1);
    }
}

int phone_provisioning_pump(phone_host *phone, keyprov_device_provisioning *machine, queue *in,
                            queue *out, uint64_t now) {
    static uint8_t bytes[MAX_MESSAGE];
    keyprov_device_event event;
    size_t len;
    int progress = 0;
    while (queue_pop(in, bytes, &len)) {
        keyprov_device_provisioning_handle_message(machine, now, bytes, len);
        keyprov_secure_zero(bytes, len);
        progress++;
    }
    for (;;) {
        EXPECT_OK(keyprov_device_provisioning_poll_event(machine, &event));
        if (event.kind == KEYPROV_DEVICE_EVENT_NONE) {
            break;
        }
        on_event(phone, machine, &event);
        keyprov_secure_zero(&event, sizeof event);
        progress++;
    }
    for (;;) {
        EXPECT_OK(keyprov_device_provisioning_poll_transmit(machine, bytes, sizeof bytes, &len));
        if (len == 0) {
            break;
        }
        queue_push(out, bytes, len);
        progress++;
    }
    return progress;
}

int phone_registration_pump(phone_host *phone, keyprov_device_registration *machine, queue *in,
                            queue *out) {
    static uint8_t bytes[MAX_MESSAGE];
    keyprov_device_event event;
    size_t len;
    int progress = 0;
    while (queue_pop(in, bytes, &len)) {
        keyprov_device_registration_handle_message(machine, bytes, len);
        progress++;
    }
    for (;;) {
        EXPECT_OK(keyprov_device_registration_poll_event(machine, &event));
        if (event.kind == KEYPROV_DEVICE_EVENT_NONE) {
            break;
        }
        on_event(phone, NULL, &event);
        keyprov_secure_zero(&event, sizeof event);
        progress++;
    }
    for (;;) {
        EXPECT_OK(keyprov_device_registration_poll_transmit(machine, bytes, sizeof bytes, &len));
        if (len == 0) {
            break;
        }
        queue_push(out, bytes, len);
        progress++;
    }
    return progress;
}

void phone_host_free(phone_host *phone) {
    keyprov_drbg_free(phone->rng);
    keyprov_secure_zero(phone, sizeof *phone);
}
