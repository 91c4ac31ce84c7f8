# shellcheck shell=bash
# Helpers shared by the interoperability scripts in this folder. Source it, do not run it.
#
# Every script gets a fresh scratch folder, listens and connects on 127.0.0.1 only, bounds
# each program it starts with `timeout`, stops what it started on exit, and ends with the
# line "N passed, N failed" and a non-zero status when a check failed or none ran.
# KP_KEEP=1 keeps the scratch folder (its logs) after a passing run too.

set -euo pipefail

KP_INTEROP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KP_PASSED=0
KP_FAILED=0
KP_PIDS=()
KP_SCRATCH=

# Creates the scratch folder for the script called NAME and arranges the cleanup.
kp_scratch() {
    KP_SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/kp-interop-$1.XXXXXX")
    trap kp_cleanup EXIT
    echo "scratch folder: ${KP_SCRATCH}"
}

kp_cleanup() {
    local pid
    for pid in "${KP_PIDS[@]}"; do
        kill "${pid}" 2>/dev/null || true
    done
    for pid in "${KP_PIDS[@]}"; do
        wait "${pid}" 2>/dev/null || true
    done
    if [[ ${KP_FAILED} -eq 0 && -z ${KP_KEEP:-} ]]; then
        rm -rf "${KP_SCRATCH}"
    else
        echo "logs kept in ${KP_SCRATCH}"
    fi
}

# Remembers a background process so the cleanup stops it.
kp_track() {
    KP_PIDS+=("$1")
}

kp_pass() {
    KP_PASSED=$((KP_PASSED + 1))
    echo "PASS: $*"
}

kp_fail() {
    KP_FAILED=$((KP_FAILED + 1))
    echo "FAIL: $*"
}

# Runs a check: kp_check "what it shows" COMMAND ARGS...; the command's status decides.
kp_check() {
    local what=$1
    shift
    if "$@"; then
        kp_pass "${what}"
    else
        kp_fail "${what}"
    fi
}

# Prints the closing count line; fails when a check failed or when none ran.
kp_summary() {
    echo "${KP_PASSED} passed, ${KP_FAILED} failed"
    [[ ${KP_FAILED} -eq 0 && ${KP_PASSED} -gt 0 ]]
}

# A loopback port free for both UDP and TCP at the time of the call.
kp_free_port() {
    python3 - <<'EOF'
import socket
while True:
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    port = tcp.getsockname()[1]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        udp.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port)
    break
EOF
}

# Waits up to SECONDS for a TCP listener on 127.0.0.1:PORT.
kp_wait_tcp() {
    local port=$1 seconds=$2 tries
    for ((tries = 0; tries < seconds * 5; tries++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    echo "nothing listens on 127.0.0.1:${port} after ${seconds}s" >&2
    return 1
}

# HA1 = H(username ":" realm ":" password), computed with Python's hashlib (RFC 7616 3.4.2),
# independently of keyprov. ALGO is MD5 or SHA-256.
kp_ha1() {
    python3 - "$@" <<'EOF'
import hashlib, sys
algo, user, realm, password = sys.argv[1:5]
name = {"MD5": "md5", "SHA-256": "sha256"}[algo]
print(hashlib.new(name, f"{user}:{realm}:{password}".encode()).hexdigest())
EOF
}

# Writes db_text tables for Kamailio's auth_db into DIR: the `version` table and a
# `subscriber` table with one row per "USERNAME HA1" line read from standard input.
kp_dbtext_subscribers() {
    local dir=$1 id=0 user ha1
    mkdir -p "${dir}"
    printf 'id(int,auto) table_name(string) table_version(int) \n0:subscriber:7\n' \
        >"${dir}/version"
    printf 'id(int,auto) username(string) domain(string) ha1(string) \n' >"${dir}/subscriber"
    while read -r user ha1; do
        id=$((id + 1))
        printf '%s:%s:%s:%s\n' "${id}" "${user}" "${KP_REALM}" "${ha1}" >>"${dir}/subscriber"
    done
}

# Starts stock Kamailio with tests/interop/kamailio/kamailio.cfg on 127.0.0.1:PORT (UDP and
# TCP) over the db_text folder DBDIR. ALGO is MD5 or SHA-256; REPLAY is 1 (nonce use tracked)
# or 0. Logs go to LOG. Sets KP_KAMAILIO_PID.
kp_kamailio_start() {
    local dbdir=$1 port=$2 algo=$3 replay=$4 log=$5 rundir
    rundir=$(mktemp -d "${KP_SCRATCH}/kamailio-run.XXXXXX")
    timeout 600 kamailio -f "${KP_INTEROP_DIR}/kamailio/kamailio.cfg" -DD -E \
        -Y "${rundir}" -P "${rundir}/kamailio.pid" \
        -l "udp:127.0.0.1:${port}" -l "tcp:127.0.0.1:${port}" \
        -A "KP_DB_DIR=\"text://${dbdir}\"" -A "KP_REALM=\"${KP_REALM}\"" \
        -A "KP_ALGO=\"${algo}\"" -A "KP_SECRET=\"$(kp_random_hex)\"" -A "KP_REPLAY=${replay}" \
        >"${log}" 2>&1 &
    KP_KAMAILIO_PID=$!
    kp_track "${KP_KAMAILIO_PID}"
    kp_wait_tcp "${port}" 15
}

kp_kamailio_stop() {
    kill "${KP_KAMAILIO_PID}" 2>/dev/null || true
    wait "${KP_KAMAILIO_PID}" 2>/dev/null || true
}

kp_random_hex() {
    python3 -c 'import secrets; print(secrets.token_hex(16))'
}

# Runs one SIPp scenario once against 127.0.0.1:PORT: kp_sipp NAME SCENARIO PORT ARGS...
# Its messages go to NAME.msg and its output to NAME.out in the scratch folder. The status is
# SIPp's: 0 when the scenario ran to its end, non-zero on an unexpected message or a timeout.
kp_sipp() {
    local name=$1 scenario=$2 port=$3
    shift 3
    timeout 40 sipp "127.0.0.1:${port}" -sf "${KP_INTEROP_DIR}/sipp/${scenario}" \
        -m 1 -nostdin -timeout 20s -timeout_error -i 127.0.0.1 -p 0 \
        -trace_msg -message_file "${KP_SCRATCH}/${name}.msg" \
        -trace_err -error_file "${KP_SCRATCH}/${name}.err" \
        "$@" >"${KP_SCRATCH}/${name}.out" 2>&1
}

# The value of the last Authorization header SIPp sent in the run NAME.
kp_sipp_authorization() {
    grep '^Authorization:' "${KP_SCRATCH}/$1.msg" | tail -n 1 | sed 's/^Authorization: *//' |
        tr -d '\r'
}

# The status codes of the responses SIPp received in the run NAME, in order, one a line.
kp_sipp_statuses() {
    grep -a '^SIP/2.0 [0-9]' "${KP_SCRATCH}/$1.msg" | awk '{print $2}' | tr '\n' ' '
}

# The same text with its last character changed: a wrong password of the right shape.
kp_wrong_password() {
    local password=$1 last=${1: -1}
    if [[ ${last} == A ]]; then
        printf '%sB' "${password%?}"
    else
        printf '%sA' "${password%?}"
    fi
}

# SIPp against a registrar on 127.0.0.1:PORT that knows USER with PASSWORD in realm DOMAIN:
# success over UDP and TCP, a wrong password refused, a captured Authorization replayed in a
# new transaction refused.
kp_sipp_register_suite() {
    local label=$1 port=$2 user=$3 password=$4 domain=$5 wrong captured
    local common=(-s "${user}" -set domain "${domain}" -auth_uri "${domain}")
    wrong=$(kp_wrong_password "${password}")

    kp_check "${label}: SIPp registers over UDP with the right password (MD5)" \
        kp_sipp "${label}-ok-udp" register-ok.xml "${port}" "${common[@]}" \
        -au "${user}" -ap "${password}"
    echo "   responses: $(kp_sipp_statuses "${label}-ok-udp")"
    kp_check "${label}: SIPp registers over TCP with the right password (MD5)" \
        kp_sipp "${label}-ok-tcp" register-ok.xml "${port}" -t t1 "${common[@]}" \
        -au "${user}" -ap "${password}"
    kp_check "${label}: a wrong password is refused" \
        kp_sipp "${label}-wrong" register-refused.xml "${port}" "${common[@]}" \
        -au "${user}" -ap "${wrong}"
    echo "   responses: $(kp_sipp_statuses "${label}-wrong")"
    kp_check "${label}: the success scenario itself fails on a wrong password" \
        kp_not kp_sipp "${label}-wrong-as-ok" register-ok.xml "${port}" "${common[@]}" \
        -au "${user}" -ap "${wrong}"

    captured=$(kp_sipp_authorization "${label}-ok-udp")
    kp_check "${label}: an Authorization with MD5 was captured" \
        kp_matches "${captured}" 'algorithm=MD5'
    # Later than the transaction layer's memory, and as a new transaction with a new Call-ID.
    sleep 2
    kp_check "${label}: the captured Authorization replayed later is refused" \
        kp_replay_refused "${label}" "${port}" "${captured}" "${common[@]}"
    echo "   responses: $(kp_sipp_statuses "${label}-replay")"
}

# Replays CAPTURED in a new transaction; true when it is refused. A replay only means
# something when the registration it was captured from succeeded, so that is required too.
kp_replay_refused() {
    local label=$1 port=$2 captured=$3
    shift 3
    if ! grep -q '^SIP/2.0 200' "${KP_SCRATCH}/${label}-ok-udp.msg"; then
        echo "   the captured registration did not succeed: nothing to replay" >&2
        return 1
    fi
    kp_sipp "${label}-replay" replay-refused.xml "${port}" "$@" -set auth "${captured}"
}

# Inverts a command's status: for checks that something fails.
kp_not() {
    ! "$@"
}

# True when TEXT contains the extended regular expression PATTERN.
kp_matches() {
    grep -Eq -- "$2" <<<"$1"
}

# Registers linphonec (liblinphone) once at 127.0.0.1:PORT over TRANSPORT (udp or tcp) as
# USER@DOMAIN with PASSWORD: kp_linphone_register LABEL PORT TRANSPORT USER DOMAIN PASSWORD.
# MD5 is refused by its digest policy, so only a SHA-256 challenge can succeed. It stops at
# the first "registered" status, at a refusal of its credentials, or after 15 seconds.
# Files in LABEL/ of the scratch folder: linphonerc, linphone.log, console.
# Sets KP_LINPHONE_STATE to registered, refused or timeout.
kp_linphone_register() {
    local label=$1 port=$2 transport=$3 user=$4 domain=$5 password=$6
    local dir="${KP_SCRATCH}/${label}" pid tick udp_port=-1 tcp_port=0
    mkdir -p "${dir}"/{home,config,data,cache,run}
    if [[ ${transport} == tcp ]]; then
        udp_port=0
        tcp_port=-1
    fi
    # Rendered fresh for every run: linphone rewrites its configuration when it exits.
    cat >"${dir}/linphonerc" <<RC
[sip]
sip_port=${udp_port}
sip_tcp_port=${tcp_port}
sip_tls_port=0
bind_address=127.0.0.1
register_only_when_network_is_up=0
default_proxy=0

[net]
ipv6=0

[storage]
uri=${dir}/linphone.db

[proxy_0]
reg_proxy=<sip:127.0.0.1:${port};transport=${transport}>
reg_identity=sip:${user}@${domain}
reg_expires=300
reg_sendregister=1
publish=0

[auth_info_0]
username=${user}
passwd=${password}
realm=${KP_REALM}
domain=${domain}

[digest_authentication_policy]
allow_md5=0
RC
    mkfifo "${dir}/stdin"
    # Opened read-write so that neither side blocks on open.
    exec {fifo}<>"${dir}/stdin"
    HOME="${dir}/home" XDG_CONFIG_HOME="${dir}/config" XDG_DATA_HOME="${dir}/data" \
        XDG_CACHE_HOME="${dir}/cache" XDG_RUNTIME_DIR="${dir}/run" \
        PULSE_RUNTIME_PATH="${dir}/run/pulse" PULSE_STATE_PATH="${dir}/run/pulse" \
        timeout 40 linphonec -c "${dir}/linphonerc" -d 6 -l "${dir}/linphone.log" \
        <&"${fifo}" >"${dir}/console" 2>&1 &
    pid=$!
    kp_track "${pid}"

    KP_LINPHONE_STATE=timeout
    for ((tick = 0; tick < 30; tick++)); do
        sleep 0.5
        echo "status register" >&"${fifo}"
        if grep -q '^registered,' "${dir}/console"; then
            KP_LINPHONE_STATE=registered
            break
        fi
        if kp_linphone_refused "${dir}/linphone.log"; then
            KP_LINPHONE_STATE=refused
            break
        fi
    done
    echo quit >&"${fifo}"
    for ((tick = 0; tick < 10 && $(kp_alive "${pid}"); tick++)); do
        sleep 0.5
    done
    kill "${pid}" 2>/dev/null || true
    wait "${pid}" 2>/dev/null || true
    exec {fifo}>&-
    echo "   linphone ${label}: ${KP_LINPHONE_STATE}"
}

kp_alive() {
    if kill -0 "$1" 2>/dev/null; then echo 1; else echo 0; fi
}

# True when LOG shows a REGISTER with an Authorization header answered by 401 or 403.
kp_linphone_refused() {
    [[ -f $1 ]] && awk '
        /^Authorization:/ { sent = 1 }
        sent && /^SIP\/2\.0 (401|403) / { found = 1 }
        END { exit !found }' "$1"
}

# True when linphone's log for LABEL shows it answered with SHA-256 and never with MD5.
kp_linphone_used_sha256() {
    local log="${KP_SCRATCH}/$1/linphone.log"
    grep -q '^Authorization:.*algorithm=SHA-256' "${log}" &&
        ! grep -q '^Authorization:.*algorithm=MD5' "${log}"
}

kp_linphone_state_is() {
    [[ ${KP_LINPHONE_STATE} == "$1" ]]
}

# linphonec against a registrar on 127.0.0.1:PORT that knows USER with PASSWORD and
# challenges with SHA-256: success over UDP and TCP, then a wrong password refused.
kp_linphone_register_suite() {
    local label=$1 port=$2 user=$3 password=$4 domain=$5 transport
    for transport in udp tcp; do
        kp_linphone_register "${label}-ok-${transport}" "${port}" "${transport}" "${user}" \
            "${domain}" "${password}"
        kp_check "${label}: linphone registers over ${transport} with the right password" \
            kp_linphone_state_is registered
        kp_check "${label}: linphone answered the challenge with SHA-256 over ${transport}" \
            kp_linphone_used_sha256 "${label}-ok-${transport}"
    done
    kp_linphone_register "${label}-wrong" "${port}" udp "${user}" "${domain}" \
        "$(kp_wrong_password "${password}")"
    kp_check "${label}: linphone with a wrong password is refused" \
        kp_linphone_state_is refused
}

# ---------------------------------------------------------------- keyprov example services

# Where the example services' binaries (agent, registrar, phone) are: KP_BIN_DIR, or the debug
# folder of CARGO_TARGET_DIR, or of target/ in the repository.
kp_bin() {
    local repo
    repo=$(cd "${KP_INTEROP_DIR}/../.." && pwd)
    echo "${KP_BIN_DIR:-${CARGO_TARGET_DIR:-${repo}/target}/debug}/$1"
}

# Starts the keyprov agent example with a new seed, a demonstration PKI for KP_REALM and the
# phones of tests/interop/inventory.csv. Sets KP_AGENT_DEVICE_PORT, KP_AGENT_REGISTRAR_PORT,
# KP_PKI (folder), KP_SEED and KP_AGENT_DB.
kp_agent_start() {
    KP_PKI="${KP_SCRATCH}/pki"
    KP_SEED="${KP_SCRATCH}/master.seed"
    KP_AGENT_DB="${KP_SCRATCH}/agent.sqlite"
    KP_AGENT_DEVICE_PORT=$(kp_free_port)
    KP_AGENT_REGISTRAR_PORT=$(kp_free_port)
    "$(kp_bin agent)" new-seed "${KP_SEED}"
    timeout 600 "$(kp_bin agent)" serve --seed "${KP_SEED}" --database "${KP_AGENT_DB}" \
        --inventory "${KP_INTEROP_DIR}/inventory.csv" \
        --device-listen "127.0.0.1:${KP_AGENT_DEVICE_PORT}" \
        --registrar-listen "127.0.0.1:${KP_AGENT_REGISTRAR_PORT}" \
        --generate-demo-pki "${KP_PKI}" --demo-realm "${KP_REALM}" \
        >"${KP_SCRATCH}/agent.log" 2>&1 &
    kp_track $!
    kp_wait_tcp "${KP_AGENT_DEVICE_PORT}" 30 && kp_wait_tcp "${KP_AGENT_REGISTRAR_PORT}" 5
}

# Starts the keyprov registrar example for KP_REALM on 127.0.0.1:PORT (UDP and TCP), logging to
# LOG; further arguments go to the registrar (e.g. --allow-md5). Sets KP_REGISTRAR_PID.
kp_registrar_start() {
    local port=$1 log=$2
    shift 2
    timeout 600 "$(kp_bin registrar)" --listen "127.0.0.1:${port}" --realm "${KP_REALM}" \
        --agent "127.0.0.1:${KP_AGENT_REGISTRAR_PORT}" --ca "${KP_PKI}/ca.pem" \
        --cert "${KP_PKI}/registrar-${KP_REALM}.pem" --key "${KP_PKI}/registrar-${KP_REALM}.key" \
        --log info "$@" >"${log}" 2>&1 &
    KP_REGISTRAR_PID=$!
    kp_track "${KP_REGISTRAR_PID}"
    kp_wait_tcp "${port}" 30
}

# Runs the keyprov phone example once: provisions SERIAL from the agent when CREDS.cred (CREDS
# defaults to LABEL) holds no valid key, then registers with the registrar at 127.0.0.1:PORT
# over UDP: kp_phone_once LABEL SERIAL PORT [CREDS]. Output in LABEL.log; the status is the
# phone's.
kp_phone_once() {
    local label=$1 serial=$2 port=$3 creds=${4:-$1}
    timeout 60 "$(kp_bin phone)" --agent "127.0.0.1:${KP_AGENT_DEVICE_PORT}" \
        --ca "${KP_PKI}/ca.pem" --agent-cert "${KP_PKI}/agent.pem" --serial "${serial}" \
        --credentials "${KP_SCRATCH}/${creds}.cred" --registrar "127.0.0.1:${port}" \
        --realm "${KP_REALM}" --once --log info >"${KP_SCRATCH}/${label}.log" 2>&1
}

# "KEY_ID PASSWORD" of the phone LABEL for KP_REALM, derived by the independent Python key
# schedule from the phone's credentials file.
kp_sip_credentials() {
    python3 "${KP_INTEROP_DIR}/sip_password.py" "${KP_SCRATCH}/$1.cred" "${KP_REALM}"
}

# True when FILE exists and holds a line matching PATTERN.
kp_file_has() {
    [[ -f $1 ]] && grep -Eq -- "$2" "$1"
}

# ---------------------------------------------------------------- the C phone

# Builds examples/c/phone_openssl.c into the scratch folder as KP_PHONE_C: C99, every warning
# an error, AddressSanitizer and UndefinedBehaviorSanitizer, against the keyprov installed at
# KEYPROV_PREFIX (bindings/c/install.sh), or installed into the scratch folder when unset.
kp_phone_c_build() {
    local repo prefix=${KEYPROV_PREFIX:-} cflags libs
    repo=$(cd "${KP_INTEROP_DIR}/../.." && pwd)
    if [[ -z ${prefix} ]]; then
        prefix="${KP_SCRATCH}/keyprov"
        "${repo}/bindings/c/install.sh" "${prefix}" >"${KP_SCRATCH}/install.log" 2>&1
    fi
    read -ra cflags < <(PKG_CONFIG_PATH="${prefix}/lib/pkgconfig" pkg-config --cflags keyprov)
    read -ra libs < <(PKG_CONFIG_PATH="${prefix}/lib/pkgconfig" pkg-config --libs keyprov)
    KP_PHONE_C="${KP_SCRATCH}/phone_openssl"
    cc -std=c99 -pedantic -Wall -Wextra -Werror -O1 -g -fno-omit-frame-pointer \
        -fsanitize=address,undefined -fno-sanitize-recover=all "${cflags[@]}" \
        -o "${KP_PHONE_C}" "${repo}/examples/c/phone_openssl.c" "${libs[@]}" \
        -Wl,-rpath,"${prefix}/lib" -lssl -lcrypto
}

# Runs the C phone against the agent and the registrar at 127.0.0.1:PORT for KP_REALM:
# kp_phone_c LABEL EXPECTED_STATUS PORT ARGS... True when it exits with EXPECTED_STATUS
# (0 registered, 2 refused by the registrar, 3 refused by the agent, 1 other) and no sanitizer
# reported anything. Its output goes to LABEL.out and, indented, to the terminal.
kp_phone_c() {
    local label=$1 expected=$2 port=$3 status=0
    shift 3
    ASAN_OPTIONS=detect_leaks=1 timeout 60 "${KP_PHONE_C}" \
        --agent "127.0.0.1:${KP_AGENT_DEVICE_PORT}" --ca "${KP_PKI}/ca.pem" \
        --registrar "127.0.0.1:${port}" --domain "${KP_REALM}" "$@" \
        >"${KP_SCRATCH}/${label}.out" 2>&1 || status=$?
    sed 's/^/   /' "${KP_SCRATCH}/${label}.out"
    ! grep -q 'Sanitizer' "${KP_SCRATCH}/${label}.out" && [[ ${status} -eq ${expected} ]]
}
