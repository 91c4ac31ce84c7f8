//! The registrar: per-registration sans-IO state machines over shared, bounded memory.
//!
//! - [`Session`]: one per registration attempt. It reads the device's first message, finds
//!   the per-service key (in the cache, or by asking the host to fetch it from the agent),
//!   checks the device's proof, freshness and optional PIN signature, and answers with its
//!   own proof; both sides then hold the same session keys.
//! - [`KeyClient`]: the registrar's side of the key fetch conversation with the agent, one per
//!   mutual TLS connection; the host uses it to answer [`Event::FetchKey`].
//! - [`Registrar`]: what all sessions share: configuration, the key cache and the replay
//!   cache. Sessions borrow it mutably in the calls that need it; a threaded host puts it
//!   behind one lock.
//!
//! The contract (inputs through `handle_*`, outputs through `poll_*`, clock and randomness
//! from the host, failures final) is the one described in [`crate::device`].

mod cache;
mod key_client;
mod session;

pub use cache::WAYS;
pub use key_client::KeyClient;
pub use session::Session;

use alloc::vec::Vec;

use cache::{KeyCache, ReplayCache};

use crate::keys::SessionKeys;
use crate::secret::{PinSigningKey, ServiceKey};
use crate::{Error, Handle, KeyId};

/// How a registrar behaves.
#[derive(Clone, Debug)]
pub struct RegistrarConfig {
    /// The service (realm) this registrar serves; per-service keys are bound to it.
    pub service: Vec<u8>,
    /// Seconds a challenge may be answered after it was sent.
    pub challenge_lifetime: u64,
    /// How far, in seconds, a time-based registration's clock may be from the registrar's.
    pub clock_window: u64,
    /// Seconds a registration lasts at most (less if the key expires before).
    pub registration_lifetime: u64,
    /// Devices whose keys stay cached.
    pub key_cache_capacity: usize,
    /// Time-based registrations remembered for replay detection.
    pub replay_cache_capacity: usize,
}

/// What every registration session shares.
pub struct Registrar {
    config: RegistrarConfig,
    keys: KeyCache,
    replays: ReplayCache,
}

impl Registrar {
    /// Allocates both caches at their full capacity.
    pub fn new(config: RegistrarConfig) -> Self {
        Self {
            keys: KeyCache::new(config.key_cache_capacity),
            replays: ReplayCache::new(config.replay_cache_capacity),
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &RegistrarConfig {
        &self.config
    }

    /// Forgets the cached key of a key identifier. A cached key is otherwise used until its
    /// lifetime ends, so a host that learns of a revocation or a newer key identifier calls
    /// this to make the next registration fetch (and be refused) at once.
    pub fn forget(&mut self, key_id: &KeyId) {
        self.keys.remove(&cache::fingerprint(&key_id.to_bytes()));
    }

    /// Bytes the key cache holds, allocated once at its capacity.
    pub fn key_cache_memory(&self) -> usize {
        self.keys.memory()
    }
}

/// A key the host fetched from the agent (see [`KeyClient`]), or derived itself.
#[derive(Debug)]
pub struct FetchedKey {
    /// The per-service key.
    pub service_key: ServiceKey,
    /// Last second it is valid.
    pub not_after: u64,
    /// The PIN-bound signing key, when the fetch named a user.
    pub pin_key: Option<PinSigningKey>,
}

/// What a registrar session tells its host.
#[derive(Debug)]
pub enum Event {
    /// Fetch this key from the agent, then answer with [`Session::handle_key_result`].
    FetchKey {
        /// Names this request.
        handle: Handle,
        /// The key identifier.
        key_id: KeyId,
        /// The user whose PIN-bound key is needed too.
        login: Option<Vec<u8>>,
    },
    /// The device is registered.
    Registered {
        /// Its key identifier.
        key_id: KeyId,
        /// The user, for a PIN-signed registration.
        login: Option<Vec<u8>>,
        /// Last second of the registration.
        not_after: u64,
        /// The keys for later secure communication with the device.
        session_keys: SessionKeys,
    },
    /// A PIN-signed registration carried a good device proof but a wrong PIN signature: a
    /// PIN guess, which the host may add to the user's lockout count at the agent. The device
    /// proof does not cover the PIN signature, so someone who saw the registration may have
    /// altered it; copies of one registration are replays and report this once at most.
    PinRejected {
        /// The user's login.
        login: Vec<u8>,
        /// When, on the host's clock.
        at: u64,
    },
    /// The registration failed for good with this error.
    Failed(Error),
}

/// The coarse outcome the device is told.
pub(crate) const fn outcome(error: &Error) -> u16 {
    match error {
        Error::UnknownKeyId
        | Error::Superseded
        | Error::Revoked
        | Error::Expired
        | Error::WrongProof
        | Error::StaleChallenge
        | Error::Replay
        | Error::NotAuthorized => error.code(),
        Error::PeerRefused { code } if *code >= 300 && *code <= 309 => *code,
        _ => Error::NotAuthorized.code(),
    }
}
