"""Independent reference implementations for cross-checks: written from docs/protocol.md and
the RFCs with hashlib, hmac, base64 and struct only, sharing nothing with the library."""

import base64
import hashlib
import hmac
import struct


def lp(field: bytes) -> bytes:
    """u16(len(x)) || x."""
    return struct.pack(">H", len(field)) + field


def derive(key: bytes, label: bytes, *fields: bytes) -> bytes:
    """HMAC(K, lp(label) || lp(f1) || ... || lp(fn)), docs/protocol.md section 4.1."""
    return hmac.new(key, lp(label) + b"".join(lp(f) for f in fields), hashlib.sha256).digest()


class HmacDrbg:
    """NIST SP 800-90A section 10.1.2, HMAC_DRBG with SHA-256, no prediction resistance."""

    def __init__(self, entropy: bytes, nonce: bytes = b"", personalization: bytes = b""):
        self.key, self.value = b"\x00" * 32, b"\x01" * 32
        self._update(entropy + nonce + personalization)

    def _mac(self, data: bytes) -> bytes:
        return hmac.new(self.key, data, hashlib.sha256).digest()

    def _update(self, provided: bytes) -> None:
        for marker in (b"\x00", b"\x01"):
            self.key = self._mac(self.value + marker + provided)
            self.value = self._mac(self.value)
            if not provided:
                return

    def reseed(self, entropy: bytes, additional: bytes = b"") -> None:
        self._update(entropy + additional)

    def generate(self, length: int, additional: bytes = b"") -> bytes:
        if additional:
            self._update(additional)
        out = b""
        while len(out) < length:
            self.value = self._mac(self.value)
            out += self.value
        self._update(additional)
        return out[:length]


def master_key(seed: bytes, enterprise_id: bytes, epoch: int) -> bytes:
    """docs/protocol.md section 2: the first 32 bytes of HMAC_DRBG(seed, "", personalization)."""
    personalization = lp(b"keyprov v1 master key") + lp(enterprise_id) + struct.pack(">H", epoch)
    return HmacDrbg(seed, b"", personalization).generate(32)


def device_key(master: bytes, key_id: bytes) -> bytes:
    kd = derive(master, b"keyprov v1 device key")
    return hmac.new(kd, b"\x01" + key_id, hashlib.sha256).digest()


def digest_password(service_key: bytes) -> str:
    bits = int.from_bytes(derive(service_key, b"keyprov v1 sip digest password")[:20], "big")
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return "".join(alphabet[(bits >> (155 - 5 * i)) & 0x1F] for i in range(32))


def structured_key_id(epoch: int, agent: bytes, device_type: int, device: bytes,
                      counter: int) -> bytes:
    """docs/protocol.md section 3, binary form 1."""
    return (bytes([1, 1]) + struct.pack(">H", epoch) + bytes([len(agent)]) + agent
            + bytes([device_type, len(device)]) + device + struct.pack(">I", counter))


def key_id_text(binary: bytes) -> str:
    return "kp1" + base64.urlsafe_b64encode(binary).decode().rstrip("=")
