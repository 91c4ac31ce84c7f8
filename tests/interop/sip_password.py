#!/usr/bin/env python3
"""Prints the SIP Digest username and password of a provisioned phone, for one realm.

Reads the phone example's credentials file (key_id=, secret= lines) and derives the password
with the independent Python key schedule in tests/python/check_derivations.py (written from
docs/protocol.md section 4, hashlib and hmac only), not with keyprov itself, so a registration
that succeeds with it shows the registrar and the specification agree.

Usage: sip_password.py CREDENTIALS_FILE REALM   ->   "KEY_ID PASSWORD" on one line
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
from check_derivations import (  # noqa: E402
    LABEL_AUTHENTICATION_KEY,
    LABEL_SERVICE_KEY,
    derive,
    digest_password,
)


def fields(path: str) -> dict:
    values = {}
    with open(path, encoding="ascii") as file:
        for line in file:
            name, sep, value = line.strip().partition("=")
            if sep and not name.startswith("#"):
                values[name] = value
    return values


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    values = fields(sys.argv[1])
    device_key = bytes.fromhex(values["secret"])
    authentication_key = derive(device_key, LABEL_AUTHENTICATION_KEY)
    service_key = derive(authentication_key, LABEL_SERVICE_KEY, sys.argv[2].encode())
    print(values["key_id"], digest_password(service_key))
    return 0


if __name__ == "__main__":
    sys.exit(main())
