//! The device (IP phone): provisioning with the key generating agent, then registration with
//! a registrar. See `crate::device` for the protocol; the C contract of both machines:
//!
//! - inputs through `_handle_*` calls (bytes received, session facts, host answers, the clock);
//! - outputs through `_poll_transmit` (bytes to send, in order, until `*len_out` is 0) and
//!   `_poll_event` (until the event kind is `KEYPROV_DEVICE_EVENT_NONE`), after every input;
//! - `_poll_timeout` gives the deadline for `_handle_timeout` (`KEYPROV_NO_TIMEOUT` if none).
//!
//! A call refused for its own arguments or timing changes nothing; a failure of the
//! conversation fails the machine for good, reported once as `KEYPROV_DEVICE_EVENT_FAILED`.

use core::ffi::{c_char, c_void};

use super::boundary::{self, Failure};
use super::keyid::keyprov_key_id;
use super::machine::{self, Machine};
use super::result::{self, keyprov_result};
use super::rng::{HostRng, keyprov_rng_callback};
use crate::device::{
    AgentSession, Event, Provisioning, ProvisioningConfig, Registration, RegistrationConfig,
    RegistrationMode, Subject,
};
use crate::keyid::{AgentId, DeviceId};
use crate::secret::DeviceSecretKey;
use crate::{Error, Handle};

/// `keyprov_device_event.kind`: no event is pending.
pub const KEYPROV_DEVICE_EVENT_NONE: u32 = 0;
/// Store the credentials in the event durably, then call
/// `keyprov_device_provisioning_handle_store_result` with its handle.
pub const KEYPROV_DEVICE_EVENT_STORE_CREDENTIALS: u32 = 1;
/// The conversation with the agent is over: close the TLS session, then call
/// `keyprov_device_provisioning_handle_closed`.
pub const KEYPROV_DEVICE_EVENT_CLOSE_SESSION: u32 = 2;
/// Provisioning finished: `key` holds the authentication key.
pub const KEYPROV_DEVICE_EVENT_PROVISIONED: u32 = 3;
/// The registrar accepted the registration; the session keys are in the event.
pub const KEYPROV_DEVICE_EVENT_REGISTERED: u32 = 4;
/// The conversation failed for good; `error` says why.
pub const KEYPROV_DEVICE_EVENT_FAILED: u32 = 5;

/// `keyprov_device_provisioning_config.subject`: ask a key for the device identifier.
pub const KEYPROV_SUBJECT_DEVICE_ID: u32 = 1;
/// `keyprov_device_provisioning_config.subject`: ask an unstructured key identifier.
pub const KEYPROV_SUBJECT_ANONYMOUS: u32 = 2;
/// `keyprov_device_provisioning_config.subject`: propose a key identifier.
pub const KEYPROV_SUBJECT_PROPOSED_KEY_ID: u32 = 3;

/// Registration mode: the registrar sends a challenge; four messages.
pub const KEYPROV_REGISTRATION_CHALLENGE_RESPONSE: u32 = 1;
/// Registration mode: the device's clock shows freshness; two messages.
pub const KEYPROV_REGISTRATION_TIME: u32 = 2;
/// Registration mode: a strictly increasing sequence number shows freshness; two messages.
pub const KEYPROV_REGISTRATION_SEQUENCE: u32 = 3;

/// What the device is configured with before provisioning. Pointers are read during
/// `keyprov_device_provisioning_new` only.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct keyprov_device_provisioning_config {
    /// The agent's authenticated identity the device trusts (for example the SHA-256 of its
    /// public key), compared in constant time with what `_handle_connected` reports.
    pub trust_anchor: [u8; 32],
    /// A `KEYPROV_SUBJECT_*` value.
    pub subject: u32,
    /// `KEYPROV_SUBJECT_DEVICE_ID`: the device identifier's typed text (`mac:...`).
    pub device_id: *const c_char,
    /// Bytes at `device_id`.
    pub device_id_len: usize,
    /// `KEYPROV_SUBJECT_PROPOSED_KEY_ID`: the proposed key identifier.
    pub proposed_key_id: *const keyprov_key_id,
    /// The user's login for a PIN-checked provisioning; length 0 for none, and then `pin` and
    /// `salt` must be empty too.
    pub login: *const u8,
    /// Bytes at `login`, 0 to 128.
    pub login_len: usize,
    /// The PIN the user typed, ASCII digits.
    pub pin: *const c_char,
    /// Bytes at `pin`, 4 to 16.
    pub pin_len: usize,
    /// The user's salt as the directory holds it.
    pub salt: *const u8,
    /// Bytes at `salt`.
    pub salt_len: usize,
    /// The agent identifier the answer must carry; length 0 to accept any.
    pub expected_agent: *const c_char,
    /// Bytes at `expected_agent`.
    pub expected_agent_len: usize,
    /// 1 if `last_counter` holds the highest counter accepted before; else 0.
    pub has_last_counter: u8,
    /// 1 to send nothing before `keyprov_device_provisioning_handle_address`; else 0.
    pub require_address: u8,
    /// The highest counter this device accepted before; an answer must exceed it.
    pub last_counter: u32,
    /// Seconds to wait for the agent's answer.
    pub response_timeout: u64,
}

/// What the device is configured with for one registration. Pointers are read during
/// `keyprov_device_registration_new` only.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct keyprov_device_registration_config {
    /// The service (registrar realm).
    pub service: *const u8,
    /// Bytes at `service`, 1 to 1024.
    pub service_len: usize,
    /// A `KEYPROV_REGISTRATION_*` mode.
    pub mode: u32,
    /// This registration's sequence number; persist a higher one before the next.
    pub sequence: u64,
    /// The user's login for a PIN-signed registration; length 0 for none, and then `pin` and
    /// `salt` must be empty too.
    pub login: *const u8,
    /// Bytes at `login`, 0 to 128.
    pub login_len: usize,
    /// The PIN the user typed, ASCII digits.
    pub pin: *const c_char,
    /// Bytes at `pin`, 4 to 16.
    pub pin_len: usize,
    /// The user's salt.
    pub salt: *const u8,
    /// Bytes at `salt`.
    pub salt_len: usize,
    /// Seconds to wait for each answer.
    pub response_timeout: u64,
}

/// What a device machine tells its host. Fields not named by the kind are zero. `key`,
/// `send_key` and `receive_key` are secrets: wipe the event (`keyprov_secure_zero`) once used.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct keyprov_device_event {
    /// A `KEYPROV_DEVICE_EVENT_*` value.
    pub kind: u32,
    /// `FAILED`: why, as a result code.
    pub error: keyprov_result,
    /// `STORE_CREDENTIALS`: pass it back with the answer.
    pub handle: u64,
    /// `STORE_CREDENTIALS`, `REGISTERED`: last second the key or registration is valid.
    pub not_after: u64,
    /// `STORE_CREDENTIALS`: the counter the agent reserved.
    pub counter: u32,
    /// Bytes used in `key_id`.
    pub key_id_len: u8,
    /// Bytes used in `agent_id`.
    pub agent_id_len: u8,
    /// `STORE_CREDENTIALS`, `PROVISIONED`, `REGISTERED`: the binary key identifier.
    pub key_id: [u8; 75],
    /// `STORE_CREDENTIALS`: the agent identifier, ASCII.
    pub agent_id: [u8; 32],
    /// `STORE_CREDENTIALS`: the device secret key. `PROVISIONED`: the authentication key.
    pub key: [u8; 32],
    /// `REGISTERED`: the session key for what the device sends.
    pub send_key: [u8; 32],
    /// `REGISTERED`: the session key for what the device receives.
    pub receive_key: [u8; 32],
}

impl keyprov_device_event {
    fn empty() -> Self {
        Self {
            kind: KEYPROV_DEVICE_EVENT_NONE,
            error: 0,
            handle: 0,
            not_after: 0,
            counter: 0,
            key_id_len: 0,
            agent_id_len: 0,
            key_id: [0; 75],
            agent_id: [0; 32],
            key: [0; 32],
            send_key: [0; 32],
            receive_key: [0; 32],
        }
    }

    fn from_event(event: Option<Event>) -> Self {
        let mut out = Self::empty();
        let Some(event) = event else { return out };
        match event {
            Event::StoreCredentials {
                handle,
                credentials,
            } => {
                out.kind = KEYPROV_DEVICE_EVENT_STORE_CREDENTIALS;
                out.handle = handle.0;
                out.not_after = credentials.not_after;
                out.counter = credentials.counter;
                out.key_id_len = machine::key_id_into(&mut out.key_id, &credentials.key_id);
                let agent = credentials.agent_id.as_bytes();
                out.agent_id_len = machine::copy_into(&mut out.agent_id, agent) as u8;
                out.key = *credentials.secret_key.expose_secret();
            }
            Event::CloseSession => out.kind = KEYPROV_DEVICE_EVENT_CLOSE_SESSION,
            Event::Provisioned {
                key_id,
                authentication_key,
            } => {
                out.kind = KEYPROV_DEVICE_EVENT_PROVISIONED;
                out.key_id_len = machine::key_id_into(&mut out.key_id, &key_id);
                out.key = *authentication_key.expose_secret();
            }
            Event::Registered {
                key_id,
                not_after,
                session_keys,
            } => {
                out.kind = KEYPROV_DEVICE_EVENT_REGISTERED;
                out.key_id_len = machine::key_id_into(&mut out.key_id, &key_id);
                out.not_after = not_after;
                out.send_key = *session_keys.device_to_registrar.expose_secret();
                out.receive_key = *session_keys.registrar_to_device.expose_secret();
            }
            Event::Failed(error) => {
                out.kind = KEYPROV_DEVICE_EVENT_FAILED;
                out.error = result::from_error(&error);
            }
        }
        out
    }
}

/// The device side of provisioning; the secret key it holds is zeroized on free.
pub struct keyprov_device_provisioning {
    machine: Machine<Provisioning>,
}

/// The device side of one registration; its keys are zeroized on free.
pub struct keyprov_device_registration {
    machine: Machine<Registration>,
}

unsafe fn subject_in(config: &keyprov_device_provisioning_config) -> Result<Subject, Failure> {
    match config.subject {
        KEYPROV_SUBJECT_DEVICE_ID => {
            // SAFETY: the caller passes a config whose `device_id` is valid for its length.
            let text =
                unsafe { boundary::text_in(config.device_id, config.device_id_len, "device_id") }?;
            Ok(Subject::DeviceId(text.parse::<DeviceId>()?))
        }
        KEYPROV_SUBJECT_ANONYMOUS => Ok(Subject::Anonymous),
        KEYPROV_SUBJECT_PROPOSED_KEY_ID => {
            // SAFETY: the caller passes a config whose key id is NULL or live.
            let key_id = unsafe { boundary::object(config.proposed_key_id, "proposed_key_id") }?;
            Ok(Subject::ProposedKeyId(key_id.key_id))
        }
        _ => Err(Error::OutOfRange {
            field: "subject",
            min: 1,
            max: 3,
        }
        .into()),
    }
}

/// Makes the device side of provisioning from `config`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_device_provisioning_new(
    config: *const keyprov_device_provisioning_config,
    provisioning_out: *mut *mut keyprov_device_provisioning,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live config whose buffers are valid for their lengths,
        // and `provisioning_out` NULL or writable.
        unsafe {
            let c = boundary::object(config, "config")?;
            let agent =
                boundary::text_in(c.expected_agent, c.expected_agent_len, "expected_agent")?;
            let config = ProvisioningConfig {
                trust_anchor: c.trust_anchor,
                subject: subject_in(c)?,
                user: machine::user_in(c.login, c.login_len, c.pin, c.pin_len, c.salt, c.salt_len)?,
                expected_agent: if agent.is_empty() {
                    None
                } else {
                    Some(AgentId::new(agent)?)
                },
                last_counter: boundary::flag(c.has_last_counter, "has_last_counter")?
                    .then_some(c.last_counter),
                require_address: boundary::flag(c.require_address, "require_address")?,
                response_timeout: c.response_timeout,
            };
            let wrapper = keyprov_device_provisioning {
                machine: Machine::new(Provisioning::new(config)),
            };
            boundary::hand_out(wrapper, provisioning_out)
        }
    })
}

/// Runs `change` on a provisioning machine behind a C pointer.
///
/// # Safety
/// `pointer` is NULL or a live machine used by no one else during the call.
unsafe fn with_provisioning(
    pointer: *mut keyprov_device_provisioning,
    change: impl FnOnce(&mut Provisioning) -> Result<(), Error>,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: forwarded from the caller's guarantee.
        let wrapper = unsafe { boundary::object_mut(pointer, "provisioning") }?;
        wrapper.machine.update(|m| Ok(change(m)?))
    })
}

/// Reports that the device has an IP address.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_device_provisioning_handle_address(
    provisioning: *mut keyprov_device_provisioning,
) -> keyprov_result {
    // SAFETY: the caller passes a live machine used by no one else during the call.
    unsafe { with_provisioning(provisioning, Provisioning::handle_address) }
}

/// Reports the established TLS session at time `now`: the agent's authenticated identity
/// (32 bytes) and the session's channel binding (an exporter value,
/// `KEYPROV_CHANNEL_BINDING_MIN_LEN` to `_MAX_LEN` bytes). An agent that does not
/// match the trust anchor fails the machine with `KEYPROV_UNTRUSTED_AGENT`; otherwise the
/// request is queued for `_poll_transmit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_device_provisioning_handle_connected(
    provisioning: *mut keyprov_device_provisioning,
    now: u64,
    agent_identity: *const u8,
    agent_identity_len: usize,
    channel_binding: *const u8,
    channel_binding_len: usize,
) -> keyprov_result {
    let inputs = || -> Result<([u8; 32], &[u8]), Failure> {
        // SAFETY: the caller passes each input valid for its length.
        unsafe {
            let identity =
                machine::array32_in(agent_identity, agent_identity_len, "agent_identity")?;
            Ok((
                identity,
                machine::channel_binding_in(channel_binding, channel_binding_len)?,
            ))
        }
    };
    boundary::call(|| {
        let (identity, binding) = inputs()?;
        // SAFETY: the caller passes a live machine used by no one else during the call.
        let wrapper = unsafe { boundary::object_mut(provisioning, "provisioning") }?;
        let session = AgentSession {
            agent_identity: &identity,
            channel_binding: binding,
        };
        wrapper
            .machine
            .update(|m| Ok(m.handle_connected(now, &session)?))
    })
}

/// Passes bytes received from the agent at time `now`. Bytes that do not decode or come out of
/// turn (before `_handle_connected`, or after the answer) fail the machine for good, unlike a
/// registration, which drops stray datagrams.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_device_provisioning_handle_message(
    provisioning: *mut keyprov_device_provisioning,
    now: u64,
    bytes: *const u8,
    bytes_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes `bytes` valid for its length and a live machine used by no
        // one else during the call.
        unsafe {
            let bytes = boundary::bytes_in(bytes, bytes_len, "bytes")?;
            let wrapper = boundary::object_mut(provisioning, "provisioning")?;
            wrapper
                .machine
                .update(|m| Ok(m.handle_message(now, bytes)?))
        }
    })
}

/// Answers `KEYPROV_DEVICE_EVENT_STORE_CREDENTIALS`: `result` is `KEYPROV_OK` once the
/// credentials are durable, or the code of the failure, which fails the machine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_device_provisioning_handle_store_result(
    provisioning: *mut keyprov_device_provisioning,
    handle: u64,
    result: keyprov_result,
) -> keyprov_result {
    // SAFETY: the caller passes a live machine used by no one else during the call.
    unsafe {
        with_provisioning(provisioning, |m| {
            m.handle_store_result(Handle(handle), machine::answer(result))
        })
    }
}

/// Reports that the TLS session closed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_device_provisioning_handle_closed(
    provisioning: *mut keyprov_device_provisioning,
) -> keyprov_result {
    // SAFETY: the caller passes a live machine used by no one else during the call.
    unsafe { with_provisioning(provisioning, Provisioning::handle_closed) }
}

/// Reports the clock at or after the deadline of `_poll_timeout`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_device_provisioning_handle_timeout(
    provisioning: *mut keyprov_device_provisioning,
    now: u64,
) -> keyprov_result {
    // SAFETY: the caller passes a live machine used by no one else during the call.
    unsafe { with_provisioning(provisioning, |m| m.handle_timeout(now)) }
}

/// Writes the deadline for `_handle_timeout`, or `KEYPROV_NO_TIMEOUT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_device_provisioning_poll_timeout(
    provisioning: *const keyprov_device_provisioning,
    deadline_out: *mut u64,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live machine and `deadline_out` NULL or writable.
        unsafe {
            let w = boundary::object(provisioning, "provisioning")?;
            w.machine.deadline(|m| m.poll_timeout(), deadline_out)
        }
    })
}

/// Writes the next bytes to send to the agent into `buf`; `*len_out` is 0 when there are none.
/// With a too-small buffer the bytes stay queued.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_device_provisioning_poll_transmit(
    provisioning: *mut keyprov_device_provisioning,
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

/// Writes the next event into `*event_out` (kind `KEYPROV_DEVICE_EVENT_NONE` when none).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_device_provisioning_poll_event(
    provisioning: *mut keyprov_device_provisioning,
    event_out: *mut keyprov_device_event,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live machine used by no one else during the call and
        // `event_out` NULL or writable.
        unsafe {
            let w = boundary::object_mut(provisioning, "provisioning")?;
            w.machine.event(
                |m| keyprov_device_event::from_event(m.poll_event()),
                event_out,
            )
        }
    })
}

/// Zeroizes and releases the machine; NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_device_provisioning_free(
    provisioning: *mut keyprov_device_provisioning,
) {
    // SAFETY: the caller passes NULL or a machine from this library, freed only once; its
    // secret key types zeroize themselves when dropped.
    unsafe { boundary::free(provisioning) }
}

fn mode_in(mode: u32) -> Result<RegistrationMode, Error> {
    match mode {
        KEYPROV_REGISTRATION_CHALLENGE_RESPONSE => Ok(RegistrationMode::ChallengeResponse),
        KEYPROV_REGISTRATION_TIME => Ok(RegistrationMode::Time),
        KEYPROV_REGISTRATION_SEQUENCE => Ok(RegistrationMode::Sequence),
        _ => Err(Error::OutOfRange {
            field: "registration mode",
            min: 1,
            max: 3,
        }),
    }
}

/// Makes the device side of one registration with the stored key identifier and device
/// secret key (`KEYPROV_KEY_LEN` bytes); derives the per-service keys.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_device_registration_new(
    config: *const keyprov_device_registration_config,
    key_id: *const keyprov_key_id,
    secret_key: *const u8,
    secret_key_len: usize,
    registration_out: *mut *mut keyprov_device_registration,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live config whose buffers are valid for their lengths, a
        // live key id, `secret_key` valid for its length and `registration_out` NULL or
        // writable.
        unsafe {
            let c = boundary::object(config, "config")?;
            let key_id = boundary::object(key_id, "key_id")?.key_id;
            let secret = boundary::bytes_in(secret_key, secret_key_len, "secret_key")?;
            let secret = DeviceSecretKey::from_bytes(secret)?;
            let config = RegistrationConfig {
                service: boundary::bytes_in(c.service, c.service_len, "service")?.to_vec(),
                mode: mode_in(c.mode)?,
                sequence: c.sequence,
                user: machine::user_in(c.login, c.login_len, c.pin, c.pin_len, c.salt, c.salt_len)?,
                response_timeout: c.response_timeout,
            };
            let wrapper = keyprov_device_registration {
                machine: Machine::new(Registration::new(config, key_id, &secret)?),
            };
            boundary::hand_out(wrapper, registration_out)
        }
    })
}

/// Bytes of randomness a device registration draws when it starts: its nonce.
const DEVICE_NONCE_LEN: usize = 32;

/// Queues the first message at time `now`; the device nonce comes from `rng`, which is asked
/// before anything changes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_device_registration_start(
    registration: *mut keyprov_device_registration,
    now: u64,
    rng: keyprov_rng_callback,
    rng_userdata: *mut c_void,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live machine used by no one else during the call.
        let w = unsafe { boundary::object_mut(registration, "registration") }?;
        w.machine.get()?;
        let mut host = HostRng::prefetched(rng, rng_userdata, DEVICE_NONCE_LEN)?;
        w.machine.update(|m| Ok(m.start(now, &mut host)?))?;
        finish_rng(host, &mut w.machine)
    })
}

/// Checks that the host served every random byte a change asked for beyond those drawn
/// ahead; if not, the change used zeros and the object is unusable from now on.
pub(crate) fn finish_rng<T>(host: HostRng, machine: &mut Machine<T>) -> Result<(), Failure> {
    host.finish().inspect_err(|_| machine.poison())
}

/// Runs `change` on a registration machine behind a C pointer.
///
/// # Safety
/// `pointer` is NULL or a live machine used by no one else during the call.
unsafe fn with_registration(
    pointer: *mut keyprov_device_registration,
    change: impl FnOnce(&mut Registration) -> Result<(), Error>,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: forwarded from the caller's guarantee.
        let wrapper = unsafe { boundary::object_mut(pointer, "registration") }?;
        wrapper.machine.update(|m| Ok(change(m)?))
    })
}

/// Passes a datagram received from the registrar. Bytes that do not decode or are not expected
/// now are refused without changing anything.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_device_registration_handle_message(
    registration: *mut keyprov_device_registration,
    bytes: *const u8,
    bytes_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes `bytes` valid for its length and a live machine used by no
        // one else during the call.
        unsafe {
            let bytes = boundary::bytes_in(bytes, bytes_len, "bytes")?;
            let w = boundary::object_mut(registration, "registration")?;
            w.machine.update(|m| Ok(m.handle_message(bytes)?))
        }
    })
}

/// Reports the clock at or after the deadline of `_poll_timeout`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_device_registration_handle_timeout(
    registration: *mut keyprov_device_registration,
    now: u64,
) -> keyprov_result {
    // SAFETY: the caller passes a live machine used by no one else during the call.
    unsafe { with_registration(registration, |m| m.handle_timeout(now)) }
}

/// Writes the deadline for `_handle_timeout`, or `KEYPROV_NO_TIMEOUT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_device_registration_poll_timeout(
    registration: *const keyprov_device_registration,
    deadline_out: *mut u64,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live machine and `deadline_out` NULL or writable.
        unsafe {
            let w = boundary::object(registration, "registration")?;
            w.machine.deadline(|m| m.poll_timeout(), deadline_out)
        }
    })
}

/// Writes the next datagram to send to the registrar; `*len_out` is 0 when there is none.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_device_registration_poll_transmit(
    registration: *mut keyprov_device_registration,
    buf: *mut u8,
    buf_len: usize,
    len_out: *mut usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live machine used by no one else during the call and a
        // buffer valid for `buf_len` bytes.
        unsafe {
            let w = boundary::object_mut(registration, "registration")?;
            w.machine
                .transmit(|m| m.poll_transmit(), buf, buf_len, len_out)
        }
    })
}

/// Writes the next event into `*event_out` (kind `KEYPROV_DEVICE_EVENT_NONE` when none).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_device_registration_poll_event(
    registration: *mut keyprov_device_registration,
    event_out: *mut keyprov_device_event,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live machine used by no one else during the call and
        // `event_out` NULL or writable.
        unsafe {
            let w = boundary::object_mut(registration, "registration")?;
            w.machine.event(
                |m| keyprov_device_event::from_event(m.poll_event()),
                event_out,
            )
        }
    })
}

/// Zeroizes and releases the machine; NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_device_registration_free(
    registration: *mut keyprov_device_registration,
) {
    // SAFETY: the caller passes NULL or a machine from this library, freed only once; its key
    // types zeroize themselves when dropped.
    unsafe { boundary::free(registration) }
}
