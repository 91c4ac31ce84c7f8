//! One registration, on the registrar's side.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::mem;

use rand_core::CryptoRng;
use subtle::ConstantTimeEq;

use super::cache::{CachedKey, Fingerprint, Refused, fingerprint};
use super::{Event, FetchedKey, Registrar, outcome};
use crate::keys::{ServiceMacKey, SessionContext};
use crate::proofs::{self, Transcript};
use crate::secret::{PinSigningKey, ServiceKey};
use crate::wire::{
    Freshness, KeyIdBytes, Message, Refusal, RegisterAccept, RegisterChallenge, RegisterDirect,
    RegisterProof,
};
use crate::{Error, Handle, KeyId};

/// A key identifier as the registrar indexes it.
#[derive(Clone, Copy)]
struct KeyName {
    key_id: KeyId,
    print: Fingerprint,
}

/// The key material one registration needs.
struct Keys {
    name: KeyName,
    service_key: ServiceKey,
    mac_key: ServiceMacKey,
    not_after: u64,
    pin_key: Option<PinSigningKey>,
}

/// Who is registering and what has been agreed so far.
struct Device {
    key_id: KeyId,
    fingerprint: Fingerprint,
    login: Option<Vec<u8>>,
    device_nonce: [u8; 32],
}

/// A challenge is out; the device's proof is awaited.
struct Challenged {
    keys: Keys,
    device: Device,
    sequence: u64,
    registrar_nonce: [u8; 32],
    transcript: [u8; 32],
    deadline: u64,
}

/// What a verified registration is accepted with.
struct Verified<'a> {
    transcript: &'a [u8; 32],
    registrar_nonce: [u8; 32],
    sequence: Option<u64>,
}

#[allow(
    clippy::large_enum_variant,
    reason = "a session lives for one registration; boxing would allocate on every one"
)]
enum State {
    AwaitingFirst,
    AwaitingKey {
        handle: Handle,
        name: KeyName,
        first: Vec<u8>,
    },
    AwaitingProof(Challenged),
    Registered,
    Failed,
}

impl State {
    const fn name(&self) -> &'static str {
        match self {
            Self::AwaitingFirst => "awaiting first message",
            Self::AwaitingKey { .. } => "awaiting key",
            Self::AwaitingProof(_) => "awaiting proof",
            Self::Registered => "registered",
            Self::Failed => "failed",
        }
    }
}

/// The registrar side of one registration.
///
/// Call order: [`Session::new`]; each datagram from the device to
/// [`Session::handle_message`]; answer [`Event::FetchKey`] with
/// [`Session::handle_key_result`]; send what [`Session::poll_transmit`] returns; call
/// [`Session::handle_timeout`] when the clock passes [`Session::poll_timeout`]. Bytes that do
/// not decode, or a message the state does not expect, are refused without changing anything;
/// a registration that does not check out gets a refusal with a coarse outcome and fails the
/// session.
pub struct Session {
    state: State,
    transmit: Option<Vec<u8>>,
    events: VecDeque<Event>,
    next_handle: u64,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    /// A session waiting for the device's first message.
    pub fn new() -> Self {
        Self {
            state: State::AwaitingFirst,
            transmit: None,
            events: VecDeque::new(),
            next_handle: 0,
        }
    }

    /// A datagram from the device.
    pub fn handle_message(
        &mut self,
        registrar: &mut Registrar,
        now: u64,
        rng: &mut impl CryptoRng,
        bytes: &[u8],
    ) -> Result<(), Error> {
        if matches!(self.state, State::Failed) {
            return Err(Error::Failed);
        }
        let message = Message::decode(bytes)?;
        let result = match (&self.state, &message) {
            (State::AwaitingFirst, Message::RegisterHello(_) | Message::RegisterDirect(_)) => {
                self.first(registrar, now, rng, bytes, &message)
            }
            (State::AwaitingProof(_), Message::RegisterProof(proof)) => {
                self.check_proof(registrar, now, proof)
            }
            (state, _) => {
                return Err(Error::UnexpectedMessage {
                    state: state.name(),
                });
            }
        };
        result.map_err(|error| self.refuse(error))
    }

    fn first(
        &mut self,
        registrar: &mut Registrar,
        now: u64,
        rng: &mut impl CryptoRng,
        bytes: &[u8],
        message: &Message<'_>,
    ) -> Result<(), Error> {
        let (key_id, login) = match message {
            Message::RegisterHello(hello) => (hello.key_id, hello.login),
            Message::RegisterDirect(direct) => (direct.key_id, direct.login),
            _ => {
                return Err(Error::UnexpectedMessage {
                    state: "awaiting first message",
                });
            }
        };
        let print = fingerprint(key_id);
        let parsed = KeyId::from_bytes(key_id).map_err(|_| Error::UnknownKeyId)?;
        let name = KeyName {
            key_id: parsed,
            print,
        };
        if let Message::RegisterDirect(direct) = message {
            check_freshness(registrar, now, &print, direct.freshness)?;
        }
        let cached = match login {
            None => registrar
                .keys
                .get(&print, now)
                .map(|k| keys_from_cache(name, k)),
            Some(_) => None,
        };
        match cached {
            Some(keys) => self.proceed(registrar, now, rng, bytes, keys),
            None => {
                let handle = self.handle();
                let login = login.map(<[u8]>::to_vec);
                self.events.push_back(Event::FetchKey {
                    handle,
                    key_id: parsed,
                    login,
                });
                self.state = State::AwaitingKey {
                    handle,
                    name,
                    first: bytes.to_vec(),
                };
                Ok(())
            }
        }
    }

    /// The host's answer to [`Event::FetchKey`].
    pub fn handle_key_result(
        &mut self,
        registrar: &mut Registrar,
        now: u64,
        rng: &mut impl CryptoRng,
        handle: Handle,
        key: Result<FetchedKey, Error>,
    ) -> Result<(), Error> {
        let (name, first) = match mem::replace(&mut self.state, State::Failed) {
            State::AwaitingKey {
                handle: h,
                name,
                first,
            } if h == handle => (name, first),
            other => {
                let error = match other {
                    State::Failed => Error::Failed,
                    State::AwaitingKey { .. } => Error::UnknownHandle,
                    ref s => Error::InvalidState {
                        call: "handle_key_result",
                        state: s.name(),
                    },
                };
                self.state = other;
                return Err(error);
            }
        };
        let result = key.and_then(|key| {
            let keys = self.admit_key(registrar, now, name, &first, key)?;
            self.proceed(registrar, now, rng, &first, keys)
        });
        result.map_err(|error| self.refuse(error))
    }

    /// Checks a fetched key and caches it.
    fn admit_key(
        &self,
        registrar: &mut Registrar,
        now: u64,
        name: KeyName,
        first: &[u8],
        key: FetchedKey,
    ) -> Result<Keys, Error> {
        if key.not_after < now {
            return Err(Error::Expired);
        }
        let login = first_login(first)?;
        if login.is_some() && key.pin_key.is_none() {
            return Err(Error::NotAuthorized);
        }
        let mac_key = key.service_key.mac_key();
        let cached = CachedKey {
            service_key: key.service_key.clone(),
            mac_key: mac_key.clone(),
            not_after: key.not_after,
            sequence: None,
        };
        registrar.keys.insert(name.print, cached);
        Ok(Keys {
            name,
            service_key: key.service_key,
            mac_key,
            not_after: key.not_after,
            pin_key: key.pin_key,
        })
    }

    /// Continues with the first message once its key is known.
    fn proceed(
        &mut self,
        registrar: &mut Registrar,
        now: u64,
        rng: &mut impl CryptoRng,
        first: &[u8],
        keys: Keys,
    ) -> Result<(), Error> {
        match Message::decode(first)? {
            Message::RegisterHello(hello) => {
                let device = device_of(keys.name, hello.login, hello.device_nonce);
                self.challenge(registrar, now, rng, first, keys, device, hello.sequence)
            }
            Message::RegisterDirect(direct) => {
                self.check_direct(registrar, now, rng, first, &direct, keys)
            }
            _ => Err(Error::UnexpectedMessage {
                state: "awaiting first message",
            }),
        }
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one step of the conversation, all its inputs"
    )]
    fn challenge(
        &mut self,
        registrar: &Registrar,
        now: u64,
        rng: &mut impl CryptoRng,
        hello: &[u8],
        keys: Keys,
        device: Device,
        sequence: u64,
    ) -> Result<(), Error> {
        let mut registrar_nonce = [0u8; 32];
        rng.fill_bytes(&mut registrar_nonce);
        let challenge = Message::RegisterChallenge(RegisterChallenge {
            registrar_nonce: &registrar_nonce,
        });
        let bytes = challenge.to_vec()?;
        let mut transcript = Transcript::new(&registrar.config.service);
        transcript.push(hello);
        transcript.push(&bytes);
        let transcript = transcript.finish();
        let deadline = now.saturating_add(registrar.config.challenge_lifetime);
        self.transmit = Some(bytes);
        self.state = State::AwaitingProof(Challenged {
            keys,
            device,
            sequence,
            registrar_nonce,
            transcript,
            deadline,
        });
        Ok(())
    }

    fn check_proof(
        &mut self,
        registrar: &mut Registrar,
        now: u64,
        proof: &RegisterProof<'_>,
    ) -> Result<(), Error> {
        let State::AwaitingProof(challenged) = mem::replace(&mut self.state, State::Failed) else {
            return Err(Error::Failed);
        };
        if now > challenged.deadline {
            return Err(Error::StaleChallenge);
        }
        let Challenged {
            keys,
            device,
            sequence,
            registrar_nonce,
            transcript,
            ..
        } = challenged;
        self.verify(
            now,
            &keys,
            &device,
            &transcript,
            (proof.proof, proof.pin_signature),
        )?;
        let verified = Verified {
            transcript: &transcript,
            registrar_nonce,
            sequence: Some(sequence),
        };
        self.accept(registrar, now, &keys, &device, &verified)
    }

    fn check_direct(
        &mut self,
        registrar: &mut Registrar,
        now: u64,
        rng: &mut impl CryptoRng,
        bytes: &[u8],
        direct: &RegisterDirect<'_>,
        keys: Keys,
    ) -> Result<(), Error> {
        let device = device_of(keys.name, direct.login, direct.device_nonce);
        let signed = &bytes[..bytes.len() - direct.proofs_len()];
        let mut transcript = Transcript::new(&registrar.config.service);
        transcript.push(signed);
        let transcript = transcript.finish();
        // Freshness is recorded once the device proof verifies and before the PIN signature is
        // checked: a copy whose PIN signature was altered is then a replay, not a PIN guess.
        if !bool::from(proofs::device_proof(&keys.mac_key, &transcript).ct_eq(direct.proof)) {
            return Err(Error::WrongProof);
        }
        let sequence = record_freshness(registrar, now, &device.fingerprint, direct)?;
        if let Some(sequence) = sequence {
            remember_sequence(registrar, now, device.fingerprint, &keys, sequence);
        }
        self.verify(
            now,
            &keys,
            &device,
            &transcript,
            (direct.proof, direct.pin_signature),
        )?;
        let mut registrar_nonce = [0u8; 32];
        rng.fill_bytes(&mut registrar_nonce);
        let verified = Verified {
            transcript: &transcript,
            registrar_nonce,
            sequence,
        };
        self.accept(registrar, now, &keys, &device, &verified)
    }

    /// Checks the device proof and, for a user, the PIN signature, in constant time. A wrong
    /// PIN signature behind a good device proof is a PIN guess, which the host may count.
    fn verify(
        &mut self,
        now: u64,
        keys: &Keys,
        device: &Device,
        transcript: &[u8; 32],
        (proof, signature): (&[u8; 32], Option<&[u8; 32]>),
    ) -> Result<(), Error> {
        let expected = proofs::device_proof(&keys.mac_key, transcript);
        if !bool::from(expected.ct_eq(proof)) {
            return Err(Error::WrongProof);
        }
        let signed = match (&keys.pin_key, signature) {
            (None, None) => return Ok(()),
            (Some(key), Some(signature)) => {
                proofs::verify_pin_signature(key, transcript, signature)
            }
            _ => Err(Error::WrongProof),
        };
        if signed.is_err()
            && let Some(login) = &device.login
        {
            let login = login.clone();
            self.events.push_back(Event::PinRejected { login, at: now });
        }
        signed
    }

    fn accept(
        &mut self,
        registrar: &mut Registrar,
        now: u64,
        keys: &Keys,
        device: &Device,
        verified: &Verified<'_>,
    ) -> Result<(), Error> {
        let lifetime_end = now.saturating_add(registrar.config.registration_lifetime);
        let not_after = lifetime_end.min(keys.not_after);
        let registrar_proof = proofs::registrar_proof(
            &keys.mac_key,
            verified.transcript,
            &verified.registrar_nonce,
            not_after,
        );
        let key_id_bytes = KeyIdBytes::new(&device.key_id);
        let session_keys = keys.service_key.session_keys(&SessionContext {
            key_id: key_id_bytes.as_slice(),
            service_id: &registrar.config.service,
            device_nonce: &device.device_nonce,
            registrar_nonce: &verified.registrar_nonce,
        })?;
        let accept = Message::RegisterAccept(RegisterAccept {
            registrar_nonce: &verified.registrar_nonce,
            not_after,
            registrar_proof: &registrar_proof,
        });
        self.transmit = Some(accept.to_vec()?);
        if let Some(sequence) = verified.sequence {
            remember_sequence(registrar, now, device.fingerprint, keys, sequence);
        }
        self.events.push_back(Event::Registered {
            key_id: device.key_id,
            login: device.login.clone(),
            not_after,
            session_keys,
        });
        self.state = State::Registered;
        Ok(())
    }

    /// The host's clock reached [`Session::poll_timeout`]: an unanswered challenge expires.
    pub fn handle_timeout(&mut self, now: u64) -> Result<(), Error> {
        match self.poll_timeout() {
            Some(deadline) if now > deadline => Err(self.fail(Error::TimedOut)),
            _ if matches!(self.state, State::Failed) => Err(Error::Failed),
            _ => Ok(()),
        }
    }

    /// When [`Session::handle_timeout`] must be called, if a deadline runs.
    pub fn poll_timeout(&self) -> Option<u64> {
        match &self.state {
            State::AwaitingProof(challenged) => Some(challenged.deadline.saturating_add(1)),
            _ => None,
        }
    }

    /// The next datagram to send to the device.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.take()
    }

    /// The next event for the host.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether the device is registered.
    pub fn is_registered(&self) -> bool {
        matches!(self.state, State::Registered)
    }

    /// Whether the session failed for good.
    pub fn is_failed(&self) -> bool {
        matches!(self.state, State::Failed)
    }

    fn handle(&mut self) -> Handle {
        self.next_handle += 1;
        Handle(self.next_handle)
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

fn keys_from_cache(name: KeyName, cached: &CachedKey) -> Keys {
    Keys {
        name,
        service_key: cached.service_key.clone(),
        mac_key: cached.mac_key.clone(),
        not_after: cached.not_after,
        pin_key: None,
    }
}

fn first_login(first: &[u8]) -> Result<Option<&[u8]>, Error> {
    match Message::decode(first)? {
        Message::RegisterHello(hello) => Ok(hello.login),
        Message::RegisterDirect(direct) => Ok(direct.login),
        _ => Err(Error::UnexpectedMessage {
            state: "awaiting first message",
        }),
    }
}

fn device_of(name: KeyName, login: Option<&[u8]>, nonce: &[u8; 32]) -> Device {
    Device {
        key_id: name.key_id,
        fingerprint: name.print,
        login: login.map(<[u8]>::to_vec),
        device_nonce: *nonce,
    }
}

/// What can be refused before any key is looked at.
fn check_freshness(
    registrar: &mut Registrar,
    now: u64,
    print: &Fingerprint,
    freshness: Freshness,
) -> Result<(), Error> {
    match freshness {
        Freshness::Time(time) if time.abs_diff(now) > registrar.config.clock_window => {
            Err(Error::StaleChallenge)
        }
        Freshness::Time(_) => Ok(()),
        Freshness::Sequence(sequence) => {
            let last = registrar.keys.get(print, now).and_then(|k| k.sequence);
            match last {
                None => Err(Error::StaleChallenge),
                Some(last) if sequence <= last => Err(Error::Replay),
                Some(_) => Ok(()),
            }
        }
    }
}

/// Records a verified challenge-free registration; returns the sequence number to remember.
fn record_freshness(
    registrar: &mut Registrar,
    now: u64,
    print: &Fingerprint,
    direct: &RegisterDirect<'_>,
) -> Result<Option<u64>, Error> {
    match direct.freshness {
        Freshness::Time(time) => {
            let mut tag = [0u8; 16];
            tag.copy_from_slice(&direct.proof[..16]);
            let oldest = now.saturating_sub(registrar.config.clock_window);
            match registrar.replays.check_and_insert(tag, time, oldest) {
                Ok(()) => Ok(None),
                Err(Refused::Replay) => Err(Error::Replay),
                Err(Refused::Stale) => Err(Error::StaleChallenge),
            }
        }
        Freshness::Sequence(sequence) => {
            check_freshness(registrar, now, print, direct.freshness)?;
            Ok(Some(sequence))
        }
    }
}

/// Keeps the device's sequence number with its cached key, so that later challenge-free
/// registrations by sequence can be checked.
fn remember_sequence(
    registrar: &mut Registrar,
    now: u64,
    print: Fingerprint,
    keys: &Keys,
    sequence: u64,
) {
    if let Some(cached) = registrar.keys.get(&print, now) {
        cached.sequence = Some(cached.sequence.map_or(sequence, |s| s.max(sequence)));
        return;
    }
    let cached = CachedKey {
        service_key: keys.service_key.clone(),
        mac_key: keys.mac_key.clone(),
        not_after: keys.not_after,
        sequence: Some(sequence),
    };
    registrar.keys.insert(print, cached);
}
