import pytest

import keyprov
import reference


def test_structured_layout_and_text_from_the_spec():
    key_id = keyprov.KeyId.structured(7, "pbx-1", "mac:00:1a:2b:3c:4d:5e", 42)
    expected = reference.structured_key_id(7, b"pbx-1", 6, bytes.fromhex("001a2b3c4d5e"), 42)
    assert bytes(key_id) == expected
    assert str(key_id) == reference.key_id_text(expected)
    assert keyprov.KeyId.parse(str(key_id)) == key_id
    assert keyprov.KeyId.decode(expected) == key_id
    info = key_id.info()
    assert (info["epoch"], info["agent"], info["counter"], info["device_type"]) == (
        7, "pbx-1", 42, "mac")
    assert key_id.device == "mac:00-1a-2b-3c-4d-5e"
    assert key_id.successor().info()["counter"] == 43


def test_unstructured():
    key_id = keyprov.KeyId.unstructured(256, "reg", 3, bytes.fromhex("deadbeef"))
    assert str(key_id) == reference.key_id_text(bytes.fromhex("01020100037265670304deadbeef"))
    assert key_id.info()["source"] == "hash"
    with pytest.raises(keyprov.KeyprovError) as caught:
        key_id.device
    assert caught.value.code == 104


@pytest.mark.parametrize("spelling", ["sn:ab-12", "sn:AB-12"])
def test_device_canonical(spelling):
    assert keyprov.device_id_canonical(spelling) == "sn:AB-12"


def test_refusals_carry_codes():
    cases = [
        (lambda: keyprov.KeyId.decode(b""), 200),
        (lambda: keyprov.KeyId.decode(bytes(keyprov.KeyId.structured(1, "a", "ext:1", 1)) + b"\0"),
         201),
        (lambda: keyprov.KeyId.structured(1, "a", "ext:1", 2**32 - 1).successor(), 107),
        (lambda: keyprov.device_id_canonical("ipv6:fe80::1%eth0"), 106),
    ]
    for call, code in cases:
        with pytest.raises(keyprov.KeyprovError) as caught:
            call()
        assert caught.value.code == code
