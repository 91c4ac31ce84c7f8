import gc

import pytest

import keyprov


def test_version_is_the_crate_version():
    with open(__file__.rsplit("/bindings/", 1)[0] + "/Cargo.toml") as cargo:
        line = next(l for l in cargo if l.startswith("version"))
    assert keyprov.version() == line.split('"')[1]


def test_exception_carries_code_message_and_group():
    with pytest.raises(keyprov.KeyprovError) as caught:
        keyprov.KeyId.structured(1, "Pbx", "ext:1", 0)
    assert caught.value.code == 104
    assert caught.value.group == 1
    assert "agent identifier" in caught.value.message
    assert keyprov.result_message(404) == "output buffer too small"
    assert keyprov.result_message(12345) == "unknown result code"


def test_limits_are_named():
    with pytest.raises(keyprov.KeyprovError) as caught:
        keyprov.Drbg(b"short")
    assert caught.value.code == 100
    assert caught.value.message == "entropy input too short: 5 < minimum 32"


def test_closed_objects_refuse_use_and_close_twice_is_fine():
    with keyprov.Drbg(b"e" * 32) as drbg:
        drbg.generate(4)
    with pytest.raises(ValueError):
        drbg.generate(4)
    drbg.close()
    keyprov.Drbg(b"e" * 32)  # dropped without close: freed by the collector
    gc.collect()
