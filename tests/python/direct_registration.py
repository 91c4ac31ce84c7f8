#!/usr/bin/env python3
"""Builds registrations and the registrar's expected answers from the specification.

Written from docs/protocol.md sections 3.3, 4.2, 5 and 6 alone, with hashlib, hmac and
struct; it shares no code with the Rust crate. tests/protocol_regressions.rs feeds the printed
register direct message, then the hello and proof of a challenge-response registration, to the
Rust registrar and expects exactly the printed challenge, accepts and session key.

Usage: python3 tests/python/direct_registration.py
"""

import hashlib
import hmac
import struct


def lp(data):
    return struct.pack(">H", len(data)) + data


def mac(key, message):
    return hmac.new(key, message, hashlib.sha256).digest()


def derive(key, label, *fields):
    return mac(key, lp(label) + b"".join(lp(f) for f in fields))


DEVICE_SECRET_KEY = bytes([0x42]) * 32
SERVICE = b"sip.example.com"
NOW = 1_700_000_000
DEVICE_NONCE = bytes(range(0x10, 0x30))
REGISTRAR_NONCE = bytes(range(1, 33))
NOT_AFTER = NOW + 600

# Structured key identifier: version 1, form 1, epoch 1, agent "agent-1", extension "100",
# counter 1.
KEY_ID = bytes([1, 1, 0, 1, 7]) + b"agent-1" + bytes([1, 3]) + b"100" + struct.pack(">I", 1)


def main():
    authentication_key = derive(DEVICE_SECRET_KEY, b"keyprov v1 authentication key")
    service_key = derive(authentication_key, b"keyprov v1 service key", SERVICE)
    service_mac_key = derive(service_key, b"keyprov v1 service mac key")
    signed = (
        bytes([1, 0x13, 1])
        + struct.pack(">Q", NOW)
        + lp(KEY_ID)
        + lp(DEVICE_NONCE)
        + lp(b"")
    )
    transcript = hashlib.sha256(
        lp(b"keyprov v1 registration transcript") + lp(SERVICE) + lp(signed)
    ).digest()
    device_proof = mac(service_mac_key, lp(b"keyprov v1 device mac") + transcript)
    direct = signed + lp(device_proof) + lp(b"")
    registrar_proof = mac(
        service_mac_key,
        lp(b"keyprov v1 registrar proof")
        + transcript
        + REGISTRAR_NONCE
        + struct.pack(">Q", NOT_AFTER),
    )
    accept = bytes([1, 0x14]) + lp(REGISTRAR_NONCE) + struct.pack(">Q", NOT_AFTER)
    accept += lp(registrar_proof)
    device_to_registrar = derive(
        service_key,
        b"keyprov v1 session key device to registrar",
        KEY_ID,
        SERVICE,
        DEVICE_NONCE,
        REGISTRAR_NONCE,
    )
    print("direct", direct.hex())
    print("accept", accept.hex())
    print("device to registrar", device_to_registrar.hex())
    challenge_response(service_mac_key)


def challenge_response(service_mac_key):
    """The four messages of section 6.2 with the same keys and nonces, sequence 5."""
    hello = bytes([1, 0x10]) + lp(KEY_ID) + struct.pack(">Q", 5) + lp(DEVICE_NONCE) + lp(b"")
    challenge = bytes([1, 0x11]) + lp(REGISTRAR_NONCE)
    transcript = hashlib.sha256(
        lp(b"keyprov v1 registration transcript") + lp(SERVICE) + lp(hello) + lp(challenge)
    ).digest()
    device_proof = mac(service_mac_key, lp(b"keyprov v1 device mac") + transcript)
    proof = bytes([1, 0x12]) + lp(device_proof) + lp(b"")
    registrar_proof = mac(
        service_mac_key,
        lp(b"keyprov v1 registrar proof")
        + transcript
        + REGISTRAR_NONCE
        + struct.pack(">Q", NOT_AFTER),
    )
    accept = bytes([1, 0x14]) + lp(REGISTRAR_NONCE) + struct.pack(">Q", NOT_AFTER)
    accept += lp(registrar_proof)
    print("hello", hello.hex())
    print("challenge", challenge.hex())
    print("proof", proof.hex())
    print("accept", accept.hex())


if __name__ == "__main__":
    main()
