//! What the wrappers of the role state machines share: staged output bytes, host answers given
//! as result codes, and copies of variable-length values into fixed event fields.

use core::ffi::c_char;
use std::vec::Vec;

use zeroize::Zeroizing;

use super::boundary::{self, Buffer, Failure, Object};
use super::result::{KEYPROV_OK, keyprov_result};
use crate::Error;
use crate::device::UserPin;
use crate::keyid::KeyId;
use crate::secret::Pin;

/// Deadline reported by a `poll_timeout` call when no deadline runs.
pub const KEYPROV_NO_TIMEOUT: u64 = u64::MAX;

/// Bytes taken from a machine's `poll_transmit` and not yet copied out, because the caller's
/// buffer was too small: the next call delivers them first, so nothing is lost. They may carry
/// a device secret key, so they are wiped when dropped.
#[derive(Default)]
pub(crate) struct Outbox {
    staged: Option<Zeroizing<Vec<u8>>>,
}

impl Outbox {
    /// Copies the next message into `buf`, or sets `*len_out` to 0 when there is none.
    ///
    /// # Safety
    /// `buf` is NULL or valid for `buf_len` writable bytes; `len_out` is NULL or writable.
    pub(crate) unsafe fn deliver(
        &mut self,
        next: impl FnOnce() -> Option<Vec<u8>>,
        buf: *mut u8,
        buf_len: usize,
        len_out: *mut usize,
    ) -> Result<(), Failure> {
        if self.staged.is_none() {
            self.staged = next().map(Zeroizing::new);
        }
        let Some(bytes) = &self.staged else {
            // SAFETY: forwarded from the caller's guarantee.
            return unsafe { boundary::value_out(0, len_out, "len_out") };
        };
        // SAFETY: forwarded from the caller's guarantee.
        unsafe { Buffer::new(buf, buf_len, len_out).write(bytes) }?;
        self.staged = None;
        Ok(())
    }
}

/// A role state machine owned by C, with the bytes it produced that the caller's buffer could
/// not take yet.
pub(crate) struct Machine<T> {
    state: Object<T>,
    outbox: Outbox,
}

impl<T> Machine<T> {
    /// Wraps a fresh machine.
    pub(crate) fn new(machine: T) -> Self {
        Self {
            state: Object::new(machine),
            outbox: Outbox::default(),
        }
    }

    /// Runs a change; see [`Object::update`].
    pub(crate) fn update<R>(
        &mut self,
        change: impl FnOnce(&mut T) -> Result<R, Failure>,
    ) -> Result<R, Failure> {
        self.state.update(change)
    }

    /// The machine, for calls that do not change it.
    pub(crate) fn get(&self) -> Result<&T, Failure> {
        self.state.get()
    }

    /// Marks the machine unusable; see [`Object::poison`].
    pub(crate) fn poison(&mut self) {
        self.state.poison();
    }

    /// Copies the machine's next message into the caller's buffer (`*len_out` 0 if none).
    ///
    /// # Safety
    /// As for [`Outbox::deliver`].
    pub(crate) unsafe fn transmit(
        &mut self,
        next: impl FnOnce(&mut T) -> Option<Vec<u8>>,
        buf: *mut u8,
        buf_len: usize,
        len_out: *mut usize,
    ) -> Result<(), Failure> {
        let outbox = &mut self.outbox;
        // SAFETY: forwarded from the caller's guarantee.
        self.state
            .update(|machine| unsafe { outbox.deliver(|| next(machine), buf, buf_len, len_out) })
    }

    /// Writes the machine's next event, converted to its C struct, through `event_out`.
    ///
    /// # Safety
    /// `event_out` is NULL or valid for one write.
    pub(crate) unsafe fn event<E>(
        &mut self,
        next: impl FnOnce(&mut T) -> E,
        event_out: *mut E,
    ) -> Result<(), Failure> {
        if event_out.is_null() {
            return Err(boundary::null("event_out"));
        }
        let event = self.state.update(|machine| Ok(next(machine)))?;
        // SAFETY: forwarded from the caller's guarantee.
        unsafe { boundary::value_out(event, event_out, "event_out") }
    }

    /// Writes the machine's deadline, or `KEYPROV_NO_TIMEOUT`.
    ///
    /// # Safety
    /// `deadline_out` is NULL or valid for one write.
    pub(crate) unsafe fn deadline(
        &self,
        poll: impl FnOnce(&T) -> Option<u64>,
        deadline_out: *mut u64,
    ) -> Result<(), Failure> {
        let deadline = poll(self.state.get()?).unwrap_or(KEYPROV_NO_TIMEOUT);
        // SAFETY: forwarded from the caller's guarantee.
        unsafe { boundary::value_out(deadline, deadline_out, "deadline_out") }
    }
}

/// The host's answer to a request, given as a result code: `KEYPROV_OK` or why it failed.
pub(crate) fn answer(result: keyprov_result) -> Result<(), Error> {
    if result == KEYPROV_OK {
        Ok(())
    } else {
        Err(error_from_code(result))
    }
}

/// The error a host means by a code. Codes of errors without fields map to that error; any
/// other code becomes `PeerRefused` carrying it, so the machine still fails with it visible.
pub(crate) fn error_from_code(code: keyprov_result) -> Error {
    let simple = [
        Error::Ipv6ZoneIdentifier,
        Error::CounterExhausted,
        Error::ReseedRequired,
        Error::UnknownKeyId,
        Error::Superseded,
        Error::Revoked,
        Error::Expired,
        Error::WrongProof,
        Error::StaleChallenge,
        Error::Replay,
        Error::UntrustedAgent,
        Error::LockedOut,
        Error::NotAuthorized,
        Error::CounterRollback,
        Error::TimedOut,
        Error::SessionClosed,
        Error::Failed,
        Error::UnknownHandle,
        Error::NoAddress,
    ];
    let known = simple
        .into_iter()
        .find(|e| keyprov_result::from(e.code()) == code);
    known.unwrap_or(Error::PeerRefused {
        code: u16::try_from(code).unwrap_or(u16::MAX),
    })
}

/// Copies `bytes` into a fixed field, returning how many were copied; the Rust API bounds every
/// value that reaches here by the field's size.
pub(crate) fn copy_into<const N: usize>(field: &mut [u8; N], bytes: &[u8]) -> usize {
    let len = bytes.len().min(N);
    field[..len].copy_from_slice(&bytes[..len]);
    len
}

/// The binary key identifier in an event field; its length.
pub(crate) fn key_id_into(field: &mut [u8; 75], key_id: &KeyId) -> u8 {
    // A binary key identifier has at most 75 bytes, so the length fits a byte.
    key_id.write_to(field).unwrap_or(0) as u8
}

/// The user and PIN of a configuration; `None` when `login_len` is 0.
///
/// # Safety
/// Each pointer is NULL or valid for its length.
pub(crate) unsafe fn user_in(
    login: *const u8,
    login_len: usize,
    pin: *const c_char,
    pin_len: usize,
    salt: *const u8,
    salt_len: usize,
) -> Result<Option<UserPin>, Failure> {
    if login_len == 0 {
        // A PIN without a login would silently leave the request without a PIN proof.
        let stray = [("pin", pin_len), ("salt", salt_len)];
        if let Some((field, _)) = stray.into_iter().find(|(_, len)| *len != 0) {
            return Err(Error::InvalidValue {
                field,
                reason: "given without a login",
            }
            .into());
        }
        return Ok(None);
    }
    // SAFETY: forwarded from the caller's guarantee.
    unsafe {
        let login = boundary::bytes_in(login, login_len, "login")?.to_vec();
        let pin = Pin::new(boundary::text_in(pin, pin_len, "pin")?)?;
        let salt = boundary::bytes_in(salt, salt_len, "salt")?.to_vec();
        Ok(Some(UserPin { login, pin, salt }))
    }
}

/// Fewest bytes of a TLS channel binding: fewer (above all none, from a host that forgot to pass
/// its exporter value) would let a PIN proof verify in another session.
pub const KEYPROV_CHANNEL_BINDING_MIN_LEN: usize = 16;
/// Most bytes of a TLS channel binding.
pub const KEYPROV_CHANNEL_BINDING_MAX_LEN: usize = 1024;

/// The TLS channel binding of a provisioning session, within its limits.
///
/// # Safety
/// `pointer` is NULL or valid for `len` bytes.
pub(crate) unsafe fn channel_binding_in<'a>(
    pointer: *const u8,
    len: usize,
) -> Result<&'a [u8], Failure> {
    let field = "channel_binding";
    // SAFETY: forwarded from the caller's guarantee.
    let binding = unsafe { boundary::bytes_in(pointer, len, field) }?;
    // The machines refuse a length outside the bounds themselves, before any change.
    Ok(binding)
}

/// A 32-byte identity or anchor argument.
///
/// # Safety
/// `pointer` is NULL or valid for `len` bytes.
pub(crate) unsafe fn array32_in(
    pointer: *const u8,
    len: usize,
    argument: &'static str,
) -> Result<[u8; 32], Failure> {
    // SAFETY: forwarded from the caller's guarantee.
    let bytes = unsafe { boundary::bytes_in(pointer, len, argument) }?;
    let actual = bytes.len();
    Ok(bytes.try_into().map_err(|_| Error::WrongLength {
        field: argument,
        expected: 32,
        actual,
    })?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn channel_binding_bounds_are_the_core_ones() {
        assert_eq!(
            super::KEYPROV_CHANNEL_BINDING_MIN_LEN,
            crate::CHANNEL_BINDING_MIN_LEN
        );
        assert_eq!(
            super::KEYPROV_CHANNEL_BINDING_MAX_LEN,
            crate::CHANNEL_BINDING_MAX_LEN
        );
    }

    use super::*;

    #[test]
    fn host_codes_become_the_errors_they_name() {
        assert_eq!(answer(KEYPROV_OK), Ok(()));
        assert_eq!(answer(301), Err(Error::Superseded));
        assert_eq!(answer(7777), Err(Error::PeerRefused { code: 7777 }));
        assert_eq!(error_from_code(900), Error::PeerRefused { code: 900 });
    }

    #[test]
    fn a_pin_or_salt_without_a_login_is_refused_not_ignored() {
        let pin = c"0042";
        let salt = b"salt";
        // SAFETY: every pointer is NULL with length 0 or valid for its length.
        unsafe {
            let none = user_in(
                core::ptr::null(),
                0,
                core::ptr::null(),
                0,
                core::ptr::null(),
                0,
            );
            assert!(matches!(none, Ok(None)));
            let pin_only = user_in(core::ptr::null(), 0, pin.as_ptr(), 4, core::ptr::null(), 0);
            assert!(matches!(
                pin_only,
                Err(Failure::Core(Error::InvalidValue { field: "pin", .. }))
            ));
            let salt_only = user_in(core::ptr::null(), 0, core::ptr::null(), 0, salt.as_ptr(), 4);
            assert!(matches!(
                salt_only,
                Err(Failure::Core(Error::InvalidValue { field: "salt", .. }))
            ));
        }
    }
}
