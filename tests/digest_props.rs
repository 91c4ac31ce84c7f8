//! Property tests of the Digest headers: writing then reading gives the value back, and no
//! input, text or bytes, makes any reader panic.

use proptest::prelude::*;

use keyprov::digest::header::header_text;
use keyprov::digest::server::CredentialLookup;
use keyprov::digest::{
    Algorithm, AlgorithmParam, AuthenticationInfo, Challenge, Client, ClientCredential,
    Credentials, HashAlgorithm, Qop, Registrar, RegistrarPolicy, Request, Username,
};
use keyprov::secret::{DigestNonceSecret, DigestPassphrase};

/// Text a quoted string can carry: anything but control characters (tab allowed).
fn quotable() -> impl Strategy<Value = String> {
    prop::string::string_regex("[^\\p{Cc}]{0,40}|[\\t \"\\\\,=a-z]{0,12}").unwrap()
}

fn algorithm() -> impl Strategy<Value = Option<AlgorithmParam>> {
    let known = (
        prop::sample::select(HashAlgorithm::ALL.to_vec()),
        any::<bool>(),
    )
        .prop_map(|(hash, session)| AlgorithmParam::Known(Algorithm { hash, session }));
    let other = "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,16}"
        .prop_filter("a known token", |t| Algorithm::from_token(t).is_none())
        .prop_map(AlgorithmParam::Other);
    prop::option::of(prop_oneof![known, other])
}

fn qop_list() -> impl Strategy<Value = Option<Vec<Qop>>> {
    prop::sample::select(vec![
        None,
        Some(vec![]),
        Some(vec![Qop::Auth]),
        Some(vec![Qop::AuthInt]),
        Some(vec![Qop::Auth, Qop::AuthInt]),
        Some(vec![Qop::AuthInt, Qop::Auth]),
    ])
}

prop_compose! {
    fn challenge()(
        realm in quotable(),
        domain in prop::option::of(quotable()),
        nonce in quotable(),
        opaque in prop::option::of(quotable()),
        flags in any::<(bool, bool, bool)>(),
        algorithm in algorithm(),
        qop in qop_list(),
    ) -> Challenge {
        let (stale, userhash, charset_utf8) = flags;
        Challenge { realm, domain, nonce, opaque, stale, algorithm, qop, userhash, charset_utf8 }
    }
}

fn username() -> impl Strategy<Value = Username> {
    prop_oneof![
        any::<String>()
            .prop_filter("fits", |s| s.len() <= 200)
            .prop_map(Username::Plain),
        "[0-9a-f]{64}".prop_map(Username::Hashed),
    ]
}

prop_compose! {
    fn credentials()(
        username in username(),
        texts in (quotable(), quotable(), quotable(), "[0-9a-f]{0,64}"),
        algorithm in algorithm(),
        cnonce in prop::option::of(quotable()),
        opaque in prop::option::of(quotable()),
        counted in prop::option::of((prop_oneof![Just(Qop::Auth), Just(Qop::AuthInt)],
            any::<u32>(), quotable())),
    ) -> Credentials {
        let (realm, nonce, uri, response) = texts;
        let (qop, nc, cnonce) = match counted {
            Some((qop, nc, cnonce)) => (Some(qop), Some(nc), Some(cnonce)),
            None => (None, None, cnonce),
        };
        Credentials { username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop, nc }
    }
}

prop_compose! {
    fn info()(
        nextnonce in prop::option::of(quotable()),
        qop in prop::option::of(prop_oneof![Just(Qop::Auth), Just(Qop::AuthInt)]),
        rspauth in prop::option::of("[0-9a-f]{0,64}"),
        cnonce in prop::option::of(quotable()),
        nc in prop::option::of(any::<u32>()),
    ) -> AuthenticationInfo {
        AuthenticationInfo { nextnonce, qop, rspauth, cnonce, nc }
    }
}

/// Text built from the grammar's own pieces, to reach deep into the readers.
fn header_like() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "Digest ",
        "digest",
        "Basic ",
        " ",
        "\t",
        ",",
        "=",
        "\"",
        "\\",
        "realm",
        "nonce",
        "username",
        "username*",
        "UTF-8''",
        "%C3%A4",
        "%",
        "uri",
        "response",
        "qop",
        "auth",
        "auth-int",
        "nc",
        "00000001",
        "cnonce",
        "algorithm",
        "SHA-256",
        "MD5-sess",
        "stale",
        "true",
        "userhash",
        "opaque",
        "abc==",
        "\u{e4}",
        "\u{1}",
        "rspauth",
        "nextnonce",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|parts| parts.concat())
}

/// Runs every reader and both sides on `text`; none may panic.
fn read_everything(text: &str) {
    let _ = Challenge::parse_all([text, text]);
    let _ = Challenge::parse(text);
    let _ = Credentials::parse(text);
    let _ = AuthenticationInfo::parse(text);
    let secret = DigestNonceSecret::from_bytes(&[3; 32]).unwrap();
    let mut registrar = Registrar::new(RegistrarPolicy::new("r"), secret).unwrap();
    let request = Request {
        method: "REGISTER",
        uri: "sip:r",
        body: b"",
    };
    let password = DigestPassphrase::from_bytes(b"p").unwrap();
    let lookup = |_: &Credentials| {
        let stored = keyprov::digest::StoredCredential::Password(password.clone());
        CredentialLookup::Found(stored)
    };
    let _ = registrar.verify_header(text, &request, 1_000, lookup);
    let mut client = Client::new(
        "u",
        ClientCredential::Password(password.clone()),
        Default::default(),
    );
    if client.handle_challenges([text]).is_ok() {
        let _ = client.authorize_with_cnonce(&request, "c");
        let _ = client.handle_authentication_info(text, b"");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn challenge_writes_and_reads_back(challenge in challenge()) {
        let text = challenge.to_header_value().unwrap();
        prop_assert_eq!(Challenge::parse(&text).unwrap(), challenge);
    }

    #[test]
    fn credentials_write_and_read_back(credentials in credentials()) {
        let text = credentials.to_header_value().unwrap();
        prop_assert_eq!(Credentials::parse(&text).unwrap(), credentials);
    }

    #[test]
    fn authentication_info_writes_and_reads_back(info in info()) {
        let text = info.to_header_value().unwrap();
        prop_assert_eq!(AuthenticationInfo::parse(&text).unwrap(), info);
    }

    #[test]
    fn several_challenges_in_one_value_read_back(list in prop::collection::vec(challenge(), 1..5)) {
        let texts: Vec<String> = list.iter().map(|c| c.to_header_value().unwrap()).collect();
        prop_assert_eq!(&Challenge::parse_all([texts.join(", ").as_str()]).unwrap(), &list);
        prop_assert_eq!(&Challenge::parse_all(texts.iter().map(String::as_str)).unwrap(), &list);
    }

    #[test]
    fn no_string_panics(text in any::<String>()) {
        read_everything(&text);
    }

    #[test]
    fn no_grammar_like_string_panics(text in header_like()) {
        read_everything(&text);
    }

    #[test]
    fn no_bytes_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(text) = header_text(&bytes) {
            read_everything(text);
        }
    }
}
