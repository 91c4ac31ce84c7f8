//! The message bodies, in the order the conversations use them.

use super::codec::{FIXED_LEN, Reader, Writer, check_len};
use super::{
    MAX_AGENT_ID_LEN, MAX_DEVICE_ID_LEN, MAX_KEY_ID_LEN, MAX_LOGIN_LEN, MAX_SERVICE_LEN,
    SecretBytes,
};
use crate::Error;

type Fixed<'a> = &'a [u8; FIXED_LEN];

fn check_key_id(key_id: &[u8]) -> Result<(), Error> {
    check_len("key id", key_id.len(), 1, MAX_KEY_ID_LEN)
}

fn check_login(login: Option<&[u8]>) -> Result<(), Error> {
    login.map_or(Ok(()), |l| {
        check_len("user login", l.len(), 1, MAX_LOGIN_LEN)
    })
}

fn check_outcome(code: u16) -> Result<(), Error> {
    if (300..=399).contains(&code) {
        Ok(())
    } else {
        Err(Error::OutOfRange {
            field: "outcome code",
            min: 300,
            max: 399,
        })
    }
}

/// A PIN signature comes exactly with a user login (register direct).
fn check_signed_login(login: Option<&[u8]>, signature: Option<Fixed<'_>>) -> Result<(), Error> {
    match (login, signature) {
        (Some(_), None) => Err(Error::InvalidValue {
            field: "pin signature",
            reason: "missing",
        }),
        (None, Some(_)) => Err(Error::InvalidValue {
            field: "user login",
            reason: "missing",
        }),
        _ => Ok(()),
    }
}

/// Whom the device asks a key for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject<'a> {
    /// No identifier: the agent makes an unstructured key identifier. Kind byte 0.
    Anonymous,
    /// The device's unique identifier (encoded device id): a structured key identifier.
    /// Kind byte 1.
    DeviceId(&'a [u8]),
    /// A key identifier the device proposes (encoded key id); the agent checks it. Kind byte 2.
    ProposedKeyId(&'a [u8]),
}

impl<'a> Subject<'a> {
    /// The kind byte on the wire.
    pub const fn kind(&self) -> u8 {
        match self {
            Self::Anonymous => 0,
            Self::DeviceId(_) => 1,
            Self::ProposedKeyId(_) => 2,
        }
    }

    /// The subject's bytes (empty when anonymous).
    pub const fn bytes(&self) -> &'a [u8] {
        match self {
            Self::Anonymous => &[],
            Self::DeviceId(bytes) | Self::ProposedKeyId(bytes) => bytes,
        }
    }

    fn decode(r: &mut Reader<'a>) -> Result<Self, Error> {
        match r.u8()? {
            0 => r.bytes("subject", 0, 0).map(|_| Self::Anonymous),
            1 => r
                .bytes("device id", 1, MAX_DEVICE_ID_LEN)
                .map(Self::DeviceId),
            2 => r
                .bytes("key id", 1, MAX_KEY_ID_LEN)
                .map(Self::ProposedKeyId),
            value => Err(Error::UnknownType {
                what: "subject",
                value,
            }),
        }
    }

    fn check(&self) -> Result<(), Error> {
        match self {
            Self::Anonymous => Ok(()),
            Self::DeviceId(id) => check_len("device id", id.len(), 1, MAX_DEVICE_ID_LEN),
            Self::ProposedKeyId(id) => check_key_id(id),
        }
    }

    fn encode(&self, w: &mut Writer<'_>) {
        w.u8(self.kind());
        w.bytes(self.bytes());
    }
}

/// A user's login and the proof that they know the PIN, bound to the TLS session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserProof<'a> {
    /// The user's login in the directory.
    pub login: &'a [u8],
    /// HMAC over the channel binding and the request, keyed with the PIN verifier.
    pub proof: Fixed<'a>,
}

/// Device to agent (type 0x01): `u8(subject kind) || lp(subject) || lp(login) || lp(proof)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProvisionRequest<'a> {
    /// Whom the key is for.
    pub subject: Subject<'a>,
    /// The user, when the device asks for a PIN.
    pub user: Option<UserProof<'a>>,
}

impl<'a> ProvisionRequest<'a> {
    pub(super) fn decode(body: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, "provision request");
        let subject = Subject::decode(&mut r)?;
        let login = r.optional_bytes("user login", MAX_LOGIN_LEN)?;
        let proof = r.optional_fixed("pin proof")?;
        r.finish()?;
        let user = match (login, proof) {
            (None, None) => None,
            (Some(login), Some(proof)) => Some(UserProof { login, proof }),
            (Some(_), None) => {
                return Err(Error::InvalidValue {
                    field: "pin proof",
                    reason: "missing",
                });
            }
            (None, Some(_)) => {
                return Err(Error::InvalidValue {
                    field: "user login",
                    reason: "missing",
                });
            }
        };
        Ok(Self { subject, user })
    }

    pub(super) fn check(&self) -> Result<(), Error> {
        self.subject.check()?;
        check_login(self.user.map(|u| u.login))
    }

    pub(super) fn encode(&self, w: &mut Writer<'_>) {
        self.subject.encode(w);
        w.optional_bytes(self.user.map(|u| u.login));
        w.optional_bytes(self.user.map(|u| &u.proof[..]));
    }
}

/// Agent to device (type 0x02):
/// `lp(key id) || u32(counter) || u64(not after) || lp(agent id) || lp(secret key)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProvisionResponse<'a> {
    /// The encoded key identifier.
    pub key_id: &'a [u8],
    /// The counter reserved for this issue.
    pub counter: u32,
    /// Last second (host clock, seconds) the key is valid.
    pub not_after: u64,
    /// The agent's identifier.
    pub agent_id: &'a [u8],
    /// The device secret key.
    pub secret_key: SecretBytes<'a>,
}

impl<'a> ProvisionResponse<'a> {
    pub(super) fn decode(body: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, "provision response");
        let key_id = r.bytes("key id", 1, MAX_KEY_ID_LEN)?;
        let counter = r.u32()?;
        let not_after = r.u64()?;
        let agent_id = r.bytes("agent id", 1, MAX_AGENT_ID_LEN)?;
        let secret_key = SecretBytes(r.fixed("device secret key")?);
        r.finish()?;
        Ok(Self {
            key_id,
            counter,
            not_after,
            agent_id,
            secret_key,
        })
    }

    pub(super) fn check(&self) -> Result<(), Error> {
        check_key_id(self.key_id)?;
        check_len("agent id", self.agent_id.len(), 1, MAX_AGENT_ID_LEN)
    }

    pub(super) fn encode(&self, w: &mut Writer<'_>) {
        w.bytes(self.key_id);
        w.u32(self.counter);
        w.u64(self.not_after);
        w.bytes(self.agent_id);
        w.bytes(self.secret_key.0);
    }
}

/// Device to registrar (type 0x10):
/// `lp(key id) || u64(sequence) || lp(device nonce) || lp(login)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegisterHello<'a> {
    /// The encoded key identifier.
    pub key_id: &'a [u8],
    /// The device's registration sequence number, for later challenge-free registrations.
    pub sequence: u64,
    /// The device's fresh nonce.
    pub device_nonce: Fixed<'a>,
    /// The user, when the registration is PIN-signed (hot-desking).
    pub login: Option<&'a [u8]>,
}

impl<'a> RegisterHello<'a> {
    pub(super) fn decode(body: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, "register hello");
        let key_id = r.bytes("key id", 1, MAX_KEY_ID_LEN)?;
        let sequence = r.u64()?;
        let device_nonce = r.fixed("device nonce")?;
        let login = r.optional_bytes("user login", MAX_LOGIN_LEN)?;
        r.finish()?;
        Ok(Self {
            key_id,
            sequence,
            device_nonce,
            login,
        })
    }

    pub(super) fn check(&self) -> Result<(), Error> {
        check_key_id(self.key_id)?;
        check_login(self.login)
    }

    pub(super) fn encode(&self, w: &mut Writer<'_>) {
        w.bytes(self.key_id);
        w.u64(self.sequence);
        w.bytes(self.device_nonce);
        w.optional_bytes(self.login);
    }
}

/// Registrar to device (type 0x11): `lp(registrar nonce)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegisterChallenge<'a> {
    /// The registrar's fresh nonce.
    pub registrar_nonce: Fixed<'a>,
}

impl<'a> RegisterChallenge<'a> {
    pub(super) fn decode(body: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, "register challenge");
        let registrar_nonce = r.fixed("registrar nonce")?;
        r.finish()?;
        Ok(Self { registrar_nonce })
    }

    pub(super) fn encode(&self, w: &mut Writer<'_>) {
        w.bytes(self.registrar_nonce);
    }
}

/// Device to registrar (type 0x12): `lp(device proof) || lp(pin signature)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegisterProof<'a> {
    /// MAC over the transcript with the per-service key.
    pub proof: Fixed<'a>,
    /// Signature over the transcript with the PIN-bound key; empty without a user.
    pub pin_signature: Option<Fixed<'a>>,
}

impl<'a> RegisterProof<'a> {
    pub(super) fn decode(body: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, "register proof");
        let proof = r.fixed("device proof")?;
        let pin_signature = r.optional_fixed("pin signature")?;
        r.finish()?;
        Ok(Self {
            proof,
            pin_signature,
        })
    }

    pub(super) fn encode(&self, w: &mut Writer<'_>) {
        w.bytes(self.proof);
        w.optional_bytes(self.pin_signature.map(|s| &s[..]));
    }
}

/// What makes a challenge-free registration fresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// The device's clock, in seconds. Kind byte 1.
    Time(u64),
    /// The device's registration sequence number, strictly increasing. Kind byte 2.
    Sequence(u64),
}

/// Device to registrar (type 0x13): `u8(freshness kind) || u64(freshness) || lp(key id) ||
/// lp(device nonce) || lp(login) || lp(device proof) || lp(pin signature)`.
///
/// The proofs cover every byte of the message before the device proof field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegisterDirect<'a> {
    /// Time or sequence number.
    pub freshness: Freshness,
    /// The encoded key identifier.
    pub key_id: &'a [u8],
    /// The device's fresh nonce.
    pub device_nonce: Fixed<'a>,
    /// The user, when the registration is PIN-signed.
    pub login: Option<&'a [u8]>,
    /// MAC over the message before this field, with the per-service key.
    pub proof: Fixed<'a>,
    /// Signature over the same bytes with the PIN-bound key; empty without a user.
    pub pin_signature: Option<Fixed<'a>>,
}

impl<'a> RegisterDirect<'a> {
    pub(super) fn decode(body: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, "register direct");
        let freshness = match r.u8()? {
            1 => Freshness::Time(r.u64()?),
            2 => Freshness::Sequence(r.u64()?),
            value => {
                return Err(Error::UnknownType {
                    what: "freshness",
                    value,
                });
            }
        };
        let key_id = r.bytes("key id", 1, MAX_KEY_ID_LEN)?;
        let device_nonce = r.fixed("device nonce")?;
        let login = r.optional_bytes("user login", MAX_LOGIN_LEN)?;
        let proof = r.fixed("device proof")?;
        let pin_signature = r.optional_fixed("pin signature")?;
        r.finish()?;
        check_signed_login(login, pin_signature)?;
        Ok(Self {
            freshness,
            key_id,
            device_nonce,
            login,
            proof,
            pin_signature,
        })
    }

    /// How many bytes at the end of the encoding the proofs take (not covered by them).
    pub const fn proofs_len(&self) -> usize {
        let signature = if self.pin_signature.is_some() {
            FIXED_LEN
        } else {
            0
        };
        2 + FIXED_LEN + 2 + signature
    }

    pub(super) fn check(&self) -> Result<(), Error> {
        check_key_id(self.key_id)?;
        check_login(self.login)?;
        check_signed_login(self.login, self.pin_signature)
    }

    pub(super) fn encode(&self, w: &mut Writer<'_>) {
        let (kind, value) = match self.freshness {
            Freshness::Time(t) => (1, t),
            Freshness::Sequence(s) => (2, s),
        };
        w.u8(kind);
        w.u64(value);
        w.bytes(self.key_id);
        w.bytes(self.device_nonce);
        w.optional_bytes(self.login);
        w.bytes(self.proof);
        w.optional_bytes(self.pin_signature.map(|s| &s[..]));
    }
}

/// Registrar to device (type 0x14):
/// `lp(registrar nonce) || u64(not after) || lp(registrar proof)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegisterAccept<'a> {
    /// The registrar's nonce (the challenge's, in challenge-response mode).
    pub registrar_nonce: Fixed<'a>,
    /// Last second the registration (and the key behind it) is valid.
    pub not_after: u64,
    /// MAC over the transcript and the device proof with the per-service key.
    pub registrar_proof: Fixed<'a>,
}

impl<'a> RegisterAccept<'a> {
    pub(super) fn decode(body: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, "register accept");
        let registrar_nonce = r.fixed("registrar nonce")?;
        let not_after = r.u64()?;
        let registrar_proof = r.fixed("registrar proof")?;
        r.finish()?;
        Ok(Self {
            registrar_nonce,
            not_after,
            registrar_proof,
        })
    }

    pub(super) fn encode(&self, w: &mut Writer<'_>) {
        w.bytes(self.registrar_nonce);
        w.u64(self.not_after);
        w.bytes(self.registrar_proof);
    }
}

/// Registrar to agent (type 0x20):
/// `u32(request id) || lp(key id) || lp(service) || lp(login)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRequest<'a> {
    /// Chosen by the registrar, echoed in the answer.
    pub request_id: u32,
    /// The encoded key identifier.
    pub key_id: &'a [u8],
    /// The service (registrar realm) the key is for.
    pub service: &'a [u8],
    /// The user whose PIN-bound key is wanted too, for a PIN-signed registration.
    pub login: Option<&'a [u8]>,
}

impl<'a> KeyRequest<'a> {
    pub(super) fn decode(body: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, "key request");
        let request_id = r.u32()?;
        let key_id = r.bytes("key id", 1, MAX_KEY_ID_LEN)?;
        let service = r.bytes("service", 1, MAX_SERVICE_LEN)?;
        let login = r.optional_bytes("user login", MAX_LOGIN_LEN)?;
        r.finish()?;
        Ok(Self {
            request_id,
            key_id,
            service,
            login,
        })
    }

    pub(super) fn check(&self) -> Result<(), Error> {
        check_key_id(self.key_id)?;
        check_len("service", self.service.len(), 1, MAX_SERVICE_LEN)?;
        check_login(self.login)
    }

    pub(super) fn encode(&self, w: &mut Writer<'_>) {
        w.u32(self.request_id);
        w.bytes(self.key_id);
        w.bytes(self.service);
        w.optional_bytes(self.login);
    }
}

/// Agent to registrar (type 0x21):
/// `u32(request id) || u64(not after) || lp(service key) || lp(pin key)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyResponse<'a> {
    /// The request's identifier.
    pub request_id: u32,
    /// Last second the key is valid.
    pub not_after: u64,
    /// The per-service key.
    pub service_key: SecretBytes<'a>,
    /// The PIN-bound signing key, when the request named a user.
    pub pin_key: Option<SecretBytes<'a>>,
}

impl<'a> KeyResponse<'a> {
    pub(super) fn decode(body: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, "key response");
        let request_id = r.u32()?;
        let not_after = r.u64()?;
        let service_key = SecretBytes(r.fixed("service key")?);
        let pin_key = r.optional_fixed("pin key")?.map(SecretBytes);
        r.finish()?;
        Ok(Self {
            request_id,
            not_after,
            service_key,
            pin_key,
        })
    }

    pub(super) fn encode(&self, w: &mut Writer<'_>) {
        w.u32(self.request_id);
        w.u64(self.not_after);
        w.bytes(self.service_key.0);
        w.optional_bytes(self.pin_key.map(|k| &k.0[..]));
    }
}

/// Agent to registrar (type 0x22): `u32(request id) || u16(outcome)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRefusal {
    /// The request's identifier.
    pub request_id: u32,
    /// A coarse outcome code from the 300-399 group of the error codes.
    pub outcome: u16,
}

impl KeyRefusal {
    pub(super) fn decode(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, "key refusal");
        let request_id = r.u32()?;
        let outcome = r.u16()?;
        r.finish()?;
        check_outcome(outcome)?;
        Ok(Self {
            request_id,
            outcome,
        })
    }

    pub(super) fn check(&self) -> Result<(), Error> {
        check_outcome(self.outcome)
    }

    pub(super) fn encode(&self, w: &mut Writer<'_>) {
        w.u32(self.request_id);
        w.u16(self.outcome);
    }
}

/// Either direction (type 0x7F): `u16(outcome)`; the conversation ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// A coarse outcome code from the 300-399 group of the error codes.
    pub outcome: u16,
}

impl Refusal {
    pub(super) fn decode(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, "refusal");
        let outcome = r.u16()?;
        r.finish()?;
        check_outcome(outcome)?;
        Ok(Self { outcome })
    }

    pub(super) fn check(&self) -> Result<(), Error> {
        check_outcome(self.outcome)
    }

    pub(super) fn encode(&self, w: &mut Writer<'_>) {
        w.u16(self.outcome);
    }
}
