#!/usr/bin/env python3
"""Checks the CAVP HMAC_DRBG records under tests/vectors/ with the from-spec Python HMAC_DRBG.

The Rust tests (tests/drbg_cavp.rs) trust these files; this script shows that the files agree
with an implementation written from SP 800-90A, so a copying mistake would be caught here.
Exits 1 if any record disagrees.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hmac_drbg import HmacDrbg  # noqa: E402

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors")
FILES = {
    "nist-sp800-90a-hmac-drbg-sha256-noreseed.txt": 16,
    "nist-sp800-90a-hmac-drbg-sha256-reseed.txt": 8,
}


def records(path: str) -> list:
    """The records of a CAVP-style file: dicts of name to list of byte strings."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith(("#", "[")) or "=" not in line:
                continue
            name, value = (part.strip() for part in line.split("=", 1))
            if name == "COUNT":
                out.append({"COUNT": [value]})
            else:
                out[-1].setdefault(name, []).append(bytes.fromhex(value))
    return out


def check(record: dict) -> bool:
    one = lambda name: record[name][0]  # noqa: E731
    drbg = HmacDrbg(one("EntropyInput"), one("Nonce"), one("PersonalizationString"))
    if "EntropyInputReseed" in record:
        drbg.reseed(one("EntropyInputReseed"), one("AdditionalInputReseed"))
    first, second = record["AdditionalInput"]
    expected = one("ReturnedBits")
    drbg.generate(len(expected), first)
    return drbg.generate(len(expected), second) == expected


def main() -> int:
    failed = 0
    for name, count in FILES.items():
        recs = records(os.path.join(VECTORS, name))
        good = sum(check(r) for r in recs)
        print(f"{name}: {good} of {len(recs)} records agree (expected {count})")
        failed += good != count or len(recs) != count
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
