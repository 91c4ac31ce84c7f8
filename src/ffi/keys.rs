//! The key schedule: master key from a seed, device keys from a key identifier, and everything
//! derived below a device key (docs/protocol.md section 4).
//!
//! Keys cross the boundary as `KEYPROV_KEY_LEN` raw bytes in caller buffers; the caller owns
//! those copies and should wipe them when done. Inside the library every key lives in a type
//! that is zeroized when dropped. Only the agent's precomputed schedule is an object.

use core::ffi::{c_char, c_void};

use zeroize::Zeroize;

use super::boundary::{self, Failure, Object};
use super::keyid::keyprov_key_id;
use super::result::keyprov_result;
use crate::keys::{MasterKeySchedule, SessionContext, hkdf_expand, hkdf_extract};
use crate::secret::{
    AuthenticationKey, DeviceSecretKey, MasterKey, Pin, PinSigningKey, PinVerifier,
    PseudorandomKey, ServiceKey,
};

/// Bytes in every key: master, device secret, authentication, service, PIN signing, session.
pub const KEYPROV_KEY_LEN: usize = 32;
/// Bytes in a MAC tag or a PIN signature.
pub const KEYPROV_TAG_LEN: usize = 32;
/// Characters in a SIP Digest password derived from a service key (without the NUL).
pub const KEYPROV_DIGEST_PASSWORD_LEN: usize = 32;
/// Most bytes one `keyprov_hkdf_expand` may produce.
pub const KEYPROV_HKDF_MAX_OUTPUT_LEN: usize = 8160;

/// The key generating agent's precomputed schedule of one master key; zeroized on free.
pub struct keyprov_key_schedule {
    schedule: Object<MasterKeySchedule>,
}

/// What the two session keys of a registration are bound to; both sides fill it alike.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct keyprov_session_context {
    /// The key identifier's binary encoding (`keyprov_key_id_encode`).
    pub key_id: *const u8,
    /// Bytes at `key_id`, 1 to 1024.
    pub key_id_len: usize,
    /// The service identifier, in practice the SIP domain or realm.
    pub service_id: *const u8,
    /// Bytes at `service_id`, 1 to 1024.
    pub service_id_len: usize,
    /// The device's fresh nonce.
    pub device_nonce: *const u8,
    /// Bytes at `device_nonce`, 16 to 1024.
    pub device_nonce_len: usize,
    /// The registrar's fresh nonce.
    pub registrar_nonce: *const u8,
    /// Bytes at `registrar_nonce`, 16 to 1024.
    pub registrar_nonce_len: usize,
}

/// Reads a key argument of exactly `KEYPROV_KEY_LEN` bytes into its zeroizing type.
unsafe fn key_in<K>(
    pointer: *const u8,
    len: usize,
    argument: &'static str,
    from_bytes: fn(&[u8]) -> Result<K, crate::Error>,
) -> Result<K, Failure> {
    // SAFETY: forwarded from the caller's guarantee that `pointer` holds `len` bytes.
    let bytes = unsafe { boundary::bytes_in(pointer, len, argument) }?;
    Ok(from_bytes(bytes)?)
}

/// Derives the master key of `enterprise_id` (1 to 1024 bytes) and `epoch` from `seed`
/// (32 to 65536 bytes) with HMAC_DRBG, and writes its `KEYPROV_KEY_LEN` bytes to `key_out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_master_key_from_seed(
    seed: *const u8,
    seed_len: usize,
    enterprise_id: *const u8,
    enterprise_id_len: usize,
    epoch: u16,
    key_out: *mut u8,
    key_out_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes each input valid for its length and `key_out` valid for
        // `key_out_len` writable bytes.
        unsafe {
            let seed = boundary::bytes_in(seed, seed_len, "seed")?;
            let enterprise = boundary::bytes_in(enterprise_id, enterprise_id_len, "enterprise_id")?;
            let master = MasterKey::from_seed(seed, enterprise, epoch)?;
            boundary::fixed_out(master.expose_secret(), key_out, key_out_len, "key_out")
        }
    })
}

/// Precomputes the device key schedule of a master key (`KEYPROV_KEY_LEN` bytes) of `epoch`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_schedule_new(
    master_key: *const u8,
    master_key_len: usize,
    epoch: u16,
    schedule_out: *mut *mut keyprov_key_schedule,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes `master_key` valid for its length and `schedule_out` NULL
        // or writable.
        unsafe {
            let bytes = boundary::bytes_in(master_key, master_key_len, "master_key")?;
            let master = MasterKey::from_bytes(bytes, epoch)?;
            let schedule = Object::new(MasterKeySchedule::new(&master));
            boundary::hand_out(keyprov_key_schedule { schedule }, schedule_out)
        }
    })
}

/// Writes the epoch of the schedule's master key.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_schedule_epoch(
    schedule: *const keyprov_key_schedule,
    epoch_out: *mut u16,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live schedule and `epoch_out` NULL or writable.
        unsafe {
            let schedule = boundary::object(schedule, "schedule")?.schedule.get()?;
            boundary::value_out(schedule.epoch(), epoch_out, "epoch_out")
        }
    })
}

/// Derives the device secret key of `key_id`, which must carry the schedule's epoch, into
/// `key_out` (`KEYPROV_KEY_LEN` bytes).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_schedule_device_key(
    schedule: *const keyprov_key_schedule,
    key_id: *const keyprov_key_id,
    key_out: *mut u8,
    key_out_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live schedule and key id, and `key_out` valid for
        // `key_out_len` writable bytes.
        unsafe {
            let schedule = boundary::object(schedule, "schedule")?.schedule.get()?;
            let key_id = &boundary::object(key_id, "key_id")?.key_id;
            let key = schedule.device_key_for(key_id)?;
            boundary::fixed_out(key.expose_secret(), key_out, key_out_len, "key_out")
        }
    })
}

/// Derives the device secret key of a key identifier given as its binary encoding
/// (`key_id_len` bytes, 1 to 1024), without checking the encoding or the epoch; prefer
/// `keyprov_key_schedule_device_key` unless the bytes come from a store that checked them.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_schedule_device_key_bytes(
    schedule: *const keyprov_key_schedule,
    key_id: *const u8,
    key_id_len: usize,
    key_out: *mut u8,
    key_out_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live schedule, `key_id` valid for its length and
        // `key_out` valid for `key_out_len` writable bytes.
        unsafe {
            let schedule = boundary::object(schedule, "schedule")?.schedule.get()?;
            let key_id = boundary::bytes_in(key_id, key_id_len, "key_id")?;
            let key = schedule.device_key(key_id)?;
            boundary::fixed_out(key.expose_secret(), key_out, key_out_len, "key_out")
        }
    })
}

/// Derives the authentication key from a device secret key; the device computes it once the
/// provisioning session closed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_authentication_key(
    device_key: *const u8,
    device_key_len: usize,
    key_out: *mut u8,
    key_out_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes `device_key` valid for its length and `key_out` valid for
        // `key_out_len` writable bytes.
        unsafe {
            let device = key_in(
                device_key,
                device_key_len,
                "device_key",
                DeviceSecretKey::from_bytes,
            )?;
            let key = device.authentication_key();
            boundary::fixed_out(key.expose_secret(), key_out, key_out_len, "key_out")
        }
    })
}

/// Derives the key of one service (`service_id`, 1 to 1024 bytes) from an authentication key.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_service_key(
    authentication_key: *const u8,
    authentication_key_len: usize,
    service_id: *const u8,
    service_id_len: usize,
    key_out: *mut u8,
    key_out_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes each input valid for its length and `key_out` valid for
        // `key_out_len` writable bytes.
        unsafe {
            let auth = key_in(
                authentication_key,
                authentication_key_len,
                "authentication_key",
                AuthenticationKey::from_bytes,
            )?;
            let service_id = boundary::bytes_in(service_id, service_id_len, "service_id")?;
            let key = auth.service_key(service_id)?;
            boundary::fixed_out(key.expose_secret(), key_out, key_out_len, "key_out")
        }
    })
}

/// Computes the registration MAC of `transcript` under a service key (`KEYPROV_TAG_LEN` bytes
/// into `tag_out`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_service_mac(
    service_key: *const u8,
    service_key_len: usize,
    transcript: *const u8,
    transcript_len: usize,
    tag_out: *mut u8,
    tag_out_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes each input valid for its length and `tag_out` valid for
        // `tag_out_len` writable bytes.
        unsafe {
            let key = key_in(
                service_key,
                service_key_len,
                "service_key",
                ServiceKey::from_bytes,
            )?;
            let transcript = boundary::bytes_in(transcript, transcript_len, "transcript")?;
            let tag = key.mac_key().mac(transcript);
            boundary::fixed_out(&tag, tag_out, tag_out_len, "tag_out")
        }
    })
}

/// Checks a registration MAC in constant time: `KEYPROV_OK`, or `KEYPROV_WRONG_PROOF` if it
/// does not match (`KEYPROV_WRONG_LENGTH` if `tag` is not `KEYPROV_TAG_LEN` bytes).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_service_mac_verify(
    service_key: *const u8,
    service_key_len: usize,
    transcript: *const u8,
    transcript_len: usize,
    tag: *const u8,
    tag_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes each input valid for its length.
        unsafe {
            let key = key_in(
                service_key,
                service_key_len,
                "service_key",
                ServiceKey::from_bytes,
            )?;
            let transcript = boundary::bytes_in(transcript, transcript_len, "transcript")?;
            let tag = boundary::bytes_in(tag, tag_len, "tag")?;
            Ok(key.mac_key().verify(transcript, tag)?)
        }
    })
}

/// Derives the two session keys of a registration from the service key and `context`:
/// `device_to_registrar_out` protects what the device sends, `registrar_to_device_out` what
/// it receives; each takes `KEYPROV_KEY_LEN` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_session_keys(
    service_key: *const u8,
    service_key_len: usize,
    context: *const keyprov_session_context,
    device_to_registrar_out: *mut u8,
    device_to_registrar_out_len: usize,
    registrar_to_device_out: *mut u8,
    registrar_to_device_out_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes the key and every buffer of `context` valid for their
        // lengths, and both outputs valid for their lengths and separate from each other.
        unsafe {
            let key = key_in(
                service_key,
                service_key_len,
                "service_key",
                ServiceKey::from_bytes,
            )?;
            let context = boundary::object(context, "context")?;
            let context = SessionContext {
                key_id: boundary::bytes_in(context.key_id, context.key_id_len, "key_id")?,
                service_id: boundary::bytes_in(
                    context.service_id,
                    context.service_id_len,
                    "service_id",
                )?,
                device_nonce: boundary::bytes_in(
                    context.device_nonce,
                    context.device_nonce_len,
                    "device_nonce",
                )?,
                registrar_nonce: boundary::bytes_in(
                    context.registrar_nonce,
                    context.registrar_nonce_len,
                    "registrar_nonce",
                )?,
            };
            let keys = key.session_keys(&context)?;
            let (d2r, r2d) = (
                keys.device_to_registrar.expose_secret(),
                keys.registrar_to_device.expose_secret(),
            );
            let outputs = [
                (
                    d2r,
                    device_to_registrar_out,
                    device_to_registrar_out_len,
                    "device_to_registrar_out",
                ),
                (
                    r2d,
                    registrar_to_device_out,
                    registrar_to_device_out_len,
                    "registrar_to_device_out",
                ),
            ];
            for (_, pointer, len, argument) in outputs {
                check_key_buffer(pointer, len, argument)?;
            }
            for (key, pointer, len, argument) in outputs {
                boundary::fixed_out(key, pointer, len, argument)?;
            }
            Ok(())
        }
    })
}

/// Checks an output key buffer without writing, so that a call with two outputs fails before
/// writing either.
fn check_key_buffer(pointer: *mut u8, len: usize, argument: &'static str) -> Result<(), Failure> {
    if len < KEYPROV_KEY_LEN {
        return Err(crate::Error::BufferTooSmall {
            needed: KEYPROV_KEY_LEN,
        }
        .into());
    }
    if pointer.is_null() {
        return Err(boundary::null(argument));
    }
    Ok(())
}

/// Writes the SIP Digest password of a service key: `KEYPROV_DIGEST_PASSWORD_LEN` characters
/// and a NUL. The registrar and the phone use it as the Digest password of the key
/// identifier's text form.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_password(
    service_key: *const u8,
    service_key_len: usize,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes `service_key` valid for its length and a buffer valid for
        // `buf_len` bytes.
        unsafe {
            let key = key_in(
                service_key,
                service_key_len,
                "service_key",
                ServiceKey::from_bytes,
            )?;
            let password = key.digest_password();
            boundary::text_out(password.expose_secret_password(), buf, buf_len, len_out)
        }
    })
}

/// Derives the signing key bound to a device secret key, the user's PIN (`pin_len` ASCII
/// digits, 4 to 16) and the user's salt: the PIN verifier (`keyprov_pin_verifier`), then
/// `keyprov_pin_signing_key_from_verifier`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_pin_signing_key(
    device_key: *const u8,
    device_key_len: usize,
    pin: *const c_char,
    pin_len: usize,
    salt: *const u8,
    salt_len: usize,
    key_out: *mut u8,
    key_out_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes each input valid for its length and `key_out` valid for
        // `key_out_len` writable bytes.
        unsafe {
            let device = key_in(
                device_key,
                device_key_len,
                "device_key",
                DeviceSecretKey::from_bytes,
            )?;
            let pin = Pin::new(boundary::text_in(pin, pin_len, "pin")?)?;
            let salt = boundary::bytes_in(salt, salt_len, "salt")?;
            let key = device.pin_signing_key(&pin, salt);
            boundary::fixed_out(key.expose_secret(), key_out, key_out_len, "key_out")
        }
    })
}

/// Derives the same signing key from the user's PIN verifier (`KEYPROV_KEY_LEN` bytes), as an
/// agent does for a registrar without ever seeing the PIN.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_pin_signing_key_from_verifier(
    device_key: *const u8,
    device_key_len: usize,
    verifier: *const u8,
    verifier_len: usize,
    key_out: *mut u8,
    key_out_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes each input valid for its length and `key_out` valid for
        // `key_out_len` writable bytes.
        unsafe {
            let device = key_in(
                device_key,
                device_key_len,
                "device_key",
                DeviceSecretKey::from_bytes,
            )?;
            let verifier = key_in(verifier, verifier_len, "verifier", PinVerifier::from_bytes)?;
            let key = device.pin_signing_key_from_verifier(&verifier);
            boundary::fixed_out(key.expose_secret(), key_out, key_out_len, "key_out")
        }
    })
}

/// Signs `message` with a PIN signing key (`KEYPROV_TAG_LEN` bytes into `signature_out`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_pin_sign(
    pin_signing_key: *const u8,
    pin_signing_key_len: usize,
    message: *const u8,
    message_len: usize,
    signature_out: *mut u8,
    signature_out_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes each input valid for its length and `signature_out` valid
        // for `signature_out_len` writable bytes.
        unsafe {
            let key = key_in(
                pin_signing_key,
                pin_signing_key_len,
                "pin_signing_key",
                PinSigningKey::from_bytes,
            )?;
            let message = boundary::bytes_in(message, message_len, "message")?;
            boundary::fixed_out(
                &key.sign(message),
                signature_out,
                signature_out_len,
                "signature_out",
            )
        }
    })
}

/// Checks a PIN signature in constant time: `KEYPROV_OK` or `KEYPROV_WRONG_PROOF`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_pin_verify(
    pin_signing_key: *const u8,
    pin_signing_key_len: usize,
    message: *const u8,
    message_len: usize,
    signature: *const u8,
    signature_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes each input valid for its length.
        unsafe {
            let key = key_in(
                pin_signing_key,
                pin_signing_key_len,
                "pin_signing_key",
                PinSigningKey::from_bytes,
            )?;
            let message = boundary::bytes_in(message, message_len, "message")?;
            let signature = boundary::bytes_in(signature, signature_len, "signature")?;
            Ok(key.verify(message, signature)?)
        }
    })
}

/// HKDF-Extract (RFC 5869) with SHA-256: the pseudorandom key (`KEYPROV_KEY_LEN` bytes) from
/// `salt` (empty means 32 zero bytes) and input keying material `ikm`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_hkdf_extract(
    salt: *const u8,
    salt_len: usize,
    ikm: *const u8,
    ikm_len: usize,
    prk_out: *mut u8,
    prk_out_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes each input valid for its length and `prk_out` valid for
        // `prk_out_len` writable bytes.
        unsafe {
            let salt = boundary::bytes_in(salt, salt_len, "salt")?;
            let ikm = boundary::bytes_in(ikm, ikm_len, "ikm")?;
            let prk = hkdf_extract(salt, ikm);
            boundary::fixed_out(prk.expose_secret(), prk_out, prk_out_len, "prk_out")
        }
    })
}

/// HKDF-Expand (RFC 5869) with SHA-256: fills all `okm_len` bytes of `okm` (at most
/// `KEYPROV_HKDF_MAX_OUTPUT_LEN`) from a `KEYPROV_KEY_LEN`-byte `prk` and `info`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_hkdf_expand(
    prk: *const u8,
    prk_len: usize,
    info: *const u8,
    info_len: usize,
    okm: *mut u8,
    okm_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes each input valid for its length and `okm` valid for
        // `okm_len` writable bytes separate from the inputs.
        unsafe {
            let prk = key_in(prk, prk_len, "prk", PseudorandomKey::from_bytes)?;
            let info = boundary::bytes_in(info, info_len, "info")?;
            let okm = boundary::bytes_out(okm, okm_len, "okm")?;
            Ok(hkdf_expand(&prk, info, okm)?)
        }
    })
}

/// Overwrites `len` bytes at `buf` with zeros in a way the compiler does not remove: for keys
/// copied out of the library (key buffers, events, fetched keys). NULL with length 0 is fine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_secure_zero(buf: *mut c_void, len: usize) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes `buf` valid for `len` writable bytes.
        let bytes = unsafe { boundary::bytes_out(buf.cast(), len, "buf") }?;
        bytes.zeroize();
        Ok(())
    })
}

/// Zeroizes and releases a key schedule; NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_key_schedule_free(schedule: *mut keyprov_key_schedule) {
    // SAFETY: the caller passes NULL or a schedule from `keyprov_key_schedule_new`, freed only
    // once; dropping the schedule zeroizes its precomputed key.
    unsafe { boundary::free(schedule) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys;
    use crate::secret;

    #[test]
    fn constants_match_the_rust_api() {
        assert_eq!(KEYPROV_KEY_LEN, secret::KEY_LEN);
        assert_eq!(KEYPROV_TAG_LEN, keys::TAG_LEN);
        assert_eq!(KEYPROV_DIGEST_PASSWORD_LEN, secret::DIGEST_PASSWORD_LEN);
        assert_eq!(KEYPROV_HKDF_MAX_OUTPUT_LEN, keys::HKDF_MAX_OUTPUT_LEN);
    }
}
