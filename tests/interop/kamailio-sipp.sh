#!/usr/bin/env bash
# SIPp 3.6 (Digest MD5) against stock Kamailio with fixed test credentials: proves the SIPp
# scenarios and the Kamailio configuration before they are pointed at keyprov.
#   1. right password accepted over UDP and TCP, wrong password refused;
#   2. a captured Authorization replayed in a new transaction is refused while Kamailio tracks
#      nonce use (nonce_count, one_time_nonce);
#   3. the same replay is accepted when that tracking is off, which shows the replay request is
#      well formed and the refusal in 2 comes from the replay protection.
source "$(dirname "$0")/lib.sh"
kp_scratch kamailio-sipp

KP_REALM=keyprov.test
user=interop-alice
password=fixed-test-password-1

kp_ha1 MD5 "${user}" "${KP_REALM}" "${password}" | sed "s/^/${user} /" |
    kp_dbtext_subscribers "${KP_SCRATCH}/db"

port=$(kp_free_port)
kp_kamailio_start "${KP_SCRATCH}/db" "${port}" MD5 1 "${KP_SCRATCH}/kamailio.log"
kp_sipp_register_suite kamailio "${port}" "${user}" "${password}" "${KP_REALM}"
kp_check "kamailio: its log shows the refusals were authentication failures" \
    grep -q 'kp-auth: refused user=interop-alice rc=-2' "${KP_SCRATCH}/kamailio.log"
kp_check "kamailio: its log shows the replay was refused as a stale nonce (rc -4)" \
    grep -q 'kp-auth: refused user=interop-alice rc=-4' "${KP_SCRATCH}/kamailio.log"
kp_kamailio_stop

port=$(kp_free_port)
kp_kamailio_start "${KP_SCRATCH}/db" "${port}" MD5 0 "${KP_SCRATCH}/kamailio-noreplay.log"
kp_check "control: SIPp registers against Kamailio without nonce tracking" \
    kp_sipp control-ok register-ok.xml "${port}" -s "${user}" -set domain "${KP_REALM}" \
    -auth_uri "${KP_REALM}" -au "${user}" -ap "${password}"
sleep 2
kp_check "control: without nonce tracking the same replay is accepted" \
    kp_sipp control-replay replay-accepted.xml "${port}" -s "${user}" \
    -set domain "${KP_REALM}" -set auth "$(kp_sipp_authorization control-ok)"
kp_kamailio_stop

kp_summary
