"""The key schedule (docs/protocol.md section 4), HKDF, PIN verifiers and signatures."""

import ctypes

from ._errors import check, read_fixed, read_text
from ._native import SessionContext, lib
from ._object import Owned

KEY_LEN = 32


def master_key_from_seed(seed: bytes, enterprise_id: bytes, epoch: int) -> bytes:
    """The enterprise master key of `epoch`, made from `seed` by HMAC_DRBG."""
    return read_fixed(lambda out, n: lib.keyprov_master_key_from_seed(
        seed, len(seed), enterprise_id, len(enterprise_id), epoch, out, n), KEY_LEN)


class KeySchedule(Owned):
    """The agent's precomputed device-key schedule of one master key."""

    _free = lib.keyprov_key_schedule_free

    def __init__(self, master_key: bytes, epoch: int):
        pointer = ctypes.c_void_p()
        check(lib.keyprov_key_schedule_new(master_key, len(master_key), epoch,
                                           ctypes.byref(pointer)))
        super().__init__(pointer)

    @property
    def epoch(self) -> int:
        epoch = ctypes.c_uint16()
        check(lib.keyprov_key_schedule_epoch(self.pointer, ctypes.byref(epoch)))
        return epoch.value

    def device_key(self, key_id) -> bytes:
        """The device secret key of a `KeyId` of this epoch, or of binary key id bytes."""
        if isinstance(key_id, (bytes, bytearray)):
            data = bytes(key_id)
            return read_fixed(lambda out, n: lib.keyprov_key_schedule_device_key_bytes(
                self.pointer, data, len(data), out, n), KEY_LEN)
        return read_fixed(lambda out, n: lib.keyprov_key_schedule_device_key(
            self.pointer, key_id.pointer, out, n), KEY_LEN)


def authentication_key(device_key: bytes) -> bytes:
    """The authentication key the device computes once provisioning closed."""
    return read_fixed(lambda out, n: lib.keyprov_authentication_key(
        device_key, len(device_key), out, n), KEY_LEN)


def service_key(authentication: bytes, service_id: bytes) -> bytes:
    """The key of one service."""
    return read_fixed(lambda out, n: lib.keyprov_service_key(
        authentication, len(authentication), service_id, len(service_id), out, n), KEY_LEN)


def service_mac(service: bytes, transcript: bytes) -> bytes:
    """The registration MAC of `transcript`."""
    return read_fixed(lambda out, n: lib.keyprov_service_mac(
        service, len(service), transcript, len(transcript), out, n), KEY_LEN)


def service_mac_verify(service: bytes, transcript: bytes, tag: bytes) -> None:
    """Raises `KeyprovError` (code 304) unless `tag` is the MAC of `transcript`."""
    check(lib.keyprov_service_mac_verify(service, len(service), transcript, len(transcript),
                                         tag, len(tag)))


def session_keys(service: bytes, key_id: bytes, service_id: bytes, device_nonce: bytes,
                 registrar_nonce: bytes) -> tuple:
    """(device to registrar, registrar to device) session keys after a registration."""
    context = SessionContext(key_id, len(key_id), service_id, len(service_id), device_nonce,
                             len(device_nonce), registrar_nonce, len(registrar_nonce))
    d2r, r2d = ctypes.create_string_buffer(KEY_LEN), ctypes.create_string_buffer(KEY_LEN)
    check(lib.keyprov_session_keys(service, len(service), ctypes.byref(context), d2r, KEY_LEN,
                                   r2d, KEY_LEN))
    return d2r.raw, r2d.raw


def digest_password(service: bytes) -> str:
    """The SIP Digest password of a service key: 32 characters."""
    return read_text(lambda b, n, o: lib.keyprov_digest_password(service, len(service), b, n, o))


def pin_signing_key(device_key: bytes, pin: str, salt: bytes) -> bytes:
    """The signing key bound to the device key, the user's PIN and salt (through the verifier)."""
    p = pin.encode()
    return read_fixed(lambda out, n: lib.keyprov_pin_signing_key(
        device_key, len(device_key), p, len(p), salt, len(salt), out, n), KEY_LEN)


def pin_signing_key_from_verifier(device_key: bytes, verifier: bytes) -> bytes:
    """The same signing key from the user's PIN verifier, as the agent derives it."""
    return read_fixed(lambda out, n: lib.keyprov_pin_signing_key_from_verifier(
        device_key, len(device_key), verifier, len(verifier), out, n), KEY_LEN)


def pin_sign(key: bytes, message: bytes) -> bytes:
    """The PIN signature of `message`."""
    return read_fixed(lambda out, n: lib.keyprov_pin_sign(
        key, len(key), message, len(message), out, n), KEY_LEN)


def pin_verify(key: bytes, message: bytes, signature: bytes) -> None:
    """Raises `KeyprovError` (code 304) unless `signature` signs `message`."""
    check(lib.keyprov_pin_verify(key, len(key), message, len(message), signature,
                                 len(signature)))


def pin_verifier(salt: bytes, pin: str) -> bytes:
    """The verifier a directory stores for a user's PIN."""
    p = pin.encode()
    return read_fixed(lambda out, n: lib.keyprov_pin_verifier(
        salt, len(salt), p, len(p), out, n), KEY_LEN)


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    """HKDF-Extract with SHA-256 (RFC 5869)."""
    return read_fixed(lambda out, n: lib.keyprov_hkdf_extract(
        salt, len(salt), ikm, len(ikm), out, n), KEY_LEN)


def hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    """HKDF-Expand with SHA-256 (RFC 5869): `length` bytes, at most 8160."""
    return read_fixed(lambda out, n: lib.keyprov_hkdf_expand(
        prk, len(prk), info, len(info), out, n), length)
