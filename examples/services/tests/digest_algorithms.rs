//! The registrar's list of Digest algorithms: `--digest-algorithms` read and refused as a user
//! types it, and one WWW-Authenticate header per algorithm, in the order given.

use std::process::Command;
use std::time::Duration;

use keyprov::digest::Algorithm;
use keyprov_services::inventory;
use keyprov_services::lab::{Lab, LabOptions, REALM};
use keyprov_services::registrar::{SHA256_THEN_MD5, parse_digest_algorithms};
use keyprov_services::sip::Message;
use tokio::net::UdpSocket;

const REGISTRAR: &str = env!("CARGO_BIN_EXE_registrar");

#[test]
fn algorithm_lists_keep_their_order_and_ignore_case() {
    let md5 = Algorithm::MD5;
    let sha = Algorithm::SHA256;
    assert_eq!(parse_digest_algorithms("md5").unwrap(), [md5]);
    assert_eq!(parse_digest_algorithms("sha-256,md5").unwrap(), [sha, md5]);
    assert_eq!(parse_digest_algorithms("MD5, SHA-256").unwrap(), [md5, sha]);
    assert_eq!(
        parse_digest_algorithms("sha-512-256,md5-sess").unwrap(),
        [
            Algorithm::SHA512_256,
            Algorithm {
                session: true,
                ..md5
            }
        ]
    );
    assert_eq!(SHA256_THEN_MD5, [sha, md5]);
}

#[test]
fn bad_algorithm_lists_are_refused_naming_the_flag() {
    for (list, why) in [
        ("", "empty algorithm name"),
        ("md5,", "empty algorithm name"),
        ("sha-256,,md5", "empty algorithm name"),
        ("sha-1", "unknown algorithm \"sha-1\""),
        ("md5,sha-256,MD5", "algorithm \"MD5\" is listed twice"),
    ] {
        let error = parse_digest_algorithms(list).unwrap_err().to_string();
        assert!(
            error.starts_with("--digest-algorithms: "),
            "{list:?}: {error}"
        );
        assert!(error.contains(why), "{list:?}: {error}");
    }
}

#[test]
fn the_registrar_program_refuses_a_bad_list_before_starting() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let missing = missing.to_str().unwrap();
    let files = ["--ca", missing, "--cert", missing, "--key", missing];
    let run = |extra: &[&str]| {
        let out = Command::new(REGISTRAR)
            .args(["--listen", "127.0.0.1:0"])
            .args(files)
            .args(extra)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{extra:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let error = run(&["--digest-algorithms", "md5,md5"]);
    assert!(
        error.contains("--digest-algorithms: algorithm \"md5\" is listed twice"),
        "{error}"
    );
    let error = run(&["--digest-algorithms", "rot13"]);
    assert!(
        error.contains("--digest-algorithms: unknown algorithm \"rot13\""),
        "{error}"
    );
    // The shorthand and the list together are ambiguous.
    let error = run(&["--allow-md5", "--digest-algorithms", "md5"]);
    assert!(error.contains("cannot be used with"), "{error}");
    // A good list gets past the check and fails later, on the missing files.
    let error = run(&["--digest-algorithms", "md5"]);
    assert!(!error.contains("--digest-algorithms"), "{error}");
}

/// The algorithm of each WWW-Authenticate header of a 401 to a REGISTER without credentials,
/// in the order the registrar sent them.
async fn offered(algorithms: Vec<Algorithm>) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let phones = inventory::parse(&inventory::synthetic(1)).unwrap();
    let options = LabOptions {
        digest_algorithms: algorithms,
        ..LabOptions::default()
    };
    let lab = Lab::start(dir.path(), &phones, options).await.unwrap();
    let request = format!(
        "REGISTER sip:{REALM} SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKalgorithms\r\n\
         From: <sip:a@{REALM}>;tag=1\r\n\
         To: <sip:a@{REALM}>\r\n\
         Call-ID: algorithms\r\n\
         CSeq: 1 REGISTER\r\n\
         Content-Length: 0\r\n\r\n"
    );
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket
        .send_to(request.as_bytes(), lab.sip_addr())
        .await
        .unwrap();
    let mut buf = vec![0u8; 65_535];
    let len = tokio::time::timeout(Duration::from_secs(5), socket.recv(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let reply = Message::parse(&buf[..len]).unwrap();
    assert_eq!(reply.status(), Some(401));
    reply
        .header_values(&ezk_sip_types::Name::WWW_AUTHENTICATE)
        .map(|value| {
            assert!(value.starts_with("Digest "), "{value}");
            assert!(value.contains(&format!("realm=\"{REALM}\"")), "{value}");
            let (_, rest) = value.split_once("algorithm=").expect(value);
            rest.split(',').next().unwrap().trim().to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn challenges_list_the_algorithms_in_the_order_given() {
    assert_eq!(
        offered(LabOptions::default().digest_algorithms).await,
        ["SHA-256"]
    );
    assert_eq!(offered(vec![Algorithm::MD5]).await, ["MD5"]);
    assert_eq!(
        offered(vec![Algorithm::MD5, Algorithm::SHA256]).await,
        ["MD5", "SHA-256"]
    );
    assert_eq!(offered(SHA256_THEN_MD5.to_vec()).await, ["SHA-256", "MD5"]);
}
