#!/usr/bin/env bash
# Interoperability with SIP software keyprov did not write: SIPp, linphone and stock Kamailio,
# against each other and against keyprov's example services, all on loopback. Installs the
# Debian packages it needs when they are missing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

missing=()
command -v kamailio >/dev/null || missing+=(kamailio)
command -v sipp >/dev/null || missing+=(sip-tester)
command -v linphonec >/dev/null || missing+=(linphone-cli)
command -v python3 >/dev/null || missing+=(python3)
command -v timeout >/dev/null || missing+=(coreutils)
command -v openssl >/dev/null || missing+=(openssl)
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v cc >/dev/null || missing+=(gcc libc6-dev)
[[ -f /usr/include/openssl/ssl.h ]] || missing+=(libssl-dev)
if [[ ${#missing[@]} -gt 0 ]]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
{ kamailio -v || true; } | head -n 1
{ sipp -v || true; } | grep -m 1 SIPp
{ linphonec --version || true; } 2>&1 | head -n 1

# The agent, registrar and phone examples the keyprov scripts run, and an installed keyprov C
# library for the C phone (examples/c/phone_openssl.c), which the scripts build themselves.
cargo build --quiet -p keyprov-services --bins
KEYPROV_PREFIX=$(mktemp -d)
trap 'rm -rf "${KEYPROV_PREFIX}"' EXIT
bindings/c/install.sh "${KEYPROV_PREFIX}" >/dev/null
export KEYPROV_PREFIX

bash tests/interop/run-all.sh
