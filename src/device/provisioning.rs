//! The device side of provisioning (device and agent, inside the host's TLS session).

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::mem;

use subtle::ConstantTimeEq;

use super::{Event, UserPin};
use crate::keyid::{AgentId, DeviceId, KeyId};
use crate::proofs::{self, ProofContext};
use crate::secret::{DeviceSecretKey, PinVerifier};
use crate::wire::{
    Message, ProvisionRequest, ProvisionResponse, Subject as WireSubject, UserProof,
};
use crate::{Error, Handle};

/// Whom the device asks a key for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// Its unique identifier: the agent issues a structured key identifier for it.
    DeviceId(DeviceId),
    /// No identifier: the agent issues an unstructured key identifier.
    Anonymous,
    /// A key identifier the device proposes; the agent checks it and issues exactly it.
    ProposedKeyId(KeyId),
}

/// What the device is configured with before provisioning.
#[derive(Clone, Debug)]
pub struct ProvisioningConfig {
    /// The agent's authenticated identity the device trusts (for example the SHA-256 of its
    /// certificate's public key), compared in constant time with what the host reports.
    pub trust_anchor: [u8; 32],
    /// Whom to ask the key for.
    pub subject: Subject,
    /// The user and PIN, when provisioning needs them.
    pub user: Option<UserPin>,
    /// The agent identifier the answer must carry, if the device knows it.
    pub expected_agent: Option<AgentId>,
    /// The highest counter this device accepted before; an answer must exceed it.
    pub last_counter: Option<u32>,
    /// Send nothing before the host reported an assigned address.
    pub require_address: bool,
    /// Seconds to wait for the agent's answer.
    pub response_timeout: u64,
}

/// What the host knows about the TLS session once it is established.
#[derive(Clone, Copy, Debug)]
pub struct AgentSession<'a> {
    /// The agent's authenticated identity (for example the SHA-256 of its public key).
    pub agent_identity: &'a [u8; 32],
    /// The TLS channel binding (an exporter value), which ties the PIN proof to this session.
    pub channel_binding: &'a [u8],
}

/// What the device stores after provisioning.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// The key identifier.
    pub key_id: KeyId,
    /// The counter the agent reserved for this issue.
    pub counter: u32,
    /// Last second the key is valid.
    pub not_after: u64,
    /// The agent that issued the key.
    pub agent_id: AgentId,
    /// The device secret key.
    pub secret_key: DeviceSecretKey,
}

enum State {
    /// Waiting for the session (and, if required, the address).
    Idle { has_address: bool },
    /// The request is sent.
    AwaitingResponse { deadline: u64 },
    /// The answer checked; the host stores the credentials.
    Storing {
        handle: Handle,
        key_id: KeyId,
        secret: DeviceSecretKey,
        closed: bool,
    },
    /// Stored; waiting for the host to close the session.
    AwaitingClose {
        key_id: KeyId,
        secret: DeviceSecretKey,
    },
    /// Done: the authentication key was handed out.
    Provisioned,
    /// Failed for good.
    Failed,
}

impl State {
    const fn name(&self) -> &'static str {
        match self {
            Self::Idle { .. } => "idle",
            Self::AwaitingResponse { .. } => "awaiting response",
            Self::Storing { .. } => "storing",
            Self::AwaitingClose { .. } => "awaiting close",
            Self::Provisioned => "provisioned",
            Self::Failed => "failed",
        }
    }
}

/// The device side of provisioning.
///
/// Call order: [`Provisioning::new`]; optionally [`Provisioning::handle_address`]; once TLS is
/// up, [`Provisioning::handle_connected`] (checks the agent against the trust anchor and
/// queues the request); send what [`Provisioning::poll_transmit`] returns; pass the agent's
/// bytes to [`Provisioning::handle_message`]; on [`Event::StoreCredentials`] store and call
/// [`Provisioning::handle_store_result`]; on [`Event::CloseSession`] close and call
/// [`Provisioning::handle_closed`], which yields [`Event::Provisioned`]. Call
/// [`Provisioning::handle_timeout`] when the clock passes [`Provisioning::poll_timeout`].
pub struct Provisioning {
    config: ProvisioningConfig,
    state: State,
    transmit: Option<Vec<u8>>,
    events: VecDeque<Event>,
    next_handle: u64,
}

impl Provisioning {
    /// A machine that has sent nothing yet.
    pub fn new(config: ProvisioningConfig) -> Self {
        Self {
            config,
            state: State::Idle { has_address: false },
            transmit: None,
            events: VecDeque::new(),
            next_handle: 0,
        }
    }

    /// The host reports that the device has an IP address.
    pub fn handle_address(&mut self) -> Result<(), Error> {
        match &mut self.state {
            State::Idle { has_address } => {
                *has_address = true;
                Ok(())
            }
            other => Err(misuse("handle_address", other)),
        }
    }

    /// The host reports the established TLS session. The agent's identity must match the
    /// trust anchor, or the machine fails with [`Error::UntrustedAgent`] having sent nothing.
    /// A channel binding outside [`crate::CHANNEL_BINDING_MIN_LEN`] to
    /// [`crate::CHANNEL_BINDING_MAX_LEN`] bytes is refused and changes nothing.
    pub fn handle_connected(&mut self, now: u64, session: &AgentSession<'_>) -> Result<(), Error> {
        let has_address = match self.state {
            State::Idle { has_address } => has_address,
            ref other => return Err(misuse("handle_connected", other)),
        };
        crate::proofs::check_channel_binding(session.channel_binding)?;
        if self.config.require_address && !has_address {
            return Err(Error::NoAddress);
        }
        let trusted: bool = session
            .agent_identity
            .ct_eq(&self.config.trust_anchor)
            .into();
        if !trusted {
            return Err(self.fail(Error::UntrustedAgent));
        }
        match self.request_bytes(session.channel_binding) {
            Ok(bytes) => self.transmit = Some(bytes),
            Err(error) => return Err(self.fail(error)),
        }
        let deadline = now.saturating_add(self.config.response_timeout);
        self.state = State::AwaitingResponse { deadline };
        Ok(())
    }

    fn request_bytes(&self, channel_binding: &[u8]) -> Result<Vec<u8>, Error> {
        let subject_bytes = subject_bytes(&self.config.subject);
        let subject = wire_subject(&self.config.subject, &subject_bytes);
        let proof = self.config.user.as_ref().map(|user| {
            let verifier = PinVerifier::from_pin(&user.salt, &user.pin);
            let context = ProofContext {
                subject_kind: subject.kind(),
                subject: &subject_bytes,
                login: &user.login,
            };
            proofs::pin_proof(&verifier, channel_binding, &context)
        });
        let user = self.config.user.as_ref().zip(proof.as_ref());
        let user = user.map(|(user, proof)| UserProof {
            login: &user.login,
            proof,
        });
        Message::ProvisionRequest(ProvisionRequest { subject, user }).to_vec()
    }

    /// Bytes the agent sent. An answer that does not check out fails the machine.
    pub fn handle_message(&mut self, now: u64, bytes: &[u8]) -> Result<(), Error> {
        match mem::replace(&mut self.state, State::Failed) {
            State::AwaitingResponse { .. } => {}
            State::Failed => return Err(Error::Failed),
            other => {
                let error = Error::UnexpectedMessage {
                    state: other.name(),
                };
                return Err(self.fail(error));
            }
        }
        match self.accept_response(now, bytes) {
            Ok((credentials, secret)) => {
                let handle = self.handle();
                let key_id = credentials.key_id;
                self.events.push_back(Event::StoreCredentials {
                    handle,
                    credentials,
                });
                self.state = State::Storing {
                    handle,
                    key_id,
                    secret,
                    closed: false,
                };
                Ok(())
            }
            Err(error) => Err(self.fail(error)),
        }
    }

    fn accept_response(
        &self,
        now: u64,
        bytes: &[u8],
    ) -> Result<(Credentials, DeviceSecretKey), Error> {
        let response = match Message::decode(bytes)? {
            Message::ProvisionResponse(response) => response,
            Message::Refusal(refusal) => {
                return Err(Error::PeerRefused {
                    code: refusal.outcome,
                });
            }
            _ => {
                return Err(Error::UnexpectedMessage {
                    state: "awaiting response",
                });
            }
        };
        let credentials = self.check_response(now, &response)?;
        let secret = credentials.secret_key.clone();
        Ok((credentials, secret))
    }

    fn check_response(&self, now: u64, r: &ProvisionResponse<'_>) -> Result<Credentials, Error> {
        let agent_id = AgentId::from_bytes(r.agent_id)?;
        let key_id = KeyId::from_bytes(r.key_id)?;
        if self
            .config
            .expected_agent
            .is_some_and(|expected| expected != agent_id)
        {
            return Err(Error::MismatchedAnswer { field: "agent id" });
        }
        if *key_id.agent_id() != agent_id {
            return Err(Error::MismatchedAnswer {
                field: "key id agent",
            });
        }
        self.check_subject(&key_id, r.counter)?;
        if self
            .config
            .last_counter
            .is_some_and(|last| r.counter <= last)
        {
            return Err(Error::CounterRollback);
        }
        if r.not_after < now {
            return Err(Error::Expired);
        }
        Ok(Credentials {
            key_id,
            counter: r.counter,
            not_after: r.not_after,
            agent_id,
            secret_key: DeviceSecretKey::from_bytes(r.secret_key.0)?,
        })
    }

    fn check_subject(&self, key_id: &KeyId, counter: u32) -> Result<(), Error> {
        let matches = match &self.config.subject {
            Subject::DeviceId(device) => {
                key_id.device_id() == Some(device) && key_id.counter() == Some(counter)
            }
            Subject::Anonymous => !key_id.is_structured(),
            Subject::ProposedKeyId(proposed) => proposed == key_id,
        };
        if matches {
            Ok(())
        } else {
            Err(Error::MismatchedAnswer { field: "key id" })
        }
    }

    /// The host's answer to [`Event::StoreCredentials`]. A failed store fails the machine.
    pub fn handle_store_result(
        &mut self,
        handle: Handle,
        result: Result<(), Error>,
    ) -> Result<(), Error> {
        match mem::replace(&mut self.state, State::Failed) {
            State::Storing {
                handle: expected,
                key_id,
                secret,
                closed,
            } if expected == handle => {
                if let Err(error) = result {
                    return Err(self.fail(error));
                }
                self.state = State::AwaitingClose { key_id, secret };
                if closed {
                    self.finish();
                } else {
                    self.events.push_back(Event::CloseSession);
                }
                Ok(())
            }
            other => {
                let error = if matches!(other, State::Failed) {
                    Error::Failed
                } else {
                    Error::UnknownHandle
                };
                self.state = other;
                Err(error)
            }
        }
    }

    /// The host reports the TLS session closed. Before the answer arrived this fails the
    /// machine with [`Error::SessionClosed`]; after it, the authentication key is computed.
    pub fn handle_closed(&mut self) -> Result<(), Error> {
        match &mut self.state {
            State::Storing { closed, .. } => {
                *closed = true;
                Ok(())
            }
            State::AwaitingClose { .. } => {
                self.finish();
                Ok(())
            }
            State::Idle { .. } | State::AwaitingResponse { .. } => {
                Err(self.fail(Error::SessionClosed))
            }
            State::Provisioned => Ok(()),
            State::Failed => Err(Error::Failed),
        }
    }

    fn finish(&mut self) {
        if let State::AwaitingClose { key_id, secret } =
            mem::replace(&mut self.state, State::Provisioned)
        {
            let authentication_key = secret.authentication_key();
            self.events.push_back(Event::Provisioned {
                key_id,
                authentication_key,
            });
        }
    }

    /// The host's clock reached [`Provisioning::poll_timeout`]: without an answer by now the
    /// machine fails with [`Error::TimedOut`].
    pub fn handle_timeout(&mut self, now: u64) -> Result<(), Error> {
        match self.state {
            State::AwaitingResponse { deadline } if now >= deadline => {
                Err(self.fail(Error::TimedOut))
            }
            State::Failed => Err(Error::Failed),
            _ => Ok(()),
        }
    }

    /// When [`Provisioning::handle_timeout`] must be called, if a deadline runs.
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.state {
            State::AwaitingResponse { deadline } => Some(deadline),
            _ => None,
        }
    }

    /// The next bytes to send to the agent.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.take()
    }

    /// The next event for the host.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether provisioning finished.
    pub fn is_provisioned(&self) -> bool {
        matches!(self.state, State::Provisioned)
    }

    /// Whether the machine failed for good.
    pub fn is_failed(&self) -> bool {
        matches!(self.state, State::Failed)
    }

    fn handle(&mut self) -> Handle {
        self.next_handle += 1;
        Handle(self.next_handle)
    }

    fn fail(&mut self, error: Error) -> Error {
        self.state = State::Failed;
        self.transmit = None;
        self.events.push_back(Event::Failed(error));
        error
    }
}

fn misuse(call: &'static str, state: &State) -> Error {
    match state {
        State::Failed => Error::Failed,
        other => Error::InvalidState {
            call,
            state: other.name(),
        },
    }
}

/// The subject as sent: `u8(device id type) || value` for a device, the binary key id for a
/// proposal, nothing when anonymous.
pub(crate) fn subject_bytes(subject: &Subject) -> Vec<u8> {
    match subject {
        Subject::DeviceId(device) => encode_device_id(device),
        Subject::Anonymous => Vec::new(),
        Subject::ProposedKeyId(key_id) => key_id.to_bytes(),
    }
}

/// `u8(device id type) || canonical value`.
pub(crate) fn encode_device_id(device: &DeviceId) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(1 + device.value_bytes().len());
    bytes.push(device.kind().code());
    bytes.extend_from_slice(device.value_bytes());
    bytes
}

fn wire_subject<'a>(subject: &Subject, bytes: &'a [u8]) -> WireSubject<'a> {
    match subject {
        Subject::DeviceId(_) => WireSubject::DeviceId(bytes),
        Subject::Anonymous => WireSubject::Anonymous,
        Subject::ProposedKeyId(_) => WireSubject::ProposedKeyId(bytes),
    }
}
