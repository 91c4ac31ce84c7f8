//! The binary encoding of key identifiers, version 1.

use super::{AgentId, Body, DeviceId, DeviceIdType, KeyId, UnstructuredValue, ValueSource};
use crate::Error;

impl KeyId {
    /// Decodes a binary key identifier. Only the canonical encoding of a valid key identifier
    /// is accepted; trailing bytes, unknown versions or types, out-of-bound lengths and
    /// non-canonical values are refused with an error naming the field.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        unimplemented!("binary decoding of {} bytes", bytes.len())
    }

    /// Bytes in the binary encoding, at most [`super::MAX_LEN`].
    pub fn encoded_len(&self) -> usize {
        unimplemented!("encoded length of {self:?}")
    }

    /// Writes the binary encoding to the front of `out` without allocating and returns the
    /// number of bytes written; [`Error::BufferTooSmall`] (and nothing written) when `out` is
    /// shorter than [`KeyId::encoded_len`].
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize, Error> {
        unimplemented!("binary encoding of {self:?} into {} bytes", out.len())
    }
}

#[allow(dead_code, reason = "used once decoding lands")]
fn unused(_: AgentId, _: Body, _: DeviceId, _: DeviceIdType, _: UnstructuredValue, _: ValueSource) {
}
