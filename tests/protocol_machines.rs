//! The state machines driven directly through the public API: misuse, refusals and limits.

use keyprov::agent::{self, AgentConfig, KeyCheck, KeyService, KeyStatus};
use keyprov::device::{
    self, AgentSession, ProvisioningConfig, RegistrationConfig, RegistrationMode, Subject, UserPin,
};
use keyprov::keys::MasterKeyring;
use keyprov::registrar::{self, Registrar, RegistrarConfig};
use keyprov::secret::{MasterKey, Pin};
use keyprov::{AgentId, DeviceId, Error, Handle};
use rand_core::{TryCryptoRng, TryRng};

const NOW: u64 = 1_700_000_000;
const ANCHOR: [u8; 32] = [0xa5; 32];
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

fn agent_config() -> AgentConfig {
    let mut keyring = MasterKeyring::new();
    keyring
        .insert(&MasterKey::from_seed(&[1; 32], b"test enterprise", 1).unwrap())
        .unwrap();
    AgentConfig {
        agent_id: AgentId::new("agent-1").unwrap(),
        keyring,
        key_lifetime: 3_600,
        require_pin: false,
        max_pin_failures: 3,
    }
}

fn device_config() -> ProvisioningConfig {
    ProvisioningConfig {
        trust_anchor: ANCHOR,
        subject: Subject::DeviceId(DeviceId::extension("100").unwrap()),
        user: None,
        expected_agent: None,
        last_counter: None,
        require_address: false,
        response_timeout: 5,
    }
}

fn session(binding: &[u8]) -> AgentSession<'_> {
    AgentSession {
        agent_identity: &ANCHOR,
        channel_binding: binding,
    }
}

/// Runs the agent on the device's request up to its answer, reserving `counter`.
fn agent_answer(config: &AgentConfig, request: &[u8], binding: &[u8], counter: u32) -> Vec<u8> {
    let mut agent = agent::Provisioning::new();
    agent.handle_connected(binding).unwrap();
    agent
        .handle_message(config, &mut CountingRng(0), request)
        .unwrap();
    while let Some(event) = agent.poll_event() {
        if let agent::Event::ReserveCounter { handle, .. } = event {
            agent
                .handle_counter_result(config, NOW, handle, Ok(counter))
                .unwrap();
        }
    }
    agent.poll_transmit().unwrap()
}

fn connected_device(config: ProvisioningConfig) -> (device::Provisioning, Vec<u8>) {
    let mut device = device::Provisioning::new(config);
    device
        .handle_connected(NOW, &session(b"tls exporter of session one"))
        .unwrap();
    let request = device.poll_transmit().unwrap();
    (device, request)
}

#[test]
fn untrusted_agent_fails_for_good_and_nothing_is_sent() {
    let mut device = device::Provisioning::new(device_config());
    let other = [0x5a; 32];
    let impostor = AgentSession {
        agent_identity: &other,
        channel_binding: b"tls exporter of session one",
    };
    assert_eq!(
        device.handle_connected(NOW, &impostor),
        Err(Error::UntrustedAgent)
    );
    assert!(device.poll_transmit().is_none());
    assert!(matches!(
        device.poll_event(),
        Some(device::Event::Failed(Error::UntrustedAgent))
    ));
    assert_eq!(
        device.handle_connected(NOW, &session(b"tls exporter of session one")),
        Err(Error::Failed)
    );
    assert_eq!(device.handle_message(NOW, &[1, 2]), Err(Error::Failed));
}

#[test]
fn missing_address_changes_nothing() {
    let mut config = device_config();
    config.require_address = true;
    let mut device = device::Provisioning::new(config);
    assert_eq!(
        device.handle_connected(NOW, &session(b"tls exporter of session one")),
        Err(Error::NoAddress)
    );
    assert!(device.poll_transmit().is_none());
    device.handle_address().unwrap();
    device
        .handle_connected(NOW, &session(b"tls exporter of session one"))
        .unwrap();
    assert!(device.poll_transmit().is_some());
}

#[test]
fn wrong_store_handle_changes_nothing() {
    let config = agent_config();
    let (mut device, request) = connected_device(device_config());
    let response = agent_answer(&config, &request, b"tls exporter of session one", 1);
    device.handle_message(NOW, &response).unwrap();
    let Some(device::Event::StoreCredentials {
        handle,
        credentials,
    }) = device.poll_event()
    else {
        panic!("expected a store request");
    };
    assert_eq!(credentials.counter, 1);
    let wrong = Handle(handle.0 + 1);
    assert_eq!(
        device.handle_store_result(wrong, Ok(())),
        Err(Error::UnknownHandle)
    );
    device.handle_store_result(handle, Ok(())).unwrap();
    assert!(matches!(
        device.poll_event(),
        Some(device::Event::CloseSession)
    ));
    device.handle_closed().unwrap();
    assert!(matches!(
        device.poll_event(),
        Some(device::Event::Provisioned { .. })
    ));
    assert!(device.is_provisioned());
}

#[test]
fn lower_counter_is_a_rollback() {
    let config = agent_config();
    let mut device_cfg = device_config();
    device_cfg.last_counter = Some(5);
    let (mut device, request) = connected_device(device_cfg);
    let response = agent_answer(&config, &request, b"tls exporter of session one", 5);
    assert_eq!(
        device.handle_message(NOW, &response),
        Err(Error::CounterRollback)
    );
    assert!(device.is_failed());
}

#[test]
fn other_agent_identifier_is_a_mismatch() {
    let config = agent_config();
    let mut device_cfg = device_config();
    device_cfg.expected_agent = Some(AgentId::new("agent-2").unwrap());
    let (mut device, request) = connected_device(device_cfg);
    let response = agent_answer(&config, &request, b"tls exporter of session one", 1);
    assert_eq!(
        device.handle_message(NOW, &response),
        Err(Error::MismatchedAnswer { field: "agent id" })
    );
}

#[test]
fn silent_agent_times_out() {
    let (mut device, _request) = connected_device(device_config());
    assert_eq!(device.poll_timeout(), Some(NOW + 5));
    device.handle_timeout(NOW + 4).unwrap();
    assert_eq!(device.handle_timeout(NOW + 5), Err(Error::TimedOut));
}

#[test]
fn pin_proof_does_not_verify_in_another_session() {
    let config = agent_config();
    let pin = Pin::new("1234").unwrap();
    let salt = b"salt of dave".to_vec();
    let mut device_cfg = device_config();
    device_cfg.user = Some(UserPin {
        login: b"dave".to_vec(),
        pin: pin.clone(),
        salt: salt.clone(),
    });
    let (_device, request) = connected_device(device_cfg);
    let record = agent::UserRecord {
        verifier: Some(agent::pin_verifier(&salt, &pin)),
        recent_failures: 0,
    };
    for (binding, accepted) in [
        (&b"tls exporter of session one"[..], true),
        (&b"tls exporter of session two"[..], false),
    ] {
        let mut agent = agent::Provisioning::new();
        agent.handle_connected(binding).unwrap();
        agent
            .handle_message(&config, &mut CountingRng(0), &request)
            .unwrap();
        let Some(agent::Event::LookupUser { handle, login }) = agent.poll_event() else {
            panic!("expected a directory lookup");
        };
        assert_eq!(login, b"dave");
        let result = agent.handle_user_result(&config, NOW, handle, record.clone());
        assert_eq!(result.is_ok(), accepted);
        if !accepted {
            assert_eq!(result, Err(Error::WrongProof));
            assert_eq!(agent.poll_transmit().unwrap(), vec![1, 0x7f, 0x01, 0x30]);
        }
    }
}

/// A host that counts PIN failures per login, known or not, as section 6.1 asks.
struct Directory {
    verifiers: Vec<(Vec<u8>, keyprov::secret::PinVerifier)>,
    failures: std::collections::BTreeMap<Vec<u8>, u32>,
}

impl Directory {
    fn record(&self, login: &[u8]) -> agent::UserRecord {
        agent::UserRecord {
            verifier: self
                .verifiers
                .iter()
                .find(|(known, _)| known == login)
                .map(|(_, verifier)| verifier.clone()),
            recent_failures: self.failures.get(login).copied().unwrap_or(0),
        }
    }
}

/// One provisioning attempt of `login` with `pin`: the agent's result, what it sends the
/// device, and the events it gives its host (with the login left out).
fn attempt(
    config: &AgentConfig,
    directory: &mut Directory,
    login: &[u8],
    pin: &str,
) -> (Result<(), Error>, Option<Vec<u8>>, Vec<String>) {
    let mut device_cfg = device_config();
    device_cfg.user = Some(UserPin {
        login: login.to_vec(),
        pin: Pin::new(pin).unwrap(),
        salt: b"salt".to_vec(),
    });
    let (_device, request) = connected_device(device_cfg);
    let mut agent = agent::Provisioning::new();
    agent
        .handle_connected(b"tls exporter of session one")
        .unwrap();
    agent
        .handle_message(config, &mut CountingRng(0), &request)
        .unwrap();
    let Some(agent::Event::LookupUser { handle, .. }) = agent.poll_event() else {
        panic!("expected a directory lookup");
    };
    let result = agent.handle_user_result(config, NOW, handle, directory.record(login));
    let mut events = Vec::new();
    while let Some(event) = agent.poll_event() {
        if let agent::Event::PinRejected { login, .. } = &event {
            *directory.failures.entry(login.clone()).or_default() += 1;
        }
        events.push(format!("{event:?}").replace(&format!("{login:?}"), "LOGIN"));
    }
    (result, agent.poll_transmit(), events)
}

#[test]
fn unknown_and_known_logins_get_identical_answers_through_the_lockout() {
    let config = agent_config();
    let verifier = agent::pin_verifier(b"salt", &Pin::new("2468").unwrap());
    let mut directory = Directory {
        verifiers: vec![(b"dave".to_vec(), verifier)],
        failures: Default::default(),
    };
    let limit = config.max_pin_failures;
    for round in 0..limit + 2 {
        let known = attempt(&config, &mut directory, b"dave", "1357");
        let unknown = attempt(&config, &mut directory, b"eve!", "1357");
        assert_eq!(known.1, unknown.1, "bytes to the device, attempt {round}");
        assert_eq!(known.0, unknown.0, "attempt {round}");
        assert_eq!(known.2, unknown.2, "events for the host, attempt {round}");
        let (expected, outcome) = if round < limit {
            (Error::WrongProof, 0x30)
        } else {
            (Error::LockedOut, 0x34)
        };
        assert_eq!(known.0, Err(expected), "attempt {round}");
        assert_eq!(
            known.1,
            Some(vec![1, 0x7f, 0x01, outcome]),
            "attempt {round}"
        );
    }
    // The right PIN of the known login is refused too while it is locked out.
    let (result, _, _) = attempt(&config, &mut directory, b"dave", "2468");
    assert_eq!(result, Err(Error::LockedOut));
}

#[test]
fn malformed_request_fails_the_agent_without_an_answer() {
    let config = agent_config();
    let mut agent = agent::Provisioning::new();
    agent
        .handle_connected(b"tls exporter of session one")
        .unwrap();
    let result = agent.handle_message(&config, &mut CountingRng(0), &[1, 1, 0]);
    assert_eq!(
        result,
        Err(Error::Truncated {
            what: "provision request"
        })
    );
    assert!(agent.poll_transmit().is_none());
    assert!(agent.is_failed());
}

#[test]
fn unauthorized_registrar_is_refused_and_the_connection_stays_usable() {
    let config = agent_config();
    let key_id =
        keyprov::KeyId::structured(1, config.agent_id, DeviceId::extension("1").unwrap(), 1);
    let mut client = registrar::KeyClient::new();
    let mut service = KeyService::new([7; 32]);
    for authorized in [false, true] {
        let id = client.request(&key_id, SERVICE, None).unwrap();
        service
            .handle_message(&config, &client.poll_transmit().unwrap())
            .unwrap();
        let Some(agent::Event::CheckKey {
            handle, registrar, ..
        }) = service.poll_event()
        else {
            panic!("expected a key check");
        };
        assert_eq!(registrar, [7; 32]);
        let status = KeyStatus::Current {
            not_after: NOW + 10,
        };
        let check = KeyCheck {
            authorized,
            status,
            pin_verifier: None,
        };
        let result = service.handle_check_result(&config, NOW, handle, check);
        let (answered, key) = client
            .handle_message(&service.poll_transmit().unwrap())
            .unwrap();
        assert_eq!(answered, id);
        if authorized {
            result.unwrap();
            assert_eq!(key.unwrap().not_after, NOW + 10);
        } else {
            assert_eq!(result, Err(Error::NotAuthorized));
            assert_eq!(key.unwrap_err(), Error::PeerRefused { code: 309 });
        }
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

#[test]
fn garbage_changes_no_registration_and_a_late_proof_is_stale() {
    let config = agent_config();
    let (mut device, request) = connected_device(device_config());
    device
        .handle_message(
            NOW,
            &agent_answer(&config, &request, b"tls exporter of session one", 1),
        )
        .unwrap();
    let Some(device::Event::StoreCredentials { credentials, .. }) = device.poll_event() else {
        panic!("expected credentials");
    };
    let reg_config = RegistrationConfig {
        service: SERVICE.to_vec(),
        mode: RegistrationMode::ChallengeResponse,
        sequence: 1,
        user: None,
        response_timeout: 100,
    };
    let mut phone =
        device::Registration::new(reg_config, credentials.key_id, &credentials.secret_key).unwrap();
    let mut shared = registrar_state();
    let mut session = registrar::Session::new();
    let mut rng = CountingRng(9);
    phone.start(NOW, &mut rng).unwrap();
    let hello = phone.poll_transmit().unwrap();
    assert!(
        session
            .handle_message(&mut shared, NOW, &mut rng, &[1, 0x12, 0])
            .is_err()
    );
    session
        .handle_message(&mut shared, NOW, &mut rng, &hello)
        .unwrap();
    let Some(registrar::Event::FetchKey { handle, .. }) = session.poll_event() else {
        panic!("expected a key fetch");
    };
    let device_key = config
        .keyring
        .current()
        .unwrap()
        .device_key(&credentials.key_id.to_bytes());
    let service_key = device_key
        .unwrap()
        .authentication_key()
        .service_key(SERVICE)
        .unwrap();
    let key = registrar::FetchedKey {
        service_key,
        not_after: NOW + 3_600,
        pin_key: None,
    };
    session
        .handle_key_result(&mut shared, NOW, &mut rng, handle, Ok(key))
        .unwrap();
    let challenge = session.poll_transmit().unwrap();
    assert_eq!(
        phone.handle_message(&[9, 9, 9]),
        Err(Error::UnsupportedVersion {
            what: "message",
            version: 9
        })
    );
    phone.handle_message(&challenge).unwrap();
    let proof = phone.poll_transmit().unwrap();
    let late = NOW + 31;
    assert_eq!(
        session.handle_message(&mut shared, late, &mut rng, &proof),
        Err(Error::StaleChallenge)
    );
    phone
        .handle_message(&session.poll_transmit().unwrap())
        .unwrap_err();
    assert!(matches!(
        phone.poll_event(),
        Some(device::Event::Failed(Error::PeerRefused { code: 305 }))
    ));
}

#[test]
fn machines_can_move_between_threads() {
    fn send<T: Send>() {}
    send::<device::Provisioning>();
    send::<device::Registration>();
    send::<agent::Provisioning>();
    send::<KeyService>();
    send::<registrar::Session>();
    send::<registrar::KeyClient>();
    send::<Registrar>();
}

#[test]
fn key_cache_holds_a_million_devices_in_256_bytes_each() {
    let devices = 1_000_000;
    let shared = Registrar::new(RegistrarConfig {
        service: SERVICE.to_vec(),
        challenge_lifetime: 30,
        clock_window: 60,
        registration_lifetime: 600,
        key_cache_capacity: devices,
        replay_cache_capacity: 1,
    });
    let per_device = shared.key_cache_memory() / devices;
    assert!(per_device <= 256, "{per_device} bytes per device");
}

#[test]
fn channel_binding_outside_its_bounds_changes_nothing() {
    let mut device = device::Provisioning::new(device_config());
    let short = [7u8; keyprov::CHANNEL_BINDING_MIN_LEN - 1];
    let long = vec![7u8; keyprov::CHANNEL_BINDING_MAX_LEN + 1];
    for (binding, expected) in [
        (
            &short[..],
            Error::TooShort {
                field: "channel binding",
                min: 16,
                actual: 15,
            },
        ),
        (
            &long[..],
            Error::TooLong {
                field: "channel binding",
                max: 1024,
                actual: 1025,
            },
        ),
    ] {
        assert_eq!(
            device.handle_connected(NOW, &session(binding)),
            Err(expected)
        );
        assert!(device.poll_transmit().is_none() && device.poll_event().is_none());
        let mut agent = agent::Provisioning::new();
        assert_eq!(agent.handle_connected(binding), Err(expected));
        agent.handle_connected(&[7u8; 16]).unwrap();
    }
    device.handle_connected(NOW, &session(&[7u8; 16])).unwrap();
    assert!(device.poll_transmit().is_some());
}
