//! The device side of registration (device and registrar, no secure channel).

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::mem;

use rand_core::CryptoRng;

use super::{Event, UserPin};
use crate::keys::{ServiceMacKey, SessionContext};
use crate::proofs::{self, Transcript};
use crate::secret::{AuthenticationKey, DeviceSecretKey, PinSigningKey, ServiceKey};
use crate::wire::{
    FIXED_LEN, Freshness, Message, RegisterAccept, RegisterDirect, RegisterHello, RegisterProof,
};
use crate::{Error, KeyId};

/// How the device shows its registration is fresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistrationMode {
    /// The registrar sends a nonce and the device proves over it: four messages.
    ChallengeResponse,
    /// Challenge-free: the device's clock makes the registration fresh; two messages.
    Time,
    /// Challenge-free: the device's registration sequence number, strictly increasing, makes
    /// it fresh; two messages. A registrar that has no record of the device answers
    /// [`Error::StaleChallenge`]: register once with a challenge, then use this mode.
    Sequence,
}

/// What the device is configured with for one registration.
#[derive(Clone, Debug)]
pub struct RegistrationConfig {
    /// The service (registrar realm); both sides derive the per-service key from it.
    pub service: Vec<u8>,
    /// How freshness is shown.
    pub mode: RegistrationMode,
    /// This registration's sequence number. The host persists a higher one for the next
    /// registration before it calls [`Registration::start`].
    pub sequence: u64,
    /// The user, for a PIN-signed registration (hot-desking).
    pub user: Option<UserPin>,
    /// Seconds to wait for each answer.
    pub response_timeout: u64,
}

enum State {
    Idle,
    AwaitingChallenge {
        device_nonce: [u8; 32],
        transcript: Transcript,
        deadline: u64,
    },
    AwaitingAccept {
        pending: Pending,
        deadline: u64,
    },
    Registered,
    Failed,
}

/// What the registrar's answer is checked against.
struct Pending {
    device_nonce: [u8; 32],
    transcript: [u8; 32],
    /// The challenge nonce the accept must repeat (challenge-response mode only).
    challenge: Option<[u8; 32]>,
}

impl State {
    const fn name(&self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::AwaitingChallenge { .. } => "awaiting challenge",
            Self::AwaitingAccept { .. } => "awaiting accept",
            Self::Registered => "registered",
            Self::Failed => "failed",
        }
    }
}

/// The device side of one registration.
///
/// Call order: [`Registration::new`] with the stored key identifier and secret key;
/// [`Registration::start`] queues the first message; send whatever
/// [`Registration::poll_transmit`] returns and pass every datagram from the registrar to
/// [`Registration::handle_message`] until [`Event::Registered`] or [`Event::Failed`]; call
/// [`Registration::handle_timeout`] when the clock passes [`Registration::poll_timeout`].
/// Bytes that do not decode, or a message the current state does not expect, are refused
/// without changing anything (anyone can inject datagrams); a refusal from the registrar or a
/// registrar proof that does not verify fails the machine.
pub struct Registration {
    config: RegistrationConfig,
    key_id: KeyId,
    key_id_bytes: Vec<u8>,
    service_key: ServiceKey,
    mac_key: ServiceMacKey,
    pin_key: Option<PinSigningKey>,
    state: State,
    transmit: Option<Vec<u8>>,
    events: VecDeque<Event>,
}

impl Registration {
    /// Derives the per-service keys; fails if the service name is out of bounds.
    pub fn new(
        config: RegistrationConfig,
        key_id: KeyId,
        secret_key: &DeviceSecretKey,
    ) -> Result<Self, Error> {
        let pin_key = config.user.as_ref().map(|user| pin_key(secret_key, user));
        Self::build(config, key_id, &secret_key.authentication_key(), pin_key)
    }

    /// Like [`Registration::new`], from the authentication key the device computed when
    /// provisioning closed. A PIN-signed registration needs the device secret key instead and
    /// is refused here.
    pub fn from_authentication_key(
        config: RegistrationConfig,
        key_id: KeyId,
        authentication_key: &AuthenticationKey,
    ) -> Result<Self, Error> {
        if config.user.is_some() {
            return Err(Error::InvalidValue {
                field: "registration user",
                reason: "a pin-signed registration needs the device secret key",
            });
        }
        Self::build(config, key_id, authentication_key, None)
    }

    fn build(
        config: RegistrationConfig,
        key_id: KeyId,
        authentication_key: &AuthenticationKey,
        pin_key: Option<PinSigningKey>,
    ) -> Result<Self, Error> {
        let service_key = authentication_key.service_key(&config.service)?;
        Ok(Self {
            mac_key: service_key.mac_key(),
            service_key,
            pin_key,
            key_id_bytes: key_id.to_bytes(),
            key_id,
            config,
            state: State::Idle,
            transmit: None,
            events: VecDeque::new(),
        })
    }

    /// Queues the first message: a hello, or a complete challenge-free registration.
    pub fn start(&mut self, now: u64, rng: &mut impl CryptoRng) -> Result<(), Error> {
        if !matches!(self.state, State::Idle) {
            return Err(self.misuse("start"));
        }
        let mut device_nonce = [0u8; 32];
        rng.fill_bytes(&mut device_nonce);
        let deadline = now.saturating_add(self.config.response_timeout);
        let freshness = match self.config.mode {
            RegistrationMode::ChallengeResponse => return self.send_hello(device_nonce, deadline),
            RegistrationMode::Time => Freshness::Time(now),
            RegistrationMode::Sequence => Freshness::Sequence(self.config.sequence),
        };
        self.send_direct(freshness, device_nonce, deadline)
    }

    fn send_hello(&mut self, device_nonce: [u8; 32], deadline: u64) -> Result<(), Error> {
        let hello = Message::RegisterHello(RegisterHello {
            key_id: &self.key_id_bytes,
            sequence: self.config.sequence,
            device_nonce: &device_nonce,
            login: self.config.user.as_ref().map(|u| &u.login[..]),
        });
        let bytes = hello.to_vec()?;
        let mut transcript = Transcript::new(&self.config.service);
        transcript.push(&bytes);
        self.transmit = Some(bytes);
        self.state = State::AwaitingChallenge {
            device_nonce,
            transcript,
            deadline,
        };
        Ok(())
    }

    fn send_direct(
        &mut self,
        freshness: Freshness,
        device_nonce: [u8; 32],
        deadline: u64,
    ) -> Result<(), Error> {
        let placeholder = [0u8; FIXED_LEN];
        let direct = RegisterDirect {
            freshness,
            key_id: &self.key_id_bytes,
            device_nonce: &device_nonce,
            login: self.config.user.as_ref().map(|u| &u.login[..]),
            proof: &placeholder,
            pin_signature: self.pin_key.as_ref().map(|_| &placeholder),
        };
        let mut bytes = Message::RegisterDirect(direct).to_vec()?;
        let signed_len = bytes.len() - direct.proofs_len();
        let mut transcript = Transcript::new(&self.config.service);
        transcript.push(&bytes[..signed_len]);
        let transcript = transcript.finish();
        let device_proof = proofs::device_proof(&self.mac_key, &transcript);
        // Fill the placeholders: each proof follows its two-byte length prefix.
        let proof_at = signed_len + 2;
        bytes[proof_at..proof_at + FIXED_LEN].copy_from_slice(&device_proof);
        if let Some(key) = &self.pin_key {
            let signature_at = proof_at + FIXED_LEN + 2;
            let signature = proofs::pin_signature(key, &transcript);
            bytes[signature_at..signature_at + FIXED_LEN].copy_from_slice(&signature);
        }
        self.transmit = Some(bytes);
        let pending = Pending {
            device_nonce,
            transcript,
            challenge: None,
        };
        self.state = State::AwaitingAccept { pending, deadline };
        Ok(())
    }

    /// A datagram from the registrar.
    pub fn handle_message(&mut self, bytes: &[u8]) -> Result<(), Error> {
        if matches!(self.state, State::Failed) {
            return Err(Error::Failed);
        }
        let message = Message::decode(bytes)?;
        match (&self.state, message) {
            (
                State::AwaitingChallenge { .. } | State::AwaitingAccept { .. },
                Message::Refusal(refusal),
            ) => Err(self.fail(Error::PeerRefused {
                code: refusal.outcome,
            })),
            (State::AwaitingChallenge { .. }, Message::RegisterChallenge(challenge)) => {
                self.answer_challenge(bytes, challenge.registrar_nonce)
            }
            (State::AwaitingAccept { .. }, Message::RegisterAccept(accept)) => {
                self.check_accept(&accept)
            }
            (state, _) => Err(Error::UnexpectedMessage {
                state: state.name(),
            }),
        }
    }

    fn answer_challenge(&mut self, bytes: &[u8], nonce: &[u8; 32]) -> Result<(), Error> {
        let State::AwaitingChallenge {
            device_nonce,
            mut transcript,
            deadline,
        } = mem::replace(&mut self.state, State::Failed)
        else {
            return Err(Error::Failed);
        };
        transcript.push(bytes);
        let transcript = transcript.finish();
        let device_proof = proofs::device_proof(&self.mac_key, &transcript);
        let signature = self
            .pin_key
            .as_ref()
            .map(|k| proofs::pin_signature(k, &transcript));
        let proof = Message::RegisterProof(RegisterProof {
            proof: &device_proof,
            pin_signature: signature.as_ref(),
        });
        self.transmit = Some(proof.to_vec()?);
        let challenge = Some(*nonce);
        let pending = Pending {
            device_nonce,
            transcript,
            challenge,
        };
        self.state = State::AwaitingAccept { pending, deadline };
        Ok(())
    }

    fn check_accept(&mut self, accept: &RegisterAccept<'_>) -> Result<(), Error> {
        let State::AwaitingAccept { pending, .. } = &self.state else {
            return Err(Error::Failed);
        };
        if pending
            .challenge
            .is_some_and(|nonce| nonce != *accept.registrar_nonce)
        {
            return Err(Error::MismatchedAnswer {
                field: "registrar nonce",
            });
        }
        let expected = proofs::registrar_proof(
            &self.mac_key,
            &pending.transcript,
            accept.registrar_nonce,
            accept.not_after,
        );
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            &expected[..],
            &accept.registrar_proof[..],
        )) {
            return Err(self.fail(Error::WrongProof));
        }
        let session_keys = self.service_key.session_keys(&SessionContext {
            key_id: &self.key_id_bytes,
            service_id: &self.config.service,
            device_nonce: &pending.device_nonce,
            registrar_nonce: accept.registrar_nonce,
        });
        match session_keys {
            Ok(session_keys) => {
                let key_id = self.key_id;
                let not_after = accept.not_after;
                self.events.push_back(Event::Registered {
                    key_id,
                    not_after,
                    session_keys,
                });
                self.state = State::Registered;
                Ok(())
            }
            Err(error) => Err(self.fail(error)),
        }
    }

    /// The host's clock reached [`Registration::poll_timeout`].
    pub fn handle_timeout(&mut self, now: u64) -> Result<(), Error> {
        match self.poll_timeout() {
            Some(deadline) if now >= deadline => Err(self.fail(Error::TimedOut)),
            _ if matches!(self.state, State::Failed) => Err(Error::Failed),
            _ => Ok(()),
        }
    }

    /// When [`Registration::handle_timeout`] must be called, if a deadline runs.
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.state {
            State::AwaitingChallenge { deadline, .. } | State::AwaitingAccept { deadline, .. } => {
                Some(deadline)
            }
            _ => None,
        }
    }

    /// The next datagram to send to the registrar.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.take()
    }

    /// The next event for the host.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether the registrar accepted the registration.
    pub fn is_registered(&self) -> bool {
        matches!(self.state, State::Registered)
    }

    /// Whether the machine failed for good.
    pub fn is_failed(&self) -> bool {
        matches!(self.state, State::Failed)
    }

    fn misuse(&self, call: &'static str) -> Error {
        match self.state {
            State::Failed => Error::Failed,
            ref other => Error::InvalidState {
                call,
                state: other.name(),
            },
        }
    }

    fn fail(&mut self, error: Error) -> Error {
        self.state = State::Failed;
        self.transmit = None;
        self.events.push_back(Event::Failed(error));
        error
    }
}

/// The PIN-bound signing key from the device key and the user's PIN verifier.
fn pin_key(secret_key: &DeviceSecretKey, user: &UserPin) -> PinSigningKey {
    secret_key.pin_signing_key(&user.pin, &user.salt)
}
