//! Registrar memory per registered device, measured with 1,000,000 devices.
//!
//! Every device registers once (challenge-free, time-based) through the public API: a device
//! `Registration` and a registrar `Session` per device, sharing one `Registrar` whose key cache
//! and replay cache are sized for 1,000,000. A counting global allocator reports the heap the
//! registrar holds; a second pass checks how many devices are still served from the cache.
//!
//! `cargo bench --bench registrar_memory` (about a minute); with `-- --test`, 10,000 devices.

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Instant;

use keyprov::device::{Registration, RegistrationConfig, RegistrationMode};
use keyprov::keyid::{AgentId, DeviceId, KeyId};
use keyprov::keys::MasterKeySchedule;
use keyprov::registrar::{Event, FetchedKey, Registrar, RegistrarConfig, Session};
use keyprov::secret::{DeviceSecretKey, MasterKey, ServiceKey};

#[path = "../fuzz/src/meter.rs"]
mod meter;

#[global_allocator]
static ALLOC: meter::Meter = meter::Meter;

const SERVICE: &[u8] = b"sip.example.com";
/// The bound: heap bytes per registered device.
const BOUND: f64 = 256.0;
/// Registrations per second of virtual time: the replay cache holds about a minute of them.
const PER_SECOND: u64 = 1000;

/// Distinct nonces; the bench measures memory, not randomness.
struct Counter(u64);

impl rand_core::TryRng for Counter {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        self.try_next_u64().map(|v| v as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0 += 1;
        Ok(self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            chunk.copy_from_slice(&self.try_next_u64()?.to_be_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for Counter {}

/// The agent's side: the device keys of the fleet, and the service keys it hands out.
struct Fleet {
    schedule: MasterKeySchedule,
    agent: AgentId,
}

impl Fleet {
    fn key_id(&self, device: u64) -> KeyId {
        let extension = DeviceId::extension(&device.to_string()).expect("at most 16 digits");
        KeyId::structured(1, self.agent, extension, 1)
    }

    fn device_key(&self, key_id: &KeyId) -> DeviceSecretKey {
        self.schedule.device_key_for(key_id).expect("same epoch")
    }

    fn service_key(&self, key_id: &KeyId) -> ServiceKey {
        let authentication = self.device_key(key_id).authentication_key();
        authentication.service_key(SERVICE).expect("valid service")
    }
}

/// The device's first message of a registration in `mode`.
fn first_message(
    fleet: &Fleet,
    key_id: KeyId,
    mode: RegistrationMode,
    now: u64,
    rng: &mut Counter,
) -> Vec<u8> {
    let config = RegistrationConfig {
        service: SERVICE.to_vec(),
        mode,
        sequence: 1,
        user: None,
        response_timeout: 30,
    };
    let mut phone = Registration::new(config, key_id, &fleet.device_key(&key_id)).expect("config");
    phone.start(now, rng).expect("starts");
    phone.poll_transmit().expect("a registration message")
}

/// Whether the registrar still holds a device's key: a challenge-response hello is answered
/// from the cache, or needs a fetch. The probe caches nothing.
fn is_cached(
    fleet: &Fleet,
    registrar: &mut Registrar,
    device: u64,
    now: u64,
    rng: &mut Counter,
) -> bool {
    let key_id = fleet.key_id(device);
    let hello = first_message(fleet, key_id, RegistrationMode::ChallengeResponse, now, rng);
    let mut session = Session::new();
    session
        .handle_message(registrar, now, rng, &hello)
        .expect("hello accepted");
    !std::iter::from_fn(|| session.poll_event()).any(|e| matches!(e, Event::FetchKey { .. }))
}

/// Registers one device; returns whether the registrar had to fetch its key.
fn register(
    fleet: &Fleet,
    registrar: &mut Registrar,
    device: u64,
    now: u64,
    rng: &mut Counter,
) -> bool {
    let key_id = fleet.key_id(device);
    let first = first_message(fleet, key_id, RegistrationMode::Time, now, rng);
    let mut session = Session::new();
    session
        .handle_message(registrar, now, rng, &first)
        .expect("first message accepted");
    let mut fetched = false;
    while let Some(event) = session.poll_event() {
        match event {
            Event::FetchKey { handle, key_id, .. } => {
                fetched = true;
                let key = FetchedKey {
                    service_key: fleet.service_key(&key_id),
                    not_after: now + 86_400,
                    pin_key: None,
                };
                session
                    .handle_key_result(registrar, now, rng, handle, Ok(key))
                    .expect("key");
            }
            Event::Registered { .. } => {}
            other => panic!("device {device} not registered: {other:?}"),
        }
    }
    assert!(session.is_registered(), "device {device} not registered");
    fetched
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--test");
    let devices: u64 = if smoke { 10_000 } else { 1_000_000 };
    if std::env::args().any(|a| a == "--list") {
        println!("registrar_memory: bench");
        return;
    }
    assert!(
        meter::installed(),
        "the counting allocator must be the global allocator"
    );

    let master = MasterKey::from_seed(&[0x42; 32], b"example.com", 1).expect("valid seed");
    let fleet = Fleet {
        schedule: MasterKeySchedule::new(&master),
        agent: AgentId::new("agent-1").expect("valid agent"),
    };
    let config = RegistrarConfig {
        service: SERVICE.to_vec(),
        challenge_lifetime: 30,
        clock_window: 60,
        registration_lifetime: 3600,
        key_cache_capacity: devices as usize,
        replay_cache_capacity: devices as usize,
    };

    let before = meter::in_use();
    let mut registrar = Registrar::new(config);
    let allocated = meter::in_use() - before;
    let mut rng = Counter(0);
    let started = Instant::now();
    let start_time = 1_800_000_000;
    let fetches = (0..devices)
        .filter(|&d| {
            register(
                &fleet,
                &mut registrar,
                d,
                start_time + d / PER_SECOND,
                &mut rng,
            )
        })
        .count();
    let fill_seconds = started.elapsed().as_secs_f64();
    let held = meter::in_use() - before;

    // Which devices the set-associative cache still holds (a full set gave up its least
    // recently used slot), probed without caching anything.
    let later = start_time + devices / PER_SECOND;
    let cached = (0..devices)
        .filter(|&d| is_cached(&fleet, &mut registrar, d, later, &mut rng))
        .count();
    assert_eq!(
        meter::in_use() - before,
        held,
        "probing changed the registrar's heap"
    );
    black_box(&registrar);

    let figures = Figures {
        devices,
        allocated,
        held,
        key_cache: registrar.key_cache_memory(),
        fetches,
        cached,
        seconds: fill_seconds,
    };
    figures.report();
}

/// What one run measured.
struct Figures {
    devices: u64,
    allocated: usize,
    held: usize,
    key_cache: usize,
    fetches: usize,
    cached: usize,
    seconds: f64,
}

impl Figures {
    fn report(&self) {
        let devices = self.devices as f64;
        let per_device = self.held as f64 / devices;
        let per_cached = self.held as f64 / self.cached as f64;
        let verdict = if per_device <= BOUND { "met" } else { "MISSED" };
        println!(
            "registrar memory, {} devices registered once each:",
            self.devices
        );
        println!(
            "  heap allocated by Registrar::new       {} bytes",
            self.allocated
        );
        println!(
            "  heap held after all registered         {} bytes",
            self.held
        );
        println!(
            "  of which the key cache                 {} bytes",
            self.key_cache
        );
        println!(
            "  bytes per registered device            {per_device:.1} (bound {BOUND}: {verdict})"
        );
        println!(
            "  key cache bytes per device             {:.1}",
            self.key_cache as f64 / devices
        );
        println!("  key fetches while registering          {}", self.fetches);
        println!(
            "  devices still cached afterwards        {} ({:.2} %)",
            self.cached,
            100.0 * self.cached as f64 / devices
        );
        println!("  bytes per device still cached          {per_cached:.1}");
        println!(
            "  registrations per second (1 core)      {:.0}",
            devices / self.seconds
        );
        assert_eq!(
            self.held, self.allocated,
            "the registrar's heap grew while devices registered"
        );
    }
}
