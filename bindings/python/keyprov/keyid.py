"""Key identifiers and device identifiers."""

import ctypes

from ._errors import check, read_buffer, read_text
from ._native import KeyIdInfo, lib
from ._object import Owned

DEVICE_TYPES = {1: "ext", 2: "sn", 3: "user", 4: "ipv4", 5: "ipv6", 6: "mac"}
VALUE_SOURCES = {1: "random", 2: "key database", 3: "hash"}


class KeyId(Owned):
    """An immutable key identifier. Make one with `structured`, `unstructured`, `decode` or
    `parse`; `bytes(key_id)` is the binary form and `str(key_id)` the text form."""

    _free = lib.keyprov_key_id_free

    @classmethod
    def _made(cls, call) -> "KeyId":
        pointer = ctypes.c_void_p()
        check(call(ctypes.byref(pointer)))
        return cls(pointer)

    @classmethod
    def structured(cls, epoch: int, agent: str, device: str, counter: int) -> "KeyId":
        """The `counter`-th key `agent` issued to `device` (typed text, e.g. `mac:...`)."""
        a, d = agent.encode(), device.encode()
        return cls._made(lambda out: lib.keyprov_key_id_new_structured(
            epoch, a, len(a), d, len(d), counter, out))

    @classmethod
    def unstructured(cls, epoch: int, agent: str, source: int, value: bytes) -> "KeyId":
        """A key identifier holding `value` (1 to 32 bytes) from `source` (1 random, 2 key
        database, 3 hash)."""
        a = agent.encode()
        return cls._made(lambda out: lib.keyprov_key_id_new_unstructured(
            epoch, a, len(a), source, value, len(value), out))

    @classmethod
    def decode(cls, data: bytes) -> "KeyId":
        """From the canonical binary form."""
        return cls._made(lambda out: lib.keyprov_key_id_decode(data, len(data), out))

    @classmethod
    def parse(cls, text: str) -> "KeyId":
        """From the canonical text form (`kp1...`)."""
        t = text.encode()
        return cls._made(lambda out: lib.keyprov_key_id_parse(t, len(t), out))

    def __bytes__(self) -> bytes:
        return read_buffer(lambda b, n, o: lib.keyprov_key_id_encode(self.pointer, b, n, o))

    def __str__(self) -> str:
        return read_text(lambda b, n, o: lib.keyprov_key_id_text(self.pointer, b, n, o))

    def __repr__(self) -> str:
        return f"KeyId({str(self)!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, KeyId) and lib.keyprov_key_id_equal(self.pointer,
                                                                     other.pointer) == 1

    def __hash__(self) -> int:
        return hash(bytes(self))

    @property
    def device(self) -> str:
        """The device's canonical typed text; `KeyprovError` for an unstructured one."""
        return read_text(lambda b, n, o: lib.keyprov_key_id_device_text(self.pointer, b, n, o))

    def info(self) -> dict:
        """Every field: version, form, epoch, agent, and counter and device type, or value
        source, and the value bytes."""
        raw = KeyIdInfo()
        check(lib.keyprov_key_id_inspect(self.pointer, ctypes.byref(raw)))
        info = {
            "version": raw.version,
            "structured": raw.form == 1,
            "epoch": raw.epoch,
            "agent": bytes(raw.agent[: raw.agent_len]).decode(),
            "value": bytes(raw.value[: raw.value_len]),
        }
        if raw.form == 1:
            info.update(counter=raw.counter, device_type=DEVICE_TYPES[raw.device_type])
        else:
            info.update(source=VALUE_SOURCES[raw.value_source])
        return info

    def successor(self) -> "KeyId":
        """The same device's next key identifier: the counter plus one."""
        return KeyId._made(lambda out: lib.keyprov_key_id_successor(self.pointer, out))


def device_id_canonical(text: str) -> str:
    """The canonical typed text of a device identifier in any accepted spelling."""
    t = text.encode()
    return read_text(lambda b, n, o: lib.keyprov_device_id_canonical(t, len(t), b, n, o))
