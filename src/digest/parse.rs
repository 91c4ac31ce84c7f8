//! The auth-param grammar shared by every authentication header (RFC 7235 section 2.1,
//! RFC 9110 section 11): challenges and credentials are a scheme followed by a token68 or a
//! comma-separated list of `name=value`, where a value is a token or a quoted string.
//!
//! This layer only splits text; what the parameters mean is read in `header.rs`. Every length
//! is bounded before anything is stored.

use alloc::string::String;
use alloc::vec::Vec;

use super::{MAX_CHALLENGES, MAX_HEADER_LEN, MAX_PARAMS, MAX_VALUE_LEN};
use crate::Error;

/// One `name=value` pair; `name` is lowercase, `value` unescaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawParam {
    pub(crate) name: String,
    pub(crate) value: String,
}

/// One challenge or credentials: a scheme and its parameters, or a token68.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawAuth {
    pub(crate) scheme: String,
    pub(crate) params: Vec<RawParam>,
    pub(crate) token68: Option<String>,
}

/// Checks the overall header length before any parsing.
pub(crate) fn check_header_len(text: &str) -> Result<(), Error> {
    if text.len() > MAX_HEADER_LEN {
        let actual = text.len();
        return Err(Error::TooLong {
            field: "digest header",
            max: MAX_HEADER_LEN,
            actual,
        });
    }
    Ok(())
}

/// Splits a header value into its challenges or credentials (several may share one value).
pub(crate) fn parse_auth_list(text: &str, limit: &mut usize) -> Result<Vec<RawAuth>, Error> {
    check_header_len(text)?;
    let mut cursor = Cursor { text, pos: 0 };
    let mut list = Vec::new();
    loop {
        cursor.skip_separators();
        if cursor.at_end() {
            return Ok(list);
        }
        if *limit == 0 {
            let field = "digest challenge count";
            return Err(Error::TooLong {
                field,
                max: MAX_CHALLENGES,
                actual: MAX_CHALLENGES + 1,
            });
        }
        *limit -= 1;
        list.push(cursor.auth()?);
    }
}

/// Reads a bare parameter list, as in Authentication-Info.
pub(crate) fn parse_param_list(text: &str) -> Result<Vec<RawParam>, Error> {
    check_header_len(text)?;
    let mut cursor = Cursor { text, pos: 0 };
    let mut params = Vec::new();
    cursor.skip_separators();
    if cursor.at_end() {
        return Ok(params);
    }
    cursor.params(&mut params)?;
    if !cursor.at_end() {
        return Err(syntax("expected a parameter"));
    }
    Ok(params)
}

const fn syntax(reason: &'static str) -> Error {
    Error::DigestSyntax { reason }
}

fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

fn is_token68_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~+/".contains(&byte)
}

struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ows(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }

    fn token(&mut self) -> Option<&'a str> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        (self.pos > start).then(|| &self.text[start..self.pos])
    }

    /// scheme [ 1*SP ( token68 / #auth-param ) ]
    fn auth(&mut self) -> Result<RawAuth, Error> {
        let scheme = self.token().ok_or(syntax("expected an auth scheme"))?;
        check_value_len(scheme.len())?;
        let mut auth = RawAuth {
            scheme: scheme.into(),
            params: Vec::new(),
            token68: None,
        };
        let spaced = self.skip_ows() > 0;
        if !spaced || self.at_end() || self.peek() == Some(b',') {
            return Ok(auth);
        }
        if let Some(token68) = self.token68() {
            auth.token68 = Some(token68.into());
            return Ok(auth);
        }
        self.params(&mut auth.params)?;
        Ok(auth)
    }

    /// A token68 stands alone: its characters, optional `=` padding, then a comma or the end.
    fn token68(&mut self) -> Option<&'a str> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut end = start;
        while bytes.get(end).copied().is_some_and(is_token68_char) {
            end += 1;
        }
        let body_end = end;
        while bytes.get(end) == Some(&b'=') {
            end += 1;
        }
        let mut after = end;
        while matches!(bytes.get(after), Some(b' ' | b'\t')) {
            after += 1;
        }
        let closes = matches!(bytes.get(after), None | Some(b','));
        if body_end == start || !closes {
            return None;
        }
        check_value_len(end - start).ok()?;
        self.pos = end;
        Some(&self.text[start..end])
    }

    /// #auth-param, stopping before a following challenge's scheme.
    fn params(&mut self, params: &mut Vec<RawParam>) -> Result<(), Error> {
        loop {
            params.push(self.param()?);
            if params.len() > MAX_PARAMS {
                let actual = params.len();
                let field = "digest parameter count";
                return Err(Error::TooLong {
                    field,
                    max: MAX_PARAMS,
                    actual,
                });
            }
            self.skip_ows();
            if self.at_end() {
                return Ok(());
            }
            if self.peek() != Some(b',') {
                return Err(syntax("expected a comma between parameters"));
            }
            self.skip_separators();
            if self.at_end() || !self.param_follows() {
                return Ok(());
            }
        }
    }

    /// Whether a `name =` comes next (rather than the scheme of another challenge).
    fn param_follows(&self) -> bool {
        let mut probe = Cursor {
            text: self.text,
            pos: self.pos,
        };
        probe.token().is_some() && {
            probe.skip_ows();
            probe.peek() == Some(b'=')
        }
    }

    fn param(&mut self) -> Result<RawParam, Error> {
        let name = self.token().ok_or(syntax("expected a parameter name"))?;
        check_value_len(name.len())?;
        self.skip_ows();
        if self.peek() != Some(b'=') {
            return Err(syntax("expected = after a parameter name"));
        }
        self.pos += 1;
        self.skip_ows();
        let value = match self.peek() {
            Some(b'"') => self.quoted()?,
            _ => self
                .token()
                .ok_or(syntax("expected a parameter value"))?
                .into(),
        };
        check_value_len(value.len())?;
        Ok(RawParam {
            name: name.to_ascii_lowercase(),
            value,
        })
    }

    /// quoted-string: DQUOTE *( qdtext / quoted-pair ) DQUOTE, returned unescaped.
    fn quoted(&mut self) -> Result<String, Error> {
        self.pos += 1;
        let mut value = String::new();
        let mut chars = self.text[self.pos..].char_indices();
        while let Some((offset, c)) = chars.next() {
            let c = match c {
                '"' => {
                    self.pos += offset + 1;
                    return Ok(value);
                }
                '\\' => chars.next().ok_or(syntax("unterminated quoted string"))?.1,
                c => c,
            };
            if c.is_control() && c != '\t' {
                return Err(syntax("control character in a quoted string"));
            }
            value.push(c);
            check_value_len(value.len())?;
        }
        Err(syntax("unterminated quoted string"))
    }
}

fn check_value_len(actual: usize) -> Result<(), Error> {
    if actual > MAX_VALUE_LEN {
        let field = "digest parameter value";
        return Err(Error::TooLong {
            field,
            max: MAX_VALUE_LEN,
            actual,
        });
    }
    Ok(())
}

/// Appends `value` as a quoted string, escaping `"` and `\`.
pub(crate) fn push_quoted(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// Whether `value` can be written as a quoted string that reads back the same.
pub(crate) fn quotable(value: &str) -> bool {
    value.chars().all(|c| c == '\t' || !c.is_control())
}

/// Whether `value` can be written as a bare token.
pub(crate) fn is_token(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(is_tchar)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(text: &str) -> Vec<RawAuth> {
        parse_auth_list(text, &mut MAX_CHALLENGES.clone()).unwrap()
    }

    #[test]
    fn quoted_strings_keep_commas_spaces_and_escapes() {
        let auths = list(r#"Digest realm="a, b \"c\" \\d", nonce=xyz"#);
        assert_eq!(auths.len(), 1);
        assert_eq!(auths[0].params[0].value, r#"a, b "c" \d"#);
        assert_eq!(
            auths[0].params[1],
            RawParam {
                name: "nonce".into(),
                value: "xyz".into()
            }
        );
    }

    #[test]
    fn several_challenges_share_one_value() {
        let auths =
            list(r#"Basic realm="x", Digest realm="y", nonce="1", Negotiate abc==, Bearer"#);
        let schemes: Vec<&str> = auths.iter().map(|a| a.scheme.as_str()).collect();
        assert_eq!(schemes, ["Basic", "Digest", "Negotiate", "Bearer"]);
        assert_eq!(auths[1].params.len(), 2);
        assert_eq!(auths[2].token68.as_deref(), Some("abc=="));
    }

    #[test]
    fn unterminated_and_control_characters_are_refused() {
        let mut limit = MAX_CHALLENGES;
        let err = parse_auth_list(r#"Digest realm="abc"#, &mut limit).unwrap_err();
        assert_eq!(err, syntax("unterminated quoted string"));
        let err = parse_auth_list("Digest realm=\"a\u{1}\"", &mut limit).unwrap_err();
        assert_eq!(err, syntax("control character in a quoted string"));
        let err = parse_auth_list("Digest realm=\"a\" nonce=b", &mut limit).unwrap_err();
        assert_eq!(err, syntax("expected a comma between parameters"));
    }

    #[test]
    fn limits_are_named() {
        let long = alloc::format!("Digest realm=\"{}\"", "a".repeat(MAX_VALUE_LEN + 1));
        let err = parse_auth_list(&long, &mut MAX_CHALLENGES.clone()).unwrap_err();
        assert!(matches!(
            err,
            Error::TooLong {
                field: "digest parameter value",
                ..
            }
        ));
        let huge = "a".repeat(MAX_HEADER_LEN + 1);
        let err = parse_auth_list(&huge, &mut MAX_CHALLENGES.clone()).unwrap_err();
        assert!(matches!(
            err,
            Error::TooLong {
                field: "digest header",
                ..
            }
        ));
    }
}
