//! One full cycle through all three roles in memory: a device is provisioned by the agent,
//! then registers at the registrar (challenge-response), which fetches the per-service key from
//! the agent. Every cycle uses a new device, so every registration misses the key cache.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use keyprov::agent::{self, AgentConfig, KeyCheck, KeyService, KeyStatus};
use keyprov::device::{
    self, AgentSession, ProvisioningConfig, RegistrationConfig, RegistrationMode, Subject,
};
use keyprov::keys::MasterKeyring;
use keyprov::registrar::{self, KeyClient, Registrar, RegistrarConfig};
use keyprov::secret::{AuthenticationKey, MasterKey};
use keyprov::{AgentId, DeviceId, Error, KeyId};
use rand_core::{TryCryptoRng, TryRng};

const SERVICE: &[u8] = b"sip.example.com";
const NOW: u64 = 1_700_000_000;

/// A fast deterministic generator (xorshift). For benchmarking only: not a secure source.
struct InsecureBenchRng(u64);

impl TryRng for InsecureBenchRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Ok(self.0)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let word = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        Ok(())
    }
}

impl TryCryptoRng for InsecureBenchRng {}

struct Setup {
    agent: AgentConfig,
    anchor: [u8; 32],
    registrar: Registrar,
    rng: InsecureBenchRng,
    next_device: u64,
}

fn setup() -> Setup {
    let master = MasterKey::from_seed(&[7; 32], b"bench enterprise", 1).unwrap();
    let mut keyring = MasterKeyring::new();
    keyring.insert(&master).unwrap();
    Setup {
        agent: AgentConfig {
            agent_id: AgentId::new("agent-1").unwrap(),
            keyring,
            key_lifetime: 86_400,
            require_pin: false,
            max_pin_failures: 3,
        },
        anchor: [1; 32],
        registrar: Registrar::new(RegistrarConfig {
            service: SERVICE.to_vec(),
            challenge_lifetime: 30,
            clock_window: 60,
            registration_lifetime: 3_600,
            key_cache_capacity: 4_096,
            replay_cache_capacity: 4_096,
        }),
        rng: InsecureBenchRng(0x9e37_79b9_7f4a_7c15),
        next_device: 0,
    }
}

/// Provisions one device; returns its key identifier and authentication key.
fn provision(s: &mut Setup) -> Result<(KeyId, AuthenticationKey), Error> {
    s.next_device += 1;
    let extension = DeviceId::extension(&format!("{}", s.next_device))?;
    let config = ProvisioningConfig {
        trust_anchor: s.anchor,
        subject: Subject::DeviceId(extension),
        user: None,
        expected_agent: None,
        last_counter: None,
        require_address: false,
        response_timeout: 10,
    };
    let mut device = device::Provisioning::new(config);
    let mut agent = agent::Provisioning::new();
    let binding = [3u8; 32];
    agent.handle_connected(&binding)?;
    let session = AgentSession {
        agent_identity: &s.anchor,
        channel_binding: &binding,
    };
    device.handle_connected(NOW, &session)?;
    let request = device.poll_transmit().ok_or(Error::Failed)?;
    agent.handle_message(&s.agent, &mut s.rng, &request)?;
    while let Some(event) = agent.poll_event() {
        if let agent::Event::ReserveCounter { handle, .. } = event {
            agent.handle_counter_result(&s.agent, NOW, handle, Ok(1))?;
        }
    }
    let response = agent.poll_transmit().ok_or(Error::Failed)?;
    device.handle_message(NOW, &response)?;
    while let Some(event) = device.poll_event() {
        match event {
            device::Event::StoreCredentials { handle, .. } => {
                device.handle_store_result(handle, Ok(()))?;
            }
            device::Event::CloseSession => device.handle_closed()?,
            device::Event::Provisioned {
                key_id,
                authentication_key,
            } => return Ok((key_id, authentication_key)),
            _ => {}
        }
    }
    Err(Error::Failed)
}

/// The agent's side of one key fetch, answered as current.
fn fetch(s: &mut Setup, key_id: &KeyId) -> Result<registrar::FetchedKey, Error> {
    let mut client = KeyClient::new();
    let mut service = KeyService::new([2; 32]);
    client.request(key_id, SERVICE, None)?;
    let request = client.poll_transmit().ok_or(Error::Failed)?;
    service.handle_message(&s.agent, &request)?;
    while let Some(event) = service.poll_event() {
        if let agent::Event::CheckKey { handle, .. } = event {
            let status = KeyStatus::Current {
                not_after: NOW + 86_400,
            };
            let check = KeyCheck {
                authorized: true,
                status,
                pin_verifier: None,
            };
            service.handle_check_result(&s.agent, NOW, handle, check)?;
        }
    }
    let response = service.poll_transmit().ok_or(Error::Failed)?;
    client.handle_message(&response)?.1
}

/// Registers one provisioned device; returns whether both sides registered.
fn register(s: &mut Setup, key_id: KeyId, key: &AuthenticationKey) -> Result<bool, Error> {
    let config = RegistrationConfig {
        service: SERVICE.to_vec(),
        mode: RegistrationMode::ChallengeResponse,
        sequence: 1,
        user: None,
        response_timeout: 10,
    };
    let mut device = device::Registration::from_authentication_key(config, key_id, key)?;
    let mut session = registrar::Session::new();
    device.start(NOW, &mut s.rng)?;
    let hello = device.poll_transmit().ok_or(Error::Failed)?;
    session.handle_message(&mut s.registrar, NOW, &mut s.rng, &hello)?;
    while let Some(event) = session.poll_event() {
        if let registrar::Event::FetchKey { handle, key_id, .. } = event {
            let key = fetch(s, &key_id);
            session.handle_key_result(&mut s.registrar, NOW, &mut s.rng, handle, key)?;
        }
    }
    let challenge = session.poll_transmit().ok_or(Error::Failed)?;
    device.handle_message(&challenge)?;
    let proof = device.poll_transmit().ok_or(Error::Failed)?;
    session.handle_message(&mut s.registrar, NOW, &mut s.rng, &proof)?;
    let accept = session.poll_transmit().ok_or(Error::Failed)?;
    device.handle_message(&accept)?;
    Ok(device.is_registered() && session.is_registered())
}

fn cycle(c: &mut Criterion) {
    let mut s = setup();
    let mut group = c.benchmark_group("cycle");
    group.throughput(Throughput::Elements(1));
    group.bench_function("provision_and_register", |b| {
        b.iter(|| {
            let (key_id, key) = provision(&mut s).expect("provisioned");
            assert!(register(&mut s, key_id, &key).expect("registered"));
        });
    });
    group.finish();
}

criterion_group!(benches, cycle);
criterion_main!(benches);
