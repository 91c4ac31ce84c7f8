import json
import os

import pytest

import keyprov
import reference
from conftest import VECTORS

with open(os.path.join(VECTORS, "derivations.json")) as f:
    VECTORS_JSON = json.load(f)["vectors"]


@pytest.mark.parametrize("v", VECTORS_JSON, ids=lambda v: v["name"])
def test_schedule_vectors(v):
    h = bytes.fromhex
    master = keyprov.master_key_from_seed(h(v["seed"]), h(v["enterprise_id"]), v["epoch"])
    assert master == h(v["master_key"])
    with keyprov.KeySchedule(master, v["epoch"]) as schedule:
        device = schedule.device_key(h(v["key_id"]))
    assert device == h(v["device_key"])
    auth = keyprov.authentication_key(device)
    assert auth == h(v["authentication_key"])
    service = keyprov.service_key(auth, h(v["service_id"]))
    assert service == h(v["service_key"])
    assert keyprov.service_mac(service, h(v["transcript"])) == h(v["transcript_mac"])
    pin_key = keyprov.pin_signing_key(device, v["pin"], h(v["salt"]))
    assert pin_key == h(v["pin_signing_key"])
    verifier = keyprov.pin_verifier(h(v["salt"]), v["pin"])
    assert verifier == h(v["pin_verifier"])
    assert keyprov.pin_signing_key_from_verifier(device, verifier) == pin_key
    assert keyprov.pin_sign(pin_key, h(v["pin_message"])) == h(v["pin_signature"])
    d2r, r2d = keyprov.session_keys(service, h(v["key_id"]), h(v["service_id"]),
                                    h(v["device_nonce"]), h(v["registrar_nonce"]))
    assert (d2r, r2d) == (h(v["session_key_device_to_registrar"]),
                          h(v["session_key_registrar_to_device"]))
    assert keyprov.digest_password(service) == v["digest_password"]


def test_random_inputs_match_the_independent_schedule():
    seed, enterprise = os.urandom(40), os.urandom(12)
    master = keyprov.master_key_from_seed(seed, enterprise, 9)
    assert master == reference.master_key(seed, enterprise, 9)
    key_id = keyprov.KeyId.structured(9, "agent-7", "user:Alice", 3)
    with keyprov.KeySchedule(master, 9) as schedule:
        device = schedule.device_key(key_id)
    assert device == reference.device_key(master, bytes(key_id))
    auth = keyprov.authentication_key(device)
    assert auth == reference.derive(device, b"keyprov v1 authentication key")
    service = keyprov.service_key(auth, b"sip.example.org")
    assert service == reference.derive(auth, b"keyprov v1 service key", b"sip.example.org")
    assert keyprov.digest_password(service) == reference.digest_password(service)
    salt = os.urandom(70)
    verifier = reference.derive(salt, b"keyprov v1 pin verifier", b"0815")
    assert keyprov.pin_verifier(salt, "0815") == verifier
    assert keyprov.pin_signing_key(device, "0815", salt) == reference.derive(
        device, b"keyprov v1 pin verifier signing key", verifier)
    nonces = os.urandom(16), os.urandom(20)
    d2r, r2d = keyprov.session_keys(service, bytes(key_id), b"sip.example.org", *nonces)
    fields = (bytes(key_id), b"sip.example.org") + nonces
    assert d2r == reference.derive(service, b"keyprov v1 session key device to registrar",
                                   *fields)
    assert r2d == reference.derive(service, b"keyprov v1 session key registrar to device",
                                   *fields)


def test_verification_refuses_a_changed_tag():
    service, transcript = os.urandom(32), b"transcript"
    tag = keyprov.service_mac(service, transcript)
    keyprov.service_mac_verify(service, transcript, tag)
    with pytest.raises(keyprov.KeyprovError) as caught:
        keyprov.service_mac_verify(service, transcript, bytes([tag[0] ^ 1]) + tag[1:])
    assert caught.value.code == 304


def test_schedule_refuses_another_epoch():
    with keyprov.KeySchedule(os.urandom(32), 2) as schedule:
        assert schedule.epoch == 2
        with pytest.raises(keyprov.KeyprovError) as caught:
            schedule.device_key(keyprov.KeyId.structured(3, "a", "ext:1", 1))
    assert "epoch" in caught.value.message


def test_hkdf_rfc5869_case_1():
    prk = keyprov.hkdf_extract(bytes.fromhex("000102030405060708090a0b0c"), b"\x0b" * 22)
    assert prk.hex() == "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"
    okm = keyprov.hkdf_expand(prk, bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"), 42)
    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                         "34007208d5b887185865")
