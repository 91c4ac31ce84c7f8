//! Replays every committed fuzz corpus file and saved crash through the fuzz targets' checks.
//!
//! The target bodies are the plain functions of `fuzz/src/checks.rs`, included here as they
//! are, so `cargo test` on stable Rust runs exactly what libFuzzer runs. The seed corpora are
//! made from valid encodings by `seeds()`; to write them again after a format change:
//! `cargo test --test fuzz_corpus_replay -- --ignored write_seed_corpora`.

use std::fs;
use std::path::{Path, PathBuf};

use keyprov::keyid::{AgentId, DeviceId, KeyId, UnstructuredValue, ValueSource};
use keyprov::wire::{
    Freshness, KeyRefusal, KeyRequest, KeyResponse, Message, ProvisionRequest, ProvisionResponse,
    Refusal, RegisterAccept, RegisterChallenge, RegisterDirect, RegisterHello, RegisterProof,
    SecretBytes, Subject, UserProof,
};

#[path = "../fuzz/src/checks.rs"]
mod checks;
#[path = "../fuzz/src/meter.rs"]
mod meter;

#[global_allocator]
static ALLOC: meter::Meter = meter::Meter;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `fuzz/<kind>/<target>/`, for every target directory that exists.
fn files_under(kind: &str) -> Vec<(String, PathBuf)> {
    let Ok(dirs) = fs::read_dir(fuzz_dir().join(kind)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for dir in dirs.map(|d| d.expect("readable directory").path()) {
        let target = dir.file_name().unwrap().to_string_lossy().into_owned();
        for file in fs::read_dir(&dir).expect("target directory readable") {
            let path = file.expect("readable entry").path();
            let hidden = path.file_name().unwrap().to_string_lossy().starts_with('.');
            if path.is_file() && !hidden {
                out.push((target.clone(), path));
            }
        }
    }
    out.sort();
    out
}

fn replay(kind: &str) -> usize {
    let files = files_under(kind);
    for (target, path) in &files {
        let check = checks::target(target)
            .unwrap_or_else(|| panic!("{} names no fuzz target", path.display()));
        let data = fs::read(path).expect("corpus file readable");
        check(&data);
    }
    files.len()
}

#[test]
fn the_allocation_meter_is_installed() {
    assert!(
        meter::installed(),
        "checks would pass vacuously without the counting allocator"
    );
    let (buffer, usage) = meter::measure(|| vec![0u8; 1 << 20]);
    assert_eq!(usage.largest, 1 << 20);
    assert_eq!(usage.retained, 1 << 20);
    drop(buffer);
}

#[test]
fn every_corpus_file_passes_its_target() {
    let count = replay("corpus");
    assert!(count >= checks::TARGETS.len(), "only {count} corpus files");
}

#[test]
fn every_saved_regression_passes_its_target() {
    replay("regressions");
}

#[test]
fn every_target_has_seeds_and_a_fuzz_binary() {
    for (name, _) in checks::TARGETS {
        let seeds = fuzz_dir().join("corpus").join(name);
        let count = fs::read_dir(&seeds).map_or(0, |d| d.count());
        assert!(count > 0, "no seed corpus for {name}");
        let binary = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        assert!(binary.is_file(), "no fuzz target file for {name}");
    }
}

#[test]
fn fresh_seeds_pass_their_targets() {
    for (target, _, data) in seeds() {
        checks::target(target).expect("seed for a known target")(&data);
    }
}

#[test]
fn a_refused_input_is_not_a_failure() {
    // A canonical key id with one trailing byte is refused, not repaired, and the check passes.
    let mut bytes = sample_key_ids()[0].to_bytes();
    bytes.push(0);
    assert!(KeyId::from_bytes(&bytes).is_err());
    checks::keyid_binary(&bytes);
}

#[test]
#[ignore = "writes fuzz/corpus; run by hand after a format change"]
fn write_seed_corpora() {
    for (target, name, data) in seeds() {
        let dir = fuzz_dir().join("corpus").join(target);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(name), data).unwrap();
    }
}

// ---- seeds: valid encodings made through the public API ----

fn sample_key_ids() -> Vec<KeyId> {
    let agent = AgentId::new("agent-1").unwrap();
    let devices = [
        DeviceId::extension("4711").unwrap(),
        DeviceId::serial_number("SN-0042-AX").unwrap(),
        DeviceId::parse_ipv6("2001:db8::17").unwrap(),
        DeviceId::mac([0x00, 0x1b, 0x21, 0x3c, 0x4d, 0x5e]),
    ];
    let mut ids: Vec<KeyId> = devices
        .into_iter()
        .enumerate()
        .map(|(i, device)| KeyId::structured(3, agent, device, i as u32 * 1000))
        .collect();
    let value = UnstructuredValue::new(ValueSource::Random, &[0xa5; 16]).unwrap();
    ids.push(KeyId::unstructured(7, agent, value));
    ids
}

fn key_id_seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    for (i, id) in sample_key_ids().iter().enumerate() {
        out.push(("keyid_binary", format!("seed-{i}"), id.to_bytes()));
        out.push((
            "keyid_text",
            format!("seed-{i}"),
            id.to_string().into_bytes(),
        ));
        if let Some(device) = id.device_id() {
            out.push((
                "device_id_text",
                format!("seed-{i}"),
                device.to_string().into_bytes(),
            ));
        }
    }
    let agent = b"agent-1";
    let mut structured = vec![0, 3, agent.len() as u8];
    structured.extend_from_slice(agent);
    structured.extend_from_slice(&[0, 0, 4, b'4', b'7', b'1', b'1', 0, 0, 0, 9]);
    out.push(("keyid_build", "seed-structured".into(), structured));
    let mut unstructured = vec![0, 7, agent.len() as u8];
    unstructured.extend_from_slice(agent);
    unstructured.extend_from_slice(&[1, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
    out.push(("keyid_build", "seed-unstructured".into(), unstructured));
    out
}

const NONCE: [u8; 32] = [0x11; 32];
const PROOF: [u8; 32] = [0x22; 32];
const KEY: [u8; 32] = [0x33; 32];

fn sample_messages(key_id: &[u8]) -> Vec<(&'static str, Message<'_>)> {
    let user = UserProof {
        login: b"alice",
        proof: &PROOF,
    };
    vec![
        (
            "wire_provision_request",
            Message::ProvisionRequest(ProvisionRequest {
                subject: Subject::DeviceId(b"\x01\x044711"),
                user: Some(user),
            }),
        ),
        (
            "wire_provision_request",
            Message::ProvisionRequest(ProvisionRequest {
                subject: Subject::Anonymous,
                user: None,
            }),
        ),
        (
            "wire_provision_response",
            Message::ProvisionResponse(ProvisionResponse {
                key_id,
                counter: 9,
                not_after: 1_900_000_000,
                agent_id: b"agent-1",
                secret_key: SecretBytes(&KEY),
            }),
        ),
        (
            "wire_register_hello",
            Message::RegisterHello(RegisterHello {
                key_id,
                sequence: 42,
                device_nonce: &NONCE,
                login: Some(b"alice"),
            }),
        ),
        (
            "wire_register_challenge",
            Message::RegisterChallenge(RegisterChallenge {
                registrar_nonce: &NONCE,
            }),
        ),
        (
            "wire_register_proof",
            Message::RegisterProof(RegisterProof {
                proof: &PROOF,
                pin_signature: Some(&PROOF),
            }),
        ),
        (
            "wire_register_direct",
            Message::RegisterDirect(RegisterDirect {
                freshness: Freshness::Time(1_800_000_000),
                key_id,
                device_nonce: &NONCE,
                login: None,
                proof: &PROOF,
                pin_signature: None,
            }),
        ),
        (
            "wire_register_direct",
            Message::RegisterDirect(RegisterDirect {
                freshness: Freshness::Sequence(7),
                key_id,
                device_nonce: &NONCE,
                login: Some(b"alice"),
                proof: &PROOF,
                pin_signature: Some(&PROOF),
            }),
        ),
        (
            "wire_register_accept",
            Message::RegisterAccept(RegisterAccept {
                registrar_nonce: &NONCE,
                not_after: 1_900_000_000,
                registrar_proof: &PROOF,
            }),
        ),
        (
            "wire_key_request",
            Message::KeyRequest(KeyRequest {
                request_id: 5,
                key_id,
                service: b"sip.example.com",
                login: None,
            }),
        ),
        (
            "wire_key_response",
            Message::KeyResponse(KeyResponse {
                request_id: 5,
                not_after: 1_900_000_000,
                service_key: SecretBytes(&KEY),
                pin_key: Some(SecretBytes(&KEY)),
            }),
        ),
        (
            "wire_key_refusal",
            Message::KeyRefusal(KeyRefusal {
                request_id: 5,
                outcome: 300,
            }),
        ),
        ("wire_refusal", Message::Refusal(Refusal { outcome: 304 })),
    ]
}

fn wire_seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let key_id = sample_key_ids()[0].to_bytes();
    let mut out = Vec::new();
    for (i, (target, message)) in sample_messages(&key_id).into_iter().enumerate() {
        let bytes = message.to_vec().expect("sample message encodes");
        out.push((target, format!("seed-{i}"), bytes[2..].to_vec()));
        out.push(("wire_message", format!("seed-{i}"), bytes));
    }
    out
}

// Registration scripts for `role_registrar` (see `RegistrarStep::read`): 0 delivers the honest
// device's next message, 1 a mutated copy, 2 the forger's, 3 injected bytes, 4 a replay, 5 the
// registrar's next answer to the device, 7 answers the key fetch (then 0: the right key), 8
// advances the clock, 9 starts a new attempt (then its mode: 0 challenge, 1 time, 2 sequence).
const CHALLENGE_RESPONSE: &[u8] = &[0, 0, 7, 0, 5, 0, 5];
const TIME: &[u8] = &[1, 0, 7, 0, 5];
const SEQUENCE_AFTER_CHALLENGE: &[u8] = &[0, 0, 7, 0, 5, 0, 5, 9, 2, 0, 5];
const TIME_THEN_REPLAY: &[u8] = &[1, 0, 7, 0, 5, 9, 1, 4, 0, 4, 1, 0, 5];
const FORGED_AND_MUTATED: &[u8] = &[0, 2, 7, 0, 5, 1, 3, 0x40, 0, 5, 8, 45];

/// `role_agent`: no PIN required, channel binding, a well-formed anonymous provisioning
/// request, the counter 9 reserved, a well-formed key request for 4711 at the service, approved.
fn agent_script() -> Vec<u8> {
    // Config byte, then a 16-byte channel binding (the shortest accepted).
    let mut script = vec![0, 16];
    script.extend(1..=16u8);
    script.extend_from_slice(&[1, 0, 1, 5]);
    script.extend_from_slice(&[0; 32]);
    script.extend_from_slice(&[0, 0, 3, 1, 9, 5, 0, 1, 5, 0, 7, 6, 0, 1, 0]);
    script
}

/// `role_device`: provisioning for extension 4711, connected, a well-formed response, stored,
/// closed.
fn device_script() -> Vec<u8> {
    // Configuration bytes, then connected with a 16-byte channel binding.
    let mut script = vec![1, 0, 0, 1, 16];
    script.extend(1..=16u8);
    script.extend_from_slice(&[3, 0, 1, 5]);
    script.extend_from_slice(&[0x11; 32]);
    script.extend_from_slice(&[4, 1, 5]);
    script
}

fn role_seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let scripts = [
        ("challenge-response", CHALLENGE_RESPONSE),
        ("time", TIME),
        ("sequence", SEQUENCE_AFTER_CHALLENGE),
        ("time-replay", TIME_THEN_REPLAY),
        ("forged-mutated", FORGED_AND_MUTATED),
    ];
    let mut out: Vec<_> = scripts
        .into_iter()
        .map(|(name, s)| ("role_registrar", name.to_owned(), s.to_vec()))
        .collect();
    out.push(("role_agent", "issue-and-serve".into(), agent_script()));
    out.push(("role_device", "provisioned".into(), device_script()));
    out.push((
        "digest_exchange",
        "two-accepted-replay-forged".into(),
        DIGEST_EXCHANGE.to_vec(),
    ));
    out
}

/// `digest_exchange`: challenges (not stale), two honest answers, a replay of the first, the
/// forger's answer, a flipped copy of the last honest one.
const DIGEST_EXCHANGE: &[u8] = &[0, 0, 1, 1, 5, 0, 3, 2, 40, 7];

#[test]
fn digest_exchange_seed_reaches_the_oracle() {
    assert_eq!(checks::digest_exchange_outcome(DIGEST_EXCHANGE), 2);
}

#[test]
fn agent_and_device_seeds_reach_the_oracle() {
    assert_eq!(checks::agent_outcome(&agent_script()), (1, 1));
    assert!(checks::device_outcome(&device_script()));
}

#[test]
fn registration_seeds_reach_the_oracle() {
    for (script, registrations) in [
        (CHALLENGE_RESPONSE, 1),
        (TIME, 1),
        (SEQUENCE_AFTER_CHALLENGE, 2),
        (TIME_THEN_REPLAY, 1),
        (FORGED_AND_MUTATED, 0),
    ] {
        let outcome = checks::registration_outcome(script);
        let expected = checks::RegistrationOutcome {
            registrar: registrations,
            device: registrations,
        };
        assert_eq!(outcome, expected, "script {script:?}");
    }
}

fn digest_seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let seeds: [(&str, &str); 8] = [
        (
            "digest_challenge",
            r#"Digest realm="sip.example.com", nonce="ab12cd34", algorithm=SHA-256, qop="auth,auth-int", opaque="5ccc""#,
        ),
        (
            "digest_challenge",
            r#"Digest realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", stale=TRUE, userhash=true, charset=UTF-8"#,
        ),
        (
            "digest_challenges",
            "Basic realm=\"x\"\nDigest realm=\"a\", nonce=\"n1\", algorithm=SHA-512-256, qop=\"auth\", Digest realm=\"a\", nonce=\"n1\", algorithm=MD5",
        ),
        (
            "digest_credentials",
            r#"Digest username="kp1AQEAAQdhZ2VudC0x", realm="sip.example.com", nonce="ab12cd34", uri="sip:sip.example.com", response="6629fae49393a05397450978507c4ef1", algorithm=SHA-256, cnonce="0a4f113b", qop=auth, nc=00000001, opaque="5ccc""#,
        ),
        (
            "digest_credentials",
            r#"Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm="api.example.org", uri="/doe.json", algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", nc=00000001, cnonce="NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v", qop=auth, response="ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd""#,
        ),
        (
            "digest_credentials",
            r#"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", response="1949323746fe6a43ef61f9606e7febea""#,
        ),
        (
            "digest_authentication_info",
            r#"rspauth="d4a1f3", cnonce="0a4f113b", nc=00000001, qop=auth, nextnonce="n2""#,
        ),
        (
            "digest_authentication_info",
            r#"nextnonce="47364c23432d2e131a5fb210812c""#,
        ),
    ];
    seeds
        .into_iter()
        .enumerate()
        .map(|(i, (target, text))| (target, format!("seed-{i}"), text.as_bytes().to_vec()))
        .collect()
}

#[test]
fn digest_seeds_are_accepted_headers() {
    use keyprov::digest::{AuthenticationInfo, Challenge, Credentials};
    for (target, _, bytes) in digest_seeds() {
        let text = std::str::from_utf8(&bytes).unwrap();
        let accepted = match target {
            "digest_challenge" => Challenge::parse(text).is_ok(),
            "digest_challenges" => {
                Challenge::parse_all(text.split('\n')).is_ok_and(|c| c.len() == 2)
            }
            "digest_credentials" => Credentials::parse(text).is_ok(),
            _ => AuthenticationInfo::parse(text).is_ok(),
        };
        assert!(accepted, "{target} seed refused: {text}");
    }
}

/// Every seed: target, file name, bytes.
fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = key_id_seeds();
    out.extend(wire_seeds());
    out.extend(role_seeds());
    out.extend(digest_seeds());
    out
}
