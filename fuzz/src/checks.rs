//! The bodies of every fuzz target, as plain functions.
//!
//! Each function takes the fuzzer's bytes and panics when an invariant breaks: a decoder that
//! accepts a non-canonical encoding, a round trip that does not come back, an allocation out of
//! proportion to the input, a state machine that reports success without a valid proof. The
//! same functions run under libFuzzer (`fuzz/fuzz_targets`) and, on stable Rust, in the root
//! crate's `tests/fuzz_corpus_replay.rs`, which replays every committed corpus file through
//! them. This file therefore depends on nothing but `keyprov`, `std` and the allocator meter.

use std::str::FromStr;

use keyprov::keyid::{AgentId, DeviceId, DeviceIdType, KeyId, UnstructuredValue, ValueSource};
use keyprov::wire::{Message, MessageType};

use crate::meter;

/// The body of a fuzz target: panics when an invariant breaks.
pub type Check = fn(&[u8]);

/// Every target: its name (the directory of its corpus) and its body.
pub const TARGETS: &[(&str, Check)] = &[
    ("keyid_binary", keyid_binary),
    ("keyid_text", keyid_text),
    ("keyid_build", keyid_build),
    ("device_id_text", device_id_text),
    ("wire_message", wire_message),
    ("wire_provision_request", wire_provision_request),
    ("wire_provision_response", wire_provision_response),
    ("wire_register_hello", wire_register_hello),
    ("wire_register_challenge", wire_register_challenge),
    ("wire_register_proof", wire_register_proof),
    ("wire_register_direct", wire_register_direct),
    ("wire_register_accept", wire_register_accept),
    ("wire_key_request", wire_key_request),
    ("wire_key_response", wire_key_response),
    ("wire_key_refusal", wire_key_refusal),
    ("wire_refusal", wire_refusal),
];

/// The body of the target called `name`.
pub fn target(name: &str) -> Option<Check> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

// ---- allocation bounds ----

/// Bytes any call may allocate whatever its input: small fixed buffers.
const ALLOC_SLACK: usize = 1024;
/// Bytes a call may allocate per input byte (a copy, an owned form, a growing buffer).
const ALLOC_PER_INPUT_BYTE: usize = 8;

/// Runs `f` and checks that no single allocation and no peak exceeds the linear bound for an
/// input of `input_len` bytes: a length field trusted before it was checked against the input
/// would ask for far more.
fn within_bound<R>(what: &str, input_len: usize, f: impl FnOnce() -> R) -> R {
    let (result, usage) = meter::measure(f);
    let limit = ALLOC_SLACK + ALLOC_PER_INPUT_BYTE * input_len;
    assert!(
        usage.largest <= limit,
        "{what}: one allocation of {} > {limit}",
        usage.largest
    );
    assert!(
        usage.peak <= 4 * limit,
        "{what}: peak {} > {}",
        usage.peak,
        4 * limit
    );
    result
}

/// Runs `f` and checks that it allocated nothing at all.
fn without_allocation<R>(what: &str, f: impl FnOnce() -> R) -> R {
    let (result, usage) = meter::measure(f);
    assert_eq!(usage.largest, 0, "{what} allocated {} bytes", usage.largest);
    result
}

// ---- a reader of choices ----

/// Turns fuzz input into a sequence of choices; the same bytes always make the same choices,
/// and an exhausted input reads as zeros, so every input is a valid script.
pub struct Script<'a> {
    rest: &'a [u8],
}

impl<'a> Script<'a> {
    /// A script over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { rest: data }
    }

    /// The next byte, 0 once the input is exhausted.
    pub fn byte(&mut self) -> u8 {
        let Some((&first, rest)) = self.rest.split_first() else {
            return 0;
        };
        self.rest = rest;
        first
    }

    /// A choice among `n` options (`n` > 0).
    pub fn choose(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n
    }

    /// Four bytes, big-endian.
    pub fn u32(&mut self) -> u32 {
        (0..4).fold(0, |acc, _| (acc << 8) | u32::from(self.byte()))
    }

    /// A length byte then up to that many bytes (fewer when the input runs out).
    pub fn bytes(&mut self) -> &'a [u8] {
        let len = usize::from(self.byte()).min(self.rest.len());
        let (head, tail) = self.rest.split_at(len);
        self.rest = tail;
        head
    }

    /// Fixed-size bytes, zero-filled past the end of the input.
    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        out.iter_mut().for_each(|b| *b = self.byte());
        out
    }
}

// ---- key identifiers ----

/// Binary key identifiers: accepted bytes are canonical and agree with the text form.
pub fn keyid_binary(data: &[u8]) {
    let decoded = within_bound("KeyId::from_bytes", data.len(), || KeyId::from_bytes(data));
    let Ok(key_id) = decoded else { return };
    assert_eq!(key_id.to_bytes(), data, "binary key id not canonical");
    check_key_id(&key_id);
}

/// Text key identifiers: accepted text is canonical and agrees with the binary form.
pub fn keyid_text(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let decoded = within_bound("KeyId::from_str", data.len(), || KeyId::from_str(text));
    let Ok(key_id) = decoded else { return };
    assert_eq!(key_id.to_string(), text, "text key id not canonical");
    check_key_id(&key_id);
}

/// Key identifiers built through the constructors: both encodings come back to the same value.
pub fn keyid_build(data: &[u8]) {
    let mut script = Script::new(data);
    let Some(key_id) = build_key_id(&mut script) else {
        return;
    };
    check_key_id(&key_id);
    if let Ok(next) = key_id.successor() {
        assert_eq!(
            next.counter(),
            key_id.counter().map(|c| c + 1),
            "successor counter"
        );
        assert_eq!(next.device_id(), key_id.device_id(), "successor device");
        check_key_id(&next);
    }
}

fn build_key_id(script: &mut Script<'_>) -> Option<KeyId> {
    let epoch = u16::from_be_bytes(script.array());
    let agent = AgentId::new(std::str::from_utf8(script.bytes()).ok()?).ok()?;
    if script.byte() & 1 == 0 {
        let kind = DeviceIdType::ALL[script.choose(DeviceIdType::ALL.len())];
        let device = DeviceId::from_canonical(kind, script.bytes()).ok()?;
        Some(KeyId::structured(epoch, agent, device, script.u32()))
    } else {
        let source = ValueSource::from_code(script.byte() % 4)?;
        let value = UnstructuredValue::new(source, script.bytes()).ok()?;
        Some(KeyId::unstructured(epoch, agent, value))
    }
}

/// Every encoding of a valid key identifier decodes back to it, within the documented sizes.
fn check_key_id(key_id: &KeyId) {
    let bytes = key_id.to_bytes();
    assert!(
        bytes.len() <= KeyId::MAX_LEN,
        "binary key id longer than MAX_LEN"
    );
    assert_eq!(bytes.len(), key_id.encoded_len(), "encoded_len");
    assert_eq!(
        KeyId::from_bytes(&bytes).as_ref(),
        Ok(key_id),
        "binary round trip"
    );

    let mut buffer = [0u8; KeyId::MAX_LEN];
    assert_eq!(
        key_id.write_to(&mut buffer),
        Ok(bytes.len()),
        "write_to length"
    );
    assert_eq!(&buffer[..bytes.len()], &bytes[..], "write_to bytes");
    if let Some(short) = buffer.get_mut(..bytes.len() - 1) {
        assert!(
            key_id.write_to(short).is_err(),
            "write_to into a short buffer"
        );
    }

    let text = key_id.to_string();
    assert_eq!(text.len(), key_id.text_len(), "text_len");
    assert!(
        text.len() <= keyprov::keyid::MAX_TEXT_LEN,
        "text longer than MAX_TEXT_LEN"
    );
    assert_eq!(
        KeyId::from_str(&text).as_ref(),
        Ok(key_id),
        "text round trip"
    );
}

/// Device identifiers in their typed text form (`ext:1234`). Several spellings are accepted
/// (`sn:abc` is `sn:ABC`), but the text written back is canonical: it parses to the same
/// identifier and is written back unchanged.
pub fn device_id_text(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let decoded = within_bound("DeviceId::from_str", data.len(), || {
        DeviceId::from_str(text)
    });
    let Ok(device) = decoded else { return };
    let canonical = device.to_string();
    let reparsed = DeviceId::from_str(&canonical).expect("canonical device id text parses");
    assert_eq!(reparsed, device, "device id text round trip");
    assert_eq!(
        reparsed.to_string(),
        canonical,
        "canonical device id text is a fixed point"
    );
    let again = DeviceId::from_canonical(device.kind(), device.value_bytes());
    assert_eq!(again.as_ref(), Ok(&device), "canonical value round trip");
}

// ---- wire messages ----

/// Any message, header included.
pub fn wire_message(data: &[u8]) {
    check_message(data);
}

fn wire_body(kind: MessageType, body: &[u8]) {
    let mut message = Vec::with_capacity(body.len() + 2);
    message.extend_from_slice(&[keyprov::wire::VERSION, kind as u8]);
    message.extend_from_slice(body);
    check_message(&message);
}

/// A message decodes without allocating, re-encodes to the same bytes, and decodes again to
/// the same value.
fn check_message(bytes: &[u8]) {
    let Ok(message) = without_allocation("Message::decode", || Message::decode(bytes)) else {
        return;
    };
    let encoded = within_bound("Message::encode", bytes.len(), || message.to_vec());
    let encoded = encoded.expect("a decoded message encodes");
    assert_eq!(
        encoded,
        bytes,
        "message not canonical: {:?}",
        message.message_type()
    );
    assert_eq!(
        Message::decode(&encoded),
        Ok(message.clone()),
        "decode(encode(m)) != m"
    );
    assert_eq!(bytes[1], message.message_type() as u8, "type byte");
}

macro_rules! wire_targets {
    ($($name:ident => $kind:ident),* $(,)?) => {$(
        #[doc = concat!("The body of a `", stringify!($kind), "` message.")]
        pub fn $name(data: &[u8]) {
            wire_body(MessageType::$kind, data);
        }
    )*};
}

wire_targets! {
    wire_provision_request => ProvisionRequest,
    wire_provision_response => ProvisionResponse,
    wire_register_hello => RegisterHello,
    wire_register_challenge => RegisterChallenge,
    wire_register_proof => RegisterProof,
    wire_register_direct => RegisterDirect,
    wire_register_accept => RegisterAccept,
    wire_key_request => KeyRequest,
    wire_key_response => KeyResponse,
    wire_key_refusal => KeyRefusal,
    wire_refusal => Refusal,
}
