//! keyprov's native registration on its own UDP port: the registrar side of
//! `keyprov::registrar::Session`, one per device address, with keys fetched from the agent.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use keyprov::Error as KpError;
use keyprov::KeyId;
use keyprov::registrar::{Event, Registrar, RegistrarConfig, Session};
use keyprov::wire::{Message, Refusal};
use tokio::net::UdpSocket;
use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

use crate::chain;
use crate::random::OsRng;
use crate::registrar::AgentClient;
use crate::store::{LOCKOUT_SECONDS, MAX_PIN_FAILURES};

/// Largest native registration datagram read.
pub const MAX_DATAGRAM: usize = keyprov::wire::MAX_MESSAGE_LEN;
/// Sessions in progress at once; beyond that, the oldest are dropped.
pub const MAX_SESSIONS: usize = 4096;
/// Datagrams handled at once (most of them waiting for the agent); beyond that a datagram is
/// answered at once with a refusal, so that a flood cannot queue work without end.
pub const MAX_IN_FLIGHT: usize = 1024;

/// A device registered natively.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NativeBinding {
    /// Where the device registered from.
    pub address: SocketAddr,
    /// Last second of the registration.
    pub not_after: u64,
}

/// The state of the native registration service.
pub struct Native {
    registrar: Mutex<Registrar>,
    sessions: Mutex<HashMap<SocketAddr, Session>>,
    bindings: Mutex<HashMap<String, NativeBinding>>,
    agent: Arc<AgentClient>,
    service: String,
    /// When each cached key was fetched: keyprov's registrar would use a key until its
    /// lifetime ends, so a key older than `key_cache_seconds` is forgotten and fetched again,
    /// and a superseded or revoked key is refused within that time, as on the SIP port. The
    /// sequence number kept with the key goes too: a challenge-free registration by sequence
    /// then gets a challenge first.
    fetched: Mutex<HashMap<KeyId, u64>>,
    key_cache_seconds: u64,
    /// PIN-signed registrations per login not (yet) accepted, with the time of the last one.
    /// Whoever holds any device's key may sign for any user, so each wrong signature answers
    /// one PIN guess. An attempt counts when its key is fetched, before its signature is
    /// checked, so that sessions started at once cannot all pass the limit; an accepted
    /// registration clears the count. Past the agent's limit within its window, a login's
    /// PIN-signed registrations are refused before any key is fetched.
    pin_attempts: Mutex<HashMap<Vec<u8>, (u32, u64)>>,
}

impl Native {
    /// A service for `service` (the realm), fetching keys through `agent` and using each for
    /// `key_cache_seconds` before asking the agent again.
    pub(crate) fn new(service: &str, agent: Arc<AgentClient>, key_cache_seconds: u64) -> Self {
        let config = RegistrarConfig {
            service: service.as_bytes().to_vec(),
            challenge_lifetime: 30,
            clock_window: 30,
            registration_lifetime: 3600,
            key_cache_capacity: 4096,
            replay_cache_capacity: 4096,
        };
        Self {
            registrar: Mutex::new(Registrar::new(config)),
            sessions: Mutex::new(HashMap::new()),
            bindings: Mutex::new(HashMap::new()),
            agent,
            service: service.into(),
            fetched: Mutex::new(HashMap::new()),
            key_cache_seconds,
            pin_attempts: Mutex::new(HashMap::new()),
        }
    }

    /// How many devices are registered natively now.
    pub fn registered(&self, now: u64) -> usize {
        lock(&self.bindings)
            .values()
            .filter(|b| b.not_after >= now)
            .count()
    }

    /// Serves datagrams on `socket` until the task is stopped.
    pub async fn serve(self: Arc<Self>, socket: Arc<UdpSocket>) {
        let mut buf = vec![0u8; 65_535];
        let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let busy = Message::Refusal(Refusal {
            outcome: KpError::NotAuthorized.code(),
        })
        .to_vec()
        .unwrap_or_default();
        loop {
            let Ok((len, peer)) = socket.recv_from(&mut buf).await else {
                continue;
            };
            if len > MAX_DATAGRAM {
                debug!(%peer, len, "oversized native datagram dropped");
                continue;
            }
            let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                debug!(%peer, "native registration busy");
                let _ = socket.send_to(&busy, peer).await;
                continue;
            };
            let datagram = buf[..len].to_vec();
            let (native, socket) = (self.clone(), socket.clone());
            tokio::spawn(async move {
                let _permit = permit;
                for reply in native.handle(peer, &datagram).await {
                    let _ = socket.send_to(&reply, peer).await;
                }
            });
        }
    }

    /// Runs one datagram through the peer's session; returns what to send back.
    pub async fn handle(&self, peer: SocketAddr, datagram: &[u8]) -> Vec<Vec<u8>> {
        let now = crate::now();
        self.forget_stale_key(datagram, now);
        let mut session = self.take_session(peer);
        let mut result =
            session.handle_message(&mut lock(&self.registrar), now, &mut OsRng, datagram);
        if let Err(KpError::UnexpectedMessage { .. }) = result {
            // The device started over (a new first message mid-conversation): so do we.
            session = Session::new();
            result = session.handle_message(&mut lock(&self.registrar), now, &mut OsRng, datagram);
        }
        if let Err(e) = result {
            debug!(%peer, error = %e, "native message refused");
        }
        let mut replies = Vec::new();
        loop {
            replies.extend(session.poll_transmit());
            let Some(event) = session.poll_event() else {
                break;
            };
            self.event(&mut session, peer, event, now).await;
        }
        replies.extend(session.poll_transmit());
        if !session.is_failed() && !session.is_registered() {
            self.keep_session(peer, session);
        }
        replies
    }

    async fn event(&self, session: &mut Session, peer: SocketAddr, event: Event, now: u64) {
        match event {
            Event::FetchKey {
                handle,
                key_id,
                login,
            } => {
                let locked = login.as_deref().is_some_and(|l| !self.pin_attempt(l, now));
                let fetched = if locked {
                    Ok(Err(KpError::LockedOut))
                } else {
                    self.agent
                        .fetch(&key_id, &self.service, login.as_deref())
                        .await
                };
                let key = match fetched {
                    Ok(answer) => {
                        self.fetched_now(key_id, now);
                        answer
                    }
                    Err(e) => {
                        debug!(error = %chain(&e), "native key fetch failed");
                        Err(KpError::UnknownKeyId)
                    }
                };
                let mut registrar = lock(&self.registrar);
                let _ = session.handle_key_result(&mut registrar, now, &mut OsRng, handle, key);
            }
            Event::Registered {
                key_id,
                login,
                not_after,
                ..
            } => {
                info!(key_id = %key_id, %peer, "registered natively");
                if let Some(login) = login {
                    lock(&self.pin_attempts).remove(&login);
                }
                let binding = NativeBinding {
                    address: peer,
                    not_after,
                };
                lock(&self.bindings).insert(key_id.to_string(), binding);
            }
            Event::Failed(e) => info!(%peer, error = %e, "native registration refused"),
            Event::PinRejected { login, .. } => {
                // Counted already, as an attempt, when its key was fetched.
                let login = String::from_utf8_lossy(&login);
                warn!(%peer, login = %login, "pin-signed registration with a wrong pin");
            }
        }
    }

    /// Counts a PIN-signed attempt for `login` at `now`, unless the login reached the limit
    /// within the window: then `false`.
    fn pin_attempt(&self, login: &[u8], now: u64) -> bool {
        let mut attempts = lock(&self.pin_attempts);
        attempts.retain(|_, (_, last)| now < last.saturating_add(LOCKOUT_SECONDS));
        let (count, last) = attempts.entry(login.to_vec()).or_insert((0, now));
        if *count >= MAX_PIN_FAILURES {
            return false;
        }
        *count += 1;
        *last = now;
        true
    }

    /// Before a first message, forgets its key if it was fetched longer ago than the cache
    /// time (or at an unknown time), so that the registration fetches it again.
    fn forget_stale_key(&self, datagram: &[u8], now: u64) {
        let key_id = match Message::decode(datagram) {
            Ok(Message::RegisterHello(hello)) => hello.key_id,
            Ok(Message::RegisterDirect(direct)) => direct.key_id,
            _ => return,
        };
        let Ok(key_id) = KeyId::from_bytes(key_id) else {
            return;
        };
        let fresh = lock(&self.fetched)
            .get(&key_id)
            .is_some_and(|&at| now < at.saturating_add(self.key_cache_seconds));
        if !fresh {
            lock(&self.registrar).forget(&key_id);
        }
    }

    fn fetched_now(&self, key_id: KeyId, now: u64) {
        let mut fetched = lock(&self.fetched);
        if fetched.len() >= MAX_SESSIONS {
            // Forgotten times count as stale: those keys are fetched again.
            fetched.clear();
        }
        fetched.insert(key_id, now);
    }

    fn take_session(&self, peer: SocketAddr) -> Session {
        lock(&self.sessions).remove(&peer).unwrap_or_default()
    }

    fn keep_session(&self, peer: SocketAddr, session: Session) {
        let mut sessions = lock(&self.sessions);
        if sessions.len() >= MAX_SESSIONS {
            sessions.clear();
        }
        sessions.insert(peer, session);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
