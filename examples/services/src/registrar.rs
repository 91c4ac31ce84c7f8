//! The SIP registrar: REGISTER over UDP and TCP, challenged with Digest, verified against a
//! password derived from the per-service key that the agent hands out over mutual TLS.
//!
//! The address of record of a phone is its key identifier: `sip:<key id text>@<realm>`, and
//! the Digest username must equal it, so a phone can only bind its own address. Keys are
//! cached for a configurable time, after which the agent is asked again, so a superseded or
//! revoked key is refused within that time.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ezk_sip_types::print::{AppendCtx, PrintCtx, UriContext};
use ezk_sip_types::{Method, Name};
use keyprov::Error as KpError;
use keyprov::digest::{
    self, Algorithm, CredentialLookup, Credentials, Outcome, RegistrarPolicy, StoredCredential,
    Username,
};
use keyprov::keyid::KeyId;
use keyprov::registrar::{FetchedKey, KeyClient};
use keyprov::secret::{DigestNonceSecret, DigestPassphrase, DigestPassword};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tracing::{debug, info, warn};

use crate::bindings::Bindings;
use crate::chain;
use crate::conversation as conv;
use crate::framing::{read_frame, write_frame};
use crate::native::Native;
use crate::random::OsRng;
use crate::sip::{self, MAX_MESSAGE, Message};
use crate::tls::{self, Identity};

/// Time allowed for one key fetch from the agent.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Time a SIP request over TCP may take from its first byte to its last, and a reply to be
/// taken; a peer trickling bytes or not reading is cut off then.
pub const SIP_TCP_MESSAGE_TIME: Duration = Duration::from_secs(10);
/// Time a SIP TCP connection may stay idle between requests.
const SIP_TCP_IDLE: Duration = Duration::from_secs(300);

/// Everything the registrar needs to run.
#[derive(Clone, Debug)]
pub struct RegistrarConfig {
    /// Where SIP is served, on UDP and TCP alike.
    pub sip_listen: SocketAddr,
    /// Where keyprov's native registration is served (UDP), if at all.
    pub native_listen: Option<SocketAddr>,
    /// The realm: the service name in the registrar's certificate.
    pub realm: String,
    /// The agent's registrar-facing address.
    pub agent: SocketAddr,
    /// The CA the agent's certificate chains to.
    pub ca: PathBuf,
    /// The registrar's client certificate and key.
    pub identity: Identity,
    /// The Digest algorithms offered, most preferred first: one challenge each, in this order.
    pub digest_algorithms: Vec<Algorithm>,
    /// Seconds a fetched key (or a refusal) is used before the agent is asked again.
    pub key_cache_seconds: u64,
    /// Shortest binding accepted, in seconds (shorter gets 423).
    pub min_expires: u32,
    /// Longest binding granted, in seconds.
    pub max_expires: u32,
}

impl RegistrarConfig {
    /// Defaults for a realm: SHA-256 only, keys cached 60 s, bindings 60 s to 1 hour.
    pub fn new(realm: &str, agent: SocketAddr, ca: PathBuf, identity: Identity) -> Self {
        Self {
            sip_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            native_listen: None,
            realm: realm.into(),
            agent,
            ca,
            identity,
            digest_algorithms: vec![Algorithm::SHA256],
            key_cache_seconds: 60,
            min_expires: 60,
            max_expires: 3600,
        }
    }
}

/// A running registrar; dropping it stops it.
pub struct RunningRegistrar {
    /// The bound SIP address (UDP and TCP).
    pub sip_addr: SocketAddr,
    /// The bound native registration address (UDP), if served.
    pub native_addr: Option<SocketAddr>,
    state: Arc<State>,
    native: Arc<Native>,
    tasks: JoinSet<()>,
}

impl RunningRegistrar {
    /// Stops serving at once, as a crash would: bindings and cached keys are lost.
    pub async fn stop(mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }

    /// How many addresses of record have a live binding.
    pub fn registered(&self) -> usize {
        self.state
            .bindings
            .lock()
            .map(|mut b| b.purge(crate::now()))
            .unwrap_or(0)
    }

    /// How many devices are registered through keyprov's native registration.
    pub fn native_registered(&self) -> usize {
        self.native.registered(crate::now())
    }

    /// How many REGISTER requests were answered 200 since start.
    pub fn registrations(&self) -> u64 {
        self.state.registrations.load(Ordering::Relaxed)
    }

    /// How many keys were fetched from the agent since start.
    pub fn keys_fetched(&self) -> u64 {
        self.state.fetches.load(Ordering::Relaxed)
    }
}

struct State {
    config: RegistrarConfig,
    digest: Mutex<digest::Registrar>,
    keys: Mutex<HashMap<String, CachedKey>>,
    bindings: Mutex<Bindings>,
    agent: Arc<AgentClient>,
    to_tag: String,
    fetches: AtomicU64,
    registrations: AtomicU64,
}

struct CachedKey {
    fetched_at: u64,
    answer: Result<(DigestPassword, u64), KpError>,
}

/// What `--allow-md5` stands for: SHA-256 first, MD5 second, for phones that know nothing else.
pub const SHA256_THEN_MD5: [Algorithm; 2] = [Algorithm::SHA256, Algorithm::MD5];

/// Reads the comma-separated list of Digest algorithms to offer, most preferred first (e.g.
/// `sha-256,md5`), ignoring case and blanks around names. An empty list or entry, an unknown
/// name or a name given twice is refused with an error naming `--digest-algorithms`.
pub fn parse_digest_algorithms(list: &str) -> Result<Vec<Algorithm>> {
    const FLAG: &str = "--digest-algorithms";
    const KNOWN: &str = "md5, md5-sess, sha-256, sha-256-sess, sha-512-256, sha-512-256-sess";
    let mut algorithms = Vec::new();
    for name in list.split(',').map(str::trim) {
        if name.is_empty() {
            bail!("{FLAG}: empty algorithm name in {list:?}; expected e.g. sha-256,md5");
        }
        let Some(algorithm) = Algorithm::from_token(name) else {
            bail!("{FLAG}: unknown algorithm {name:?}; known: {KNOWN}");
        };
        if algorithms.contains(&algorithm) {
            bail!("{FLAG}: algorithm {name:?} is listed twice");
        }
        algorithms.push(algorithm);
    }
    Ok(algorithms)
}

/// Starts the registrar.
pub async fn start(config: RegistrarConfig) -> Result<RunningRegistrar> {
    let mut policy = RegistrarPolicy::new(&config.realm);
    policy.algorithms = config.digest_algorithms.clone();
    let secret = DigestNonceSecret::from_bytes(&crate::random::array::<32>()?)?;
    let client_tls = tls::client(&config.ca, Some(&config.identity))?;
    let (udp, tcp) = bind_sip(config.sip_listen).await?;
    let sip_addr = udp.local_addr()?;
    info!(%sip_addr, realm = %config.realm, "registrar listening on udp and tcp");
    let agent = Arc::new(AgentClient::new(
        config.agent,
        TlsConnector::from(client_tls),
    ));
    let native = Arc::new(Native::new(
        &config.realm,
        agent.clone(),
        config.key_cache_seconds,
    ));
    let native_socket = match config.native_listen {
        Some(addr) => Some(Arc::new(UdpSocket::bind(addr).await?)),
        None => None,
    };
    let native_addr = native_socket.as_ref().map(|s| s.local_addr()).transpose()?;
    let state = Arc::new(State {
        digest: Mutex::new(digest::Registrar::new(policy, secret)?),
        keys: Mutex::new(HashMap::new()),
        bindings: Mutex::new(Bindings::default()),
        agent: agent.clone(),
        to_tag: sip::token(""),
        fetches: AtomicU64::new(0),
        registrations: AtomicU64::new(0),
        config,
    });
    let mut tasks = JoinSet::new();
    tasks.spawn(serve_udp(Arc::new(udp), state.clone()));
    tasks.spawn(serve_tcp(tcp, state.clone()));
    if let Some(socket) = native_socket {
        info!(native_addr = %socket.local_addr()?, "native keyprov registration on udp");
        tasks.spawn(native.clone().serve(socket));
    }
    Ok(RunningRegistrar {
        sip_addr,
        native_addr,
        state,
        native,
        tasks,
    })
}

/// Binds UDP and TCP on one port. With port 0 the UDP socket picks it, and the same TCP port
/// may already be taken by another socket: then both are bound again on a new port.
async fn bind_sip(listen: SocketAddr) -> Result<(UdpSocket, TcpListener)> {
    let mut attempts = 0;
    loop {
        let udp = UdpSocket::bind(listen).await?;
        match TcpListener::bind(udp.local_addr()?).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) if listen.port() == 0 && attempts < 16 => {
                debug!(error = %e, "sip tcp port taken; binding again");
                attempts += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

async fn serve_udp(socket: Arc<UdpSocket>, state: Arc<State>) {
    let mut buf = vec![0u8; 65_535];
    let mut handlers = JoinSet::new();
    loop {
        tokio::select! {
            received = socket.recv_from(&mut buf) => {
                let Ok((len, peer)) = received else { continue };
                if len > MAX_MESSAGE {
                    debug!(%peer, len, "oversized datagram dropped");
                    continue;
                }
                // Bounded like the native port; the phone retransmits what is dropped.
                if handlers.len() >= crate::native::MAX_IN_FLIGHT {
                    debug!(%peer, "registrar busy: datagram dropped");
                    continue;
                }
                let datagram = buf[..len].to_vec();
                let (socket, state) = (socket.clone(), state.clone());
                handlers.spawn(async move {
                    if let Some(reply) = state.handle_bytes(&datagram, peer).await {
                        let _ = socket.send_to(&reply, peer).await;
                    }
                });
            }
            Some(_) = handlers.join_next(), if !handlers.is_empty() => {}
        }
    }
}

async fn serve_tcp(listener: TcpListener, state: Arc<State>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                if connections.len() >= crate::agent::MAX_CONNECTIONS {
                    debug!(%peer, "too many sip tcp connections: closed at once");
                    continue;
                }
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                connections.spawn(async move {
                    if let Err(e) = serve_tcp_connection(stream, peer, state).await {
                        debug!(%peer, error = %chain(&e), "sip tcp connection closed");
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_tcp_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    state: Arc<State>,
) -> Result<()> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    // When the first byte not yet part of a complete request arrived.
    let mut started = None;
    loop {
        while let Some(len) = sip::complete_length(&buf)? {
            let message: Vec<u8> = buf.drain(..len).collect();
            if let Some(reply) = state.handle_bytes(&message, peer).await {
                tokio::time::timeout(SIP_TCP_MESSAGE_TIME, stream.write_all(&reply))
                    .await
                    .context("sip tcp peer does not take its reply")??;
            }
            started = (!buf.is_empty()).then(Instant::now);
        }
        let deadline = match started {
            Some(at) => at + SIP_TCP_MESSAGE_TIME,
            None => Instant::now() + SIP_TCP_IDLE,
        };
        let read = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
            .await
            .context("sip tcp connection idle, or its request late")??;
        if read == 0 {
            return Ok(());
        }
        if buf.is_empty() {
            started = Some(Instant::now());
        }
        buf.extend_from_slice(&chunk[..read]);
    }
}

/// A Digest verification's result that the phone is told about.
enum Verdict {
    Reply(Vec<u8>),
    Registered(String),
}

impl State {
    /// Handles one received message; returns the reply, if one is due.
    async fn handle_bytes(&self, bytes: &[u8], peer: SocketAddr) -> Option<Vec<u8>> {
        let message = match Message::parse(bytes) {
            Ok(message) => message,
            Err(e) => {
                debug!(%peer, error = %chain(&e), "unparsable sip message dropped");
                return None;
            }
        };
        let method = message.method()?.clone();
        if method != Method::REGISTER {
            return Some(sip::response(
                &message,
                405,
                "Method Not Allowed",
                &self.to_tag,
                &[("Allow", "REGISTER".into())],
            ));
        }
        Some(match self.register(&message, peer).await {
            Ok(reply) => reply,
            Err(e) => {
                debug!(%peer, error = %chain(&e), "bad register");
                let warning = format!("399 registrar \"{}\"", sanitize(&chain(&e)));
                sip::response(
                    &message,
                    400,
                    "Bad Request",
                    &self.to_tag,
                    &[("Warning", warning)],
                )
            }
        })
    }

    async fn register(&self, message: &Message, peer: SocketAddr) -> Result<Vec<u8>> {
        for name in [Name::VIA, Name::FROM, Name::TO, Name::CALL_ID] {
            message.required(&name)?;
        }
        let (cseq, cseq_method) = message.cseq()?;
        if cseq_method != Method::REGISTER {
            bail!("cseq method is not REGISTER");
        }
        let aor = message.to_user()?;
        let Some(authorization) = message.header(&Name::AUTHORIZATION) else {
            return Ok(self.challenge(message, false));
        };
        match self.authenticate(message, authorization, &aor).await? {
            Verdict::Reply(reply) => Ok(reply),
            Verdict::Registered(info) => self.bind(message, &aor, cseq, info, peer),
        }
    }

    fn challenge(&self, message: &Message, stale: bool) -> Vec<u8> {
        let now = crate::now();
        // The operating system generator cannot fail, so neither can issuing a nonce.
        let challenges = lock(&self.digest)
            .challenges(now, stale, &mut OsRng)
            .unwrap_or_default();
        let extra: Vec<(&str, String)> = challenges
            .into_iter()
            .map(|c| ("WWW-Authenticate", c))
            .collect();
        sip::response(message, 401, "Unauthorized", &self.to_tag, &extra)
    }

    fn forbidden(&self, message: &Message, why: Option<&str>) -> Vec<u8> {
        let extra: Vec<(&str, String)> = why
            .map(|w| ("Warning", format!("399 {} \"{w}\"", self.config.realm)))
            .into_iter()
            .collect();
        sip::response(message, 403, "Forbidden", &self.to_tag, &extra)
    }

    async fn authenticate(
        &self,
        message: &Message,
        authorization: &str,
        aor: &str,
    ) -> Result<Verdict> {
        let Ok(credentials) = Credentials::parse(authorization) else {
            return Ok(Verdict::Reply(self.forbidden(message, None)));
        };
        let Username::Plain(username) = &credentials.username else {
            return Ok(Verdict::Reply(self.forbidden(message, None)));
        };
        if username != aor || Some(credentials.uri.as_str()) != message.request_uri.as_deref() {
            debug!(
                username,
                aor, "digest username or uri does not match the request"
            );
            return Ok(Verdict::Reply(self.forbidden(message, None)));
        }
        let now = crate::now();
        let lookup = match self.credential(username, now).await? {
            Ok(lookup) => lookup,
            Err(KpError::Expired) => {
                info!(key_id = %username, "registration with an expired key refused");
                return Ok(Verdict::Reply(self.forbidden(message, Some(KEY_EXPIRED))));
            }
            Err(_) => CredentialLookup::UnknownKeyId,
        };
        let request = digest::Request {
            method: "REGISTER",
            uri: &credentials.uri,
            body: &message.body,
        };
        let outcome = lock(&self.digest).verify(&credentials, &request, now, lookup);
        Ok(self.verdict(message, username, outcome))
    }

    fn verdict(&self, message: &Message, key_id: &str, outcome: Outcome) -> Verdict {
        let reply = match outcome {
            Outcome::Accepted(accepted) => {
                return Verdict::Registered(accepted.info.to_header_value().unwrap_or_default());
            }
            Outcome::Stale | Outcome::Replay => {
                info!(key_id, outcome = ?outcome, "stale or replayed digest: new nonce sent");
                self.challenge(message, true)
            }
            Outcome::ForgedNonce => self.challenge(message, false),
            Outcome::Superseded => {
                info!(key_id, "registration with a superseded key refused");
                self.forbidden(message, Some(KEY_SUPERSEDED))
            }
            Outcome::Revoked => {
                info!(key_id, "registration with a revoked key refused");
                self.forbidden(message, Some(KEY_REVOKED))
            }
            Outcome::UnknownKeyId | Outcome::WrongResponse | Outcome::Malformed(_) => {
                info!(key_id, outcome = ?outcome, "registration refused");
                self.forbidden(message, None)
            }
        };
        Verdict::Reply(reply)
    }

    fn bind(
        &self,
        message: &Message,
        aor: &str,
        cseq: u32,
        info: String,
        peer: SocketAddr,
    ) -> Result<Vec<u8>> {
        let now = crate::now();
        let default = message.expires()?.unwrap_or(3600);
        let call_id = message.required(&Name::CALL_ID)?;
        let mut bindings = lock(&self.bindings);
        match message.contacts()? {
            None if default == 0 => bindings.remove_all(aor),
            None => bail!("contact * needs expires 0"),
            Some(contacts) => {
                let mut wanted = Vec::with_capacity(contacts.len());
                for contact in contacts {
                    let expires = match contact.params.get_val("expires") {
                        Some(v) => v.as_str().parse().context("contact expires not a number")?,
                        None => default,
                    };
                    if expires != 0 && expires < self.config.min_expires {
                        let min = self.config.min_expires.to_string();
                        return Ok(sip::response(
                            message,
                            423,
                            "Interval Too Brief",
                            &self.to_tag,
                            &[("Min-Expires", min)],
                        ));
                    }
                    let ctx = PrintCtx {
                        method: None,
                        uri: Some(UriContext::Contact),
                    };
                    let uri = contact.uri.uri.print_ctx(ctx).to_string();
                    wanted.push((uri, expires.min(self.config.max_expires)));
                }
                if bindings.update(aor, &wanted, call_id, cseq, now).is_err() {
                    return Ok(sip::response(
                        message,
                        500,
                        "Server Internal Error",
                        &self.to_tag,
                        &[("Warning", "399 registrar \"cseq out of order\"".into())],
                    ));
                }
            }
        }
        let mut extra: Vec<(&str, String)> = bindings
            .current(aor, now)
            .into_iter()
            .map(|(contact, left)| ("Contact", format!("<{contact}>;expires={left}")))
            .collect();
        if !info.is_empty() {
            extra.push(("Authentication-Info", info));
        }
        self.registrations.fetch_add(1, Ordering::Relaxed);
        debug!(aor, %peer, "registered");
        Ok(sip::response(message, 200, "OK", &self.to_tag, &extra))
    }

    /// The credential of a key identifier: from the cache, or fetched from the agent.
    async fn credential(
        &self,
        username: &str,
        now: u64,
    ) -> Result<Result<CredentialLookup, KpError>> {
        if let Some(answer) = self.cached(username, now) {
            return Ok(answer);
        }
        let Ok(key_id) = username.parse::<KeyId>() else {
            return Ok(Ok(CredentialLookup::UnknownKeyId));
        };
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = self.agent.fetch(&key_id, &self.config.realm, None).await?;
        let answer = fetched.map(|key| (key.service_key.digest_password(), key.not_after));
        if let Err(refused) = &answer {
            debug!(key_id = %username, refused = %refused, "agent refused the key");
        }
        let entry = CachedKey {
            fetched_at: now,
            answer,
        };
        let lookup = entry.lookup(now);
        let seconds = self.config.key_cache_seconds;
        let mut keys = lock(&self.keys);
        remember(&mut keys, username, entry, (now, seconds), MAX_CACHED_KEYS);
        Ok(lookup)
    }

    fn cached(&self, username: &str, now: u64) -> Option<Result<CredentialLookup, KpError>> {
        let keys = lock(&self.keys);
        let entry = keys.get(username)?;
        (now < entry.fetched_at + self.config.key_cache_seconds).then(|| entry.lookup(now))
    }
}

impl CachedKey {
    /// What Digest verification is told about this key at time `now`; an expired key is an
    /// error of its own, since the phone is told about it.
    fn lookup(&self, now: u64) -> Result<CredentialLookup, KpError> {
        match &self.answer {
            Ok((_, not_after)) if *not_after < now => Err(KpError::Expired),
            Ok((password, _)) => Ok(CredentialLookup::Found(StoredCredential::Password(
                DigestPassphrase::from(password),
            ))),
            Err(KpError::Superseded) => Ok(CredentialLookup::Superseded),
            Err(KpError::Revoked) => Ok(CredentialLookup::Revoked),
            Err(KpError::Expired) => Err(KpError::Expired),
            Err(_) => Ok(CredentialLookup::UnknownKeyId),
        }
    }
}

/// Most key identifiers whose key (or refusal) the registrar keeps. Anyone may send REGISTERs
/// naming key identifiers that parse but were never issued; each refusal is cached too.
pub const MAX_CACHED_KEYS: usize = 65_536;

/// Caches a fetched key or refusal. A full cache first drops the entries older than the caching
/// time (`clock` is the time now and the caching time); if it is still full, the answer serves
/// this request only.
fn remember(
    keys: &mut HashMap<String, CachedKey>,
    username: &str,
    entry: CachedKey,
    clock: (u64, u64),
    capacity: usize,
) {
    let (now, seconds) = clock;
    if keys.len() >= capacity && !keys.contains_key(username) {
        keys.retain(|_, cached| now < cached.fetched_at.saturating_add(seconds));
    }
    if keys.len() < capacity || keys.contains_key(username) {
        keys.insert(username.to_string(), entry);
    }
}

/// Warning text of a 403 for a superseded key; phones re-provision on it.
pub const KEY_SUPERSEDED: &str = "key superseded";
/// Warning text of a 403 for an expired key; phones re-provision on it.
pub const KEY_EXPIRED: &str = "key expired";
/// Warning text of a 403 for a revoked key.
pub const KEY_REVOKED: &str = "key revoked";

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn sanitize(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .filter(|c| *c != '"')
        .take(120)
        .collect()
}

/// One mutually authenticated TLS connection to the agent, with keyprov's key client on it,
/// reopened when it breaks.
pub(crate) struct AgentClient {
    addr: SocketAddr,
    connector: TlsConnector,
    connection: tokio::sync::Mutex<Option<(TlsStream<TcpStream>, KeyClient)>>,
}

impl AgentClient {
    fn new(addr: SocketAddr, connector: TlsConnector) -> Self {
        Self {
            addr,
            connector,
            connection: tokio::sync::Mutex::new(None),
        }
    }

    /// Fetches the per-service key of `key_id`; a refusal comes back as the keyprov error its
    /// outcome stands for. A broken connection is reopened once.
    pub(crate) async fn fetch(
        &self,
        key_id: &KeyId,
        service: &str,
        login: Option<&[u8]>,
    ) -> Result<Result<FetchedKey, KpError>> {
        let mut connection = self.connection.lock().await;
        let mut last_error = None;
        for _ in 0..2 {
            if connection.is_none() {
                // The handshake is bounded too: a silent agent would otherwise hold the
                // connection lock, and with it every later fetch, for good.
                match tokio::time::timeout(FETCH_TIMEOUT, self.connect()).await {
                    Ok(Ok(stream)) => *connection = Some((stream, KeyClient::new())),
                    Ok(Err(e)) => {
                        last_error = Some(e);
                        continue;
                    }
                    Err(_) => {
                        last_error = Some(anyhow::anyhow!("agent handshake timed out"));
                        continue;
                    }
                }
            }
            let (stream, client) = connection.as_mut().expect("connected above");
            let fetch = fetch_on(stream, client, key_id, service, login);
            match tokio::time::timeout(FETCH_TIMEOUT, fetch).await {
                Ok(Ok(answer)) => return Ok(answer.map_err(conv::peer_error)),
                Ok(Err(e)) => last_error = Some(e),
                Err(_) => last_error = Some(anyhow::anyhow!("key fetch timed out")),
            }
            *connection = None;
        }
        warn!(agent = %self.addr, "key fetch failed");
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("key fetch failed")))
    }

    async fn connect(&self) -> Result<TlsStream<TcpStream>> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .context("connect to agent")?;
        tcp.set_nodelay(true)?;
        let stream = self
            .connector
            .connect(tls::agent_server_name(), tcp)
            .await?;
        debug!(agent = %self.addr, "connected to agent");
        Ok(stream)
    }
}

async fn fetch_on(
    stream: &mut TlsStream<TcpStream>,
    client: &mut KeyClient,
    key_id: &KeyId,
    service: &str,
    login: Option<&[u8]>,
) -> Result<Result<FetchedKey, KpError>> {
    let id = client.request(key_id, service.as_bytes(), login)?;
    while let Some(bytes) = client.poll_transmit() {
        write_frame(stream, &bytes).await?;
    }
    let answer = read_frame(stream, crate::agent::MAX_MESSAGE)
        .await?
        .context("agent closed the connection")?;
    let (answered, result) = client.handle_message(&answer)?;
    if answered != id {
        bail!("agent answered request {answered}, expected {id}");
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(fetched_at: u64) -> CachedKey {
        CachedKey {
            fetched_at,
            answer: Err(KpError::UnknownKeyId),
        }
    }

    #[test]
    fn key_cache_never_grows_past_its_capacity() {
        let mut keys = HashMap::new();
        for i in 0..10 {
            remember(&mut keys, &format!("kp1{i}"), refusal(100), (100, 60), 4);
        }
        assert_eq!(keys.len(), 4);
        // Entries past their caching time make room; fresh ones are kept.
        remember(&mut keys, "kp1late", refusal(170), (170, 60), 4);
        assert_eq!(keys.len(), 1);
        assert!(keys.contains_key("kp1late"));
        // A key already cached is refreshed even when the cache is full.
        for i in 0..3 {
            remember(&mut keys, &format!("kp1x{i}"), refusal(170), (170, 60), 4);
        }
        remember(&mut keys, "kp1late", refusal(171), (171, 60), 4);
        assert_eq!(keys["kp1late"].fetched_at, 171);
        assert_eq!(keys.len(), 4);
    }
}
