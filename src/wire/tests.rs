use alloc::vec;
use alloc::vec::Vec;

use proptest::prelude::*;

use super::*;

/// Owned material from which any message can be viewed.
#[derive(Debug, Clone)]
struct Parts {
    kind: u8,
    subject: u8,
    id: Vec<u8>,
    agent: Vec<u8>,
    login: Option<Vec<u8>>,
    first: [u8; 32],
    second: [u8; 32],
    third: Option<[u8; 32]>,
    wide: u64,
    narrow: u32,
    outcome: u16,
}

fn parts() -> impl Strategy<Value = Parts> {
    (
        (0u8..11, 0u8..3, prop::collection::vec(any::<u8>(), 1..=255)),
        (
            prop::collection::vec(any::<u8>(), 1..=64),
            prop::option::of(prop::collection::vec(any::<u8>(), 1..=128)),
        ),
        (
            any::<[u8; 32]>(),
            any::<[u8; 32]>(),
            any::<Option<[u8; 32]>>(),
        ),
        (any::<u64>(), any::<u32>(), 300u16..=399),
    )
        .prop_map(
            |(
                (kind, subject, id),
                (agent, login),
                (first, second, third),
                (wide, narrow, outcome),
            )| Parts {
                kind,
                subject,
                id,
                agent,
                login,
                first,
                second,
                third,
                wide,
                narrow,
                outcome,
            },
        )
}

fn view(p: &Parts) -> Message<'_> {
    let login = p.login.as_deref();
    match p.kind {
        0 => Message::ProvisionRequest(ProvisionRequest {
            subject: match p.subject {
                0 => Subject::Anonymous,
                1 => Subject::DeviceId(&p.id),
                _ => Subject::ProposedKeyId(&p.id),
            },
            user: login.map(|login| UserProof {
                login,
                proof: &p.first,
            }),
        }),
        1 => Message::ProvisionResponse(ProvisionResponse {
            key_id: &p.id,
            counter: p.narrow,
            not_after: p.wide,
            agent_id: &p.agent,
            secret_key: SecretBytes(&p.first),
        }),
        2 => Message::RegisterHello(RegisterHello {
            key_id: &p.id,
            sequence: p.wide,
            device_nonce: &p.first,
            login,
        }),
        3 => Message::RegisterChallenge(RegisterChallenge {
            registrar_nonce: &p.first,
        }),
        4 => Message::RegisterProof(RegisterProof {
            proof: &p.first,
            pin_signature: p.third.as_ref(),
        }),
        5 => Message::RegisterDirect(RegisterDirect {
            freshness: if p.subject == 0 {
                Freshness::Time(p.wide)
            } else {
                Freshness::Sequence(p.wide)
            },
            key_id: &p.id,
            device_nonce: &p.first,
            login,
            proof: &p.second,
            // A PIN signature comes exactly with a login.
            pin_signature: login.map(|_| p.third.as_ref().unwrap_or(&p.first)),
        }),
        6 => Message::RegisterAccept(RegisterAccept {
            registrar_nonce: &p.first,
            not_after: p.wide,
            registrar_proof: &p.second,
        }),
        7 => Message::KeyRequest(KeyRequest {
            request_id: p.narrow,
            key_id: &p.id,
            service: &p.agent,
            login,
        }),
        8 => Message::KeyResponse(KeyResponse {
            request_id: p.narrow,
            not_after: p.wide,
            service_key: SecretBytes(&p.first),
            pin_key: p.third.as_ref().map(SecretBytes),
        }),
        9 => Message::KeyRefusal(KeyRefusal {
            request_id: p.narrow,
            outcome: p.outcome,
        }),
        _ => Message::Refusal(Refusal { outcome: p.outcome }),
    }
}

proptest! {
    #[test]
    fn decode_inverts_encode(p in parts()) {
        let message = view(&p);
        let bytes = message.to_vec().unwrap();
        prop_assert!(bytes.len() <= MAX_MESSAGE_LEN);
        prop_assert_eq!(Message::decode(&bytes).unwrap(), message);
    }

    #[test]
    fn every_strict_prefix_is_refused(p in parts()) {
        let bytes = view(&p).to_vec().unwrap();
        for end in 0..bytes.len() {
            prop_assert!(Message::decode(&bytes[..end]).is_err());
        }
    }

    #[test]
    fn trailing_byte_is_refused(p in parts(), extra in any::<u8>()) {
        let mut bytes = view(&p).to_vec().unwrap();
        bytes.push(extra);
        let refused = matches!(Message::decode(&bytes), Err(Error::TrailingBytes { .. }));
        prop_assert!(refused);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_reencode_identically(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(message) = Message::decode(&bytes) {
            prop_assert_eq!(message.to_vec().unwrap(), bytes);
        }
    }

    #[test]
    fn mutated_messages_never_panic_and_reencode_identically(
        p in parts(),
        at in any::<prop::sample::Index>(),
        xor in 1u8..,
    ) {
        let mut bytes = view(&p).to_vec().unwrap();
        let i = at.index(bytes.len());
        bytes[i] ^= xor;
        if let Ok(message) = Message::decode(&bytes) {
            prop_assert_eq!(message.to_vec().unwrap(), bytes);
        }
    }
}

#[test]
fn provision_request_layout_matches_the_specification() {
    // Written by hand from docs/protocol.md section 5, not produced by the encoder.
    let expected = [
        0x01, 0x01, // version 1, type provision request
        0x01, 0x00, 0x05, 0x01, b'0', b'1', b'2', b'3', // subject kind 1, lp(extension 0123)
        0x00, 0x02, b'j', b'o', // lp(user login)
        0x00, 0x20, // lp(pin proof) length 32, then 32 bytes of 0x5a
    ];
    let proof = [0x5a; 32];
    let message = Message::ProvisionRequest(ProvisionRequest {
        subject: Subject::DeviceId(b"\x010123"),
        user: Some(UserProof {
            login: b"jo",
            proof: &proof,
        }),
    });
    let mut want = expected.to_vec();
    want.extend_from_slice(&proof);
    assert_eq!(message.to_vec().unwrap(), want);
}

#[test]
fn refusal_layout_matches_the_specification() {
    let message = Message::Refusal(Refusal { outcome: 306 });
    assert_eq!(message.to_vec().unwrap(), vec![0x01, 0x7f, 0x01, 0x32]);
}

#[test]
fn unknown_type_and_version_are_named() {
    assert_eq!(
        Message::decode(&[0x01, 0x55]),
        Err(Error::UnknownType {
            what: "message",
            value: 0x55
        })
    );
    assert_eq!(
        Message::decode(&[0x02, 0x7f, 0x01, 0x32]),
        Err(Error::UnsupportedVersion {
            what: "message",
            version: 2
        })
    );
}

#[test]
fn field_bounds_are_named() {
    let mut bytes = vec![0x01, 0x10, 0x01, 0x00];
    bytes.extend_from_slice(&[0u8; 256]);
    assert_eq!(
        Message::decode(&bytes),
        Err(Error::TooLong {
            field: "key id",
            max: 255,
            actual: 256
        })
    );
    let short_nonce = [0x01, 0x11, 0x00, 0x01, 0xaa];
    assert_eq!(
        Message::decode(&short_nonce),
        Err(Error::WrongLength {
            field: "registrar nonce",
            expected: 32,
            actual: 1
        })
    );
    let not_outcome = [0x01, 0x7f, 0x00, 0x64];
    assert_eq!(
        Message::decode(&not_outcome),
        Err(Error::OutOfRange {
            field: "outcome code",
            min: 300,
            max: 399
        })
    );
}

#[test]
fn encoding_an_oversized_field_fails_and_leaves_the_buffer() {
    let long = [0u8; 300];
    let mut out = vec![9];
    let message = Message::KeyRequest(KeyRequest {
        request_id: 1,
        key_id: &long,
        service: b"sip",
        login: None,
    });
    assert_eq!(
        message.encode(&mut out),
        Err(Error::TooLong {
            field: "key id",
            max: 255,
            actual: 300
        })
    );
    assert_eq!(out, vec![9]);
}

#[test]
fn secrets_are_redacted_in_debug() {
    let key = [0xab; 32];
    let message = Message::KeyResponse(KeyResponse {
        request_id: 7,
        not_after: 9,
        service_key: SecretBytes(&key),
        pin_key: None,
    });
    let shown = alloc::format!("{message:?}");
    assert!(shown.contains("redacted"));
    assert!(!shown.contains("171"));
}
