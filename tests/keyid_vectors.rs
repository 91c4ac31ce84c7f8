//! Key identifier vectors from `tests/vectors/keyid.json`, whose outputs come from the
//! independent Python implementation `tests/python/check_keyid.py`.

use std::str::FromStr;

use keyprov::keyid::{UnstructuredValue, ValueSource};
use keyprov::{AgentId, DeviceId, Error, KeyId};
use serde_json::Value;

fn vectors() -> Value {
    let text = include_str!("vectors/keyid.json");
    serde_json::from_str(text).expect("keyid.json is valid json")
}

fn list<'a>(data: &'a Value, name: &str) -> &'a Vec<Value> {
    data[name]
        .as_array()
        .unwrap_or_else(|| panic!("keyid.json has a list {name}"))
}

fn text<'a>(vector: &'a Value, name: &str) -> &'a str {
    vector[name]
        .as_str()
        .unwrap_or_else(|| panic!("{vector}: missing string {name}"))
}

fn number(vector: &Value, name: &str) -> u64 {
    vector[name]
        .as_u64()
        .unwrap_or_else(|| panic!("{vector}: missing number {name}"))
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex in keyid.json"))
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn source(name: &str) -> ValueSource {
    match name {
        "random" => ValueSource::Random,
        "key-database" => ValueSource::KeyDatabase,
        "hash" => ValueSource::Hash,
        other => panic!("unknown source {other}"),
    }
}

/// Builds the key identifier a valid vector describes, through the public constructors.
fn build(vector: &Value) -> KeyId {
    let epoch = u16::try_from(number(vector, "epoch")).expect("epoch fits u16");
    let agent = AgentId::new(text(vector, "agent")).expect("agent accepted");
    if vector.get("device").is_some() {
        let device = DeviceId::from_str(text(vector, "device")).expect("device accepted");
        let counter = u32::try_from(number(vector, "counter")).expect("counter fits u32");
        return KeyId::structured(epoch, agent, device, counter);
    }
    let value = &vector["unstructured"];
    let unstructured =
        UnstructuredValue::new(source(text(value, "source")), &hex(text(value, "value")))
            .expect("unstructured value accepted");
    KeyId::unstructured(epoch, agent, unstructured)
}

#[test]
fn valid_vectors_encode_to_the_expected_bytes_and_text() {
    let data = vectors();
    for vector in list(&data, "valid") {
        let name = text(vector, "name");
        let key_id = build(vector);
        let binary = key_id.to_bytes();
        assert_eq!(to_hex(&binary), text(vector, "binary"), "{name}: binary");
        assert_eq!(key_id.to_string(), text(vector, "text"), "{name}: text");
        assert_eq!(key_id.encoded_len(), binary.len(), "{name}: encoded_len");
        assert_eq!(
            key_id.text_len(),
            key_id.to_string().len(),
            "{name}: text_len"
        );
        assert!(
            binary.len() <= keyprov::keyid::MAX_LEN,
            "{name}: within MAX_LEN"
        );
    }
}

#[test]
fn valid_vectors_decode_to_the_same_key_id() {
    let data = vectors();
    for vector in list(&data, "valid") {
        let name = text(vector, "name");
        let key_id = build(vector);
        let from_binary = KeyId::from_bytes(&hex(text(vector, "binary"))).expect(name);
        let from_text = KeyId::from_str(text(vector, "text")).expect(name);
        assert_eq!(from_binary, key_id, "{name}: from binary");
        assert_eq!(from_text, key_id, "{name}: from text");
        assert_eq!(
            key_id.epoch(),
            u16::try_from(number(vector, "epoch")).unwrap()
        );
        assert_eq!(key_id.agent_id().as_str(), text(vector, "agent"));
        assert_eq!(
            key_id.counter().map(u64::from),
            vector["counter"].as_u64(),
            "{name}"
        );
        assert_eq!(
            key_id.is_structured(),
            vector.get("device").is_some(),
            "{name}"
        );
    }
}

#[test]
fn longest_vector_is_max_len() {
    let data = vectors();
    let longest = list(&data, "valid")
        .iter()
        .map(|v| text(v, "binary").len() / 2)
        .max();
    assert_eq!(longest, Some(KeyId::MAX_LEN));
    assert_eq!(keyprov::keyid::MAX_TEXT_LEN, 3 + 100);
}

#[test]
fn device_spellings_give_the_expected_value_and_canonical_text() {
    let data = vectors();
    for vector in list(&data, "device_spellings") {
        let input = text(vector, "input");
        let device = DeviceId::from_str(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(
            to_hex(device.value_bytes()),
            text(vector, "value"),
            "{input}"
        );
        assert_eq!(device.to_string(), text(vector, "canonical"), "{input}");
        assert_eq!(
            DeviceId::from_str(&device.to_string()),
            Ok(device),
            "{input}"
        );
    }
}

fn expect_code(result: Result<impl std::fmt::Debug, Error>, code: u64, label: &str) {
    match result {
        Ok(value) => panic!("{label}: accepted as {value:?}, expected error {code}"),
        Err(error) => assert_eq!(u64::from(error.code()), code, "{label}: got {error}"),
    }
}

#[test]
fn invalid_device_ids_are_refused_with_the_expected_code() {
    let data = vectors();
    for vector in list(&data, "invalid_device_ids") {
        let input = text(vector, "input");
        expect_code(DeviceId::from_str(input), number(vector, "error"), input);
    }
}

#[test]
fn invalid_binary_is_refused_with_the_expected_code() {
    let data = vectors();
    for vector in list(&data, "invalid_binary") {
        let bytes = hex(text(vector, "binary"));
        expect_code(
            KeyId::from_bytes(&bytes),
            number(vector, "error"),
            text(vector, "why"),
        );
    }
}

#[test]
fn invalid_text_is_refused_with_the_expected_code() {
    let data = vectors();
    for vector in list(&data, "invalid_text") {
        let input = text(vector, "text");
        expect_code(
            KeyId::from_str(input),
            number(vector, "error"),
            text(vector, "why"),
        );
    }
}

#[test]
fn spellings_of_one_identity_share_every_byte() {
    let data = vectors();
    let valid = list(&data, "valid");
    let binary_of = |name: &str| {
        let vector = valid.iter().find(|v| text(v, "name") == name).expect(name);
        text(vector, "binary").to_owned()
    };
    assert_eq!(
        binary_of("mac colon mixed case"),
        binary_of("mac cisco dots")
    );
    assert_eq!(
        binary_of("ipv6 full uppercase"),
        binary_of("ipv6 compressed")
    );
    assert_eq!(
        binary_of("serial lowercase folded"),
        binary_of("serial uppercase")
    );
    assert_ne!(
        binary_of("extension leading zero"),
        binary_of("extension without leading zero")
    );
}
