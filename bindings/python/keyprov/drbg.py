"""The HMAC_DRBG (SHA-256) random generator of NIST SP 800-90A."""

import ctypes

from ._errors import check
from ._native import lib
from ._object import Owned


class Drbg(Owned):
    """A generator instantiated from host-supplied entropy (at least 32 bytes)."""

    _free = lib.keyprov_drbg_free

    def __init__(self, entropy: bytes, nonce: bytes = b"", personalization: bytes = b""):
        pointer = ctypes.c_void_p()
        check(lib.keyprov_drbg_new(entropy, len(entropy), nonce, len(nonce), personalization,
                                   len(personalization), ctypes.byref(pointer)))
        super().__init__(pointer)

    def generate(self, length: int, additional: bytes = b"") -> bytes:
        """`length` pseudorandom bytes in one request (at most 65536)."""
        buf = ctypes.create_string_buffer(length)
        check(lib.keyprov_drbg_generate(self.pointer, additional, len(additional), buf, length))
        return buf.raw

    def reseed(self, entropy: bytes, additional: bytes = b"") -> None:
        """Mixes in fresh entropy and restarts the reseed counter."""
        check(lib.keyprov_drbg_reseed(self.pointer, entropy, len(entropy), additional,
                                      len(additional)))

    def set_reseed_interval(self, requests: int) -> None:
        """Generate requests allowed between reseeds, 1 to 2**48."""
        check(lib.keyprov_drbg_set_reseed_interval(self.pointer, requests))

    @property
    def requests_before_reseed(self) -> int:
        left = ctypes.c_uint64()
        check(lib.keyprov_drbg_requests_before_reseed(self.pointer, ctypes.byref(left)))
        return left.value
