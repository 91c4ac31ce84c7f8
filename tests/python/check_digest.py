#!/usr/bin/env python3
"""Recomputes every value of tests/vectors/digest.json from its inputs.

An implementation of HTTP/SIP Digest (RFC 7616 sections 3.4.1 to 3.4.6 and 3.5, RFC 2617, RFC
2069) written from the RFCs with nothing but hashlib. It shares no code with the Rust crate.
Before the vectors it checks its own footing: hashlib's "sha512_256" must be FIPS 180-4
SHA-512/256 (not a truncated SHA-512), and the published responses of RFC 7616 section 3.9.1
and RFC 2617 section 3.5 must come out. Exits 1 on any mismatch, 0 when all agree.

Usage: python3 tests/python/check_digest.py [path/to/digest.json]
       python3 tests/python/check_digest.py --write [path]   (recomputes the expected values)
"""

import hashlib
import json
import os
import sys

HASHES = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}
INPUT_FIELDS = {
    "name", "source", "algorithm", "qop", "userhash", "username", "realm", "password", "method",
    "uri", "nonce", "cnonce", "nc", "body", "response_body",
}
EXPECTED_FIELDS = {"ha1", "response", "rspauth", "username_hash"}

# FIPS 180-4 SHA-512/256 of "abc" (NIST example values); a truncated SHA-512 differs.
SHA512_256_ABC = "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"

# Published responses, copied from /work/shared/vectors/rfc7616-digest-examples.txt.
PUBLISHED = [
    # (name, algorithm, username, password, realm, nonce, cnonce, response)
    ("rfc7616 3.9.1 sha-256", "SHA-256", "Mufasa", "Circle of Life", "http-auth@example.org",
     "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
     "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
     "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ("rfc7616 3.9.1 md5", "MD5", "Mufasa", "Circle of Life", "http-auth@example.org",
     "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
     "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "8ca523f5e9506fed4657c9700eebdbec"),
    ("rfc2617 3.5", "MD5", "Mufasa", "Circle Of Life", "testrealm@host.com",
     "dcd98b7102dd2f0e8b11d0f600bfb0c093", "0a4f113b", "6629fae49393a05397450978507c4ef1"),
]


def h(algorithm: str, data: str) -> str:
    """Lowercase hex digest of the UTF-8 text `data` with the algorithm's hash."""
    name = HASHES[algorithm.removesuffix("-sess")]
    return hashlib.new(name, data.encode("utf-8")).hexdigest()


def ha1(v: dict) -> str:
    """H(A1); for -sess H(H(user:realm:password):nonce:cnonce) (RFC 7616 3.4.2)."""
    base = h(v["algorithm"], f'{v["username"]}:{v["realm"]}:{v["password"]}')
    if v["algorithm"].endswith("-sess"):
        return h(v["algorithm"], f'{base}:{v["nonce"]}:{v["cnonce"]}')
    return base


def ha2(v: dict, method: str, body: str) -> str:
    """H(A2): method:uri, and for auth-int also :H(body) (RFC 7616 3.4.3)."""
    if v["qop"] == "auth-int":
        return h(v["algorithm"], f'{method}:{v["uri"]}:{h(v["algorithm"], body)}')
    return h(v["algorithm"], f'{method}:{v["uri"]}')


def digest(v: dict, method: str, body: str) -> str:
    """The response (or with an empty method the rspauth), RFC 7616 3.4.1 and RFC 2069."""
    key = ha1(v)
    if v["qop"] is None:
        return h(v["algorithm"], f'{key}:{v["nonce"]}:{ha2(v, method, body)}')
    return h(v["algorithm"],
             f'{key}:{v["nonce"]}:{v["nc"]}:{v["cnonce"]}:{v["qop"]}:{ha2(v, method, body)}')


def expected(v: dict) -> dict:
    return {
        "ha1": ha1(v),
        "response": digest(v, v["method"], v["body"]),
        "rspauth": digest(v, "", v["response_body"]),
        "username_hash": h(v["algorithm"], f'{v["username"]}:{v["realm"]}')
        if v["userhash"] else None,
    }


def check_footing() -> list:
    failures = []
    if hashlib.new("sha512_256", b"abc").hexdigest() != SHA512_256_ABC:
        failures.append("hashlib sha512_256 is not FIPS 180-4 SHA-512/256")
    for name, algorithm, user, password, realm, nonce, cnonce, response in PUBLISHED:
        v = {"algorithm": algorithm, "username": user, "password": password, "realm": realm,
             "nonce": nonce, "cnonce": cnonce, "nc": "00000001", "qop": "auth",
             "uri": "/dir/index.html"}
        if digest(v, "GET", "") != response:
            failures.append(f"{name}: published response not reproduced")
    return failures


def check_vector(v: dict) -> list:
    failures = []
    keys = set(v)
    if keys != INPUT_FIELDS | EXPECTED_FIELDS:
        failures.append(f'{v.get("name")}: fields differ: {sorted(keys ^ (INPUT_FIELDS | EXPECTED_FIELDS))}')
        return failures
    for field, value in expected(v).items():
        if v[field] != value:
            failures.append(f'{v["name"]}: {field} is {v[field]}, expected {value}')
    return failures


def main() -> int:
    args = sys.argv[1:]
    write = "--write" in args
    args = [a for a in args if a != "--write"]
    here = os.path.dirname(os.path.abspath(__file__))
    path = args[0] if args else os.path.join(here, "..", "vectors", "digest.json")
    with open(path, encoding="utf-8") as f:
        data = json.load(f)

    failures = check_footing()
    if write and not failures:
        for v in data["vectors"]:
            v.update(expected(v))
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False)
            f.write("\n")
    for v in data["vectors"]:
        failures += check_vector(v)
    for failure in failures:
        print("MISMATCH", failure)
    if failures:
        return 1
    print(f'digest: {len(data["vectors"])} vectors and {len(PUBLISHED)} published responses agree')
    return 0


if __name__ == "__main__":
    sys.exit(main())
