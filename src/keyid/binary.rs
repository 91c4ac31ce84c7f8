//! The binary encoding of key identifiers, version 1.
//!
//! ```text
//! version u8 | form u8 | epoch u16 | agent_len u8 | agent
//! form 1: device_type u8 | device_len u8 | device value | counter u32
//! form 2: source u8 | value_len u8 | value
//! ```

use super::{AgentId, Body, DeviceId, DeviceIdType, KeyId, UnstructuredValue, ValueSource};
use super::{MAX_LEN, MAX_UNSTRUCTURED_LEN, VERSION};
use crate::Error;

/// The form byte of a structured key identifier.
const FORM_STRUCTURED: u8 = 1;
/// The form byte of an unstructured key identifier.
const FORM_UNSTRUCTURED: u8 = 2;

/// Bytes before the agent identifier: version, form, epoch, agent length.
const HEADER_LEN: usize = 5;

impl KeyId {
    /// Decodes a binary key identifier. Only the canonical encoding of a valid key identifier
    /// is accepted; trailing bytes, unknown versions or types, out-of-bound lengths and
    /// non-canonical values are refused with an error naming the field. Fields are checked in
    /// order and the first failure is reported.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let mut reader = Reader { rest: bytes };
        let key_id = reader.key_id()?;
        match reader.rest.len() {
            0 => Ok(key_id),
            count => Err(Error::TrailingBytes {
                what: "key id",
                count,
            }),
        }
    }

    /// Bytes in the binary encoding, at most [`MAX_LEN`].
    pub fn encoded_len(&self) -> usize {
        let body = match &self.body {
            Body::Structured { device, .. } => 2 + device.value_bytes().len() + 4,
            Body::Unstructured(value) => 2 + value.as_bytes().len(),
        };
        HEADER_LEN + self.agent.as_bytes().len() + body
    }

    /// Writes the binary encoding to the front of `out` without allocating and returns the
    /// number of bytes written; [`Error::BufferTooSmall`] (and nothing written) when `out` is
    /// shorter than [`KeyId::encoded_len`].
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize, Error> {
        let needed = self.encoded_len();
        let out = out
            .get_mut(..needed)
            .ok_or(Error::BufferTooSmall { needed })?;
        let mut writer = Writer { out, at: 0 };
        writer.byte(VERSION);
        writer.byte(self.form_byte());
        writer.bytes(&self.epoch.to_be_bytes());
        writer.prefixed(self.agent.as_bytes());
        match &self.body {
            Body::Structured { device, counter } => {
                writer.byte(device.kind().code());
                writer.prefixed(device.value_bytes());
                writer.bytes(&counter.to_be_bytes());
            }
            Body::Unstructured(value) => {
                writer.byte(value.source().code());
                writer.prefixed(value.as_bytes());
            }
        }
        Ok(writer.at)
    }

    fn form_byte(&self) -> u8 {
        match self.body {
            Body::Structured { .. } => FORM_STRUCTURED,
            Body::Unstructured(_) => FORM_UNSTRUCTURED,
        }
    }
}

/// Writes into a slice already checked to hold exactly the encoding.
struct Writer<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn bytes(&mut self, bytes: &[u8]) {
        if let Some(slot) = self.out.get_mut(self.at..self.at + bytes.len()) {
            slot.copy_from_slice(bytes);
        }
        self.at += bytes.len();
    }

    fn byte(&mut self, byte: u8) {
        self.bytes(&[byte]);
    }

    /// A length byte then the bytes; every prefixed field is at most 32 bytes.
    fn prefixed(&mut self, bytes: &[u8]) {
        self.byte(u8::try_from(bytes.len()).unwrap_or(u8::MAX));
        self.bytes(bytes);
    }
}

/// Reads fields from the front of the input.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn key_id(&mut self) -> Result<KeyId, Error> {
        let version = self.byte("key id version")?;
        if version != VERSION {
            return Err(Error::UnsupportedVersion {
                what: "key id",
                version,
            });
        }
        // The form is checked where it is read, so that it is the first failure in field order.
        let structured = match self.byte("key id form")? {
            FORM_STRUCTURED => true,
            FORM_UNSTRUCTURED => false,
            value => {
                return Err(Error::UnknownType {
                    what: "key id form",
                    value,
                });
            }
        };
        let epoch = u16::from_be_bytes(self.array("key id epoch")?);
        let agent = AgentId::from_bytes(self.prefixed("agent identifier", AgentId::MAX_LEN)?)?;
        let body = if structured {
            self.structured()?
        } else {
            self.unstructured()?
        };
        Ok(KeyId { epoch, agent, body })
    }

    fn structured(&mut self) -> Result<Body, Error> {
        let code = self.byte("device identifier type")?;
        let kind = DeviceIdType::from_code(code).ok_or(Error::UnknownType {
            what: "device identifier",
            value: code,
        })?;
        let value = self.prefixed(kind.field(), kind.value_len_bounds().1)?;
        let device = DeviceId::from_canonical(kind, value)?;
        let counter = u32::from_be_bytes(self.array("key id counter")?);
        Ok(Body::Structured { device, counter })
    }

    fn unstructured(&mut self) -> Result<Body, Error> {
        let code = self.byte("unstructured value source")?;
        let source = ValueSource::from_code(code).ok_or(Error::UnknownType {
            what: "unstructured value source",
            value: code,
        })?;
        let value = self.prefixed("unstructured value", MAX_UNSTRUCTURED_LEN)?;
        Ok(Body::Unstructured(UnstructuredValue::new(source, value)?))
    }

    fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], Error> {
        if self.rest.len() < len {
            return Err(Error::Truncated { what });
        }
        let (taken, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(taken)
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, Error> {
        Ok(self.take(1, what)?[0])
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], Error> {
        let mut array = [0u8; N];
        array.copy_from_slice(self.take(N, what)?);
        Ok(array)
    }

    /// A length byte, checked against `max` before anything is read, then that many bytes.
    fn prefixed(&mut self, field: &'static str, max: usize) -> Result<&'a [u8], Error> {
        let len = usize::from(self.byte(field)?);
        if len > max {
            return Err(Error::TooLong {
                field,
                max,
                actual: len,
            });
        }
        self.take(len, field)
    }
}

const _: () =
    assert!(HEADER_LEN + AgentId::MAX_LEN + 2 + super::MAX_DEVICE_VALUE_LEN + 4 == MAX_LEN);

#[cfg(test)]
mod tests {
    use super::*;

    /// `01 01 0001 03 "kga" 06 06 001a2b3c4d5e 00000007`, laid out by hand from the spec.
    const MAC_KEY_ID: [u8; 20] = [
        1, 1, 0, 1, 3, b'k', b'g', b'a', 6, 6, 0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0, 0, 0, 7,
    ];

    fn mac_key_id() -> KeyId {
        let device = DeviceId::mac([0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e]);
        KeyId::structured(1, AgentId::new("kga").unwrap(), device, 7)
    }

    #[test]
    fn layout_matches_the_specification() {
        let mut out = [0u8; MAX_LEN];
        assert_eq!(mac_key_id().write_to(&mut out), Ok(MAC_KEY_ID.len()));
        assert_eq!(out[..MAC_KEY_ID.len()], MAC_KEY_ID);
        assert_eq!(KeyId::from_bytes(&MAC_KEY_ID), Ok(mac_key_id()));
    }

    #[test]
    fn every_prefix_is_truncated() {
        for len in 0..MAC_KEY_ID.len() {
            let error = KeyId::from_bytes(&MAC_KEY_ID[..len]).unwrap_err();
            assert!(matches!(error, Error::Truncated { .. }), "{len}: {error}");
        }
    }

    #[test]
    fn first_failing_field_is_reported() {
        let mut longer = MAC_KEY_ID.to_vec();
        longer.extend_from_slice(&[0, 0]);
        let trailing = Error::TrailingBytes {
            what: "key id",
            count: 2,
        };
        assert_eq!(KeyId::from_bytes(&longer), Err(trailing));
        // An unknown device type and trailing bytes: the device type comes first.
        longer[8] = 9;
        let unknown = Error::UnknownType {
            what: "device identifier",
            value: 9,
        };
        assert_eq!(KeyId::from_bytes(&longer), Err(unknown));
    }

    #[test]
    fn length_byte_is_bounded_before_reading() {
        let mut bytes = MAC_KEY_ID;
        bytes[4] = 200;
        let expected = Error::TooLong {
            field: "agent identifier",
            max: 32,
            actual: 200,
        };
        assert_eq!(KeyId::from_bytes(&bytes), Err(expected));
    }
}
