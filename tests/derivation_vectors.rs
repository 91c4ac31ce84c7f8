//! The key schedule's test vectors: tests/vectors/derivations.json.
//!
//! This test rebuilds the file from the code and fails if the committed file differs. To
//! rewrite it after a deliberate change of the key schedule, run
//! `KEYPROV_WRITE_VECTORS=1 cargo test --test derivation_vectors`, then check the new file with
//! the independent implementation: `python3 tests/python/check_derivations.py`.

use std::fmt::Write as _;

use keyprov::keys::{MasterKeySchedule, SessionContext};
use keyprov::secret::{MasterKey, Pin};

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
    let pin_key = device.pin_signing_key(&Pin::new(inputs.pin).unwrap());
    let context = SessionContext {
        key_id: &inputs.key_id,
        service_id: &inputs.service_id,
        device_nonce: &inputs.device_nonce,
        registrar_nonce: &inputs.registrar_nonce,
    };
    let sessions = service.session_keys(&context).unwrap();
    let fields: [(&str, String); 21] = [
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
