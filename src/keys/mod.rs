//! Key material and the key schedule.
//!
//! Every derivation is HMAC-SHA-256 under a parent key, over a message that starts with the
//! purpose's label, length-prefixed, followed by the purpose's fields, each length-prefixed
//! with two bytes (`lp(x) = u16(len(x)) || x`). docs/protocol.md section 4 lists every label and
//! encoding. The chain is:
//!
//! ```text
//! seed --HMAC_DRBG--> MasterKey (per enterprise and epoch)
//!   MasterKeySchedule: Kd = HMAC(master, lp(label))          kept as a precomputed HmacKey
//!     DeviceSecretKey     = HMAC(Kd, 0x01 || key identifier)
//!       AuthenticationKey = HMAC(device key, lp(label))
//!         ServiceKey      = HMAC(auth key, lp(label) || lp(service identifier))
//!           ServiceMacKey, SessionKeys, DigestPassword
//!       PinSigningKey     = HMAC(device key, lp(label) || lp(PinVerifier))
//! PinVerifier             = HMAC(salt, lp(label) || lp(pin))    what the agent's directory stores
//! ```

mod hkdf;
mod hmac;
mod master;
mod schedule;
mod sha256;

pub use self::hkdf::{HKDF_MAX_OUTPUT_LEN, hkdf_expand, hkdf_extract};
pub use self::hmac::{HmacKey, KEYED_STATE_LEN, TAG_LEN};
pub use self::master::{ENTERPRISE_ID_MAX_LEN, MASTER_SEED_MIN_LEN, MasterKeyring};
pub use self::schedule::{
    DIGEST_PASSWORD_ALPHABET, KEY_ID_FAST_MAX_LEN, KEY_ID_MAX_LEN, MasterKeySchedule,
    SERVICE_ID_MAX_LEN, SESSION_NONCE_MAX_LEN, SESSION_NONCE_MIN_LEN, ServiceMacKey,
    SessionContext, SessionKeys,
};
/// Counts SHA-256 compressions, for the cost claims of unit tests elsewhere in the crate.
#[cfg(all(test, feature = "std"))]
pub(crate) use self::sha256::counter;

use crate::Error;

/// Labels, one per purpose. Each is fed as `lp(label)` at the start of its message.
pub mod labels {
    /// Personalization prefix of the HMAC_DRBG that makes a master key from a seed.
    pub const MASTER_KEY: &[u8] = b"keyprov v1 master key";
    /// Derives the device key subkey `Kd` from the master key.
    pub const DEVICE_KEY: &[u8] = b"keyprov v1 device key";
    /// Derives the authentication key from the device secret key.
    pub const AUTHENTICATION_KEY: &[u8] = b"keyprov v1 authentication key";
    /// Derives a per-service key from the authentication key.
    pub const SERVICE_KEY: &[u8] = b"keyprov v1 service key";
    /// Derives the registration MAC key from a service key.
    pub const SERVICE_MAC_KEY: &[u8] = b"keyprov v1 service mac key";
    /// Derives the PIN verifier a directory stores, keyed with the user's salt.
    pub const PIN_VERIFIER: &[u8] = b"keyprov v1 pin verifier";
    /// Derives the PIN-bound signing key from the device secret key and the PIN verifier.
    pub const PIN_VERIFIER_SIGNING_KEY: &[u8] = b"keyprov v1 pin verifier signing key";
    /// Derives the session key for messages from the device to the registrar.
    pub const SESSION_DEVICE_TO_REGISTRAR: &[u8] = b"keyprov v1 session key device to registrar";
    /// Derives the session key for messages from the registrar to the device.
    pub const SESSION_REGISTRAR_TO_DEVICE: &[u8] = b"keyprov v1 session key registrar to device";
    /// Derives the SIP Digest password from a service key.
    pub const DIGEST_PASSWORD: &[u8] = b"keyprov v1 sip digest password";
}

/// Domain byte in front of the key identifier in the device key derivation.
pub const DEVICE_KEY_DOMAIN: u8 = 0x01;

/// `u16(len(x))`, the two-byte big-endian length prefix. Callers check `x` against a limit far
/// below 65536 first.
fn length_prefix(field: &[u8]) -> [u8; 2] {
    (field.len() as u16).to_be_bytes()
}

/// Most fields a derivation takes besides its label (the session keys take four).
const MAX_FIELDS: usize = 4;

/// `HMAC(key, lp(label) || lp(field_1) || ... || lp(field_n))`.
///
/// The pieces are handed to [`HmacKey::mac_parts`] together, so a message that fits one block
/// (most labels with a short field) is hashed from one stack block with no streaming buffers.
fn derive(key: &[u8], label: &[u8], fields: &[&[u8]]) -> [u8; TAG_LEN] {
    derive_keyed(&HmacKey::new(key), label, fields)
}

/// [`derive`] with the HMAC key already set up, for callers that derive several values from
/// one key.
fn derive_keyed(key: &HmacKey, label: &[u8], fields: &[&[u8]]) -> [u8; TAG_LEN] {
    if fields.len() > MAX_FIELDS {
        let mut stream = key.start();
        for part in core::iter::once(&label).chain(fields) {
            stream.update(&length_prefix(part));
            stream.update(part);
        }
        return stream.finish();
    }
    let mut prefixes = [[0u8; 2]; MAX_FIELDS + 1];
    for (prefix, part) in prefixes
        .iter_mut()
        .zip(core::iter::once(&label).chain(fields))
    {
        *prefix = length_prefix(part);
    }
    let mut parts: [&[u8]; 2 * (MAX_FIELDS + 1)] = [&[]; 2 * (MAX_FIELDS + 1)];
    let items = prefixes.iter().zip(core::iter::once(&label).chain(fields));
    for (pair, (prefix, part)) in parts.chunks_exact_mut(2).zip(items) {
        pair[0] = prefix;
        pair[1] = part;
    }
    key.mac_parts(&parts[..2 * (fields.len() + 1)])
}

/// Checks that a variable-length input has `min..=max` bytes.
fn check_len(field: &'static str, value: &[u8], min: usize, max: usize) -> Result<(), Error> {
    if value.len() < min {
        return Err(Error::TooShort {
            field,
            min,
            actual: value.len(),
        });
    }
    if value.len() > max {
        return Err(Error::TooLong {
            field,
            max,
            actual: value.len(),
        });
    }
    Ok(())
}
