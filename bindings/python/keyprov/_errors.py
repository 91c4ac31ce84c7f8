"""Result codes become exceptions carrying the code and the library's message."""

import ctypes

from ._native import lib

OK = 0
BUFFER_TOO_SMALL = 404


class KeyprovError(Exception):
    """A keyprov call failed. `code` is the stable result code of the C API (100-599 are
    `keyprov::Error::code()`, 900-999 the C boundary); `message` names the field and limit."""

    def __init__(self, code: int, message: str):
        super().__init__(f"{message} (keyprov result {code})")
        self.code = code
        self.message = message

    @property
    def group(self) -> int:
        """Hundreds of the code: 1 input, 2 decode, 3 outcome, 4 usage, 5 Digest, 9 C ABI."""
        return self.code // 100


def _text(call) -> str:
    needed = ctypes.c_size_t(0)
    call(None, 0, ctypes.byref(needed))
    buf = ctypes.create_string_buffer(max(needed.value, 1))
    call(buf, needed.value, ctypes.byref(needed))
    return buf.value.decode()


def result_message(code: int) -> str:
    """The fixed sentence of a result code."""
    return _text(lambda buf, n, out: lib.keyprov_result_message(code, buf, n, out))


def check(code: int) -> None:
    """Raises `KeyprovError` with the thread's last message unless `code` is success."""
    if code != OK:
        raise KeyprovError(code, _text(lib.keyprov_last_error_message) or result_message(code))


def read_buffer(call) -> bytes:
    """Calls a `buf, buf_len, len_out` function twice: to learn the size, then to fill."""
    needed = ctypes.c_size_t(0)
    code = call(None, 0, ctypes.byref(needed))
    if code not in (OK, BUFFER_TOO_SMALL):
        check(code)
    buf = ctypes.create_string_buffer(max(needed.value, 1))
    check(call(buf, needed.value, ctypes.byref(needed)))
    return buf.raw[: needed.value]


def read_text(call) -> str:
    """As `read_buffer` for NUL-terminated text."""
    return read_buffer(call)[:-1].decode()


def read_fixed(call, length: int) -> bytes:
    """Calls an `out, out_len` function with a buffer of exactly `length` bytes."""
    buf = ctypes.create_string_buffer(length)
    check(call(buf, length))
    return buf.raw
