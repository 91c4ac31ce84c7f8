#!/usr/bin/env bash
# The key schedule's vectors and the HMAC_DRBG records, recomputed by independent Python code
# (hashlib and hmac only, from the specifications).
set -euo pipefail
if ! command -v python3 >/dev/null; then
    apt-get update
    apt-get install -y --no-install-recommends python3
fi
python3 tests/python/check_drbg_vectors.py
python3 tests/python/check_derivations.py
