//! The text encoding of key identifiers: `kp1` and the unpadded base64url of the binary form.

use core::fmt;
use core::str::FromStr;

use super::{KeyId, MAX_LEN};
use crate::Error;

/// The prefix of every version 1 text key identifier.
pub const TEXT_PREFIX: &str = "kp1";

/// Most characters in a text key identifier: the prefix and the base64url of [`MAX_LEN`]
/// bytes.
pub const MAX_TEXT_LEN: usize = TEXT_PREFIX.len() + (MAX_LEN * 4).div_ceil(3);

impl KeyId {
    /// Characters in the text encoding, at most [`MAX_TEXT_LEN`].
    pub fn text_len(&self) -> usize {
        unimplemented!("text length of {self:?}")
    }

    /// Writes the text encoding to the front of `out` without allocating and returns it;
    /// [`Error::BufferTooSmall`] when `out` is shorter than [`KeyId::text_len`].
    pub fn write_text_to<'a>(&self, out: &'a mut [u8]) -> Result<&'a str, Error> {
        unimplemented!("text encoding of {self:?} into {} bytes", out.len())
    }
}

impl FromStr for KeyId {
    type Err = Error;

    /// Decodes the text form. Only `kp1` followed by canonical unpadded base64url of a
    /// canonical binary key identifier is accepted.
    fn from_str(text: &str) -> Result<Self, Error> {
        unimplemented!("text decoding of {} characters", text.len())
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buffer = [0u8; MAX_TEXT_LEN];
        f.write_str(self.write_text_to(&mut buffer).map_err(|_| fmt::Error)?)
    }
}
