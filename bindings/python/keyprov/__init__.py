"""keyprov: key provisioning and registration authentication for enterprise IP phones.

A ctypes binding of the keyprov C library. Bytes in, bytes out; failures raise
`KeyprovError`; objects that hold library state are context managers.
"""

from ._errors import KeyprovError, result_message
from ._native import lib
from .digest import (
    DigestClient,
    DigestRegistrar,
    MD5,
    SHA256,
    SHA512_256,
    digest_ha1,
)
from .drbg import Drbg
from .keyid import KeyId, device_id_canonical
from .keys import (
    KEY_LEN,
    KeySchedule,
    authentication_key,
    digest_password,
    hkdf_expand,
    hkdf_extract,
    master_key_from_seed,
    pin_sign,
    pin_signing_key,
    pin_signing_key_from_verifier,
    pin_verifier,
    pin_verify,
    service_key,
    service_mac,
    service_mac_verify,
    session_keys,
)


def version() -> str:
    """The version of the loaded library."""
    return lib.keyprov_version().decode()


__all__ = [
    "KEY_LEN", "MD5", "SHA256", "SHA512_256", "DigestClient", "DigestRegistrar", "Drbg",
    "KeyId", "KeySchedule", "KeyprovError", "authentication_key", "device_id_canonical",
    "digest_ha1", "digest_password", "hkdf_expand", "hkdf_extract", "master_key_from_seed",
    "pin_sign", "pin_signing_key", "pin_signing_key_from_verifier", "pin_verifier", "pin_verify",
    "result_message", "service_key", "service_mac", "service_mac_verify", "session_keys", "version",
]

from .roles import (  # noqa: E402  (after the names the roles module builds on)
    AgentConfig,
    AgentProvisioning,
    DeviceProvisioning,
    DeviceRegistration,
    Event,
    KeyClient,
    KeyService,
    Registrar,
    RegistrarSession,
)

__all__ += [
    "AgentConfig", "AgentProvisioning", "DeviceProvisioning", "DeviceRegistration", "Event",
    "KeyClient", "KeyService", "Registrar", "RegistrarSession",
]
