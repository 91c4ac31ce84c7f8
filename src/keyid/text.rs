//! The text encoding of key identifiers: `kp1` and the unpadded base64url of the binary form.

use core::fmt;
use core::str::FromStr;

use base64ct::{Base64UrlUnpadded, Encoding};

use super::{KeyId, MAX_LEN};
use crate::Error;

/// The prefix of every version 1 text key identifier.
pub const TEXT_PREFIX: &str = "kp1";

/// Most characters in a text key identifier: the prefix and the base64url of [`MAX_LEN`]
/// bytes.
pub const MAX_TEXT_LEN: usize = TEXT_PREFIX.len() + (MAX_LEN * 4).div_ceil(3);

const FIELD: &str = "key id text";

impl KeyId {
    /// Characters in the text encoding, at most [`MAX_TEXT_LEN`].
    pub fn text_len(&self) -> usize {
        TEXT_PREFIX.len() + (self.encoded_len() * 4).div_ceil(3)
    }

    /// Writes the text encoding to the front of `out` without allocating and returns it;
    /// [`Error::BufferTooSmall`] (and nothing written) when `out` is shorter than
    /// [`KeyId::text_len`].
    pub fn write_text_to<'a>(&self, out: &'a mut [u8]) -> Result<&'a str, Error> {
        let needed = self.text_len();
        let out = out
            .get_mut(..needed)
            .ok_or(Error::BufferTooSmall { needed })?;
        let mut binary = [0u8; MAX_LEN];
        let len = self.write_to(&mut binary)?;
        let (prefix, rest) = out.split_at_mut(TEXT_PREFIX.len());
        prefix.copy_from_slice(TEXT_PREFIX.as_bytes());
        Base64UrlUnpadded::encode(&binary[..len], rest)
            .map_err(|_| Error::BufferTooSmall { needed })?;
        core::str::from_utf8(out).map_err(|_| Error::BufferTooSmall { needed })
    }
}

impl FromStr for KeyId {
    type Err = Error;

    /// Decodes the text form. Only `kp1` followed by the canonical unpadded base64url of a
    /// canonical binary key identifier is accepted: no padding, no whitespace, no other
    /// alphabet, no set bits after the last full byte.
    fn from_str(text: &str) -> Result<Self, Error> {
        if text.len() > MAX_TEXT_LEN {
            return Err(Error::TooLong {
                field: FIELD,
                max: MAX_TEXT_LEN,
                actual: text.len(),
            });
        }
        let encoded = text.strip_prefix(TEXT_PREFIX).ok_or(Error::InvalidValue {
            field: FIELD,
            reason: "does not start with kp1",
        })?;
        let mut binary = [0u8; MAX_LEN];
        let bytes =
            Base64UrlUnpadded::decode(encoded, &mut binary).map_err(|_| Error::InvalidValue {
                field: FIELD,
                reason: "not canonical unpadded base64url",
            })?;
        KeyId::from_bytes(bytes)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buffer = [0u8; MAX_TEXT_LEN];
        f.write_str(self.write_text_to(&mut buffer).map_err(|_| fmt::Error)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AgentId, DeviceId};

    fn sample() -> KeyId {
        let agent = AgentId::new("kga").unwrap();
        KeyId::structured(1, agent, DeviceId::extension("0123").unwrap(), 7)
    }

    #[test]
    fn text_is_prefix_and_unpadded_base64url() {
        // 01 01 0001 03 6b6761 01 04 30313233 00000007, its base64url from Python's base64.
        let mut out = [0u8; MAX_TEXT_LEN];
        let text = sample().write_text_to(&mut out).unwrap();
        assert_eq!(text, "kp1AQEAAQNrZ2EBBDAxMjMAAAAH");
    }

    #[test]
    fn short_buffer_is_refused() {
        let needed = sample().text_len();
        let mut out = [0u8; 8];
        assert_eq!(
            sample().write_text_to(&mut out),
            Err(Error::BufferTooSmall { needed })
        );
    }

    #[test]
    fn only_the_exact_prefix_is_accepted() {
        let reason = "does not start with kp1";
        for text in [
            "KP1AQEAAQNrZ2EBBDAxMjMAAAAH",
            "kp AQEAAQNrZ2EBBDAxMjMAAAAH",
            "",
        ] {
            let expected = Err(Error::InvalidValue {
                field: FIELD,
                reason,
            });
            assert_eq!(KeyId::from_str(text), expected, "{text}");
        }
        assert_eq!(KeyId::from_str("kp1AQEAAQNrZ2EBBDAxMjMAAAAH"), Ok(sample()));
    }
}
