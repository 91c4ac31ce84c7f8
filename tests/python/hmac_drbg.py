"""HMAC_DRBG with SHA-256, written from NIST SP 800-90A Rev. 1 section 10.1.2.

Independent of the Rust code: only hashlib and hmac. No prediction resistance, no limits
beyond what the checks here need.
"""

import hashlib
import hmac


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


class HmacDrbg:
    """SP 800-90A HMAC_DRBG (SHA-256): instantiate, reseed, generate."""

    def __init__(self, entropy: bytes, nonce: bytes, personalization: bytes):
        self.key = b"\x00" * 32
        self.value = b"\x01" * 32
        self._update(entropy + nonce + personalization)
        self.reseed_counter = 1

    def _update(self, provided: bytes) -> None:
        self.key = _hmac(self.key, self.value + b"\x00" + provided)
        self.value = _hmac(self.key, self.value)
        if not provided:
            return
        self.key = _hmac(self.key, self.value + b"\x01" + provided)
        self.value = _hmac(self.key, self.value)

    def reseed(self, entropy: bytes, additional: bytes) -> None:
        self._update(entropy + additional)
        self.reseed_counter = 1

    def generate(self, length: int, additional: bytes = b"") -> bytes:
        if additional:
            self._update(additional)
        out = b""
        while len(out) < length:
            self.value = _hmac(self.key, self.value)
            out += self.value
        self._update(additional)
        self.reseed_counter += 1
        return out[:length]
