//! Byte-level reading and writing of message fields.
//!
//! Integers are big-endian; every byte string is `u16(len) || bytes`, with per-field bounds.

use alloc::vec::Vec;

use crate::Error;

/// Length of nonces, proofs, MACs and keys on the wire.
pub const FIXED_LEN: usize = 32;

/// A cursor over one message that turns every shortfall into a named error.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) const fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Self { rest: bytes, what }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if self.rest.len() < n {
            return Err(Error::Truncated { what: self.what });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, Error> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, Error> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A length-prefixed byte string of `min..=max` bytes.
    pub(crate) fn bytes(
        &mut self,
        field: &'static str,
        min: usize,
        max: usize,
    ) -> Result<&'a [u8], Error> {
        let len = usize::from(self.u16()?);
        if len > max {
            return Err(Error::TooLong {
                field,
                max,
                actual: len,
            });
        }
        if len < min {
            return Err(Error::TooShort {
                field,
                min,
                actual: len,
            });
        }
        self.take(len)
    }

    /// A length-prefixed byte string that is empty (absent) or `1..=max` bytes.
    pub(crate) fn optional_bytes(
        &mut self,
        field: &'static str,
        max: usize,
    ) -> Result<Option<&'a [u8]>, Error> {
        let bytes = self.bytes(field, 0, max)?;
        Ok((!bytes.is_empty()).then_some(bytes))
    }

    /// A length-prefixed string of exactly [`FIXED_LEN`] bytes.
    pub(crate) fn fixed(&mut self, field: &'static str) -> Result<&'a [u8; FIXED_LEN], Error> {
        let bytes = self.bytes(field, 0, usize::from(u16::MAX))?;
        bytes.try_into().map_err(|_| Error::WrongLength {
            field,
            expected: FIXED_LEN,
            actual: bytes.len(),
        })
    }

    /// A length-prefixed string that is empty (absent) or exactly [`FIXED_LEN`] bytes.
    pub(crate) fn optional_fixed(
        &mut self,
        field: &'static str,
    ) -> Result<Option<&'a [u8; FIXED_LEN]>, Error> {
        let bytes = self.bytes(field, 0, usize::from(u16::MAX))?;
        if bytes.is_empty() {
            return Ok(None);
        }
        let fixed = bytes.try_into().map_err(|_| Error::WrongLength {
            field,
            expected: FIXED_LEN,
            actual: bytes.len(),
        })?;
        Ok(Some(fixed))
    }

    /// Succeeds only if every byte was consumed.
    pub(crate) fn finish(self) -> Result<(), Error> {
        match self.rest.len() {
            0 => Ok(()),
            count => Err(Error::TrailingBytes {
                what: self.what,
                count,
            }),
        }
    }
}

/// Appends fields to a caller-owned buffer, so a hot path can reuse one allocation.
pub(crate) struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    pub(crate) const fn new(out: &'a mut Vec<u8>) -> Self {
        Self { out }
    }

    pub(crate) fn u8(&mut self, value: u8) {
        self.out.push(value);
    }

    pub(crate) fn u16(&mut self, value: u16) {
        self.out.extend_from_slice(&value.to_be_bytes());
    }

    pub(crate) fn u32(&mut self, value: u32) {
        self.out.extend_from_slice(&value.to_be_bytes());
    }

    pub(crate) fn u64(&mut self, value: u64) {
        self.out.extend_from_slice(&value.to_be_bytes());
    }

    /// Writes `u16(len) || bytes`; callers have checked the field bound already.
    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
        self.u16(len);
        self.out.extend_from_slice(&bytes[..usize::from(len)]);
    }

    pub(crate) fn optional_bytes(&mut self, bytes: Option<&[u8]>) {
        self.bytes(bytes.unwrap_or(&[]));
    }
}

/// Checks that a field the caller wants to send lies within its bounds.
pub(crate) fn check_len(
    field: &'static str,
    len: usize,
    min: usize,
    max: usize,
) -> Result<(), Error> {
    if len > max {
        return Err(Error::TooLong {
            field,
            max,
            actual: len,
        });
    }
    if len < min {
        return Err(Error::TooShort {
            field,
            min,
            actual: len,
        });
    }
    Ok(())
}
