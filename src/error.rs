//! The one error type of keyprov.
//!
//! Variants are grouped by who is at fault, and every variant has a stable numeric
//! [`Error::code`] shared by the wire format and the C ABI. Codes are never renumbered: a new
//! variant takes a new number in its group.
//!
//! | group | codes | meaning |
//! |---|---|---|
//! | input | 100-199 | a value handed to the API is out of its limits or not canonical |
//! | decode | 200-299 | bytes or text from a peer or a store could not be decoded |
//! | outcome | 300-399 | the protocol refused: the peer or the credential is not acceptable |
//! | usage | 400-499 | the API was called in a way its contract forbids |
//! | digest | 500-599 | an HTTP/SIP Digest header or exchange is not acceptable |
//!
//! Messages are lowercase, name the field and the limit, and never contain secret values: only
//! static field names, lengths and limits are ever formatted.

use core::fmt;

/// Every failure keyprov reports.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    // ---- input: 100-199 ----
    /// A field holds fewer bytes or characters than its minimum.
    TooShort {
        /// The field, in the words of the documentation.
        field: &'static str,
        /// Smallest accepted length.
        min: usize,
        /// Length that was given.
        actual: usize,
    },
    /// A field holds more bytes or characters than its maximum.
    TooLong {
        /// The field, in the words of the documentation.
        field: &'static str,
        /// Largest accepted length.
        max: usize,
        /// Length that was given.
        actual: usize,
    },
    /// A fixed-size field has the wrong length.
    WrongLength {
        /// The field, in the words of the documentation.
        field: &'static str,
        /// The one accepted length.
        expected: usize,
        /// Length that was given.
        actual: usize,
    },
    /// A number is outside its accepted range.
    OutOfRange {
        /// The field, in the words of the documentation.
        field: &'static str,
        /// Smallest accepted value.
        min: u64,
        /// Largest accepted value.
        max: u64,
    },
    /// A field holds a value that is not allowed (wrong characters, wrong shape).
    InvalidValue {
        /// The field, in the words of the documentation.
        field: &'static str,
        /// Why it is refused, in a few lowercase words.
        reason: &'static str,
    },
    /// A value would be accepted, but is not written in its one canonical form.
    NotCanonical {
        /// The field, in the words of the documentation.
        field: &'static str,
        /// What is not canonical about it.
        reason: &'static str,
    },
    /// An IPv6 address carries a zone identifier (`%eth0`), which names no device.
    Ipv6ZoneIdentifier,
    /// The 32-bit key identifier counter is at 4294967295 and cannot advance.
    CounterExhausted,
    /// The random generator has produced its maximum number of requests since it was last
    /// seeded and must be reseeded.
    ReseedRequired,

    // ---- decode: 200-299 ----
    /// Input ended before a complete value.
    Truncated {
        /// What was being decoded.
        what: &'static str,
    },
    /// A complete value was followed by bytes that belong to nothing.
    TrailingBytes {
        /// What was being decoded.
        what: &'static str,
        /// How many bytes were left over.
        count: usize,
    },
    /// The format version is not one this build understands.
    UnsupportedVersion {
        /// What was being decoded.
        what: &'static str,
        /// The version found.
        version: u8,
    },
    /// A type or tag byte has no meaning.
    UnknownType {
        /// What was being decoded.
        what: &'static str,
        /// The byte found.
        value: u8,
    },

    // ---- outcome: 300-399 ----
    /// No key is known under this key identifier.
    UnknownKeyId,
    /// A newer key identifier has been issued to the same device.
    Superseded,
    /// The key identifier was revoked.
    Revoked,
    /// The key's lifetime is over.
    Expired,
    /// A proof, MAC, signature or Digest response did not verify.
    WrongProof,
    /// A challenge or nonce is genuine but too old; ask for a new one.
    StaleChallenge,
    /// This exact message was accepted before.
    Replay,
    /// The agent's authenticated identity does not match the configured trust anchor.
    UntrustedAgent,
    /// Too many failed PIN attempts; the user is locked out for now.
    LockedOut,
    /// The peer may not have what it asked for (for example a registrar asking for a key of a
    /// service it does not serve).
    NotAuthorized,
    /// The answer does not belong to this device or request.
    MismatchedAnswer {
        /// The field that does not match.
        field: &'static str,
    },
    /// A counter lower than one accepted before: a rollback.
    CounterRollback,
    /// The peer reported a failure; the code is the peer's coarse outcome.
    PeerRefused {
        /// The peer's outcome code.
        code: u16,
    },
    /// The peer did not answer before the deadline the host's clock reached.
    TimedOut,
    /// The host reported the session closed before the conversation finished.
    SessionClosed,

    // ---- usage: 400-499 ----
    /// A message arrived that is not expected in the current state.
    UnexpectedMessage {
        /// The state the machine was in.
        state: &'static str,
    },
    /// The call is not allowed in the current state.
    InvalidState {
        /// The call that was made.
        call: &'static str,
        /// The state the machine was in.
        state: &'static str,
    },
    /// The machine failed earlier and accepts nothing more.
    Failed,
    /// A request handle that is not outstanding.
    UnknownHandle,
    /// An output buffer is too small.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
    },
    /// The host must report an assigned address before provisioning starts.
    NoAddress,

    // ---- digest: 500-599 ----
    /// A Digest parameter appears twice.
    DigestDuplicateParameter {
        /// The parameter name, lowercase.
        name: &'static str,
    },
    /// A required Digest parameter is absent.
    DigestMissingParameter {
        /// The parameter name, lowercase.
        name: &'static str,
    },
    /// A Digest header could not be parsed.
    DigestSyntax {
        /// What is wrong, in a few lowercase words.
        reason: &'static str,
    },
    /// None of the offered challenges uses an algorithm and qop this side supports.
    DigestNoSupportedChallenge,
    /// The server rejected a fresh answer to a stale challenge again; giving up.
    DigestStaleLoop,
}

/// The group an [`Error`] belongs to: who is at fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A value handed to the API is not acceptable.
    Input,
    /// Bytes or text could not be decoded.
    Decode,
    /// The protocol refused.
    Outcome,
    /// The API was misused.
    Usage,
    /// A Digest header or exchange is not acceptable.
    Digest,
}

impl Error {
    /// The stable numeric code of this error, shared by the wire format and the C ABI.
    pub const fn code(&self) -> u16 {
        match self {
            Self::TooShort { .. } => 100,
            Self::TooLong { .. } => 101,
            Self::WrongLength { .. } => 102,
            Self::OutOfRange { .. } => 103,
            Self::InvalidValue { .. } => 104,
            Self::NotCanonical { .. } => 105,
            Self::Ipv6ZoneIdentifier => 106,
            Self::CounterExhausted => 107,
            Self::ReseedRequired => 108,
            Self::Truncated { .. } => 200,
            Self::TrailingBytes { .. } => 201,
            Self::UnsupportedVersion { .. } => 202,
            Self::UnknownType { .. } => 203,
            Self::UnknownKeyId => 300,
            Self::Superseded => 301,
            Self::Revoked => 302,
            Self::Expired => 303,
            Self::WrongProof => 304,
            Self::StaleChallenge => 305,
            Self::Replay => 306,
            Self::UntrustedAgent => 307,
            Self::LockedOut => 308,
            Self::NotAuthorized => 309,
            Self::MismatchedAnswer { .. } => 310,
            Self::CounterRollback => 311,
            Self::PeerRefused { .. } => 312,
            Self::TimedOut => 313,
            Self::SessionClosed => 314,
            Self::UnexpectedMessage { .. } => 400,
            Self::InvalidState { .. } => 401,
            Self::Failed => 402,
            Self::UnknownHandle => 403,
            Self::BufferTooSmall { .. } => 404,
            Self::NoAddress => 405,
            Self::DigestDuplicateParameter { .. } => 500,
            Self::DigestMissingParameter { .. } => 501,
            Self::DigestSyntax { .. } => 502,
            Self::DigestNoSupportedChallenge => 503,
            Self::DigestStaleLoop => 504,
        }
    }

    /// Who is at fault.
    pub const fn kind(&self) -> ErrorKind {
        match self.code() / 100 {
            1 => ErrorKind::Input,
            2 => ErrorKind::Decode,
            3 => ErrorKind::Outcome,
            4 => ErrorKind::Usage,
            _ => ErrorKind::Digest,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooShort { field, min, actual } => {
                write!(f, "{field} too short: {actual} < minimum {min}")
            }
            Self::TooLong { field, max, actual } => {
                write!(f, "{field} too long: {actual} > maximum {max}")
            }
            Self::WrongLength {
                field,
                expected,
                actual,
            } => {
                write!(f, "{field} has length {actual}, expected {expected}")
            }
            Self::OutOfRange { field, min, max } => {
                write!(f, "{field} out of range {min}..={max}")
            }
            Self::InvalidValue { field, reason } => write!(f, "invalid {field}: {reason}"),
            Self::NotCanonical { field, reason } => write!(f, "{field} not canonical: {reason}"),
            Self::Ipv6ZoneIdentifier => {
                f.write_str("ipv6 address has a zone identifier, which names no device")
            }
            Self::CounterExhausted => f.write_str("key id counter exhausted at 4294967295"),
            Self::ReseedRequired => f.write_str("random generator must be reseeded"),
            Self::Truncated { what } => write!(f, "{what} truncated"),
            Self::TrailingBytes { what, count } => {
                write!(f, "{what} followed by {count} trailing bytes")
            }
            Self::UnsupportedVersion { what, version } => {
                write!(f, "{what} version {version} not supported")
            }
            Self::UnknownType { what, value } => write!(f, "unknown {what} type {value}"),
            Self::UnknownKeyId => f.write_str("unknown key identifier"),
            Self::Superseded => f.write_str("key identifier superseded by a newer one"),
            Self::Revoked => f.write_str("key identifier revoked"),
            Self::Expired => f.write_str("key expired"),
            Self::WrongProof => f.write_str("proof did not verify"),
            Self::StaleChallenge => f.write_str("challenge is stale"),
            Self::Replay => f.write_str("message replayed"),
            Self::UntrustedAgent => f.write_str("agent identity does not match the trust anchor"),
            Self::LockedOut => f.write_str("too many failed pin attempts: locked out"),
            Self::NotAuthorized => f.write_str("peer not authorized for this request"),
            Self::MismatchedAnswer { field } => write!(f, "answer does not match: {field}"),
            Self::CounterRollback => f.write_str("key id counter lower than one accepted before"),
            Self::PeerRefused { code } => write!(f, "peer refused with outcome {code}"),
            Self::TimedOut => f.write_str("no answer before the deadline"),
            Self::SessionClosed => f.write_str("session closed before the conversation finished"),
            Self::UnexpectedMessage { state } => write!(f, "unexpected message in state {state}"),
            Self::InvalidState { call, state } => write!(f, "{call} not allowed in state {state}"),
            Self::Failed => f.write_str("state machine failed earlier and accepts nothing more"),
            Self::UnknownHandle => f.write_str("request handle is not outstanding"),
            Self::BufferTooSmall { needed } => write!(f, "buffer too small: {needed} bytes needed"),
            Self::NoAddress => f.write_str("no ip address assigned yet"),
            Self::DigestDuplicateParameter { name } => {
                write!(f, "digest parameter {name} appears twice")
            }
            Self::DigestMissingParameter { name } => write!(f, "digest parameter {name} missing"),
            Self::DigestSyntax { reason } => write!(f, "digest header syntax: {reason}"),
            Self::DigestNoSupportedChallenge => {
                f.write_str("no digest challenge with a supported algorithm")
            }
            Self::DigestStaleLoop => f.write_str("digest challenge stale again after a retry"),
        }
    }
}

// `core::error::Error` (the same trait as `std::error::Error`) so that the random generator can
// report its errors through `rand_core` in no_std builds too.
impl core::error::Error for Error {}

/// Lets an API that takes any `TryCryptoRng` whose error converts into [`Error`] take
/// infallible generators too.
impl From<core::convert::Infallible> for Error {
    fn from(never: core::convert::Infallible) -> Self {
        match never {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_fall_in_their_group() {
        let samples = [
            (Error::CounterExhausted, ErrorKind::Input, 107),
            (Error::Truncated { what: "key id" }, ErrorKind::Decode, 200),
            (Error::Replay, ErrorKind::Outcome, 306),
            (Error::Failed, ErrorKind::Usage, 402),
            (Error::DigestStaleLoop, ErrorKind::Digest, 504),
        ];
        for (error, kind, code) in samples {
            assert_eq!(error.kind(), kind);
            assert_eq!(error.code(), code);
        }
    }

    #[test]
    fn messages_name_field_and_limit() {
        let e = Error::TooLong {
            field: "agent identifier",
            max: 64,
            actual: 65,
        };
        assert_eq!(e.to_string(), "agent identifier too long: 65 > maximum 64");
        assert_eq!(
            Error::CounterExhausted.to_string(),
            "key id counter exhausted at 4294967295"
        );
    }
}
