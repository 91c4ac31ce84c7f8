//! A phone: provisions its key from the agent over TLS, keeps its credentials in a file only
//! its owner can read, registers with the registrar over SIP Digest and refreshes before the
//! binding lapses. A phone told its key was superseded or expired provisions again.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use ezk_sip_types::Name;
use keyprov::Error as KpError;
use keyprov::device::{
    self, AgentSession, Credentials, Provisioning, ProvisioningConfig, Registration,
    RegistrationConfig, RegistrationMode, Subject, UserPin,
};
use keyprov::digest::{self, ClientCredential, ClientPolicy, ServerProof};
use keyprov::keyid::{DeviceId, KeyId};
use keyprov::secret::{DeviceSecretKey, DigestPassphrase, Pin};
use rustls::ClientConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio_rustls::TlsConnector;
use tracing::{debug, info};
use zeroize::Zeroizing;

use crate::agent::{CHANNEL_BINDING_LABEL, CHANNEL_BINDING_LEN};
use crate::chain;
use crate::conversation as conv;
use crate::framing::{read_frame, write_frame};
use crate::random::OsRng;
use crate::registrar::{KEY_EXPIRED, KEY_REVOKED, KEY_SUPERSEDED};
use crate::sip::{self, Message};
use crate::tls;

/// The SIP transport a phone registers over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// One datagram per message, retransmitted on silence.
    Udp,
    /// One connection, kept open.
    Tcp,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Udp => "UDP",
            Self::Tcp => "TCP",
        })
    }
}

/// What a phone is given, as DHCP options and its own labels would give it.
#[derive(Clone, Debug)]
pub struct PhoneConfig {
    /// The phone's own address (as DHCP gave it); its SIP sockets bind to it.
    pub address: std::net::IpAddr,
    /// The agent's device-facing address.
    pub agent: SocketAddr,
    /// The CA the agent's certificate must chain to.
    pub ca: PathBuf,
    /// The agent's identity (SHA-256 of its certificate) the phone trusts.
    pub agent_anchor: [u8; 32],
    /// The phone's serial number: its device identifier.
    pub serial: String,
    /// The user's login, when the user has a PIN.
    pub login: Option<String>,
    /// The user's PIN, as typed on the keypad.
    pub pin: Option<Zeroizing<String>>,
    /// Where the credentials are kept (mode 0600).
    pub credentials: PathBuf,
    /// The registrar's SIP address.
    pub registrar: SocketAddr,
    /// The SIP domain (the registrar's realm).
    pub realm: String,
    /// SIP transport.
    pub transport: Transport,
    /// Binding lifetime asked for, in seconds.
    pub expires: u32,
    /// How often a failed connection to the agent or registrar is retried.
    pub attempts: u32,
}

/// The registrar refused the phone's key and said why; the phone provisions again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRejected(pub String);

impl fmt::Display for KeyRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "registrar refused the key: {}", self.0)
    }
}

impl std::error::Error for KeyRejected {}

/// A phone.
pub struct Phone {
    config: PhoneConfig,
    tls: Arc<ClientConfig>,
    credentials: Option<Credentials>,
    sip: Option<SipSession>,
    /// How many times this phone provisioned.
    pub provisions: u32,
}

struct SipSession {
    key_id: String,
    client: digest::Client,
    call_id: String,
    from_tag: String,
    cseq: u32,
    link: Option<Link>,
    last: Option<Vec<u8>>,
}

enum Link {
    Udp(UdpSocket),
    Tcp(TcpStream, Vec<u8>),
}

/// A granted registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registered {
    /// Seconds the registrar granted.
    pub expires: u64,
}

impl Phone {
    /// A phone; credentials already in its file are loaded.
    pub fn new(config: PhoneConfig) -> Result<Self> {
        let tls = tls::client(&config.ca, None)?;
        Self::with_tls(config, tls)
    }

    /// A phone sharing an already built TLS configuration (many phones in one process).
    pub fn with_tls(config: PhoneConfig, tls: Arc<ClientConfig>) -> Result<Self> {
        let credentials = load_credentials(&config.credentials)?;
        Ok(Self {
            config,
            tls,
            credentials,
            sip: None,
            provisions: 0,
        })
    }

    /// The key identifier in use, if provisioned.
    pub fn key_id(&self) -> Option<String> {
        self.credentials.as_ref().map(|c| c.key_id.to_string())
    }

    /// Whether the phone holds credentials that are still valid at `now`.
    pub fn has_valid_key(&self, now: u64) -> bool {
        self.credentials.as_ref().is_some_and(|c| c.not_after > now)
    }

    /// Provisions a fresh key from the agent and stores it. A connection failure is retried;
    /// a refusal by the agent is not, and comes back as the [`KpError`] it stands for.
    pub async fn provision(&mut self) -> Result<()> {
        let mut delay = Duration::from_millis(50);
        let mut attempt = 1;
        let credentials = loop {
            match self.provision_once().await {
                Ok(credentials) => break credentials,
                Err(e) if e.downcast_ref::<KpError>().is_some() => return Err(e),
                Err(e) if attempt >= self.config.attempts => return Err(e),
                Err(e) => {
                    debug!(serial = %self.config.serial, error = %chain(&e), "provisioning retried")
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(1));
            attempt += 1;
        };
        info!(serial = %self.config.serial, key_id = %credentials.key_id, "provisioned");
        self.credentials = Some(credentials);
        self.sip = None;
        self.provisions += 1;
        Ok(())
    }

    async fn provision_once(&self) -> Result<Credentials> {
        let tcp = TcpStream::connect(self.config.agent)
            .await
            .context("connect to agent")?;
        tcp.set_nodelay(true)?;
        let connector = TlsConnector::from(self.tls.clone());
        let mut stream = connector
            .connect(tls::agent_server_name(), tcp)
            .await
            .context("tls")?;
        let (identity, binding) = session_facts(&stream)?;
        let mut machine = Provisioning::new(self.provisioning_config()?);
        let session = AgentSession {
            agent_identity: &identity,
            channel_binding: &binding,
        };
        machine.handle_connected(crate::now(), &session)?;
        while let Some(bytes) = machine.poll_transmit() {
            write_frame(&mut stream, &bytes).await?;
        }
        let answer = tokio::time::timeout(
            Duration::from_secs(10),
            read_frame(&mut stream, crate::agent::MAX_MESSAGE),
        )
        .await
        .context("agent did not answer")??
        .context("agent closed the connection")?;
        machine
            .handle_message(crate::now(), &answer)
            .map_err(conv::peer_error)?;
        let mut stored = None;
        while let Some(event) = machine.poll_event() {
            match event {
                device::Event::StoreCredentials {
                    handle,
                    credentials,
                } => {
                    let result = store_credentials(&self.config.credentials, &credentials);
                    let failed = result.as_ref().err().map(chain);
                    machine.handle_store_result(handle, result.map_err(|_| KpError::Failed))?;
                    if let Some(e) = failed {
                        bail!("storing credentials: {e}");
                    }
                    stored = Some(credentials);
                }
                device::Event::CloseSession => {
                    let _ = stream.shutdown().await;
                    machine.handle_closed()?;
                }
                device::Event::Failed(e) => return Err(conv::peer_error(e).into()),
                _ => {}
            }
        }
        stored.context("agent answered but no credentials came out")
    }

    /// The signed-in user, when the phone was given a login and PIN.
    fn user_pin(&self) -> Result<Option<UserPin>> {
        Ok(match (&self.config.login, &self.config.pin) {
            (Some(login), Some(pin)) => Some(UserPin {
                login: login.as_bytes().to_vec(),
                pin: Pin::new(pin)?,
                salt: crate::store::pin_salt(login),
            }),
            _ => None,
        })
    }

    fn provisioning_config(&self) -> Result<ProvisioningConfig> {
        let user = self.user_pin()?;
        Ok(ProvisioningConfig {
            trust_anchor: self.config.agent_anchor,
            subject: Subject::DeviceId(DeviceId::serial_number(&self.config.serial)?),
            user,
            expected_agent: None,
            last_counter: self.credentials.as_ref().map(|c| c.counter),
            require_address: false,
            response_timeout: 10,
        })
    }

    /// Registers (or refreshes) once: REGISTER, answer the challenge, check the registrar's
    /// proof. A [`KeyRejected`] error means the phone should provision again.
    pub async fn register(&mut self) -> Result<Registered> {
        let credentials = self.credentials.as_ref().context("phone not provisioned")?;
        if self.sip.is_none() {
            self.sip = Some(SipSession::new(credentials, &self.config.realm)?);
        }
        let config = self.config.clone();
        let session = self.sip.as_mut().expect("set above");
        let mut expires = config.expires;
        for _ in 0..4 {
            let reply = session.transact(&config, expires).await?;
            match reply.status() {
                Some(200) => return session.accepted(&reply, expires),
                Some(401) => session.challenged(&reply)?,
                Some(423) => {
                    expires = reply
                        .header(&Name::MIN_EXPIRES)
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(expires)
                }
                Some(403) => return Err(rejection(&reply)),
                Some(code) => bail!("registrar answered {code}"),
                None => bail!("registrar sent a request instead of a response"),
            }
        }
        bail!("registration did not complete after 4 requests")
    }

    /// Registers with keyprov's native registration (challenge and response over UDP) at
    /// `registrar`; returns the last second of the registration. A phone given a login and PIN
    /// signs the registration with its PIN-bound key (hot-desking). The registrar proves it
    /// knows the key too, or this fails.
    pub async fn register_native(&mut self, registrar: SocketAddr) -> Result<u64> {
        let credentials = self.credentials.as_ref().context("phone not provisioned")?;
        let config = RegistrationConfig {
            service: self.config.realm.as_bytes().to_vec(),
            mode: RegistrationMode::ChallengeResponse,
            sequence: 0,
            user: self.user_pin()?,
            response_timeout: 5,
        };
        let mut machine = Registration::new(config, credentials.key_id, &credentials.secret_key)?;
        let socket = UdpSocket::bind((self.config.address, 0)).await?;
        socket.connect(registrar).await?;
        machine.start(crate::now(), &mut OsRng)?;
        let mut buf = vec![0u8; 2048];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            while let Some(bytes) = machine.poll_transmit() {
                socket.send(&bytes).await?;
            }
            while let Some(event) = machine.poll_event() {
                match event {
                    device::Event::Registered { not_after, .. } => return Ok(not_after),
                    device::Event::Failed(e) => return Err(conv::peer_error(e).into()),
                    _ => {}
                }
            }
            let len = tokio::time::timeout_at(deadline, socket.recv(&mut buf))
                .await
                .context("registrar did not answer the native registration")??;
            if let Err(e) = machine.handle_message(&buf[..len]) {
                debug!(error = %e, "native registration message refused");
            }
        }
    }

    /// Registers, provisioning first when there is no valid key, and once more when the
    /// registrar rejects the key.
    pub async fn ensure_registered(&mut self) -> Result<Registered> {
        if !self.has_valid_key(crate::now()) {
            self.provision().await?;
        }
        match self.register().await {
            Err(e) if e.downcast_ref::<KeyRejected>().is_some() => {
                info!(serial = %self.config.serial, reason = %e, "provisioning again");
                self.provision().await?;
                self.register().await
            }
            other => other,
        }
    }

    /// Stays registered: refreshes at half the granted time, re-provisioning when told to,
    /// and retrying after failures.
    pub async fn run(mut self) -> Result<()> {
        loop {
            let wait = match self.ensure_registered().await {
                Ok(registered) => Duration::from_secs((registered.expires / 2).max(1)),
                Err(e) if is_final(&e) => return Err(e),
                Err(e) => {
                    let serial = &self.config.serial;
                    info!(%serial, error = %chain(&e), "registration failed; retrying");
                    self.sip = None;
                    Duration::from_secs(2)
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// The last REGISTER sent, for tests that replay it.
    pub fn last_request(&self) -> Option<&[u8]> {
        self.sip.as_ref().and_then(|s| s.last.as_deref())
    }
}

/// Whether retrying cannot help: the agent refused for a reason a retry does not change.
fn is_final(error: &anyhow::Error) -> bool {
    matches!(
        error.downcast_ref::<KpError>(),
        Some(KpError::LockedOut | KpError::WrongProof | KpError::NotAuthorized)
    )
}

fn rejection(reply: &Message) -> anyhow::Error {
    let warning = reply.header(&Name::WARNING).unwrap_or("");
    for reason in [KEY_SUPERSEDED, KEY_EXPIRED, KEY_REVOKED] {
        if warning.contains(reason) {
            return KeyRejected(reason.to_string()).into();
        }
    }
    anyhow!("registrar refused the registration (403)")
}

impl SipSession {
    fn new(credentials: &Credentials, realm: &str) -> Result<Self> {
        let key_id = credentials.key_id.to_string();
        let password = credentials
            .secret_key
            .authentication_key()
            .service_key(realm.as_bytes())?
            .digest_password();
        let credential = ClientCredential::Password(DigestPassphrase::from(&password));
        let policy = ClientPolicy {
            allow_md5: true,
            ..ClientPolicy::default()
        };
        Ok(Self {
            client: digest::Client::new(&key_id, credential, policy),
            key_id,
            call_id: sip::token("c"),
            from_tag: sip::token("t"),
            cseq: 0,
            link: None,
            last: None,
        })
    }
}

impl SipSession {
    /// Sends one REGISTER (a new transaction) and waits for its final response. A broken
    /// link is reopened once.
    async fn transact(&mut self, config: &PhoneConfig, expires: u32) -> Result<Message> {
        let uri = format!("sip:{}", config.realm);
        let authorization = match self.client.algorithm() {
            Some(_) => {
                let request = digest::Request {
                    method: "REGISTER",
                    uri: &uri,
                    body: &[],
                };
                Some(self.client.authorize(&request, &mut OsRng)?)
            }
            None => None,
        };
        self.cseq += 1;
        let mut last_error = None;
        for _ in 0..2 {
            let link = match self.link.take() {
                Some(link) => link,
                None => Link::open(config).await?,
            };
            let request = sip::register(&sip::Register {
                domain: &config.realm,
                user: &self.key_id,
                transport: &config.transport.to_string(),
                local: link.local_addr()?,
                branch: &sip::token("z9hG4bK"),
                from_tag: &self.from_tag,
                call_id: &self.call_id,
                cseq: self.cseq,
                expires,
                authorization: authorization.as_deref(),
            });
            self.last = Some(request.clone());
            let mut link = link;
            match link.exchange(&request, self.cseq).await {
                Ok(reply) => {
                    self.link = Some(link);
                    return Ok(reply);
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow!("registrar unreachable")))
    }

    fn challenged(&mut self, reply: &Message) -> Result<()> {
        let values: Vec<&str> = reply.header_values(&Name::WWW_AUTHENTICATE).collect();
        match self.client.handle_challenges(values.iter().copied()) {
            Err(KpError::WrongProof) => {
                // A fresh, non-stale challenge after an answer: the registrar forgot our
                // nonce (it restarted). Start over on the new one.
                self.client.reset();
                Ok(self.client.handle_challenges(values.iter().copied())?)
            }
            other => Ok(other?),
        }
    }

    fn accepted(&mut self, reply: &Message, asked: u32) -> Result<Registered> {
        let info = reply
            .header(&Name::AUTHENTICATION_INFO)
            .context("registrar sent no authentication-info: it did not prove it knows the key")?;
        if self.client.handle_authentication_info(info, &reply.body)? != ServerProof::Verified {
            bail!("registrar sent no rspauth: it did not prove it knows the key");
        }
        let granted = reply
            .contacts()?
            .unwrap_or_default()
            .iter()
            .find_map(|c| {
                c.params
                    .get_val("expires")
                    .and_then(|v| v.as_str().parse().ok())
            })
            .unwrap_or(u64::from(asked));
        Ok(Registered { expires: granted })
    }
}

impl Link {
    async fn open(config: &PhoneConfig) -> Result<Self> {
        Ok(match config.transport {
            Transport::Udp => {
                let socket = UdpSocket::bind((config.address, 0)).await?;
                socket.connect(config.registrar).await?;
                Self::Udp(socket)
            }
            Transport::Tcp => {
                let socket = match config.address {
                    std::net::IpAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
                    std::net::IpAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
                };
                socket.bind((config.address, 0).into())?;
                let stream = socket
                    .connect(config.registrar)
                    .await
                    .context("connect to registrar")?;
                stream.set_nodelay(true)?;
                Self::Tcp(stream, Vec::new())
            }
        })
    }

    fn local_addr(&self) -> Result<SocketAddr> {
        Ok(match self {
            Self::Udp(socket) => socket.local_addr()?,
            Self::Tcp(stream, _) => stream.local_addr()?,
        })
    }

    /// Sends `request` and returns the response carrying CSeq `cseq`.
    async fn exchange(&mut self, request: &[u8], cseq: u32) -> Result<Message> {
        match self {
            Self::Udp(socket) => udp_exchange(socket, request, cseq).await,
            Self::Tcp(stream, buffer) => {
                stream.write_all(request).await?;
                tokio::time::timeout(Duration::from_secs(5), tcp_response(stream, buffer, cseq))
                    .await
                    .context("registrar did not answer")?
            }
        }
    }
}

/// UDP with retransmission at 0.5, 1 and 2 seconds (RFC 3261 timer E, shortened).
async fn udp_exchange(socket: &UdpSocket, request: &[u8], cseq: u32) -> Result<Message> {
    let mut buf = vec![0u8; sip::MAX_MESSAGE];
    for wait in [500u64, 1000, 2000] {
        socket.send(request).await?;
        let deadline = tokio::time::Instant::now() + Duration::from_millis(wait);
        while let Ok(received) = tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
            let len = received?;
            if let Some(reply) = matching_response(&buf[..len], cseq) {
                return Ok(reply);
            }
        }
    }
    bail!("registrar did not answer over udp")
}

async fn tcp_response(stream: &mut TcpStream, buffer: &mut Vec<u8>, cseq: u32) -> Result<Message> {
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(len) = sip::complete_length(buffer)? {
            let bytes: Vec<u8> = buffer.drain(..len).collect();
            if let Some(reply) = matching_response(&bytes, cseq) {
                return Ok(reply);
            }
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            bail!("registrar closed the connection");
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

fn matching_response(bytes: &[u8], cseq: u32) -> Option<Message> {
    let reply = Message::parse(bytes).ok()?;
    let (number, _) = reply.cseq().ok()?;
    (reply.status().is_some_and(|code| code >= 200) && number == cseq).then_some(reply)
}

/// The agent's identity and the channel binding of an established TLS session.
fn session_facts(
    stream: &tokio_rustls::client::TlsStream<TcpStream>,
) -> Result<([u8; 32], [u8; CHANNEL_BINDING_LEN])> {
    let connection = stream.get_ref().1;
    let cert = connection
        .peer_certificates()
        .and_then(|c| c.first())
        .context("no agent cert")?;
    let mut binding = [0u8; CHANNEL_BINDING_LEN];
    connection.export_keying_material(&mut binding, CHANNEL_BINDING_LABEL, None)?;
    Ok((tls::identity(cert), binding))
}

/// Reads the credentials file, if there is one; it must be private to its owner.
pub fn load_credentials(path: &Path) -> Result<Option<Credentials>> {
    if !path.exists() {
        return Ok(None);
    }
    crate::seed::check_private(path)?;
    let text = Zeroizing::new(std::fs::read_to_string(path)?);
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
            .with_context(|| format!("credentials file lacks {name}"))
    };
    let key_id = field("key_id")?
        .parse::<KeyId>()
        .map_err(|e| anyhow!("key_id: {e}"))?;
    let secret = Zeroizing::new(crate::seed::decode_hex(field("secret")?)?);
    Ok(Some(Credentials {
        agent_id: *key_id.agent_id(),
        key_id,
        counter: field("counter")?.parse().context("counter")?,
        not_after: field("not_after")?.parse().context("not_after")?,
        secret_key: DeviceSecretKey::from_bytes(&secret)?,
    }))
}

/// Writes the credentials file (mode 0600), replacing the old one atomically.
pub fn store_credentials(path: &Path, credentials: &Credentials) -> Result<()> {
    let text = Zeroizing::new(format!(
        concat!(
            "# keyprov phone credentials: keep private\n",
            "key_id={}\ncounter={}\nnot_after={}\nsecret={}\n"
        ),
        credentials.key_id,
        credentials.counter,
        credentials.not_after,
        crate::seed::hex_encode(credentials.secret_key.expose_secret())
    ));
    let partial = path.with_extension("partial");
    tls::write_private(&partial, text.as_bytes())?;
    std::fs::rename(&partial, path)?;
    Ok(())
}
