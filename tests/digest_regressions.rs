//! Registrar-side Digest checks against values computed outside this crate.
//!
//! The nonce and every response below were computed with Python's `hashlib`, `hmac` and
//! `base64` alone, from the nonce layout in the rustdoc of `keyprov::digest::nonce` and from
//! RFC 7616 section 3.4.1 (SHA-256, qop `auth`):
//!
//! ```text
//! raw   = u64(1000) || 07 * 8
//! tag   = HMAC-SHA-256(09 * 32, "keyprov digest nonce v1" 00 || u16(15) || realm || raw)[:16]
//! nonce = base64url_unpadded(raw || tag)
//! HA1   = SHA-256("alice:sip.example.com:secret")
//! HA2   = SHA-256("REGISTER:" uri)
//! response = SHA-256(HA1 ":" nonce ":" nc ":abc:auth:" HA2)
//! RFC 2069 form (no qop): response = SHA-256(HA1 ":" nonce ":" HA2)
//! ```

use core::convert::Infallible;

use keyprov::Error;
use keyprov::digest::{
    CredentialLookup, Credentials, Outcome, Registrar, RegistrarPolicy, Request, StoredCredential,
};
use keyprov::secret::{DigestNonceSecret, DigestPassphrase};

const REALM: &str = "sip.example.com";
const NOW: u64 = 1_000;
const NONCE: &str = "AAAAAAAAA-gHBwcHBwcHB75NxrvV1y4sWJHNiIRh6bM";
const REGISTER: Request<'static> = Request {
    method: "REGISTER",
    uri: "sip:sip.example.com",
    body: b"",
};

/// Hands out the same byte every time, so the nonce salt is `07 * 8`.
struct Sevens;

impl rand_core::TryRng for Sevens {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(0x0707_0707)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(0x0707_0707_0707_0707)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        dst.fill(7);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for Sevens {}

fn registrar() -> Registrar {
    registrar_with(|_| {})
}

fn registrar_with(configure: impl FnOnce(&mut RegistrarPolicy)) -> Registrar {
    let mut policy = RegistrarPolicy::new(REALM);
    policy.algorithms = vec![keyprov::digest::Algorithm::SHA256];
    configure(&mut policy);
    let secret = DigestNonceSecret::from_bytes(&[9; 32]).unwrap();
    Registrar::new(policy, secret).unwrap()
}

fn found() -> CredentialLookup {
    let password = DigestPassphrase::from_bytes(b"secret").unwrap();
    CredentialLookup::Found(StoredCredential::Password(password))
}

fn authorization(uri: &str, nc: &str, response: &str) -> String {
    format!(
        "Digest username=\"alice\", realm=\"{REALM}\", uri=\"{uri}\", algorithm=SHA-256, \
         nonce=\"{NONCE}\", nc={nc}, cnonce=\"abc\", qop=auth, response=\"{response}\""
    )
}

#[test]
fn nonce_layout_is_the_documented_one() {
    assert_eq!(registrar().issue_nonce(NOW, &mut Sevens).unwrap(), NONCE);
}

#[test]
fn response_for_the_request_uri_is_accepted() {
    let response = "5bf64e7b5c5d01bd09087f224d5c007d28d48dd4cbc340c5632abf5e092cac67";
    let value = authorization("sip:sip.example.com", "00000001", response);
    let outcome = registrar().verify_header(&value, &REGISTER, NOW, |_| found());
    assert!(matches!(outcome, Outcome::Accepted(_)), "{outcome:?}");
}

/// RFC 7616 section 3.4.6 (RFC 2617 section 3.2.2.5): the `uri` parameter must designate the
/// resource of the request line. A response computed correctly for another URI proves nothing
/// about this request.
#[test]
fn credentials_for_another_uri_are_refused() {
    let response = "34f80ac216f0fbb4b3e9dab3ce42a8dd903299eb8a4a13f2a02fc33c325ba1c6";
    let value = authorization("sip:other.example.com", "00000001", response);
    let outcome = registrar().verify_header(&value, &REGISTER, NOW, |_| found());
    let expected = Outcome::Malformed(Error::MismatchedAnswer { field: "uri" });
    assert_eq!(outcome, expected);
}

/// RFC 7616 section 3.4: `nc-value = 8LHEX`. The response covers the nc text as sent, so an
/// uppercase count cannot be read as the same number; it is refused as syntax.
#[test]
fn nonce_count_is_lowercase_hex_only() {
    let response = "bed54c48950d53f90680f6e3db69fb1f2bbaa9131ad1f900b3c5fb0cca166e49";
    let lower = authorization("sip:sip.example.com", "0000000a", response);
    assert_eq!(Credentials::parse(&lower).unwrap().nc, Some(10));
    let outcome = registrar().verify_header(&lower, &REGISTER, NOW, |_| found());
    assert!(matches!(outcome, Outcome::Accepted(_)), "{outcome:?}");

    let response = "59931c2129580bcb8ceb20ea8b5e896c5da5840f28884e7c0c5b20a21d2e1494";
    let upper = authorization("sip:sip.example.com", "0000000A", response);
    let syntax = Error::DigestSyntax {
        reason: "nc is not eight lowercase hexadecimal digits",
    };
    assert_eq!(Credentials::parse(&upper), Err(syntax));
}

/// Without qop the response covers no nonce count (RFC 2069), so an `nc` sent alongside is
/// not the phone's: the nonce serves once, whatever count a replayer adds.
#[test]
fn rfc2069_response_is_not_replayable_with_an_added_count() {
    let mut registrar = registrar_with(|p| p.allow_rfc2069 = true);
    let response = "9fd23d18e2f63347886da97820ae16251d538e79180297e8ef095e34b92fef77";
    let value = format!(
        "Digest username=\"alice\", realm=\"{REALM}\", uri=\"sip:sip.example.com\", \
         algorithm=SHA-256, nonce=\"{NONCE}\", response=\"{response}\""
    );
    let outcome = registrar.verify_header(&value, &REGISTER, NOW, |_| found());
    assert!(matches!(outcome, Outcome::Accepted(_)), "{outcome:?}");
    for nc in ["00000001", "00000002", "ffffffff"] {
        let replayed = format!("{value}, nc={nc}");
        let outcome = registrar.verify_header(&replayed, &REGISTER, NOW, |_| found());
        assert_eq!(outcome, Outcome::Replay, "nc={nc}");
    }
}

/// RFC 8187: `pct-encoded = "%" HEXDIG HEXDIG`. A sign is no hexadecimal digit, so `%+1` is not
/// a second spelling of `%01`.
#[test]
fn extended_username_percent_escape_is_two_hex_digits() {
    let with = |escape: &str| {
        format!(
            "Digest username*=UTF-8''a{escape}, realm=\"r\", uri=\"/\", nonce=\"n\", \
             response=\"00\""
        )
    };
    let plain = keyprov::digest::Username::Plain("a\u{1}".into());
    assert_eq!(Credentials::parse(&with("%01")).unwrap().username, plain);
    let bad = Error::DigestSyntax {
        reason: "username* bad percent escape",
    };
    for escape in ["%+1", "%+A", "%-1"] {
        assert_eq!(Credentials::parse(&with(escape)), Err(bad), "{escape}");
    }
}
