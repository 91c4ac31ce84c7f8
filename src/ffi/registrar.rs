//! The registrar: shared state (`keyprov_registrar`: configuration, key cache, replay cache),
//! one `keyprov_registrar_session` per registration attempt, and the `keyprov_key_client` that
//! fetches per-service keys from the agent over mutual TLS. The contract of the machines is the
//! one of `src/ffi/device.rs`.
//!
//! Sessions borrow the shared `keyprov_registrar` mutably in the calls that take it: a
//! threaded host serializes those calls with one lock.

use core::ffi::c_void;

use super::boundary::{self, Failure, Object};
use super::device::finish_rng;
use super::keyid::keyprov_key_id;
use super::machine::{self, Machine};
use super::result::{self, KEYPROV_OK, keyprov_result};
use super::rng::{HostRng, keyprov_rng_callback};
use crate::registrar::{Event, FetchedKey, KeyClient, Registrar, RegistrarConfig, Session};
use crate::secret::{PinSigningKey, ServiceKey};
use crate::{Error, Handle};

/// `keyprov_registrar_event.kind`: no event is pending.
pub const KEYPROV_REGISTRAR_EVENT_NONE: u32 = 0;
/// Fetch the key of `key_id` (and of `login`) from the agent with a `keyprov_key_client`, then
/// answer with `keyprov_registrar_session_handle_key_result`.
pub const KEYPROV_REGISTRAR_EVENT_FETCH_KEY: u32 = 1;
/// The device is registered; the session keys are in the event.
pub const KEYPROV_REGISTRAR_EVENT_REGISTERED: u32 = 2;
/// The registration failed for good; `error` says why.
pub const KEYPROV_REGISTRAR_EVENT_FAILED: u32 = 3;
/// A PIN-signed registration had a good device proof but a wrong PIN signature: a PIN guess
/// by `login` at `not_after` (the host's clock), which the host may count towards the lockout.
pub const KEYPROV_REGISTRAR_EVENT_PIN_REJECTED: u32 = 4;
/// Most entries `keyprov_registrar_config.key_cache_capacity` and `.replay_cache_capacity` may
/// ask for: both caches are allocated in full by `keyprov_registrar_new`.
pub const KEYPROV_REGISTRAR_MAX_CACHE_CAPACITY: usize = 1 << 24;

/// How a registrar behaves. `service` is read during `keyprov_registrar_new` only.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct keyprov_registrar_config {
    /// The service (realm) this registrar serves.
    pub service: *const u8,
    /// Bytes at `service`, 1 to 1024.
    pub service_len: usize,
    /// Seconds a challenge may be answered after it was sent.
    pub challenge_lifetime: u64,
    /// How far, in seconds, a time-based registration's clock may be from the registrar's.
    pub clock_window: u64,
    /// Seconds a registration lasts at most.
    pub registration_lifetime: u64,
    /// Devices whose keys stay cached, at most `KEYPROV_REGISTRAR_MAX_CACHE_CAPACITY`.
    pub key_cache_capacity: usize,
    /// Time-based registrations remembered for replay detection, at most
    /// `KEYPROV_REGISTRAR_MAX_CACHE_CAPACITY`.
    pub replay_cache_capacity: usize,
}

/// What a registrar session tells its host. Fields not named by the kind are zero; the session
/// keys are secrets: wipe the event (`keyprov_secure_zero`) once used.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct keyprov_registrar_event {
    /// A `KEYPROV_REGISTRAR_EVENT_*` value.
    pub kind: u32,
    /// `FAILED`: why, as a result code.
    pub error: keyprov_result,
    /// `FETCH_KEY`: pass it back with the answer.
    pub handle: u64,
    /// `REGISTERED`: last second of the registration. `PIN_REJECTED`: when the guess was made.
    pub not_after: u64,
    /// Bytes used in `key_id`.
    pub key_id_len: u8,
    /// 1 if `login` holds a user (PIN-signed registration); else 0.
    pub has_login: u8,
    /// `FETCH_KEY`, `REGISTERED`: the binary key identifier.
    pub key_id: [u8; 75],
    /// `FETCH_KEY`, `REGISTERED`, `PIN_REJECTED`: the user's login.
    pub login: [u8; 128],
    /// Bytes used in `login`.
    pub login_len: usize,
    /// `REGISTERED`: the session key for what the registrar sends.
    pub send_key: [u8; 32],
    /// `REGISTERED`: the session key for what the registrar receives.
    pub receive_key: [u8; 32],
}

/// A per-service key fetched from the agent (or derived by the host): the answer to
/// `KEYPROV_REGISTRAR_EVENT_FETCH_KEY`. Its keys are secrets: wipe it once used.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct keyprov_fetched_key {
    /// The per-service key.
    pub service_key: [u8; 32],
    /// Last second it is valid.
    pub not_after: u64,
    /// 1 if `pin_key` holds the PIN-bound signing key (the fetch named a user); else 0.
    pub has_pin_key: u8,
    /// The PIN-bound signing key.
    pub pin_key: [u8; 32],
}

impl keyprov_registrar_event {
    fn from_event(event: Option<Event>) -> Self {
        let mut out = Self {
            kind: KEYPROV_REGISTRAR_EVENT_NONE,
            error: 0,
            handle: 0,
            not_after: 0,
            key_id_len: 0,
            has_login: 0,
            key_id: [0; 75],
            login: [0; 128],
            login_len: 0,
            send_key: [0; 32],
            receive_key: [0; 32],
        };
        let Some(event) = event else { return out };
        let login = match event {
            Event::FetchKey {
                handle,
                key_id,
                login,
            } => {
                out.kind = KEYPROV_REGISTRAR_EVENT_FETCH_KEY;
                out.handle = handle.0;
                out.key_id_len = machine::key_id_into(&mut out.key_id, &key_id);
                login
            }
            Event::Registered {
                key_id,
                login,
                not_after,
                session_keys,
            } => {
                out.kind = KEYPROV_REGISTRAR_EVENT_REGISTERED;
                out.key_id_len = machine::key_id_into(&mut out.key_id, &key_id);
                out.not_after = not_after;
                out.send_key = *session_keys.registrar_to_device.expose_secret();
                out.receive_key = *session_keys.device_to_registrar.expose_secret();
                login
            }
            Event::PinRejected { login, at } => {
                out.kind = KEYPROV_REGISTRAR_EVENT_PIN_REJECTED;
                out.not_after = at;
                Some(login)
            }
            Event::Failed(error) => {
                out.kind = KEYPROV_REGISTRAR_EVENT_FAILED;
                out.error = result::from_error(&error);
                None
            }
        };
        if let Some(login) = login {
            out.has_login = 1;
            out.login_len = machine::copy_into(&mut out.login, &login);
        }
        out
    }
}

impl keyprov_fetched_key {
    fn from_fetched(key: &FetchedKey) -> Self {
        let pin_key = key.pin_key.as_ref().map(|k| *k.expose_secret());
        Self {
            service_key: *key.service_key.expose_secret(),
            not_after: key.not_after,
            has_pin_key: pin_key.is_some().into(),
            pin_key: pin_key.unwrap_or([0; 32]),
        }
    }

    fn fetched(&self) -> Result<FetchedKey, Error> {
        let pin_key = boundary::flag(self.has_pin_key, "has_pin_key")?
            .then(|| PinSigningKey::from_bytes(&self.pin_key));
        Ok(FetchedKey {
            service_key: ServiceKey::from_bytes(&self.service_key)?,
            not_after: self.not_after,
            pin_key: pin_key.transpose()?,
        })
    }
}

/// What every registration session shares; its cached keys are zeroized on free. The session
/// calls that take it change its caches: a host running sessions on several threads holds one
/// lock around each of them.
pub struct keyprov_registrar {
    registrar: Object<Registrar>,
}

/// One registration attempt.
pub struct keyprov_registrar_session {
    machine: Machine<Session>,
}

/// Key requests to one agent over one mutual TLS connection.
pub struct keyprov_key_client {
    machine: Machine<KeyClient>,
}

/// Makes the shared registrar state, allocating both caches at their full capacity.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_registrar_new(
    config: *const keyprov_registrar_config,
    registrar_out: *mut *mut keyprov_registrar,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live config whose service is valid for its length and
        // `registrar_out` NULL or writable.
        unsafe {
            let c = boundary::object(config, "config")?;
            let service = boundary::bytes_in(c.service, c.service_len, "service")?;
            if service.is_empty() {
                return Err(Error::TooShort {
                    field: "service",
                    min: 1,
                    actual: 0,
                }
                .into());
            }
            let config = RegistrarConfig {
                service: service.to_vec(),
                challenge_lifetime: c.challenge_lifetime,
                clock_window: c.clock_window,
                registration_lifetime: c.registration_lifetime,
                key_cache_capacity: capacity_in(c.key_cache_capacity, "key_cache_capacity")?,
                replay_cache_capacity: capacity_in(
                    c.replay_cache_capacity,
                    "replay_cache_capacity",
                )?,
            };
            let registrar = Object::new(Registrar::new(config));
            boundary::hand_out(keyprov_registrar { registrar }, registrar_out)
        }
    })
}

/// A cache capacity within `KEYPROV_REGISTRAR_MAX_CACHE_CAPACITY`, refused before anything is
/// allocated.
fn capacity_in(capacity: usize, field: &'static str) -> Result<usize, Error> {
    if capacity > KEYPROV_REGISTRAR_MAX_CACHE_CAPACITY {
        return Err(Error::OutOfRange {
            field,
            min: 0,
            max: KEYPROV_REGISTRAR_MAX_CACHE_CAPACITY as u64,
        });
    }
    Ok(capacity)
}

/// Zeroizes the cached keys and releases the registrar; NULL is ignored. No session may use it
/// afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_registrar_free(registrar: *mut keyprov_registrar) {
    // SAFETY: the caller passes NULL or a registrar from this library, freed only once.
    unsafe { boundary::free(registrar) }
}

/// Makes a session waiting for the device's first message.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_registrar_session_new(
    session_out: *mut *mut keyprov_registrar_session,
) -> keyprov_result {
    boundary::call(|| {
        let wrapper = keyprov_registrar_session {
            machine: Machine::new(Session::new()),
        };
        // SAFETY: the caller passes `session_out` NULL or writable.
        unsafe { boundary::hand_out(wrapper, session_out) }
    })
}

/// Bytes of randomness drawn ahead for a registration step: the registrar's nonce.
const REGISTRAR_NONCE_LEN: usize = 32;

/// Runs a step of a session that may draw randomness and change the shared registrar.
///
/// # Safety
/// Both pointers are NULL or live objects used by no one else during the call.
unsafe fn session_step(
    session: *mut keyprov_registrar_session,
    registrar: *mut keyprov_registrar,
    rng: keyprov_rng_callback,
    rng_userdata: *mut c_void,
    step: impl FnOnce(&mut Session, &mut Registrar, &mut HostRng) -> Result<(), Failure>,
) -> Result<(), Failure> {
    // SAFETY: forwarded from the caller's guarantee.
    let (w, shared) = unsafe {
        (
            boundary::object_mut(session, "session")?,
            boundary::object_mut(registrar, "registrar")?,
        )
    };
    w.machine.get()?;
    let mut host = HostRng::prefetched(rng, rng_userdata, REGISTRAR_NONCE_LEN)?;
    shared
        .registrar
        .update(|r| w.machine.update(|m| step(m, r, &mut host)))?;
    finish_rng(host, &mut w.machine)
}

/// Passes a datagram from the device received at time `now`; `rng` supplies the registrar's
/// nonce. Bytes that do not decode are refused without changing anything.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_registrar_session_handle_message(
    session: *mut keyprov_registrar_session,
    registrar: *mut keyprov_registrar,
    now: u64,
    rng: keyprov_rng_callback,
    rng_userdata: *mut c_void,
    bytes: *const u8,
    bytes_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes `bytes` valid for its length and live objects used by no
        // one else during the call.
        unsafe {
            let bytes = boundary::bytes_in(bytes, bytes_len, "bytes")?;
            session_step(session, registrar, rng, rng_userdata, |m, r, host| {
                Ok(m.handle_message(r, now, host, bytes)?)
            })
        }
    })
}

/// Answers `KEYPROV_REGISTRAR_EVENT_FETCH_KEY` at time `now`: with `result` `KEYPROV_OK`,
/// `key` holds the fetched key; any other `result` (for example the code the key client
/// reported) refuses the registration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_registrar_session_handle_key_result(
    session: *mut keyprov_registrar_session,
    registrar: *mut keyprov_registrar,
    now: u64,
    rng: keyprov_rng_callback,
    rng_userdata: *mut c_void,
    handle: u64,
    result: keyprov_result,
    key: *const keyprov_fetched_key,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes `key` NULL or live, and live objects used by no one else
        // during the call.
        unsafe {
            let key = match result {
                KEYPROV_OK => Ok(boundary::object(key, "key")?.fetched()?),
                code => Err(machine::error_from_code(code)),
            };
            session_step(session, registrar, rng, rng_userdata, |m, r, host| {
                Ok(m.handle_key_result(r, now, host, Handle(handle), key)?)
            })
        }
    })
}

/// Reports the clock at or after the deadline of `_poll_timeout`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_registrar_session_handle_timeout(
    session: *mut keyprov_registrar_session,
    now: u64,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live session used by no one else during the call.
        let w = unsafe { boundary::object_mut(session, "session") }?;
        w.machine.update(|m| Ok(m.handle_timeout(now)?))
    })
}

/// Writes the deadline for `_handle_timeout`, or `KEYPROV_NO_TIMEOUT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_registrar_session_poll_timeout(
    session: *const keyprov_registrar_session,
    deadline_out: *mut u64,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live session and `deadline_out` NULL or writable.
        unsafe {
            let w = boundary::object(session, "session")?;
            w.machine.deadline(|m| m.poll_timeout(), deadline_out)
        }
    })
}

/// Writes the next datagram to send to the device; `*len_out` is 0 when there is none.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_registrar_session_poll_transmit(
    session: *mut keyprov_registrar_session,
    buf: *mut u8,
    buf_len: usize,
    len_out: *mut usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live session used by no one else during the call and a
        // buffer valid for `buf_len` bytes.
        unsafe {
            let w = boundary::object_mut(session, "session")?;
            w.machine
                .transmit(|m| m.poll_transmit(), buf, buf_len, len_out)
        }
    })
}

/// Writes the next event into `*event_out` (kind `KEYPROV_REGISTRAR_EVENT_NONE` when none).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_registrar_session_poll_event(
    session: *mut keyprov_registrar_session,
    event_out: *mut keyprov_registrar_event,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live session used by no one else during the call and
        // `event_out` NULL or writable.
        unsafe {
            let w = boundary::object_mut(session, "session")?;
            w.machine.event(
                |m| keyprov_registrar_event::from_event(m.poll_event()),
                event_out,
            )
        }
    })
}

/// Releases the session; NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_registrar_session_free(session: *mut keyprov_registrar_session) {
    // SAFETY: the caller passes NULL or a session from this library, freed only once.
    unsafe { boundary::free(session) }
}

/// Makes a key client with nothing outstanding.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_client_new(
    client_out: *mut *mut keyprov_key_client,
) -> keyprov_result {
    boundary::call(|| {
        let wrapper = keyprov_key_client {
            machine: Machine::new(KeyClient::new()),
        };
        // SAFETY: the caller passes `client_out` NULL or writable.
        unsafe { boundary::hand_out(wrapper, client_out) }
    })
}

/// Queues a request for the per-service key of `key_id` at `service` (and the PIN-bound key of
/// `login`, length 0 for none); `*request_id_out` receives the identifier its answer carries.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_client_request(
    client: *mut keyprov_key_client,
    key_id: *const keyprov_key_id,
    service: *const u8,
    service_len: usize,
    login: *const u8,
    login_len: usize,
    request_id_out: *mut u32,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live client used by no one else during the call, a live
        // key id, each buffer valid for its length and `request_id_out` NULL or writable.
        unsafe {
            let w = boundary::object_mut(client, "client")?;
            let key_id = &boundary::object(key_id, "key_id")?.key_id;
            let service = boundary::bytes_in(service, service_len, "service")?;
            let login = boundary::bytes_in(login, login_len, "login")?;
            let login = (!login.is_empty()).then_some(login);
            if request_id_out.is_null() {
                return Err(boundary::null("request_id_out"));
            }
            let id = w
                .machine
                .update(|m| Ok(m.request(key_id, service, login)?))?;
            boundary::value_out(id, request_id_out, "request_id_out")
        }
    })
}

/// Passes a message from the agent: `*request_id_out` names the request it answers, and
/// `*key_result_out` is `KEYPROV_OK` with the key in `*key_out`, or the agent's refusal
/// (`KEYPROV_PEER_REFUSED`). Bytes that do not decode fail the client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_client_handle_message(
    client: *mut keyprov_key_client,
    bytes: *const u8,
    bytes_len: usize,
    request_id_out: *mut u32,
    key_result_out: *mut keyprov_result,
    key_out: *mut keyprov_fetched_key,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live client used by no one else during the call, `bytes`
        // valid for its length and each output NULL or writable.
        unsafe {
            let w = boundary::object_mut(client, "client")?;
            let bytes = boundary::bytes_in(bytes, bytes_len, "bytes")?;
            for (null, name) in [
                (request_id_out.is_null(), "request_id_out"),
                (key_result_out.is_null(), "key_result_out"),
                (key_out.is_null(), "key_out"),
            ] {
                if null {
                    return Err(boundary::null(name));
                }
            }
            let (id, key) = w.machine.update(|m| Ok(m.handle_message(bytes)?))?;
            let (code, fetched) = match &key {
                Ok(key) => (KEYPROV_OK, keyprov_fetched_key::from_fetched(key)),
                Err(error) => (result::from_error(error), keyprov_fetched_key::zero()),
            };
            boundary::value_out(id, request_id_out, "request_id_out")?;
            boundary::value_out(code, key_result_out, "key_result_out")?;
            boundary::value_out(fetched, key_out, "key_out")
        }
    })
}

/// Writes the next bytes to send to the agent; `*len_out` is 0 when there are none.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_client_poll_transmit(
    client: *mut keyprov_key_client,
    buf: *mut u8,
    buf_len: usize,
    len_out: *mut usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live client used by no one else during the call and a
        // buffer valid for `buf_len` bytes.
        unsafe {
            let w = boundary::object_mut(client, "client")?;
            w.machine
                .transmit(|m| m.poll_transmit(), buf, buf_len, len_out)
        }
    })
}

/// Releases the client; NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_client_free(client: *mut keyprov_key_client) {
    // SAFETY: the caller passes NULL or a client from this library, freed only once.
    unsafe { boundary::free(client) }
}

impl keyprov_fetched_key {
    fn zero() -> Self {
        Self {
            service_key: [0; 32],
            not_after: 0,
            has_pin_key: 0,
            pin_key: [0; 32],
        }
    }
}
