"""The three roles' state machines: device, key generating agent, registrar.

Each machine takes inputs through `handle_*` methods and gives outputs through
`poll_transmit()` (bytes to send, or None) and `poll_event()` (an `Event`, or None); drain
both after every input. Times are seconds on the host's clock; randomness comes from a `Drbg`.
"""

import ctypes

from . import _roles_native as n
from ._errors import OK, check, read_buffer
from ._native import DRBG_RNG, lib
from ._object import Owned

DEVICE_EVENTS = {1: "store_credentials", 2: "close_session", 3: "provisioned",
                 4: "registered", 5: "failed"}
AGENT_EVENTS = {1: "lookup_user", 2: "pin_rejected", 3: "pin_accepted", 4: "reserve_counter",
                5: "issued", 6: "check_key", 7: "failed"}
REGISTRAR_EVENTS = {1: "fetch_key", 2: "registered", 3: "failed", 4: "pin_rejected"}
RESERVATIONS = {1: "device", 2: "anonymous", 3: "proposed"}
MODES = {"challenge": 1, "time": 2, "sequence": 3}
KEY_STATUS = {"current": 1, "superseded": 2, "revoked": 3, "unknown": 4}
NO_TIMEOUT = 2**64 - 1


class Event:
    """What a machine tells its host: `kind` and the fields that kind carries."""

    def __init__(self, kind: str, **fields):
        self.kind = kind
        self.__dict__.update(fields)

    def __repr__(self) -> str:
        shown = {k: v for k, v in self.__dict__.items() if "key" not in k or k == "key_id"}
        return f"Event({shown})"


def _array32(value: bytes, name: str):
    if len(value) != 32:
        raise ValueError(f"{name} must have 32 bytes, not {len(value)}")
    return (ctypes.c_uint8 * 32)(*value)


def _raw(array, length=None) -> bytes:
    return bytes(array[:length] if length is not None else array)


class _Machine(Owned):
    """What every machine shares: draining bytes and events."""

    _prefix = ""
    _event_struct = None

    def _call(self, verb, *args):
        check(getattr(lib, f"{self._prefix}_{verb}")(self.pointer, *args))

    def poll_transmit(self):
        """The next bytes to send, or None."""
        function = getattr(lib, f"{self._prefix}_poll_transmit")
        data = read_buffer(lambda b, size, out: function(self.pointer, b, size, out))
        return data or None

    def poll_event(self):
        """The next `Event`, or None."""
        raw = self._event_struct()
        self._call("poll_event", ctypes.byref(raw))
        event = self._convert(raw) if raw.kind else None
        ctypes.memset(ctypes.byref(raw), 0, ctypes.sizeof(raw))
        return event

    def _deadline(self):
        deadline = ctypes.c_uint64()
        self._call("poll_timeout", ctypes.byref(deadline))
        return None if deadline.value == NO_TIMEOUT else deadline.value


def _user(login, pin, salt):
    if login is None:
        return None, 0, None, 0, None, 0
    pin, salt = (pin or "").encode(), salt or b""
    return login, len(login), pin, len(pin), salt, len(salt)


def _device_event(raw) -> Event:
    return Event(DEVICE_EVENTS[raw.kind], error=raw.error, handle=raw.handle,
                 not_after=raw.not_after, counter=raw.counter,
                 key_id=_raw(raw.key_id, raw.key_id_len),
                 agent_id=_raw(raw.agent_id, raw.agent_id_len).decode(), key=_raw(raw.key),
                 send_key=_raw(raw.send_key), receive_key=_raw(raw.receive_key))


class DeviceProvisioning(_Machine):
    """The device side of provisioning with the key generating agent."""

    _prefix, _event_struct = "keyprov_device_provisioning", n.DeviceEvent
    _free = lib.keyprov_device_provisioning_free
    poll_timeout = _Machine._deadline

    def __init__(self, trust_anchor: bytes, device_id: str = None, login: bytes = None,
                 pin: str = None, salt: bytes = b"", expected_agent: str = None,
                 last_counter: int = None, require_address: bool = False,
                 response_timeout: int = 30):
        device = device_id.encode() if device_id else None
        agent = expected_agent.encode() if expected_agent else None
        config = n.DeviceProvisioningConfig(
            _array32(trust_anchor, "trust_anchor"), 1 if device else 2, device,
            len(device or b""), None, *_user(login, pin, salt), agent, len(agent or b""),
            last_counter is not None, require_address, last_counter or 0, response_timeout)
        pointer = ctypes.c_void_p()
        check(lib.keyprov_device_provisioning_new(ctypes.byref(config), ctypes.byref(pointer)))
        super().__init__(pointer)

    _convert = staticmethod(_device_event)

    def handle_address(self):
        self._call("handle_address")

    def handle_connected(self, now: int, agent_identity: bytes, channel_binding: bytes):
        self._call("handle_connected", now, agent_identity, len(agent_identity),
                   channel_binding, len(channel_binding))

    def handle_message(self, now: int, data: bytes):
        self._call("handle_message", now, data, len(data))

    def handle_store_result(self, handle: int, error: int = OK):
        self._call("handle_store_result", handle, error)

    def handle_closed(self):
        self._call("handle_closed")

    def handle_timeout(self, now: int):
        self._call("handle_timeout", now)


class DeviceRegistration(_Machine):
    """The device side of one registration with a registrar."""

    _prefix, _event_struct = "keyprov_device_registration", n.DeviceEvent
    _free = lib.keyprov_device_registration_free
    _convert = staticmethod(_device_event)
    poll_timeout = _Machine._deadline

    def __init__(self, service: bytes, key_id, secret_key: bytes, mode: str = "challenge",
                 sequence: int = 0, login: bytes = None, pin: str = None, salt: bytes = b"",
                 response_timeout: int = 10):
        config = n.DeviceRegistrationConfig(service, len(service), MODES[mode], sequence,
                                            *_user(login, pin, salt), response_timeout)
        pointer = ctypes.c_void_p()
        check(lib.keyprov_device_registration_new(ctypes.byref(config), key_id.pointer,
                                                  secret_key, len(secret_key),
                                                  ctypes.byref(pointer)))
        super().__init__(pointer)

    def start(self, now: int, rng):
        self._call("start", now, DRBG_RNG, rng.pointer)

    def handle_message(self, data: bytes):
        self._call("handle_message", data, len(data))

    def handle_timeout(self, now: int):
        self._call("handle_timeout", now)


class AgentConfig(Owned):
    """What every agent machine shares: agent identifier, master keys, policy."""

    _free = lib.keyprov_agent_config_free

    def __init__(self, agent_id: str, key_lifetime: int, require_pin: bool = False,
                 max_pin_failures: int = 3):
        pointer, a = ctypes.c_void_p(), agent_id.encode()
        check(lib.keyprov_agent_config_new(a, len(a), key_lifetime, require_pin,
                                           max_pin_failures, ctypes.byref(pointer)))
        super().__init__(pointer)

    def add_master_key(self, master_key: bytes, epoch: int):
        check(lib.keyprov_agent_config_add_master_key(self.pointer, master_key,
                                                      len(master_key), epoch))

    def retire_epoch(self, epoch: int):
        check(lib.keyprov_agent_config_retire_epoch(self.pointer, epoch))


def _agent_event(raw) -> Event:
    return Event(AGENT_EVENTS[raw.kind], error=raw.error, handle=raw.handle, time=raw.time,
                 counter=raw.counter, reservation=RESERVATIONS.get(raw.reservation),
                 device_type=raw.device_type,
                 device_value=_raw(raw.device_value, raw.device_value_len),
                 key_id=_raw(raw.key_id, raw.key_id_len),
                 login=_raw(raw.login, raw.login_len) if raw.has_login else None,
                 registrar=_raw(raw.registrar), service=_raw(raw.service, raw.service_len))


class AgentProvisioning(_Machine):
    """One device's provisioning conversation, on the agent's side."""

    _prefix, _event_struct = "keyprov_agent_provisioning", n.AgentEvent
    _free = lib.keyprov_agent_provisioning_free
    _convert = staticmethod(_agent_event)

    def __init__(self):
        pointer = ctypes.c_void_p()
        check(lib.keyprov_agent_provisioning_new(ctypes.byref(pointer)))
        super().__init__(pointer)

    def handle_connected(self, channel_binding: bytes):
        self._call("handle_connected", channel_binding, len(channel_binding))

    def handle_message(self, config: AgentConfig, rng, data: bytes):
        self._call("handle_message", config.pointer, DRBG_RNG, rng.pointer, data, len(data))

    def handle_user_result(self, config, now, handle, verifier: bytes = None,
                           recent_failures: int = 0):
        """`verifier` None means the login is unknown; its `recent_failures` count all the same."""
        known = verifier is not None
        verifier = _array32(verifier if known else bytes(32), "verifier")
        user = n.AgentUser(verifier, recent_failures, int(known))
        self._call("handle_user_result", config.pointer, now, handle, ctypes.byref(user))

    def handle_counter_result(self, config, now, handle, counter: int = 0, error: int = OK):
        self._call("handle_counter_result", config.pointer, now, handle, error, counter)


class KeyService(_Machine):
    """One registrar connection asking the agent for per-service keys."""

    _prefix, _event_struct = "keyprov_agent_key_service", n.AgentEvent
    _free = lib.keyprov_agent_key_service_free
    _convert = staticmethod(_agent_event)

    def __init__(self, registrar_identity: bytes):
        pointer = ctypes.c_void_p()
        check(lib.keyprov_agent_key_service_new(registrar_identity, len(registrar_identity),
                                                ctypes.byref(pointer)))
        super().__init__(pointer)

    def handle_message(self, config: AgentConfig, data: bytes):
        self._call("handle_message", config.pointer, data, len(data))

    def handle_check_result(self, config, now, handle, authorized: bool, status: str,
                            not_after: int = 0, pin_verifier: bytes = None):
        check_struct = n.KeyCheck(authorized, pin_verifier is not None, KEY_STATUS[status],
                                  not_after, _array32(pin_verifier or bytes(32), "pin_verifier"))
        self._call("handle_check_result", config.pointer, now, handle,
                   ctypes.byref(check_struct))


class Registrar(Owned):
    """What every registration session of one registrar shares."""

    _free = lib.keyprov_registrar_free

    def __init__(self, service: bytes, challenge_lifetime: int = 30, clock_window: int = 60,
                 registration_lifetime: int = 3600, key_cache_capacity: int = 1024,
                 replay_cache_capacity: int = 1024):
        config = n.RegistrarConfig(service, len(service), challenge_lifetime, clock_window,
                                   registration_lifetime, key_cache_capacity,
                                   replay_cache_capacity)
        pointer = ctypes.c_void_p()
        check(lib.keyprov_registrar_new(ctypes.byref(config), ctypes.byref(pointer)))
        super().__init__(pointer)


class RegistrarSession(_Machine):
    """One registration attempt, on the registrar's side."""

    _prefix, _event_struct = "keyprov_registrar_session", n.RegistrarEvent
    _free = lib.keyprov_registrar_session_free
    poll_timeout = _Machine._deadline

    def __init__(self):
        pointer = ctypes.c_void_p()
        check(lib.keyprov_registrar_session_new(ctypes.byref(pointer)))
        super().__init__(pointer)

    @staticmethod
    def _convert(raw) -> Event:
        return Event(REGISTRAR_EVENTS[raw.kind], error=raw.error, handle=raw.handle,
                     not_after=raw.not_after, key_id=_raw(raw.key_id, raw.key_id_len),
                     login=_raw(raw.login, raw.login_len) if raw.has_login else None,
                     send_key=_raw(raw.send_key), receive_key=_raw(raw.receive_key))

    def handle_message(self, registrar: Registrar, now: int, rng, data: bytes):
        self._call("handle_message", registrar.pointer, now, DRBG_RNG, rng.pointer, data,
                   len(data))

    def handle_key_result(self, registrar, now, rng, handle, key=None, error: int = OK):
        """`key` is what `KeyClient.handle_message` returned; `error` a refusal code."""
        self._call("handle_key_result", registrar.pointer, now, DRBG_RNG, rng.pointer, handle,
                   error, ctypes.byref(key) if key is not None else None)

    def handle_timeout(self, now: int):
        self._call("handle_timeout", now)


class KeyClient(_Machine):
    """Key requests from a registrar to the agent over one mutual TLS connection."""

    _prefix = "keyprov_key_client"
    _free = lib.keyprov_key_client_free

    def __init__(self):
        pointer = ctypes.c_void_p()
        check(lib.keyprov_key_client_new(ctypes.byref(pointer)))
        super().__init__(pointer)

    def request(self, key_id, service: bytes, login: bytes = None) -> int:
        """Queues a key request; returns the request identifier its answer carries."""
        request_id, login = ctypes.c_uint32(), login or b""
        self._call("request", key_id.pointer, service, len(service), login, len(login),
                   ctypes.byref(request_id))
        return request_id.value

    def handle_message(self, data: bytes):
        """(request id, result code, fetched key struct) for one answer of the agent."""
        request_id, code, key = ctypes.c_uint32(), ctypes.c_uint32(), n.FetchedKey()
        self._call("handle_message", data, len(data), ctypes.byref(request_id),
                   ctypes.byref(code), ctypes.byref(key))
        return request_id.value, code.value, key
