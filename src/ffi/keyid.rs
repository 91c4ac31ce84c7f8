//! Key identifiers: build, encode, decode and inspect them.
//!
//! A `keyprov_key_id` is immutable once made. Devices are named by their typed text form
//! `PREFIX:VALUE` (`ext:0123`, `sn:ABC123`, `user:alice`, `ipv4:192.0.2.1`, `ipv6:2001:db8::1`,
//! `mac:00-1a-2b-3c-4d-5e`), which carries the device identifier type.

use core::ffi::c_char;
use std::string::ToString;

use super::boundary::{self, Buffer, Failure};
use super::result::keyprov_result;
use crate::Error;
use crate::keyid::{AgentId, DeviceId, KeyId, UnstructuredValue, ValueSource};

/// Most bytes in a binary key identifier.
pub const KEYPROV_KEY_ID_MAX_LEN: usize = 75;
/// Most characters in a text key identifier, without the terminating NUL.
pub const KEYPROV_KEY_ID_MAX_TEXT_LEN: usize = 103;
/// Most bytes in an agent identifier.
pub const KEYPROV_AGENT_ID_MAX_LEN: usize = 32;
/// Most bytes in a device identifier value or an unstructured value.
pub const KEYPROV_KEY_ID_MAX_VALUE_LEN: usize = 32;

/// `keyprov_key_id_info.form` of a key identifier naming a device and a counter.
pub const KEYPROV_KEY_ID_STRUCTURED: u8 = 1;
/// `keyprov_key_id_info.form` of a key identifier holding an unstructured value.
pub const KEYPROV_KEY_ID_UNSTRUCTURED: u8 = 2;

/// Device identifier type: a telephone extension, 1 to 16 digits; typed text `ext:0123`.
pub const KEYPROV_DEVICE_ID_EXTENSION: u8 = 1;
/// Device identifier type: a serial number, 1 to 32 of `A`-`Z`, `0`-`9`, `-`; typed text
/// `sn:AB-123`.
pub const KEYPROV_DEVICE_ID_SERIAL_NUMBER: u8 = 2;
/// Device identifier type: a user login, 1 to 32 of `a`-`z`, `0`-`9`, `.`, `_`, `-`; typed
/// text `user:alice`.
pub const KEYPROV_DEVICE_ID_USER_LOGIN: u8 = 3;
/// Device identifier type: an IPv4 address (4 value bytes); typed text `ipv4:192.0.2.7`.
pub const KEYPROV_DEVICE_ID_IPV4: u8 = 4;
/// Device identifier type: an IPv6 address without zone (16 value bytes); typed text
/// `ipv6:2001:db8::7`.
pub const KEYPROV_DEVICE_ID_IPV6: u8 = 5;
/// Device identifier type: an IEEE 802 MAC address (6 value bytes); typed text
/// `mac:00-1a-2b-3c-4d-5e` (also accepted: `:` separators, upper case, `001A.2B3C.4D5E`).
pub const KEYPROV_DEVICE_ID_MAC: u8 = 6;

/// Source of an unstructured value: the agent's random generator.
pub const KEYPROV_VALUE_SOURCE_RANDOM: u8 = 1;
/// Source of an unstructured value: a key database.
pub const KEYPROV_VALUE_SOURCE_KEY_DATABASE: u8 = 2;
/// Source of an unstructured value: the output of a hash function.
pub const KEYPROV_VALUE_SOURCE_HASH: u8 = 3;

/// A key identifier: the public name under which a device's secret key is issued and found.
pub struct keyprov_key_id {
    pub(crate) key_id: KeyId,
}

/// Everything a key identifier says, copied out by `keyprov_key_id_inspect`.
///
/// Byte fields are not NUL-terminated; their `_len` field says how many bytes count.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct keyprov_key_id_info {
    /// Format version, 1.
    pub version: u8,
    /// `KEYPROV_KEY_ID_STRUCTURED` or `KEYPROV_KEY_ID_UNSTRUCTURED`.
    pub form: u8,
    /// Epoch of the master key the secret key is derived from.
    pub epoch: u16,
    /// Structured: the counter. Unstructured: 0.
    pub counter: u32,
    /// Structured: a `KEYPROV_DEVICE_ID_*` type. Unstructured: 0.
    pub device_type: u8,
    /// Unstructured: a `KEYPROV_VALUE_SOURCE_*`. Structured: 0.
    pub value_source: u8,
    /// Bytes used in `agent`.
    pub agent_len: u8,
    /// Bytes used in `value`.
    pub value_len: u8,
    /// The agent identifier, ASCII.
    pub agent: [u8; KEYPROV_AGENT_ID_MAX_LEN],
    /// Structured: the canonical device value bytes (digits or letters as ASCII, addresses as
    /// their network-order bytes). Unstructured: the value.
    pub value: [u8; KEYPROV_KEY_ID_MAX_VALUE_LEN],
}

fn hand_out(key_id: KeyId, out: *mut *mut keyprov_key_id) -> Result<(), Failure> {
    // SAFETY: every caller passes the `key_id_out` it received from C, which the conventions
    // require to be NULL or writable.
    unsafe { boundary::hand_out(keyprov_key_id { key_id }, out) }
}

/// Makes a structured key identifier: the `counter`-th key agent `agent` issued to `device`
/// under master key `epoch`.
///
/// `agent` is `agent_len` bytes of lowercase letters, digits and `-`; `device` is the typed
/// text form of the device identifier, `device_len` bytes, in any spelling its type accepts.
/// On success `*key_id_out` receives a new object to release with `keyprov_key_id_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_id_new_structured(
    epoch: u16,
    agent: *const c_char,
    agent_len: usize,
    device: *const c_char,
    device_len: usize,
    counter: u32,
    key_id_out: *mut *mut keyprov_key_id,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes each text valid for its length.
        let (agent, device) = unsafe {
            let agent = boundary::text_in(agent, agent_len, "agent")?;
            (agent, boundary::text_in(device, device_len, "device")?)
        };
        let agent = AgentId::new(agent)?;
        let device: DeviceId = device.parse()?;
        hand_out(KeyId::structured(epoch, agent, device, counter), key_id_out)
    })
}

/// Makes an unstructured key identifier holding `value` (1 to 32 bytes) from `source`, one of
/// the `KEYPROV_VALUE_SOURCE_*` values.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_id_new_unstructured(
    epoch: u16,
    agent: *const c_char,
    agent_len: usize,
    source: u8,
    value: *const u8,
    value_len: usize,
    key_id_out: *mut *mut keyprov_key_id,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes `agent` and `value` valid for their lengths.
        let (agent, value) = unsafe {
            let agent = boundary::text_in(agent, agent_len, "agent")?;
            (agent, boundary::bytes_in(value, value_len, "value")?)
        };
        let agent = AgentId::new(agent)?;
        let source = ValueSource::from_code(source).ok_or(Error::OutOfRange {
            field: "value source",
            min: 1,
            max: 3,
        })?;
        let value = UnstructuredValue::new(source, value)?;
        hand_out(KeyId::unstructured(epoch, agent, value), key_id_out)
    })
}

/// Decodes the binary form of a key identifier; only the canonical encoding is accepted.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_id_decode(
    bytes: *const u8,
    bytes_len: usize,
    key_id_out: *mut *mut keyprov_key_id,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes `bytes` valid for `bytes_len` bytes.
        let bytes = unsafe { boundary::bytes_in(bytes, bytes_len, "bytes") }?;
        hand_out(KeyId::from_bytes(bytes)?, key_id_out)
    })
}

/// Parses the text form of a key identifier (`kp1` and unpadded base64url), `text_len` bytes
/// without a NUL; only the canonical text is accepted.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_id_parse(
    text: *const c_char,
    text_len: usize,
    key_id_out: *mut *mut keyprov_key_id,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes `text` valid for `text_len` bytes.
        let text = unsafe { boundary::text_in(text, text_len, "text") }?;
        hand_out(text.parse()?, key_id_out)
    })
}

/// Writes the binary form (at most `KEYPROV_KEY_ID_MAX_LEN` bytes) into `buf`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_id_encode(
    key_id: *const keyprov_key_id,
    buf: *mut u8,
    buf_len: usize,
    len_out: *mut usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live key id and a buffer valid for `buf_len` bytes.
        unsafe {
            let key_id = &boundary::object(key_id, "key_id")?.key_id;
            Buffer::new(buf, buf_len, len_out).write(&key_id.to_bytes())
        }
    })
}

/// Writes the text form as NUL-terminated text (at most `KEYPROV_KEY_ID_MAX_TEXT_LEN`
/// characters and the NUL) into `buf`; usable unchanged as a SIP Digest username.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_id_text(
    key_id: *const keyprov_key_id,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live key id and a buffer valid for `buf_len` bytes.
        unsafe {
            let key_id = &boundary::object(key_id, "key_id")?.key_id;
            boundary::text_out(&key_id.to_string(), buf, buf_len, len_out)
        }
    })
}

/// Writes the canonical typed text form of the device (`mac:00-1a-2b-3c-4d-5e`) of a
/// structured key identifier into `buf`, NUL-terminated. An unstructured key identifier has
/// no device and fails with `KEYPROV_INVALID_VALUE`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_id_device_text(
    key_id: *const keyprov_key_id,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live key id.
        let key_id = &unsafe { boundary::object(key_id, "key_id") }?.key_id;
        let device = key_id.device_id().ok_or(Error::InvalidValue {
            field: "key id",
            reason: "an unstructured key id names no device",
        })?;
        // SAFETY: the caller passes a buffer valid for `buf_len` bytes.
        unsafe { boundary::text_out(&device.to_string(), buf, buf_len, len_out) }
    })
}

/// Copies every field of the key identifier into `*info_out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_id_inspect(
    key_id: *const keyprov_key_id,
    info_out: *mut keyprov_key_id_info,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live key id and `info_out` NULL or writable.
        unsafe {
            let key_id = &boundary::object(key_id, "key_id")?.key_id;
            boundary::value_out(info(key_id), info_out, "info_out")
        }
    })
}

fn info(key_id: &KeyId) -> keyprov_key_id_info {
    let mut info = keyprov_key_id_info {
        version: key_id.version(),
        epoch: key_id.epoch(),
        ..Default::default()
    };
    info.agent_len = copy_into(&mut info.agent, key_id.agent_id().as_bytes());
    if let (Some(device), Some(counter)) = (key_id.device_id(), key_id.counter()) {
        info.form = KEYPROV_KEY_ID_STRUCTURED;
        info.counter = counter;
        info.device_type = device.kind().code();
        info.value_len = copy_into(&mut info.value, device.value_bytes());
    } else if let Some(value) = key_id.unstructured_value() {
        info.form = KEYPROV_KEY_ID_UNSTRUCTURED;
        info.value_source = value.source().code();
        info.value_len = copy_into(&mut info.value, value.as_bytes());
    }
    info
}

/// Copies a value of at most 32 bytes (as the key identifier guarantees) and returns its length.
fn copy_into(field: &mut [u8; 32], bytes: &[u8]) -> u8 {
    let len = bytes.len().min(field.len());
    field[..len].copy_from_slice(&bytes[..len]);
    len as u8
}

/// Makes the next key identifier for the same device, epoch and agent: the counter plus one.
/// At counter 4294967295 this fails with `KEYPROV_COUNTER_EXHAUSTED`; an unstructured key
/// identifier fails with `KEYPROV_INVALID_VALUE`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_id_successor(
    key_id: *const keyprov_key_id,
    key_id_out: *mut *mut keyprov_key_id,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live key id.
        let key_id = &unsafe { boundary::object(key_id, "key_id") }?.key_id;
        hand_out(key_id.successor()?, key_id_out)
    })
}

/// Whether two key identifiers are the same: 1 if equal, 0 if not or if either is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_id_equal(
    a: *const keyprov_key_id,
    b: *const keyprov_key_id,
) -> u8 {
    // SAFETY: the caller passes NULL or live key ids.
    let (a, b) = unsafe { (a.as_ref(), b.as_ref()) };
    matches!((a, b), (Some(a), Some(b)) if a.key_id == b.key_id).into()
}

/// Releases a key identifier made by this library; NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_id_free(key_id: *mut keyprov_key_id) {
    // SAFETY: the caller passes NULL or a key id from this library, freed only once.
    unsafe { boundary::free(key_id) }
}

/// Writes the canonical typed text form of a device identifier given in any accepted spelling
/// (`mac:001A.2B3C.4D5E` gives `mac:00-1a-2b-3c-4d-5e`) into `buf`, NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_device_id_canonical(
    device: *const c_char,
    device_len: usize,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes `device` valid for `device_len` bytes.
        let device: DeviceId =
            unsafe { boundary::text_in(device, device_len, "device") }?.parse()?;
        // SAFETY: the caller passes a buffer valid for `buf_len` bytes.
        unsafe { boundary::text_out(&device.to_string(), buf, buf_len, len_out) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyid::{self, DeviceIdType};

    #[test]
    fn constants_match_the_rust_api() {
        assert_eq!(KEYPROV_KEY_ID_MAX_LEN, keyid::MAX_LEN);
        assert_eq!(KEYPROV_KEY_ID_MAX_TEXT_LEN, keyid::MAX_TEXT_LEN);
        assert_eq!(KEYPROV_AGENT_ID_MAX_LEN, AgentId::MAX_LEN);
        assert_eq!(KEYPROV_KEY_ID_MAX_VALUE_LEN, keyid::MAX_DEVICE_VALUE_LEN);
        assert_eq!(KEYPROV_KEY_ID_MAX_VALUE_LEN, keyid::MAX_UNSTRUCTURED_LEN);
        let types = [
            (KEYPROV_DEVICE_ID_EXTENSION, DeviceIdType::Extension),
            (KEYPROV_DEVICE_ID_SERIAL_NUMBER, DeviceIdType::SerialNumber),
            (KEYPROV_DEVICE_ID_USER_LOGIN, DeviceIdType::UserLogin),
            (KEYPROV_DEVICE_ID_IPV4, DeviceIdType::Ipv4),
            (KEYPROV_DEVICE_ID_IPV6, DeviceIdType::Ipv6),
            (KEYPROV_DEVICE_ID_MAC, DeviceIdType::Mac),
        ];
        assert_eq!(types.len(), DeviceIdType::ALL.len());
        for (code, kind) in types {
            assert_eq!(code, kind.code());
        }
        assert_eq!(KEYPROV_VALUE_SOURCE_RANDOM, ValueSource::Random.code());
        assert_eq!(
            KEYPROV_VALUE_SOURCE_KEY_DATABASE,
            ValueSource::KeyDatabase.code()
        );
        assert_eq!(KEYPROV_VALUE_SOURCE_HASH, ValueSource::Hash.code());
    }
}
