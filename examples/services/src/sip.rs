//! SIP messages for the registrar and the phones, parsed with `ezk-sip-types`.
//!
//! Only what a registrar needs is looked at: the request line, Via, From, To, Call-ID, CSeq,
//! Contact, Expires and the authentication headers. Header values that keyprov parses itself
//! (Authorization, WWW-Authenticate, Authentication-Info) are handed over as raw text.

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use ezk_sip_types::header::typed::{CSeq, Contact};
use ezk_sip_types::msg::{Line, MessageLine, PullParser};
use ezk_sip_types::parse::Parse;
use ezk_sip_types::{Headers, Method, Name};

/// Largest SIP message accepted on any transport, in bytes.
pub const MAX_MESSAGE: usize = 8 * 1024;

/// A parsed SIP message.
#[derive(Debug)]
pub struct Message {
    /// The request line or status line.
    pub line: MessageLine,
    /// Every header, in order.
    pub headers: Headers,
    /// The body (registrations carry none).
    pub body: Bytes,
    /// The Request-URI exactly as written, for a request (Digest checks it).
    pub request_uri: Option<String>,
}

/// The length of the first complete message in `buf` (head and body), if there is one, for
/// stream transports. Errors when the head grows past [`MAX_MESSAGE`] or the body length is
/// missing or too large.
pub fn complete_length(buf: &[u8]) -> Result<Option<usize>> {
    let Some(head_end) = find_head_end(buf) else {
        if buf.len() > MAX_MESSAGE {
            bail!("sip message head longer than {MAX_MESSAGE} bytes");
        }
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..head_end]).context("sip message head is not utf-8")?;
    let length = content_length(head)?.ok_or_else(|| anyhow!("content-length missing"))?;
    // Content-Length is the peer's number: compare before adding, so it cannot overflow.
    if head_end > MAX_MESSAGE || length > MAX_MESSAGE - head_end {
        bail!("sip message head of {head_end} and body of {length} bytes > maximum {MAX_MESSAGE}");
    }
    let total = head_end + length;
    Ok((buf.len() >= total).then_some(total))
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

fn content_length(head: &str) -> Result<Option<usize>> {
    for line in head.split("\r\n") {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l") {
            return Ok(Some(
                value
                    .trim()
                    .parse()
                    .context("content-length not a number")?,
            ));
        }
    }
    Ok(None)
}

impl Message {
    /// Parses one complete message (a UDP datagram or a framed stream message).
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_MESSAGE {
            bail!(
                "sip message of {} bytes > maximum {MAX_MESSAGE}",
                bytes.len()
            );
        }
        let src = Bytes::copy_from_slice(bytes);
        let mut parser = PullParser::new(&src, 0);
        let first = next_line(&mut parser)?.ok_or_else(|| anyhow!("sip message is empty"))?;
        let first = utf8(first)?;
        let (_, line) =
            MessageLine::parse(&src)(first).map_err(|_| anyhow!("sip start line is malformed"))?;
        let request_uri = line
            .is_request()
            .then(|| first.split_whitespace().nth(1).map(str::to_string))
            .flatten();
        let mut headers = Headers::new();
        while let Some(raw) = next_line(&mut parser)? {
            let (_, Line { name, value }) =
                Line::parse(&src, utf8(raw)?).map_err(|_| anyhow!("sip header line malformed"))?;
            headers.insert(name, value);
        }
        let body = src.slice(parser.head_end().min(src.len())..);
        Ok(Self {
            line,
            headers,
            body,
            request_uri,
        })
    }

    /// The method of a request.
    pub fn method(&self) -> Option<&Method> {
        self.line.request_method()
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        match &self.line {
            MessageLine::Response(status) => Some(status.code.into_u16()),
            MessageLine::Request(_) => None,
        }
    }

    /// The first value of a header, as raw text.
    pub fn header(&self, name: &Name) -> Option<&str> {
        self.headers.get_raw(name).next().map(|v| v.as_str())
    }

    /// Every value of a header, as raw text.
    pub fn header_values<'a>(&'a self, name: &Name) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.get_raw(name).map(|v| v.as_str())
    }

    /// The value of a header that must be present.
    pub fn required(&self, name: &Name) -> Result<&str> {
        self.header(name)
            .ok_or_else(|| anyhow!("{} header missing", name.as_print_str()))
    }

    /// The CSeq number and method.
    pub fn cseq(&self) -> Result<(u32, Method)> {
        let cseq: CSeq = self
            .headers
            .get_named()
            .map_err(|_| anyhow!("cseq header malformed"))?;
        Ok((cseq.cseq, cseq.method))
    }

    /// The Contact headers, or `None` for the `*` wildcard.
    pub fn contacts(&self) -> Result<Option<Vec<Contact>>> {
        if self.header_values(&Name::CONTACT).any(|v| v.trim() == "*") {
            return Ok(None);
        }
        if !self.headers.contains(&Name::CONTACT) {
            return Ok(Some(Vec::new()));
        }
        let contacts: Vec<Contact> = self
            .headers
            .get_named()
            .map_err(|_| anyhow!("contact header malformed"))?;
        Ok(Some(contacts))
    }

    /// The Expires header value.
    pub fn expires(&self) -> Result<Option<u32>> {
        self.header(&Name::EXPIRES)
            .map(|v| v.trim().parse().context("expires header not a number"))
            .transpose()
    }

    /// The user part of the To URI: the address of record being registered.
    pub fn to_user(&self) -> Result<String> {
        uri_user(self.required(&Name::TO)?)
    }
}

/// The user part of a name-addr or addr-spec header value (`"A" <sip:user@host>;tag=x`).
pub fn uri_user(value: &str) -> Result<String> {
    let uri = match value.split_once('<') {
        Some((_, rest)) => rest.split('>').next().unwrap_or(""),
        None => value.split(';').next().unwrap_or(""),
    };
    let rest = uri
        .trim()
        .strip_prefix("sip:")
        .or_else(|| uri.trim().strip_prefix("sips:"));
    let user = rest.and_then(|r| r.split_once('@')).map(|(user, _)| user);
    match user {
        Some(user) if !user.is_empty() => Ok(user.to_string()),
        _ => bail!("uri has no user part"),
    }
}

fn next_line<'i>(parser: &mut PullParser<'i>) -> Result<Option<&'i [u8]>> {
    match parser.next() {
        None => Ok(None),
        Some(Ok(line)) => Ok(Some(line)),
        Some(Err(_)) => bail!("sip message head is truncated"),
    }
}

fn utf8(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes).context("sip line is not utf-8")
}

/// Builds a response to `request`: Via, From, To (with `to_tag` added when it has none),
/// Call-ID and CSeq are copied; `extra` headers follow; the body is empty.
pub fn response(
    request: &Message,
    code: u16,
    reason: &str,
    to_tag: &str,
    extra: &[(&str, String)],
) -> Vec<u8> {
    let mut out = format!("SIP/2.0 {code} {reason}\r\n");
    for via in request.header_values(&Name::VIA) {
        out.push_str(&format!("Via: {via}\r\n"));
    }
    if let Some(from) = request.header(&Name::FROM) {
        out.push_str(&format!("From: {from}\r\n"));
    }
    if let Some(to) = request.header(&Name::TO) {
        let tagged = if to.contains(";tag=") {
            to.to_string()
        } else {
            format!("{to};tag={to_tag}")
        };
        out.push_str(&format!("To: {tagged}\r\n"));
    }
    for name in [Name::CALL_ID, Name::CSEQ] {
        if let Some(value) = request.header(&name) {
            out.push_str(&format!("{}: {value}\r\n", name.as_print_str()));
        }
    }
    for (name, value) in extra {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    out.into_bytes()
}

/// What a phone puts in one REGISTER.
#[derive(Clone, Debug)]
pub struct Register<'a> {
    /// Registrar domain (the request URI host and the To/From host).
    pub domain: &'a str,
    /// The address of record's user part.
    pub user: &'a str,
    /// Transport name for the Via header: `UDP` or `TCP`.
    pub transport: &'a str,
    /// The phone's own address and port.
    pub local: std::net::SocketAddr,
    /// Branch parameter of the Via (new per transaction).
    pub branch: &'a str,
    /// From tag (fixed per registration dialog).
    pub from_tag: &'a str,
    /// Call-ID (fixed across refreshes).
    pub call_id: &'a str,
    /// CSeq (increases per request).
    pub cseq: u32,
    /// Requested binding lifetime in seconds.
    pub expires: u32,
    /// An Authorization header value, once challenged.
    pub authorization: Option<&'a str>,
}

/// Formats a REGISTER request.
pub fn register(r: &Register<'_>) -> Vec<u8> {
    let mut out = format!("REGISTER sip:{} SIP/2.0\r\n", r.domain);
    out.push_str(&format!(
        "Via: SIP/2.0/{} {};branch={};rport\r\n",
        r.transport, r.local, r.branch
    ));
    out.push_str("Max-Forwards: 70\r\n");
    out.push_str(&format!(
        "From: <sip:{}@{}>;tag={}\r\n",
        r.user, r.domain, r.from_tag
    ));
    out.push_str(&format!("To: <sip:{}@{}>\r\n", r.user, r.domain));
    out.push_str(&format!("Call-ID: {}\r\n", r.call_id));
    out.push_str(&format!("CSeq: {} REGISTER\r\n", r.cseq));
    let transport = r.transport.to_ascii_lowercase();
    out.push_str(&format!(
        "Contact: <sip:{}@{};transport={transport}>\r\n",
        r.user, r.local
    ));
    out.push_str(&format!("Expires: {}\r\n", r.expires));
    if let Some(auth) = r.authorization {
        out.push_str(&format!("Authorization: {auth}\r\n"));
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    out.into_bytes()
}

/// A fresh random token for branches, tags and Call-IDs.
pub fn token(prefix: &str) -> String {
    let bytes = crate::random::array::<12>().unwrap_or_default();
    format!("{prefix}{}", crate::seed::hex_encode(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &str = "REGISTER sip:sip.example.test SIP/2.0\r\n\
        Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc\r\n\
        Max-Forwards: 70\r\n\
        From: <sip:2001@sip.example.test>;tag=f1\r\n\
        To: \"Alice\" <sip:2001@sip.example.test>\r\n\
        Call-ID: c1@127.0.0.1\r\n\
        CSeq: 7 REGISTER\r\n\
        Contact: <sip:2001@127.0.0.1:5070>;expires=60, <sip:2001@127.0.0.1:5071>\r\n\
        Expires: 300\r\n\
        Content-Length: 0\r\n\r\n";

    #[test]
    fn register_fields_are_read() {
        let msg = Message::parse(REQUEST.as_bytes()).unwrap();
        assert_eq!(msg.method(), Some(&Method::REGISTER));
        assert_eq!(msg.cseq().unwrap(), (7, Method::REGISTER));
        assert_eq!(msg.to_user().unwrap(), "2001");
        assert_eq!(msg.expires().unwrap(), Some(300));
        assert_eq!(msg.request_uri.as_deref(), Some("sip:sip.example.test"));
        let contacts = msg.contacts().unwrap().unwrap();
        assert_eq!(contacts.len(), 2);
        assert_eq!(
            contacts[0].params.get_val("expires").map(|v| v.as_str()),
            Some("60")
        );
        assert_eq!(
            complete_length(REQUEST.as_bytes()).unwrap(),
            Some(REQUEST.len())
        );
        assert_eq!(complete_length(&REQUEST.as_bytes()[..40]).unwrap(), None);
    }

    #[test]
    fn response_copies_dialog_headers_and_tags_to() {
        let msg = Message::parse(REQUEST.as_bytes()).unwrap();
        let bytes = response(
            &msg,
            401,
            "Unauthorized",
            "t9",
            &[("WWW-Authenticate", "x".into())],
        );
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("SIP/2.0 401 Unauthorized\r\n"));
        assert!(text.contains("To: \"Alice\" <sip:2001@sip.example.test>;tag=t9\r\n"));
        assert!(text.contains("CSeq: 7 REGISTER\r\nWWW-Authenticate: x\r\n"));
        let parsed = Message::parse(&bytes).unwrap();
        assert_eq!(parsed.status(), Some(401));
    }

    #[test]
    fn built_register_parses_back() {
        let local = "127.0.0.1:5099".parse().unwrap();
        let bytes = register(&Register {
            domain: "sip.example.test",
            user: "2042",
            transport: "TCP",
            local,
            branch: "z9hG4bK1",
            from_tag: "a",
            call_id: "c",
            cseq: 2,
            expires: 120,
            authorization: Some("Digest username=\"k\""),
        });
        let msg = Message::parse(&bytes).unwrap();
        assert_eq!(msg.to_user().unwrap(), "2042");
        assert_eq!(
            msg.header(&Name::AUTHORIZATION),
            Some("Digest username=\"k\"")
        );
        assert_eq!(msg.contacts().unwrap().unwrap().len(), 1);
    }

    #[test]
    fn garbage_and_oversize_are_errors() {
        assert!(Message::parse(b"\x00\x01garbage").is_err());
        assert!(Message::parse(b"REGISTER sip:x SIP/2.0\r\nVia: a").is_err());
        assert!(Message::parse(&vec![b'A'; MAX_MESSAGE + 1]).is_err());
        assert!(complete_length(&vec![b'A'; MAX_MESSAGE + 1]).is_err());
        let wildcard = REQUEST.replace(
            "Contact: <sip:2001@127.0.0.1:5070>;expires=60, ",
            "Contact: *\r\nX: ",
        );
        let msg = Message::parse(wildcard.as_bytes()).unwrap();
        assert!(msg.contacts().unwrap().is_none());
    }
}
