"""Loading the shared library and declaring the C prototypes this binding calls."""

import ctypes
import ctypes.util
import os

c_result = ctypes.c_uint32
c_size = ctypes.c_size_t
c_bytes = ctypes.c_char_p
c_void_p = ctypes.c_void_p
c_size_p = ctypes.POINTER(ctypes.c_size_t)
RNG_CALLBACK = ctypes.CFUNCTYPE(c_result, c_void_p, ctypes.POINTER(ctypes.c_uint8), c_size)


def _find() -> str:
    explicit = os.environ.get("KEYPROV_LIBRARY")
    if explicit:
        return explicit
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("libkeyprov.so", "libkeyprov.dylib", "keyprov.dll"):
        packaged = os.path.join(here, name)
        if os.path.exists(packaged):
            return packaged
    found = ctypes.util.find_library("keyprov")
    if found is None:
        raise OSError("libkeyprov not found: set KEYPROV_LIBRARY to the path of libkeyprov.so")
    return found


# PyDLL keeps the GIL during every call: library objects are not locked, and Python threads
# sharing one (or a registrar shared by sessions) must not enter it at once.
lib = ctypes.PyDLL(_find())


class Layout(ctypes.Structure):
    """keyprov_layout."""

    _fields_ = [("size", c_size), ("align", c_size), ("offset", c_size)]


class KeyIdInfo(ctypes.Structure):
    """keyprov_key_id_info."""

    _fields_ = [
        ("version", ctypes.c_uint8),
        ("form", ctypes.c_uint8),
        ("epoch", ctypes.c_uint16),
        ("counter", ctypes.c_uint32),
        ("device_type", ctypes.c_uint8),
        ("value_source", ctypes.c_uint8),
        ("agent_len", ctypes.c_uint8),
        ("value_len", ctypes.c_uint8),
        ("agent", ctypes.c_uint8 * 32),
        ("value", ctypes.c_uint8 * 32),
    ]


class SessionContext(ctypes.Structure):
    """keyprov_session_context."""

    _fields_ = [
        ("key_id", c_bytes), ("key_id_len", c_size),
        ("service_id", c_bytes), ("service_id_len", c_size),
        ("device_nonce", c_bytes), ("device_nonce_len", c_size),
        ("registrar_nonce", c_bytes), ("registrar_nonce_len", c_size),
    ]


class Str(ctypes.Structure):
    """keyprov_str."""

    _fields_ = [("ptr", c_bytes), ("len", c_size)]


class DigestRequest(ctypes.Structure):
    """keyprov_digest_request."""

    _fields_ = [
        ("method", c_bytes), ("method_len", c_size),
        ("uri", c_bytes), ("uri_len", c_size),
        ("body", c_bytes), ("body_len", c_size),
    ]


class StoredCredential(ctypes.Structure):
    """keyprov_digest_stored_credential."""

    _fields_ = [
        ("lookup", ctypes.c_uint32), ("hash", ctypes.c_uint32),
        ("secret", c_bytes), ("secret_len", c_size),
    ]


class Verdict(ctypes.Structure):
    """keyprov_digest_verdict."""

    _fields_ = [
        ("outcome", ctypes.c_uint32), ("reason", c_result), ("algorithm", ctypes.c_uint32),
        ("status_code", ctypes.c_uint16), ("stale", ctypes.c_uint8),
    ]


STRUCTS = {
    "keyprov_layout": Layout,
    "keyprov_key_id_info": KeyIdInfo,
    "keyprov_session_context": SessionContext,
    "keyprov_str": Str,
    "keyprov_digest_request": DigestRequest,
    "keyprov_digest_stored_credential": StoredCredential,
    "keyprov_digest_verdict": Verdict,
}

P = ctypes.POINTER
u8, u16, u32, u64 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64

PROTOTYPES = {
    "keyprov_version": (ctypes.c_char_p, []),
    "keyprov_result_message": (c_result, [c_result, c_void_p, c_size, c_size_p]),
    "keyprov_last_error_message": (c_result, [c_void_p, c_size, c_size_p]),
    "keyprov_layout_of": (c_result, [c_bytes, c_size, P(Layout)]),
    "keyprov_drbg_new": (
        c_result, [c_bytes, c_size, c_bytes, c_size, c_bytes, c_size, P(c_void_p)]),
    "keyprov_drbg_reseed": (c_result, [c_void_p, c_bytes, c_size, c_bytes, c_size]),
    "keyprov_drbg_generate": (c_result, [c_void_p, c_bytes, c_size, c_void_p, c_size]),
    "keyprov_drbg_set_reseed_interval": (c_result, [c_void_p, u64]),
    "keyprov_drbg_requests_before_reseed": (c_result, [c_void_p, P(u64)]),
    "keyprov_drbg_free": (None, [c_void_p]),
    "keyprov_key_id_new_structured": (
        c_result, [u16, c_bytes, c_size, c_bytes, c_size, u32, P(c_void_p)]),
    "keyprov_key_id_new_unstructured": (
        c_result, [u16, c_bytes, c_size, u8, c_bytes, c_size, P(c_void_p)]),
    "keyprov_key_id_decode": (c_result, [c_bytes, c_size, P(c_void_p)]),
    "keyprov_key_id_parse": (c_result, [c_bytes, c_size, P(c_void_p)]),
    "keyprov_key_id_encode": (c_result, [c_void_p, c_void_p, c_size, c_size_p]),
    "keyprov_key_id_text": (c_result, [c_void_p, c_void_p, c_size, c_size_p]),
    "keyprov_key_id_device_text": (c_result, [c_void_p, c_void_p, c_size, c_size_p]),
    "keyprov_key_id_inspect": (c_result, [c_void_p, P(KeyIdInfo)]),
    "keyprov_key_id_successor": (c_result, [c_void_p, P(c_void_p)]),
    "keyprov_key_id_equal": (u8, [c_void_p, c_void_p]),
    "keyprov_key_id_free": (None, [c_void_p]),
    "keyprov_device_id_canonical": (c_result, [c_bytes, c_size, c_void_p, c_size, c_size_p]),
    "keyprov_master_key_from_seed": (
        c_result, [c_bytes, c_size, c_bytes, c_size, u16, c_void_p, c_size]),
    "keyprov_key_schedule_new": (c_result, [c_bytes, c_size, u16, P(c_void_p)]),
    "keyprov_key_schedule_epoch": (c_result, [c_void_p, P(u16)]),
    "keyprov_key_schedule_device_key": (c_result, [c_void_p, c_void_p, c_void_p, c_size]),
    "keyprov_key_schedule_device_key_bytes": (
        c_result, [c_void_p, c_bytes, c_size, c_void_p, c_size]),
    "keyprov_key_schedule_free": (None, [c_void_p]),
    "keyprov_authentication_key": (c_result, [c_bytes, c_size, c_void_p, c_size]),
    "keyprov_service_key": (c_result, [c_bytes, c_size, c_bytes, c_size, c_void_p, c_size]),
    "keyprov_service_mac": (c_result, [c_bytes, c_size, c_bytes, c_size, c_void_p, c_size]),
    "keyprov_service_mac_verify": (c_result, [c_bytes, c_size, c_bytes, c_size, c_bytes, c_size]),
    "keyprov_session_keys": (
        c_result, [c_bytes, c_size, P(SessionContext), c_void_p, c_size, c_void_p, c_size]),
    "keyprov_digest_password": (c_result, [c_bytes, c_size, c_void_p, c_size, c_size_p]),
    "keyprov_pin_signing_key": (
        c_result, [c_bytes, c_size, c_bytes, c_size, c_bytes, c_size, c_void_p, c_size]),
    "keyprov_pin_signing_key_from_verifier": (
        c_result, [c_bytes, c_size, c_bytes, c_size, c_void_p, c_size]),
    "keyprov_pin_sign": (c_result, [c_bytes, c_size, c_bytes, c_size, c_void_p, c_size]),
    "keyprov_pin_verify": (c_result, [c_bytes, c_size, c_bytes, c_size, c_bytes, c_size]),
    "keyprov_pin_verifier": (c_result, [c_bytes, c_size, c_bytes, c_size, c_void_p, c_size]),
    "keyprov_hkdf_extract": (c_result, [c_bytes, c_size, c_bytes, c_size, c_void_p, c_size]),
    "keyprov_hkdf_expand": (c_result, [c_bytes, c_size, c_bytes, c_size, c_void_p, c_size]),
    "keyprov_digest_ha1": (
        c_result, [u32, c_bytes, c_size, c_bytes, c_size, c_bytes, c_size, c_void_p, c_size,
                   c_size_p]),
    "keyprov_digest_client_new": (
        c_result, [c_bytes, c_size, c_bytes, c_size, c_void_p, P(c_void_p)]),
    "keyprov_digest_client_handle_challenges": (c_result, [c_void_p, P(Str), c_size]),
    "keyprov_digest_client_authorize": (
        c_result, [c_void_p, P(DigestRequest), RNG_CALLBACK, c_void_p, c_void_p, c_size,
                   c_size_p]),
    "keyprov_digest_client_authorize_with_cnonce": (
        c_result, [c_void_p, P(DigestRequest), c_bytes, c_size, c_void_p, c_size, c_size_p]),
    "keyprov_digest_client_handle_authentication_info": (
        c_result, [c_void_p, c_bytes, c_size, c_bytes, c_size, P(u8)]),
    "keyprov_digest_client_nonce_count": (c_result, [c_void_p, P(u32)]),
    "keyprov_digest_client_free": (None, [c_void_p]),
    "keyprov_digest_registrar_new": (
        c_result, [c_bytes, c_size, c_void_p, c_bytes, c_size, P(c_void_p)]),
    "keyprov_digest_registrar_issue_nonce": (
        c_result, [c_void_p, u64, RNG_CALLBACK, c_void_p, c_void_p, c_size, c_size_p]),
    "keyprov_digest_registrar_challenge_count": (c_result, [c_void_p, c_size_p]),
    "keyprov_digest_registrar_challenge": (
        c_result, [c_void_p, c_bytes, c_size, u8, c_size, c_void_p, c_size, c_size_p]),
    "keyprov_digest_registrar_verify": (
        c_result, [c_void_p, c_void_p, P(DigestRequest), u64, P(StoredCredential), P(Verdict)]),
    "keyprov_digest_registrar_authentication_info": (
        c_result, [c_void_p, c_bytes, c_size, c_void_p, c_size, c_size_p]),
    "keyprov_digest_registrar_free": (None, [c_void_p]),
    "keyprov_digest_credentials_parse": (c_result, [c_bytes, c_size, P(c_void_p)]),
    "keyprov_digest_credentials_username": (
        c_result, [c_void_p, c_void_p, c_size, c_size_p, P(u8)]),
    "keyprov_digest_credentials_free": (None, [c_void_p]),
}

for _name, (_restype, _argtypes) in PROTOTYPES.items():
    _function = getattr(lib, _name)
    _function.restype = _restype
    _function.argtypes = _argtypes

# The C-side callback that draws from a keyprov_drbg passed as userdata.
DRBG_RNG = ctypes.cast(lib.keyprov_drbg_rng_callback, RNG_CALLBACK)


def check_layouts() -> None:
    """Refuses to run against a library whose structs differ from the ctypes declarations."""
    for name, struct in STRUCTS.items():
        _compare(name, ctypes.sizeof(struct), ctypes.alignment(struct), 0)
        for field, ftype in struct._fields_:
            offset = getattr(struct, field).offset
            _compare(f"{name}.{field}", ctypes.sizeof(ftype), ctypes.alignment(ftype), offset)


def _compare(name: str, size: int, align: int, offset: int) -> None:
    layout = Layout()
    encoded = name.encode()
    if lib.keyprov_layout_of(encoded, len(encoded), ctypes.byref(layout)) != 0:
        raise ImportError(f"libkeyprov does not know {name}: header and binding differ")
    if (layout.size, layout.align, layout.offset) != (size, align, offset):
        raise ImportError(f"{name}: library layout {layout.size}/{layout.align}/{layout.offset}"
                          f" differs from the binding's {size}/{align}/{offset}")


check_layouts()
