//! The key generating agent service: provisioning sessions from devices and per-service key
//! requests from registrars, each on its own TLS listener.
//!
//! Devices connect without a client certificate and authenticate by their identifier and,
//! when their user has one, a PIN proof bound to the TLS session. Registrars must present a
//! client certificate; the DNS name in it is the one service they may fetch keys for.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use keyprov::Error as KpError;
use keyprov::agent::{
    self, KeyCheck, KeyService, KeyStatus, Provisioning, Reservation, UserRecord,
};
use keyprov::digest::{self, HashAlgorithm};
use keyprov::keyid::{AgentId, DeviceId, DeviceIdType, KeyId};
use keyprov::keys::MasterKeyring;
use keyprov::secret::{DigestHa1, DigestPassphrase, MasterKey, PinVerifier};
use rustls::pki_types::CertificateDer;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, info, warn};
use zeroize::Zeroizing;

use crate::chain;
use crate::framing::{read_frame, write_frame};
use crate::random::OsRng;
use crate::store::{KeyStatus as StoreStatus, MAX_PIN_FAILURES, Store};
use crate::tls::{self, Identity};

/// Longest keyprov message read from a peer; keyprov's own limit.
pub const MAX_MESSAGE: usize = keyprov::wire::MAX_MESSAGE_LEN;
/// Time a peer has to finish the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// TLS exporter label of the provisioning channel binding.
pub const CHANNEL_BINDING_LABEL: &[u8] = b"EXPORTER-keyprov-services provisioning";
/// Length of the channel binding, in bytes.
pub const CHANNEL_BINDING_LEN: usize = 32;

/// Connections served at once per listener; one more is closed at once, so that peers
/// holding connections open cannot run the service out of file descriptors.
pub const MAX_CONNECTIONS: usize = 1024;

/// Time a connection may stay idle between requests.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything the agent needs to run.
pub struct AgentConfig {
    /// Where devices connect.
    pub device_listen: SocketAddr,
    /// Where registrars connect (client certificates required).
    pub registrar_listen: SocketAddr,
    /// The agent's certificate and key.
    pub identity: Identity,
    /// The CA that registrar client certificates chain to.
    pub ca: PathBuf,
    /// The SQLite database.
    pub database: PathBuf,
    /// The master key seed.
    pub seed: Zeroizing<Vec<u8>>,
    /// The enterprise identifier the master key is bound to.
    pub enterprise: String,
    /// The agent identifier written into key identifiers.
    pub agent_id: String,
    /// Lifetime of an issued key, in seconds.
    pub key_lifetime: u64,
}

/// What the agent's master keys are made from.
pub struct AgentKeys<'a> {
    /// The master key seed.
    pub seed: &'a [u8],
    /// The enterprise identifier.
    pub enterprise: &'a str,
    /// The agent identifier.
    pub agent_id: &'a str,
    /// Lifetime of an issued key, in seconds.
    pub key_lifetime: u64,
}

/// A running agent; dropping it stops it.
pub struct RunningAgent {
    /// The bound device-facing address.
    pub device_addr: SocketAddr,
    /// The bound registrar-facing address.
    pub registrar_addr: SocketAddr,
    tasks: JoinSet<()>,
}

impl RunningAgent {
    /// Stops listening and closes every connection at once, as a crash would.
    pub async fn stop(mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// The agent's host side, independent of sockets: keyprov's agent configuration and the
/// store that answers the machines' events.
pub struct AgentCore {
    store: Store,
    machine: agent::AgentConfig,
    /// Held through each provisioning request with a user, so that sessions guessing one
    /// user's PIN at once cannot all read a failure count below the limit before any of them
    /// adds to it.
    pin_checks: std::sync::Mutex<()>,
}

/// Starts the agent.
pub async fn start(config: AgentConfig) -> Result<RunningAgent> {
    let core = Arc::new(AgentCore::open(&config)?);
    let device_tls = TlsAcceptor::from(tls::device_facing_server(&config.identity)?);
    let registrar_tls =
        TlsAcceptor::from(tls::registrar_facing_server(&config.identity, &config.ca)?);
    let device_listener = TcpListener::bind(config.device_listen).await?;
    let registrar_listener = TcpListener::bind(config.registrar_listen).await?;
    let device_addr = device_listener.local_addr()?;
    let registrar_addr = registrar_listener.local_addr()?;
    info!(%device_addr, %registrar_addr, "agent listening");

    let mut tasks = JoinSet::new();
    let c = core.clone();
    tasks.spawn(accept_loop(device_listener, move |tcp| {
        serve_device(tcp, device_tls.clone(), c.clone())
    }));
    tasks.spawn(accept_loop(registrar_listener, move |tcp| {
        serve_registrar(tcp, registrar_tls.clone(), core.clone())
    }));
    Ok(RunningAgent {
        device_addr,
        registrar_addr,
        tasks,
    })
}

async fn accept_loop<F, Fut>(listener: TcpListener, serve: F)
where
    F: Fn(TcpStream) -> Fut,
    Fut: std::future::Future<Output = Result<()>> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((_, peer)) if connections.len() >= MAX_CONNECTIONS => {
                    debug!(%peer, "too many connections: closed at once");
                }
                Ok((tcp, peer)) => {
                    let _ = tcp.set_nodelay(true);
                    let served = serve(tcp);
                    connections.spawn(async move {
                        if let Err(e) = served.await {
                            debug!(%peer, error = %chain(&e), "connection ended with an error");
                        }
                    });
                }
                Err(e) => warn!(error = %e, "accept failed"),
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_device(tcp: TcpStream, acceptor: TlsAcceptor, core: Arc<AgentCore>) -> Result<()> {
    let mut stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp))
        .await
        .context("tls handshake timed out")??;
    let mut binding = [0u8; CHANNEL_BINDING_LEN];
    stream
        .get_ref()
        .1
        .export_keying_material(&mut binding, CHANNEL_BINDING_LABEL, None)?;
    let frame = tokio::time::timeout(IDLE_TIMEOUT, read_frame(&mut stream, MAX_MESSAGE))
        .await
        .context("device sent no request")??;
    let Some(request) = frame else { return Ok(()) };
    let now = crate::now();
    let answer =
        tokio::task::spawn_blocking(move || core.provision(&request, &binding, now)).await??;
    if let Some(answer) = answer {
        write_frame(&mut stream, &answer).await?;
    }
    stream.shutdown().await?;
    Ok(())
}

async fn serve_registrar(
    tcp: TcpStream,
    acceptor: TlsAcceptor,
    core: Arc<AgentCore>,
) -> Result<()> {
    let mut stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp))
        .await
        .context("tls handshake timed out")??;
    let peer: CertificateDer<'static> = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|certs| certs.first())
        .context("registrar presented no certificate")?
        .clone()
        .into_owned();
    let peer = Arc::new(peer);
    let mut service = Some(KeyService::new(tls::identity(&peer)));
    loop {
        let frame = tokio::time::timeout(IDLE_TIMEOUT, read_frame(&mut stream, MAX_MESSAGE))
            .await
            .context("connection idle")??;
        let Some(request) = frame else { return Ok(()) };
        let (core, peer) = (core.clone(), peer.clone());
        let mut machine = service.take().context("key service lost")?;
        let (machine, answers) = tokio::task::spawn_blocking(move || {
            let answers = core.key_requests(&mut machine, &request, &peer, crate::now());
            (machine, answers)
        })
        .await?;
        for answer in answers? {
            write_frame(&mut stream, &answer).await?;
        }
        if machine.is_failed() {
            bail!("registrar sent bytes that do not decode");
        }
        service = Some(machine);
    }
}

impl AgentCore {
    /// Opens the store and derives the master keys of every epoch up to the current one.
    pub fn open(config: &AgentConfig) -> Result<Self> {
        let keys = AgentKeys {
            seed: &config.seed,
            enterprise: &config.enterprise,
            agent_id: &config.agent_id,
            key_lifetime: config.key_lifetime,
        };
        Self::open_store(&config.database, &keys)
    }

    /// Opens the store at `database` with the master keys made from `keys`.
    pub fn open_store(database: &Path, keys: &AgentKeys<'_>) -> Result<Self> {
        let store = Store::open(database)?;
        let mut keyring = MasterKeyring::new();
        for (epoch, retired) in store.epochs(crate::now())? {
            let epoch = u16::try_from(epoch).context("epoch > 65535")?;
            let master = MasterKey::from_seed(keys.seed, keys.enterprise.as_bytes(), epoch)?;
            keyring.insert(&master)?;
            if retired {
                keyring.retire(epoch)?;
            }
        }
        let machine = agent::AgentConfig {
            agent_id: AgentId::new(keys.agent_id)?,
            keyring,
            key_lifetime: keys.key_lifetime,
            require_pin: false,
            max_pin_failures: MAX_PIN_FAILURES,
        };
        Ok(Self {
            store,
            machine,
            pin_checks: std::sync::Mutex::new(()),
        })
    }

    /// H(A1) of every current key identifier for `realm`, for a registrar that verifies
    /// Digest from stored H(A1) values and never holds a key (the username is the key
    /// identifier's text).
    pub fn export_ha1(&self, realm: &str, hash: HashAlgorithm) -> Result<Vec<(String, DigestHa1)>> {
        let now = crate::now();
        let mut rows = Vec::new();
        for (text, epoch) in self.store.current_keys(now)? {
            let key_id: KeyId = text
                .parse()
                .map_err(|e| anyhow::anyhow!("stored key id: {e}"))?;
            let schedule = self.machine.keyring.schedule(u16::try_from(epoch)?)?;
            let password = schedule
                .device_key(&key_id.to_bytes())?
                .authentication_key()
                .service_key(realm.as_bytes())?
                .digest_password();
            let ha1 = digest::ha1(hash, &text, realm, &DigestPassphrase::from(&password));
            rows.push((text, ha1));
        }
        Ok(rows)
    }

    /// Runs one provisioning session's request through keyprov's agent machine, answering
    /// its events from the store. Returns what to send back: the key, a refusal, or nothing
    /// for bytes that do not decode. A store failure is an error, and the device retries.
    pub fn provision(&self, request: &[u8], binding: &[u8], now: u64) -> Result<Option<Vec<u8>>> {
        let mut machine = Provisioning::new();
        machine.handle_connected(binding)?;
        if let Err(e) = machine.handle_message(&self.machine, &mut OsRng, request) {
            debug!(error = %e, "provisioning request refused");
        }
        let mut pin_checked = None;
        let mut _pin_check = None;
        while let Some(event) = machine.poll_event() {
            if matches!(event, agent::Event::LookupUser { .. }) {
                // Held from the lookup until this request is done.
                _pin_check = Some(lock(&self.pin_checks));
            }
            self.provisioning_event(&mut machine, event, &mut pin_checked, now)?;
        }
        Ok(machine.poll_transmit())
    }

    fn provisioning_event(
        &self,
        machine: &mut Provisioning,
        event: agent::Event,
        pin_checked: &mut Option<Vec<u8>>,
        now: u64,
    ) -> Result<()> {
        let config = &self.machine;
        match event {
            agent::Event::LookupUser { handle, login } => {
                let record = self.user_record(&login, now)?;
                let _ = machine.handle_user_result(config, now, handle, record);
            }
            agent::Event::PinRejected { login, at } => {
                let login = String::from_utf8_lossy(&login);
                let failures = self.store.pin_failed(&login, at)?;
                warn!(login = %login, failures, "wrong pin");
            }
            agent::Event::PinAccepted { login } => {
                self.store.pin_accepted(&String::from_utf8_lossy(&login))?;
                *pin_checked = Some(login);
            }
            agent::Event::ReserveCounter {
                handle,
                reservation,
            } => {
                let counter = self.reserve(reservation, pin_checked.as_deref())?;
                let _ = machine.handle_counter_result(config, now, handle, counter);
            }
            agent::Event::Issued {
                key_id,
                counter,
                not_after,
            } => {
                let device = key_id
                    .device_id()
                    .map(|d| d.to_string())
                    .unwrap_or_default();
                let text = key_id.to_string();
                let epoch = key_id.epoch().into();
                self.store
                    .record_issued(&text, &device, epoch, counter, now, not_after)?;
                info!(key_id = %text, device = %device, counter, "key issued");
            }
            agent::Event::Failed(KpError::LockedOut) => {
                warn!("provisioning refused: user locked out")
            }
            agent::Event::Failed(e) => info!(error = %e, "provisioning refused"),
            other => debug!(event = ?other, "unexpected agent event"),
        }
        Ok(())
    }

    /// The directory's answer for a login, known or not: failures are counted for both alike
    /// (under the same lossy text the PIN failures are recorded with).
    fn user_record(&self, login: &[u8], now: u64) -> Result<UserRecord> {
        let (verifier, recent_failures) = self
            .store
            .user_record(&String::from_utf8_lossy(login), now)?;
        let verifier = match std::str::from_utf8(login) {
            Ok(_) => verifier.map(|v| PinVerifier::from_bytes(&v)).transpose()?,
            Err(_) => None,
        };
        Ok(UserRecord {
            verifier,
            recent_failures,
        })
    }

    /// Reserves the next counter of a device in the directory, after checking that a user
    /// with a PIN proved it in this session. Anything else is refused.
    fn reserve(
        &self,
        reservation: Reservation,
        pin_checked: Option<&[u8]>,
    ) -> Result<Result<u32, KpError>> {
        let Reservation::Device(device) = reservation else {
            return Ok(Err(KpError::NotAuthorized));
        };
        let Some(entry) = self.directory_entry(&device)? else {
            info!(%device, "provisioning refused: device not in the directory");
            return Ok(Err(KpError::NotAuthorized));
        };
        let has_pin = self.store.has_pin(&entry.login)?;
        if has_pin && pin_checked != Some(entry.login.as_bytes()) {
            info!(%device, "provisioning refused: the user's pin was not proven");
            return Ok(Err(KpError::NotAuthorized));
        }
        let counter = self.store.reserve_counters(&device.to_string(), 1)?;
        Ok(Ok(counter))
    }

    fn directory_entry(&self, device: &DeviceId) -> Result<Option<crate::store::DeviceEntry>> {
        match device.kind() {
            DeviceIdType::SerialNumber => self.store.device_by("serial", &value_text(device)),
            DeviceIdType::Mac => {
                let mac = crate::inventory::normalise_mac(&value_text(device))?;
                self.store.device_by("mac", &mac)
            }
            _ => Ok(None),
        }
    }

    /// Runs one message of a registrar connection through keyprov's key service machine;
    /// returns the answers to send.
    pub fn key_requests(
        &self,
        machine: &mut KeyService,
        request: &[u8],
        peer: &CertificateDer<'_>,
        now: u64,
    ) -> Result<Vec<Vec<u8>>> {
        if let Err(e) = machine.handle_message(&self.machine, request) {
            debug!(error = %e, "key request refused");
        }
        while let Some(event) = machine.poll_event() {
            match event {
                agent::Event::CheckKey {
                    handle,
                    service,
                    key_id,
                    login,
                    ..
                } => {
                    let mut check = self.check_key(&service, &key_id, peer, now)?;
                    if let Some(login) = login {
                        check.pin_verifier = self.user_record(&login, now)?.verifier;
                    }
                    if let Err(e) = machine.handle_check_result(&self.machine, now, handle, check) {
                        debug!(key_id = %key_id, error = %e, "key request refused");
                    }
                }
                agent::Event::Failed(e) => info!(error = %e, "registrar connection failed"),
                other => debug!(event = ?other, "unexpected agent event"),
            }
        }
        Ok(std::iter::from_fn(|| machine.poll_transmit()).collect())
    }

    fn check_key(
        &self,
        service: &[u8],
        key_id: &KeyId,
        peer: &CertificateDer<'_>,
        now: u64,
    ) -> Result<KeyCheck> {
        let service = String::from_utf8_lossy(service);
        let authorized = tls::certificate_names(peer, &service);
        if !authorized {
            warn!(service = %service, "key request for a service not in the registrar certificate");
        }
        let status = match self.store.key_status(&key_id.to_string(), now)? {
            StoreStatus::Current { expires_at, .. } => KeyStatus::Current {
                not_after: expires_at,
            },
            StoreStatus::Expired => KeyStatus::Current {
                not_after: now.saturating_sub(1),
            },
            StoreStatus::Superseded => KeyStatus::Superseded,
            StoreStatus::Revoked => KeyStatus::Revoked,
            StoreStatus::Unknown => KeyStatus::Unknown,
        };
        Ok(KeyCheck {
            authorized,
            status,
            pin_verifier: None,
        })
    }
}

/// The value of a device identifier without its type prefix (`sn:SN1` gives `SN1`).
fn value_text(device: &DeviceId) -> String {
    let text = device.to_string();
    match text.split_once(':') {
        Some((_, value)) => value.to_string(),
        None => text,
    }
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
