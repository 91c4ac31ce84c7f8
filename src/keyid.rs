//! Key identifiers: the public name under which a device's secret key is issued and found.
//!
//! A [`KeyId`] names the format version, the master key epoch, the issuing agent
//! ([`AgentId`]) and either
//!
//! - a **structured** body: the device ([`DeviceId`]) and a 32-bit counter that the agent
//!   raises each time it issues a new key to that device, or
//! - an **unstructured** body: a value not tied to any device ([`UnstructuredValue`]), taken
//!   from the random generator, a key database or a hash.
//!
//! Every key identifier has exactly one binary encoding ([`KeyId::to_bytes`],
//! [`KeyId::write_to`]) and one text encoding ([`fmt::Display`],
//! [`FromStr`](core::str::FromStr)), `kp1` followed by the unpadded base64url of the binary
//! encoding; the text is usable unchanged as a SIP Digest username and as the user part of a
//! SIP URI. Decoders accept only canonical input and never repair it. The layouts are
//! specified in `docs/protocol.md` section 3.
//!
//! ```
//! use keyprov::{AgentId, DeviceId, KeyId};
//!
//! let agent: AgentId = "pbx-east".parse()?;
//! let phone: DeviceId = "mac:00:1A:2b:3c:4D:5e".parse()?;
//! assert_eq!(phone.to_string(), "mac:00-1a-2b-3c-4d-5e");
//!
//! let key_id = KeyId::structured(1, agent, phone, 0);
//! assert_eq!(key_id.encoded_len(), 25);
//! assert_eq!(key_id.to_string(), "kp1AQEAAQhwYngtZWFzdAYGABorPE1eAAAAAA");
//! assert_eq!("kp1AQEAAQhwYngtZWFzdAYGABorPE1eAAAAAA".parse::<KeyId>()?, key_id);
//! assert_eq!(key_id.successor()?.counter(), Some(1));
//! # Ok::<(), keyprov::Error>(())
//! ```

use alloc::vec::Vec;
use core::fmt;

mod agent;
mod binary;
mod bounded;
mod device;
mod net;
mod text;

pub use agent::AgentId;
pub use device::{DeviceId, DeviceIdType, MAX_VALUE_LEN as MAX_DEVICE_VALUE_LEN};
pub use text::{MAX_TEXT_LEN, TEXT_PREFIX};

use bounded::ShortBytes;

use crate::Error;

/// The format version this build writes and reads.
pub const VERSION: u8 = 1;

/// Most bytes in a binary key identifier: a structured one with a 32-byte agent identifier and
/// a 32-byte serial number or login.
pub const MAX_LEN: usize = 75;

/// Most bytes in an unstructured value.
pub const MAX_UNSTRUCTURED_LEN: usize = 32;

/// Where the value of an unstructured key identifier came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum ValueSource {
    /// Drawn from the agent's random generator.
    Random = 1,
    /// A key assigned by a key database.
    KeyDatabase = 2,
    /// The output (possibly truncated) of a hash function.
    Hash = 3,
}

impl ValueSource {
    /// The source byte in the binary key identifier.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The source for a source byte, if it has one.
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Random),
            2 => Some(Self::KeyDatabase),
            3 => Some(Self::Hash),
            _ => None,
        }
    }
}

/// The value of an unstructured key identifier: 1 to [`MAX_UNSTRUCTURED_LEN`] bytes and their
/// source.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnstructuredValue {
    source: ValueSource,
    value: ShortBytes<MAX_UNSTRUCTURED_LEN>,
}

impl UnstructuredValue {
    /// Checks the length of `value` and wraps it with its source.
    pub fn new(source: ValueSource, value: &[u8]) -> Result<Self, Error> {
        let field = "unstructured value";
        if value.is_empty() {
            return Err(Error::TooShort {
                field,
                min: 1,
                actual: 0,
            });
        }
        let too_long = Error::TooLong {
            field,
            max: MAX_UNSTRUCTURED_LEN,
            actual: value.len(),
        };
        let value = ShortBytes::new(value).ok_or(too_long)?;
        Ok(Self { source, value })
    }

    /// Where the value came from.
    pub fn source(&self) -> ValueSource {
        self.source
    }

    /// The value bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.value.as_slice()
    }
}

impl fmt::Debug for UnstructuredValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UnstructuredValue({:?}, ", self.source)?;
        self.as_bytes()
            .iter()
            .try_for_each(|b| write!(f, "{b:02x}"))?;
        f.write_str(")")
    }
}

/// What a key identifier names besides its epoch and agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Body {
    Structured { device: DeviceId, counter: u32 },
    Unstructured(UnstructuredValue),
}

/// A key identifier in its one canonical form. See the [module documentation](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId {
    epoch: u16,
    agent: AgentId,
    body: Body,
}

impl KeyId {
    /// Most bytes in a binary key identifier, as [`MAX_LEN`].
    pub const MAX_LEN: usize = MAX_LEN;

    /// A structured key identifier: the `counter`-th key the agent issued to `device` under
    /// master key `epoch`.
    pub fn structured(epoch: u16, agent: AgentId, device: DeviceId, counter: u32) -> Self {
        Self {
            epoch,
            agent,
            body: Body::Structured { device, counter },
        }
    }

    /// An unstructured key identifier, not tied to a device.
    pub fn unstructured(epoch: u16, agent: AgentId, value: UnstructuredValue) -> Self {
        Self {
            epoch,
            agent,
            body: Body::Unstructured(value),
        }
    }

    /// The format version, [`VERSION`].
    pub fn version(&self) -> u8 {
        VERSION
    }

    /// The epoch of the master key the secret key is derived from.
    pub fn epoch(&self) -> u16 {
        self.epoch
    }

    /// The agent that issued this key identifier.
    pub fn agent_id(&self) -> &AgentId {
        &self.agent
    }

    /// Whether this is a structured key identifier (device and counter).
    pub fn is_structured(&self) -> bool {
        matches!(self.body, Body::Structured { .. })
    }

    /// The device, for a structured key identifier.
    pub fn device_id(&self) -> Option<&DeviceId> {
        match &self.body {
            Body::Structured { device, .. } => Some(device),
            Body::Unstructured(_) => None,
        }
    }

    /// The counter, for a structured key identifier.
    pub fn counter(&self) -> Option<u32> {
        match self.body {
            Body::Structured { counter, .. } => Some(counter),
            Body::Unstructured(_) => None,
        }
    }

    /// The value, for an unstructured key identifier.
    pub fn unstructured_value(&self) -> Option<&UnstructuredValue> {
        match &self.body {
            Body::Structured { .. } => None,
            Body::Unstructured(value) => Some(value),
        }
    }

    /// The next key identifier for the same device, epoch and agent: the counter plus one.
    ///
    /// The counter never wraps: at 4294967295 this returns [`Error::CounterExhausted`]. An
    /// unstructured key identifier has no counter and gets [`Error::InvalidValue`].
    pub fn successor(&self) -> Result<Self, Error> {
        match self.body {
            Body::Structured { device, counter } => {
                let next = counter.checked_add(1).ok_or(Error::CounterExhausted)?;
                Ok(Self::structured(self.epoch, self.agent, device, next))
            }
            Body::Unstructured(_) => Err(Error::InvalidValue {
                field: "key id",
                reason: "an unstructured key id has no counter",
            }),
        }
    }

    /// The binary encoding in a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut buffer = [0u8; MAX_LEN];
        let len = self.write_to(&mut buffer).unwrap_or(0);
        buffer[..len].to_vec()
    }
}
