#!/usr/bin/env bash
# examples/c/phone_openssl.c against the keyprov agent and registrar examples: a phone written
# in C on OpenSSL (TLS 1.3, exporter channel binding, Digest hashes) and keyprov's C ABI (the
# provisioning protocol, the key identifier, the Digest password). Built here with
# -Wall -Wextra -Werror under AddressSanitizer and UndefinedBehaviorSanitizer.
#   1. it provisions over TLS and registers over SIP Digest (SHA-256); with a credentials file
#      it registers again on the stored key; the password of another service is refused;
#   2. with a user PIN it provisions and registers; a wrong PIN is refused by the agent;
#   3. a trust anchor that is not the agent's, a CA that did not sign the agent's certificate
#      and a device the agent does not know each stop it before any key is issued.
# KEYPROV_PREFIX names an installed keyprov (bindings/c/install.sh); without it the script
# installs one into its scratch folder.
source "$(dirname "$0")/lib.sh"
kp_scratch keyprov-phone-c

kp_check "phone_openssl.c builds with -Wall -Wextra -Werror under ASan and UBSan" \
    kp_phone_c_build

KP_REALM=sip.example.test
kp_agent_start
port=$(kp_free_port)
kp_registrar_start "${port}" "${KP_SCRATCH}/registrar.log"

run_phone() {
    local label=$1 expected=$2
    shift 2
    kp_phone_c "${label}" "${expected}" "${port}" "$@"
}
anchor=(--agent-cert "${KP_PKI}/agent.pem")

kp_check "C phone: provisions over TLS and registers with SHA-256 Digest" \
    run_phone plain 0 "${anchor[@]}" --device sn:SNINTEROP04
kp_check "C phone: the registrar accepted the key identifier the agent issued" \
    kp_file_has "${KP_SCRATCH}/plain.out" \
    "^phone: REGISTER answered with Digest SHA-256: 200"
user=$(sed -n 's/^phone: provisioned as //p' "${KP_SCRATCH}/plain.out")
kp_check "C phone: the agent logged that key identifier for sn:SNINTEROP04" \
    grep -q "key_id=${user} device=sn:SNINTEROP04" "${KP_SCRATCH}/agent.log"

keys_before=$(grep -c 'key issued' "${KP_SCRATCH}/agent.log")
kp_check "C phone: with a credentials file it provisions, keeps the key and registers" \
    run_phone stored-1 0 "${anchor[@]}" --device sn:SNINTEROP01 \
    --credentials "${KP_SCRATCH}/c.cred"
kp_check "C phone: a second run registers with the stored key" \
    run_phone stored-2 0 "${anchor[@]}" --device sn:SNINTEROP01 \
    --credentials "${KP_SCRATCH}/c.cred"
kp_check "C phone: ... and the agent issued one key for both runs" \
    test "$(grep -c 'key issued' "${KP_SCRATCH}/agent.log")" -eq $((keys_before + 1))
kp_check "C phone: the credentials file is private to its owner" \
    test "$(stat -c %a "${KP_SCRATCH}/c.cred")" = 600

kp_check "C phone: a Digest password derived for another service is refused by the registrar" \
    run_phone other-service 2 "${anchor[@]}" --device sn:SNINTEROP02 --service other.example.test
kp_check "C phone: ... as a wrong response" \
    grep -q "outcome=WrongResponse" "${KP_SCRATCH}/registrar.log"

printf '2468\n' >"${KP_SCRATCH}/pin"
chmod 600 "${KP_SCRATCH}/pin"
kp_check "C phone: with the user's PIN it provisions and registers" \
    run_phone pin 0 "${anchor[@]}" --device sn:SNINTEROP05 --login interop05 \
    --pin-file "${KP_SCRATCH}/pin"
printf '1357\n' >"${KP_SCRATCH}/wrong-pin"
chmod 600 "${KP_SCRATCH}/wrong-pin"
kp_check "C phone: a wrong PIN is refused by the agent" \
    run_phone wrong-pin 3 "${anchor[@]}" --device sn:SNINTEROP05 --login interop05 \
    --pin-file "${KP_SCRATCH}/wrong-pin"

issued=$(grep -c 'key issued' "${KP_SCRATCH}/agent.log")
kp_check "C phone: a trust anchor other than the agent's certificate is refused" \
    run_phone wrong-anchor 3 --agent-cert "${KP_PKI}/ca.pem" --device sn:SNINTEROP03
kp_check "C phone: ... as an untrusted agent (keyprov result 307)" \
    kp_file_has "${KP_SCRATCH}/wrong-anchor.out" 'result 307: agent identity does not match'
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=other-ca \
    -days 1 -keyout "${KP_SCRATCH}/other-ca.key" -out "${KP_SCRATCH}/other-ca.pem" 2>/dev/null
kp_check "C phone: an agent certificate from another CA fails the TLS handshake" \
    run_phone other-ca 1 "${anchor[@]}" --ca "${KP_SCRATCH}/other-ca.pem" --device sn:SNINTEROP03
kp_check "C phone: a device the agent does not know is refused" \
    run_phone unknown 3 "${anchor[@]}" --device sn:SNUNKNOWN99
kp_check "C phone: none of the refused attempts got a key" \
    test "$(grep -c 'key issued' "${KP_SCRATCH}/agent.log")" -eq "${issued}"

kp_summary
