#!/usr/bin/env bash
# Third-party clients against the keyprov registrar example, with credentials the keyprov agent
# example issued: the phone example provisions (username = key identifier text, password =
# keyprov Digest password), and the password is derived again by the independent Python key
# schedule, never taken from keyprov.
#   1. linphonec registers with them over UDP and TCP, answering with SHA-256 (the registrar's
#      default offers nothing else); a wrong password is refused;
#   2. an Authorization captured from linphone's accepted registration, replayed later by SIPp
#      in a new transaction, is refused;
#   3. with --allow-md5 the registrar offers SHA-256 first and MD5 second, and linphonec still
#      answers with SHA-256; SIPp, which answers only the first challenge and only with MD5,
#      cannot register there;
#   4. with --digest-algorithms md5 SIPp registers over UDP and TCP; a wrong password is
#      refused; its accepted Authorization, replayed later in a new transaction, is refused
#      as a replay.
source "$(dirname "$0")/lib.sh"
kp_scratch keyprov-registrar

KP_REALM=sip.example.test
kp_agent_start
port=$(kp_free_port)
kp_registrar_start "${port}" "${KP_SCRATCH}/registrar.log"

kp_check "keyprov: the phone example provisions and registers (its own client)" \
    kp_phone_once phone1 SNINTEROP01 "${port}"
read -r user password < <(kp_sip_credentials phone1)
echo "   username ${user}"
kp_check "keyprov: the username is the key identifier the agent issued" \
    grep -q "key_id=${user} device=sn:SNINTEROP01" "${KP_SCRATCH}/agent.log"

kp_linphone_register_suite keyprov "${port}" "${user}" "${password}" "${KP_REALM}"
kp_check "keyprov: the registrar logged the wrong password as a wrong response" \
    grep -q "key_id=\"${user}\" outcome=WrongResponse" \
    "${KP_SCRATCH}/registrar.log"

captured=$(grep -m 1 '^Authorization:' "${KP_SCRATCH}/keyprov-ok-udp/linphone.log" |
    sed 's/^Authorization: *//' | tr -d '\r')
kp_check "keyprov: linphone's accepted Authorization was captured (SHA-256)" \
    kp_matches "${captured}" "algorithm=SHA-256.*username=\"${user}\""
sleep 2
kp_check "keyprov: that Authorization replayed later by SIPp is refused" \
    kp_sipp keyprov-replay replay-refused.xml "${port}" -s "${user}" \
    -set domain "${KP_REALM}" -set auth "${captured}"
echo "   responses: $(kp_sipp_statuses keyprov-replay)"
kp_check "keyprov: the registrar logged it as a replay" \
    grep -q "key_id=\"${user}\" outcome=Replay" \
    "${KP_SCRATCH}/registrar.log"

md5_port=$(kp_free_port)
kp_registrar_start "${md5_port}" "${KP_SCRATCH}/registrar-md5.log" --allow-md5
kp_check "keyprov --allow-md5: SIPp cannot register (SHA-256 is the first challenge)" \
    kp_not kp_sipp keyprov-md5-offer register-ok.xml "${md5_port}" -s "${user}" \
    -set domain "${KP_REALM}" -auth_uri "${KP_REALM}" -au "${user}" -ap "${password}"
kp_check "keyprov --allow-md5: ... because it will not answer a SHA-256 challenge" \
    kp_file_has "${KP_SCRATCH}/keyprov-md5-offer.err" 'authentication must use MD5'
offers=$(grep -a '^WWW-Authenticate:' "${KP_SCRATCH}/keyprov-md5-offer.msg" |
    grep -o 'algorithm=[A-Z0-9-]*' | tr '\n' ' ')
echo "   challenge offers: ${offers}"
kp_check "keyprov --allow-md5: SHA-256 is offered first, MD5 second" \
    kp_matches "${offers}" '^algorithm=SHA-256 algorithm=MD5 $'
kp_linphone_register keyprov-md5-offer "${md5_port}" udp "${user}" "${KP_REALM}" "${password}"
kp_check "keyprov --allow-md5: linphone still registers, answering with SHA-256" \
    kp_linphone_state_is registered
kp_check "keyprov --allow-md5: ... and never with MD5" \
    kp_linphone_used_sha256 keyprov-md5-offer

md5_only_port=$(kp_free_port)
md5_only_log="${KP_SCRATCH}/registrar-md5-only.log"
kp_registrar_start "${md5_only_port}" "${md5_only_log}" --digest-algorithms md5
kp_sipp_register_suite keyprov-md5-only "${md5_only_port}" "${user}" "${password}" "${KP_REALM}"
offers=$(grep -a '^WWW-Authenticate:' "${KP_SCRATCH}/keyprov-md5-only-ok-udp.msg" |
    grep -o 'algorithm=[A-Z0-9-]*' | tr '\n' ' ')
echo "   challenge offers: ${offers}"
kp_check "keyprov --digest-algorithms md5: the challenge offers MD5 alone" \
    kp_matches "${offers}" '^algorithm=MD5 $'
kp_check "keyprov --digest-algorithms md5: the registrar logged the wrong password" \
    kp_file_has "${md5_only_log}" "key_id=\"${user}\" outcome=WrongResponse"
kp_check "keyprov --digest-algorithms md5: the replay was answered with a stale challenge" \
    kp_file_has "${KP_SCRATCH}/keyprov-md5-only-replay.msg" '^WWW-Authenticate:.*stale=true'
kp_check "keyprov --digest-algorithms md5: the registrar logged the replay as a replay" \
    kp_file_has "${md5_only_log}" "key_id=\"${user}\" outcome=Replay"

kp_summary
