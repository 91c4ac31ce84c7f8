//! The typed Digest headers: challenges (WWW-Authenticate, Proxy-Authenticate), credentials
//! (Authorization, Proxy-Authorization) and Authentication-Info, read and written.
//!
//! Reading is strict: a parameter given twice or a required one missing is an error, never a
//! guess. Unknown parameters are ignored, as RFC 7616 section 3.3 asks. Writing checks that the
//! text will read back to the same value.

use alloc::string::String;
use alloc::vec::Vec;

use super::algorithm::{Algorithm, Qop, format_nc};
use super::parse::{self, RawAuth, RawParam, is_token, push_quoted, quotable};
use super::{MAX_CHALLENGES, MAX_VALUE_LEN};
use crate::Error;

/// The `algorithm` parameter as written: one this build knows, or another token.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AlgorithmParam {
    /// A known algorithm.
    Known(Algorithm),
    /// A token this build does not implement (kept so a challenge can be skipped, not refused).
    Other(String),
}

impl AlgorithmParam {
    fn read(token: &str) -> Self {
        Algorithm::from_token(token).map_or_else(|| Self::Other(token.into()), Self::Known)
    }

    fn text(&self) -> &str {
        match self {
            Self::Known(algorithm) => algorithm.token(),
            Self::Other(token) => token,
        }
    }
}

/// The username of credentials.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Username {
    /// The username itself; written as `username*` (RFC 8187) when it is not printable ASCII.
    Plain(String),
    /// `userhash=true`: the hexadecimal H(username ":" realm) (RFC 7616 section 3.4.4).
    Hashed(String),
}

/// One Digest challenge, from WWW-Authenticate or Proxy-Authenticate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The protection space, for keyprov the service.
    pub realm: String,
    /// Space-separated URIs of the protection space, if given.
    pub domain: Option<String>,
    /// The server nonce.
    pub nonce: String,
    /// Opaque server data the client returns unchanged.
    pub opaque: Option<String>,
    /// The previous request failed only because its nonce was too old.
    pub stale: bool,
    /// The algorithm; absent means MD5.
    pub algorithm: Option<AlgorithmParam>,
    /// The offered qop values this build knows. `None`: no `qop` parameter (RFC 2069 form);
    /// `Some` of an empty list: a `qop` parameter with no known value.
    pub qop: Option<Vec<Qop>>,
    /// The server accepts a hashed username.
    pub userhash: bool,
    /// The server announced `charset=UTF-8`.
    pub charset_utf8: bool,
}

/// Credentials answering a challenge, from Authorization or Proxy-Authorization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The username, plain or hashed.
    pub username: Username,
    /// The realm of the challenge.
    pub realm: String,
    /// The server nonce answered.
    pub nonce: String,
    /// The digest URI.
    pub uri: String,
    /// The response digest, hexadecimal.
    pub response: String,
    /// The algorithm; absent means MD5.
    pub algorithm: Option<AlgorithmParam>,
    /// The client nonce.
    pub cnonce: Option<String>,
    /// The opaque value of the challenge, returned unchanged.
    pub opaque: Option<String>,
    /// The chosen qop; `None` is the RFC 2069 form.
    pub qop: Option<Qop>,
    /// The nonce count.
    pub nc: Option<u32>,
}

/// The Authentication-Info header a server sends after accepting credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthenticationInfo {
    /// The nonce the client should use next.
    pub nextnonce: Option<String>,
    /// The qop of the accepted request.
    pub qop: Option<Qop>,
    /// The server's proof that it knows H(A1), hexadecimal.
    pub rspauth: Option<String>,
    /// The client nonce of the accepted request.
    pub cnonce: Option<String>,
    /// The nonce count of the accepted request.
    pub nc: Option<u32>,
}

/// The text of a header value received as bytes: checked against [`super::MAX_HEADER_LEN`]
/// and for UTF-8 (RFC 3261 allows UTF-8 in quoted strings) before any parsing.
pub fn header_text(bytes: &[u8]) -> Result<&str, Error> {
    if bytes.len() > super::MAX_HEADER_LEN {
        let (max, actual) = (super::MAX_HEADER_LEN, bytes.len());
        return Err(Error::TooLong {
            field: "digest header",
            max,
            actual,
        });
    }
    core::str::from_utf8(bytes).map_err(|_| Error::DigestSyntax {
        reason: "header is not utf-8",
    })
}

/// Whether the scheme is `Digest`, ignoring case.
fn is_digest(auth: &RawAuth) -> bool {
    auth.scheme.eq_ignore_ascii_case("digest")
}

/// The static name of a known parameter, for error messages.
fn static_name(name: &str) -> &'static str {
    const KNOWN: [&str; 17] = [
        "realm",
        "domain",
        "nonce",
        "opaque",
        "stale",
        "algorithm",
        "qop",
        "charset",
        "userhash",
        "username",
        "username*",
        "uri",
        "response",
        "cnonce",
        "nc",
        "nextnonce",
        "rspauth",
    ];
    KNOWN
        .iter()
        .find(|known| **known == name)
        .copied()
        .unwrap_or("extension parameter")
}

/// The parameters of one header, each name at most once.
struct Params(Vec<RawParam>);

impl Params {
    fn new(params: Vec<RawParam>) -> Result<Self, Error> {
        for (index, param) in params.iter().enumerate() {
            if params[..index]
                .iter()
                .any(|earlier| earlier.name == param.name)
            {
                let name = static_name(&param.name);
                return Err(Error::DigestDuplicateParameter { name });
            }
        }
        Ok(Self(params))
    }

    fn take(&mut self, name: &str) -> Option<String> {
        let index = self.0.iter().position(|p| p.name == name)?;
        Some(self.0.swap_remove(index).value)
    }

    fn require(&mut self, name: &'static str) -> Result<String, Error> {
        self.take(name)
            .ok_or(Error::DigestMissingParameter { name })
    }

    fn flag(&mut self, name: &'static str) -> Result<bool, Error> {
        match self.take(name) {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(_) => Err(Error::DigestSyntax {
                reason: "flag is neither true nor false",
            }),
        }
    }

    fn nc(&mut self) -> Result<Option<u32>, Error> {
        let Some(text) = self.take("nc") else {
            return Ok(None);
        };
        // nc-value = 8LHEX (RFC 7616 section 3.4): the response covers the text as sent, so
        // only the one lowercase spelling of a count is read.
        let syntax = Error::DigestSyntax {
            reason: "nc is not eight lowercase hexadecimal digits",
        };
        let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if text.len() != 8 || !text.bytes().all(lower_hex) {
            return Err(syntax);
        }
        u32::from_str_radix(&text, 16).map(Some).map_err(|_| syntax)
    }

    fn qop(&mut self) -> Result<Option<Qop>, Error> {
        let Some(text) = self.take("qop") else {
            return Ok(None);
        };
        Qop::from_token(&text).map(Some).ok_or(Error::DigestSyntax {
            reason: "unknown qop",
        })
    }
}

impl Challenge {
    /// Reads every Digest challenge of one or more header values (one per header line);
    /// challenges of other schemes are skipped. At most [`MAX_CHALLENGES`] in all.
    pub fn parse_all<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Vec<Self>, Error> {
        let mut limit = MAX_CHALLENGES;
        let mut challenges = Vec::new();
        for value in values {
            for auth in parse::parse_auth_list(value, &mut limit)? {
                if is_digest(&auth) {
                    challenges.push(Self::from_raw(auth)?);
                }
            }
        }
        Ok(challenges)
    }

    /// Reads a header value holding exactly one Digest challenge.
    pub fn parse(value: &str) -> Result<Self, Error> {
        let mut all = Self::parse_all([value])?;
        match all.len() {
            1 => Ok(all.remove(0)),
            0 => Err(Error::DigestSyntax {
                reason: "no digest challenge",
            }),
            _ => Err(Error::DigestSyntax {
                reason: "more than one digest challenge",
            }),
        }
    }

    fn from_raw(auth: RawAuth) -> Result<Self, Error> {
        if auth.token68.is_some() {
            return Err(Error::DigestSyntax {
                reason: "digest challenge holds a token68",
            });
        }
        let mut params = Params::new(auth.params)?;
        let qop = params.take("qop").map(|text| qop_list(&text));
        let charset = params.take("charset");
        Ok(Self {
            realm: params.require("realm")?,
            domain: params.take("domain"),
            nonce: params.require("nonce")?,
            opaque: params.take("opaque"),
            stale: params.flag("stale")?,
            algorithm: params.take("algorithm").map(|t| AlgorithmParam::read(&t)),
            qop,
            userhash: params.flag("userhash")?,
            charset_utf8: charset.is_some_and(|c| c.eq_ignore_ascii_case("utf-8")),
        })
    }

    /// Writes the challenge as a header value, `Digest realm="...", ...`.
    pub fn to_header_value(&self) -> Result<String, Error> {
        let mut out = Writer::new("Digest ");
        out.quoted("realm", &self.realm)?;
        if let Some(domain) = &self.domain {
            out.quoted("domain", domain)?;
        }
        if let Some(qop) = &self.qop {
            let tokens: Vec<&str> = qop.iter().map(|q| q.token()).collect();
            out.quoted("qop", &tokens.join(", "))?;
        }
        if let Some(algorithm) = &self.algorithm {
            out.token("algorithm", algorithm.text())?;
        }
        out.quoted("nonce", &self.nonce)?;
        if let Some(opaque) = &self.opaque {
            out.quoted("opaque", opaque)?;
        }
        if self.stale {
            out.token("stale", "true")?;
        }
        if self.charset_utf8 {
            out.token("charset", "UTF-8")?;
        }
        if self.userhash {
            out.token("userhash", "true")?;
        }
        Ok(out.finish())
    }
}

/// Reads `qop="auth, auth-int"`, keeping the known values in order.
fn qop_list(text: &str) -> Vec<Qop> {
    let mut list: Vec<Qop> = Vec::new();
    for qop in text
        .split(',')
        .filter_map(|t| Qop::from_token(t.trim_matches([' ', '\t'])))
    {
        if !list.contains(&qop) {
            list.push(qop);
        }
    }
    list
}

impl Credentials {
    /// Reads an Authorization or Proxy-Authorization value holding one Digest credentials.
    ///
    /// Requires username (or `username*`), realm, nonce, uri and response; with a qop also
    /// cnonce and nc.
    pub fn parse(value: &str) -> Result<Self, Error> {
        let mut limit = 1;
        let mut list = parse::parse_auth_list(value, &mut limit)?;
        let auth = list.pop().ok_or(Error::DigestSyntax {
            reason: "no credentials",
        })?;
        if !is_digest(&auth) {
            return Err(Error::DigestSyntax {
                reason: "credentials are not of the digest scheme",
            });
        }
        if auth.token68.is_some() {
            return Err(Error::DigestSyntax {
                reason: "digest credentials hold a token68",
            });
        }
        Self::from_params(Params::new(auth.params)?)
    }

    fn from_params(mut params: Params) -> Result<Self, Error> {
        let username = read_username(&mut params)?;
        let credentials = Self {
            username,
            realm: params.require("realm")?,
            nonce: params.require("nonce")?,
            uri: params.require("uri")?,
            response: params.require("response")?,
            algorithm: params.take("algorithm").map(|t| AlgorithmParam::read(&t)),
            cnonce: params.take("cnonce"),
            opaque: params.take("opaque"),
            qop: params.qop()?,
            nc: params.nc()?,
        };
        if credentials.qop.is_some() {
            credentials
                .cnonce
                .as_ref()
                .ok_or(Error::DigestMissingParameter { name: "cnonce" })?;
            credentials
                .nc
                .ok_or(Error::DigestMissingParameter { name: "nc" })?;
        }
        Ok(credentials)
    }

    /// Writes the credentials as a header value, `Digest username="...", ...`.
    pub fn to_header_value(&self) -> Result<String, Error> {
        let mut out = Writer::new("Digest ");
        let hashed = write_username(&mut out, &self.username)?;
        out.quoted("realm", &self.realm)?;
        out.quoted("uri", &self.uri)?;
        if let Some(algorithm) = &self.algorithm {
            out.token("algorithm", algorithm.text())?;
        }
        out.quoted("nonce", &self.nonce)?;
        if let Some(nc) = self.nc {
            out.token("nc", &format_nc(nc))?;
        }
        if let Some(cnonce) = &self.cnonce {
            out.quoted("cnonce", cnonce)?;
        }
        if let Some(qop) = self.qop {
            out.token("qop", qop.token())?;
        }
        out.quoted("response", &self.response)?;
        if let Some(opaque) = &self.opaque {
            out.quoted("opaque", opaque)?;
        }
        if hashed {
            out.token("userhash", "true")?;
        }
        Ok(out.finish())
    }
}

fn read_username(params: &mut Params) -> Result<Username, Error> {
    let plain = params.take("username");
    let extended = params.take("username*");
    let hashed = params.flag("userhash")?;
    match (plain, extended) {
        (Some(_), Some(_)) => Err(Error::DigestDuplicateParameter { name: "username" }),
        (None, None) => Err(Error::DigestMissingParameter { name: "username" }),
        (Some(name), None) if hashed => Ok(Username::Hashed(name)),
        (Some(name), None) => Ok(Username::Plain(name)),
        (None, Some(_)) if hashed => Err(Error::DigestSyntax {
            reason: "username* cannot carry a hashed username",
        }),
        (None, Some(ext)) => decode_ext_value(&ext).map(Username::Plain),
    }
}

/// Writes the username; returns whether it is hashed.
fn write_username(out: &mut Writer, username: &Username) -> Result<bool, Error> {
    match username {
        Username::Hashed(hash) => out.quoted("username", hash).map(|()| true),
        Username::Plain(name) if name.bytes().all(|b| (0x20..0x7f).contains(&b)) => {
            out.quoted("username", name).map(|()| false)
        }
        Username::Plain(name) => out
            .raw("username*", &encode_ext_value(name))
            .map(|()| false),
    }
}

/// RFC 8187 attr-char: what an ext-value carries without percent-encoding.
fn is_attr_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte)
}

/// Writes `UTF-8''` and the percent-encoded name.
fn encode_ext_value(name: &str) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::from("UTF-8''");
    for byte in name.bytes() {
        if is_attr_char(byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(DIGITS[usize::from(byte >> 4)]));
            out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
    }
    out
}

/// Reads `charset'language'value-chars` of RFC 8187; only UTF-8 is accepted.
fn decode_ext_value(text: &str) -> Result<String, Error> {
    let bad = |reason| Error::DigestSyntax { reason };
    let mut parts = text.splitn(3, '\'');
    let (charset, _language) = (parts.next().unwrap_or(""), parts.next());
    let encoded = parts
        .next()
        .ok_or(bad("username* lacks charset and language"))?;
    if !charset.eq_ignore_ascii_case("utf-8") {
        return Err(bad("username* charset is not utf-8"));
    }
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut rest = encoded.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = tail
                .get(..2)
                .ok_or(bad("username* has a cut percent escape"))?;
            // Exactly two hexadecimal digits (RFC 8187 pct-encoded); no sign, no space.
            let (Some(high), Some(low)) = (hex_digit(hex[0]), hex_digit(hex[1])) else {
                return Err(bad("username* bad percent escape"));
            };
            bytes.push(high << 4 | low);
            rest = &tail[2..];
        } else if is_attr_char(byte) {
            bytes.push(byte);
            rest = tail;
        } else {
            return Err(bad(
                "username* holds a character that must be percent-encoded",
            ));
        }
    }
    String::from_utf8(bytes).map_err(|_| bad("username* is not utf-8"))
}

/// The value of one hexadecimal digit, either case.
fn hex_digit(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

impl AuthenticationInfo {
    /// Reads an Authentication-Info value.
    pub fn parse(value: &str) -> Result<Self, Error> {
        let mut params = Params::new(parse::parse_param_list(value)?)?;
        Ok(Self {
            nextnonce: params.take("nextnonce"),
            qop: params.qop()?,
            rspauth: params.take("rspauth"),
            cnonce: params.take("cnonce"),
            nc: params.nc()?,
        })
    }

    /// Writes the header value.
    pub fn to_header_value(&self) -> Result<String, Error> {
        let mut out = Writer::new("");
        if let Some(rspauth) = &self.rspauth {
            out.quoted("rspauth", rspauth)?;
        }
        if let Some(qop) = self.qop {
            out.token("qop", qop.token())?;
        }
        if let Some(cnonce) = &self.cnonce {
            out.quoted("cnonce", cnonce)?;
        }
        if let Some(nc) = self.nc {
            out.token("nc", &format_nc(nc))?;
        }
        if let Some(nextnonce) = &self.nextnonce {
            out.quoted("nextnonce", nextnonce)?;
        }
        Ok(out.finish())
    }
}

/// Builds a header value, checking each value reads back as written.
struct Writer {
    text: String,
    first: bool,
}

impl Writer {
    fn new(prefix: &str) -> Self {
        Self {
            text: String::from(prefix),
            first: true,
        }
    }

    fn start(&mut self, name: &str, len: usize) -> Result<(), Error> {
        if len > MAX_VALUE_LEN {
            let field = "digest parameter value";
            return Err(Error::TooLong {
                field,
                max: MAX_VALUE_LEN,
                actual: len,
            });
        }
        if !self.first {
            self.text.push_str(", ");
        }
        self.first = false;
        self.text.push_str(name);
        self.text.push('=');
        Ok(())
    }

    fn quoted(&mut self, name: &'static str, value: &str) -> Result<(), Error> {
        if !quotable(value) {
            let reason = "control character cannot be written";
            return Err(Error::InvalidValue {
                field: static_field(name),
                reason,
            });
        }
        self.start(name, value.len())?;
        push_quoted(&mut self.text, value);
        Ok(())
    }

    fn token(&mut self, name: &'static str, value: &str) -> Result<(), Error> {
        if !is_token(value) {
            let reason = "not a token";
            return Err(Error::InvalidValue {
                field: static_field(name),
                reason,
            });
        }
        self.raw(name, value)
    }

    fn raw(&mut self, name: &'static str, value: &str) -> Result<(), Error> {
        self.start(name, value.len())?;
        self.text.push_str(value);
        Ok(())
    }

    fn finish(self) -> String {
        self.text
    }
}

/// The field name used in errors about writing a parameter.
fn static_field(name: &'static str) -> &'static str {
    match name {
        "realm" => "digest realm",
        "nonce" => "digest nonce",
        "opaque" => "digest opaque",
        "username" => "digest username",
        "uri" => "digest uri",
        "cnonce" => "digest cnonce",
        "algorithm" => "digest algorithm",
        _ => "digest parameter",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_parameter_is_named() {
        let err = Challenge::parse(r#"Digest realm="a", nonce="n", REALM="b""#).unwrap_err();
        assert_eq!(err, Error::DigestDuplicateParameter { name: "realm" });
    }

    #[test]
    fn missing_nonce_and_realm_are_named() {
        let err = Challenge::parse(r#"Digest realm="a""#).unwrap_err();
        assert_eq!(err, Error::DigestMissingParameter { name: "nonce" });
        let err = Challenge::parse(r#"Digest nonce="n""#).unwrap_err();
        assert_eq!(err, Error::DigestMissingParameter { name: "realm" });
    }

    #[test]
    fn extended_username_reads_and_writes() {
        let value = "Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm=\"r\", uri=\"/\", \
                     nonce=\"n\", response=\"00\"";
        let credentials = Credentials::parse(value).unwrap();
        assert_eq!(
            credentials.username,
            Username::Plain("J\u{e4}s\u{f8}n Doe".into())
        );
        let written = credentials.to_header_value().unwrap();
        assert!(written.starts_with("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, "));
    }

    #[test]
    fn username_and_extended_username_together_are_refused() {
        let value = "Digest username=\"a\", username*=UTF-8''a, realm=\"r\", uri=\"/\", \
                     nonce=\"n\", response=\"00\"";
        let err = Credentials::parse(value).unwrap_err();
        assert_eq!(err, Error::DigestDuplicateParameter { name: "username" });
    }

    #[test]
    fn qop_requires_cnonce_and_nc() {
        let value = "Digest username=\"a\", realm=\"r\", uri=\"/\", nonce=\"n\", response=\"00\", \
                     qop=auth, nc=00000001";
        let err = Credentials::parse(value).unwrap_err();
        assert_eq!(err, Error::DigestMissingParameter { name: "cnonce" });
    }
}
