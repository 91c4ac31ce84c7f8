//! The agent side of provisioning.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::mem;

use rand_core::CryptoRng;
use subtle::{Choice, ConstantTimeEq};

use super::{AgentConfig, Event, outcome};
use crate::keyid::{DeviceId, DeviceIdType, KeyId, UnstructuredValue, ValueSource};
use crate::proofs::{self, ProofContext};
use crate::secret::PinVerifier;
use crate::wire::{
    KeyIdBytes, Message, ProvisionRequest, ProvisionResponse, Refusal, SecretBytes, Subject,
};
use crate::{Error, Handle};

/// Bytes of randomness in an unstructured key identifier the agent makes.
const RANDOM_VALUE_LEN: usize = 16;

/// What a counter reservation is for. The host keeps one durable counter per device and one
/// for all unstructured key identifiers, and answers with the next value, never one it gave
/// before (not even across restarts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// The next counter of this device.
    Device(DeviceId),
    /// The next counter of the unstructured sequence, for this key identifier.
    Anonymous(KeyId),
    /// A key identifier the device proposed: the next counter of its device (structured) or
    /// of the unstructured sequence. The host answers [`Error::Superseded`] if this key
    /// identifier was issued before; for a structured one the agent also refuses unless the
    /// reserved counter is exactly the proposed one.
    Proposed(KeyId),
}

/// The directory's answer about a login, known or not.
///
/// The host counts PIN failures for every login it is asked about, known or not (a bounded
/// table is enough for unknown ones), so that a login outside the directory is locked out
/// exactly like a known one and the device cannot tell them apart.
#[derive(Clone, Debug)]
pub struct UserRecord {
    /// The user's PIN verifier (see [`super::pin_verifier`]); `None` for a login the directory
    /// does not know or a user without a PIN.
    pub verifier: Option<PinVerifier>,
    /// Failed PIN attempts the host counted for this login within its lockout window.
    pub recent_failures: u32,
}

/// What an unknown login's proof is checked against, so that the check costs the same as for
/// a known one. Public, hence never accepted: the check also requires a known login.
const DUMMY_VERIFIER: [u8; 32] = [0x5a; 32];

/// The checked request, waiting for the directory and the counter.
struct Request {
    reservation: Reservation,
    login: Option<Vec<u8>>,
}

enum State {
    AwaitingSession,
    AwaitingRequest {
        channel_binding: Vec<u8>,
    },
    AwaitingUser {
        handle: Handle,
        request: Request,
        expected_proof: ProofInput,
    },
    AwaitingCounter {
        handle: Handle,
        request: Request,
    },
    Answered,
    Failed,
}

/// What the PIN proof is recomputed from once the verifier is known.
struct ProofInput {
    channel_binding: Vec<u8>,
    subject_kind: u8,
    subject: Vec<u8>,
    proof: [u8; 32],
}

impl State {
    const fn name(&self) -> &'static str {
        match self {
            Self::AwaitingSession => "awaiting session",
            Self::AwaitingRequest { .. } => "awaiting request",
            Self::AwaitingUser { .. } => "awaiting user",
            Self::AwaitingCounter { .. } => "awaiting counter",
            Self::Answered => "answered",
            Self::Failed => "failed",
        }
    }
}

/// The agent side of one device's provisioning session.
///
/// Call order: [`Provisioning::new`]; [`Provisioning::handle_connected`] with the TLS channel
/// binding; the device's bytes to [`Provisioning::handle_message`]; answer
/// [`Event::LookupUser`] with [`Provisioning::handle_user_result`] and
/// [`Event::ReserveCounter`] with [`Provisioning::handle_counter_result`] (only after the
/// counter is durable); send what [`Provisioning::poll_transmit`] returns, then close the
/// session. If the session closes first, call [`Provisioning::handle_closed`]. A refused
/// request gets a refusal message with a coarse outcome before [`Event::Failed`].
pub struct Provisioning {
    state: State,
    transmit: Option<Vec<u8>>,
    events: VecDeque<Event>,
    next_handle: u64,
}

impl Default for Provisioning {
    fn default() -> Self {
        Self::new()
    }
}

impl Provisioning {
    /// A machine waiting for its session.
    pub fn new() -> Self {
        Self {
            state: State::AwaitingSession,
            transmit: None,
            events: VecDeque::new(),
            next_handle: 0,
        }
    }

    /// The host reports the established TLS session and its channel binding
    /// ([`crate::CHANNEL_BINDING_MIN_LEN`] to [`crate::CHANNEL_BINDING_MAX_LEN`] bytes; any other
    /// length is refused and changes nothing).
    pub fn handle_connected(&mut self, channel_binding: &[u8]) -> Result<(), Error> {
        match self.state {
            State::AwaitingSession => {
                crate::proofs::check_channel_binding(channel_binding)?;
                let channel_binding = channel_binding.to_vec();
                self.state = State::AwaitingRequest { channel_binding };
                Ok(())
            }
            ref other => Err(misuse("handle_connected", other)),
        }
    }

    /// The device's request.
    pub fn handle_message(
        &mut self,
        config: &AgentConfig,
        rng: &mut impl CryptoRng,
        bytes: &[u8],
    ) -> Result<(), Error> {
        let channel_binding = match mem::replace(&mut self.state, State::Failed) {
            State::AwaitingRequest { channel_binding } => channel_binding,
            State::Failed => return Err(Error::Failed),
            other => {
                return Err(self.fail(Error::UnexpectedMessage {
                    state: other.name(),
                }));
            }
        };
        let request = match Message::decode(bytes) {
            Ok(Message::ProvisionRequest(request)) => request,
            Ok(_) => {
                return Err(self.fail(Error::UnexpectedMessage {
                    state: "awaiting request",
                }));
            }
            Err(error) => return Err(self.fail(error)),
        };
        match self.read_request(config, rng, &request) {
            Ok(checked) => {
                self.next_step(checked, &request, channel_binding);
                Ok(())
            }
            Err(error) => Err(self.refuse(error)),
        }
    }

    fn read_request(
        &self,
        config: &AgentConfig,
        rng: &mut impl CryptoRng,
        request: &ProvisionRequest<'_>,
    ) -> Result<Request, Error> {
        if config.require_pin && request.user.is_none() {
            return Err(Error::NotAuthorized);
        }
        let reservation = reservation(config, rng, &request.subject)?;
        let login = request.user.map(|u| u.login.to_vec());
        Ok(Request { reservation, login })
    }

    fn next_step(&mut self, request: Request, wire: &ProvisionRequest<'_>, binding: Vec<u8>) {
        let handle = self.handle();
        match (&request.login, wire.user) {
            (Some(login), Some(user)) => {
                let login = login.clone();
                let expected_proof = ProofInput {
                    channel_binding: binding,
                    subject_kind: wire.subject.kind(),
                    subject: wire.subject.bytes().to_vec(),
                    proof: *user.proof,
                };
                self.events.push_back(Event::LookupUser { handle, login });
                self.state = State::AwaitingUser {
                    handle,
                    request,
                    expected_proof,
                };
            }
            _ => self.reserve(handle, request),
        }
    }

    fn reserve(&mut self, handle: Handle, request: Request) {
        let reservation = request.reservation;
        self.events.push_back(Event::ReserveCounter {
            handle,
            reservation,
        });
        self.state = State::AwaitingCounter { handle, request };
    }

    /// The directory's answer to [`Event::LookupUser`], for a known or an unknown login alike.
    ///
    /// An unknown login is answered exactly like a known one with a wrong PIN: the same
    /// refusal, the same [`Event::PinRejected`], [`Error::LockedOut`] once its failures reach
    /// the limit, and a proof check of the same cost.
    pub fn handle_user_result(
        &mut self,
        config: &AgentConfig,
        now: u64,
        handle: Handle,
        user: UserRecord,
    ) -> Result<(), Error> {
        let (request, expected_proof) = match mem::replace(&mut self.state, State::Failed) {
            State::AwaitingUser {
                handle: h,
                request,
                expected_proof,
            } if h == handle => (request, expected_proof),
            other => return Err(self.restore(other)),
        };
        let login = request.login.clone().unwrap_or_default();
        if user.recent_failures >= config.max_pin_failures {
            return Err(self.refuse(Error::LockedOut));
        }
        if !proof_verifies(&user, &expected_proof, &login) {
            self.events.push_back(Event::PinRejected { login, at: now });
            return Err(self.refuse(Error::WrongProof));
        }
        self.events.push_back(Event::PinAccepted { login });
        let next = self.handle();
        self.reserve(next, request);
        Ok(())
    }

    /// The host's answer to [`Event::ReserveCounter`], once the counter is durable.
    pub fn handle_counter_result(
        &mut self,
        config: &AgentConfig,
        now: u64,
        handle: Handle,
        counter: Result<u32, Error>,
    ) -> Result<(), Error> {
        let request = match mem::replace(&mut self.state, State::Failed) {
            State::AwaitingCounter { handle: h, request } if h == handle => request,
            other => return Err(self.restore(other)),
        };
        match counter.and_then(|counter| self.answer(config, now, &request, counter)) {
            Ok(()) => Ok(()),
            Err(error) => Err(self.refuse(error)),
        }
    }

    fn answer(
        &mut self,
        config: &AgentConfig,
        now: u64,
        request: &Request,
        counter: u32,
    ) -> Result<(), Error> {
        let key_id = issued_key_id(config, request.reservation, counter)?;
        let schedule = config.keyring.schedule(key_id.epoch())?;
        let key_id_bytes = KeyIdBytes::new(&key_id);
        let secret = schedule.device_key(key_id_bytes.as_slice())?;
        let not_after = now.saturating_add(config.key_lifetime);
        let response = Message::ProvisionResponse(ProvisionResponse {
            key_id: key_id_bytes.as_slice(),
            counter,
            not_after,
            agent_id: config.agent_id.as_bytes(),
            secret_key: SecretBytes(secret.expose_secret()),
        });
        self.transmit = Some(response.to_vec()?);
        self.events.push_back(Event::Issued {
            key_id,
            counter,
            not_after,
        });
        self.state = State::Answered;
        Ok(())
    }

    /// The host reports the session closed. Before the answer was produced this fails the
    /// machine with [`Error::SessionClosed`]; a counter already reserved is simply never used.
    pub fn handle_closed(&mut self) -> Result<(), Error> {
        match self.state {
            State::Answered => Ok(()),
            State::Failed => Err(Error::Failed),
            _ => Err(self.fail(Error::SessionClosed)),
        }
    }

    /// The next bytes to send to the device.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.take()
    }

    /// The next event for the host.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether the answer was produced (the session may close once it is sent).
    pub fn is_answered(&self) -> bool {
        matches!(self.state, State::Answered)
    }

    /// Whether the machine failed for good.
    pub fn is_failed(&self) -> bool {
        matches!(self.state, State::Failed)
    }

    fn handle(&mut self) -> Handle {
        self.next_handle += 1;
        Handle(self.next_handle)
    }

    /// Puts back a state after an answer with a handle this state is not waiting for.
    fn restore(&mut self, state: State) -> Error {
        let error = match state {
            State::Failed => Error::Failed,
            State::AwaitingUser { .. } | State::AwaitingCounter { .. } => Error::UnknownHandle,
            ref other => Error::InvalidState {
                call: "handle_*_result",
                state: other.name(),
            },
        };
        self.state = state;
        error
    }

    /// Fails after queueing a refusal with the coarse outcome for the device.
    fn refuse(&mut self, error: Error) -> Error {
        let refusal = Message::Refusal(Refusal {
            outcome: outcome(&error),
        });
        let error = self.fail(error);
        self.transmit = refusal.to_vec().ok();
        error
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

/// What to reserve a counter for, checking the subject the device sent.
fn reservation(
    config: &AgentConfig,
    rng: &mut impl CryptoRng,
    subject: &Subject<'_>,
) -> Result<Reservation, Error> {
    let epoch = current_epoch(config)?;
    match subject {
        Subject::DeviceId(bytes) => decode_device_id(bytes).map(Reservation::Device),
        Subject::Anonymous => {
            let mut value = [0u8; RANDOM_VALUE_LEN];
            rng.fill_bytes(&mut value);
            let value = UnstructuredValue::new(ValueSource::Random, &value)?;
            Ok(Reservation::Anonymous(KeyId::unstructured(
                epoch,
                config.agent_id,
                value,
            )))
        }
        Subject::ProposedKeyId(bytes) => {
            let key_id = KeyId::from_bytes(bytes)?;
            if *key_id.agent_id() != config.agent_id || key_id.epoch() != epoch {
                return Err(Error::NotAuthorized);
            }
            Ok(Reservation::Proposed(key_id))
        }
    }
}

fn current_epoch(config: &AgentConfig) -> Result<u16, Error> {
    let schedule = config.keyring.current().ok_or(Error::InvalidState {
        call: "provisioning",
        state: "no master key",
    })?;
    Ok(schedule.epoch())
}

/// `u8(device id type) || canonical value`, as the device sends it.
fn decode_device_id(bytes: &[u8]) -> Result<DeviceId, Error> {
    let (&kind, value) = bytes.split_first().ok_or(Error::TooShort {
        field: "device id",
        min: 1,
        actual: 0,
    })?;
    let kind = DeviceIdType::from_code(kind).ok_or(Error::UnknownType {
        what: "device id",
        value: kind,
    })?;
    DeviceId::from_canonical(kind, value)
}

fn issued_key_id(
    config: &AgentConfig,
    reservation: Reservation,
    counter: u32,
) -> Result<KeyId, Error> {
    match reservation {
        Reservation::Device(device) => {
            let epoch = current_epoch(config)?;
            Ok(KeyId::structured(epoch, config.agent_id, device, counter))
        }
        Reservation::Anonymous(key_id) => Ok(key_id),
        Reservation::Proposed(key_id) => match key_id.counter() {
            Some(proposed) if proposed != counter => Err(Error::Superseded),
            _ => Ok(key_id),
        },
    }
}

/// Whether the device's proof matches the verifier. An unknown login is checked against
/// [`DUMMY_VERIFIER`] at the same cost and never matches.
fn proof_verifies(user: &UserRecord, input: &ProofInput, login: &[u8]) -> bool {
    let dummy = PinVerifier::from_array(DUMMY_VERIFIER);
    let (verifier, known) = match &user.verifier {
        Some(verifier) => (verifier, Choice::from(1)),
        None => (&dummy, Choice::from(0)),
    };
    let context = ProofContext {
        subject_kind: input.subject_kind,
        subject: &input.subject,
        login,
    };
    let expected = proofs::pin_proof(verifier, &input.channel_binding, &context);
    (expected.ct_eq(&input.proof) & known).into()
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::keys::counter::count;
    use crate::secret::Pin;

    fn input(verifier: &PinVerifier) -> ProofInput {
        let context = ProofContext {
            subject_kind: 1,
            subject: b"\x01100",
            login: b"dave",
        };
        ProofInput {
            channel_binding: b"binding".to_vec(),
            subject_kind: 1,
            subject: b"\x01100".to_vec(),
            proof: proofs::pin_proof(verifier, b"binding", &context),
        }
    }

    #[test]
    fn an_unknown_login_costs_the_same_check_and_never_verifies() {
        let verifier = PinVerifier::from_pin(b"salt", &Pin::new("2468").unwrap());
        let known = UserRecord {
            verifier: Some(verifier.clone()),
            recent_failures: 0,
        };
        let unknown = UserRecord {
            verifier: None,
            recent_failures: 0,
        };
        let good = input(&verifier);
        let (accepted, known_cost) = count(|| proof_verifies(&known, &good, b"dave"));
        assert!(accepted);
        let (accepted, unknown_cost) = count(|| proof_verifies(&unknown, &good, b"dave"));
        assert!(!accepted);
        assert_eq!(known_cost, unknown_cost);
        assert!(known_cost > 0);
        // Made with the public dummy verifier: still refused, the login is unknown.
        let forged = input(&PinVerifier::from_array(DUMMY_VERIFIER));
        assert!(!proof_verifies(&unknown, &forged, b"dave"));
    }
}
