#!/usr/bin/env bash
# Independent check of the key identifier vectors with a Python implementation of the spec.
set -euo pipefail
if ! command -v python3 >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq python3 >/dev/null
fi
python3 tests/python/check_keyid.py
