//! The worked examples of RFC 7616 section 3.9.1 (SHA-256 and MD5) and RFC 2617 section 3.5,
//! copied from /work/shared/vectors/rfc7616-digest-examples.txt (source values marked there).

#[cfg(feature = "digest-md5")]
use keyprov::digest::{AlgorithmParam, HashAlgorithm, ha1};
use keyprov::digest::{Client, ClientCredential, ClientPolicy, Credentials, Request, Username};
use keyprov::secret::DigestPassphrase;

const RFC7616_CHALLENGE_SHA256: &str = r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
const RFC7616_CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
const REQUEST: Request<'static> = Request {
    method: "GET",
    uri: "/dir/index.html",
    body: b"",
};

fn rfc7616_client(challenge: &str) -> Client {
    let password = DigestPassphrase::from_bytes(b"Circle of Life").unwrap();
    let mut client = Client::new(
        "Mufasa",
        ClientCredential::Password(password),
        ClientPolicy::default(),
    );
    client.handle_challenges([challenge]).unwrap();
    client
}

#[test]
fn rfc7616_sha256_response() {
    let mut client = rfc7616_client(RFC7616_CHALLENGE_SHA256);
    let value = client
        .authorize_with_cnonce(&REQUEST, RFC7616_CNONCE)
        .unwrap();
    let sent = Credentials::parse(&value).unwrap();
    assert_eq!(
        sent.response,
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    );
    assert_eq!(
        sent.opaque.as_deref(),
        Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
    );
    assert_eq!(sent.nc, Some(1));
    assert_eq!(sent.username, Username::Plain("Mufasa".into()));
}

#[test]
fn rfc7616_expected_authorization_reads_back() {
    let expected = r#"Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
    let parsed = Credentials::parse(expected).unwrap();
    let mut client = rfc7616_client(RFC7616_CHALLENGE_SHA256);
    let ours = Credentials::parse(
        &client
            .authorize_with_cnonce(&REQUEST, RFC7616_CNONCE)
            .unwrap(),
    );
    assert_eq!(ours.unwrap(), parsed);
}

#[test]
#[cfg(feature = "digest-md5")]
fn rfc7616_md5_response() {
    let challenge = RFC7616_CHALLENGE_SHA256.replace("SHA-256", "MD5");
    let mut client = rfc7616_client(&challenge);
    let sent = Credentials::parse(
        &client
            .authorize_with_cnonce(&REQUEST, RFC7616_CNONCE)
            .unwrap(),
    );
    let sent = sent.unwrap();
    assert_eq!(sent.response, "8ca523f5e9506fed4657c9700eebdbec");
    assert_eq!(
        sent.algorithm,
        Some(AlgorithmParam::Known(keyprov::digest::Algorithm::MD5))
    );
}

#[test]
#[cfg(feature = "digest-md5")]
fn rfc2617_md5_response() {
    let challenge = r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#;
    let password = DigestPassphrase::from_bytes(b"Circle Of Life").unwrap();
    let credential = ClientCredential::Password(password);
    let mut client = Client::new("Mufasa", credential, ClientPolicy::default());
    client.handle_challenges([challenge]).unwrap();
    let sent = Credentials::parse(&client.authorize_with_cnonce(&REQUEST, "0a4f113b").unwrap());
    let sent = sent.unwrap();
    assert_eq!(sent.response, "6629fae49393a05397450978507c4ef1");
    assert_eq!(sent.algorithm, None, "an absent algorithm stays absent");
    assert_eq!(
        sent.opaque.as_deref(),
        Some("5ccc069c403ebaf9f0171e9517f40e41")
    );
}

#[test]
#[cfg(feature = "digest-md5")]
fn rfc2617_ha1_answers_like_the_password() {
    // HA1 as recomputed locally with hashlib in the vector file.
    let password = DigestPassphrase::from_bytes(b"Circle Of Life").unwrap();
    let computed = ha1(
        HashAlgorithm::Md5,
        "Mufasa",
        "testrealm@host.com",
        &password,
    );
    assert_eq!(
        computed.expose_secret(),
        b"939e7578ed9e3c518a452acee763bce9"
    );
}
