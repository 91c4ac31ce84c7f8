import os

import pytest

import keyprov
from conftest import VECTORS
from reference import HmacDrbg


def cavp_records():
    fields, records = {}, []
    additional = []
    with open(os.path.join(VECTORS, "nist-sp800-90a-hmac-drbg-sha256-noreseed.txt")) as f:
        for line in f:
            name, _, value = line.partition("=")
            name = name.strip()
            if name not in ("AdditionalInput", "ReturnedBits", "EntropyInput", "Nonce",
                            "PersonalizationString"):
                continue
            value = bytes.fromhex(value.strip())
            if name == "AdditionalInput":
                additional.append(value)
            elif name == "ReturnedBits":
                records.append((fields, additional, value))
                fields, additional = {}, []
            elif name in ("EntropyInput", "Nonce", "PersonalizationString"):
                fields[name] = value
    return records


@pytest.mark.parametrize("fields,additional,expected", cavp_records())
def test_nist_cavp(fields, additional, expected):
    with keyprov.Drbg(fields["EntropyInput"], fields["Nonce"],
                      fields.get("PersonalizationString", b"")) as drbg:
        drbg.generate(len(expected), additional[0])
        assert drbg.generate(len(expected), additional[1]) == expected


def test_matches_an_independent_implementation_across_reseeds():
    seed = os.urandom(48)
    ours, theirs = keyprov.Drbg(seed, b"n", b"p"), HmacDrbg(seed, b"n", b"p")
    for size, extra in [(1, b""), (33, b"x"), (1000, b""), (64, os.urandom(9))]:
        assert ours.generate(size, extra) == theirs.generate(size, extra)
    entropy = os.urandom(32)
    ours.reseed(entropy, b"a")
    theirs.reseed(entropy, b"a")
    assert ours.generate(77) == theirs.generate(77)


def test_reseed_interval():
    drbg = keyprov.Drbg(b"\x01" * 32)
    drbg.set_reseed_interval(1)
    assert drbg.requests_before_reseed == 1
    drbg.generate(8)
    with pytest.raises(keyprov.KeyprovError) as caught:
        drbg.generate(8)
    assert caught.value.code == 108
