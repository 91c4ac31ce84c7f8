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

macro_rules! secret_key {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; KEY_LEN]);

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
    /// The enterprise master key of one epoch, held only by the key generating agent.
    MasterKey,
    "master key"
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_length_is_refused_with_field_name() {
        let err = MasterKey::from_bytes(&[0u8; 31]).unwrap_err();
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
