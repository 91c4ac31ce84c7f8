//! The HMAC_DRBG (SHA-256) random generator of NIST SP 800-90A.
//!
//! The host supplies all entropy. A `keyprov_drbg` can also serve as the random source of any
//! other call: pass `keyprov_drbg_rng_callback` with the generator as its `userdata`.

use core::ffi::c_void;

use super::boundary::{self, Object};
use super::result::{KEYPROV_OK, keyprov_result};
use crate::drbg::HmacDrbg;

/// Fewest bytes of entropy input `keyprov_drbg_new` and `keyprov_drbg_reseed` accept.
pub const KEYPROV_DRBG_MIN_ENTROPY_LEN: usize = 32;
/// Most bytes of entropy, nonce, personalization string or additional input accepted.
pub const KEYPROV_DRBG_MAX_INPUT_LEN: usize = 65536;
/// Most bytes one `keyprov_drbg_generate` call may return.
pub const KEYPROV_DRBG_MAX_REQUEST_LEN: usize = 65536;

/// An HMAC_DRBG instance; its state is zeroized by `keyprov_drbg_free`.
pub struct keyprov_drbg {
    drbg: Object<HmacDrbg>,
}

/// Instantiates a generator from `entropy` (at least `KEYPROV_DRBG_MIN_ENTROPY_LEN` bytes), a
/// `nonce` and a `personalization` string (each may be empty).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_drbg_new(
    entropy: *const u8,
    entropy_len: usize,
    nonce: *const u8,
    nonce_len: usize,
    personalization: *const u8,
    personalization_len: usize,
    drbg_out: *mut *mut keyprov_drbg,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes each input valid for its length, and `drbg_out` NULL or
        // writable.
        unsafe {
            let entropy = boundary::bytes_in(entropy, entropy_len, "entropy")?;
            let nonce = boundary::bytes_in(nonce, nonce_len, "nonce")?;
            let personalization =
                boundary::bytes_in(personalization, personalization_len, "personalization")?;
            let drbg = HmacDrbg::new(entropy, nonce, personalization)?;
            boundary::hand_out(
                keyprov_drbg {
                    drbg: Object::new(drbg),
                },
                drbg_out,
            )
        }
    })
}

/// Mixes fresh `entropy` (at least `KEYPROV_DRBG_MIN_ENTROPY_LEN` bytes) and optional
/// `additional` input into the state and restarts the reseed counter.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_drbg_reseed(
    drbg: *mut keyprov_drbg,
    entropy: *const u8,
    entropy_len: usize,
    additional: *const u8,
    additional_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live generator used by no one else during the call, and
        // each input valid for its length.
        unsafe {
            let drbg = boundary::object_mut(drbg, "drbg")?;
            let entropy = boundary::bytes_in(entropy, entropy_len, "entropy")?;
            let additional = boundary::bytes_in(additional, additional_len, "additional")?;
            drbg.drbg.update(|d| Ok(d.reseed(entropy, additional)?))
        }
    })
}

/// Fills all `buf_len` bytes of `buf` (at most `KEYPROV_DRBG_MAX_REQUEST_LEN`) in one request,
/// with optional `additional` input. Fails with `KEYPROV_RESEED_REQUIRED` once the reseed
/// interval is used up; a failure leaves the state and `buf` unchanged.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_drbg_generate(
    drbg: *mut keyprov_drbg,
    additional: *const u8,
    additional_len: usize,
    buf: *mut u8,
    buf_len: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live generator used by no one else during the call,
        // `additional` valid for its length, and `buf` valid for `buf_len` writable bytes that
        // do not overlap the other arguments.
        unsafe {
            let drbg = boundary::object_mut(drbg, "drbg")?;
            let additional = boundary::bytes_in(additional, additional_len, "additional")?;
            let out = boundary::bytes_out(buf, buf_len, "buf")?;
            drbg.drbg.update(|d| Ok(d.generate(out, additional)?))
        }
    })
}

/// Sets how many generate requests are allowed between reseeds, 1 to 2^48 (the default is
/// 2^24).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_drbg_set_reseed_interval(
    drbg: *mut keyprov_drbg,
    requests: u64,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live generator used by no one else during the call.
        let drbg = unsafe { boundary::object_mut(drbg, "drbg") }?;
        drbg.drbg.update(|d| Ok(d.set_reseed_interval(requests)?))
    })
}

/// Writes how many generate requests are still allowed before a reseed is required.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_drbg_requests_before_reseed(
    drbg: *const keyprov_drbg,
    requests_out: *mut u64,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live generator and `requests_out` NULL or writable.
        unsafe {
            let drbg = boundary::object(drbg, "drbg")?.drbg.get()?;
            boundary::value_out(drbg.requests_before_reseed(), requests_out, "requests_out")
        }
    })
}

/// A `keyprov_rng_callback` drawing from the `keyprov_drbg` passed as `userdata`, in requests
/// of at most `KEYPROV_DRBG_MAX_REQUEST_LEN` bytes. It returns the generator's failure code
/// (for example `KEYPROV_RESEED_REQUIRED`) when it cannot serve.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_drbg_rng_callback(
    userdata: *mut c_void,
    out: *mut u8,
    len: usize,
) -> keyprov_result {
    let mut written = 0;
    while written < len {
        let chunk = (len - written).min(KEYPROV_DRBG_MAX_REQUEST_LEN);
        // SAFETY: `userdata` is the generator the host registered with this callback, and
        // `out` holds `len` writable bytes, of which this chunk is a part.
        let result = unsafe {
            keyprov_drbg_generate(
                userdata.cast(),
                core::ptr::null(),
                0,
                out.add(written),
                chunk,
            )
        };
        if result != KEYPROV_OK {
            return result;
        }
        written += chunk;
    }
    KEYPROV_OK
}

/// Zeroizes and releases a generator; NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_drbg_free(drbg: *mut keyprov_drbg) {
    // SAFETY: the caller passes NULL or a generator from `keyprov_drbg_new`, freed only once;
    // dropping `HmacDrbg` zeroizes its state.
    unsafe { boundary::free(drbg) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drbg;

    #[test]
    fn constants_match_the_rust_api() {
        assert_eq!(KEYPROV_DRBG_MIN_ENTROPY_LEN, drbg::MIN_ENTROPY_LEN);
        assert_eq!(KEYPROV_DRBG_MAX_INPUT_LEN, drbg::MAX_INPUT_LEN);
        assert_eq!(KEYPROV_DRBG_MAX_REQUEST_LEN, drbg::MAX_REQUEST_LEN);
    }
}
