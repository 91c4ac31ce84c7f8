"""SIP and HTTP Digest: the phone's client and the registrar's verifier."""

import ctypes

from ._errors import check, read_text
from ._native import DRBG_RNG, DigestRequest, StoredCredential, Str, Verdict, lib
from ._object import Owned

MD5, SHA256, SHA512_256 = 0x01, 0x02, 0x04
OUTCOMES = {1: "accepted", 2: "unknown key id", 3: "superseded", 4: "revoked",
            5: "wrong response", 6: "replay", 7: "stale", 8: "forged nonce", 9: "malformed"}


def _request(method: str, uri: str, body: bytes) -> DigestRequest:
    m, u = method.encode(), uri.encode()
    return DigestRequest(m, len(m), u, len(u), body, len(body))


def digest_ha1(hash_algorithm: int, username: str, realm: str, password: bytes) -> str:
    """H(username ":" realm ":" password) as lowercase hexadecimal text."""
    u, r = username.encode(), realm.encode()
    return read_text(lambda b, n, o: lib.keyprov_digest_ha1(
        hash_algorithm, u, len(u), r, len(r), password, len(password), b, n, o))


class DigestClient(Owned):
    """One phone's Digest state for one server, holding its password."""

    _free = lib.keyprov_digest_client_free

    def __init__(self, username: str, password: bytes):
        pointer = ctypes.c_void_p()
        u = username.encode()
        check(lib.keyprov_digest_client_new(u, len(u), password, len(password), None,
                                            ctypes.byref(pointer)))
        super().__init__(pointer)

    def handle_challenges(self, values) -> None:
        """The WWW-Authenticate values of a 401 reply."""
        encoded = [v.encode() for v in values]
        array = (Str * len(encoded))(*[Str(e, len(e)) for e in encoded])
        check(lib.keyprov_digest_client_handle_challenges(self.pointer, array, len(encoded)))

    def authorize(self, method: str, uri: str, rng, body: bytes = b"") -> str:
        """The Authorization value; the client nonce is drawn from the `Drbg` `rng`."""
        request = _request(method, uri, body)
        return read_text(lambda b, n, o: lib.keyprov_digest_client_authorize(
            self.pointer, ctypes.byref(request), DRBG_RNG, rng.pointer, b, n, o))

    def authorize_with_cnonce(self, method: str, uri: str, cnonce: str, body: bytes = b""):
        """The Authorization value with a client nonce chosen by the caller."""
        request, c = _request(method, uri, body), cnonce.encode()
        return read_text(lambda b, n, o: lib.keyprov_digest_client_authorize_with_cnonce(
            self.pointer, ctypes.byref(request), c, len(c), b, n, o))

    def handle_authentication_info(self, value: str, body: bytes = b"") -> bool:
        """True if `rspauth` proved the server knows the password, False if absent."""
        verified, v = ctypes.c_uint8(), value.encode()
        check(lib.keyprov_digest_client_handle_authentication_info(
            self.pointer, v, len(v), body, len(body), ctypes.byref(verified)))
        return verified.value == 1

    @property
    def nonce_count(self) -> int:
        count = ctypes.c_uint32()
        check(lib.keyprov_digest_client_nonce_count(self.pointer, ctypes.byref(count)))
        return count.value


class DigestRegistrar(Owned):
    """A registrar's Digest verifier with the default policy."""

    _free = lib.keyprov_digest_registrar_free

    def __init__(self, realm: str, nonce_secret: bytes):
        pointer = ctypes.c_void_p()
        r = realm.encode()
        check(lib.keyprov_digest_registrar_new(r, len(r), None, nonce_secret,
                                               len(nonce_secret), ctypes.byref(pointer)))
        super().__init__(pointer)

    def challenges(self, now: int, rng, stale: bool = False) -> list:
        """The WWW-Authenticate values for a fresh nonce drawn with the `Drbg` `rng`."""
        nonce = read_text(lambda b, n, o: lib.keyprov_digest_registrar_issue_nonce(
            self.pointer, now, DRBG_RNG, rng.pointer, b, n, o)).encode()
        count = ctypes.c_size_t()
        check(lib.keyprov_digest_registrar_challenge_count(self.pointer, ctypes.byref(count)))
        return [read_text(lambda b, n, o, i=i: lib.keyprov_digest_registrar_challenge(
            self.pointer, nonce, len(nonce), int(stale), i, b, n, o))
            for i in range(count.value)]

    @staticmethod
    def username(authorization: str) -> tuple:
        """(username, hashed) of an Authorization value, to look the password up before
        `verify`; `hashed` True means a userhash the store must resolve."""
        credentials, a = ctypes.c_void_p(), authorization.encode()
        check(lib.keyprov_digest_credentials_parse(a, len(a), ctypes.byref(credentials)))
        try:
            hashed = ctypes.c_uint8()
            name = read_text(lambda b, n, o: lib.keyprov_digest_credentials_username(
                credentials, b, n, o, ctypes.byref(hashed)))
        finally:
            lib.keyprov_digest_credentials_free(credentials)
        return name, hashed.value == 1

    def verify(self, authorization: str, method: str, uri: str, now: int,
               password: bytes = None, lookup: int = 1) -> dict:
        """The verdict on an Authorization value: outcome, status code for the phone, stale,
        and the reason code when malformed. `password` is what the store holds; `lookup` 3, 4
        or 5 says the key identifier is unknown, superseded or revoked."""
        credentials = ctypes.c_void_p()
        a = authorization.encode()
        check(lib.keyprov_digest_credentials_parse(a, len(a), ctypes.byref(credentials)))
        try:
            stored = StoredCredential(lookup, 0, password, len(password or b""))
            request, verdict = _request(method, uri, b""), Verdict()
            check(lib.keyprov_digest_registrar_verify(
                self.pointer, credentials, ctypes.byref(request), now, ctypes.byref(stored),
                ctypes.byref(verdict)))
        finally:
            lib.keyprov_digest_credentials_free(credentials)
        return {"outcome": OUTCOMES[verdict.outcome], "status": verdict.status_code,
                "stale": verdict.stale == 1, "reason": verdict.reason}

    def authentication_info(self) -> str:
        """Authentication-Info (with rspauth) of the last accepted verification."""
        return read_text(lambda b, n, o: lib.keyprov_digest_registrar_authentication_info(
            self.pointer, None, 0, b, n, o))
