#!/usr/bin/env python3
"""Recomputes every value of tests/vectors/derivations.json from its inputs.

An implementation of the keyprov key schedule written from docs/protocol.md section 4 alone,
with nothing but hashlib, hmac and the from-spec HMAC_DRBG next to this file. It shares no code
with the Rust crate. Exits 1 on the first mismatch of any vector, 0 when all agree.

Usage: python3 tests/python/check_derivations.py [path/to/derivations.json]
"""

import hashlib
import hmac
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hmac_drbg import HmacDrbg  # noqa: E402  (from-spec SP 800-90A, hashlib/hmac only)

LABEL_MASTER_KEY = b"keyprov v1 master key"
LABEL_DEVICE_KEY = b"keyprov v1 device key"
LABEL_AUTHENTICATION_KEY = b"keyprov v1 authentication key"
LABEL_SERVICE_KEY = b"keyprov v1 service key"
LABEL_SERVICE_MAC_KEY = b"keyprov v1 service mac key"
LABEL_PIN_VERIFIER = b"keyprov v1 pin verifier"
LABEL_PIN_VERIFIER_SIGNING_KEY = b"keyprov v1 pin verifier signing key"
LABEL_SESSION_D2R = b"keyprov v1 session key device to registrar"
LABEL_SESSION_R2D = b"keyprov v1 session key registrar to device"
LABEL_DIGEST_PASSWORD = b"keyprov v1 sip digest password"
DEVICE_KEY_DOMAIN = b"\x01"
PASSWORD_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

EXPECTED_FIELDS = {
    "name", "seed", "enterprise_id", "epoch", "master_key", "key_id", "device_key",
    "authentication_key", "service_id", "service_key", "transcript", "transcript_mac", "pin",
    "salt", "pin_verifier", "pin_signing_key", "pin_message", "pin_signature", "device_nonce",
    "registrar_nonce",
    "session_key_device_to_registrar", "session_key_registrar_to_device", "digest_password",
}


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def lp(field: bytes) -> bytes:
    """u16(len(x)) || x"""
    assert len(field) < 65536
    return len(field).to_bytes(2, "big") + field


def derive(key: bytes, label: bytes, *fields: bytes) -> bytes:
    """HMAC(key, lp(label) || lp(field_1) || ... || lp(field_n))"""
    return hmac_sha256(key, lp(label) + b"".join(lp(f) for f in fields))


def master_key(seed: bytes, enterprise_id: bytes, epoch: int) -> bytes:
    personalization = lp(LABEL_MASTER_KEY) + lp(enterprise_id) + epoch.to_bytes(2, "big")
    return HmacDrbg(seed, b"", personalization).generate(32)


def device_key(master: bytes, key_id: bytes) -> bytes:
    subkey = derive(master, LABEL_DEVICE_KEY)
    return hmac_sha256(subkey, DEVICE_KEY_DOMAIN + key_id)


def digest_password(service: bytes) -> str:
    bits = int.from_bytes(derive(service, LABEL_DIGEST_PASSWORD)[:20], "big")
    return "".join(PASSWORD_ALPHABET[(bits >> (155 - 5 * i)) & 31] for i in range(32))


def recompute(v: dict) -> dict:
    """Every output of one vector, from its inputs only."""
    b = {k: bytes.fromhex(v[k]) for k in (
        "seed", "enterprise_id", "key_id", "service_id", "transcript", "salt", "pin_message",
        "device_nonce", "registrar_nonce")}
    master = master_key(b["seed"], b["enterprise_id"], v["epoch"])
    device = device_key(master, b["key_id"])
    auth = derive(device, LABEL_AUTHENTICATION_KEY)
    service = derive(auth, LABEL_SERVICE_KEY, b["service_id"])
    mac_key = derive(service, LABEL_SERVICE_MAC_KEY)
    verifier = derive(b["salt"], LABEL_PIN_VERIFIER, v["pin"].encode("ascii"))
    pin_key = derive(device, LABEL_PIN_VERIFIER_SIGNING_KEY, verifier)
    context = (b["key_id"], b["service_id"], b["device_nonce"], b["registrar_nonce"])
    return {
        "master_key": master.hex(),
        "device_key": device.hex(),
        "authentication_key": auth.hex(),
        "service_key": service.hex(),
        "transcript_mac": hmac_sha256(mac_key, b["transcript"]).hex(),
        "pin_verifier": verifier.hex(),
        "pin_signing_key": pin_key.hex(),
        "pin_signature": hmac_sha256(pin_key, b["pin_message"]).hex(),
        "session_key_device_to_registrar": derive(service, LABEL_SESSION_D2R, *context).hex(),
        "session_key_registrar_to_device": derive(service, LABEL_SESSION_R2D, *context).hex(),
        "digest_password": digest_password(service),
    }


def check_vector(v: dict) -> list:
    """Names of the fields of one vector that disagree (or are missing)."""
    missing = EXPECTED_FIELDS - set(v)
    if missing:
        return sorted("missing " + m for m in missing)
    pin = v["pin"]
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 16):
        return ["pin is not 4 to 16 ascii digits"]
    return [k for k, value in recompute(v).items() if v[k] != value]


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(here, "..", "vectors", "derivations.json")
    path = sys.argv[1] if len(sys.argv) > 1 else default
    with open(path, encoding="utf-8") as f:
        vectors = json.load(f)["vectors"]
    if not vectors:
        print("no vectors in", path)
        return 1
    longest = max(len(bytes.fromhex(v[k])) for v in vectors
                  for k in ("seed", "enterprise_id", "key_id", "service_id", "device_nonce"))
    if longest <= 255:
        print("no input longer than 255 bytes: the two-byte length prefixes are untested")
        return 1
    failed = 0
    for v in vectors:
        wrong = check_vector(v)
        status = "ok" if not wrong else "MISMATCH " + ", ".join(wrong)
        print(f"{v.get('name', '?')}: {status}")
        failed += bool(wrong)
    print(f"{len(vectors) - failed} of {len(vectors)} vectors agree")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
