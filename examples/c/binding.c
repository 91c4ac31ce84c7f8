/*
 * The TLS channel binding both provisioning sides report: a PIN proof is good for one session
 * only because it covers this value, so an empty or too short one (a host that forgot to pass
 * its exporter value) is refused on both sides, leaving the machine as it was.
 */
#include "check.h"

static const char DEVICE[] = "ext:0123";

int main(void) {
    keyprov_device_provisioning_config config;
    keyprov_device_provisioning *device = NULL;
    keyprov_agent_provisioning *agent = NULL;
    uint8_t anchor[32], binding[1025], bytes[512];
    size_t len = 0;
    memset(anchor, 0xa5, sizeof anchor);
    memset(binding, 0x3c, sizeof binding);

    memset(&config, 0, sizeof config);
    memcpy(config.trust_anchor, anchor, sizeof anchor);
    config.subject = KEYPROV_SUBJECT_DEVICE_ID;
    config.device_id = DEVICE;
    config.device_id_len = strlen(DEVICE);
    config.response_timeout = 30;
    EXPECT_OK(keyprov_device_provisioning_new(&config, &device));
    EXPECT_RESULT(keyprov_device_provisioning_handle_connected(device, 100, anchor, 32, NULL, 0),
                  KEYPROV_TOO_SHORT);
    EXPECT_RESULT(keyprov_device_provisioning_handle_connected(device, 100, anchor, 32, binding,
                                                               15),
                  KEYPROV_TOO_SHORT);
    EXPECT_RESULT(keyprov_device_provisioning_handle_connected(device, 100, anchor, 32, binding,
                                                               1025),
                  KEYPROV_TOO_LONG);
    EXPECT_OK(keyprov_device_provisioning_poll_transmit(device, bytes, sizeof bytes, &len));
    EXPECT(len == 0);
    EXPECT_OK(keyprov_device_provisioning_handle_connected(device, 100, anchor, 32, binding, 16));
    EXPECT_OK(keyprov_device_provisioning_poll_transmit(device, bytes, sizeof bytes, &len));
    EXPECT(len > 0);

    EXPECT_OK(keyprov_agent_provisioning_new(&agent));
    EXPECT_RESULT(keyprov_agent_provisioning_handle_connected(agent, NULL, 0), KEYPROV_TOO_SHORT);
    EXPECT_RESULT(keyprov_agent_provisioning_handle_connected(agent, binding, 1025),
                  KEYPROV_TOO_LONG);
    EXPECT_OK(keyprov_agent_provisioning_handle_connected(agent, binding, 1024));

    keyprov_agent_provisioning_free(agent);
    keyprov_device_provisioning_free(device);
    puts("binding: ok");
    return 0;
}
