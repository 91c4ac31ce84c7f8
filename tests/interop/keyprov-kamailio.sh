#!/usr/bin/env bash
# Stock Kamailio (auth_db over db_text) authenticating keyprov-provisioned phones from the H(A1)
# tables the keyprov agent example exports (username = key identifier text, ha1 for the realm).
#   1. before the export, Kamailio refuses freshly provisioned keyprov phones (the phone
#      example in Rust and examples/c/phone_openssl.c);
#   2. the exported H(A1), MD5 and SHA-256, equals the one computed from the password that the
#      independent Python key schedule derives;
#   3. Kamailio challenging with SHA-256 over the SHA-256 export: the keyprov phone example
#      and the C phone register with their stored keys, and so does linphonec with the derived
#      password; a phone provisioned after the export is refused;
#   4. Kamailio challenging with MD5 over the MD5 export: SIPp registers with the derived
#      password over UDP and TCP; a wrong password and a replayed Authorization are refused;
#      the phone example and the C phone register as well.
source "$(dirname "$0")/lib.sh"
kp_scratch keyprov-kamailio

KP_REALM=sip.example.test
kp_agent_start

kp_dbtext_subscribers "${KP_SCRATCH}/db-empty" </dev/null
port=$(kp_free_port)
kp_kamailio_start "${KP_SCRATCH}/db-empty" "${port}" SHA-256 1 "${KP_SCRATCH}/kamailio-empty.log"
kp_check "before the export: Kamailio refuses a keyprov phone it has no H(A1) for" \
    kp_not kp_phone_once phone1 SNINTEROP02 "${port}"
kp_check "before the export: the phone was provisioned all the same" \
    kp_file_has "${KP_SCRATCH}/phone1.cred" '^key_id=kp1'
kp_check "the C phone builds (see keyprov-phone-c.sh)" kp_phone_c_build
c_phone=(--agent-cert "${KP_PKI}/agent.pem" --device sn:SNINTEROP04 \
    --credentials "${KP_SCRATCH}/cphone.cred")
kp_check "before the export: Kamailio refuses the C phone too (403, exit status 2)" \
    kp_phone_c cphone-empty 2 "${port}" "${c_phone[@]}"
kp_kamailio_stop

read -r user password < <(kp_sip_credentials phone1)
echo "   username ${user}"
for algo in MD5 SHA-256; do
    lower=${algo,,}
    "$(kp_bin agent)" export-ha1 --database "${KP_AGENT_DB}" --seed "${KP_SEED}" \
        --realm "${KP_REALM}" --algorithm "${lower}" --out "${KP_SCRATCH}/db-${lower}"
    expected=$(kp_ha1 "${algo}" "${user}" "${KP_REALM}" "${password}")
    row="^[0-9]+:${user}:${KP_REALM}:${expected}\$"
    kp_check "export ${algo}: the agent's H(A1) equals the independently computed one" \
        kp_file_has "${KP_SCRATCH}/db-${lower}/subscriber" "${row}"
    read -r c_user c_password < <(kp_sip_credentials cphone)
    expected=$(kp_ha1 "${algo}" "${c_user}" "${KP_REALM}" "${c_password}")
    row="^[0-9]+:${c_user}:${KP_REALM}:${expected}\$"
    kp_check "export ${algo}: ... also for the key the C phone keeps in its credentials file" \
        kp_file_has "${KP_SCRATCH}/db-${lower}/subscriber" "${row}"
done

port=$(kp_free_port)
kp_kamailio_start "${KP_SCRATCH}/db-sha-256" "${port}" SHA-256 1 "${KP_SCRATCH}/kamailio-sha.log"
kp_check "kamailio SHA-256: the keyprov phone example registers with its stored key" \
    kp_phone_once phone1-again SNINTEROP02 "${port}" phone1
kp_check "kamailio SHA-256: auth_db accepted the key identifier as username" \
    grep -q "kp-auth: accepted user=${user} realm=${KP_REALM}" "${KP_SCRATCH}/kamailio-sha.log"
kp_check "kamailio SHA-256: the phones reused their keys (one key each was issued)" \
    test "$(grep -c 'key issued' "${KP_SCRATCH}/agent.log")" -eq 2
kp_linphone_register keyprov-linphone "${port}" udp "${user}" "${KP_REALM}" "${password}"
kp_check "kamailio SHA-256: linphone registers with the derived password" \
    kp_linphone_state_is registered
kp_check "kamailio SHA-256: linphone answered with SHA-256" \
    kp_linphone_used_sha256 keyprov-linphone
kp_check "kamailio SHA-256: the C phone registers with its stored key" \
    kp_phone_c cphone-sha 0 "${port}" "${c_phone[@]}"
kp_check "kamailio SHA-256: ... answering with SHA-256" \
    kp_file_has "${KP_SCRATCH}/cphone-sha.out" 'Digest SHA-256: 200$'
kp_check "kamailio SHA-256: a phone provisioned after the export is refused" \
    kp_not kp_phone_once phone2 SNINTEROP03 "${port}"
kp_kamailio_stop

port=$(kp_free_port)
kp_kamailio_start "${KP_SCRATCH}/db-md5" "${port}" MD5 1 "${KP_SCRATCH}/kamailio-md5.log"
kp_sipp_register_suite kamailio-md5 "${port}" "${user}" "${password}" "${KP_REALM}"
kp_check "kamailio MD5: the keyprov phone example registers too (MD5 is all it is offered)" \
    kp_phone_once phone1-md5 SNINTEROP02 "${port}" phone1
kp_check "kamailio MD5: the C phone registers with MD5, the only algorithm offered" \
    kp_phone_c cphone-md5 0 "${port}" "${c_phone[@]}"
kp_check "kamailio MD5: ... answering with MD5" \
    kp_file_has "${KP_SCRATCH}/cphone-md5.out" 'Digest MD5: 200$'
kp_kamailio_stop

kp_summary
