//! Result codes: the one return type of the C ABI.
//!
//! Every fallible function returns a [`keyprov_result`]. `0` is success; every other value is
//! the stable [`Error::code`] of the failure, or a code of the C ABI's own group (900-999) for
//! failures that only exist at the boundary (a null pointer, a caught panic). Codes are grouped
//! by hundreds and never renumbered; a new code takes the next free number of its group.

use core::ffi::c_char;

use super::boundary::{self, Failure};
use crate::Error;

/// The return type of every fallible `keyprov_*` function: `KEYPROV_OK` (0) or a failure code.
///
/// Codes are grouped by hundreds: 100-199 input out of its limits, 200-299 bytes that do not
/// decode, 300-399 the protocol refused, 400-499 API misuse, 500-599 SIP Digest, 900-999 the C
/// ABI itself. Numbers never change between releases.
#[allow(
    non_camel_case_types,
    reason = "C naming: the type is spelled this way in the header"
)]
pub type keyprov_result = u32;

/// The call succeeded.
pub const KEYPROV_OK: keyprov_result = 0;

/// Input: a field holds fewer bytes or characters than its minimum.
pub const KEYPROV_TOO_SHORT: keyprov_result = 100;
/// Input: a field holds more bytes or characters than its maximum.
pub const KEYPROV_TOO_LONG: keyprov_result = 101;
/// Input: a fixed-size field has the wrong length.
pub const KEYPROV_WRONG_LENGTH: keyprov_result = 102;
/// Input: a number is outside its accepted range (this includes unknown enum values).
pub const KEYPROV_OUT_OF_RANGE: keyprov_result = 103;
/// Input: a field holds a value that is not allowed (wrong characters, not UTF-8, wrong shape).
pub const KEYPROV_INVALID_VALUE: keyprov_result = 104;
/// Input: a value is acceptable but not written in its one canonical form.
pub const KEYPROV_NOT_CANONICAL: keyprov_result = 105;
/// Input: an IPv6 address carries a zone identifier, which names no device.
pub const KEYPROV_IPV6_ZONE_IDENTIFIER: keyprov_result = 106;
/// Input: the 32-bit key identifier counter is at 4294967295 and cannot advance.
pub const KEYPROV_COUNTER_EXHAUSTED: keyprov_result = 107;
/// Input: the random generator must be reseeded before it produces more output.
pub const KEYPROV_RESEED_REQUIRED: keyprov_result = 108;

/// Decode: input ended before a complete value.
pub const KEYPROV_TRUNCATED: keyprov_result = 200;
/// Decode: a complete value was followed by bytes that belong to nothing.
pub const KEYPROV_TRAILING_BYTES: keyprov_result = 201;
/// Decode: the format version is not one this build understands.
pub const KEYPROV_UNSUPPORTED_VERSION: keyprov_result = 202;
/// Decode: a type or tag byte has no meaning.
pub const KEYPROV_UNKNOWN_TYPE: keyprov_result = 203;

/// Outcome: no key is known under this key identifier.
pub const KEYPROV_UNKNOWN_KEY_ID: keyprov_result = 300;
/// Outcome: a newer key identifier has been issued to the same device.
pub const KEYPROV_SUPERSEDED: keyprov_result = 301;
/// Outcome: the key identifier was revoked.
pub const KEYPROV_REVOKED: keyprov_result = 302;
/// Outcome: the key's lifetime is over.
pub const KEYPROV_EXPIRED: keyprov_result = 303;
/// Outcome: a proof, MAC, signature or Digest response did not verify.
pub const KEYPROV_WRONG_PROOF: keyprov_result = 304;
/// Outcome: a challenge or nonce is genuine but too old; ask for a new one.
pub const KEYPROV_STALE_CHALLENGE: keyprov_result = 305;
/// Outcome: this exact message was accepted before.
pub const KEYPROV_REPLAY: keyprov_result = 306;
/// Outcome: the agent's authenticated identity does not match the configured trust anchor.
pub const KEYPROV_UNTRUSTED_AGENT: keyprov_result = 307;
/// Outcome: too many failed PIN attempts; the user is locked out for now.
pub const KEYPROV_LOCKED_OUT: keyprov_result = 308;
/// Outcome: the peer may not have what it asked for.
pub const KEYPROV_NOT_AUTHORIZED: keyprov_result = 309;
/// Outcome: the answer does not belong to this device or request.
pub const KEYPROV_MISMATCHED_ANSWER: keyprov_result = 310;
/// Outcome: a key identifier counter lower than one accepted before (a rollback).
pub const KEYPROV_COUNTER_ROLLBACK: keyprov_result = 311;
/// Outcome: the peer reported a failure.
pub const KEYPROV_PEER_REFUSED: keyprov_result = 312;
/// Outcome: the peer did not answer before the deadline.
pub const KEYPROV_TIMED_OUT: keyprov_result = 313;
/// Outcome: the session closed before the conversation finished.
pub const KEYPROV_SESSION_CLOSED: keyprov_result = 314;

/// Usage: a message arrived that is not expected in the current state.
pub const KEYPROV_UNEXPECTED_MESSAGE: keyprov_result = 400;
/// Usage: the call is not allowed in the current state.
pub const KEYPROV_INVALID_STATE: keyprov_result = 401;
/// Usage: the state machine failed earlier and accepts nothing more.
pub const KEYPROV_FAILED: keyprov_result = 402;
/// Usage: a request handle that is not outstanding.
pub const KEYPROV_UNKNOWN_HANDLE: keyprov_result = 403;
/// Usage: an output buffer is too small; `*len_out` holds the number of bytes needed.
pub const KEYPROV_BUFFER_TOO_SMALL: keyprov_result = 404;
/// Usage: the host must report an assigned address before provisioning starts.
pub const KEYPROV_NO_ADDRESS: keyprov_result = 405;

/// Digest: a Digest parameter appears twice.
pub const KEYPROV_DIGEST_DUPLICATE_PARAMETER: keyprov_result = 500;
/// Digest: a required Digest parameter is absent.
pub const KEYPROV_DIGEST_MISSING_PARAMETER: keyprov_result = 501;
/// Digest: a Digest header could not be parsed.
pub const KEYPROV_DIGEST_SYNTAX: keyprov_result = 502;
/// Digest: no offered challenge uses an algorithm and qop this side supports.
pub const KEYPROV_DIGEST_NO_SUPPORTED_CHALLENGE: keyprov_result = 503;
/// Digest: the server rejected a fresh answer to a stale challenge again.
pub const KEYPROV_DIGEST_STALE_LOOP: keyprov_result = 504;

/// C ABI: a pointer argument is NULL where an object or a non-empty buffer is required.
pub const KEYPROV_NULL_POINTER: keyprov_result = 900;
/// C ABI: the library hit an internal error (a Rust panic) and stopped it at the boundary.
pub const KEYPROV_PANIC: keyprov_result = 901;
/// C ABI: the object is unusable because an earlier call on it hit an internal error.
pub const KEYPROV_POISONED: keyprov_result = 902;
/// C ABI: a host callback (random generator) reported a failure.
pub const KEYPROV_CALLBACK_FAILED: keyprov_result = 903;

/// The code of a failure of the Rust API.
pub(crate) fn from_error(error: &Error) -> keyprov_result {
    keyprov_result::from(error.code())
}

/// A fixed lowercase sentence for every code, without the details of one failure.
pub(crate) fn describe(result: keyprov_result) -> &'static str {
    match result {
        KEYPROV_OK => "success",
        KEYPROV_TOO_SHORT => "a field is shorter than its minimum",
        KEYPROV_TOO_LONG => "a field is longer than its maximum",
        KEYPROV_WRONG_LENGTH => "a fixed-size field has the wrong length",
        KEYPROV_OUT_OF_RANGE => "a number is outside its accepted range",
        KEYPROV_INVALID_VALUE => "a field holds a value that is not allowed",
        KEYPROV_NOT_CANONICAL => "a value is not in its canonical form",
        KEYPROV_IPV6_ZONE_IDENTIFIER => "ipv6 address has a zone identifier",
        KEYPROV_COUNTER_EXHAUSTED => "key id counter exhausted at 4294967295",
        KEYPROV_RESEED_REQUIRED => "random generator must be reseeded",
        KEYPROV_TRUNCATED => "input truncated",
        KEYPROV_TRAILING_BYTES => "input followed by trailing bytes",
        KEYPROV_UNSUPPORTED_VERSION => "format version not supported",
        KEYPROV_UNKNOWN_TYPE => "unknown type byte",
        KEYPROV_UNKNOWN_KEY_ID => "unknown key identifier",
        KEYPROV_SUPERSEDED => "key identifier superseded by a newer one",
        KEYPROV_REVOKED => "key identifier revoked",
        KEYPROV_EXPIRED => "key expired",
        KEYPROV_WRONG_PROOF => "proof did not verify",
        KEYPROV_STALE_CHALLENGE => "challenge is stale",
        KEYPROV_REPLAY => "message replayed",
        KEYPROV_UNTRUSTED_AGENT => "agent identity does not match the trust anchor",
        KEYPROV_LOCKED_OUT => "too many failed pin attempts: locked out",
        KEYPROV_NOT_AUTHORIZED => "peer not authorized for this request",
        KEYPROV_MISMATCHED_ANSWER => "answer does not match the request",
        KEYPROV_COUNTER_ROLLBACK => "key id counter lower than one accepted before",
        KEYPROV_PEER_REFUSED => "peer refused",
        KEYPROV_TIMED_OUT => "peer did not answer in time",
        KEYPROV_SESSION_CLOSED => "session closed before the conversation finished",
        KEYPROV_UNEXPECTED_MESSAGE => "message not expected in the current state",
        KEYPROV_INVALID_STATE => "call not allowed in the current state",
        KEYPROV_FAILED => "state machine failed earlier and accepts nothing more",
        KEYPROV_UNKNOWN_HANDLE => "request handle is not outstanding",
        KEYPROV_BUFFER_TOO_SMALL => "output buffer too small",
        KEYPROV_NO_ADDRESS => "no ip address assigned yet",
        KEYPROV_DIGEST_DUPLICATE_PARAMETER => "digest parameter appears twice",
        KEYPROV_DIGEST_MISSING_PARAMETER => "digest parameter missing",
        KEYPROV_DIGEST_SYNTAX => "digest header syntax error",
        KEYPROV_DIGEST_NO_SUPPORTED_CHALLENGE => "no digest challenge with a supported algorithm",
        KEYPROV_DIGEST_STALE_LOOP => "digest challenge stale again after a retry",
        KEYPROV_NULL_POINTER => "null pointer argument",
        KEYPROV_PANIC => "internal error caught at the c boundary",
        KEYPROV_POISONED => "object unusable after an earlier internal error",
        KEYPROV_CALLBACK_FAILED => "host callback reported a failure",
        _ => "unknown result code",
    }
}

/// Writes the fixed message of `result` into `buf` as NUL-terminated text.
///
/// `*len_out` receives the bytes the message occupies including its NUL. With a `buf` of
/// `buf_len` bytes smaller than that, nothing is written and `KEYPROV_BUFFER_TOO_SMALL` is
/// returned; `buf` may be NULL when `buf_len` is 0, to ask for the size. Unknown codes get the
/// message "unknown result code". The message is the same for every failure with this code; for
/// the details of the last failure (which field, which limit) see `keyprov_last_error_message`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_result_message(
    result: keyprov_result,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes `buf` valid for `buf_len` bytes (or NULL with 0) and
        // `len_out` NULL or writable, as the function documentation requires.
        unsafe { boundary::text_out(describe(result), buf, buf_len, len_out) }
    })
}

/// Writes the full message of the most recent failed call on the calling thread into `buf`.
///
/// The message names the field and the limit ("agent identifier too long: 65 > maximum 64")
/// and never contains secret values. A successful call does not clear it; before any failure
/// the message is empty. Buffer rules as for `keyprov_result_message`; asking for the size or
/// failing with `KEYPROV_BUFFER_TOO_SMALL` keeps the stored message.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_last_error_message(
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
) -> keyprov_result {
    let message = boundary::last_error_message();
    boundary::call_keeping_last_error(|| {
        // SAFETY: the caller passes `buf` valid for `buf_len` bytes (or NULL with 0) and
        // `len_out` NULL or writable, as the function documentation requires.
        unsafe { boundary::text_out(&message, buf, buf_len, len_out) }
    })
}

/// The group of a result code: its hundreds (1 input, 2 decode, 3 outcome, 4 usage, 5 Digest,
/// 9 C ABI), or 0 for `KEYPROV_OK`.
#[unsafe(no_mangle)]
pub extern "C" fn keyprov_result_group(result: keyprov_result) -> u32 {
    result / 100
}

impl Failure {
    /// The result code the C caller sees.
    pub(crate) fn code(&self) -> keyprov_result {
        match self {
            Failure::Core(error) => from_error(error),
            Failure::NullPointer { .. } => KEYPROV_NULL_POINTER,
            Failure::Panic => KEYPROV_PANIC,
            Failure::Poisoned => KEYPROV_POISONED,
            Failure::Callback { .. } => KEYPROV_CALLBACK_FAILED,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One sample of every `Error` variant, with the constant the header gives its code.
    fn samples() -> Vec<(Error, keyprov_result)> {
        vec![
            (
                Error::TooShort {
                    field: "f",
                    min: 1,
                    actual: 0,
                },
                KEYPROV_TOO_SHORT,
            ),
            (
                Error::TooLong {
                    field: "f",
                    max: 1,
                    actual: 2,
                },
                KEYPROV_TOO_LONG,
            ),
            (
                Error::WrongLength {
                    field: "f",
                    expected: 1,
                    actual: 2,
                },
                KEYPROV_WRONG_LENGTH,
            ),
            (
                Error::OutOfRange {
                    field: "f",
                    min: 0,
                    max: 1,
                },
                KEYPROV_OUT_OF_RANGE,
            ),
            (
                Error::InvalidValue {
                    field: "f",
                    reason: "r",
                },
                KEYPROV_INVALID_VALUE,
            ),
            (
                Error::NotCanonical {
                    field: "f",
                    reason: "r",
                },
                KEYPROV_NOT_CANONICAL,
            ),
            (Error::Ipv6ZoneIdentifier, KEYPROV_IPV6_ZONE_IDENTIFIER),
            (Error::CounterExhausted, KEYPROV_COUNTER_EXHAUSTED),
            (Error::ReseedRequired, KEYPROV_RESEED_REQUIRED),
            (Error::Truncated { what: "w" }, KEYPROV_TRUNCATED),
            (
                Error::TrailingBytes {
                    what: "w",
                    count: 1,
                },
                KEYPROV_TRAILING_BYTES,
            ),
            (
                Error::UnsupportedVersion {
                    what: "w",
                    version: 9,
                },
                KEYPROV_UNSUPPORTED_VERSION,
            ),
            (
                Error::UnknownType {
                    what: "w",
                    value: 9,
                },
                KEYPROV_UNKNOWN_TYPE,
            ),
            (Error::UnknownKeyId, KEYPROV_UNKNOWN_KEY_ID),
            (Error::Superseded, KEYPROV_SUPERSEDED),
            (Error::Revoked, KEYPROV_REVOKED),
            (Error::Expired, KEYPROV_EXPIRED),
            (Error::WrongProof, KEYPROV_WRONG_PROOF),
            (Error::StaleChallenge, KEYPROV_STALE_CHALLENGE),
            (Error::Replay, KEYPROV_REPLAY),
            (Error::UntrustedAgent, KEYPROV_UNTRUSTED_AGENT),
            (Error::LockedOut, KEYPROV_LOCKED_OUT),
            (Error::NotAuthorized, KEYPROV_NOT_AUTHORIZED),
            (
                Error::MismatchedAnswer { field: "f" },
                KEYPROV_MISMATCHED_ANSWER,
            ),
            (Error::CounterRollback, KEYPROV_COUNTER_ROLLBACK),
            (Error::PeerRefused { code: 1 }, KEYPROV_PEER_REFUSED),
            (Error::TimedOut, KEYPROV_TIMED_OUT),
            (Error::SessionClosed, KEYPROV_SESSION_CLOSED),
            (
                Error::UnexpectedMessage { state: "s" },
                KEYPROV_UNEXPECTED_MESSAGE,
            ),
            (
                Error::InvalidState {
                    call: "c",
                    state: "s",
                },
                KEYPROV_INVALID_STATE,
            ),
            (Error::Failed, KEYPROV_FAILED),
            (Error::UnknownHandle, KEYPROV_UNKNOWN_HANDLE),
            (
                Error::BufferTooSmall { needed: 1 },
                KEYPROV_BUFFER_TOO_SMALL,
            ),
            (Error::NoAddress, KEYPROV_NO_ADDRESS),
            (
                Error::DigestDuplicateParameter { name: "n" },
                KEYPROV_DIGEST_DUPLICATE_PARAMETER,
            ),
            (
                Error::DigestMissingParameter { name: "n" },
                KEYPROV_DIGEST_MISSING_PARAMETER,
            ),
            (Error::DigestSyntax { reason: "r" }, KEYPROV_DIGEST_SYNTAX),
            (
                Error::DigestNoSupportedChallenge,
                KEYPROV_DIGEST_NO_SUPPORTED_CHALLENGE,
            ),
            (Error::DigestStaleLoop, KEYPROV_DIGEST_STALE_LOOP),
        ]
    }

    #[test]
    fn every_error_code_has_its_constant_and_a_message() {
        for (error, constant) in samples() {
            assert_eq!(from_error(&error), constant, "{error:?}");
            assert_ne!(describe(constant), "unknown result code", "{error:?}");
            assert_eq!(
                keyprov_result_group(constant),
                u32::from(error.code() / 100)
            );
        }
    }

    /// Every code `Error::code` can return, read from its source, has a sentence here, so a
    /// new variant cannot reach C without its constant.
    #[test]
    fn every_code_in_the_error_source_is_described() {
        let source = include_str!("../error.rs");
        let codes = source.lines().filter_map(|line| {
            let (_, code) = line.trim().split_once("=> ")?;
            code.strip_suffix(',')?.parse::<u32>().ok()
        });
        let mut count = 0;
        for code in codes.filter(|c| (100..600).contains(c)) {
            assert_ne!(describe(code), "unknown result code", "code {code}");
            count += 1;
        }
        assert_eq!(count, samples().len());
    }

    #[test]
    fn boundary_codes_stay_in_their_own_group() {
        let boundary = [KEYPROV_NULL_POINTER, KEYPROV_PANIC, KEYPROV_POISONED];
        for code in boundary.into_iter().chain([KEYPROV_CALLBACK_FAILED]) {
            assert_eq!(keyprov_result_group(code), 9);
            assert!(samples().iter().all(|(error, _)| from_error(error) != code));
        }
        assert_eq!(describe(7777), "unknown result code");
    }
}
