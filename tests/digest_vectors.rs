//! tests/vectors/digest.json, whose expected values come from the independent Python
//! implementation tests/python/check_digest.py (hashlib only); its three RFC entries carry the
//! responses published in RFC 7616 section 3.9.1 and RFC 2617 section 3.5.

use serde_json::Value;

use keyprov::digest::algorithm::{ResponseInput, format_nc};
use keyprov::digest::{
    Algorithm, AlgorithmParam, Challenge, Client, ClientCredential, ClientPolicy, Credentials, Qop,
    Request, ServerProof, Username, compute_response, ha1, userhash,
};
use keyprov::secret::DigestPassphrase;

struct Vector<'a> {
    raw: &'a Value,
    algorithm: Algorithm,
    qop: Option<Qop>,
    nc: Option<u32>,
}

impl<'a> Vector<'a> {
    fn text(&self, field: &str) -> &'a str {
        self.raw[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} is text"))
    }

    fn optional(&self, field: &str) -> Option<&'a str> {
        self.raw[field].as_str()
    }

    fn name(&self) -> &'a str {
        self.text("name")
    }

    fn password(&self) -> DigestPassphrase {
        DigestPassphrase::from_bytes(self.text("password").as_bytes()).unwrap()
    }

    fn input(&self, method: &'a str, body: &'a str) -> ResponseInput<'a> {
        ResponseInput {
            algorithm: self.algorithm,
            nonce: self.text("nonce"),
            cnonce: self.optional("cnonce"),
            nc: self.nc,
            qop: self.qop,
            method,
            uri: self.text("uri"),
            body: body.as_bytes(),
        }
    }
}

fn data() -> Value {
    let text = include_str!("vectors/digest.json");
    serde_json::from_str(text).expect("digest.json is valid json")
}

/// Every vector this build can compute (MD5 ones need the `digest-md5` feature).
fn vectors(data: &Value) -> Vec<Vector<'_>> {
    let list = data["vectors"].as_array().expect("a vectors array");
    assert!(
        list.len() >= 20,
        "every algorithm, -sess, auth-int, userhash and rfc forms"
    );
    list.iter()
        .filter_map(|raw| {
            let algorithm = Algorithm::from_token(raw["algorithm"].as_str()?)?;
            let qop = raw["qop"]
                .as_str()
                .map(|q| Qop::from_token(q).expect("known qop"));
            let nc = raw["nc"]
                .as_str()
                .map(|nc| u32::from_str_radix(nc, 16).unwrap());
            Some(Vector {
                raw,
                algorithm,
                qop,
                nc,
            })
        })
        .collect()
}

#[test]
fn responses_rspauth_ha1_and_userhash_match() {
    let data = data();
    let vectors = vectors(&data);
    #[cfg(feature = "digest-md5")]
    assert_eq!(vectors.len(), data["vectors"].as_array().unwrap().len());
    for v in &vectors {
        let base = ha1(
            v.algorithm.hash,
            v.text("username"),
            v.text("realm"),
            &v.password(),
        );
        if !v.algorithm.session {
            assert_eq!(
                base.expose_secret(),
                v.text("ha1").as_bytes(),
                "{}",
                v.name()
            );
        }
        let response = compute_response(&base, &v.input(v.text("method"), v.text("body")));
        assert_eq!(response.unwrap(), v.text("response"), "{}", v.name());
        let rspauth = compute_response(&base, &v.input("", v.text("response_body")));
        assert_eq!(rspauth.unwrap(), v.text("rspauth"), "{}", v.name());
        if let Some(expected) = v.optional("username_hash") {
            let hashed = userhash(v.algorithm.hash, v.text("username"), v.text("realm"));
            assert_eq!(hashed, expected, "{}", v.name());
        }
        if let Some(nc) = v.optional("nc") {
            assert_eq!(format_nc(v.nc.unwrap()), nc);
        }
    }
}

/// The phone side, from challenge to Authorization and back from Authentication-Info.
#[test]
fn client_sends_the_expected_authorization() {
    let data = data();
    for v in vectors(&data).iter().filter(|v| v.nc.unwrap_or(1) <= 16) {
        let challenge = Challenge {
            realm: v.text("realm").into(),
            domain: None,
            nonce: v.text("nonce").into(),
            opaque: None,
            stale: false,
            algorithm: Some(AlgorithmParam::Known(v.algorithm)),
            qop: v.qop.map(|q| vec![q]),
            userhash: v.raw["userhash"].as_bool().unwrap(),
            charset_utf8: true,
        };
        let policy = ClientPolicy {
            allow_md5: true,
            allow_rfc2069: true,
            prefer_auth_int: true,
            use_userhash: true,
        };
        let credential = ClientCredential::Password(v.password());
        let mut client = Client::new(v.text("username"), credential, policy);
        client
            .handle_challenges([challenge.to_header_value().unwrap().as_str()])
            .unwrap();
        let request = Request {
            method: v.text("method"),
            uri: v.text("uri"),
            body: v.text("body").as_bytes(),
        };
        let cnonce = v.optional("cnonce").unwrap_or("unused");
        let mut sent = String::new();
        for _ in 0..v.nc.unwrap_or(1) {
            sent = client.authorize_with_cnonce(&request, cnonce).unwrap();
        }
        let sent = Credentials::parse(&sent).unwrap();
        assert_eq!(sent.response, v.text("response"), "{}", v.name());
        assert_eq!(sent.nc, v.nc, "{}", v.name());
        let expected_username = match v.optional("username_hash") {
            Some(hash) => Username::Hashed(hash.into()),
            None => Username::Plain(v.text("username").into()),
        };
        assert_eq!(sent.username, expected_username, "{}", v.name());

        let info = format!(r#"rspauth="{}""#, v.text("rspauth"));
        let body = v.text("response_body").as_bytes();
        let proof = client.handle_authentication_info(&info, body);
        assert_eq!(proof, Ok(ServerProof::Verified), "{}", v.name());
    }
}
