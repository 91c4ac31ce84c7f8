//! SIP and HTTP Digest (RFC 7616, RFC 3261): the phone side (`keyprov_digest_client`) and the
//! registrar side (`keyprov_digest_registrar`), plus H(A1) for credential stores.
//!
//! Algorithms are named by `KEYPROV_DIGEST_*` flags (one bit each, `-sess` variants included)
//! and combined with `|` where a set is meant; qop values likewise by `KEYPROV_DIGEST_QOP_*`.

use core::ffi::c_char;

use super::boundary::{self, Failure};
use super::result::keyprov_result;
use crate::Error;
use crate::digest::{Algorithm, HashAlgorithm, Qop, Request};
use crate::secret::DigestPassphrase;

pub mod client;
pub mod registrar;

/// Digest algorithm MD5 (only in builds with the `digest-md5` feature, the default).
pub const KEYPROV_DIGEST_MD5: u32 = 0x01;
/// Digest algorithm SHA-256.
pub const KEYPROV_DIGEST_SHA256: u32 = 0x02;
/// Digest algorithm SHA-512-256.
pub const KEYPROV_DIGEST_SHA512_256: u32 = 0x04;
/// Digest algorithm MD5-sess.
pub const KEYPROV_DIGEST_MD5_SESS: u32 = 0x10;
/// Digest algorithm SHA-256-sess.
pub const KEYPROV_DIGEST_SHA256_SESS: u32 = 0x20;
/// Digest algorithm SHA-512-256-sess.
pub const KEYPROV_DIGEST_SHA512_256_SESS: u32 = 0x40;

/// Quality of protection `auth`: method and request URI.
pub const KEYPROV_DIGEST_QOP_AUTH: u32 = 0x01;
/// Quality of protection `auth-int`: also the message body.
pub const KEYPROV_DIGEST_QOP_AUTH_INT: u32 = 0x02;

/// Most bytes of a Digest header value this library reads.
pub const KEYPROV_DIGEST_MAX_HEADER_LEN: usize = 8192;

/// A piece of text: `len` bytes at `ptr`, no NUL needed.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct keyprov_str {
    /// The first byte; may be NULL when `len` is 0.
    pub ptr: *const c_char,
    /// Bytes at `ptr`.
    pub len: usize,
}

/// The parts of a request that enter a Digest response.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct keyprov_digest_request {
    /// The method, for example `REGISTER`.
    pub method: *const c_char,
    /// Bytes at `method`.
    pub method_len: usize,
    /// The digest URI as written in the `uri` parameter (for SIP the Request-URI).
    pub uri: *const c_char,
    /// Bytes at `uri`.
    pub uri_len: usize,
    /// The message body; it enters the digest only with qop `auth-int`. May be NULL if empty.
    pub body: *const u8,
    /// Bytes at `body`.
    pub body_len: usize,
}

/// Algorithms from strongest to weakest: the order a registrar offers them in.
const BY_STRENGTH: [u32; 6] = [
    KEYPROV_DIGEST_SHA512_256,
    KEYPROV_DIGEST_SHA512_256_SESS,
    KEYPROV_DIGEST_SHA256,
    KEYPROV_DIGEST_SHA256_SESS,
    KEYPROV_DIGEST_MD5,
    KEYPROV_DIGEST_MD5_SESS,
];

/// The hash function of a flag without its `-sess` bit.
fn hash_of(flag: u32) -> Option<HashAlgorithm> {
    match flag {
        #[cfg(feature = "digest-md5")]
        KEYPROV_DIGEST_MD5 => Some(HashAlgorithm::Md5),
        KEYPROV_DIGEST_SHA256 => Some(HashAlgorithm::Sha256),
        KEYPROV_DIGEST_SHA512_256 => Some(HashAlgorithm::Sha512_256),
        _ => None,
    }
}

/// The hash function named by a flag of `KEYPROV_DIGEST_MD5`, `_SHA256` or `_SHA512_256`.
pub(crate) fn hash_from_flag(flag: u32) -> Result<HashAlgorithm, Error> {
    hash_of(flag).ok_or(Error::InvalidValue {
        field: "digest hash algorithm",
        reason: "not one hash flag of this build",
    })
}

/// The algorithm named by one flag.
pub(crate) fn algorithm_from_flag(flag: u32) -> Option<Algorithm> {
    let (hash, session) = match hash_of(flag) {
        Some(hash) => (hash, false),
        None => (hash_of(flag >> 4)?, true),
    };
    Some(Algorithm { hash, session })
}

/// The flag of an algorithm.
pub(crate) fn algorithm_flag(algorithm: Algorithm) -> u32 {
    let plain = match algorithm.hash {
        #[cfg(feature = "digest-md5")]
        HashAlgorithm::Md5 => KEYPROV_DIGEST_MD5,
        HashAlgorithm::Sha256 => KEYPROV_DIGEST_SHA256,
        HashAlgorithm::Sha512_256 => KEYPROV_DIGEST_SHA512_256,
    };
    if algorithm.session { plain << 4 } else { plain }
}

/// The algorithms of a flag set, strongest first; unknown bits are refused.
pub(crate) fn algorithms_from_flags(flags: u32) -> Result<Vec<Algorithm>, Error> {
    let known = BY_STRENGTH
        .iter()
        .filter(|f| algorithm_from_flag(**f).is_some());
    if flags & !known.fold(0, |all, f| all | f) != 0 {
        return Err(Error::InvalidValue {
            field: "digest algorithms",
            reason: "unknown flag or algorithm not in this build",
        });
    }
    let chosen = BY_STRENGTH.iter().filter(|f| flags & **f != 0);
    Ok(chosen.filter_map(|f| algorithm_from_flag(*f)).collect())
}

/// The flag of a qop value.
pub(crate) fn qop_flag(qop: Qop) -> u32 {
    match qop {
        Qop::Auth => KEYPROV_DIGEST_QOP_AUTH,
        Qop::AuthInt => KEYPROV_DIGEST_QOP_AUTH_INT,
    }
}

/// The qop values of a flag set; unknown bits are refused.
pub(crate) fn qops_from_flags(flags: u32) -> Result<Vec<Qop>, Error> {
    if flags & !(KEYPROV_DIGEST_QOP_AUTH | KEYPROV_DIGEST_QOP_AUTH_INT) != 0 {
        return Err(Error::InvalidValue {
            field: "digest qop",
            reason: "unknown flag",
        });
    }
    let all = [
        (KEYPROV_DIGEST_QOP_AUTH, Qop::Auth),
        (KEYPROV_DIGEST_QOP_AUTH_INT, Qop::AuthInt),
    ];
    Ok(all
        .into_iter()
        .filter(|(f, _)| flags & f != 0)
        .map(|(_, q)| q)
        .collect())
}

/// A request described by C.
///
/// # Safety
/// `request` is NULL or points to a live struct whose buffers are valid for their lengths
/// during `'a`.
pub(crate) unsafe fn request_in<'a>(
    request: *const keyprov_digest_request,
) -> Result<Request<'a>, Failure> {
    // SAFETY: forwarded from the caller's guarantee.
    unsafe {
        let request = boundary::object(request, "request")?;
        Ok(Request {
            method: boundary::text_in(request.method, request.method_len, "method")?,
            uri: boundary::text_in(request.uri, request.uri_len, "uri")?,
            body: boundary::bytes_in(request.body, request.body_len, "body")?,
        })
    }
}

/// Writes H(A1) = H(username ":" realm ":" password) as lowercase hexadecimal text and a NUL,
/// for `hash` one of `KEYPROV_DIGEST_MD5`, `_SHA256`, `_SHA512_256`: what a registrar may
/// store instead of the password.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_ha1(
    hash: u32,
    username: *const c_char,
    username_len: usize,
    realm: *const c_char,
    realm_len: usize,
    password: *const u8,
    password_len: usize,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes each input valid for its length and a buffer valid for
        // `buf_len` bytes.
        unsafe {
            let username = boundary::text_in(username, username_len, "username")?;
            let realm = boundary::text_in(realm, realm_len, "realm")?;
            let password = boundary::bytes_in(password, password_len, "password")?;
            let password = DigestPassphrase::from_bytes(password)?;
            let ha1 = crate::digest::ha1(hash_from_flag(hash)?, username, realm, &password);
            // H(A1) is kept as its lowercase hexadecimal text, so this never fails.
            let text = core::str::from_utf8(ha1.expose_secret()).map_err(|_| Failure::Panic)?;
            boundary::text_out(text, buf, buf_len, len_out)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_name_each_algorithm_once() {
        for flag in BY_STRENGTH {
            if let Some(algorithm) = algorithm_from_flag(flag) {
                assert_eq!(algorithm_flag(algorithm), flag);
            }
        }
        let all = algorithms_from_flags(KEYPROV_DIGEST_SHA256 | KEYPROV_DIGEST_SHA512_256);
        assert_eq!(all.unwrap(), [Algorithm::SHA512_256, Algorithm::SHA256]);
        assert!(algorithms_from_flags(0x100).is_err());
        assert!(qops_from_flags(4).is_err());
    }
}
