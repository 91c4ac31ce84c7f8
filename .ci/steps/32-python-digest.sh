#!/usr/bin/env bash
# HTTP/SIP Digest vectors recomputed by an independent Python implementation (hashlib only),
# which first checks that hashlib's sha512_256 is FIPS 180-4 SHA-512/256 and that the published
# RFC 7616 and RFC 2617 responses come out.
set -euo pipefail
if ! command -v python3 >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends python3 >/dev/null
fi
python3 tests/python/check_digest.py
