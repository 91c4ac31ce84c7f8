"""ctypes declarations of the role state machines' structs and functions."""

import ctypes

from ._native import RNG_CALLBACK, STRUCTS, check_layouts, lib

c_result, c_size = ctypes.c_uint32, ctypes.c_size_t
c_bytes, c_void_p = ctypes.c_char_p, ctypes.c_void_p
u8, u16, u32, u64 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64
P = ctypes.POINTER
c_size_p = P(c_size)


def _array(n):
    return ctypes.c_uint8 * n


class DeviceProvisioningConfig(ctypes.Structure):
    _fields_ = [
        ("trust_anchor", _array(32)), ("subject", u32),
        ("device_id", c_bytes), ("device_id_len", c_size), ("proposed_key_id", c_void_p),
        ("login", c_bytes), ("login_len", c_size), ("pin", c_bytes), ("pin_len", c_size),
        ("salt", c_bytes), ("salt_len", c_size),
        ("expected_agent", c_bytes), ("expected_agent_len", c_size),
        ("has_last_counter", u8), ("require_address", u8), ("last_counter", u32),
        ("response_timeout", u64),
    ]


class DeviceRegistrationConfig(ctypes.Structure):
    _fields_ = [
        ("service", c_bytes), ("service_len", c_size), ("mode", u32), ("sequence", u64),
        ("login", c_bytes), ("login_len", c_size), ("pin", c_bytes), ("pin_len", c_size),
        ("salt", c_bytes), ("salt_len", c_size), ("response_timeout", u64),
    ]


class DeviceEvent(ctypes.Structure):
    _fields_ = [
        ("kind", u32), ("error", c_result), ("handle", u64), ("not_after", u64),
        ("counter", u32), ("key_id_len", u8), ("agent_id_len", u8), ("key_id", _array(75)),
        ("agent_id", _array(32)), ("key", _array(32)), ("send_key", _array(32)),
        ("receive_key", _array(32)),
    ]


class AgentEvent(ctypes.Structure):
    _fields_ = [
        ("kind", u32), ("error", c_result), ("handle", u64), ("time", u64), ("counter", u32),
        ("reservation", u8), ("device_type", u8), ("device_value_len", u8),
        ("key_id_len", u8), ("device_value", _array(32)), ("key_id", _array(75)),
        ("has_login", u8), ("login", _array(128)), ("login_len", c_size),
        ("registrar", _array(32)), ("service", _array(1024)), ("service_len", c_size),
    ]


class AgentUser(ctypes.Structure):
    _fields_ = [("verifier", _array(32)), ("recent_failures", u32), ("has_verifier", u8)]


class KeyCheck(ctypes.Structure):
    _fields_ = [
        ("authorized", u8), ("has_pin_verifier", u8), ("status", u32), ("not_after", u64),
        ("pin_verifier", _array(32)),
    ]


class RegistrarConfig(ctypes.Structure):
    _fields_ = [
        ("service", c_bytes), ("service_len", c_size), ("challenge_lifetime", u64),
        ("clock_window", u64), ("registration_lifetime", u64),
        ("key_cache_capacity", c_size), ("replay_cache_capacity", c_size),
    ]


class RegistrarEvent(ctypes.Structure):
    _fields_ = [
        ("kind", u32), ("error", c_result), ("handle", u64), ("not_after", u64),
        ("key_id_len", u8), ("has_login", u8), ("key_id", _array(75)),
        ("login", _array(128)), ("login_len", c_size), ("send_key", _array(32)),
        ("receive_key", _array(32)),
    ]


class FetchedKey(ctypes.Structure):
    _fields_ = [
        ("service_key", _array(32)), ("not_after", u64), ("has_pin_key", u8),
        ("pin_key", _array(32)),
    ]


STRUCTS.update({
    "keyprov_device_provisioning_config": DeviceProvisioningConfig,
    "keyprov_device_registration_config": DeviceRegistrationConfig,
    "keyprov_device_event": DeviceEvent,
    "keyprov_agent_event": AgentEvent,
    "keyprov_agent_user": AgentUser,
    "keyprov_key_check": KeyCheck,
    "keyprov_registrar_config": RegistrarConfig,
    "keyprov_registrar_event": RegistrarEvent,
    "keyprov_fetched_key": FetchedKey,
})

_OUT = P(c_void_p)
_BUF = [c_void_p, c_size, c_size_p]
PROTOTYPES = {
    "keyprov_device_provisioning_new": [P(DeviceProvisioningConfig), _OUT],
    "keyprov_device_provisioning_handle_address": [c_void_p],
    "keyprov_device_provisioning_handle_connected": [c_void_p, u64, c_bytes, c_size, c_bytes,
                                                     c_size],
    "keyprov_device_provisioning_handle_message": [c_void_p, u64, c_bytes, c_size],
    "keyprov_device_provisioning_handle_store_result": [c_void_p, u64, c_result],
    "keyprov_device_provisioning_handle_closed": [c_void_p],
    "keyprov_device_provisioning_handle_timeout": [c_void_p, u64],
    "keyprov_device_provisioning_poll_timeout": [c_void_p, P(u64)],
    "keyprov_device_provisioning_poll_transmit": [c_void_p] + _BUF,
    "keyprov_device_provisioning_poll_event": [c_void_p, P(DeviceEvent)],
    "keyprov_device_registration_new": [P(DeviceRegistrationConfig), c_void_p, c_bytes, c_size,
                                        _OUT],
    "keyprov_device_registration_start": [c_void_p, u64, RNG_CALLBACK, c_void_p],
    "keyprov_device_registration_handle_message": [c_void_p, c_bytes, c_size],
    "keyprov_device_registration_handle_timeout": [c_void_p, u64],
    "keyprov_device_registration_poll_timeout": [c_void_p, P(u64)],
    "keyprov_device_registration_poll_transmit": [c_void_p] + _BUF,
    "keyprov_device_registration_poll_event": [c_void_p, P(DeviceEvent)],
    "keyprov_agent_config_new": [c_bytes, c_size, u64, u8, u32, _OUT],
    "keyprov_agent_config_add_master_key": [c_void_p, c_bytes, c_size, u16],
    "keyprov_agent_config_retire_epoch": [c_void_p, u16],
    "keyprov_agent_provisioning_new": [_OUT],
    "keyprov_agent_provisioning_handle_connected": [c_void_p, c_bytes, c_size],
    "keyprov_agent_provisioning_handle_message": [c_void_p, c_void_p, RNG_CALLBACK, c_void_p,
                                                  c_bytes, c_size],
    "keyprov_agent_provisioning_handle_user_result": [c_void_p, c_void_p, u64, u64,
                                                      P(AgentUser)],
    "keyprov_agent_provisioning_handle_counter_result": [c_void_p, c_void_p, u64, u64,
                                                         c_result, u32],
    "keyprov_agent_provisioning_poll_transmit": [c_void_p] + _BUF,
    "keyprov_agent_provisioning_poll_event": [c_void_p, P(AgentEvent)],
    "keyprov_agent_key_service_new": [c_bytes, c_size, _OUT],
    "keyprov_agent_key_service_handle_message": [c_void_p, c_void_p, c_bytes, c_size],
    "keyprov_agent_key_service_handle_check_result": [c_void_p, c_void_p, u64, u64,
                                                      P(KeyCheck)],
    "keyprov_agent_key_service_poll_transmit": [c_void_p] + _BUF,
    "keyprov_agent_key_service_poll_event": [c_void_p, P(AgentEvent)],
    "keyprov_registrar_new": [P(RegistrarConfig), _OUT],
    "keyprov_registrar_session_new": [_OUT],
    "keyprov_registrar_session_handle_message": [c_void_p, c_void_p, u64, RNG_CALLBACK,
                                                 c_void_p, c_bytes, c_size],
    "keyprov_registrar_session_handle_key_result": [c_void_p, c_void_p, u64, RNG_CALLBACK,
                                                    c_void_p, u64, c_result, P(FetchedKey)],
    "keyprov_registrar_session_handle_timeout": [c_void_p, u64],
    "keyprov_registrar_session_poll_timeout": [c_void_p, P(u64)],
    "keyprov_registrar_session_poll_transmit": [c_void_p] + _BUF,
    "keyprov_registrar_session_poll_event": [c_void_p, P(RegistrarEvent)],
    "keyprov_key_client_new": [_OUT],
    "keyprov_key_client_request": [c_void_p, c_void_p, c_bytes, c_size, c_bytes, c_size, P(u32)],
    "keyprov_key_client_handle_message": [c_void_p, c_bytes, c_size, P(u32), P(c_result),
                                          P(FetchedKey)],
    "keyprov_key_client_poll_transmit": [c_void_p] + _BUF,
}
FREES = [
    "keyprov_device_provisioning_free", "keyprov_device_registration_free",
    "keyprov_agent_config_free", "keyprov_agent_provisioning_free",
    "keyprov_agent_key_service_free", "keyprov_registrar_free", "keyprov_registrar_session_free",
    "keyprov_key_client_free",
]

for _name, _argtypes in PROTOTYPES.items():
    getattr(lib, _name).restype = c_result
    getattr(lib, _name).argtypes = _argtypes
for _name in FREES:
    getattr(lib, _name).restype = None
    getattr(lib, _name).argtypes = [c_void_p]

check_layouts()
