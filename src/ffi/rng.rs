//! Randomness from the host: the callback type, and the adapter that lets Rust code draw from
//! it.

use core::convert::Infallible;
use core::ffi::c_void;
use std::vec::Vec;

use rand_core::{TryCryptoRng, TryRng};
use zeroize::Zeroizing;

use super::boundary::Failure;
use super::result::{KEYPROV_OK, keyprov_result};

/// Fills `out` with `len` bytes from a cryptographically secure source and returns `KEYPROV_OK`,
/// or any other value if it cannot; the call that asked for randomness then fails with
/// `KEYPROV_CALLBACK_FAILED` and changes nothing.
///
/// `userdata` is what the host passed next to the callback. `keyprov_drbg_rng_callback` with a
/// `keyprov_drbg` as `userdata` is a ready-made implementation.
pub type keyprov_rng_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, out: *mut u8, len: usize) -> keyprov_result>;

/// The host's generator as a `rand_core` generator.
///
/// `rand_core::CryptoRng` cannot fail, so a failing callback is remembered, its bytes are
/// replaced by zeros, every later request fails too, and [`HostRng::finish`] reports the
/// failure: callers discard whatever was computed with those bytes.
pub(crate) struct HostRng {
    callback: unsafe extern "C" fn(*mut c_void, *mut u8, usize) -> keyprov_result,
    userdata: *mut c_void,
    failure: Option<keyprov_result>,
    /// Bytes drawn ahead of the call, served before the callback is asked again.
    ready: Zeroizing<Vec<u8>>,
}

impl HostRng {
    /// The adapter for a callback; a NULL callback is refused.
    pub(crate) fn new(
        callback: keyprov_rng_callback,
        userdata: *mut c_void,
    ) -> Result<Self, Failure> {
        let callback = callback.ok_or(Failure::NullPointer { argument: "rng" })?;
        Ok(Self {
            callback,
            userdata,
            failure: None,
            ready: Zeroizing::new(Vec::new()),
        })
    }

    /// The adapter with `len` bytes drawn right away, so that a failing callback is known
    /// before the call that needs the bytes changes anything.
    pub(crate) fn prefetched(
        callback: keyprov_rng_callback,
        userdata: *mut c_void,
        len: usize,
    ) -> Result<Self, Failure> {
        let mut rng = Self::new(callback, userdata)?;
        let mut ready = Zeroizing::new(vec![0u8; len]);
        rng.fill(&mut ready);
        rng.failure.map_or(Ok(()), |code| {
            Err(Failure::Callback {
                name: "rng callback",
                code,
            })
        })?;
        rng.ready = ready;
        Ok(rng)
    }

    /// Whether every request was served by the host.
    pub(crate) fn finish(self) -> Result<(), Failure> {
        match self.failure {
            None => Ok(()),
            Some(code) => Err(Failure::Callback {
                name: "rng callback",
                code,
            }),
        }
    }

    fn fill(&mut self, out: &mut [u8]) {
        let take = out.len().min(self.ready.len());
        out[..take].copy_from_slice(&self.ready[..take]);
        self.ready.drain(..take);
        let out = &mut out[take..];
        if self.failure.is_none() && !out.is_empty() {
            // SAFETY: `out` is a live, writable slice of `out.len()` bytes; the host promised
            // the callback writes at most `len` bytes through `out`.
            let code = unsafe { (self.callback)(self.userdata, out.as_mut_ptr(), out.len()) };
            if code != KEYPROV_OK {
                self.failure = Some(code);
            }
        }
        if self.failure.is_some() {
            out.fill(0);
        }
    }
}

impl TryRng for HostRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut bytes = [0u8; 4];
        self.fill(&mut bytes);
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut bytes = [0u8; 8];
        self.fill(&mut bytes);
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.fill(dst);
        Ok(())
    }
}

impl TryCryptoRng for HostRng {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_failure_is_reported_not_hidden() {
        unsafe extern "C" fn refuse(_: *mut c_void, _: *mut u8, _: usize) -> keyprov_result {
            7
        }
        let mut rng = HostRng::new(Some(refuse), core::ptr::null_mut()).unwrap();
        let mut out = [0xaa; 4];
        rand_core::Rng::fill_bytes(&mut rng, &mut out);
        assert_eq!(out, [0; 4]);
        assert!(matches!(
            rng.finish(),
            Err(Failure::Callback { code: 7, .. })
        ));
    }
}
