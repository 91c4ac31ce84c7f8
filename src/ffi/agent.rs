//! The key generating agent: its configuration (agent identifier, master keys, policy), the
//! provisioning machine run per device TLS session, and the key service run per registrar
//! connection. The contract of the machines is the one of `src/ffi/device.rs`: `_handle_*` in,
//! `_poll_transmit` and `_poll_event` out after every input, failures final.
//!
//! One `keyprov_agent_config` serves any number of machines; it must not change (master key
//! added or retired) while a call that takes it runs on another thread.

use core::ffi::{c_char, c_void};

use super::boundary::{self, Failure, Object};
use super::device::finish_rng;
use super::machine::{self, Machine};
use super::result::{self, keyprov_result};
use super::rng::{HostRng, keyprov_rng_callback};
use crate::agent::{self, AgentConfig, Event, KeyCheck, KeyService, KeyStatus, Provisioning};
use crate::agent::{Reservation, UserRecord};
use crate::keyid::AgentId;
use crate::keys::MasterKeyring;
use crate::secret::{MasterKey, Pin, PinVerifier};
use crate::{Error, Handle};

/// `keyprov_agent_event.kind`: no event is pending.
pub const KEYPROV_AGENT_EVENT_NONE: u32 = 0;
/// Look the user `login` up in the directory; answer with
/// `keyprov_agent_provisioning_handle_user_result`.
pub const KEYPROV_AGENT_EVENT_LOOKUP_USER: u32 = 1;
/// A PIN proof of `login` did not verify at `time`: count it for the lockout.
pub const KEYPROV_AGENT_EVENT_PIN_REJECTED: u32 = 2;
/// A PIN proof of `login` verified: the failure count may be reset.
pub const KEYPROV_AGENT_EVENT_PIN_ACCEPTED: u32 = 3;
/// Reserve the next counter durably (see `reservation`); answer with
/// `keyprov_agent_provisioning_handle_counter_result`.
pub const KEYPROV_AGENT_EVENT_RESERVE_COUNTER: u32 = 4;
/// Key identifier `key_id` was issued with `counter`, valid until `time`.
pub const KEYPROV_AGENT_EVENT_ISSUED: u32 = 5;
/// Check that `registrar` may have the key of `key_id` for `service` and that the key
/// identifier is current; answer with `keyprov_agent_key_service_handle_check_result`.
pub const KEYPROV_AGENT_EVENT_CHECK_KEY: u32 = 6;
/// The conversation failed for good; `error` says why.
pub const KEYPROV_AGENT_EVENT_FAILED: u32 = 7;

/// `keyprov_agent_event.reservation`: the next counter of the device in `device_type` and
/// `device_value`.
pub const KEYPROV_RESERVATION_DEVICE: u8 = 1;
/// `keyprov_agent_event.reservation`: the next counter of the unstructured sequence, for the
/// key identifier in `key_id`.
pub const KEYPROV_RESERVATION_ANONYMOUS: u8 = 2;
/// `keyprov_agent_event.reservation`: the key identifier in `key_id` that the device proposed;
/// answer `KEYPROV_SUPERSEDED` if it was issued before.
pub const KEYPROV_RESERVATION_PROPOSED: u8 = 3;

/// `keyprov_key_check.status`: the key identifier is current.
pub const KEYPROV_KEY_STATUS_CURRENT: u32 = 1;
/// `keyprov_key_check.status`: a newer key identifier was issued to the device.
pub const KEYPROV_KEY_STATUS_SUPERSEDED: u32 = 2;
/// `keyprov_key_check.status`: the key identifier was revoked.
pub const KEYPROV_KEY_STATUS_REVOKED: u32 = 3;
/// `keyprov_key_check.status`: the key identifier was never issued.
pub const KEYPROV_KEY_STATUS_UNKNOWN: u32 = 4;

/// What an agent machine tells its host. Fields not named by the kind are zero.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct keyprov_agent_event {
    /// A `KEYPROV_AGENT_EVENT_*` value.
    pub kind: u32,
    /// `FAILED`: why, as a result code.
    pub error: keyprov_result,
    /// `LOOKUP_USER`, `RESERVE_COUNTER`, `CHECK_KEY`: pass it back with the answer.
    pub handle: u64,
    /// `PIN_REJECTED`: when. `ISSUED`: last second the key is valid.
    pub time: u64,
    /// `ISSUED`: the counter.
    pub counter: u32,
    /// `RESERVE_COUNTER`: a `KEYPROV_RESERVATION_*` value.
    pub reservation: u8,
    /// `RESERVE_COUNTER` of a device: its `KEYPROV_DEVICE_ID_*` type.
    pub device_type: u8,
    /// Bytes used in `device_value`.
    pub device_value_len: u8,
    /// Bytes used in `key_id`.
    pub key_id_len: u8,
    /// `RESERVE_COUNTER` of a device: the canonical device identifier value.
    pub device_value: [u8; 32],
    /// `RESERVE_COUNTER` (anonymous, proposed), `ISSUED`, `CHECK_KEY`: the binary key id.
    pub key_id: [u8; 75],
    /// 1 if `login` holds a user (`CHECK_KEY` for a PIN-signed registration); else 0.
    pub has_login: u8,
    /// `LOOKUP_USER`, `PIN_*`, `CHECK_KEY`: the user's login.
    pub login: [u8; 128],
    /// Bytes used in `login`.
    pub login_len: usize,
    /// `CHECK_KEY`: the registrar's authenticated identity.
    pub registrar: [u8; 32],
    /// `CHECK_KEY`: the service the key is asked for.
    pub service: [u8; 1024],
    /// Bytes used in `service`.
    pub service_len: usize,
}

impl keyprov_agent_event {
    fn empty() -> Self {
        Self {
            kind: KEYPROV_AGENT_EVENT_NONE,
            error: 0,
            handle: 0,
            time: 0,
            counter: 0,
            reservation: 0,
            device_type: 0,
            device_value_len: 0,
            key_id_len: 0,
            device_value: [0; 32],
            key_id: [0; 75],
            has_login: 0,
            login: [0; 128],
            login_len: 0,
            registrar: [0; 32],
            service: [0; 1024],
            service_len: 0,
        }
    }

    fn set_login(&mut self, login: &[u8]) {
        self.has_login = 1;
        self.login_len = machine::copy_into(&mut self.login, login);
    }

    fn from_event(event: Option<Event>) -> Self {
        let mut out = Self::empty();
        let Some(event) = event else { return out };
        match event {
            Event::LookupUser { handle, login } => {
                out.kind = KEYPROV_AGENT_EVENT_LOOKUP_USER;
                out.handle = handle.0;
                out.set_login(&login);
            }
            Event::PinRejected { login, at } => {
                out.kind = KEYPROV_AGENT_EVENT_PIN_REJECTED;
                out.time = at;
                out.set_login(&login);
            }
            Event::PinAccepted { login } => {
                out.kind = KEYPROV_AGENT_EVENT_PIN_ACCEPTED;
                out.set_login(&login);
            }
            Event::ReserveCounter {
                handle,
                reservation,
            } => {
                out.kind = KEYPROV_AGENT_EVENT_RESERVE_COUNTER;
                out.handle = handle.0;
                out.set_reservation(&reservation);
            }
            Event::Issued {
                key_id,
                counter,
                not_after,
            } => {
                out.kind = KEYPROV_AGENT_EVENT_ISSUED;
                out.key_id_len = machine::key_id_into(&mut out.key_id, &key_id);
                out.counter = counter;
                out.time = not_after;
            }
            Event::CheckKey {
                handle,
                registrar,
                service,
                key_id,
                login,
            } => {
                out.kind = KEYPROV_AGENT_EVENT_CHECK_KEY;
                out.handle = handle.0;
                out.registrar = registrar;
                out.service_len = machine::copy_into(&mut out.service, &service);
                out.key_id_len = machine::key_id_into(&mut out.key_id, &key_id);
                if let Some(login) = login {
                    out.set_login(&login);
                }
            }
            Event::Failed(error) => {
                out.kind = KEYPROV_AGENT_EVENT_FAILED;
                out.error = result::from_error(&error);
            }
        }
        out
    }

    fn set_reservation(&mut self, reservation: &Reservation) {
        match reservation {
            Reservation::Device(device) => {
                self.reservation = KEYPROV_RESERVATION_DEVICE;
                self.device_type = device.kind().code();
                let value = device.value_bytes();
                self.device_value_len = machine::copy_into(&mut self.device_value, value) as u8;
            }
            Reservation::Anonymous(key_id) => {
                self.reservation = KEYPROV_RESERVATION_ANONYMOUS;
                self.key_id_len = machine::key_id_into(&mut self.key_id, key_id);
            }
            Reservation::Proposed(key_id) => {
                self.reservation = KEYPROV_RESERVATION_PROPOSED;
                self.key_id_len = machine::key_id_into(&mut self.key_id, key_id);
            }
        }
    }
}

/// The directory's answer about a login, known or not, for
/// `keyprov_agent_provisioning_handle_user_result`. The host counts PIN failures for unknown
/// logins too (a bounded table is enough), so the lockout does not tell which logins exist.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct keyprov_agent_user {
    /// The user's PIN verifier (`keyprov_pin_verifier`), `KEYPROV_KEY_LEN` bytes; ignored
    /// unless `has_verifier` is 1.
    pub verifier: [u8; 32],
    /// Failed PIN attempts the host counted for this login within its lockout window.
    pub recent_failures: u32,
    /// 1 if the directory knows the login and `verifier` holds its verifier; 0 for an unknown
    /// login (or a user without a PIN), which is answered like a wrong PIN.
    pub has_verifier: u8,
}

/// The host's answer to `KEYPROV_AGENT_EVENT_CHECK_KEY`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct keyprov_key_check {
    /// 1 if the registrar may have keys of this service; else 0.
    pub authorized: u8,
    /// 1 if `pin_verifier` holds the user's verifier (asked with a login); else 0.
    pub has_pin_verifier: u8,
    /// A `KEYPROV_KEY_STATUS_*` value.
    pub status: u32,
    /// With `KEYPROV_KEY_STATUS_CURRENT`: last second the key is valid.
    pub not_after: u64,
    /// The user's PIN verifier.
    pub pin_verifier: [u8; 32],
}

/// What every agent machine shares: agent identifier, master keys (zeroized on free), policy.
pub struct keyprov_agent_config {
    config: Object<AgentConfig>,
}

/// One device's provisioning conversation with the agent.
pub struct keyprov_agent_provisioning {
    machine: Machine<Provisioning>,
}

/// One registrar connection asking the agent for per-service keys.
pub struct keyprov_agent_key_service {
    machine: Machine<KeyService>,
}

/// Makes an agent configuration without master keys: `agent_id` is this agent's identifier
/// (1 to 32 of lowercase letters, digits and `-`), `key_lifetime` the seconds a new key is
/// valid, `require_pin` 1 to refuse requests without a user and PIN proof, and
/// `max_pin_failures` the failures within the host's window that lock a user out.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_agent_config_new(
    agent_id: *const c_char,
    agent_id_len: usize,
    key_lifetime: u64,
    require_pin: u8,
    max_pin_failures: u32,
    config_out: *mut *mut keyprov_agent_config,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes `agent_id` valid for its length and `config_out` NULL or
        // writable.
        unsafe {
            let agent_id = AgentId::new(boundary::text_in(agent_id, agent_id_len, "agent_id")?)?;
            let config = AgentConfig {
                agent_id,
                keyring: MasterKeyring::new(),
                key_lifetime,
                require_pin: boundary::flag(require_pin, "require_pin")?,
                max_pin_failures,
            };
            boundary::hand_out(
                keyprov_agent_config {
                    config: Object::new(config),
                },
                config_out,
            )
        }
    })
}

/// Adds the master key (`KEYPROV_KEY_LEN` bytes) of a new `epoch`; new key identifiers are
/// issued under the newest live epoch. An epoch live or retired before is refused.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_agent_config_add_master_key(
    config: *mut keyprov_agent_config,
    master_key: *const u8,
    master_key_len: usize,
    epoch: u16,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live config used by no one else during the call and
        // `master_key` valid for its length.
        unsafe {
            let config = boundary::object_mut(config, "config")?;
            let bytes = boundary::bytes_in(master_key, master_key_len, "master_key")?;
            let master = MasterKey::from_bytes(bytes, epoch)?;
            config.config.update(|c| Ok(c.keyring.insert(&master)?))
        }
    })
}

/// Retires `epoch`: device keys of that epoch stop verifying.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_agent_config_retire_epoch(
    config: *mut keyprov_agent_config,
    epoch: u16,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live config used by no one else during the call.
        let config = unsafe { boundary::object_mut(config, "config") }?;
        config.config.update(|c| Ok(c.keyring.retire(epoch)?))
    })
}

/// Zeroizes the master keys and releases the configuration; NULL is ignored. No machine may
/// use it afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_agent_config_free(config: *mut keyprov_agent_config) {
    // SAFETY: the caller passes NULL or a config from this library, freed only once; the
    // master key schedules zeroize themselves when dropped.
    unsafe { boundary::free(config) }
}

/// Writes the PIN verifier a directory stores for a user: `HMAC(salt, lp(label) || lp(pin))`,
/// `KEYPROV_KEY_LEN` bytes. A stolen verifier lets anyone find the PIN by trying them all;
/// the verifier guards against online guessing only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_pin_verifier(
    salt: *const u8,
    salt_len: usize,
    pin: *const c_char,
    pin_len: usize,
    verifier_out: *mut u8,
    verifier_out_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes each input valid for its length and `verifier_out` valid
        // for `verifier_out_len` writable bytes.
        unsafe {
            let salt = boundary::bytes_in(salt, salt_len, "salt")?;
            let pin = Pin::new(boundary::text_in(pin, pin_len, "pin")?)?;
            let verifier = agent::pin_verifier(salt, &pin);
            boundary::fixed_out(
                verifier.expose_secret(),
                verifier_out,
                verifier_out_len,
                "verifier_out",
            )
        }
    })
}

/// Makes the agent side of one device's provisioning, waiting for its session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_agent_provisioning_new(
    provisioning_out: *mut *mut keyprov_agent_provisioning,
) -> keyprov_result {
    boundary::call(|| {
        let wrapper = keyprov_agent_provisioning {
            machine: Machine::new(Provisioning::new()),
        };
        // SAFETY: the caller passes `provisioning_out` NULL or writable.
        unsafe { boundary::hand_out(wrapper, provisioning_out) }
    })
}

/// The configuration behind a C pointer, for reading.
///
/// # Safety
/// `config` is NULL or a live configuration nobody changes during `'a`.
unsafe fn config_ref<'a>(config: *const keyprov_agent_config) -> Result<&'a AgentConfig, Failure> {
    // SAFETY: forwarded from the caller's guarantee.
    unsafe { boundary::object(config, "config") }?.config.get()
}

/// Runs `change` on a provisioning machine behind a C pointer.
///
/// # Safety
/// `pointer` is NULL or a live machine used by no one else during the call.
unsafe fn with_provisioning(
    pointer: *mut keyprov_agent_provisioning,
    change: impl FnOnce(&mut Provisioning) -> Result<(), Failure>,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: forwarded from the caller's guarantee.
        let wrapper = unsafe { boundary::object_mut(pointer, "provisioning") }?;
        wrapper.machine.update(change)
    })
}

/// Reports the established TLS session and its channel binding (the same exporter value the
/// device reports, `KEYPROV_CHANNEL_BINDING_MIN_LEN` to `_MAX_LEN` bytes).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_agent_provisioning_handle_connected(
    provisioning: *mut keyprov_agent_provisioning,
    channel_binding: *const u8,
    channel_binding_len: usize,
) -> keyprov_result {
    // SAFETY: the caller passes a live machine used by no one else during the call and
    // `channel_binding` valid for its length.
    unsafe {
        with_provisioning(provisioning, |m| {
            let binding = machine::channel_binding_in(channel_binding, channel_binding_len)?;
            Ok(m.handle_connected(binding)?)
        })
    }
}

/// Bytes of randomness drawn ahead for a provisioning request: the most an unstructured key
/// identifier's value takes.
const AGENT_RANDOM_LEN: usize = 32;

/// Passes the device's request; `rng` supplies the value of an unstructured key identifier.
/// Bytes that do not decode or come out of turn (for example before `_handle_connected`) fail
/// the machine for good, as the conversation inside TLS cannot recover.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_agent_provisioning_handle_message(
    provisioning: *mut keyprov_agent_provisioning,
    config: *const keyprov_agent_config,
    rng: keyprov_rng_callback,
    rng_userdata: *mut c_void,
    bytes: *const u8,
    bytes_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live machine used by no one else during the call, a live
        // config and `bytes` valid for its length.
        unsafe {
            let config = config_ref(config)?;
            let bytes = boundary::bytes_in(bytes, bytes_len, "bytes")?;
            let w = boundary::object_mut(provisioning, "provisioning")?;
            w.machine.get()?;
            let mut host = HostRng::prefetched(rng, rng_userdata, AGENT_RANDOM_LEN)?;
            w.machine
                .update(|m| Ok(m.handle_message(config, &mut host, bytes)?))?;
            finish_rng(host, &mut w.machine)
        }
    })
}

/// Answers `KEYPROV_AGENT_EVENT_LOOKUP_USER` at time `now` with the directory's answer about the
/// login, never NULL: an unknown login has `has_verifier` 0 and its own failure count.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_agent_provisioning_handle_user_result(
    provisioning: *mut keyprov_agent_provisioning,
    config: *const keyprov_agent_config,
    now: u64,
    handle: u64,
    user: *const keyprov_agent_user,
) -> keyprov_result {
    // SAFETY: the caller passes a live machine used by no one else during the call, a live
    // config and `user` NULL or live.
    unsafe {
        with_provisioning(provisioning, |m| {
            let config = config_ref(config)?;
            let user = boundary::object(user, "user")?;
            let record = UserRecord {
                verifier: (user.has_verifier != 0).then(|| PinVerifier::from_array(user.verifier)),
                recent_failures: user.recent_failures,
            };
            Ok(m.handle_user_result(config, now, Handle(handle), record)?)
        })
    }
}

/// Answers `KEYPROV_AGENT_EVENT_RESERVE_COUNTER` at time `now`: with `result` `KEYPROV_OK`,
/// `counter` is the reserved value, already durable; any other `result` refuses the request
/// with that code (for example `KEYPROV_SUPERSEDED` for a proposed key identifier issued
/// before).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_agent_provisioning_handle_counter_result(
    provisioning: *mut keyprov_agent_provisioning,
    config: *const keyprov_agent_config,
    now: u64,
    handle: u64,
    result: keyprov_result,
    counter: u32,
) -> keyprov_result {
    // SAFETY: the caller passes a live machine used by no one else during the call and a live
    // config.
    unsafe {
        with_provisioning(provisioning, |m| {
            let config = config_ref(config)?;
            let counter = machine::answer(result).map(|()| counter);
            Ok(m.handle_counter_result(config, now, Handle(handle), counter)?)
        })
    }
}

/// Writes the next bytes to send to the device; `*len_out` is 0 when there are none. The
/// answer carries the device secret key: send it only inside the TLS session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_agent_provisioning_poll_transmit(
    provisioning: *mut keyprov_agent_provisioning,
    buf: *mut u8,
    buf_len: usize,
    len_out: *mut usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live machine used by no one else during the call and a
        // buffer valid for `buf_len` bytes.
        unsafe {
            let w = boundary::object_mut(provisioning, "provisioning")?;
            w.machine
                .transmit(|m| m.poll_transmit(), buf, buf_len, len_out)
        }
    })
}

/// Writes the next event into `*event_out` (kind `KEYPROV_AGENT_EVENT_NONE` when none).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_agent_provisioning_poll_event(
    provisioning: *mut keyprov_agent_provisioning,
    event_out: *mut keyprov_agent_event,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live machine used by no one else during the call and
        // `event_out` NULL or writable.
        unsafe {
            let w = boundary::object_mut(provisioning, "provisioning")?;
            w.machine.event(
                |m| keyprov_agent_event::from_event(m.poll_event()),
                event_out,
            )
        }
    })
}

/// Releases the machine; NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_agent_provisioning_free(
    provisioning: *mut keyprov_agent_provisioning,
) {
    // SAFETY: the caller passes NULL or a machine from this library, freed only once.
    unsafe { boundary::free(provisioning) }
}

/// Makes the key service of one registrar connection; `registrar_identity` (32 bytes) is the
/// registrar's authenticated identity from the mutual TLS handshake.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_agent_key_service_new(
    registrar_identity: *const u8,
    registrar_identity_len: usize,
    key_service_out: *mut *mut keyprov_agent_key_service,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes the identity valid for its length and `key_service_out`
        // NULL or writable.
        unsafe {
            let identity = machine::array32_in(
                registrar_identity,
                registrar_identity_len,
                "registrar_identity",
            )?;
            let wrapper = keyprov_agent_key_service {
                machine: Machine::new(KeyService::new(identity)),
            };
            boundary::hand_out(wrapper, key_service_out)
        }
    })
}

/// Passes a key request from the registrar. Bytes that do not decode fail the service for
/// good: close the connection and start a new service on the next one.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_agent_key_service_handle_message(
    key_service: *mut keyprov_agent_key_service,
    config: *const keyprov_agent_config,
    bytes: *const u8,
    bytes_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live machine used by no one else during the call, a live
        // config and `bytes` valid for its length.
        unsafe {
            let config = config_ref(config)?;
            let bytes = boundary::bytes_in(bytes, bytes_len, "bytes")?;
            let w = boundary::object_mut(key_service, "key_service")?;
            w.machine.update(|m| Ok(m.handle_message(config, bytes)?))
        }
    })
}

fn status_in(check: &keyprov_key_check) -> Result<KeyStatus, Error> {
    match check.status {
        KEYPROV_KEY_STATUS_CURRENT => Ok(KeyStatus::Current {
            not_after: check.not_after,
        }),
        KEYPROV_KEY_STATUS_SUPERSEDED => Ok(KeyStatus::Superseded),
        KEYPROV_KEY_STATUS_REVOKED => Ok(KeyStatus::Revoked),
        KEYPROV_KEY_STATUS_UNKNOWN => Ok(KeyStatus::Unknown),
        _ => Err(Error::OutOfRange {
            field: "key status",
            min: 1,
            max: 4,
        }),
    }
}

/// Answers `KEYPROV_AGENT_EVENT_CHECK_KEY` at time `now`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_agent_key_service_handle_check_result(
    key_service: *mut keyprov_agent_key_service,
    config: *const keyprov_agent_config,
    now: u64,
    handle: u64,
    check: *const keyprov_key_check,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live machine used by no one else during the call, a live
        // config and a live check.
        unsafe {
            let config = config_ref(config)?;
            let c = boundary::object(check, "check")?;
            let check = KeyCheck {
                authorized: boundary::flag(c.authorized, "authorized")?,
                status: status_in(c)?,
                pin_verifier: boundary::flag(c.has_pin_verifier, "has_pin_verifier")?
                    .then(|| PinVerifier::from_array(c.pin_verifier)),
            };
            let w = boundary::object_mut(key_service, "key_service")?;
            w.machine
                .update(|m| Ok(m.handle_check_result(config, now, Handle(handle), check)?))
        }
    })
}

/// Writes the next bytes to send to the registrar; `*len_out` is 0 when there are none. The
/// answers carry per-service keys: send them only inside the mutual TLS connection.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_agent_key_service_poll_transmit(
    key_service: *mut keyprov_agent_key_service,
    buf: *mut u8,
    buf_len: usize,
    len_out: *mut usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live machine used by no one else during the call and a
        // buffer valid for `buf_len` bytes.
        unsafe {
            let w = boundary::object_mut(key_service, "key_service")?;
            w.machine
                .transmit(|m| m.poll_transmit(), buf, buf_len, len_out)
        }
    })
}

/// Writes the next event into `*event_out` (kind `KEYPROV_AGENT_EVENT_NONE` when none).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_agent_key_service_poll_event(
    key_service: *mut keyprov_agent_key_service,
    event_out: *mut keyprov_agent_event,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live machine used by no one else during the call and
        // `event_out` NULL or writable.
        unsafe {
            let w = boundary::object_mut(key_service, "key_service")?;
            w.machine.event(
                |m| keyprov_agent_event::from_event(m.poll_event()),
                event_out,
            )
        }
    })
}

/// Releases the machine; NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_agent_key_service_free(
    key_service: *mut keyprov_agent_key_service,
) {
    // SAFETY: the caller passes NULL or a machine from this library, freed only once.
    unsafe { boundary::free(key_service) }
}
