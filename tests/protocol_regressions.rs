//! Regression tests from a review of the protocol machines and the wire format.

use keyprov::device::{self, RegistrationConfig, RegistrationMode};
use keyprov::registrar::{self, Registrar, RegistrarConfig};
use keyprov::secret::DeviceSecretKey;
use keyprov::wire::{Freshness, Message, RegisterDirect};
use keyprov::{AgentId, DeviceId, Error, KeyId};
use rand_core::{TryCryptoRng, TryRng};

const NOW: u64 = 1_700_000_000;
const SERVICE: &[u8] = b"sip.example.com";

/// A counter as a random source: deterministic, for tests only.
struct CountingRng(u8);

impl TryRng for CountingRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(u32::from(self.next()))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(u64::from(self.next()))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        dst.iter_mut().for_each(|b| *b = self.next());
        Ok(())
    }
}

impl TryCryptoRng for CountingRng {}

impl CountingRng {
    fn next(&mut self) -> u8 {
        self.0 = self.0.wrapping_add(1);
        self.0
    }
}

fn registrar_state() -> Registrar {
    Registrar::new(RegistrarConfig {
        service: SERVICE.to_vec(),
        challenge_lifetime: 30,
        clock_window: 60,
        registration_lifetime: 600,
        key_cache_capacity: 64,
        replay_cache_capacity: 64,
    })
}

fn key_id() -> KeyId {
    let agent = AgentId::new("agent-1").unwrap();
    KeyId::structured(1, agent, DeviceId::extension("100").unwrap(), 1)
}

/// A device registered challenge-free (time) at a registrar that fetched its key.
fn registered_phone() -> device::Registration {
    let secret = DeviceSecretKey::from_bytes(&[0x42; 32]).unwrap();
    let config = RegistrationConfig {
        service: SERVICE.to_vec(),
        mode: RegistrationMode::Time,
        sequence: 1,
        user: None,
        response_timeout: 10,
    };
    let mut phone = device::Registration::new(config, key_id(), &secret).unwrap();
    let mut rng = CountingRng(0);
    phone.start(NOW, &mut rng).unwrap();
    let direct = phone.poll_transmit().unwrap();
    let mut shared = registrar_state();
    let mut session = registrar::Session::new();
    session
        .handle_message(&mut shared, NOW, &mut rng, &direct)
        .unwrap();
    let Some(registrar::Event::FetchKey { handle, .. }) = session.poll_event() else {
        panic!("expected a key fetch");
    };
    let key = registrar::FetchedKey {
        service_key: secret.authentication_key().service_key(SERVICE).unwrap(),
        not_after: NOW + 3_600,
        pin_key: None,
    };
    session
        .handle_key_result(&mut shared, NOW, &mut rng, handle, Ok(key))
        .unwrap();
    phone
        .handle_message(&session.poll_transmit().unwrap())
        .unwrap();
    assert!(matches!(
        phone.poll_event(),
        Some(device::Event::Registered { .. })
    ));
    phone
}

#[test]
fn refusal_injected_after_registration_changes_nothing() {
    let mut phone = registered_phone();
    let replay_refusal = [0x01, 0x7f, 0x01, 0x32];
    assert_eq!(
        phone.handle_message(&replay_refusal),
        Err(Error::UnexpectedMessage {
            state: "registered"
        })
    );
    assert!(phone.is_registered());
    assert!(phone.poll_event().is_none());
}

#[test]
fn refusal_before_start_changes_nothing() {
    let secret = DeviceSecretKey::from_bytes(&[0x42; 32]).unwrap();
    let config = RegistrationConfig {
        service: SERVICE.to_vec(),
        mode: RegistrationMode::ChallengeResponse,
        sequence: 1,
        user: None,
        response_timeout: 10,
    };
    let mut phone = device::Registration::new(config, key_id(), &secret).unwrap();
    assert_eq!(
        phone.handle_message(&[0x01, 0x7f, 0x01, 0x32]),
        Err(Error::UnexpectedMessage { state: "idle" })
    );
    assert!(!phone.is_failed());
    phone.start(NOW, &mut CountingRng(0)).unwrap();
    assert!(phone.poll_transmit().is_some());
}

/// Register direct, built by hand from docs/protocol.md section 5.8.
fn direct_bytes(login: Option<&[u8]>, signature: Option<[u8; 32]>) -> Vec<u8> {
    let key_id = key_id().to_bytes();
    let mut out = vec![0x01, 0x13, 0x01];
    out.extend_from_slice(&NOW.to_be_bytes());
    for field in [&key_id[..], &[7; 32], login.unwrap_or(&[]), &[9; 32]] {
        out.extend_from_slice(&u16::try_from(field.len()).unwrap().to_be_bytes());
        out.extend_from_slice(field);
    }
    let signature = signature.as_ref().map_or(&[][..], |s| &s[..]);
    out.extend_from_slice(&u16::try_from(signature.len()).unwrap().to_be_bytes());
    out.extend_from_slice(signature);
    out
}

#[test]
fn direct_login_and_pin_signature_come_together() {
    assert!(Message::decode(&direct_bytes(None, None)).is_ok());
    assert!(Message::decode(&direct_bytes(Some(b"jo"), Some([5; 32]))).is_ok());
    assert_eq!(
        Message::decode(&direct_bytes(Some(b"jo"), None)),
        Err(Error::InvalidValue {
            field: "pin signature",
            reason: "missing"
        })
    );
    assert_eq!(
        Message::decode(&direct_bytes(None, Some([5; 32]))),
        Err(Error::InvalidValue {
            field: "user login",
            reason: "missing"
        })
    );
}

#[test]
fn direct_login_without_pin_signature_is_not_encoded() {
    let key_id = key_id().to_bytes();
    let direct = RegisterDirect {
        freshness: Freshness::Time(NOW),
        key_id: &key_id,
        device_nonce: &[7; 32],
        login: Some(b"jo"),
        proof: &[9; 32],
        pin_signature: None,
    };
    assert_eq!(
        Message::RegisterDirect(direct).to_vec(),
        Err(Error::InvalidValue {
            field: "pin signature",
            reason: "missing"
        })
    );
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn registrar_accepts_a_direct_registration_written_from_the_specification() {
    // Printed by tests/python/direct_registration.py, written from docs/protocol.md alone:
    // device secret key 42 x 32, service sip.example.com, time 1700000000, device nonce
    // 10..2f, registrar nonce 01..20, not after now + 600.
    let direct = unhex(concat!(
        "011301000000006553f100001501010001076167656e742d3101033130300000000100201011121314",
        "15161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f0000002048bdfc782abfbc20ff04",
        "2afbd32c388db32d3955cca2e2ddc519e577a2778c330000"
    ));
    let accept = unhex(concat!(
        "011400200102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f200000000065",
        "53f3580020596395597550b712c32576a08e92759ef9cdb47fe27d80aa67c687b917d9ae5a"
    ));
    let device_to_registrar =
        unhex("dabe1ec414f9faf86e4045ab0aa6643625b97fc6d97acd153a7a4c4e18c46c70");

    let secret = DeviceSecretKey::from_bytes(&[0x42; 32]).unwrap();
    let mut shared = registrar_state();
    let mut session = registrar::Session::new();
    let mut rng = CountingRng(0);
    session
        .handle_message(&mut shared, NOW, &mut rng, &direct)
        .unwrap();
    let Some(registrar::Event::FetchKey {
        handle,
        key_id: named,
        ..
    }) = session.poll_event()
    else {
        panic!("expected a key fetch");
    };
    assert_eq!(named, key_id());
    let key = registrar::FetchedKey {
        service_key: secret.authentication_key().service_key(SERVICE).unwrap(),
        not_after: NOW + 3_600,
        pin_key: None,
    };
    session
        .handle_key_result(&mut shared, NOW, &mut rng, handle, Ok(key))
        .unwrap();
    assert_eq!(session.poll_transmit().unwrap(), accept);
    let Some(registrar::Event::Registered { session_keys, .. }) = session.poll_event() else {
        panic!("expected a registration");
    };
    assert_eq!(
        &session_keys.device_to_registrar.expose_secret()[..],
        &device_to_registrar[..]
    );
}

#[test]
fn key_of_a_retired_epoch_is_refused_as_expired() {
    use keyprov::agent::{AgentConfig, KeyService};
    use keyprov::keys::MasterKeyring;
    use keyprov::secret::MasterKey;

    let mut keyring = MasterKeyring::new();
    for epoch in [1, 2] {
        let master = MasterKey::from_seed(&[1; 32], b"test enterprise", epoch).unwrap();
        keyring.insert(&master).unwrap();
    }
    keyring.retire(1).unwrap();
    let config = AgentConfig {
        agent_id: AgentId::new("agent-1").unwrap(),
        keyring,
        key_lifetime: 3_600,
        require_pin: false,
        max_pin_failures: 3,
    };
    let mut client = registrar::KeyClient::new();
    let mut service = KeyService::new([7; 32]);
    // Section 2.4: a retired epoch's key identifiers are refused with Expired (303).
    let id = client.request(&key_id(), SERVICE, None).unwrap();
    let request = client.poll_transmit().unwrap();
    assert_eq!(
        service.handle_message(&config, &request),
        Err(Error::Expired)
    );
    let (answered, key) = client
        .handle_message(&service.poll_transmit().unwrap())
        .unwrap();
    assert_eq!(answered, id);
    assert_eq!(key.unwrap_err(), Error::PeerRefused { code: 303 });
    // An epoch never added stays unknown (300).
    let unknown = KeyId::structured(
        9,
        AgentId::new("agent-1").unwrap(),
        DeviceId::extension("100").unwrap(),
        1,
    );
    client.request(&unknown, SERVICE, None).unwrap();
    let request = client.poll_transmit().unwrap();
    assert_eq!(
        service.handle_message(&config, &request),
        Err(Error::UnknownKeyId)
    );
}

/// The registrar's key for a PIN-signed registration of `key_id`, through the agent's key
/// service as a host would fetch it.
fn fetch_with_pin(
    config: &keyprov::agent::AgentConfig,
    key_id: &KeyId,
    verifier: keyprov::secret::PinVerifier,
) -> registrar::FetchedKey {
    use keyprov::agent::{self, KeyCheck, KeyService, KeyStatus};

    let mut client = registrar::KeyClient::new();
    let mut service = KeyService::new([7; 32]);
    client.request(key_id, SERVICE, Some(b"jo")).unwrap();
    service
        .handle_message(config, &client.poll_transmit().unwrap())
        .unwrap();
    let Some(agent::Event::CheckKey { handle, .. }) = service.poll_event() else {
        panic!("expected a key check");
    };
    let check = KeyCheck {
        authorized: true,
        status: KeyStatus::Current {
            not_after: NOW + 3_600,
        },
        pin_verifier: Some(verifier),
    };
    service
        .handle_check_result(config, NOW, handle, check)
        .unwrap();
    let (_, key) = client
        .handle_message(&service.poll_transmit().unwrap())
        .unwrap();
    key.unwrap()
}

#[test]
fn copies_of_a_pin_signed_registration_with_an_altered_signature_count_once() {
    use keyprov::agent::AgentConfig;
    use keyprov::device::UserPin;
    use keyprov::keys::MasterKeyring;
    use keyprov::secret::{MasterKey, Pin};

    let mut keyring = MasterKeyring::new();
    keyring
        .insert(&MasterKey::from_seed(&[1; 32], b"test enterprise", 1).unwrap())
        .unwrap();
    let config = AgentConfig {
        agent_id: AgentId::new("agent-1").unwrap(),
        keyring,
        key_lifetime: 3_600,
        require_pin: false,
        max_pin_failures: 3,
    };
    let secret = config.keyring.device_key(&key_id()).unwrap();
    let pin = Pin::new("1234").unwrap();
    let verifier = keyprov::agent::pin_verifier(b"salt", &pin);
    let registration = RegistrationConfig {
        service: SERVICE.to_vec(),
        mode: RegistrationMode::Time,
        sequence: 1,
        user: Some(UserPin {
            login: b"jo".to_vec(),
            pin,
            salt: b"salt".to_vec(),
        }),
        response_timeout: 10,
    };
    let mut phone = device::Registration::new(registration, key_id(), &secret).unwrap();
    let mut rng = CountingRng(0);
    phone.start(NOW, &mut rng).unwrap();
    let direct = phone.poll_transmit().unwrap();

    // Someone who saw the registration sends copies with the PIN signature altered: its device
    // proof is good, so each copy would look like a PIN guess by the user.
    let mut shared = registrar_state();
    let mut rejected = 0;
    for copy in 0..5u8 {
        let mut altered = direct.clone();
        *altered.last_mut().unwrap() ^= copy + 1;
        let mut session = registrar::Session::new();
        session
            .handle_message(&mut shared, NOW, &mut rng, &altered)
            .unwrap();
        let Some(registrar::Event::FetchKey { handle, .. }) = session.poll_event() else {
            panic!("expected a key fetch");
        };
        let key = fetch_with_pin(&config, &key_id(), verifier.clone());
        let result = session.handle_key_result(&mut shared, NOW, &mut rng, handle, Ok(key));
        let expected = if copy == 0 {
            Error::WrongProof
        } else {
            Error::Replay
        };
        assert_eq!(result, Err(expected), "copy {copy}");
        while let Some(event) = session.poll_event() {
            if matches!(event, registrar::Event::PinRejected { .. }) {
                rejected += 1;
            }
        }
    }
    assert_eq!(rejected, 1);
}

#[test]
fn registrar_answers_a_challenge_response_registration_written_from_the_specification() {
    // Printed by tests/python/direct_registration.py (challenge_response), written from
    // docs/protocol.md alone: the same keys and nonces as the direct registration, sequence 5.
    let hello = unhex(concat!(
        "0110001501010001076167656e742d310103313030000000010000000000000005002010111213141516",
        "1718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f0000"
    ));
    let challenge =
        unhex("011100200102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
    let proof =
        unhex("01120020357f180383bb06e9bcbb4dcc2d763c5d4deb76bd45f76e5b36da6d9b7e1a2a980000");
    let accept = unhex(concat!(
        "011400200102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f200000000065",
        "53f3580020094e71d034bfbc8014d58126c917825645618758e8f83770aeadb959fc02a2e8"
    ));

    let secret = DeviceSecretKey::from_bytes(&[0x42; 32]).unwrap();
    let mut shared = registrar_state();
    let mut session = registrar::Session::new();
    let mut rng = CountingRng(0);
    session
        .handle_message(&mut shared, NOW, &mut rng, &hello)
        .unwrap();
    let Some(registrar::Event::FetchKey { handle, .. }) = session.poll_event() else {
        panic!("expected a key fetch");
    };
    let key = registrar::FetchedKey {
        service_key: secret.authentication_key().service_key(SERVICE).unwrap(),
        not_after: NOW + 3_600,
        pin_key: None,
    };
    session
        .handle_key_result(&mut shared, NOW, &mut rng, handle, Ok(key))
        .unwrap();
    assert_eq!(session.poll_transmit().unwrap(), challenge);
    session
        .handle_message(&mut shared, NOW, &mut rng, &proof)
        .unwrap();
    assert_eq!(session.poll_transmit().unwrap(), accept);
}
