//! The bodies of every fuzz target, as plain functions.
//!
//! Each function takes the fuzzer's bytes and panics when an invariant breaks: a decoder that
//! accepts a non-canonical encoding, a round trip that does not come back, an allocation out of
//! proportion to the input, a state machine that reports success without a valid proof. The
//! same functions run under libFuzzer (`fuzz/fuzz_targets`) and, on stable Rust, in the root
//! crate's `tests/fuzz_corpus_replay.rs`, which replays every committed corpus file through
//! them. This file therefore depends on nothing but `keyprov`, `std` and the allocator meter.

use std::collections::VecDeque;
use std::str::FromStr;

use keyprov::Handle;
use keyprov::agent::{
    AgentConfig, Event as AgentEvent, KeyCheck, KeyService, KeyStatus,
    Provisioning as AgentProvisioning, UserRecord,
};
use keyprov::device::{
    AgentSession, Credentials as DeviceCredentials, Provisioning as DeviceProvisioning,
    ProvisioningConfig, Subject as ProvisioningSubject,
};
use keyprov::device::{Event as DeviceEvent, Registration, RegistrationConfig, RegistrationMode};
use keyprov::digest::header::header_text;
use keyprov::digest::{
    AuthenticationInfo, Challenge, Client as DigestClient, ClientCredential, ClientPolicy,
    CredentialLookup, Credentials, Outcome as DigestOutcome, Registrar as DigestRegistrar,
    RegistrarPolicy, Request as DigestRequest, StoredCredential,
};
use keyprov::keyid::{AgentId, DeviceId, DeviceIdType, KeyId, UnstructuredValue, ValueSource};
use keyprov::keys::{MasterKeySchedule, MasterKeyring, SessionKeys};
use keyprov::registrar::{
    Event as RegistrarEvent, FetchedKey, Registrar, RegistrarConfig, Session,
};
use keyprov::secret::{DeviceSecretKey, MasterKey, Pin, ServiceKey};
use keyprov::wire::{
    KeyRequest, Message, MessageType, ProvisionRequest, ProvisionResponse, SecretBytes,
    Subject as WireSubject, UserProof,
};

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
    ("digest_challenge", digest_challenge),
    ("digest_challenges", digest_challenges),
    ("digest_credentials", digest_credentials),
    ("digest_authentication_info", digest_authentication_info),
    ("role_registrar", role_registrar),
    ("role_agent", role_agent),
    ("role_device", role_device),
    ("digest_exchange", digest_exchange),
];

/// The body of the target called `name`.
pub fn target(name: &str) -> Option<Check> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

// ---- allocation bounds ----

/// Bytes any call may allocate whatever its input: fixed buffers and structures bounded by a
/// constant, such as the vector of at most 32 Digest parameters (48 bytes each), which grows
/// to 64 slots when the 33rd is read and refused.
const ALLOC_SLACK: usize = 4096;
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

    /// True once every byte was read.
    pub fn is_exhausted(&self) -> bool {
        self.rest.is_empty()
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

// ---- SIP Digest headers ----

/// Parsed header values are written back in one canonical form: the written text parses to
/// the same value and is written back unchanged.
macro_rules! digest_round_trip {
    ($name:ident, $kind:ty, $what:literal) => {
        #[doc = concat!("One ", $what, " header value: bounded allocation, canonical writing.")]
        pub fn $name(data: &[u8]) {
            let Ok(text) = header_text(data) else { return };
            let parsed = within_bound($what, data.len(), || <$kind>::parse(text));
            let Ok(value) = parsed else { return };
            check_header_round_trip(&value, <$kind>::parse, <$kind>::to_header_value);
        }
    };
}

digest_round_trip!(digest_challenge, Challenge, "www-authenticate");
digest_round_trip!(digest_credentials, Credentials, "authorization");
digest_round_trip!(
    digest_authentication_info,
    AuthenticationInfo,
    "authentication-info"
);

fn check_header_round_trip<T: PartialEq + core::fmt::Debug>(
    value: &T,
    parse: fn(&str) -> Result<T, keyprov::Error>,
    write: fn(&T) -> Result<String, keyprov::Error>,
) {
    let Ok(written) = write(value) else { return };
    let again = parse(&written).unwrap_or_else(|e| panic!("written {written:?} fails: {e}"));
    assert_eq!(
        &again, value,
        "written header parses to another value: {written:?}"
    );
    let rewritten = write(&again).expect("a value written once is written again");
    assert_eq!(rewritten, written, "header writing is not a fixed point");
}

/// Several WWW-Authenticate values (split at newlines), Digest challenges among others.
pub fn digest_challenges(data: &[u8]) {
    let Ok(text) = header_text(data) else { return };
    let parsed = within_bound("www-authenticate list", data.len(), || {
        Challenge::parse_all(text.split('\n'))
    });
    let Ok(challenges) = parsed else { return };
    assert!(
        challenges.len() <= keyprov::digest::MAX_CHALLENGES,
        "too many challenges read"
    );
    for challenge in &challenges {
        check_header_round_trip(challenge, Challenge::parse, Challenge::to_header_value);
    }
}

// ---- roles ----

/// The service every registration in the role targets is for.
const SERVICE: &[u8] = b"sip.example.com";
/// Steps a role target takes at most, whatever the input length.
const MAX_STEPS: usize = 64;

/// Nonces for the machines: distinct and deterministic. The fuzz input steers what the
/// machines are fed, not their randomness, so a replayed corpus file replays exactly.
pub struct CountingRng(u64);

impl rand_core::TryRng for CountingRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        self.try_next_u64().map(|v| v as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 += 1;
        Ok(self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let word = self.try_next_u64()?.to_be_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for CountingRng {}

/// The one device the registrar targets know, its keys, and a forger's key for it.
struct Fleet {
    key_id: KeyId,
    device_key: DeviceSecretKey,
    service_key: ServiceKey,
    forged_key: DeviceSecretKey,
}

impl Fleet {
    fn new() -> Self {
        let master = MasterKey::from_seed(&[0x5e; 32], b"fuzz.example", 1).expect("valid seed");
        let agent = AgentId::new("agent-1").expect("valid agent");
        let device = DeviceId::extension("4711").expect("valid extension");
        let key_id = KeyId::structured(1, agent, device, 7);
        let device_key = MasterKeySchedule::new(&master)
            .device_key_for(&key_id)
            .expect("epoch");
        let service_key = device_key
            .authentication_key()
            .service_key(SERVICE)
            .expect("service");
        let forged_key = DeviceSecretKey::from_bytes(&[0x66; 32]).expect("32 bytes");
        Self {
            key_id,
            device_key,
            service_key,
            forged_key,
        }
    }
}

fn registrar_config() -> RegistrarConfig {
    RegistrarConfig {
        service: SERVICE.to_vec(),
        challenge_lifetime: 30,
        clock_window: 60,
        registration_lifetime: 3600,
        key_cache_capacity: 16,
        replay_cache_capacity: 64,
    }
}

/// What the oracle remembers across attempts.
#[derive(Default)]
struct Ledger {
    /// Every message the honest device ever sent.
    honest: Vec<Vec<u8>>,
    /// The proof-carrying message of every registration so far.
    registered_by: Vec<Vec<u8>>,
    /// Registrations the honest device reported.
    device_registrations: usize,
}

/// One registration attempt: the honest device, a forger claiming its key identifier, and the
/// registrar's session.
struct Attempt {
    device: Registration,
    forger: Registration,
    session: Session,
    to_registrar: VecDeque<Vec<u8>>,
    forged: VecDeque<Vec<u8>>,
    to_device: VecDeque<Vec<u8>>,
    /// Every message the session accepted, in order.
    accepted: Vec<Vec<u8>>,
    pending_fetch: Option<Handle>,
    registrar_keys: Option<SessionKeys>,
}

/// The registration conversation under attack. Whatever the order of deliveries, mutations,
/// forgeries, injected bytes, replays, timeouts and key answers: the registrar registers only
/// when every message its session accepted came unchanged from the honest device, never twice
/// on the same proof, and the honest device registers only after the registrar did, with the
/// same session keys.
pub fn role_registrar(data: &[u8]) {
    registration_outcome(data);
}

/// How many registrations the registrar and the honest device reported in one run of
/// [`role_registrar`]: the seeds must reach them, or the oracle is never asked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegistrationOutcome {
    /// Registrations the registrar reported.
    pub registrar: usize,
    /// Registrations the honest device reported.
    pub device: usize,
}

/// Runs [`role_registrar`] and reports how far the conversations got.
pub fn registration_outcome(data: &[u8]) -> RegistrationOutcome {
    let mut script = Script::new(data);
    let fleet = Fleet::new();
    let mut registrar = Registrar::new(registrar_config());
    let mut ledger = Ledger::default();
    let mut rng = CountingRng(0);
    let mut now = 1_800_000_000;
    let mut sequence = 1;
    let mut attempt = Attempt::start(&fleet, &mut script, now, sequence, &mut rng);
    attempt.drain(&fleet, &mut ledger);
    for _ in 0..MAX_STEPS {
        if script.is_exhausted() {
            break;
        }
        match RegistrarStep::read(&mut script) {
            RegistrarStep::NewAttempt => {
                sequence += 1;
                attempt = Attempt::start(&fleet, &mut script, now, sequence, &mut rng);
            }
            RegistrarStep::Advance(seconds) => {
                now += seconds;
                attempt.timeouts(now);
            }
            step => {
                let ctx = StepContext {
                    fleet: &fleet,
                    ledger: &ledger,
                    now,
                };
                attempt.apply(step, &ctx, &mut registrar, &mut rng, &mut script);
            }
        }
        attempt.drain(&fleet, &mut ledger);
    }
    RegistrationOutcome {
        registrar: ledger.registered_by.len(),
        device: ledger.device_registrations,
    }
}

/// One thing the attacker or the host does.
enum RegistrarStep {
    Honest,
    Mutated,
    Forged,
    Injected,
    Replayed,
    ToDevice,
    InjectedToDevice,
    Fetch,
    Advance(u64),
    NewAttempt,
}

impl RegistrarStep {
    fn read(script: &mut Script<'_>) -> Self {
        match script.choose(10) {
            0 => Self::Honest,
            1 => Self::Mutated,
            2 => Self::Forged,
            3 => Self::Injected,
            4 => Self::Replayed,
            5 => Self::ToDevice,
            6 => Self::InjectedToDevice,
            7 => Self::Fetch,
            8 => Self::Advance(u64::from(script.byte())),
            _ => Self::NewAttempt,
        }
    }
}

/// What a step may read besides the attempt.
struct StepContext<'a> {
    fleet: &'a Fleet,
    ledger: &'a Ledger,
    now: u64,
}

impl Attempt {
    fn start(
        fleet: &Fleet,
        script: &mut Script<'_>,
        now: u64,
        sequence: u64,
        rng: &mut CountingRng,
    ) -> Self {
        let modes = [
            RegistrationMode::ChallengeResponse,
            RegistrationMode::Time,
            RegistrationMode::Sequence,
        ];
        let config = RegistrationConfig {
            service: SERVICE.to_vec(),
            mode: modes[script.choose(modes.len())],
            sequence,
            user: None,
            response_timeout: 30,
        };
        let registration = |key: &DeviceSecretKey| {
            Registration::new(config.clone(), fleet.key_id, key).expect("valid configuration")
        };
        let mut attempt = Self {
            device: registration(&fleet.device_key),
            forger: registration(&fleet.forged_key),
            session: Session::new(),
            to_registrar: VecDeque::new(),
            forged: VecDeque::new(),
            to_device: VecDeque::new(),
            accepted: Vec::new(),
            pending_fetch: None,
            registrar_keys: None,
        };
        attempt
            .device
            .start(now, rng)
            .expect("a new registration starts");
        attempt
            .forger
            .start(now, rng)
            .expect("a new registration starts");
        attempt
    }

    fn timeouts(&mut self, now: u64) {
        let _ = self.device.handle_timeout(now);
        let _ = self.forger.handle_timeout(now);
        let _ = self.session.handle_timeout(now);
    }

    fn apply(
        &mut self,
        step: RegistrarStep,
        ctx: &StepContext<'_>,
        registrar: &mut Registrar,
        rng: &mut CountingRng,
        script: &mut Script<'_>,
    ) {
        let to_registrar = match step {
            RegistrarStep::Honest => self.to_registrar.pop_front(),
            RegistrarStep::Mutated => self.to_registrar.front().cloned().map(|mut bytes| {
                let at = script.choose(bytes.len());
                bytes[at] ^= script.byte() | 1;
                bytes
            }),
            RegistrarStep::Forged => self.forged.pop_front(),
            RegistrarStep::Injected => Some(script.bytes().to_vec()),
            RegistrarStep::Replayed if !ctx.ledger.honest.is_empty() => {
                Some(ctx.ledger.honest[script.choose(ctx.ledger.honest.len())].clone())
            }
            RegistrarStep::ToDevice => {
                if let Some(bytes) = self.to_device.pop_front() {
                    let _ = self.device.handle_message(&bytes);
                }
                None
            }
            RegistrarStep::InjectedToDevice => {
                let _ = self.device.handle_message(script.bytes());
                None
            }
            RegistrarStep::Fetch => {
                self.answer_fetch(ctx, registrar, rng, script);
                None
            }
            _ => None,
        };
        if let Some(bytes) = to_registrar {
            self.deliver(registrar, ctx.now, rng, bytes);
        }
    }

    fn deliver(
        &mut self,
        registrar: &mut Registrar,
        now: u64,
        rng: &mut CountingRng,
        bytes: Vec<u8>,
    ) {
        let failed_before = self.session.is_failed();
        let result = self.session.handle_message(registrar, now, rng, &bytes);
        if failed_before {
            assert_eq!(
                result,
                Err(keyprov::Error::Failed),
                "a failed session accepted input"
            );
        }
        if result.is_ok() {
            self.accepted.push(bytes);
        }
    }

    fn answer_fetch(
        &mut self,
        ctx: &StepContext<'_>,
        registrar: &mut Registrar,
        rng: &mut CountingRng,
        script: &mut Script<'_>,
    ) {
        let Some(handle) = self.pending_fetch.take() else {
            return;
        };
        let not_after = ctx.now + 3600;
        let fetched = |service_key| FetchedKey {
            service_key,
            not_after,
            pin_key: None,
        };
        let key = match script.choose(4) {
            0 | 1 => Ok(fetched(ctx.fleet.service_key.clone())),
            2 => Ok(fetched(
                ServiceKey::from_bytes(&[0x77; 32]).expect("32 bytes"),
            )),
            _ => Err(keyprov::Error::Revoked),
        };
        let _ = self
            .session
            .handle_key_result(registrar, ctx.now, rng, handle, key);
    }

    /// Moves every output to its queue and checks every event against the oracle.
    fn drain(&mut self, fleet: &Fleet, ledger: &mut Ledger) {
        while let Some(bytes) = self.device.poll_transmit() {
            ledger.honest.push(bytes.clone());
            self.to_registrar.push_back(bytes);
        }
        while let Some(bytes) = self.forger.poll_transmit() {
            self.forged.push_back(bytes);
        }
        while let Some(bytes) = self.session.poll_transmit() {
            check_message(&bytes);
            self.to_device.push_back(bytes);
        }
        while let Some(event) = self.session.poll_event() {
            self.registrar_event(event, fleet, ledger);
        }
        while let Some(event) = self.device.poll_event() {
            if let DeviceEvent::Registered {
                key_id,
                session_keys,
                ..
            } = event
            {
                assert_eq!(key_id, fleet.key_id, "device registered another key id");
                let registrar = self.registrar_keys.as_ref();
                let registrar = registrar.expect("device registered before the registrar did");
                assert!(
                    same_session_keys(registrar, &session_keys),
                    "session keys differ"
                );
                ledger.device_registrations += 1;
            }
        }
    }

    fn registrar_event(&mut self, event: RegistrarEvent, fleet: &Fleet, ledger: &mut Ledger) {
        match event {
            RegistrarEvent::FetchKey { handle, .. } => {
                assert!(
                    self.pending_fetch.is_none(),
                    "two fetches outstanding in one session"
                );
                self.pending_fetch = Some(handle);
            }
            RegistrarEvent::Registered {
                key_id,
                session_keys,
                ..
            } => {
                let forged = self.accepted.iter().find(|m| !ledger.honest.contains(m));
                assert!(
                    forged.is_none(),
                    "registered on a message the device never sent"
                );
                assert_eq!(key_id, fleet.key_id, "registered another key id");
                assert!(
                    self.registrar_keys.is_none(),
                    "one session registered twice"
                );
                let proof = self
                    .accepted
                    .last()
                    .expect("registered without a message")
                    .clone();
                assert!(
                    !ledger.registered_by.contains(&proof),
                    "a proof registered twice"
                );
                ledger.registered_by.push(proof);
                self.registrar_keys = Some(session_keys);
            }
            _ => {}
        }
    }
}

fn same_session_keys(a: &SessionKeys, b: &SessionKeys) -> bool {
    a.device_to_registrar == b.device_to_registrar && a.registrar_to_device == b.registrar_to_device
}

// ---- the agent ----

fn agent_config(require_pin: bool) -> AgentConfig {
    let master = MasterKey::from_seed(&[0x5e; 32], b"fuzz.example", 1).expect("valid seed");
    let mut keyring = MasterKeyring::new();
    keyring.insert(&master).expect("a fresh epoch");
    AgentConfig {
        agent_id: AgentId::new("agent-1").expect("valid agent"),
        keyring,
        key_lifetime: 86_400,
        require_pin,
        max_pin_failures: 5,
    }
}

/// A key request the agent's key service has seen, and what the host said about it.
struct KeyRequestSeen {
    request_id: u32,
    key_id: KeyId,
    service: Vec<u8>,
    handle: Option<Handle>,
    approved: bool,
}

/// What the agent oracle remembers.
#[derive(Default)]
struct AgentLedger {
    pending_user: Option<Handle>,
    pending_counter: Option<Handle>,
    /// The counter the host last reserved.
    reserved: Option<u32>,
    pin_accepted: bool,
    issued: Vec<(KeyId, u32)>,
    requests: Vec<KeyRequestSeen>,
    keys_sent: usize,
}

/// The agent's two machines fed arbitrary and well-formed requests and host answers. A key
/// is issued only for a counter the host reserved, and with `require_pin` only after a PIN
/// proof verified; the secret key sent is the one the master key derives for the key id sent;
/// a registrar gets a per-service key only for a request the host approved, and it is the key
/// the schedule derives for that key identifier and service.
pub fn role_agent(data: &[u8]) {
    agent_outcome(data);
}

/// Runs [`role_agent`] and reports how many keys the agent issued to devices and sent to
/// registrars: the seeds must get that far, or the oracle is never asked.
pub fn agent_outcome(data: &[u8]) -> (usize, usize) {
    let mut script = Script::new(data);
    let config = agent_config(script.byte() & 1 == 1);
    let mut rng = CountingRng(0);
    let mut provisioning = AgentProvisioning::new();
    let _ = provisioning.handle_connected(script.bytes());
    let mut service = KeyService::new([0x52; 32]);
    let mut ledger = AgentLedger::default();
    for _ in 0..MAX_STEPS {
        if script.is_exhausted() {
            break;
        }
        match script.choose(8) {
            0 => provision_message(&mut provisioning, &config, &mut rng, script.bytes()),
            1 => {
                let request = well_formed_provision_request(&mut script);
                provision_message(&mut provisioning, &config, &mut rng, &request);
            }
            2 => answer_user(&mut provisioning, &config, &mut ledger, &mut script),
            3 => answer_counter(&mut provisioning, &config, &mut ledger, &mut script),
            4 => key_service_message(&mut service, &config, &mut ledger, script.bytes()),
            5 => {
                let request = well_formed_key_request(&mut script);
                key_service_message(&mut service, &config, &mut ledger, &request);
            }
            6 => answer_check(&mut service, &config, &mut ledger, &mut script),
            _ => {
                let _ = provisioning.handle_closed();
            }
        }
        drain_agent(&mut provisioning, &mut service, &config, &mut ledger);
    }
    (ledger.issued.len(), ledger.keys_sent)
}

fn provision_message(
    machine: &mut AgentProvisioning,
    config: &AgentConfig,
    rng: &mut CountingRng,
    bytes: &[u8],
) {
    let failed_before = machine.is_failed();
    let result = machine.handle_message(config, rng, bytes);
    if failed_before {
        assert_eq!(
            result,
            Err(keyprov::Error::Failed),
            "a failed machine accepted input"
        );
    }
}

fn fuzz_key_id(script: &mut Script<'_>) -> KeyId {
    let agent = AgentId::new("agent-1").expect("valid agent");
    let digits = ["4711", "4712", "0815"][script.choose(3)];
    let device = DeviceId::extension(digits).expect("valid extension");
    KeyId::structured(
        u16::from(script.byte() % 3),
        agent,
        device,
        u32::from(script.byte()),
    )
}

fn well_formed_provision_request(script: &mut Script<'_>) -> Vec<u8> {
    let key_id = fuzz_key_id(script).to_bytes();
    let proof = script.array::<32>();
    let subject = match script.choose(3) {
        0 => WireSubject::Anonymous,
        1 => WireSubject::ProposedKeyId(&key_id),
        _ => WireSubject::DeviceId(b"\x01\x044711"),
    };
    let user = (script.byte() & 1 == 1).then_some(UserProof {
        login: b"alice",
        proof: &proof,
    });
    let message = Message::ProvisionRequest(ProvisionRequest { subject, user });
    message.to_vec().expect("a valid request encodes")
}

fn well_formed_key_request(script: &mut Script<'_>) -> Vec<u8> {
    let key_id = fuzz_key_id(script).to_bytes();
    let service: &[u8] = if script.byte() & 1 == 0 {
        SERVICE
    } else {
        b"other.example"
    };
    let message = Message::KeyRequest(KeyRequest {
        request_id: u32::from(script.byte()),
        key_id: &key_id,
        service,
        login: None,
    });
    message.to_vec().expect("a valid request encodes")
}

fn answer_user(
    machine: &mut AgentProvisioning,
    config: &AgentConfig,
    ledger: &mut AgentLedger,
    script: &mut Script<'_>,
) {
    let Some(handle) = ledger.pending_user.take() else {
        return;
    };
    let pin = Pin::new("2468").expect("valid pin");
    let record = UserRecord {
        verifier: (script.byte() & 1 == 1).then(|| keyprov::agent::pin_verifier(b"salt", &pin)),
        recent_failures: u32::from(script.byte() % 8),
    };
    let _ = machine.handle_user_result(config, 1_800_000_000, handle, record);
}

fn answer_counter(
    machine: &mut AgentProvisioning,
    config: &AgentConfig,
    ledger: &mut AgentLedger,
    script: &mut Script<'_>,
) {
    let Some(handle) = ledger.pending_counter.take() else {
        return;
    };
    let counter = if script.byte() & 3 == 0 {
        Err(keyprov::Error::Superseded)
    } else {
        Ok(u32::from(script.byte()))
    };
    ledger.reserved = counter.ok();
    let _ = machine.handle_counter_result(config, 1_800_000_000, handle, counter);
}

fn key_service_message(
    machine: &mut KeyService,
    config: &AgentConfig,
    ledger: &mut AgentLedger,
    bytes: &[u8],
) {
    if let Ok(Message::KeyRequest(request)) = Message::decode(bytes)
        && let Ok(key_id) = KeyId::from_bytes(request.key_id)
    {
        ledger.requests.push(KeyRequestSeen {
            request_id: request.request_id,
            key_id,
            service: request.service.to_vec(),
            handle: None,
            approved: false,
        });
    }
    let _ = machine.handle_message(config, bytes);
}

fn answer_check(
    machine: &mut KeyService,
    config: &AgentConfig,
    ledger: &mut AgentLedger,
    script: &mut Script<'_>,
) {
    let waiting = ledger
        .requests
        .iter()
        .filter(|r| r.handle.is_some() && !r.approved)
        .count();
    if waiting == 0 {
        return;
    }
    let index = script.choose(waiting);
    let request = ledger
        .requests
        .iter_mut()
        .filter(|r| r.handle.is_some() && !r.approved);
    let request = request
        .into_iter()
        .nth(index)
        .expect("index within the waiting requests");
    let statuses = [
        KeyStatus::Current {
            not_after: 1_900_000_000,
        },
        KeyStatus::Superseded,
        KeyStatus::Revoked,
        KeyStatus::Unknown,
    ];
    let check = KeyCheck {
        authorized: script.byte() & 3 != 0,
        status: statuses[script.choose(statuses.len())],
        pin_verifier: None,
    };
    request.approved = check.authorized && matches!(check.status, KeyStatus::Current { .. });
    let handle = request
        .handle
        .take()
        .expect("a waiting request has a handle");
    let _ = machine.handle_check_result(config, 1_800_000_000, handle, check);
}

fn drain_agent(
    provisioning: &mut AgentProvisioning,
    service: &mut KeyService,
    config: &AgentConfig,
    ledger: &mut AgentLedger,
) {
    while let Some(event) = provisioning.poll_event() {
        agent_event(event, config, ledger);
    }
    while let Some(bytes) = provisioning.poll_transmit() {
        check_message(&bytes);
        if let Ok(Message::ProvisionResponse(response)) = Message::decode(&bytes) {
            let key_id = KeyId::from_bytes(response.key_id).expect("the agent sends valid key ids");
            let issued = ledger
                .issued
                .iter()
                .any(|(id, c)| *id == key_id && *c == response.counter);
            assert!(issued, "a key sent without an issued event");
            let expected = config
                .keyring
                .device_key(&key_id)
                .expect("issued under a live epoch");
            assert_eq!(
                response.secret_key.0,
                expected.expose_secret(),
                "wrong device key sent"
            );
        }
    }
    while let Some(event) = service.poll_event() {
        agent_event(event, config, ledger);
    }
    while let Some(bytes) = service.poll_transmit() {
        check_message(&bytes);
        if let Ok(Message::KeyResponse(response)) = Message::decode(&bytes) {
            // Request ids may repeat: the key must be right for one approved request with it.
            let approved = ledger.requests.iter().filter(|r| r.approved);
            let mut matching = approved.filter(|r| r.request_id == response.request_id);
            let right_key = matching.any(|request| {
                let device_key = config
                    .keyring
                    .device_key(&request.key_id)
                    .expect("live epoch");
                let service_key = device_key
                    .authentication_key()
                    .service_key(&request.service);
                service_key.expect("a valid service").expose_secret() == response.service_key.0
            });
            assert!(right_key, "a key sent that no approved request asked for");
            ledger.keys_sent += 1;
        }
    }
}

fn agent_event(event: AgentEvent, config: &AgentConfig, ledger: &mut AgentLedger) {
    match event {
        AgentEvent::LookupUser { handle, .. } => ledger.pending_user = Some(handle),
        AgentEvent::PinAccepted { .. } => ledger.pin_accepted = true,
        AgentEvent::ReserveCounter { handle, .. } => ledger.pending_counter = Some(handle),
        AgentEvent::Issued {
            key_id, counter, ..
        } => {
            assert_eq!(
                ledger.reserved,
                Some(counter),
                "issued a counter the host never reserved"
            );
            assert!(
                !config.require_pin || ledger.pin_accepted,
                "issued without a verified pin"
            );
            ledger.issued.push((key_id, counter));
        }
        AgentEvent::CheckKey {
            handle,
            key_id,
            service,
            ..
        } => {
            let unanswered = ledger.requests.iter_mut().rev().find(|r| {
                r.handle.is_none() && !r.approved && r.key_id == key_id && r.service == service
            });
            let request = unanswered.expect("a check for a request that was never sent");
            request.handle = Some(handle);
        }
        _ => {}
    }
}

// ---- the device ----

/// The device's machines fed arbitrary answers: provisioning ends only with credentials taken
/// from a provisioning response that was fed to it and stored by the host, with the
/// authentication key of that secret key; registration never succeeds, since nobody here
/// holds the registrar's key.
pub fn role_device(data: &[u8]) {
    device_outcome(data);
}

/// Runs [`role_device`] and reports whether the device got provisioned.
pub fn device_outcome(data: &[u8]) -> bool {
    let mut script = Script::new(data);
    let subjects = [
        ProvisioningSubject::Anonymous,
        ProvisioningSubject::DeviceId(DeviceId::extension("4711").expect("valid extension")),
    ];
    let config = ProvisioningConfig {
        trust_anchor: [0x41; 32],
        subject: subjects[script.choose(subjects.len())],
        user: None,
        expected_agent: None,
        last_counter: None,
        require_address: script.byte() & 1 == 1,
        response_timeout: 30,
    };
    let mut machine = DeviceProvisioning::new(config);
    let mut fed: Vec<Vec<u8>> = Vec::new();
    let mut stored: Option<(Handle, DeviceCredentials)> = None;
    let mut store_ok: Option<DeviceCredentials> = None;
    let mut registration = device_registration(&mut script);
    let mut now = 1_800_000_000;
    for _ in 0..MAX_STEPS {
        if script.is_exhausted() {
            break;
        }
        match script.choose(8) {
            0 => {
                let _ = machine.handle_address();
            }
            1 => {
                let binding = script.bytes();
                let session = AgentSession {
                    agent_identity: &[0x41; 32],
                    channel_binding: binding,
                };
                let _ = machine.handle_connected(now, &session);
            }
            2 => {
                let bytes = script.bytes().to_vec();
                let _ = machine.handle_message(now, &bytes);
                fed.push(bytes);
            }
            3 => {
                let bytes = well_formed_provision_response(&mut script);
                let _ = machine.handle_message(now, &bytes);
                fed.push(bytes);
            }
            4 => {
                if let Some((handle, credentials)) = stored.take() {
                    let ok = script.byte() & 3 != 0;
                    let result = if ok {
                        Ok(())
                    } else {
                        Err(keyprov::Error::Failed)
                    };
                    if machine.handle_store_result(handle, result).is_ok() && ok {
                        store_ok = Some(credentials);
                    }
                }
            }
            5 => {
                let _ = machine.handle_closed();
            }
            6 => {
                now += u64::from(script.byte());
                let _ = machine.handle_timeout(now);
                let _ = registration.handle_timeout(now);
            }
            _ => {
                let _ = registration.handle_message(script.bytes());
            }
        }
        drain_device(
            &mut machine,
            &mut registration,
            &fed,
            &mut stored,
            store_ok.as_ref(),
        );
    }
    machine.is_provisioned()
}

fn device_registration(script: &mut Script<'_>) -> Registration {
    let fleet = Fleet::new();
    let modes = [RegistrationMode::ChallengeResponse, RegistrationMode::Time];
    let config = RegistrationConfig {
        service: SERVICE.to_vec(),
        mode: modes[script.choose(modes.len())],
        sequence: 1,
        user: None,
        response_timeout: 30,
    };
    let mut registration =
        Registration::new(config, fleet.key_id, &fleet.device_key).expect("valid configuration");
    registration
        .start(1_800_000_000, &mut CountingRng(0))
        .expect("a registration starts");
    registration
}

fn well_formed_provision_response(script: &mut Script<'_>) -> Vec<u8> {
    let key_id = fuzz_key_id(script);
    let counter = key_id.counter().unwrap_or(0);
    let key_id = key_id.to_bytes();
    let secret = script.array::<32>();
    let message = Message::ProvisionResponse(ProvisionResponse {
        key_id: &key_id,
        counter,
        not_after: 1_900_000_000,
        agent_id: b"agent-1",
        secret_key: SecretBytes(&secret),
    });
    message.to_vec().expect("a valid response encodes")
}

fn drain_device(
    machine: &mut DeviceProvisioning,
    registration: &mut Registration,
    fed: &[Vec<u8>],
    stored: &mut Option<(Handle, DeviceCredentials)>,
    store_ok: Option<&DeviceCredentials>,
) {
    while let Some(bytes) = machine.poll_transmit() {
        check_message(&bytes);
    }
    while let Some(bytes) = registration.poll_transmit() {
        check_message(&bytes);
    }
    while let Some(event) = machine.poll_event() {
        match event {
            DeviceEvent::StoreCredentials {
                handle,
                credentials,
            } => {
                assert!(
                    came_from(fed, &credentials),
                    "credentials not from any response fed"
                );
                *stored = Some((handle, credentials));
            }
            DeviceEvent::Provisioned {
                key_id,
                authentication_key,
            } => {
                let credentials = store_ok.expect("provisioned before the host stored the key");
                assert_eq!(key_id, credentials.key_id, "provisioned another key id");
                let expected = credentials.secret_key.authentication_key();
                assert!(expected == authentication_key, "wrong authentication key");
            }
            _ => {}
        }
    }
    while let Some(event) = registration.poll_event() {
        assert!(
            !matches!(event, DeviceEvent::Registered { .. }),
            "registered with no registrar"
        );
    }
}

/// Whether `credentials` are exactly those of a provisioning response in `fed`.
fn came_from(fed: &[Vec<u8>], credentials: &DeviceCredentials) -> bool {
    fed.iter().any(|bytes| match Message::decode(bytes) {
        Ok(Message::ProvisionResponse(response)) => {
            response.key_id == credentials.key_id.to_bytes()
                && response.counter == credentials.counter
                && response.secret_key.0 == credentials.secret_key.expose_secret()
        }
        _ => false,
    })
}

// ---- SIP Digest, phone and registrar sides ----

/// A Digest exchange under attack: the registrar side issues challenges, an honest phone
/// holding the right per-service key and a forger holding another answer them, and the
/// attacker delivers those answers, copies with a byte flipped, its own header values and
/// replays, while the clock moves. The registrar accepts only credentials that are, field for
/// field, the honest phone's, and never the same nonce count on the same nonce twice.
pub fn digest_exchange(data: &[u8]) {
    digest_exchange_outcome(data);
}

/// Runs [`digest_exchange`] and reports how many credentials the registrar side accepted.
pub fn digest_exchange_outcome(data: &[u8]) -> usize {
    let mut script = Script::new(data);
    let fleet = Fleet::new();
    let secret = keyprov::secret::DigestNonceSecret::from_bytes(&[0x4e; 32]).expect("32 bytes");
    let policy = RegistrarPolicy::new(std::str::from_utf8(SERVICE).expect("ascii"));
    let mut server = DigestRegistrar::new(policy, secret).expect("valid policy");
    let username = fleet.key_id.to_string();
    let forged_service_key = ServiceKey::from_bytes(&[0x77; 32]).expect("32 bytes");
    let mut phone = DigestClient::new(
        &username,
        ClientCredential::from_service_key(&fleet.service_key),
        ClientPolicy::default(),
    );
    let mut forger = DigestClient::new(
        &username,
        ClientCredential::from_service_key(&forged_service_key),
        ClientPolicy::default(),
    );
    let mut rng = CountingRng(0);
    let mut now = 1_800_000_000;
    let mut honest: Vec<String> = Vec::new();
    let mut accepted: Vec<(String, Option<u32>)> = Vec::new();
    let request = DigestRequest {
        method: "REGISTER",
        uri: "sip:sip.example.com",
        body: b"",
    };
    for _ in 0..MAX_STEPS {
        if script.is_exhausted() {
            break;
        }
        let value = match script.choose(7) {
            0 => {
                let challenges = server.challenges(now, script.byte() & 1 == 1, &mut rng);
                let challenges = challenges.expect("challenges are issued");
                let _ = phone.handle_challenges(challenges.iter().map(String::as_str));
                let _ = forger.handle_challenges(challenges.iter().map(String::as_str));
                None
            }
            1 => phone
                .authorize(&request, &mut rng)
                .ok()
                .inspect(|v| honest.push(v.clone())),
            2 => honest.last().cloned().map(|mut value| {
                let mut bytes = std::mem::take(&mut value).into_bytes();
                let at = script
                    .choose(bytes.len().max(1))
                    .min(bytes.len().saturating_sub(1));
                if let Some(byte) = bytes.get_mut(at) {
                    *byte ^= script.byte() & 0x1f | 1;
                }
                String::from_utf8_lossy(&bytes).into_owned()
            }),
            3 => forger.authorize(&request, &mut rng).ok(),
            4 => Some(String::from_utf8_lossy(script.bytes()).into_owned()),
            5 if !honest.is_empty() => Some(honest[script.choose(honest.len())].clone()),
            _ => {
                now += u64::from(script.byte()) * 4;
                None
            }
        };
        let Some(value) = value else { continue };
        let outcome = server.verify_header(&value, &request, now, |_| {
            CredentialLookup::Found(StoredCredential::from_service_key(&fleet.service_key))
        });
        if let DigestOutcome::Accepted(_) = outcome {
            let credentials = Credentials::parse(&value).expect("accepted credentials parse");
            let from_phone = honest
                .iter()
                .any(|h| Credentials::parse(h).as_ref() == Ok(&credentials));
            assert!(
                from_phone,
                "accepted credentials the phone never sent: {value:?}"
            );
            let count = (credentials.nonce.clone(), credentials.nc);
            assert!(
                !accepted.contains(&count),
                "a nonce count accepted twice: {value:?}"
            );
            accepted.push(count);
        }
    }
    accepted.len()
}
