"""Inputs a Python caller may leave out get the library's own error, not a Python crash, and a
registrar can learn whom an Authorization value names before looking up the password."""

import pytest

import keyprov
from keyprov.roles import DeviceProvisioning, KeyClient

ANCHOR = b"\xa5" * 32


def test_a_login_without_a_pin_is_the_library_error_naming_the_pin():
    with pytest.raises(keyprov.KeyprovError) as caught:
        DeviceProvisioning(ANCHOR, device_id="ext:0123", login=b"alice")
    assert caught.value.code == 100  # KEYPROV_TOO_SHORT
    assert "pin" in caught.value.message


def test_a_key_request_without_a_login_asks_for_no_pin_key():
    client = KeyClient()
    key_id = keyprov.KeyId.structured(1, "agent-1", "ext:0123", 1)
    client.request(key_id, b"sip.example.com", login=None)
    assert client.poll_transmit()


def test_the_registrar_reads_the_username_before_the_store_lookup():
    rng = keyprov.Drbg(b"\x01" * 32)
    registrar = keyprov.DigestRegistrar("sip.example.com", b"\x02" * 32)
    username = "kp1AQEAAQdhZ2VudC0xAQQwMTIzAAAAAQ"
    client = keyprov.DigestClient(username, b"password")
    client.handle_challenges(registrar.challenges(1000, rng))
    authorization = client.authorize("REGISTER", "sip:sip.example.com", rng)
    assert registrar.username(authorization) == (username, False)
    verdict = registrar.verify(authorization, "REGISTER", "sip:sip.example.com", 1000,
                               password=b"password")
    assert verdict["outcome"] == "accepted"
