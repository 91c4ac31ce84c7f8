//! The agent identifier: which key generating agent issued a key identifier.

use core::fmt;
use core::str::FromStr;

use super::bounded::ShortBytes;
use crate::Error;

const FIELD: &str = "agent identifier";

/// The name of the key generating agent that issued a key identifier, so that a registrar can
/// tell which agent to ask for the key.
///
/// Canonical and only form: 1 to [`AgentId::MAX_LEN`] bytes of lowercase ASCII letters, digits
/// and `-`, neither starting nor ending with `-`. Nothing is folded: `Pbx-1` is refused, not
/// turned into `pbx-1`, because an agent identifier is configuration, not user input.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgentId(ShortBytes<{ AgentId::MAX_LEN }>);

impl AgentId {
    /// Fewest bytes in an agent identifier.
    pub const MIN_LEN: usize = 1;
    /// Most bytes in an agent identifier.
    pub const MAX_LEN: usize = 32;

    /// Checks `name` against the alphabet and bounds and wraps it.
    pub fn new(name: &str) -> Result<Self, Error> {
        Self::from_bytes(name.as_bytes())
    }

    /// Checks raw bytes (as found in a binary key identifier) and wraps them.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        check_bounds(bytes.len())?;
        if !bytes
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            let reason = "allowed are lowercase letters, digits and '-'";
            return Err(Error::InvalidValue {
                field: FIELD,
                reason,
            });
        }
        if bytes.first() == Some(&b'-') || bytes.last() == Some(&b'-') {
            return Err(Error::InvalidValue {
                field: FIELD,
                reason: "starts or ends with '-'",
            });
        }
        let inline = ShortBytes::new(bytes).ok_or(Error::TooLong {
            field: FIELD,
            max: Self::MAX_LEN,
            actual: bytes.len(),
        })?;
        Ok(Self(inline))
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        self.0.as_ascii()
    }

    /// The identifier's bytes, as written in a binary key identifier.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_slice()
    }
}

fn check_bounds(len: usize) -> Result<(), Error> {
    if len < AgentId::MIN_LEN {
        return Err(Error::TooShort {
            field: FIELD,
            min: AgentId::MIN_LEN,
            actual: len,
        });
    }
    if len > AgentId::MAX_LEN {
        return Err(Error::TooLong {
            field: FIELD,
            max: AgentId::MAX_LEN,
            actual: len,
        });
    }
    Ok(())
}

impl FromStr for AgentId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::new(s)
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgentId({:?})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_one_to_thirty_two() {
        assert_eq!(
            AgentId::new(""),
            Err(Error::TooShort {
                field: FIELD,
                min: 1,
                actual: 0
            })
        );
        assert!(AgentId::new("a").is_ok());
        assert!(AgentId::new(&"a".repeat(32)).is_ok());
        assert_eq!(
            AgentId::new(&"a".repeat(33)),
            Err(Error::TooLong {
                field: FIELD,
                max: 32,
                actual: 33
            })
        );
    }

    #[test]
    fn alphabet_is_enforced() {
        assert_eq!(AgentId::new("pbx-1").unwrap().as_str(), "pbx-1");
        for bad in ["Pbx", "pbx_1", "pbx 1", "-pbx", "pbx-", "pbx\u{e9}"] {
            assert!(
                matches!(AgentId::new(bad), Err(Error::InvalidValue { .. })),
                "{bad}"
            );
        }
    }
}
