//! The key generating agent service: provisioning sessions from devices and per-service key
//! requests from registrars, each on its own TLS listener.
//!
//! Devices connect without a client certificate and authenticate by their identifier and,
//! when their user has one, a PIN proof bound to the TLS session. Registrars must present a
//! client certificate; the DNS name in it is the one service they may fetch keys for.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use keyprov::Error as KpError;
use keyprov::keyid::{AgentId, DeviceId, DeviceIdType, KeyId};
use keyprov::keys::MasterKeyring;
use keyprov::secret::MasterKey;
use keyprov::wire::{Message, Subject};
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, info, warn};
use zeroize::Zeroizing;

use crate::conversation::{self as conv, CHANNEL_BINDING_LABEL, CHANNEL_BINDING_LEN};
use crate::framing::{read_frame, write_frame};
use crate::store::{KeyStatus, PinCheck, Store};
use crate::tls::{self, Identity};

/// Longest keyprov message read from a peer; keyprov's own limit.
pub const MAX_MESSAGE: usize = keyprov::wire::MAX_MESSAGE_LEN;
/// Time a peer has to finish the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
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

/// The agent's decisions, independent of sockets.
pub struct AgentCore {
    store: Store,
    keyring: MasterKeyring,
    agent: AgentId,
    epoch: u16,
    key_lifetime: u64,
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
                Ok((tcp, peer)) => {
                    let _ = tcp.set_nodelay(true);
                    let served = serve(tcp);
                    connections.spawn(async move {
                        if let Err(e) = served.await {
                            debug!(%peer, error = %format!("{e:#}"), "connection ended with an error");
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
    serve_frames(&mut stream, move |request| {
        let core = core.clone();
        async move {
            let now = crate::now();
            tokio::task::spawn_blocking(move || core.provision(&request, &binding, now)).await?
        }
    })
    .await
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
    serve_frames(&mut stream, move |request| {
        let core = core.clone();
        let peer = peer.clone();
        async move {
            let now = crate::now();
            tokio::task::spawn_blocking(move || core.key_request(&request, &peer, now)).await?
        }
    })
    .await
}

/// Answers each frame with the frame `answer` makes, until the peer closes or goes idle.
async fn serve_frames<S, F, Fut>(stream: &mut S, answer: F) -> Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: Fn(Vec<u8>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<u8>>>,
{
    loop {
        let frame = tokio::time::timeout(IDLE_TIMEOUT, read_frame(stream, MAX_MESSAGE))
            .await
            .context("connection idle")??;
        let Some(request) = frame else { return Ok(()) };
        let reply = answer(request).await?;
        write_frame(stream, &reply).await?;
    }
}

impl AgentCore {
    /// Opens the store and derives the master keys of every epoch up to the current one.
    pub fn open(config: &AgentConfig) -> Result<Self> {
        let store = Store::open(&config.database)?;
        let epoch = u16::try_from(store.current_epoch(crate::now())?).context("epoch > 65535")?;
        let mut keyring = MasterKeyring::new();
        for e in 1..=epoch {
            let master = MasterKey::from_seed(&config.seed, config.enterprise.as_bytes(), e)?;
            keyring.insert(&master)?;
        }
        let agent = AgentId::new(&config.agent_id)?;
        Ok(Self {
            store,
            keyring,
            agent,
            epoch,
            key_lifetime: config.key_lifetime,
        })
    }

    /// The agent's store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Answers one provisioning request received on a TLS session with channel binding
    /// `binding`. Refusals carry keyprov's outcome code; a store failure is an error, and the
    /// device is left to retry.
    pub fn provision(&self, request: &[u8], binding: &[u8], now: u64) -> Result<Vec<u8>> {
        match self.try_provision(request, binding, now)? {
            Ok(answer) => Ok(answer),
            Err(refused) => Ok(conv::refusal(refused)),
        }
    }

    fn try_provision(
        &self,
        request: &[u8],
        binding: &[u8],
        now: u64,
    ) -> Result<Result<Vec<u8>, KpError>> {
        let request = match Message::decode(request) {
            Ok(Message::ProvisionRequest(request)) => request,
            Ok(_) => {
                return Ok(Err(KpError::UnexpectedMessage {
                    state: "provisioning",
                }));
            }
            Err(e) => {
                debug!(error = %e, "undecodable provisioning request");
                return Ok(Err(e));
            }
        };
        let Subject::DeviceId(subject) = request.subject else {
            return Ok(Err(KpError::NotAuthorized));
        };
        let device = match conv::decode_device_id(subject) {
            Ok(device) => device,
            Err(e) => return Ok(Err(e)),
        };
        let Some(entry) = self.directory_entry(&device)? else {
            info!(%device, "provisioning refused: device not in the directory");
            return Ok(Err(KpError::NotAuthorized));
        };
        if let Err(refused) = self.check_user(&entry.login, request.user, binding, subject, now)? {
            return Ok(Err(refused));
        }
        self.issue(device, now).map(Ok)
    }

    fn directory_entry(&self, device: &DeviceId) -> Result<Option<crate::store::DeviceEntry>> {
        match device.kind() {
            DeviceIdType::SerialNumber => self.store.device_by("serial", &value_text(device)),
            DeviceIdType::Mac => self.store.device_by(
                "mac",
                &crate::inventory::normalise_mac(&value_text(device))?,
            ),
            _ => Ok(None),
        }
    }

    fn check_user(
        &self,
        login: &str,
        user: Option<keyprov::wire::UserProof<'_>>,
        binding: &[u8],
        subject: &[u8],
        now: u64,
    ) -> Result<Result<(), KpError>> {
        if !self.store.has_pin(login)? {
            return Ok(Ok(()));
        }
        let Some(user) = user else {
            info!(login, "provisioning refused: pin required but none given");
            return Ok(Err(KpError::WrongProof));
        };
        if user.login != login.as_bytes() {
            return Ok(Err(KpError::NotAuthorized));
        }
        let check = self.store.check_pin(login, now, |verifier| {
            conv::pin_proof_matches(verifier, binding, subject, user.login, &user.proof[..])
        })?;
        Ok(match check {
            PinCheck::Accepted => Ok(()),
            PinCheck::Wrong { remaining } => {
                warn!(login, remaining, "wrong pin");
                Err(KpError::WrongProof)
            }
            PinCheck::LockedOut { until } => {
                warn!(login, until, "pin locked out");
                Err(KpError::LockedOut)
            }
            PinCheck::UnknownUser => Err(KpError::NotAuthorized),
        })
    }

    fn issue(&self, device: DeviceId, now: u64) -> Result<Vec<u8>> {
        let device_text = device.to_string();
        let scope = format!("{}/{device_text}", self.epoch);
        let counter = self.store.reserve_counters(&scope, 1)?;
        let key_id = KeyId::structured(self.epoch, self.agent, device, counter);
        let schedule = self.keyring.schedule(self.epoch)?;
        let secret = schedule.device_key(&key_id.to_bytes())?;
        let not_after = now + self.key_lifetime;
        let text = key_id.to_string();
        self.store.record_issued(
            &text,
            &device_text,
            self.epoch.into(),
            counter,
            now,
            not_after,
        )?;
        info!(key_id = %text, device = %device_text, counter, "key issued");
        conv::provision_response(&key_id, counter, not_after, &secret)
    }

    /// Answers one key request from the registrar whose certificate is `peer`.
    pub fn key_request(
        &self,
        request: &[u8],
        peer: &CertificateDer<'_>,
        now: u64,
    ) -> Result<Vec<u8>> {
        let request = match Message::decode(request) {
            Ok(Message::KeyRequest(request)) => request,
            Ok(_) => {
                return Ok(conv::refusal(KpError::UnexpectedMessage {
                    state: "key fetch",
                }));
            }
            Err(e) => return Ok(conv::refusal(e)),
        };
        let id = request.request_id;
        let Ok(service) = std::str::from_utf8(request.service) else {
            return Ok(conv::key_refusal(
                id,
                KpError::InvalidValue {
                    field: "service",
                    reason: "not utf-8",
                },
            ));
        };
        if !tls::certificate_names(peer, service) {
            warn!(
                service,
                "key request for a service the registrar's certificate does not name"
            );
            return Ok(conv::key_refusal(id, KpError::NotAuthorized));
        }
        let key_id = match KeyId::from_bytes(request.key_id) {
            Ok(key_id) if key_id.agent_id() == &self.agent => key_id,
            Ok(_) => return Ok(conv::key_refusal(id, KpError::UnknownKeyId)),
            Err(e) => return Ok(conv::key_refusal(id, e)),
        };
        let (epoch, not_after) = match self.store.key_status(&key_id.to_string(), now)? {
            KeyStatus::Current {
                epoch, expires_at, ..
            } => (epoch, expires_at),
            other => {
                debug!(key_id = %key_id, status = ?other, "key request refused");
                return Ok(conv::key_refusal(id, status_error(&other)));
            }
        };
        let schedule = self.keyring.schedule(u16::try_from(epoch)?)?;
        let service_key = schedule
            .device_key(request.key_id)?
            .authentication_key()
            .service_key(request.service)?;
        debug!(key_id = %key_id, service, "service key handed out");
        conv::key_response(id, not_after, &service_key)
    }
}

fn status_error(status: &KeyStatus) -> KpError {
    match status {
        KeyStatus::Superseded => KpError::Superseded,
        KeyStatus::Revoked => KpError::Revoked,
        KeyStatus::Expired => KpError::Expired,
        KeyStatus::Current { .. } | KeyStatus::Unknown => KpError::UnknownKeyId,
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
