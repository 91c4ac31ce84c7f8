"""The common shape of a Python object that owns a library object."""

import ctypes


class Owned:
    """Owns one pointer from the library and frees it once: on `close`, on leaving a `with`
    block, or when collected."""

    _free = None
    _pointer = None

    def __init__(self, pointer: ctypes.c_void_p):
        self._pointer = pointer

    @property
    def pointer(self) -> ctypes.c_void_p:
        if not self._pointer:
            raise ValueError(f"{type(self).__name__} is closed")
        return self._pointer

    def close(self) -> None:
        if self._pointer:
            type(self)._free(self._pointer)
            self._pointer = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
