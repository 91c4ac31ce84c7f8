//! The wire format: every message of the three conversations, one canonical encoding each.
//!
//! A message is `u8(version) || u8(type) || fields`. Integers are big-endian, every byte string
//! is length-prefixed (`u16(len) || bytes`) and bounded, and a message must end exactly where its
//! last field ends. Decoding borrows from the input, so it allocates nothing; encoding appends to
//! a caller-owned buffer, so a host can reuse one allocation for every message.
//!
//! [`Message::decode`] accepts exactly the bytes [`Message::encode`] produces: for every message
//! `m`, `decode(encode(m)) == m`, and for every accepted `b`, `encode(decode(b)) == b`.

mod codec;
mod messages;

pub use codec::FIXED_LEN;
pub use messages::{
    Freshness, KeyRefusal, KeyRequest, KeyResponse, ProvisionRequest, ProvisionResponse, Refusal,
    RegisterAccept, RegisterChallenge, RegisterDirect, RegisterHello, RegisterProof, Subject,
    UserProof,
};

use alloc::vec::Vec;

use crate::Error;
use codec::{Reader, Writer};

/// The protocol version this build speaks.
pub const VERSION: u8 = 1;

/// Longest key identifier on the wire, in bytes.
pub const MAX_KEY_ID_LEN: usize = 255;
/// Longest device identifier on the wire, in bytes.
pub const MAX_DEVICE_ID_LEN: usize = 255;
/// Longest agent identifier, in bytes.
pub const MAX_AGENT_ID_LEN: usize = 64;
/// Longest user login, in bytes.
pub const MAX_LOGIN_LEN: usize = 128;
/// Longest service name (registrar realm), in bytes.
pub const MAX_SERVICE_LEN: usize = 255;
/// Longest message any conversation uses, in bytes.
pub const MAX_MESSAGE_LEN: usize = 1024;

/// The binary encoding of a key identifier on the stack, so that hot paths need no allocation.
pub(crate) struct KeyIdBytes {
    bytes: [u8; crate::keyid::MAX_LEN],
    len: usize,
}

impl KeyIdBytes {
    pub(crate) fn new(key_id: &crate::KeyId) -> Self {
        let mut bytes = [0u8; crate::keyid::MAX_LEN];
        // The buffer has room for the longest key identifier, so writing cannot fail.
        let len = key_id.write_to(&mut bytes).unwrap_or(0);
        Self { bytes, len }
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// A byte string that is secret on the wire (a key in an answer): `Debug` prints nothing of
/// it and equality is constant-time.
#[derive(Clone, Copy)]
pub struct SecretBytes<'a>(pub &'a [u8; FIXED_LEN]);

impl core::fmt::Debug for SecretBytes<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SecretBytes([redacted])")
    }
}

impl PartialEq for SecretBytes<'_> {
    fn eq(&self, other: &Self) -> bool {
        subtle::ConstantTimeEq::ct_eq(&self.0[..], &other.0[..]).into()
    }
}

impl Eq for SecretBytes<'_> {}

/// The type byte of each message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum MessageType {
    /// Device to agent: ask for a key.
    ProvisionRequest = 0x01,
    /// Agent to device: the key, its identifier and lifetime.
    ProvisionResponse = 0x02,
    /// Device to registrar: start a challenge-response registration.
    RegisterHello = 0x10,
    /// Registrar to device: the challenge nonce.
    RegisterChallenge = 0x11,
    /// Device to registrar: the proof over the transcript.
    RegisterProof = 0x12,
    /// Device to registrar: a challenge-free registration, proof included.
    RegisterDirect = 0x13,
    /// Registrar to device: registered; the registrar's own proof.
    RegisterAccept = 0x14,
    /// Registrar to agent: ask for the per-service key of a key identifier.
    KeyRequest = 0x20,
    /// Agent to registrar: the per-service key and its lifetime.
    KeyResponse = 0x21,
    /// Agent to registrar: a key request refused.
    KeyRefusal = 0x22,
    /// Either direction: the conversation is refused, with a coarse outcome code.
    Refusal = 0x7F,
}

impl MessageType {
    /// The message type for a type byte.
    pub const fn from_u8(value: u8) -> Result<Self, Error> {
        Ok(match value {
            0x01 => Self::ProvisionRequest,
            0x02 => Self::ProvisionResponse,
            0x10 => Self::RegisterHello,
            0x11 => Self::RegisterChallenge,
            0x12 => Self::RegisterProof,
            0x13 => Self::RegisterDirect,
            0x14 => Self::RegisterAccept,
            0x20 => Self::KeyRequest,
            0x21 => Self::KeyResponse,
            0x22 => Self::KeyRefusal,
            0x7F => Self::Refusal,
            _ => {
                return Err(Error::UnknownType {
                    what: "message",
                    value,
                });
            }
        })
    }
}

/// One decoded message, borrowing its byte strings from the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message<'a> {
    /// See [`ProvisionRequest`].
    ProvisionRequest(ProvisionRequest<'a>),
    /// See [`ProvisionResponse`].
    ProvisionResponse(ProvisionResponse<'a>),
    /// See [`RegisterHello`].
    RegisterHello(RegisterHello<'a>),
    /// See [`RegisterChallenge`].
    RegisterChallenge(RegisterChallenge<'a>),
    /// See [`RegisterProof`].
    RegisterProof(RegisterProof<'a>),
    /// See [`RegisterDirect`].
    RegisterDirect(RegisterDirect<'a>),
    /// See [`RegisterAccept`].
    RegisterAccept(RegisterAccept<'a>),
    /// See [`KeyRequest`].
    KeyRequest(KeyRequest<'a>),
    /// See [`KeyResponse`].
    KeyResponse(KeyResponse<'a>),
    /// See [`KeyRefusal`].
    KeyRefusal(KeyRefusal),
    /// See [`Refusal`].
    Refusal(Refusal),
}

impl<'a> Message<'a> {
    /// The type byte this message is sent with.
    pub const fn message_type(&self) -> MessageType {
        match self {
            Self::ProvisionRequest(_) => MessageType::ProvisionRequest,
            Self::ProvisionResponse(_) => MessageType::ProvisionResponse,
            Self::RegisterHello(_) => MessageType::RegisterHello,
            Self::RegisterChallenge(_) => MessageType::RegisterChallenge,
            Self::RegisterProof(_) => MessageType::RegisterProof,
            Self::RegisterDirect(_) => MessageType::RegisterDirect,
            Self::RegisterAccept(_) => MessageType::RegisterAccept,
            Self::KeyRequest(_) => MessageType::KeyRequest,
            Self::KeyResponse(_) => MessageType::KeyResponse,
            Self::KeyRefusal(_) => MessageType::KeyRefusal,
            Self::Refusal(_) => MessageType::Refusal,
        }
    }

    /// Decodes one complete message; trailing bytes, unknown types and other versions fail.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_MESSAGE_LEN {
            return Err(Error::TooLong {
                field: "message",
                max: MAX_MESSAGE_LEN,
                actual: bytes.len(),
            });
        }
        let mut r = Reader::new(bytes, "message header");
        let version = r.u8()?;
        if version != VERSION {
            return Err(Error::UnsupportedVersion {
                what: "message",
                version,
            });
        }
        let kind = MessageType::from_u8(r.u8()?)?;
        let body = &bytes[2..];
        Self::decode_body(kind, body)
    }

    fn decode_body(kind: MessageType, body: &'a [u8]) -> Result<Self, Error> {
        Ok(match kind {
            MessageType::ProvisionRequest => {
                Self::ProvisionRequest(ProvisionRequest::decode(body)?)
            }
            MessageType::ProvisionResponse => {
                Self::ProvisionResponse(ProvisionResponse::decode(body)?)
            }
            MessageType::RegisterHello => Self::RegisterHello(RegisterHello::decode(body)?),
            MessageType::RegisterChallenge => {
                Self::RegisterChallenge(RegisterChallenge::decode(body)?)
            }
            MessageType::RegisterProof => Self::RegisterProof(RegisterProof::decode(body)?),
            MessageType::RegisterDirect => Self::RegisterDirect(RegisterDirect::decode(body)?),
            MessageType::RegisterAccept => Self::RegisterAccept(RegisterAccept::decode(body)?),
            MessageType::KeyRequest => Self::KeyRequest(KeyRequest::decode(body)?),
            MessageType::KeyResponse => Self::KeyResponse(KeyResponse::decode(body)?),
            MessageType::KeyRefusal => Self::KeyRefusal(KeyRefusal::decode(body)?),
            MessageType::Refusal => Self::Refusal(Refusal::decode(body)?),
        })
    }

    /// Appends the encoding to `out`. Fails, leaving `out` as it was, if a field is out of
    /// its bounds.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        self.check()?;
        let mut w = Writer::new(out);
        w.u8(VERSION);
        w.u8(self.message_type() as u8);
        self.encode_body(&mut w);
        Ok(())
    }

    /// The encoding in a new buffer.
    pub fn to_vec(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(128);
        self.encode(&mut out)?;
        Ok(out)
    }

    fn check(&self) -> Result<(), Error> {
        match self {
            Self::ProvisionRequest(m) => m.check(),
            Self::ProvisionResponse(m) => m.check(),
            Self::RegisterHello(m) => m.check(),
            Self::RegisterDirect(m) => m.check(),
            Self::KeyRequest(m) => m.check(),
            Self::Refusal(m) => m.check(),
            Self::KeyRefusal(m) => m.check(),
            Self::RegisterChallenge(_)
            | Self::RegisterProof(_)
            | Self::RegisterAccept(_)
            | Self::KeyResponse(_) => Ok(()),
        }
    }

    fn encode_body(&self, w: &mut Writer<'_>) {
        match self {
            Self::ProvisionRequest(m) => m.encode(w),
            Self::ProvisionResponse(m) => m.encode(w),
            Self::RegisterHello(m) => m.encode(w),
            Self::RegisterChallenge(m) => m.encode(w),
            Self::RegisterProof(m) => m.encode(w),
            Self::RegisterDirect(m) => m.encode(w),
            Self::RegisterAccept(m) => m.encode(w),
            Self::KeyRequest(m) => m.encode(w),
            Self::KeyResponse(m) => m.encode(w),
            Self::KeyRefusal(m) => m.encode(w),
            Self::Refusal(m) => m.encode(w),
        }
    }
}

#[cfg(test)]
mod tests;
