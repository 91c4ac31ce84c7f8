//! The device (IP phone): two sans-IO state machines.
//!
//! - [`Provisioning`] runs inside a TLS session the host opened to the key generating agent:
//!   one request, one response, then the session closes and the device holds a key identifier
//!   and a secret key.
//! - [`Registration`] authenticates the device to a registrar with those credentials, over any
//!   transport, and ends with session keys both sides share.
//!
//! Both follow one contract: the host feeds inputs through `handle_*` calls (bytes received,
//! session facts, answers to requests, the clock), and drains outputs through `poll_transmit`
//! (bytes to send, in order) and `poll_event` (what the host must do or know). Time is the
//! host's clock in seconds; randomness is a [`rand_core::CryptoRng`] the host lends to the call
//! that needs it. A call that fails because of its own arguments or the state it was made in
//! (wrong handle, wrong moment) changes nothing; a failure of the conversation leaves the
//! machine failed for good, reported once as [`Event::Failed`], and every later call returns
//! [`crate::Error::Failed`].

mod provisioning;
mod registration;

pub use provisioning::{AgentSession, Credentials, Provisioning, ProvisioningConfig, Subject};
pub use registration::{Registration, RegistrationConfig, RegistrationMode};

use alloc::vec::Vec;

use crate::keys::SessionKeys;
use crate::secret::{AuthenticationKey, Pin};
use crate::{Error, Handle, KeyId};

/// A user signing in on the device, for a PIN-checked provisioning or a PIN-signed
/// registration (hot-desking).
#[derive(Clone, Debug)]
pub struct UserPin {
    /// The user's login in the enterprise directory (1 to 128 bytes).
    pub login: Vec<u8>,
    /// The PIN the user typed.
    pub pin: Pin,
    /// The user's salt, as the directory holds it (not secret).
    pub salt: Vec<u8>,
}

/// What a device state machine tells its host.
#[derive(Debug)]
pub enum Event {
    /// Store these credentials durably, then answer with
    /// [`Provisioning::handle_store_result`].
    StoreCredentials {
        /// Names this request.
        handle: Handle,
        /// What to store.
        credentials: Credentials,
    },
    /// The conversation with the agent is over: close the TLS session, then call
    /// [`Provisioning::handle_closed`].
    CloseSession,
    /// Provisioning finished: the session is closed and the authentication key computed.
    Provisioned {
        /// The key identifier issued.
        key_id: KeyId,
        /// The key the device authenticates with from now on.
        authentication_key: AuthenticationKey,
    },
    /// The registrar accepted the registration and proved it knew the key too.
    Registered {
        /// The key identifier registered.
        key_id: KeyId,
        /// Last second of the registration.
        not_after: u64,
        /// The keys for later secure communication with the registrar.
        session_keys: SessionKeys,
    },
    /// The conversation failed for good with this error.
    Failed(Error),
}
