//! Phone and registrar sides against each other: every algorithm, qop, session variant and
//! username form, and every outcome of the registrar.

use keyprov::Error;
use keyprov::digest::server::CredentialLookup;
use keyprov::digest::{
    Algorithm, AuthenticationInfo, Challenge, Client, ClientCredential, ClientPolicy, Credentials,
    HashAlgorithm, Outcome, PhoneReply, Qop, Registrar, RegistrarPolicy, Request, ServerProof,
    StoredCredential, Username, ha1, userhash,
};
use keyprov::drbg::HmacDrbg;
use keyprov::secret::{DigestNonceSecret, DigestPassphrase, ServiceKey};

const REALM: &str = "sip.example.com";
const KEY_ID: &str = "kp1-0001-example";
const NOW: u64 = 1_700_000_000;
const REGISTER: Request<'static> = Request {
    method: "REGISTER",
    uri: "sip:sip.example.com",
    body: b"",
};

fn rng() -> HmacDrbg {
    HmacDrbg::new(&[0x42; 32], &[0x17; 16], b"digest flow tests").unwrap()
}

fn password() -> DigestPassphrase {
    DigestPassphrase::from_bytes(b"correct horse").unwrap()
}

fn all_algorithms() -> Vec<Algorithm> {
    let mut list = Vec::new();
    for hash in HashAlgorithm::ALL {
        for session in [false, true] {
            list.push(Algorithm {
                hash: *hash,
                session,
            });
        }
    }
    list
}

fn registrar(configure: impl FnOnce(&mut RegistrarPolicy)) -> Registrar {
    let mut policy = RegistrarPolicy::new(REALM);
    configure(&mut policy);
    Registrar::new(policy, DigestNonceSecret::from_bytes(&[9; 32]).unwrap()).unwrap()
}

fn client() -> Client {
    let policy = ClientPolicy::default();
    Client::new(KEY_ID, ClientCredential::Password(password()), policy)
}

fn found() -> CredentialLookup {
    CredentialLookup::Found(StoredCredential::Password(password()))
}

/// Challenge, answer, verify: the registrar's outcome and the Authorization sent.
fn round(
    registrar: &mut Registrar,
    client: &mut Client,
    request: &Request<'_>,
    lookup: CredentialLookup,
) -> (Outcome, String) {
    let mut rng = rng();
    let challenges = registrar.challenges(NOW, false, &mut rng).unwrap();
    client
        .handle_challenges(challenges.iter().map(String::as_str))
        .unwrap();
    let authorization = client.authorize(request, &mut rng).unwrap();
    let outcome = registrar.verify_header(&authorization, request, NOW + 1, |_| lookup);
    (outcome, authorization)
}

fn accepted(outcome: Outcome) -> keyprov::digest::Accepted {
    match outcome {
        Outcome::Accepted(accepted) => accepted,
        other => panic!("expected acceptance, got {other:?}"),
    }
}

#[test]
fn every_algorithm_and_qop_verifies_both_ways() {
    for algorithm in all_algorithms() {
        for qop in [Qop::Auth, Qop::AuthInt] {
            let mut registrar = registrar(|p| {
                p.algorithms = vec![algorithm];
                p.qop = vec![qop];
            });
            let mut client = client();
            let request = Request {
                method: "REGISTER",
                uri: "sip:x",
                body: b"v=0\r\n",
            };
            let (outcome, sent) = round(&mut registrar, &mut client, &request, found());
            let accepted = accepted(outcome);
            assert_eq!(accepted.algorithm, algorithm);
            assert_eq!(Credentials::parse(&sent).unwrap().qop, Some(qop));
            let info = accepted.info.to_header_value().unwrap();
            let proof = client.handle_authentication_info(&info, b"").unwrap();
            assert_eq!(proof, ServerProof::Verified, "{algorithm:?} {qop:?}");
        }
    }
}

#[test]
fn auth_int_covers_the_body() {
    let mut registrar = registrar(|p| p.qop = vec![Qop::AuthInt]);
    let mut client = client();
    let mut rng = rng();
    let challenges = registrar.challenges(NOW, false, &mut rng).unwrap();
    client
        .handle_challenges(challenges.iter().map(String::as_str))
        .unwrap();
    let sent = Request {
        method: "REGISTER",
        uri: "sip:x",
        body: b"body one",
    };
    let authorization = client.authorize(&sent, &mut rng).unwrap();
    let altered = Request {
        body: b"body two",
        ..sent
    };
    let outcome = registrar.verify_header(&authorization, &altered, NOW, |_| found());
    assert_eq!(outcome, Outcome::WrongResponse);
}

#[test]
fn stored_ha1_verifies_without_the_password() {
    for hash in HashAlgorithm::ALL {
        let algorithm = Algorithm {
            hash: *hash,
            session: false,
        };
        let mut registrar = registrar(|p| p.algorithms = vec![algorithm]);
        let stored = ha1(*hash, KEY_ID, REALM, &password());
        let lookup = CredentialLookup::Found(StoredCredential::Ha1 {
            hash: *hash,
            ha1: stored,
        });
        let (outcome, _) = round(&mut registrar, &mut client(), &REGISTER, lookup);
        accepted(outcome);
    }
}

#[test]
fn phone_with_ha1_only_answers_its_hash() {
    let stored = ha1(HashAlgorithm::Sha256, KEY_ID, REALM, &password());
    let credential = ClientCredential::Ha1 {
        hash: HashAlgorithm::Sha256,
        ha1: stored,
    };
    let mut client = Client::new(KEY_ID, credential, ClientPolicy::default());
    let mut registrar = registrar(|_| {});
    let (outcome, _) = round(&mut registrar, &mut client, &REGISTER, found());
    assert_eq!(accepted(outcome).algorithm, Algorithm::SHA256);
}

#[test]
fn service_key_password_serves_both_sides() {
    let service_key = ServiceKey::from_bytes(&[0x5a; 32]).unwrap();
    let mut client = Client::new(
        KEY_ID,
        ClientCredential::from_service_key(&service_key),
        Default::default(),
    );
    let mut registrar = registrar(|_| {});
    let lookup = CredentialLookup::Found(StoredCredential::from_service_key(&service_key));
    accepted(round(&mut registrar, &mut client, &REGISTER, lookup).0);
    client.handle_accepted();
    let hash = HashAlgorithm::Sha512_256;
    let stored = StoredCredential::ha1_from_service_key(hash, KEY_ID, REALM, &service_key);
    let mut registrar = registrar_with_secret(9);
    let lookup = CredentialLookup::Found(stored);
    accepted(round(&mut registrar, &mut client, &REGISTER, lookup).0);
}

fn registrar_with_secret(byte: u8) -> Registrar {
    let secret = DigestNonceSecret::from_bytes(&[byte; 32]).unwrap();
    Registrar::new(RegistrarPolicy::new(REALM), secret).unwrap()
}

#[test]
fn strongest_challenge_wins_whatever_the_order() {
    let nonce = "n";
    let challenge = |token: &str| {
        format!(r#"Digest realm="{REALM}", qop="auth", algorithm={token}, nonce="{nonce}""#)
    };
    let orders = [
        ["MD5", "SHA-256", "SHA-512-256"],
        ["SHA-512-256", "MD5", "SHA-256"],
        ["SHA-256", "SHA-512-256", "MD5"],
    ];
    for order in orders {
        let values: Vec<String> = order.iter().map(|t| challenge(t)).collect();
        let mut client = client();
        client
            .handle_challenges(values.iter().map(String::as_str))
            .unwrap();
        assert_eq!(client.algorithm(), Some(Algorithm::SHA512_256));
        // All in one header value as well.
        let mut client = self::client();
        client
            .handle_challenges([values.join(", ").as_str()])
            .unwrap();
        assert_eq!(client.algorithm(), Some(Algorithm::SHA512_256));
    }
}

#[test]
fn md5_can_be_forbidden_and_unknown_algorithms_are_skipped() {
    let md5 = r#"Digest realm="r", qop="auth", nonce="n""#;
    let strange = r#"Digest realm="r", qop="auth", algorithm=SHA3-256, nonce="n""#;
    let policy = ClientPolicy {
        allow_md5: false,
        ..ClientPolicy::default()
    };
    let mut client = Client::new(KEY_ID, ClientCredential::Password(password()), policy);
    assert_eq!(
        client.handle_challenges([md5, strange]),
        Err(Error::DigestNoSupportedChallenge)
    );
    let basic = r#"Basic realm="r""#;
    assert_eq!(
        client.handle_challenges([basic]),
        Err(Error::DigestNoSupportedChallenge)
    );
    let rfc2069 = r#"Digest realm="r", algorithm=SHA-256, nonce="n""#;
    assert_eq!(
        client.handle_challenges([rfc2069]),
        Err(Error::DigestNoSupportedChallenge)
    );
}

#[test]
fn nonce_count_and_cnonce_follow_the_nonce() {
    let registrar = registrar(|_| {});
    let mut client = client();
    let mut rng = rng();
    let challenges = registrar.challenges(NOW, false, &mut rng).unwrap();
    client
        .handle_challenges(challenges.iter().map(String::as_str))
        .unwrap();
    let first = Credentials::parse(&client.authorize(&REGISTER, &mut rng).unwrap()).unwrap();
    let second = Credentials::parse(&client.authorize(&REGISTER, &mut rng).unwrap()).unwrap();
    assert_eq!((first.nc, second.nc), (Some(1), Some(2)));
    assert_eq!(first.cnonce, second.cnonce, "one cnonce per nonce");
    assert_eq!(first.nonce, second.nonce);

    // After a success, the same challenge again keeps counting; a new nonce starts over with
    // a new cnonce.
    client.handle_accepted();
    client
        .handle_challenges(challenges.iter().map(String::as_str))
        .unwrap();
    let third = Credentials::parse(&client.authorize(&REGISTER, &mut rng).unwrap()).unwrap();
    assert_eq!(third.nc, Some(3));
    let renewed = registrar.challenges(NOW + 5, false, &mut rng).unwrap();
    client.handle_accepted();
    client
        .handle_challenges(renewed.iter().map(String::as_str))
        .unwrap();
    let fourth = Credentials::parse(&client.authorize(&REGISTER, &mut rng).unwrap()).unwrap();
    assert_eq!(fourth.nc, Some(1));
    assert_ne!(fourth.cnonce, first.cnonce);
    assert_ne!(fourth.nonce, first.nonce);
}

#[test]
fn replay_is_refused_and_counts_recorded_only_on_success() {
    let mut registrar = registrar(|_| {});
    let mut client = client();
    let (outcome, authorization) = round(&mut registrar, &mut client, &REGISTER, found());
    accepted(outcome);
    let again = registrar.verify_header(&authorization, &REGISTER, NOW + 2, |_| found());
    assert_eq!(again, Outcome::Replay);
    assert_eq!(again.phone_reply(), PhoneReply::Challenge { stale: true });

    // A wrong response does not burn the count: the right one with the same nc still passes.
    let mut registrar = registrar_with_secret(9);
    let mut rng = rng();
    let challenges = registrar.challenges(NOW, false, &mut rng).unwrap();
    let mut client = self::client();
    client
        .handle_challenges(challenges.iter().map(String::as_str))
        .unwrap();
    let good = client.authorize(&REGISTER, &mut rng).unwrap();
    let mut forged = Credentials::parse(&good).unwrap();
    forged.response = "0".repeat(64);
    let forged = forged.to_header_value().unwrap();
    assert_eq!(
        registrar.verify_header(&forged, &REGISTER, NOW, |_| found()),
        Outcome::WrongResponse
    );
    accepted(registrar.verify_header(&good, &REGISTER, NOW, |_| found()));
}

#[test]
fn expired_nonce_gives_stale_once_then_the_phone_gives_up() {
    let mut registrar = registrar(|_| {});
    let mut client = client();
    let mut rng = rng();
    let challenges = registrar.challenges(NOW, false, &mut rng).unwrap();
    client
        .handle_challenges(challenges.iter().map(String::as_str))
        .unwrap();
    let late = NOW + 300 + 30 + 1;
    let authorization = client.authorize(&REGISTER, &mut rng).unwrap();
    let outcome = registrar.verify_header(&authorization, &REGISTER, late, |_| found());
    assert_eq!(outcome, Outcome::Stale);
    assert_eq!(outcome.phone_reply(), PhoneReply::Challenge { stale: true });

    let stale = registrar.challenges(late, true, &mut rng).unwrap();
    assert!(Challenge::parse(&stale[0]).unwrap().stale);
    client
        .handle_challenges(stale.iter().map(String::as_str))
        .unwrap();
    let retry = client.authorize(&REGISTER, &mut rng).unwrap();
    let much_later = late + 1000;
    let outcome = registrar.verify_header(&retry, &REGISTER, much_later, |_| found());
    assert_eq!(outcome, Outcome::Stale);
    let stale_again = registrar.challenges(much_later, true, &mut rng).unwrap();
    let result = client.handle_challenges(stale_again.iter().map(String::as_str));
    assert_eq!(result, Err(Error::DigestStaleLoop));
}

#[test]
fn wrong_password_with_expired_nonce_is_wrong_not_stale() {
    let mut registrar = registrar(|_| {});
    let other = DigestPassphrase::from_bytes(b"wrong").unwrap();
    let lookup = CredentialLookup::Found(StoredCredential::Password(other));
    let mut client = client();
    let mut rng = rng();
    let challenges = registrar.challenges(NOW, false, &mut rng).unwrap();
    client
        .handle_challenges(challenges.iter().map(String::as_str))
        .unwrap();
    let authorization = client.authorize(&REGISTER, &mut rng).unwrap();
    let outcome = registrar.verify_header(&authorization, &REGISTER, NOW + 10_000, |_| lookup);
    assert_eq!(outcome, Outcome::WrongResponse);
    assert_eq!(outcome.phone_reply(), PhoneReply::Forbidden);
    assert_eq!(outcome.phone_reply().status_code(), 403);
    // The phone sees a fresh challenge without stale after its answer: refused, not retried.
    let fresh = registrar.challenges(NOW, false, &mut rng).unwrap();
    let result = client.handle_challenges(fresh.iter().map(String::as_str));
    assert_eq!(result, Err(Error::WrongProof));
}

#[test]
fn forged_nonce_and_other_cluster_are_recognised() {
    let mut ours = registrar(|_| {});
    let mut theirs = registrar_with_secret(10);
    let mut client = client();
    let (outcome, authorization) = round(&mut theirs, &mut client, &REGISTER, found());
    accepted(outcome);
    let outcome = ours.verify_header(&authorization, &REGISTER, NOW, |_| found());
    assert_eq!(outcome, Outcome::ForgedNonce);
    assert_eq!(
        outcome.phone_reply(),
        PhoneReply::Challenge { stale: false }
    );
}

#[test]
fn cluster_members_accept_each_others_nonces_within_drift() {
    let first = registrar(|_| {});
    let mut second = registrar(|_| {});
    let mut rng = rng();
    let challenges = first.challenges(NOW, false, &mut rng).unwrap();
    let mut client = client();
    client
        .handle_challenges(challenges.iter().map(String::as_str))
        .unwrap();
    let authorization = client.authorize(&REGISTER, &mut rng).unwrap();
    // The second registrar's clock is 20 seconds behind: within the 30 allowed.
    accepted(second.verify_header(&authorization, &REGISTER, NOW - 20, |_| found()));
    let mut third = registrar(|_| {});
    let outcome = third.verify_header(&authorization, &REGISTER, NOW - 31, |_| found());
    assert_eq!(outcome, Outcome::Stale);
}

#[test]
fn lookup_refusals_are_distinct_in_logs_and_one_403_for_the_phone() {
    let refusals = [
        (CredentialLookup::UnknownKeyId, Outcome::UnknownKeyId),
        (CredentialLookup::Superseded, Outcome::Superseded),
        (CredentialLookup::Revoked, Outcome::Revoked),
    ];
    for (lookup, expected) in refusals {
        let mut registrar = registrar(|_| {});
        let (outcome, _) = round(&mut registrar, &mut client(), &REGISTER, lookup);
        assert_eq!(outcome, expected);
        assert_eq!(outcome.phone_reply().status_code(), 403);
    }
}

#[test]
fn malformed_and_policy_violations_are_reported() {
    let mut registrar = registrar(|_| {});
    let outcome = registrar.verify_header("Digest username=\"a\"", &REGISTER, NOW, |_| found());
    assert_eq!(
        outcome,
        Outcome::Malformed(Error::DigestMissingParameter { name: "realm" })
    );
    assert_eq!(outcome.phone_reply(), PhoneReply::Forbidden);

    let mut rng = rng();
    let challenges = registrar.challenges(NOW, false, &mut rng).unwrap();
    let mut client = client();
    client
        .handle_challenges(challenges.iter().map(String::as_str))
        .unwrap();
    let mut credentials = Credentials::parse(&client.authorize(&REGISTER, &mut rng).unwrap());
    let credentials = credentials.as_mut().unwrap();
    credentials.realm = "elsewhere".into();
    let outcome = registrar.verify(credentials, &REGISTER, NOW, found());
    assert_eq!(
        outcome,
        Outcome::Malformed(Error::MismatchedAnswer { field: "realm" })
    );
    credentials.realm = REALM.into();
    let sha256_sess = Algorithm {
        hash: HashAlgorithm::Sha256,
        session: true,
    };
    credentials.algorithm = Some(keyprov::digest::AlgorithmParam::Known(sha256_sess));
    let outcome = registrar.verify(credentials, &REGISTER, NOW, found());
    let not_offered = Error::InvalidValue {
        field: "digest algorithm",
        reason: "not offered",
    };
    assert_eq!(outcome, Outcome::Malformed(not_offered));
}

#[test]
fn opaque_is_echoed_exactly_and_never_invented() {
    let mut registrar = registrar(|p| p.opaque = Some(r#"a "quoted", value"#.into()));
    let mut client = client();
    let (outcome, sent) = round(&mut registrar, &mut client, &REGISTER, found());
    accepted(outcome);
    assert_eq!(
        Credentials::parse(&sent).unwrap().opaque.as_deref(),
        Some(r#"a "quoted", value"#)
    );
    let mut plain = self::registrar(|_| {});
    let (_, sent) = round(&mut plain, &mut self::client(), &REGISTER, found());
    assert!(!sent.contains("opaque"));
}

#[test]
fn userhash_and_extended_usernames() {
    let mut registrar = registrar(|p| p.userhash = true);
    let policy = ClientPolicy {
        use_userhash: true,
        ..ClientPolicy::default()
    };
    let mut client = Client::new(KEY_ID, ClientCredential::Password(password()), policy);
    let hash = HashAlgorithm::Sha512_256;
    let stored = CredentialLookup::Found(StoredCredential::Ha1 {
        hash,
        ha1: ha1(hash, KEY_ID, REALM, &password()),
    });
    let (outcome, sent) = round(&mut registrar, &mut client, &REGISTER, stored);
    let expected = Username::Hashed(userhash(hash, KEY_ID, REALM));
    assert_eq!(accepted(outcome).username, expected);
    assert!(sent.contains("userhash=true"));
    assert!(!sent.contains(KEY_ID));

    let name = "J\u{e4}s\u{f8}n Doe";
    let mut client = Client::new(
        name,
        ClientCredential::Password(password()),
        Default::default(),
    );
    let mut registrar = self::registrar(|_| {});
    let (outcome, sent) = round(&mut registrar, &mut client, &REGISTER, found());
    assert!(
        sent.contains("username*=UTF-8''J%C3%A4s%C3%B8n%20Doe"),
        "{sent}"
    );
    assert_eq!(accepted(outcome).username, Username::Plain(name.into()));
}

#[test]
fn rspauth_and_nextnonce() {
    let mut registrar = registrar(|_| {});
    let mut client = client();
    let mut rng = rng();
    let (outcome, _) = round(&mut registrar, &mut client, &REGISTER, found());
    let mut info = accepted(outcome).info;
    let good = info.rspauth.clone().unwrap();
    let mut bad = info.clone();
    bad.rspauth = Some("0".repeat(good.len()));
    let bad = bad.to_header_value().unwrap();
    assert_eq!(
        client.handle_authentication_info(&bad, b""),
        Err(Error::WrongProof)
    );

    let next = registrar.issue_nonce(NOW + 3, &mut rng).unwrap();
    info.nextnonce = Some(next.clone());
    let value = info.to_header_value().unwrap();
    assert_eq!(
        client.handle_authentication_info(&value, b""),
        Ok(ServerProof::Verified)
    );
    let sent = Credentials::parse(&client.authorize(&REGISTER, &mut rng).unwrap()).unwrap();
    assert_eq!((sent.nonce.as_str(), sent.nc), (next.as_str(), Some(1)));
    accepted(registrar.verify_header(
        &Credentials::to_header_value(&sent).unwrap(),
        &REGISTER,
        NOW + 4,
        |_| found(),
    ));
    let absent = AuthenticationInfo::default().to_header_value().unwrap();
    assert_eq!(
        client.handle_authentication_info(&absent, b""),
        Ok(ServerProof::Absent)
    );
}

#[test]
fn rfc2069_form_serves_each_nonce_once() {
    let mut registrar = registrar(|p| {
        p.qop.clear();
        p.allow_rfc2069 = true;
    });
    let policy = ClientPolicy {
        allow_rfc2069: true,
        ..ClientPolicy::default()
    };
    let mut client = Client::new(KEY_ID, ClientCredential::Password(password()), policy);
    let (outcome, sent) = round(&mut registrar, &mut client, &REGISTER, found());
    accepted(outcome);
    let parsed = Credentials::parse(&sent).unwrap();
    assert_eq!((parsed.qop, parsed.nc, parsed.cnonce), (None, None, None));
    let again = registrar.verify_header(&sent, &REGISTER, NOW + 2, |_| found());
    assert_eq!(again, Outcome::Replay);
}

#[test]
fn authorize_before_a_challenge_is_a_usage_error() {
    let mut client = client();
    let err = client.authorize(&REGISTER, &mut rng()).unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidState {
            call: "authorize",
            ..
        }
    ));
}

#[test]
fn unwritable_policy_and_unoffered_userhash_are_refused() {
    let secret = || DigestNonceSecret::from_bytes(&[9; 32]).unwrap();
    let err = Registrar::new(RegistrarPolicy::new("bad\nrealm"), secret()).unwrap_err();
    let reason = "control character cannot be written";
    assert_eq!(
        err,
        Error::InvalidValue {
            field: "digest realm",
            reason
        }
    );
    let mut policy = RegistrarPolicy::new(REALM);
    policy.nonce_lifetime = 0;
    let err = Registrar::new(policy, secret()).unwrap_err();
    assert!(matches!(
        err,
        Error::OutOfRange {
            field: "nonce lifetime",
            ..
        }
    ));

    let mut registrar = registrar(|_| {});
    let policy = ClientPolicy {
        use_userhash: true,
        ..ClientPolicy::default()
    };
    let mut client = Client::new(KEY_ID, ClientCredential::Password(password()), policy);
    let mut rng = rng();
    let mut challenge =
        Challenge::parse(&registrar.challenges(NOW, false, &mut rng).unwrap()[0]).unwrap();
    challenge.userhash = true;
    client
        .handle_challenges([challenge.to_header_value().unwrap().as_str()])
        .unwrap();
    let sent = client.authorize(&REGISTER, &mut rng).unwrap();
    let outcome = registrar.verify_header(&sent, &REGISTER, NOW, |_| found());
    let reason = "hashed username but userhash not offered";
    let expected = Error::InvalidValue {
        field: "digest username",
        reason,
    };
    assert_eq!(outcome, Outcome::Malformed(expected));
}

#[test]
fn auth_int_proof_covers_the_reply_body() {
    let mut registrar = registrar(|p| p.qop = vec![Qop::AuthInt]);
    let mut client = client();
    let request = Request {
        method: "REGISTER",
        uri: "sip:x",
        body: b"request body",
    };
    let (outcome, _) = round(&mut registrar, &mut client, &request, found());
    let accepted = accepted(outcome);
    let reply_body = b"reply body";
    let info = accepted
        .info_for_body(reply_body)
        .unwrap()
        .to_header_value()
        .unwrap();
    let plain = accepted.info.to_header_value().unwrap();
    assert_ne!(info, plain);
    assert_eq!(
        client.handle_authentication_info(&plain, reply_body),
        Err(Error::WrongProof)
    );
    let proof = client.handle_authentication_info(&info, reply_body);
    assert_eq!(proof, Ok(ServerProof::Verified));
    // H(A1) rides along for the proof but never shows in Debug output.
    let secret = ha1(HashAlgorithm::Sha512_256, KEY_ID, REALM, &password());
    let secret = String::from_utf8(secret.expose_secret().to_vec()).unwrap();
    assert!(!format!("{accepted:?}").contains(&secret));
}
