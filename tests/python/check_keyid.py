#!/usr/bin/env python3
"""Independent check of keyprov key identifiers (docs/protocol.md section 3).

Written from the specification with the Python standard library only. Reads
tests/vectors/keyid.json, re-encodes every vector from its inputs, decodes every
encoding, checks that every invalid input is refused with the stated error code,
and exits non-zero on the first mismatch. `--generate` prints the file's vectors
with their outputs recomputed, for adding new ones.
"""

import base64
import ipaddress
import json
import re
import sys
from pathlib import Path

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "keyid.json"

# Error codes of keyprov::Error (docs/protocol.md section 8).
TOO_SHORT, TOO_LONG, WRONG_LENGTH, OUT_OF_RANGE = 100, 101, 102, 103
INVALID_VALUE, NOT_CANONICAL, IPV6_ZONE = 104, 105, 106
TRUNCATED, TRAILING, UNSUPPORTED_VERSION, UNKNOWN_TYPE = 200, 201, 202, 203

VERSION = 1
PREFIX = "kp1"
MAX_LEN = 75
MAX_TEXT_LEN = 3 + 100
FORM_STRUCTURED, FORM_UNSTRUCTURED = 1, 2
SOURCES = {"random": 1, "key-database": 2, "hash": 3}
# type name -> (code, min length, max length)
DEVICE_TYPES = {
    "ext": (1, 1, 16),
    "sn": (2, 1, 32),
    "user": (3, 1, 32),
    "ipv4": (4, 4, 4),
    "ipv6": (5, 16, 16),
    "mac": (6, 6, 6),
}
TYPE_BY_CODE = {code: name for name, (code, _, _) in DEVICE_TYPES.items()}


class Refused(Exception):
    """An input keyprov must refuse, with the error code it must refuse it with."""

    def __init__(self, code, why):
        super().__init__(f"{code}: {why}")
        self.code = code


def check_length(value, low, high):
    if low == high and len(value) != low:
        raise Refused(WRONG_LENGTH, "fixed length")
    if len(value) < low:
        raise Refused(TOO_SHORT, "too short")
    if len(value) > high:
        raise Refused(TOO_LONG, "too long")


def agent_bytes(agent):
    raw = agent.encode("utf-8")
    check_length(raw, 1, 32)
    if not re.fullmatch(rb"[a-z0-9-]+", raw) or raw.startswith(b"-") or raw.endswith(b"-"):
        raise Refused(INVALID_VALUE, "agent alphabet")
    return raw


IPV4_MAPPED_PREFIX = bytes(10) + b"\xff\xff"


def check_device_value(kind, value):
    """The binary rules: canonical bytes only."""
    _, low, high = DEVICE_TYPES[kind]
    check_length(value, low, high)
    if kind == "ipv6" and value[:12] == IPV4_MAPPED_PREFIX:
        raise Refused(NOT_CANONICAL, "ipv4-mapped address")
    if kind == "ext" and not re.fullmatch(rb"[0-9]+", value):
        raise Refused(INVALID_VALUE, "extension digits")
    if kind == "sn":
        if re.search(rb"[a-z]", value):
            raise Refused(NOT_CANONICAL, "lowercase serial")
        if not re.fullmatch(rb"[A-Z0-9-]+", value):
            raise Refused(INVALID_VALUE, "serial alphabet")
    if kind == "user":
        if re.search(rb"[A-Z]", value):
            raise Refused(NOT_CANONICAL, "uppercase login")
        if not re.fullmatch(rb"[a-z0-9._-]+", value):
            raise Refused(INVALID_VALUE, "login alphabet")
    return value


def parse_ipv4(text):
    parts = text.split(".")
    if len(parts) != 4:
        raise Refused(INVALID_VALUE, "four parts")
    for part in parts:
        if not re.fullmatch(r"[0-9]{1,3}", part):
            raise Refused(INVALID_VALUE, "decimal digits")
        if len(part) > 1 and part[0] == "0":
            raise Refused(INVALID_VALUE, "leading zero")
        if int(part) > 255:
            raise Refused(OUT_OF_RANGE, "octet range")
    return bytes(int(part) for part in parts)


def parse_ipv6(text):
    if "%" in text:
        raise Refused(IPV6_ZONE, "zone identifier")
    # ipaddress accepts exactly the RFC 4291 spellings once zones are out; it also allows
    # leading zeros in an embedded IPv4 part on some versions, which the spec refuses.
    if "." in text:
        head, _, last = text.rpartition(":")
        parse_ipv4(last)
    if not re.fullmatch(r"[0-9A-Fa-f:.]+", text):
        raise Refused(INVALID_VALUE, "ipv6 alphabet")
    try:
        return ipaddress.IPv6Address(text).packed
    except ValueError as error:
        raise Refused(INVALID_VALUE, str(error)) from None


def parse_mac(text):
    shapes = [
        r"([0-9A-Fa-f]{2}):([0-9A-Fa-f]{2}):([0-9A-Fa-f]{2}):([0-9A-Fa-f]{2}):"
        r"([0-9A-Fa-f]{2}):([0-9A-Fa-f]{2})",
        r"([0-9A-Fa-f]{2})-([0-9A-Fa-f]{2})-([0-9A-Fa-f]{2})-([0-9A-Fa-f]{2})-"
        r"([0-9A-Fa-f]{2})-([0-9A-Fa-f]{2})",
        r"([0-9A-Fa-f]{4})\.([0-9A-Fa-f]{4})\.([0-9A-Fa-f]{4})",
        r"([0-9A-Fa-f]{12})",
    ]
    for shape in shapes:
        match = re.fullmatch(shape, text)
        if match:
            return bytes.fromhex("".join(match.groups()))
    raise Refused(INVALID_VALUE, "mac shape")


def parse_device(typed):
    """Typed text form `PREFIX:VALUE` -> (type name, canonical value bytes)."""
    kind, sep, text = typed.partition(":")
    if not sep or kind not in DEVICE_TYPES:
        raise Refused(INVALID_VALUE, "device type prefix")
    if kind == "ipv4":
        return kind, parse_ipv4(text)
    if kind == "ipv6":
        packed = parse_ipv6(text)
        # An IPv4-mapped address is the IPv4 address: one device, one identifier.
        if packed[:12] == IPV4_MAPPED_PREFIX:
            return "ipv4", packed[12:]
        return kind, packed
    if kind == "mac":
        return kind, parse_mac(text)
    raw = text.encode("utf-8")
    check_length(raw, 1, DEVICE_TYPES[kind][2])
    if kind == "sn":
        raw = bytes(b - 32 if 0x61 <= b <= 0x7A else b for b in raw)
    if kind == "user":
        raw = bytes(b + 32 if 0x41 <= b <= 0x5A else b for b in raw)
    return kind, check_device_value(kind, raw)


def show_ipv6(value):
    words = [int.from_bytes(value[i : i + 2], "big") for i in range(0, 16, 2)]
    best = None
    start = 0
    while start < 8:
        run = 0
        while start + run < 8 and words[start + run] == 0:
            run += 1
        if run >= 2 and (best is None or run > best[1] - best[0]):
            best = (start, start + run)
        start += max(run, 1)
    hexes = [format(w, "x") for w in words]
    if best is None:
        return ":".join(hexes)
    return ":".join(hexes[: best[0]]) + "::" + ":".join(hexes[best[1] :])


def show_device(kind, value):
    if kind == "ipv4":
        shown = ".".join(str(b) for b in value)
    elif kind == "ipv6":
        shown = show_ipv6(value)
    elif kind == "mac":
        shown = "-".join(format(b, "02x") for b in value)
    else:
        shown = value.decode("ascii")
    return f"{kind}:{shown}"


def prefixed(value):
    return bytes([len(value)]) + value


def encode(vector):
    """Binary key identifier from the inputs of a vector."""
    if not 0 <= vector["epoch"] <= 0xFFFF:
        raise Refused(OUT_OF_RANGE, "epoch")
    agent = agent_bytes(vector["agent"])
    if "device" in vector:
        kind, value = parse_device(vector["device"])
        if not 0 <= vector["counter"] <= 0xFFFFFFFF:
            raise Refused(OUT_OF_RANGE, "counter")
        head = bytes([VERSION, FORM_STRUCTURED]) + vector["epoch"].to_bytes(2, "big")
        body = bytes([DEVICE_TYPES[kind][0]]) + prefixed(value)
        body += vector["counter"].to_bytes(4, "big")
    else:
        source = SOURCES[vector["unstructured"]["source"]]
        value = bytes.fromhex(vector["unstructured"]["value"])
        check_length(value, 1, 32)
        head = bytes([VERSION, FORM_UNSTRUCTURED]) + vector["epoch"].to_bytes(2, "big")
        body = bytes([source]) + prefixed(value)
    return head + prefixed(agent) + body


class Reader:
    def __init__(self, data):
        self.data = data
        self.at = 0

    def take(self, count):
        if len(self.data) - self.at < count:
            raise Refused(TRUNCATED, "truncated")
        piece = self.data[self.at : self.at + count]
        self.at += count
        return piece

    def prefixed(self, high):
        count = self.take(1)[0]
        if count > high:
            raise Refused(TOO_LONG, "length byte over bound")
        return self.take(count)


def decode(data):
    """Decodes a binary key identifier and returns its fields, refusing anything else."""
    reader = Reader(data)
    version = reader.take(1)[0]
    if version != VERSION:
        raise Refused(UNSUPPORTED_VERSION, "version")
    form = reader.take(1)[0]
    if form not in (FORM_STRUCTURED, FORM_UNSTRUCTURED):
        raise Refused(UNKNOWN_TYPE, "form")
    epoch = int.from_bytes(reader.take(2), "big")
    agent = reader.prefixed(32)
    agent_bytes(agent.decode("latin-1"))
    fields = {"epoch": epoch, "agent": agent.decode("ascii")}
    if form == FORM_STRUCTURED:
        code = reader.take(1)[0]
        if code not in TYPE_BY_CODE:
            raise Refused(UNKNOWN_TYPE, "device type")
        kind = TYPE_BY_CODE[code]
        value = check_device_value(kind, reader.prefixed(DEVICE_TYPES[kind][2]))
        fields["device"] = show_device(kind, value)
        fields["counter"] = int.from_bytes(reader.take(4), "big")
    else:
        code = reader.take(1)[0]
        names = {code: name for name, code in SOURCES.items()}
        if code not in names:
            raise Refused(UNKNOWN_TYPE, "value source")
        value = reader.prefixed(32)
        check_length(value, 1, 32)
        fields["unstructured"] = {"source": names[code], "value": value.hex()}
    if reader.at != len(data):
        raise Refused(TRAILING, "trailing bytes")
    return fields


def to_text(binary):
    return PREFIX + base64.urlsafe_b64encode(binary).decode("ascii").rstrip("=")


def from_text(text):
    if len(text) > MAX_TEXT_LEN:
        raise Refused(TOO_LONG, "text length")
    if not text.startswith(PREFIX):
        raise Refused(INVALID_VALUE, "prefix")
    encoded = text[len(PREFIX) :]
    if not re.fullmatch(r"[A-Za-z0-9_-]*", encoded) or len(encoded) % 4 == 1:
        raise Refused(INVALID_VALUE, "base64url alphabet or length")
    binary = base64.b64decode(encoded + "=" * (-len(encoded) % 4), altchars=b"-_", validate=True)
    if to_text(binary) != text:
        raise Refused(INVALID_VALUE, "non-canonical trailing bits")
    return decode(binary)


def expect_refused(action, code, label):
    try:
        action()
    except Refused as refused:
        if refused.code != code:
            return f"{label}: refused with {refused.code}, expected {code} ({refused})"
        return None
    return f"{label}: accepted, expected error {code}"


def check_valid(vector):
    binary = encode(vector)
    failures = []
    if binary.hex() != vector["binary"]:
        failures.append(f"binary {binary.hex()} != {vector['binary']}")
    if to_text(binary) != vector["text"]:
        failures.append(f"text {to_text(binary)} != {vector['text']}")
    if len(binary) > MAX_LEN:
        failures.append("longer than MAX_LEN")
    decoded = from_text(vector["text"])
    if "device" in decoded:
        decoded["device"] = show_device(*parse_device(decoded["device"]))
        canonical = show_device(*parse_device(vector["device"]))
        if decoded["device"] != canonical or decoded["counter"] != vector["counter"]:
            failures.append("decoded device or counter differs")
    elif decoded["unstructured"] != vector["unstructured"]:
        failures.append("decoded unstructured value differs")
    if decoded["epoch"] != vector["epoch"] or decoded["agent"] != vector["agent"]:
        failures.append("decoded epoch or agent differs")
    return failures


def check_spelling(vector):
    kind, value = parse_device(vector["input"])
    failures = []
    if value.hex() != vector["value"]:
        failures.append(f"value {value.hex()} != {vector['value']}")
    if show_device(kind, value) != vector["canonical"]:
        failures.append(f"canonical {show_device(kind, value)} != {vector['canonical']}")
    return failures


def run_checks(data):
    failures = []
    for vector in data["valid"]:
        failures += [f"valid {vector['name']}: {f}" for f in check_valid(vector)]
    for vector in data["device_spellings"]:
        failures += [f"spelling {vector['input']}: {f}" for f in check_spelling(vector)]
    refusals = [
        (lambda v=v: parse_device(v["input"]), v["error"], f"device {v['input']!r}")
        for v in data["invalid_device_ids"]
    ]
    refusals += [
        (lambda v=v: decode(bytes.fromhex(v["binary"])), v["error"], f"binary {v['why']}")
        for v in data["invalid_binary"]
    ]
    refusals += [
        (lambda v=v: from_text(v["text"]), v["error"], f"text {v['why']}")
        for v in data["invalid_text"]
    ]
    for action, code, label in refusals:
        failure = expect_refused(action, code, label)
        if failure:
            failures.append(failure)
    return failures


def generate(data):
    for vector in data["valid"]:
        binary = encode(vector)
        vector["binary"] = binary.hex()
        vector["text"] = to_text(binary)
    for vector in data["device_spellings"]:
        kind, value = parse_device(vector["input"])
        vector["value"] = value.hex()
        vector["canonical"] = show_device(kind, value)
    json.dump(data, sys.stdout, indent=2)
    print()


def main():
    data = json.loads(VECTORS.read_text())
    if sys.argv[1:] == ["--generate"]:
        generate(data)
        return 0
    failures = run_checks(data)
    for failure in failures:
        print("MISMATCH", failure)
    total = sum(len(data[k]) for k in data if isinstance(data[k], list))
    print(f"{total} key id vectors checked, {len(failures)} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
