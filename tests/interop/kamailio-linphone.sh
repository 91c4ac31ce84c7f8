#!/usr/bin/env bash
# linphonec (liblinphone 5.1, Digest SHA-256, MD5 refused by its policy) against stock
# Kamailio challenging with SHA-256 only, fixed test credentials stored as SHA-256 HA1 in
# db_text: success over UDP and TCP, then a wrong password refused. A last run against
# Kamailio challenging with MD5 shows linphone does not register there, so the success above
# needed SHA-256.
source "$(dirname "$0")/lib.sh"
kp_scratch kamailio-linphone

KP_REALM=keyprov.test
user=interop-bob
password=fixed-test-password-2

kp_ha1 SHA-256 "${user}" "${KP_REALM}" "${password}" | sed "s/^/${user} /" |
    kp_dbtext_subscribers "${KP_SCRATCH}/db-sha256"
port=$(kp_free_port)
kp_kamailio_start "${KP_SCRATCH}/db-sha256" "${port}" SHA-256 1 "${KP_SCRATCH}/kamailio.log"
kp_linphone_register_suite kamailio "${port}" "${user}" "${password}" "${KP_REALM}"
kp_kamailio_stop

kp_ha1 MD5 "${user}" "${KP_REALM}" "${password}" | sed "s/^/${user} /" |
    kp_dbtext_subscribers "${KP_SCRATCH}/db-md5"
port=$(kp_free_port)
kp_kamailio_start "${KP_SCRATCH}/db-md5" "${port}" MD5 1 "${KP_SCRATCH}/kamailio-md5.log"
kp_linphone_register control-md5 "${port}" udp "${user}" "${KP_REALM}" "${password}"
kp_check "control: linphone does not register against an MD5-only challenge" \
    kp_not kp_linphone_state_is registered
kp_check "control: Kamailio challenged it with MD5" \
    grep -q '^WWW-Authenticate:.*algorithm=MD5' "${KP_SCRATCH}/control-md5/linphone.log"
kp_check "control: linphone sent no credentials in answer" \
    kp_not grep -q '^Authorization:' "${KP_SCRATCH}/control-md5/linphone.log"
kp_kamailio_stop

kp_summary
