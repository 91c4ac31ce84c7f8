//! The key schedule's test vectors: tests/vectors/derivations.json.
//!
//! This test rebuilds the file from the code and fails if the committed file differs. To
//! rewrite it after a deliberate change of the key schedule, run
//! `KEYPROV_WRITE_VECTORS=1 cargo test --test derivation_vectors`, then check the new file with
//! the independent implementation: `python3 tests/python/check_derivations.py`. A property test
//! also compares the whole schedule, on random inputs up to 1024 bytes, with a second
//! implementation over the `hmac` crate.

use std::fmt::Write as _;

use keyprov::keys::{MasterKeySchedule, SessionContext};
use keyprov::secret::{MasterKey, Pin, PinVerifier};

const ABOUT: &str = "keyprov key schedule test vectors, see docs/protocol.md sections 4 and 10; \
                     byte strings in hex, epoch as a number, pin and digest_password as text";
const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/derivations.json"
);

/// The inputs of one vector.
struct Inputs {
    name: &'static str,
    seed: Vec<u8>,
    enterprise_id: Vec<u8>,
    epoch: u16,
    key_id: Vec<u8>,
    service_id: Vec<u8>,
    transcript: Vec<u8>,
    pin: &'static str,
    salt: Vec<u8>,
    pin_message: Vec<u8>,
    device_nonce: Vec<u8>,
    registrar_nonce: Vec<u8>,
}

/// `len` bytes that differ per `tag`, so no two inputs are equal by accident.
fn pattern(tag: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(tag))
        .collect()
}

fn all_inputs() -> Vec<Inputs> {
    vec![
        Inputs {
            name: "typical sizes",
            seed: pattern(1, 32),
            enterprise_id: b"example.com".to_vec(),
            epoch: 1,
            key_id: pattern(2, 24),
            service_id: b"sip.example.com".to_vec(),
            transcript: pattern(3, 200),
            pin: "0042",
            salt: pattern(24, 16),
            pin_message: b"provisioning request".to_vec(),
            device_nonce: pattern(4, 16),
            registrar_nonce: pattern(5, 16),
        },
        Inputs {
            name: "inputs longer than 255 bytes",
            seed: pattern(6, 300),
            enterprise_id: pattern(7, 256),
            epoch: 65535,
            key_id: pattern(8, 300),
            service_id: pattern(9, 1024),
            transcript: pattern(10, 1000),
            pin: "1234567890123456",
            salt: pattern(25, 300),
            pin_message: pattern(11, 300),
            device_nonce: pattern(12, 1024),
            registrar_nonce: pattern(13, 257),
        },
        Inputs {
            name: "fast path boundaries",
            seed: pattern(14, 48),
            enterprise_id: b"e".to_vec(),
            epoch: 0,
            key_id: pattern(15, 54),
            service_id: b"s".to_vec(),
            transcript: Vec::new(),
            pin: "0000",
            salt: pattern(26, 64),
            pin_message: Vec::new(),
            device_nonce: pattern(16, 64),
            registrar_nonce: pattern(17, 32),
        },
        Inputs {
            name: "one byte past the fast path",
            seed: pattern(18, 64),
            enterprise_id: "entreprise.example".as_bytes().to_vec(),
            epoch: 2,
            key_id: pattern(19, 55),
            service_id: b"registrar.entreprise.example".to_vec(),
            transcript: pattern(20, 55),
            pin: "00000000",
            salt: pattern(27, 65),
            pin_message: pattern(21, 56),
            device_nonce: pattern(22, 16),
            registrar_nonce: pattern(23, 1024),
        },
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// Computes every derivation of one vector and writes it as a JSON object.
fn vector_json(inputs: &Inputs) -> String {
    let master = MasterKey::from_seed(&inputs.seed, &inputs.enterprise_id, inputs.epoch).unwrap();
    let device = MasterKeySchedule::new(&master)
        .device_key(&inputs.key_id)
        .unwrap();
    let auth = device.authentication_key();
    let service = auth.service_key(&inputs.service_id).unwrap();
    let pin = Pin::new(inputs.pin).unwrap();
    let verifier = PinVerifier::from_pin(&inputs.salt, &pin);
    let pin_key = device.pin_signing_key(&pin, &inputs.salt);
    let context = SessionContext {
        key_id: &inputs.key_id,
        service_id: &inputs.service_id,
        device_nonce: &inputs.device_nonce,
        registrar_nonce: &inputs.registrar_nonce,
    };
    let sessions = service.session_keys(&context).unwrap();
    let fields: [(&str, String); 23] = [
        ("name", inputs.name.to_owned()),
        ("seed", hex(&inputs.seed)),
        ("enterprise_id", hex(&inputs.enterprise_id)),
        ("epoch", inputs.epoch.to_string()),
        ("master_key", hex(master.expose_secret())),
        ("key_id", hex(&inputs.key_id)),
        ("device_key", hex(device.expose_secret())),
        ("authentication_key", hex(auth.expose_secret())),
        ("service_id", hex(&inputs.service_id)),
        ("service_key", hex(service.expose_secret())),
        ("transcript", hex(&inputs.transcript)),
        (
            "transcript_mac",
            hex(&service.mac_key().mac(&inputs.transcript)),
        ),
        ("pin", inputs.pin.to_owned()),
        ("salt", hex(&inputs.salt)),
        ("pin_verifier", hex(verifier.expose_secret())),
        ("pin_signing_key", hex(pin_key.expose_secret())),
        ("pin_message", hex(&inputs.pin_message)),
        ("pin_signature", hex(&pin_key.sign(&inputs.pin_message))),
        ("device_nonce", hex(&inputs.device_nonce)),
        ("registrar_nonce", hex(&inputs.registrar_nonce)),
        (
            "session_key_device_to_registrar",
            hex(sessions.device_to_registrar.expose_secret()),
        ),
        (
            "session_key_registrar_to_device",
            hex(sessions.registrar_to_device.expose_secret()),
        ),
        (
            "digest_password",
            service
                .digest_password()
                .expose_secret_password()
                .to_owned(),
        ),
    ];
    let body: Vec<String> = fields
        .iter()
        .map(|(name, value)| match *name {
            "epoch" => format!("      \"{name}\": {value}"),
            _ => format!("      \"{name}\": \"{value}\""),
        })
        .collect();
    format!("    {{\n{}\n    }}", body.join(",\n"))
}

fn derivations_json() -> String {
    let vectors: Vec<String> = all_inputs().iter().map(vector_json).collect();
    format!(
        "{{\n  \"about\": \"{ABOUT}\",\n  \"vectors\": [\n{}\n  ]\n}}\n",
        vectors.join(",\n")
    )
}

#[test]
fn committed_vectors_match_the_code() {
    let produced = derivations_json();
    if std::env::var_os("KEYPROV_WRITE_VECTORS").is_some() {
        std::fs::write(PATH, &produced).unwrap();
    }
    let committed = std::fs::read_to_string(PATH).unwrap_or_default();
    assert!(
        committed == produced,
        "tests/vectors/derivations.json differs from what the code derives; if the key schedule \
         changed on purpose, rerun with KEYPROV_WRITE_VECTORS=1 and check with \
         tests/python/check_derivations.py"
    );
}

#[test]
fn vectors_are_deterministic() {
    assert_eq!(derivations_json(), derivations_json());
}

/// The key schedule again, written from docs/protocol.md section 4 over the `hmac` crate.
mod reference {
    use hmac::{KeyInit, Mac};

    pub(super) fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    pub(super) fn derive(key: &[u8], label: &str, fields: &[&[u8]]) -> [u8; 32] {
        let mut message = Vec::new();
        for field in std::iter::once(&label.as_bytes()).chain(fields) {
            message.extend_from_slice(&(field.len() as u16).to_be_bytes());
            message.extend_from_slice(field);
        }
        hmac(key, &[&message])
    }
}

fn bytes(min: usize, max: usize) -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    proptest::collection::vec(proptest::arbitrary::any::<u8>(), min..=max)
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(64))]

    #[test]
    fn schedule_agrees_with_a_reference_over_the_hmac_crate(
        master in proptest::array::uniform32(0u8..),
        key_id in bytes(1, 1024),
        service_id in bytes(1, 1024),
        pin in "[0-9]{4,16}",
        salt in bytes(0, 200),
        nonces in (bytes(16, 400), bytes(16, 400)),
        message in bytes(0, 300),
    ) {
        use reference::{derive, hmac};
        let schedule = MasterKeySchedule::new(&MasterKey::from_bytes(&master, 9).unwrap());
        let device = schedule.device_key(&key_id).unwrap();
        let kd = derive(&master, "keyprov v1 device key", &[]);
        let device_ref = hmac(&kd, &[&[1], &key_id]);
        proptest::prop_assert_eq!(device.expose_secret(), &device_ref);

        let auth_ref = derive(&device_ref, "keyprov v1 authentication key", &[]);
        let service = device.authentication_key().service_key(&service_id).unwrap();
        let service_ref = derive(&auth_ref, "keyprov v1 service key", &[&service_id]);
        proptest::prop_assert_eq!(service.expose_secret(), &service_ref);

        let mac_ref = derive(&service_ref, "keyprov v1 service mac key", &[]);
        proptest::prop_assert_eq!(service.mac_key().mac(&message), hmac(&mac_ref, &[&message]));

        let pin_key = device.pin_signing_key(&Pin::new(&pin).unwrap(), &salt);
        let verifier_ref = derive(&salt, "keyprov v1 pin verifier", &[pin.as_bytes()]);
        let pin_ref = derive(&device_ref, "keyprov v1 pin verifier signing key", &[&verifier_ref]);
        proptest::prop_assert_eq!(pin_key.sign(&message), hmac(&pin_ref, &[&message]));

        let context = SessionContext {
            key_id: &key_id,
            service_id: &service_id,
            device_nonce: &nonces.0,
            registrar_nonce: &nonces.1,
        };
        let fields: [&[u8]; 4] = [&key_id, &service_id, &nonces.0, &nonces.1];
        let sessions = service.session_keys(&context).unwrap();
        let d2r = derive(&service_ref, "keyprov v1 session key device to registrar", &fields);
        let r2d = derive(&service_ref, "keyprov v1 session key registrar to device", &fields);
        proptest::prop_assert_eq!(sessions.device_to_registrar.expose_secret(), &d2r);
        proptest::prop_assert_eq!(sessions.registrar_to_device.expose_secret(), &r2d);
    }
}
