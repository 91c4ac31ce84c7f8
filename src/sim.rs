//! A deterministic in-memory simulator running the three roles together.
//!
//! A [`World`] holds what the hosts around the machines would hold: a virtual clock, a seeded
//! random generator ([`SimRng`], HMAC_DRBG), the agent's configuration, a directory of users,
//! a durable counter store that survives agent restarts, the record of issued key identifiers
//! (with revocation), and a registrar with its caches. Its conversations move bytes between the
//! machines through links that can drop, duplicate, reorder, truncate and corrupt messages
//! ([`Faults`]), and the agent can be restarted between the durable counter reservation and its
//! answer. Tests, benches and the example services reuse it; it needs `std`.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::vec::Vec;

use rand_core::{TryCryptoRng, TryRng};

use crate::agent::{self, AgentConfig, KeyCheck, KeyService, KeyStatus, Reservation, UserRecord};
use crate::device::{self, AgentSession, Credentials, ProvisioningConfig, RegistrationConfig};
use crate::drbg::HmacDrbg;
use crate::keyid::{AgentId, KeyId};
use crate::keys::{MasterKeyring, SessionKeys};
use crate::registrar::{self, FetchedKey, KeyClient, Registrar, RegistrarConfig};
use crate::secret::{MasterKey, Pin, PinVerifier};
use crate::{Error, Handle};

/// Steps after which a conversation that neither finished nor failed is a simulator bug.
const MAX_STEPS: usize = 10_000;

/// What the simulator reports when a conversation made no progress for 10,000 steps:
/// some party neither finished nor failed, which the protocol must never allow.
pub const STUCK: Error = Error::InvalidState {
    call: "simulate",
    state: "no progress",
};

/// HMAC_DRBG behind an infallible interface: deterministic for a seed, reseeded from its own
/// output counter when its reseed interval runs out. For simulation only, never for keys.
pub struct SimRng {
    drbg: HmacDrbg,
    reseeds: u64,
}

impl SimRng {
    /// A generator fully determined by `seed`.
    pub fn from_seed(seed: u64) -> Self {
        let mut entropy = [0u8; 32];
        entropy[..8].copy_from_slice(&seed.to_be_bytes());
        let drbg = HmacDrbg::new(&entropy, b"keyprov sim nonce", b"keyprov sim")
            .unwrap_or_else(|_| unreachable!("32 bytes of entropy are enough"));
        Self { drbg, reseeds: 0 }
    }

    /// A number below `bound` (which must not be zero).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64_infallible() % bound.max(1)
    }

    /// True with a probability of `percent` in 100.
    pub fn roll(&mut self, percent: u8) -> bool {
        percent > 0 && self.below(100) < u64::from(percent)
    }

    fn next_u64_infallible(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        self.fill(&mut bytes);
        u64::from_be_bytes(bytes)
    }

    fn fill(&mut self, out: &mut [u8]) {
        if self.drbg.try_fill_bytes(out).is_err() {
            self.reseeds += 1;
            let mut entropy = [0u8; 32];
            entropy[..8].copy_from_slice(&self.reseeds.to_be_bytes());
            let _ = self.drbg.reseed(&entropy, b"keyprov sim reseed");
            let _ = self.drbg.try_fill_bytes(out);
        }
    }
}

impl TryRng for SimRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.next_u64_infallible() as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_u64_infallible())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.fill(dst);
        Ok(())
    }
}

impl TryCryptoRng for SimRng {}

/// Per-message fault probabilities, in percent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// The message is lost.
    pub drop: u8,
    /// The message arrives twice.
    pub duplicate: u8,
    /// The message overtakes the ones in flight.
    pub reorder: u8,
    /// The message loses its tail.
    pub truncate: u8,
    /// One byte of the message is flipped.
    pub corrupt: u8,
}

impl Faults {
    /// No faults at all.
    pub const NONE: Self = Self {
        drop: 0,
        duplicate: 0,
        reorder: 0,
        truncate: 0,
        corrupt: 0,
    };
}

/// Messages in flight in one direction.
#[derive(Default)]
struct Link {
    queue: VecDeque<Vec<u8>>,
}

impl Link {
    fn send(&mut self, mut bytes: Vec<u8>, faults: Faults, rng: &mut SimRng) {
        if rng.roll(faults.drop) {
            return;
        }
        if rng.roll(faults.truncate) && !bytes.is_empty() {
            let keep = rng.below(bytes.len() as u64) as usize;
            bytes.truncate(keep);
        }
        if rng.roll(faults.corrupt) && !bytes.is_empty() {
            let at = rng.below(bytes.len() as u64) as usize;
            bytes[at] ^= 1 << rng.below(8);
        }
        let duplicate = rng.roll(faults.duplicate);
        if rng.roll(faults.reorder) {
            self.queue.push_front(bytes.clone());
        } else {
            self.queue.push_back(bytes.clone());
        }
        if duplicate {
            self.queue.push_back(bytes);
        }
    }

    fn deliver(&mut self) -> Option<Vec<u8>> {
        self.queue.pop_front()
    }
}

/// Most logins outside the directory whose PIN failures the simulated host counts.
pub const MAX_UNKNOWN_LOGINS: usize = 256;

/// A user in the directory.
struct User {
    verifier: PinVerifier,
    failures: Vec<u64>,
}

/// What the counter store and the issue records say about one issued key identifier.
#[derive(Clone, Copy, Debug)]
struct Issued {
    counter: u32,
    not_after: u64,
    revoked: bool,
}

/// How one provisioning is run.
#[derive(Clone, Debug)]
pub struct Provision {
    /// The device's configuration.
    pub config: ProvisioningConfig,
    /// Report an address to the device before connecting.
    pub report_address: bool,
    /// Restart the agent right after it reserved a counter, before it answers.
    pub restart_agent_after_reservation: bool,
    /// Connect with this agent identity instead of the genuine one.
    pub impostor: Option<[u8; 32]>,
}

/// How one registration ended on each side.
#[derive(Debug)]
pub struct RegistrationOutcome {
    /// The device's result: the session keys, or its explicit failure.
    pub device: Result<SessionKeys, Error>,
    /// The registrar session's result, if the device's first message ever reached it.
    pub registrar: Option<Result<SessionKeys, Error>>,
    /// The device's first message as sent, for replay tests.
    pub first_message: Option<Vec<u8>>,
}

/// Everything around the three machines. See the [module documentation](self).
pub struct World {
    /// The virtual clock, in seconds.
    pub now: u64,
    /// The seeded generator every party draws from.
    pub rng: SimRng,
    /// Faults on every link.
    pub faults: Faults,
    /// The agent's shared configuration.
    pub agent: AgentConfig,
    /// The agent's authenticated identity, the devices' trust anchor.
    pub agent_identity: [u8; 32],
    /// The registrar's authenticated identity, as the agent's host sees it.
    pub registrar_identity: [u8; 32],
    /// The registrar's shared state.
    pub registrar: Registrar,
    /// How many times the agent was restarted.
    pub agent_restarts: u32,
    /// Lockout window for PIN failures, seconds.
    pub lockout_window: u64,
    users: BTreeMap<Vec<u8>, User>,
    /// PIN failure times of logins outside the directory, at most [`MAX_UNKNOWN_LOGINS`].
    unknown_logins: BTreeMap<Vec<u8>, Vec<u64>>,
    counters: BTreeMap<Vec<u8>, u32>,
    reservations: Vec<(Vec<u8>, u32)>,
    issues: Vec<(Vec<u8>, u32)>,
    issued: BTreeMap<Vec<u8>, Issued>,
    latest: BTreeMap<Vec<u8>, u32>,
}

/// The service the simulated registrar serves.
pub const SERVICE: &[u8] = b"sip.example.com";

impl World {
    /// A world fully determined by `seed`.
    pub fn new(seed: u64, faults: Faults) -> Self {
        let mut rng = SimRng::from_seed(seed);
        let mut master_seed = [0u8; 32];
        rng.fill(&mut master_seed);
        let master = MasterKey::from_seed(&master_seed, b"example enterprise", 1)
            .unwrap_or_else(|_| unreachable!("valid seed and enterprise"));
        let mut keyring = MasterKeyring::new();
        let _ = keyring.insert(&master);
        let agent = AgentConfig {
            agent_id: AgentId::new("agent-1").unwrap_or_else(|_| unreachable!("valid name")),
            keyring,
            key_lifetime: 86_400,
            require_pin: false,
            max_pin_failures: 3,
        };
        let registrar = Registrar::new(RegistrarConfig {
            service: SERVICE.to_vec(),
            challenge_lifetime: 30,
            clock_window: 60,
            registration_lifetime: 3_600,
            key_cache_capacity: 1_024,
            replay_cache_capacity: 1_024,
        });
        let mut agent_identity = [0u8; 32];
        rng.fill(&mut agent_identity);
        let mut registrar_identity = [0u8; 32];
        rng.fill(&mut registrar_identity);
        Self {
            now: 1_700_000_000,
            rng,
            faults,
            agent,
            agent_identity,
            registrar_identity,
            registrar,
            agent_restarts: 0,
            lockout_window: 900,
            users: BTreeMap::new(),
            unknown_logins: BTreeMap::new(),
            counters: BTreeMap::new(),
            reservations: Vec::new(),
            issues: Vec::new(),
            issued: BTreeMap::new(),
            latest: BTreeMap::new(),
        }
    }

    /// Enrolls a user; returns the salt the device needs with the PIN.
    pub fn add_user(&mut self, login: &[u8], pin: &Pin) -> Vec<u8> {
        let mut salt = vec![0u8; 16];
        self.rng.fill(&mut salt);
        let verifier = agent::pin_verifier(&salt, pin);
        self.users.insert(
            login.to_vec(),
            User {
                verifier,
                failures: Vec::new(),
            },
        );
        salt
    }

    /// Revokes an issued key identifier.
    pub fn revoke(&mut self, key_id: &KeyId) {
        if let Some(issued) = self.issued.get_mut(&key_id.to_bytes()) {
            issued.revoked = true;
        }
    }

    /// Whether any counter was ever reserved twice for the same subject.
    /// Also true if a key was issued under a counter that was not reserved for it, or two keys
    /// under the same counter.
    pub fn counter_reused(&self) -> bool {
        let mut reserved = std::collections::BTreeSet::new();
        let mut issued = std::collections::BTreeSet::new();
        !(self
            .reservations
            .iter()
            .all(|entry| reserved.insert(entry.clone()))
            && self.issues.iter().all(|entry| issued.insert(entry.clone()))
            && issued.is_subset(&reserved))
    }

    /// Whether a newer key identifier than this one was issued to the same device.
    pub fn is_superseded(&self, key_id: &KeyId) -> bool {
        let check = self.check_key(&self.registrar_identity, SERVICE, key_id, None);
        check.status == KeyStatus::Superseded
    }

    /// Every counter reservation made, in order: (subject, counter).
    pub fn reservations(&self) -> &[(Vec<u8>, u32)] {
        &self.reservations
    }

    /// A device configuration trusting this world's agent.
    pub fn device_config(&self, subject: device::Subject) -> ProvisioningConfig {
        ProvisioningConfig {
            trust_anchor: self.agent_identity,
            subject,
            user: None,
            expected_agent: Some(self.agent.agent_id),
            last_counter: None,
            require_address: false,
            response_timeout: 10,
        }
    }
}

/// The machines of one provisioning session and the links between them.
struct ProvisionRun {
    device: device::Provisioning,
    agent: Option<agent::Provisioning>,
    to_agent: Link,
    to_device: Link,
    stored: Option<Credentials>,
    restart_pending: bool,
}

impl World {
    /// Runs one provisioning to its end; returns the stored credentials or the device's
    /// explicit failure.
    pub fn provision(&mut self, run: &Provision) -> Result<Credentials, Error> {
        let mut state = ProvisionRun {
            device: device::Provisioning::new(run.config.clone()),
            agent: Some(agent::Provisioning::new()),
            to_agent: Link::default(),
            to_device: Link::default(),
            stored: None,
            restart_pending: run.restart_agent_after_reservation,
        };
        let mut binding = [0u8; 32];
        self.rng.fill(&mut binding);
        if run.report_address {
            state.device.handle_address()?;
        }
        if let Some(agent) = &mut state.agent {
            agent.handle_connected(&binding)?;
        }
        let identity = run.impostor.unwrap_or(self.agent_identity);
        let session = AgentSession {
            agent_identity: &identity,
            channel_binding: &binding,
        };
        state.device.handle_connected(self.now, &session)?;
        for _ in 0..MAX_STEPS {
            if let Some(result) = self.provision_step(&mut state) {
                return result;
            }
        }
        Err(STUCK)
    }

    fn provision_step(&mut self, s: &mut ProvisionRun) -> Option<Result<Credentials, Error>> {
        let mut progressed = false;
        self.agent_events(s);
        if let Some(result) = self.device_events(s) {
            return Some(result);
        }
        while let Some(bytes) = s.device.poll_transmit() {
            s.to_agent.send(bytes, self.faults, &mut self.rng);
        }
        if let Some(agent) = &mut s.agent {
            while let Some(bytes) = agent.poll_transmit() {
                s.to_device.send(bytes, self.faults, &mut self.rng);
            }
        }
        if let Some(bytes) = s.to_agent.deliver() {
            progressed = true;
            if let Some(agent) = &mut s.agent {
                let _ = agent.handle_message(&self.agent, &mut self.rng, &bytes);
            }
        }
        if let Some(bytes) = s.to_device.deliver() {
            progressed = true;
            let _ = s.device.handle_message(self.now, &bytes);
        }
        let agent_done = s
            .agent
            .as_ref()
            .is_none_or(|a| a.is_answered() || a.is_failed());
        if agent_done && s.to_device.queue.is_empty() && !progressed {
            // The agent's host closes the session once its answer is sent (or it failed).
            let _ = s.device.handle_closed();
            progressed = true;
        }
        if s.device.is_failed()
            && let Some(agent) = &mut s.agent
        {
            // The device's host closed the session: the agent learns it too.
            let _ = agent.handle_closed();
        }
        if !progressed {
            self.now = s
                .device
                .poll_timeout()
                .unwrap_or(self.now + 1)
                .max(self.now + 1);
            let _ = s.device.handle_timeout(self.now);
        }
        None
    }

    fn agent_events(&mut self, s: &mut ProvisionRun) {
        loop {
            let Some(agent) = &mut s.agent else { return };
            let Some(event) = agent.poll_event() else {
                return;
            };
            match event {
                agent::Event::LookupUser { handle, login } => {
                    let record = self.lookup_user(&login);
                    let _ = agent.handle_user_result(&self.agent, self.now, handle, record);
                }
                agent::Event::PinRejected { login, at } => self.count_pin_failure(&login, at),
                agent::Event::PinAccepted { login } => {
                    if let Some(user) = self.users.get_mut(&login) {
                        user.failures.clear();
                    }
                }
                agent::Event::ReserveCounter {
                    handle,
                    reservation,
                } => {
                    let counter = self.reserve(&reservation);
                    if s.restart_pending && counter.is_ok() {
                        // The counter is durable; the agent dies before it can answer.
                        s.restart_pending = false;
                        s.agent = None;
                        self.agent_restarts += 1;
                        return;
                    }
                    let _ = agent.handle_counter_result(&self.agent, self.now, handle, counter);
                }
                agent::Event::Issued {
                    key_id,
                    counter,
                    not_after,
                } => {
                    self.record_issue(&key_id, counter, not_after);
                }
                agent::Event::CheckKey { .. } | agent::Event::Failed(_) => {}
            }
        }
    }

    fn device_events(&mut self, s: &mut ProvisionRun) -> Option<Result<Credentials, Error>> {
        while let Some(event) = s.device.poll_event() {
            match event {
                device::Event::StoreCredentials {
                    handle,
                    credentials,
                } => {
                    s.stored = Some(credentials);
                    let _ = s.device.handle_store_result(handle, Ok(()));
                }
                device::Event::CloseSession => {
                    let _ = s.device.handle_closed();
                }
                device::Event::Provisioned { .. } => return s.stored.take().map(Ok),
                device::Event::Failed(error) => return Some(Err(error)),
                device::Event::Registered { .. } => {}
            }
        }
        None
    }

    /// One failed PIN attempt, at the agent or at the registrar, for the lockout; counted for
    /// a login outside the directory too, in a bounded table.
    fn count_pin_failure(&mut self, login: &[u8], at: u64) {
        if let Some(user) = self.users.get_mut(login) {
            user.failures.push(at);
            return;
        }
        if !self.unknown_logins.contains_key(login)
            && self.unknown_logins.len() >= MAX_UNKNOWN_LOGINS
        {
            self.forget_oldest_unknown_login();
        }
        self.unknown_logins
            .entry(login.to_vec())
            .or_default()
            .push(at);
    }

    /// Makes room in the table of unknown logins: the one whose last failure is oldest goes.
    fn forget_oldest_unknown_login(&mut self) {
        let oldest = self
            .unknown_logins
            .iter()
            .min_by_key(|(_, failures)| failures.last().copied().unwrap_or(0))
            .map(|(login, _)| login.clone());
        if let Some(login) = oldest {
            self.unknown_logins.remove(&login);
        }
    }

    /// The directory's answer for a login, known or not, with its failures in the window.
    fn lookup_user(&mut self, login: &[u8]) -> UserRecord {
        let window_start = self.now.saturating_sub(self.lockout_window);
        let (verifier, failures) = match self.users.get_mut(login) {
            Some(user) => (Some(user.verifier.clone()), &mut user.failures),
            None => match self.unknown_logins.get_mut(login) {
                Some(failures) => (None, failures),
                None => {
                    return UserRecord {
                        verifier: None,
                        recent_failures: 0,
                    };
                }
            },
        };
        failures.retain(|&at| at >= window_start);
        UserRecord {
            verifier,
            recent_failures: failures.len() as u32,
        }
    }

    /// The durable counter store: the next counter of the reservation's sequence.
    fn reserve(&mut self, reservation: &Reservation) -> Result<u32, Error> {
        let sequence = match reservation {
            Reservation::Device(device) => device_key(&device.to_string()),
            Reservation::Anonymous(_) => b"anonymous".to_vec(),
            Reservation::Proposed(key_id) => {
                if self.issued.contains_key(&key_id.to_bytes()) {
                    return Err(Error::Superseded);
                }
                key_id
                    .device_id()
                    .map_or(b"anonymous".to_vec(), |d| device_key(&d.to_string()))
            }
        };
        let next = match self.counters.get(&sequence) {
            Some(last) => last.checked_add(1).ok_or(Error::CounterExhausted)?,
            None => 1,
        };
        self.counters.insert(sequence.clone(), next);
        self.reservations.push((sequence, next));
        Ok(next)
    }

    fn record_issue(&mut self, key_id: &KeyId, counter: u32, not_after: u64) {
        let issued = Issued {
            counter,
            not_after,
            revoked: false,
        };
        self.issued.insert(key_id.to_bytes(), issued);
        let sequence = key_id
            .device_id()
            .map_or(b"anonymous".to_vec(), |d| device_key(&d.to_string()));
        self.issues.push((sequence, counter));
        if let Some(device) = key_id.device_id() {
            let latest = self
                .latest
                .entry(device_key(&device.to_string()))
                .or_insert(0);
            *latest = (*latest).max(counter);
        }
    }

    /// What the agent's host answers about a key identifier.
    fn check_key(
        &self,
        registrar: &[u8; 32],
        service: &[u8],
        key_id: &KeyId,
        login: Option<&[u8]>,
    ) -> KeyCheck {
        let authorized = *registrar == self.registrar_identity && service == SERVICE;
        let status = match self.issued.get(&key_id.to_bytes()) {
            None => KeyStatus::Unknown,
            Some(issued) if issued.revoked => KeyStatus::Revoked,
            Some(issued) => {
                let device = key_id.device_id().map(|d| device_key(&d.to_string()));
                let latest = device.and_then(|d| self.latest.get(&d).copied());
                if latest.is_some_and(|latest| latest > issued.counter) {
                    KeyStatus::Superseded
                } else {
                    KeyStatus::Current {
                        not_after: issued.not_after,
                    }
                }
            }
        };
        let pin_verifier = login
            .and_then(|l| self.users.get(l))
            .map(|u| u.verifier.clone());
        KeyCheck {
            authorized,
            status,
            pin_verifier,
        }
    }
}

fn device_key(text: &str) -> Vec<u8> {
    let mut key = b"device ".to_vec();
    key.extend_from_slice(text.as_bytes());
    key
}

/// The machines of one registration and the links between them.
struct RegisterRun {
    device: device::Registration,
    session: registrar::Session,
    to_registrar: Link,
    to_device: Link,
    first_message: Option<Vec<u8>>,
    registrar_seen: bool,
    device_result: Option<Result<SessionKeys, Error>>,
    registrar_result: Option<Result<SessionKeys, Error>>,
}

impl World {
    /// Runs one registration with stored credentials to its end on both sides.
    pub fn register(
        &mut self,
        credentials: &Credentials,
        config: RegistrationConfig,
    ) -> Result<RegistrationOutcome, Error> {
        let device =
            device::Registration::new(config, credentials.key_id, &credentials.secret_key)?;
        let mut run = RegisterRun {
            device,
            session: registrar::Session::new(),
            to_registrar: Link::default(),
            to_device: Link::default(),
            first_message: None,
            registrar_seen: false,
            device_result: None,
            registrar_result: None,
        };
        run.device.start(self.now, &mut self.rng)?;
        for _ in 0..MAX_STEPS {
            self.register_step(&mut run);
            let registrar_done = !run.registrar_seen || run.registrar_result.is_some();
            if run.device_result.is_some() && registrar_done && run.to_registrar.queue.is_empty() {
                return Ok(RegistrationOutcome {
                    device: run.device_result.take().unwrap_or(Err(Error::TimedOut)),
                    registrar: run.registrar_result.take(),
                    first_message: run.first_message.take(),
                });
            }
        }
        Err(STUCK)
    }

    fn register_step(&mut self, r: &mut RegisterRun) {
        let mut progressed = false;
        self.registrar_events(r);
        while let Some(event) = r.device.poll_event() {
            match event {
                device::Event::Registered { session_keys, .. } => {
                    r.device_result = Some(Ok(session_keys));
                }
                device::Event::Failed(error) => r.device_result = Some(Err(error)),
                _ => {}
            }
        }
        while let Some(bytes) = r.device.poll_transmit() {
            progressed = true;
            r.first_message.get_or_insert_with(|| bytes.clone());
            r.to_registrar.send(bytes, self.faults, &mut self.rng);
        }
        while let Some(bytes) = r.session.poll_transmit() {
            progressed = true;
            r.to_device.send(bytes, self.faults, &mut self.rng);
        }
        if let Some(bytes) = r.to_registrar.deliver() {
            progressed = true;
            let (now, registrar) = (self.now, &mut self.registrar);
            let result = r
                .session
                .handle_message(registrar, now, &mut self.rng, &bytes);
            // A session that never accepted a first message never started.
            r.registrar_seen |= result.is_ok() || r.session.is_failed();
        }
        if let Some(bytes) = r.to_device.deliver() {
            progressed = true;
            let _ = r.device.handle_message(&bytes);
        }
        if !progressed {
            self.now = next_deadline(self.now, &r.device, &r.session);
            let _ = r.device.handle_timeout(self.now);
            let _ = r.session.handle_timeout(self.now);
        }
    }

    fn registrar_events(&mut self, r: &mut RegisterRun) {
        while let Some(event) = r.session.poll_event() {
            match event {
                registrar::Event::FetchKey {
                    handle,
                    key_id,
                    login,
                } => {
                    let key = self.fetch_key(&key_id, login.as_deref());
                    self.answer_fetch(r, handle, key);
                }
                registrar::Event::Registered { session_keys, .. } => {
                    r.registrar_result = Some(Ok(session_keys));
                }
                registrar::Event::Failed(error) => r.registrar_result = Some(Err(error)),
                registrar::Event::PinRejected { login, at } => self.count_pin_failure(&login, at),
            }
        }
    }

    fn answer_fetch(
        &mut self,
        r: &mut RegisterRun,
        handle: Handle,
        key: Result<FetchedKey, Error>,
    ) {
        let (now, registrar) = (self.now, &mut self.registrar);
        let _ = r
            .session
            .handle_key_result(registrar, now, &mut self.rng, handle, key);
    }

    /// One key fetch over a fresh mutual TLS connection to the agent, through the links.
    pub fn fetch_key(&mut self, key_id: &KeyId, login: Option<&[u8]>) -> Result<FetchedKey, Error> {
        let mut client = KeyClient::new();
        let mut service = KeyService::new(self.registrar_identity);
        let request_id = client.request(key_id, SERVICE, login)?;
        let mut to_agent = Link::default();
        while let Some(bytes) = client.poll_transmit() {
            to_agent.send(bytes, self.faults, &mut self.rng);
        }
        while let Some(bytes) = to_agent.deliver() {
            let _ = service.handle_message(&self.agent, &bytes);
        }
        while let Some(event) = service.poll_event() {
            if let agent::Event::CheckKey {
                handle,
                registrar,
                service: name,
                key_id,
                login,
            } = event
            {
                let check = self.check_key(&registrar, &name, &key_id, login.as_deref());
                let _ = service.handle_check_result(&self.agent, self.now, handle, check);
            }
        }
        let mut to_registrar = Link::default();
        while let Some(bytes) = service.poll_transmit() {
            to_registrar.send(bytes, self.faults, &mut self.rng);
        }
        while let Some(bytes) = to_registrar.deliver() {
            if let Ok((id, answer)) = client.handle_message(&bytes)
                && id == request_id
            {
                return answer;
            }
        }
        // Nothing usable came back: the host's fetch times out.
        Err(Error::TimedOut)
    }

    /// Delivers `bytes` (a captured first message) to a fresh registrar session and returns
    /// what that session concluded: a registration replayed this way must be refused.
    pub fn replay(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let mut session = registrar::Session::new();
        let (now, registrar) = (self.now, &mut self.registrar);
        session.handle_message(registrar, now, &mut self.rng, bytes)?;
        while let Some(event) = session.poll_event() {
            match event {
                registrar::Event::FetchKey {
                    handle,
                    key_id,
                    login,
                } => {
                    let key = self.fetch_key(&key_id, login.as_deref());
                    let (now, registrar) = (self.now, &mut self.registrar);
                    session.handle_key_result(registrar, now, &mut self.rng, handle, key)?;
                }
                registrar::Event::Registered { .. } => return Ok(()),
                registrar::Event::Failed(error) => return Err(error),
                registrar::Event::PinRejected { login, at } => self.count_pin_failure(&login, at),
            }
        }
        // A replayed hello only earns a fresh challenge, which the replayer cannot answer.
        Err(Error::StaleChallenge)
    }
}

fn next_deadline(now: u64, device: &device::Registration, session: &registrar::Session) -> u64 {
    let deadlines = [device.poll_timeout(), session.poll_timeout()];
    let next = deadlines.into_iter().flatten().filter(|&d| d > now).min();
    next.unwrap_or(now + 1).max(now + 1)
}
