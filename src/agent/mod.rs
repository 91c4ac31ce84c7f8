//! The key generating agent: two sans-IO state machines and their shared configuration.
//!
//! - [`Provisioning`]: one per device TLS session. It reads one request, checks the user's
//!   PIN proof through the host's directory, has the host reserve the next counter durably,
//!   derives the key identifier and the device secret key, and answers once.
//! - [`KeyService`]: one per registrar connection (mutual TLS). It answers requests for
//!   per-service keys after the host confirmed the registrar may have them and the key
//!   identifier is current.
//!
//! The [`AgentConfig`] (agent identifier, master keys, policy) is shared by reference: a host
//! runs as many machines as it has sessions. Whenever a machine needs the outside world it
//! emits an event with a [`Handle`] and waits for the matching `handle_*_result` call, which
//! may come from any thread: the machines are `Send`. The rest of the contract (inputs through
//! `handle_*`, outputs through `poll_*`, clock and randomness from the host, failures final)
//! is the one described in [`crate::device`].
//!
//! PIN lockout is counted by the host: [`Event::PinRejected`] tells it about each failure, and
//! its answer to [`Event::LookupUser`] carries the failures it counted within its window.
//! Counts then survive agent restarts and are shared by every agent of a cluster. The host
//! counts them for every login, known or not, so that the lockout does not tell which logins
//! exist.

mod key_service;
mod provisioning;

pub use key_service::{KeyCheck, KeyService, KeyStatus, MAX_PENDING_CHECKS};
pub use provisioning::{Provisioning, Reservation, UserRecord};

use alloc::vec::Vec;

use crate::keyid::{AgentId, KeyId};
use crate::keys::MasterKeyring;
use crate::secret::{Pin, PinVerifier};
use crate::{Error, Handle};

/// What every agent machine shares.
#[derive(Debug)]
pub struct AgentConfig {
    /// This agent's identifier, written into every key identifier it issues.
    pub agent_id: AgentId,
    /// The master keys; new keys are issued under the current epoch.
    pub keyring: MasterKeyring,
    /// Seconds a newly issued key is valid.
    pub key_lifetime: u64,
    /// Refuse provisioning requests that carry no user and PIN proof.
    pub require_pin: bool,
    /// Failed PIN attempts within the host's window after which a user is locked out.
    pub max_pin_failures: u32,
}

/// What an agent machine tells its host.
#[derive(Debug)]
pub enum Event {
    /// Look the login up in the directory; answer with [`Provisioning::handle_user_result`],
    /// with the failures counted for the login even if the directory does not know it.
    LookupUser {
        /// Names this request.
        handle: Handle,
        /// The login the device sent.
        login: Vec<u8>,
    },
    /// A PIN proof for this login did not verify: count it for the lockout, whether the
    /// directory knows the login or not.
    PinRejected {
        /// The login.
        login: Vec<u8>,
        /// When, on the host's clock.
        at: u64,
    },
    /// A PIN proof verified: the host may reset the user's failure count.
    PinAccepted {
        /// The login.
        login: Vec<u8>,
    },
    /// Reserve the next counter durably, then answer with
    /// [`Provisioning::handle_counter_result`].
    ReserveCounter {
        /// Names this request.
        handle: Handle,
        /// What the counter is for.
        reservation: Reservation,
    },
    /// A key identifier was issued (the answer is queued for sending).
    Issued {
        /// The key identifier.
        key_id: KeyId,
        /// Its counter.
        counter: u32,
        /// Last second it is valid.
        not_after: u64,
    },
    /// Check that the registrar may have this key and that the key identifier is current;
    /// answer with [`KeyService::handle_check_result`].
    CheckKey {
        /// Names this request.
        handle: Handle,
        /// The registrar's authenticated identity, as the host reported it.
        registrar: [u8; 32],
        /// The service the key is asked for.
        service: Vec<u8>,
        /// The key identifier.
        key_id: KeyId,
        /// The user whose PIN verifier is needed too, for a PIN-signed registration.
        login: Option<Vec<u8>>,
    },
    /// The conversation failed for good with this error.
    Failed(Error),
}

/// The PIN verifier a directory stores for a user: `HMAC(salt, lp(label) || lp(pin))`, the
/// same as [`PinVerifier::from_pin`].
///
/// A PIN has few digits: whoever steals the directory can find each PIN offline by trying
/// them all against its verifier; the salt only stops one table serving every user. What the
/// verifier protects against is online guessing, which the lockout limits.
pub fn pin_verifier(salt: &[u8], pin: &Pin) -> PinVerifier {
    PinVerifier::from_pin(salt, pin)
}

/// The coarse outcome a peer is told for an error: enough to act on, nothing more. A wrong
/// PIN and an unknown user look the same.
pub(crate) const fn outcome(error: &Error) -> u16 {
    match error {
        Error::UnknownKeyId
        | Error::Superseded
        | Error::Revoked
        | Error::Expired
        | Error::LockedOut
        | Error::NotAuthorized => error.code(),
        Error::WrongProof => Error::WrongProof.code(),
        _ => Error::NotAuthorized.code(),
    }
}
