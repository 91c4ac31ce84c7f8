//! Digest hash algorithms and the response computation (RFC 7616 sections 3.4.1 to 3.4.6).
//!
//! Every digest is written as lowercase hexadecimal text, since that text, not the raw hash,
//! is what enters the next hash.

use alloc::string::String;

use zeroize::Zeroize;

use crate::Error;
use crate::secret::{DigestHa1, DigestPassphrase};

/// The hash function of a Digest algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashAlgorithm {
    /// MD5: the legacy algorithm of RFC 2617, still the only one many phones speak.
    #[cfg(feature = "digest-md5")]
    Md5,
    /// SHA-256 (FIPS 180-4).
    Sha256,
    /// SHA-512/256 (FIPS 180-4): its own initial values, not a truncated SHA-512.
    Sha512_256,
}

impl HashAlgorithm {
    /// Every hash algorithm of this build, weakest first.
    pub const ALL: &'static [HashAlgorithm] = &[
        #[cfg(feature = "digest-md5")]
        HashAlgorithm::Md5,
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha512_256,
    ];

    /// Length of the hexadecimal digest text: 32 for MD5, 64 for the others.
    pub const fn hex_len(self) -> usize {
        match self {
            #[cfg(feature = "digest-md5")]
            Self::Md5 => 32,
            Self::Sha256 | Self::Sha512_256 => 64,
        }
    }

    /// The algorithm token without the `-sess` suffix.
    pub const fn token(self) -> &'static str {
        match self {
            #[cfg(feature = "digest-md5")]
            Self::Md5 => "MD5",
            Self::Sha256 => "SHA-256",
            Self::Sha512_256 => "SHA-512-256",
        }
    }

    /// Rank used to pick the strongest challenge: higher is stronger.
    pub const fn strength(self) -> u8 {
        match self {
            #[cfg(feature = "digest-md5")]
            Self::Md5 => 1,
            Self::Sha256 => 2,
            Self::Sha512_256 => 3,
        }
    }

    /// The digest of the concatenation of `parts`, as lowercase hexadecimal text.
    pub fn hex_digest(self, parts: &[&[u8]]) -> String {
        String::from(self.hex_text(parts).as_str())
    }

    /// As [`HashAlgorithm::hex_digest`], in a buffer that is wiped when dropped.
    fn hex_text(self, parts: &[&[u8]]) -> HexText {
        match self {
            #[cfg(feature = "digest-md5")]
            Self::Md5 => hex_of::<md5::Md5>(parts),
            Self::Sha256 => hex_of::<sha2::Sha256>(parts),
            Self::Sha512_256 => hex_of::<sha2::Sha512_256>(parts),
        }
    }
}

/// Hexadecimal digest text of at most 32 bytes of hash, wiped on drop since it may be H(A1).
struct HexText {
    bytes: [u8; 64],
    len: usize,
}

impl HexText {
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    fn as_str(&self) -> &str {
        // Only ASCII hexadecimal digits are ever written.
        core::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

impl Drop for HexText {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

fn hex_of<D: sha2::Digest>(parts: &[&[u8]]) -> HexText {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hasher = D::new();
    for part in parts {
        hasher.update(part);
    }
    let mut hash = hasher.finalize();
    let mut text = HexText {
        bytes: [0; 64],
        len: 0,
    };
    for byte in hash.iter().take(32) {
        text.bytes[text.len] = DIGITS[usize::from(byte >> 4)];
        text.bytes[text.len + 1] = DIGITS[usize::from(byte & 0x0f)];
        text.len += 2;
    }
    hash.zeroize();
    text
}

/// Lowercase hexadecimal text of `bytes`.
pub(crate) fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// A Digest algorithm: a hash function, with or without the session variant (`-sess`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Algorithm {
    /// The hash function.
    pub hash: HashAlgorithm,
    /// `-sess`: H(A1) is bound to the server nonce and the client nonce.
    pub session: bool,
}

impl Algorithm {
    /// MD5 without session: what an absent `algorithm` parameter means.
    #[cfg(feature = "digest-md5")]
    pub const MD5: Self = Self {
        hash: HashAlgorithm::Md5,
        session: false,
    };
    /// SHA-256 without session.
    pub const SHA256: Self = Self {
        hash: HashAlgorithm::Sha256,
        session: false,
    };
    /// SHA-512/256 without session.
    pub const SHA512_256: Self = Self {
        hash: HashAlgorithm::Sha512_256,
        session: false,
    };

    /// Reads an algorithm token, ignoring case; `None` for a token this build does not know.
    pub fn from_token(token: &str) -> Option<Self> {
        let (name, session) = match token.len().checked_sub(5) {
            Some(cut)
                if token.is_char_boundary(cut) && token[cut..].eq_ignore_ascii_case("-sess") =>
            {
                (&token[..cut], true)
            }
            _ => (token, false),
        };
        let hash = HashAlgorithm::ALL
            .iter()
            .find(|h| h.token().eq_ignore_ascii_case(name))?;
        Some(Self {
            hash: *hash,
            session,
        })
    }

    /// The algorithm token as it is written in headers, e.g. `SHA-256-sess`.
    pub const fn token(self) -> &'static str {
        match (self.hash, self.session) {
            #[cfg(feature = "digest-md5")]
            (HashAlgorithm::Md5, false) => "MD5",
            #[cfg(feature = "digest-md5")]
            (HashAlgorithm::Md5, true) => "MD5-sess",
            (HashAlgorithm::Sha256, false) => "SHA-256",
            (HashAlgorithm::Sha256, true) => "SHA-256-sess",
            (HashAlgorithm::Sha512_256, false) => "SHA-512-256",
            (HashAlgorithm::Sha512_256, true) => "SHA-512-256-sess",
        }
    }
}

/// Quality of protection (RFC 7616 section 3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Qop {
    /// Authentication of the method and the request URI.
    Auth,
    /// `auth-int`: also the hash of the message body.
    AuthInt,
}

impl Qop {
    /// The token as written in headers.
    pub const fn token(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::AuthInt => "auth-int",
        }
    }

    /// Reads a qop token, ignoring case; `None` for an unknown one.
    pub fn from_token(token: &str) -> Option<Self> {
        if token.eq_ignore_ascii_case("auth") {
            Some(Self::Auth)
        } else if token.eq_ignore_ascii_case("auth-int") {
            Some(Self::AuthInt)
        } else {
            None
        }
    }
}

/// The `userhash` form of a username: H(username ":" realm) (RFC 7616 section 3.4.4).
pub fn userhash(hash: HashAlgorithm, username: &str, realm: &str) -> String {
    hash.hex_digest(&[username.as_bytes(), b":", realm.as_bytes()])
}

/// H(A1) = H(username ":" realm ":" password), what a registrar may store instead of a key.
pub fn ha1(
    hash: HashAlgorithm,
    username: &str,
    realm: &str,
    password: &DigestPassphrase,
) -> DigestHa1 {
    let parts: [&[u8]; 5] = [
        username.as_bytes(),
        b":",
        realm.as_bytes(),
        b":",
        password.expose_secret(),
    ];
    ha1_from_text(&hash.hex_text(&parts))
}

fn ha1_from_text(text: &HexText) -> DigestHa1 {
    // The text is always 32 or 64 lowercase hexadecimal digits, which from_hex accepts.
    DigestHa1::from_hex(text.as_str())
        .unwrap_or_else(|_| unreachable!("digest text is hexadecimal"))
}

/// Everything besides H(A1) that enters a response (RFC 7616 section 3.4.1).
#[derive(Clone, Copy, Debug)]
pub struct ResponseInput<'a> {
    /// The algorithm of the challenge.
    pub algorithm: Algorithm,
    /// The server nonce.
    pub nonce: &'a str,
    /// The client nonce; required with a qop and with a `-sess` algorithm.
    pub cnonce: Option<&'a str>,
    /// The nonce count; required with a qop.
    pub nc: Option<u32>,
    /// The quality of protection; `None` is the RFC 2069 form.
    pub qop: Option<Qop>,
    /// The request method; empty for `rspauth` (RFC 7616 section 3.5).
    pub method: &'a str,
    /// The digest URI exactly as sent in the `uri` parameter.
    pub uri: &'a str,
    /// The message body, hashed only with `auth-int`.
    pub body: &'a [u8],
}

/// The nonce count as written in headers: eight lowercase hexadecimal digits.
pub fn format_nc(nc: u32) -> String {
    lower_hex(&nc.to_be_bytes())
}

/// Computes the `response` (or, with an empty method, the `rspauth`) from H(A1).
///
/// `ha1` must belong to `input.algorithm.hash`; its length is checked.
pub fn compute_response(ha1: &DigestHa1, input: &ResponseInput<'_>) -> Result<String, Error> {
    let hash = input.algorithm.hash;
    let actual = ha1.expose_secret().len();
    if actual != hash.hex_len() {
        return Err(Error::WrongLength {
            field: "digest h(a1)",
            expected: hash.hex_len(),
            actual,
        });
    }
    let session_key = effective_ha1(ha1, input)?;
    let ha2 = ha2(input);
    let nonce = input.nonce.as_bytes();
    Ok(match input.qop {
        None => hash.hex_digest(&[
            session_key.expose_secret(),
            b":",
            nonce,
            b":",
            ha2.as_bytes(),
        ]),
        Some(qop) => {
            let cnonce = required_cnonce(input)?.as_bytes();
            let nc = format_nc(
                input
                    .nc
                    .ok_or(Error::DigestMissingParameter { name: "nc" })?,
            );
            let parts: [&[u8]; 11] = [
                session_key.expose_secret(),
                b":",
                nonce,
                b":",
                nc.as_bytes(),
                b":",
                cnonce,
                b":",
                qop.token().as_bytes(),
                b":",
                ha2.as_bytes(),
            ];
            hash.hex_digest(&parts)
        }
    })
}

fn required_cnonce<'a>(input: &ResponseInput<'a>) -> Result<&'a str, Error> {
    input
        .cnonce
        .ok_or(Error::DigestMissingParameter { name: "cnonce" })
}

/// H(A1) itself, or for `-sess` H(H(A1) ":" nonce ":" cnonce).
fn effective_ha1(ha1: &DigestHa1, input: &ResponseInput<'_>) -> Result<DigestHa1, Error> {
    if !input.algorithm.session {
        return Ok(ha1.clone());
    }
    let cnonce = required_cnonce(input)?;
    let parts: [&[u8]; 5] = [
        ha1.expose_secret(),
        b":",
        input.nonce.as_bytes(),
        b":",
        cnonce.as_bytes(),
    ];
    Ok(ha1_from_text(&input.algorithm.hash.hex_text(&parts)))
}

/// H(A2): A2 = method ":" uri, and for `auth-int` also ":" H(body).
fn ha2(input: &ResponseInput<'_>) -> String {
    let hash = input.algorithm.hash;
    let (method, uri) = (input.method.as_bytes(), input.uri.as_bytes());
    if input.qop == Some(Qop::AuthInt) {
        let body_hash = hash.hex_digest(&[input.body]);
        hash.hex_digest(&[method, b":", uri, b":", body_hash.as_bytes()])
    } else {
        hash.hex_digest(&[method, b":", uri])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_read_in_any_case() {
        let sess = Algorithm {
            hash: HashAlgorithm::Sha512_256,
            session: true,
        };
        assert_eq!(Algorithm::from_token("sha-512-256-SESS"), Some(sess));
        assert_eq!(Algorithm::from_token("SHA-256"), Some(Algorithm::SHA256));
        assert_eq!(Algorithm::from_token("SHA-512"), None);
        assert_eq!(Algorithm::from_token("-sess"), None);
        assert_eq!(Algorithm::from_token("é-sess"), None);
        for hash in HashAlgorithm::ALL {
            for session in [false, true] {
                let algorithm = Algorithm {
                    hash: *hash,
                    session,
                };
                assert_eq!(Algorithm::from_token(algorithm.token()), Some(algorithm));
            }
        }
    }

    #[test]
    fn sha512_256_is_the_fips_180_4_function() {
        // FIPS 180-4 example "abc" for SHA-512/256 (NIST CSRC example values).
        let expected = "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23";
        assert_eq!(HashAlgorithm::Sha512_256.hex_digest(&[b"abc"]), expected);
    }

    #[test]
    fn wrong_ha1_length_is_refused() {
        let ha1 = DigestHa1::from_hex(&"a".repeat(32)).unwrap();
        let input = ResponseInput {
            algorithm: Algorithm::SHA256,
            nonce: "n",
            cnonce: None,
            nc: None,
            qop: None,
            method: "GET",
            uri: "/",
            body: b"",
        };
        let err = compute_response(&ha1, &input).unwrap_err();
        assert_eq!(
            err,
            Error::WrongLength {
                field: "digest h(a1)",
                expected: 64,
                actual: 32
            }
        );
    }

    #[test]
    fn nc_is_eight_lowercase_digits() {
        assert_eq!(format_nc(1), "00000001");
        assert_eq!(format_nc(0xABCD_EF01), "abcdef01");
    }
}
