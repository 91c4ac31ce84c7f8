//! The agent side of key fetching (registrar and agent, inside the host's mutual TLS).

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use super::{AgentConfig, Event, outcome};
use crate::keyid::KeyId;
use crate::secret::PinVerifier;
use crate::wire::{KeyIdBytes, KeyRefusal, KeyRequest, KeyResponse, Message, SecretBytes};
use crate::{Error, Handle};

/// Most requests one registrar connection may have waiting for the host at once.
pub const MAX_PENDING_CHECKS: usize = 256;

/// What the host knows about a key identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyStatus {
    /// The newest key issued to its device, neither revoked nor superseded.
    Current {
        /// Last second the key is valid.
        not_after: u64,
    },
    /// A newer counter was issued to the same device.
    Superseded,
    /// Revoked.
    Revoked,
    /// Never issued.
    Unknown,
}

/// The host's answer to [`Event::CheckKey`].
#[derive(Clone, Debug)]
pub struct KeyCheck {
    /// Whether this registrar may have keys for this service.
    pub authorized: bool,
    /// The key identifier's status.
    pub status: KeyStatus,
    /// The user's PIN verifier, when the request named a user the directory knows.
    pub pin_verifier: Option<PinVerifier>,
}

/// A request waiting for the host's check.
struct Pending {
    handle: Handle,
    request_id: u32,
    key_id: KeyId,
    service: Vec<u8>,
    wants_pin_key: bool,
}

enum State {
    Serving { pending: Vec<Pending> },
    Failed,
}

/// The agent side of one registrar connection; requests may overlap.
///
/// Call order: [`KeyService::new`] with the registrar's identity from the mutual TLS
/// handshake; each message from the registrar to [`KeyService::handle_message`]; answer every
/// [`Event::CheckKey`] with [`KeyService::handle_check_result`]; send everything
/// [`KeyService::poll_transmit`] returns, in order. A request that is refused gets a key
/// refusal with a coarse outcome and the connection stays usable; bytes that do not decode
/// fail the machine.
pub struct KeyService {
    registrar: [u8; 32],
    state: State,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    next_handle: u64,
}

impl KeyService {
    /// A machine for a registrar whose identity the host authenticated.
    pub fn new(registrar_identity: [u8; 32]) -> Self {
        Self {
            registrar: registrar_identity,
            state: State::Serving {
                pending: Vec::new(),
            },
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            next_handle: 0,
        }
    }

    /// A message from the registrar.
    pub fn handle_message(&mut self, config: &AgentConfig, bytes: &[u8]) -> Result<(), Error> {
        if matches!(self.state, State::Failed) {
            return Err(Error::Failed);
        }
        let request = match Message::decode(bytes) {
            Ok(Message::KeyRequest(request)) => request,
            Ok(_) => return Err(self.fail(Error::UnexpectedMessage { state: "serving" })),
            Err(error) => return Err(self.fail(error)),
        };
        match self.accept_request(config, &request) {
            Ok(()) => Ok(()),
            Err(error) => {
                self.refuse(request.request_id, &error);
                Err(error)
            }
        }
    }

    fn accept_request(
        &mut self,
        config: &AgentConfig,
        request: &KeyRequest<'_>,
    ) -> Result<(), Error> {
        let key_id = KeyId::from_bytes(request.key_id).map_err(|_| Error::UnknownKeyId)?;
        if *key_id.agent_id() != config.agent_id {
            return Err(Error::UnknownKeyId);
        }
        // Expired for a retired epoch, so the device provisions again; unknown otherwise.
        config.keyring.schedule(key_id.epoch())?;
        let handle = Handle(self.next_handle + 1);
        let State::Serving { pending } = &mut self.state else {
            return Err(Error::Failed);
        };
        if pending.len() >= MAX_PENDING_CHECKS {
            return Err(Error::NotAuthorized);
        }
        self.next_handle += 1;
        pending.push(Pending {
            handle,
            request_id: request.request_id,
            key_id,
            service: request.service.to_vec(),
            wants_pin_key: request.login.is_some(),
        });
        self.events.push_back(Event::CheckKey {
            handle,
            registrar: self.registrar,
            service: request.service.to_vec(),
            key_id,
            login: request.login.map(<[u8]>::to_vec),
        });
        Ok(())
    }

    /// The host's answer to [`Event::CheckKey`]. A refusal goes to the registrar as a key
    /// refusal and is returned here too; the connection stays usable.
    pub fn handle_check_result(
        &mut self,
        config: &AgentConfig,
        now: u64,
        handle: Handle,
        check: KeyCheck,
    ) -> Result<(), Error> {
        let pending = self.take_pending(handle)?;
        match self.answer(config, now, &pending, &check) {
            Ok(bytes) => {
                self.transmit.push_back(bytes);
                Ok(())
            }
            Err(error) => {
                self.refuse(pending.request_id, &error);
                Err(error)
            }
        }
    }

    fn take_pending(&mut self, handle: Handle) -> Result<Pending, Error> {
        let State::Serving { pending } = &mut self.state else {
            return Err(Error::Failed);
        };
        let index = pending
            .iter()
            .position(|p| p.handle == handle)
            .ok_or(Error::UnknownHandle)?;
        Ok(pending.swap_remove(index))
    }

    fn answer(
        &self,
        config: &AgentConfig,
        now: u64,
        pending: &Pending,
        check: &KeyCheck,
    ) -> Result<Vec<u8>, Error> {
        if !check.authorized {
            return Err(Error::NotAuthorized);
        }
        let not_after = match check.status {
            KeyStatus::Current { not_after } if now <= not_after => not_after,
            KeyStatus::Current { .. } => return Err(Error::Expired),
            KeyStatus::Superseded => return Err(Error::Superseded),
            KeyStatus::Revoked => return Err(Error::Revoked),
            KeyStatus::Unknown => return Err(Error::UnknownKeyId),
        };
        let schedule = config.keyring.schedule(pending.key_id.epoch())?;
        let device_key = schedule.device_key(KeyIdBytes::new(&pending.key_id).as_slice())?;
        let service_key = device_key
            .authentication_key()
            .service_key(&pending.service)?;
        let pin_key = match (&check.pin_verifier, pending.wants_pin_key) {
            (Some(verifier), true) => Some(device_key.pin_signing_key_from_verifier(verifier)),
            (None, true) => return Err(Error::NotAuthorized),
            (_, false) => None,
        };
        Message::KeyResponse(KeyResponse {
            request_id: pending.request_id,
            not_after,
            service_key: SecretBytes(service_key.expose_secret()),
            pin_key: pin_key.as_ref().map(|k| SecretBytes(k.expose_secret())),
        })
        .to_vec()
    }

    fn refuse(&mut self, request_id: u32, error: &Error) {
        let refusal = KeyRefusal {
            request_id,
            outcome: outcome(error),
        };
        if let Ok(bytes) = Message::KeyRefusal(refusal).to_vec() {
            self.transmit.push_back(bytes);
        }
    }

    /// The next bytes to send to the registrar.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// The next event for the host.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether the machine failed for good.
    pub fn is_failed(&self) -> bool {
        matches!(self.state, State::Failed)
    }

    fn fail(&mut self, error: Error) -> Error {
        self.state = State::Failed;
        self.events.push_back(Event::Failed(error));
        error
    }
}
