//! Secret key types.
//!
//! Each kind of secret is its own type so that one can never be passed where another is
//! expected. All of them zeroize on drop, print as `[redacted]` in `Debug`, compare in constant
//! time, implement neither `Display` nor `Clone`-by-accident (cloning is explicit and keeps the
//! zeroizing type), and are built only from bytes of exactly the right length.

use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::Error;

/// Length in bytes of every keyprov secret key.
pub const KEY_LEN: usize = 32;

/// Overwrites a key with zeros: plain stores kept by an optimization barrier, as sure as one
/// volatile store per byte and a third of the cost of a derivation cheaper (keys are dropped as
/// often as they are derived).
fn wipe_key(key: &mut [u8; KEY_LEN]) {
    *key = [0; KEY_LEN];
    zeroize::optimization_barrier(key);
}

macro_rules! secret_key {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name([u8; KEY_LEN]);

        impl Zeroize for $name {
            fn zeroize(&mut self) {
                wipe_key(&mut self.0);
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                self.zeroize();
            }
        }

        impl ZeroizeOnDrop for $name {}

        impl $name {
            /// Builds the key from exactly [`KEY_LEN`] bytes.
            pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
                let array: [u8; KEY_LEN] = bytes.try_into().map_err(|_| Error::WrongLength {
                    field: $field,
                    expected: KEY_LEN,
                    actual: bytes.len(),
                })?;
                Ok(Self(array))
            }

            /// Wraps an array the caller already owns.
            #[allow(dead_code, reason = "not every key type is made from an owned array")]
            pub(crate) const fn from_array(bytes: [u8; KEY_LEN]) -> Self {
                Self(bytes)
            }

            /// The key bytes. Handle with care: copies made from this are not zeroized.
            pub fn expose_secret(&self) -> &[u8; KEY_LEN] {
                &self.0
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl ConstantTimeEq for $name {
            fn ct_eq(&self, other: &Self) -> Choice {
                self.0.ct_eq(&other.0)
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.ct_eq(other).into()
            }
        }

        impl Eq for $name {}
    };
}

secret_key!(
    /// An HKDF pseudorandom key: the output of extract, the input of expand (RFC 5869).
    PseudorandomKey,
    "pseudorandom key"
);
secret_key!(
    /// The secret key the agent derives for one key identifier and hands to the device.
    DeviceSecretKey,
    "device secret key"
);
secret_key!(
    /// The key the device computes from its secret key once the provisioning session closed.
    AuthenticationKey,
    "authentication key"
);
secret_key!(
    /// A key bound to one service (one registrar realm); useless at any other service.
    ServiceKey,
    "service key"
);
secret_key!(
    /// A signing key bound to the device secret key and the user's PIN.
    PinSigningKey,
    "pin signing key"
);
secret_key!(
    /// A key for secure communication exported after a successful registration.
    SessionKey,
    "session key"
);
secret_key!(
    /// What the agent's directory stores instead of a user's PIN: a salted HMAC of it. A short
    /// PIN behind it can still be found offline by whoever steals the directory.
    PinVerifier,
    "pin verifier"
);

/// The enterprise master key of one epoch, held only by the key generating agent.
///
/// The epoch lets an enterprise roll to a new master key while keys of older epochs still
/// verify until those epochs are retired. The epoch is not secret; the key is.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MasterKey {
    key: [u8; KEY_LEN],
    epoch: u16,
}

impl MasterKey {
    /// Builds the master key of `epoch` from exactly [`KEY_LEN`] bytes.
    pub fn from_bytes(bytes: &[u8], epoch: u16) -> Result<Self, Error> {
        let key: [u8; KEY_LEN] = bytes.try_into().map_err(|_| Error::WrongLength {
            field: "master key",
            expected: KEY_LEN,
            actual: bytes.len(),
        })?;
        Ok(Self { key, epoch })
    }

    /// Wraps an array the caller already owns.
    pub(crate) const fn from_array(key: [u8; KEY_LEN], epoch: u16) -> Self {
        Self { key, epoch }
    }

    /// The epoch this master key belongs to.
    pub const fn epoch(&self) -> u16 {
        self.epoch
    }

    /// The key bytes. Handle with care: copies made from this are not zeroized.
    pub fn expose_secret(&self) -> &[u8; KEY_LEN] {
        &self.key
    }
}

impl core::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "MasterKey {{ epoch: {}, key: [redacted] }}", self.epoch)
    }
}

impl ConstantTimeEq for MasterKey {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.key.ct_eq(&other.key) & self.epoch.ct_eq(&other.epoch)
    }
}

impl PartialEq for MasterKey {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for MasterKey {}

/// Fewest digits a [`Pin`] may have.
pub const PIN_MIN_DIGITS: usize = 4;
/// Most digits a [`Pin`] may have.
pub const PIN_MAX_DIGITS: usize = 16;

/// The user's PIN: a string of ASCII digits `0`-`9`, [`PIN_MIN_DIGITS`] to [`PIN_MAX_DIGITS`]
/// long. Leading zeros count: `0042` and `42` are different PINs.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Pin {
    digits: [u8; PIN_MAX_DIGITS],
    len: u8,
}

impl Pin {
    /// Checks and wraps a PIN typed by the user.
    pub fn new(digits: &str) -> Result<Self, Error> {
        let bytes = digits.as_bytes();
        if bytes.len() < PIN_MIN_DIGITS {
            return Err(Error::TooShort {
                field: "pin",
                min: PIN_MIN_DIGITS,
                actual: bytes.len(),
            });
        }
        if bytes.len() > PIN_MAX_DIGITS {
            return Err(Error::TooLong {
                field: "pin",
                max: PIN_MAX_DIGITS,
                actual: bytes.len(),
            });
        }
        if !bytes.iter().all(u8::is_ascii_digit) {
            return Err(Error::InvalidValue {
                field: "pin",
                reason: "only digits 0-9 allowed",
            });
        }
        let mut pin = Self {
            digits: [0; PIN_MAX_DIGITS],
            len: bytes.len() as u8,
        };
        pin.digits[..bytes.len()].copy_from_slice(bytes);
        Ok(pin)
    }

    /// The ASCII digits, as fed to the key schedule.
    pub(crate) fn digits(&self) -> &[u8] {
        &self.digits[..usize::from(self.len)]
    }
}

impl core::fmt::Debug for Pin {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Pin([redacted])")
    }
}

impl ConstantTimeEq for Pin {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.digits.ct_eq(&other.digits) & self.len.ct_eq(&other.len)
    }
}

impl PartialEq for Pin {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Pin {}

/// Length in characters of every [`DigestPassword`].
pub const DIGEST_PASSWORD_LEN: usize = 32;

/// A SIP Digest password derived from a service key: [`DIGEST_PASSWORD_LEN`] characters from
/// `23456789ABCDEFGHJKLMNPQRSTUVWXYZ`, so it survives any phone configuration format and
/// cannot be misread (no `0`/`O`, no `1`/`I`).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DigestPassword([u8; DIGEST_PASSWORD_LEN]);

impl DigestPassword {
    /// Wraps characters the key schedule produced (always from the alphabet above).
    pub(crate) const fn from_ascii(chars: [u8; DIGEST_PASSWORD_LEN]) -> Self {
        Self(chars)
    }

    /// The password text. Handle with care: copies made from this are not zeroized.
    pub fn expose_secret_password(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl core::fmt::Debug for DigestPassword {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DigestPassword([redacted])")
    }
}

impl ConstantTimeEq for DigestPassword {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for DigestPassword {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for DigestPassword {}

secret_key!(
    /// The registrar's key that authenticates its Digest nonces; every registrar of a cluster
    /// that must accept each other's nonces holds the same one.
    DigestNonceSecret,
    "digest nonce secret"
);

/// Largest [`DigestPassphrase`] accepted, in bytes.
pub const DIGEST_PASSPHRASE_MAX_LEN: usize = 256;

/// Any SIP/HTTP Digest password, of 1 to [`DIGEST_PASSPHRASE_MAX_LEN`] bytes: the secret half
/// of A1 = username ":" realm ":" password.
///
/// keyprov's own [`DigestPassword`] (derived from a service key) converts into it; this type
/// also carries passwords set outside keyprov, as on registrars moving to keyprov
/// credentials. It is held in a zeroizing vector and never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DigestPassphrase(alloc::vec::Vec<u8>);

impl DigestPassphrase {
    /// Wraps the password bytes (1 to [`DIGEST_PASSPHRASE_MAX_LEN`] of them).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.is_empty() {
            return Err(Error::TooShort {
                field: "digest passphrase",
                min: 1,
                actual: 0,
            });
        }
        if bytes.len() > DIGEST_PASSPHRASE_MAX_LEN {
            let actual = bytes.len();
            return Err(Error::TooLong {
                field: "digest passphrase",
                max: 256,
                actual,
            });
        }
        Ok(Self(bytes.to_vec()))
    }

    /// The password bytes. Handle with care: copies made from this are not zeroized.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }
}

impl core::fmt::Debug for DigestPassphrase {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DigestPassphrase([redacted])")
    }
}

impl ConstantTimeEq for DigestPassphrase {
    fn ct_eq(&self, other: &Self) -> Choice {
        // Lengths are not secret; contents are compared in constant time.
        if self.0.len() != other.0.len() {
            return Choice::from(0);
        }
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for DigestPassphrase {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for DigestPassphrase {}

/// A Digest H(A1) = H(username ":" realm ":" password), held as lowercase hexadecimal text.
///
/// Whoever holds it can answer any challenge of its realm and hash algorithm, so it is as
/// secret as the password itself: registrars that must not hold keys store only this.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DigestHa1(alloc::vec::Vec<u8>);

impl DigestHa1 {
    /// Reads H(A1) from hexadecimal text: 32 digits (MD5) or 64 digits (SHA-256,
    /// SHA-512/256), either case.
    pub fn from_hex(hex: &str) -> Result<Self, Error> {
        if hex.len() != 32 && hex.len() != 64 {
            let actual = hex.len();
            return Err(Error::WrongLength {
                field: "digest h(a1)",
                expected: 64,
                actual,
            });
        }
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            let reason = "not hexadecimal";
            return Err(Error::InvalidValue {
                field: "digest h(a1)",
                reason,
            });
        }
        Ok(Self(hex.bytes().map(|b| b.to_ascii_lowercase()).collect()))
    }

    /// The lowercase hexadecimal text. Handle with care: copies made from this are not
    /// zeroized.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }
}

impl core::fmt::Debug for DigestHa1 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DigestHa1([redacted])")
    }
}

impl ConstantTimeEq for DigestHa1 {
    fn ct_eq(&self, other: &Self) -> Choice {
        if self.0.len() != other.0.len() {
            return Choice::from(0);
        }
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for DigestHa1 {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for DigestHa1 {}

impl From<&DigestPassword> for DigestPassphrase {
    fn from(password: &DigestPassword) -> Self {
        Self(password.expose_secret_password().as_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_length_is_refused_with_field_name() {
        let err = MasterKey::from_bytes(&[0u8; 31], 1).unwrap_err();
        assert_eq!(
            err,
            Error::WrongLength {
                field: "master key",
                expected: 32,
                actual: 31
            }
        );
        assert!(ServiceKey::from_bytes(&[0u8; 33]).is_err());
    }

    #[test]
    fn pin_limits_and_leading_zeros() {
        assert_eq!(
            Pin::new("123"),
            Err(Error::TooShort {
                field: "pin",
                min: 4,
                actual: 3
            })
        );
        let long = "1".repeat(17);
        assert_eq!(
            Pin::new(&long),
            Err(Error::TooLong {
                field: "pin",
                max: 16,
                actual: 17
            })
        );
        assert!(matches!(
            Pin::new("12a4"),
            Err(Error::InvalidValue { field: "pin", .. })
        ));
        assert!(matches!(
            Pin::new("１２３４"),
            Err(Error::InvalidValue { .. })
        ));
        assert_ne!(Pin::new("0042").unwrap(), Pin::new("00042").unwrap());
        assert_eq!(Pin::new("0042").unwrap().digits(), b"0042");
        assert_eq!(
            format!("{:?}", Pin::new("0042").unwrap()),
            "Pin([redacted])"
        );
    }

    #[test]
    fn master_key_carries_epoch_and_hides_key() {
        let key = MasterKey::from_bytes(&[0xCD; 32], 7).unwrap();
        assert_eq!(key.epoch(), 7);
        assert_eq!(
            format!("{key:?}"),
            "MasterKey { epoch: 7, key: [redacted] }"
        );
        assert_ne!(key, MasterKey::from_bytes(&[0xCD; 32], 8).unwrap());
    }

    #[test]
    fn debug_is_redacted() {
        let key = DeviceSecretKey::from_bytes(&[0xAB; 32]).unwrap();
        let shown = format!("{key:?}");
        assert_eq!(shown, "DeviceSecretKey([redacted])");
        assert!(!shown.to_lowercase().contains("ab"));
    }

    #[test]
    fn equality_compares_every_byte() {
        let a = SessionKey::from_bytes(&[1; 32]).unwrap();
        let mut other = [1u8; 32];
        other[31] = 2;
        assert_ne!(a, SessionKey::from_bytes(&other).unwrap());
        assert_eq!(a, SessionKey::from_bytes(&[1; 32]).unwrap());
    }
}
