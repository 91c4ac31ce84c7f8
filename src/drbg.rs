//! HMAC_DRBG with SHA-256 (NIST SP 800-90A Rev. 1, section 10.1.2), without prediction
//! resistance.
//!
//! The host supplies all entropy: this crate reads no system source. [`HmacDrbg`] implements
//! `rand_core`'s [`TryRng`] and [`TryCryptoRng`] with [`Error`] as its error, so it can be passed
//! wherever keyprov asks for randomness; [`Error::ReseedRequired`] tells the host to call
//! [`HmacDrbg::reseed`] with fresh entropy. A function that takes an infallible
//! `rand_core::CryptoRng` needs `rand_core::UnwrapErr(&mut drbg)`, which panics instead of
//! returning that error: check [`HmacDrbg::requests_before_reseed`] and reseed before handing
//! the generator over.
//!
//! Limits (SP 800-90A table 2 allows more; these are this implementation's tighter choices):
//!
//! | input | limit |
//! |---|---|
//! | entropy input | [`MIN_ENTROPY_LEN`] (the security strength) to [`MAX_INPUT_LEN`] bytes |
//! | nonce, personalization string, additional input | at most [`MAX_INPUT_LEN`] bytes |
//! | one request | at most [`MAX_REQUEST_LEN`] bytes (2^19 bits, the SP 800-90A maximum) |
//! | requests between reseeds | [`DEFAULT_RESEED_INTERVAL`], at most [`MAX_RESEED_INTERVAL`] |
//!
//! The nonce may be empty when the entropy input carries the nonce's entropy too (SP 800-90A
//! section 8.6.7); [`crate::secret::MasterKey`] generation relies on this.

use rand_core::{TryCryptoRng, TryRng};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::Error;
use crate::keys::HmacKey;

/// Security strength in bytes (256 bits, the most SHA-256 gives).
pub const SECURITY_STRENGTH_LEN: usize = 32;
/// Fewest bytes of entropy input accepted by instantiate and reseed: the security strength.
pub const MIN_ENTROPY_LEN: usize = SECURITY_STRENGTH_LEN;
/// Most bytes accepted for entropy input, nonce, personalization string and additional input.
pub const MAX_INPUT_LEN: usize = 1 << 16;
/// Most bytes one generate request may return: 2^19 bits.
pub const MAX_REQUEST_LEN: usize = 1 << 16;
/// Largest reseed interval SP 800-90A allows for HMAC_DRBG: 2^48 requests.
pub const MAX_RESEED_INTERVAL: u64 = 1 << 48;
/// Requests allowed between reseeds unless [`HmacDrbg::set_reseed_interval`] says otherwise:
/// 2^24, far below the SP 800-90A maximum so that one state never produces an unbounded amount
/// of output, yet rare enough that a host reseeds only every few million requests.
pub const DEFAULT_RESEED_INTERVAL: u64 = 1 << 24;

const OUT_LEN: usize = 32;

/// An HMAC_DRBG (SHA-256) instance. Its state is zeroized on drop and never printed.
///
/// [`Zeroize::zeroize`] uninstantiates it (SP 800-90A section 9.4): from then on generate and
/// reseed fail with [`Error::InvalidState`], since the all-zero state is public.
#[derive(ZeroizeOnDrop)]
pub struct HmacDrbg {
    key: [u8; OUT_LEN],
    value: [u8; OUT_LEN],
    reseed_counter: u64,
    reseed_interval: u64,
}

impl HmacDrbg {
    /// Instantiates the generator (SP 800-90A section 10.1.2.3).
    ///
    /// `entropy` needs at least [`MIN_ENTROPY_LEN`] bytes; every input at most
    /// [`MAX_INPUT_LEN`].
    pub fn new(entropy: &[u8], nonce: &[u8], personalization: &[u8]) -> Result<Self, Error> {
        check_entropy(entropy)?;
        check_max("nonce", nonce)?;
        check_max("personalization string", personalization)?;
        let mut drbg = Self {
            key: [0x00; OUT_LEN],
            value: [0x01; OUT_LEN],
            reseed_counter: 1,
            reseed_interval: DEFAULT_RESEED_INTERVAL,
        };
        drbg.update(&[entropy, nonce, personalization]);
        Ok(drbg)
    }

    /// Mixes in fresh entropy and restarts the reseed counter (section 10.1.2.4).
    pub fn reseed(&mut self, entropy: &[u8], additional_input: &[u8]) -> Result<(), Error> {
        self.check_instantiated("reseed")?;
        check_entropy(entropy)?;
        check_max("additional input", additional_input)?;
        self.update(&[entropy, additional_input]);
        self.reseed_counter = 1;
        Ok(())
    }

    /// Fills `out` with pseudorandom bytes (section 10.1.2.5): one request of at most
    /// [`MAX_REQUEST_LEN`] bytes.
    ///
    /// Fails with [`Error::ReseedRequired`] once the reseed interval is used up; the state is
    /// unchanged by any failure.
    pub fn generate(&mut self, out: &mut [u8], additional_input: &[u8]) -> Result<(), Error> {
        if out.len() > MAX_REQUEST_LEN {
            let actual = out.len();
            return Err(Error::TooLong {
                field: "requested bytes",
                max: MAX_REQUEST_LEN,
                actual,
            });
        }
        check_max("additional input", additional_input)?;
        self.check_requests_left(1)?;
        if !additional_input.is_empty() {
            self.update(&[additional_input]);
        }
        self.fill(out);
        self.update(&[additional_input]);
        self.reseed_counter += 1;
        Ok(())
    }

    /// Sets how many generate requests are allowed between reseeds, 1 to
    /// [`MAX_RESEED_INTERVAL`].
    pub fn set_reseed_interval(&mut self, requests: u64) -> Result<(), Error> {
        if !(1..=MAX_RESEED_INTERVAL).contains(&requests) {
            return Err(Error::OutOfRange {
                field: "reseed interval",
                min: 1,
                max: MAX_RESEED_INTERVAL,
            });
        }
        self.reseed_interval = requests;
        Ok(())
    }

    /// Generate requests still allowed before a reseed is required (0 once zeroized).
    pub fn requests_before_reseed(&self) -> u64 {
        if self.reseed_counter == 0 {
            return 0;
        }
        (self.reseed_interval + 1).saturating_sub(self.reseed_counter)
    }

    /// Fails once the state was zeroized.
    fn check_instantiated(&self, call: &'static str) -> Result<(), Error> {
        if self.reseed_counter == 0 {
            return Err(Error::InvalidState {
                call,
                state: "zeroized",
            });
        }
        Ok(())
    }

    /// Fails unless `requests` more generate requests fit in the reseed interval.
    fn check_requests_left(&self, requests: u64) -> Result<(), Error> {
        self.check_instantiated("generate")?;
        if requests > self.requests_before_reseed() {
            return Err(Error::ReseedRequired);
        }
        Ok(())
    }

    /// The output loop of generate: `V = HMAC(K, V)`, appended until `out` is full.
    fn fill(&mut self, out: &mut [u8]) {
        let key = HmacKey::new(&self.key);
        for chunk in out.chunks_mut(OUT_LEN) {
            self.value = key.mac(&self.value);
            chunk.copy_from_slice(&self.value[..chunk.len()]);
        }
    }

    /// HMAC_DRBG_Update (section 10.1.2.2); `provided` is the concatenation of its parts.
    fn update(&mut self, provided: &[&[u8]]) {
        self.update_round(0x00, provided);
        if provided.iter().any(|part| !part.is_empty()) {
            self.update_round(0x01, provided);
        }
    }

    /// `K = HMAC(K, V || round || provided)`, then `V = HMAC(K, V)`.
    fn update_round(&mut self, round: u8, provided: &[&[u8]]) {
        let mut stream = HmacKey::new(&self.key).start();
        stream.update(&self.value);
        stream.update(&[round]);
        for part in provided {
            stream.update(part);
        }
        self.key = stream.finish();
        self.value = HmacKey::new(&self.key).mac(&self.value);
    }
}

impl Zeroize for HmacDrbg {
    fn zeroize(&mut self) {
        self.key.zeroize();
        self.value.zeroize();
        // A reseed counter of 0 never occurs in an instantiated state: it marks the wipe.
        self.reseed_counter = 0;
    }
}

impl core::fmt::Debug for HmacDrbg {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HmacDrbg")
            .field("state", &"[redacted]")
            .field("reseed_counter", &self.reseed_counter)
            .field("reseed_interval", &self.reseed_interval)
            .finish()
    }
}

impl TryRng for HmacDrbg {
    type Error = Error;

    fn try_next_u32(&mut self) -> Result<u32, Error> {
        let mut bytes = Zeroizing::new([0u8; 4]);
        self.generate(&mut bytes[..], &[])?;
        Ok(u32::from_le_bytes(*bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, Error> {
        let mut bytes = Zeroizing::new([0u8; 8]);
        self.generate(&mut bytes[..], &[])?;
        Ok(u64::from_le_bytes(*bytes))
    }

    /// One generate request per [`MAX_REQUEST_LEN`] bytes; fails before writing anything when
    /// the reseed interval cannot cover all of them.
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Error> {
        let requests = dst.len().div_ceil(MAX_REQUEST_LEN).max(1);
        self.check_requests_left(requests as u64)?;
        if dst.is_empty() {
            return self.generate(dst, &[]);
        }
        dst.chunks_mut(MAX_REQUEST_LEN)
            .try_for_each(|chunk| self.generate(chunk, &[]))
    }
}

impl TryCryptoRng for HmacDrbg {}

/// Entropy input must carry the full security strength.
fn check_entropy(entropy: &[u8]) -> Result<(), Error> {
    if entropy.len() < MIN_ENTROPY_LEN {
        let actual = entropy.len();
        return Err(Error::TooShort {
            field: "entropy input",
            min: MIN_ENTROPY_LEN,
            actual,
        });
    }
    check_max("entropy input", entropy)
}

fn check_max(field: &'static str, input: &[u8]) -> Result<(), Error> {
    if input.len() > MAX_INPUT_LEN {
        return Err(Error::TooLong {
            field,
            max: MAX_INPUT_LEN,
            actual: input.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drbg() -> HmacDrbg {
        HmacDrbg::new(&[7; 32], &[1; 16], b"unit test").unwrap()
    }

    #[test]
    fn limits_name_field_and_limit() {
        let short = HmacDrbg::new(&[0; 31], &[], &[]).unwrap_err();
        assert_eq!(
            short,
            Error::TooShort {
                field: "entropy input",
                min: 32,
                actual: 31
            }
        );
        let big = vec![0u8; MAX_INPUT_LEN + 1];
        assert!(matches!(
            HmacDrbg::new(&[0; 32], &big, &[]),
            Err(Error::TooLong {
                field: "nonce",
                max: 65536,
                actual: 65537
            })
        ));
        let mut out = vec![0u8; MAX_REQUEST_LEN + 1];
        let err = drbg().generate(&mut out, &[]).unwrap_err();
        assert_eq!(
            err,
            Error::TooLong {
                field: "requested bytes",
                max: 65536,
                actual: 65537
            }
        );
        let err = drbg().generate(&mut out[..1], &big).unwrap_err();
        assert!(matches!(
            err,
            Error::TooLong {
                field: "additional input",
                ..
            }
        ));
    }

    #[test]
    fn failed_calls_leave_state_unchanged() {
        let (mut a, mut b) = (drbg(), drbg());
        assert!(a.reseed(&[0; 8], &[]).is_err());
        assert!(a.generate(&mut [0; MAX_REQUEST_LEN + 1], &[]).is_err());
        let (mut x, mut y) = ([0u8; 40], [0u8; 40]);
        a.generate(&mut x, &[]).unwrap();
        b.generate(&mut y, &[]).unwrap();
        assert_eq!(x, y);
    }

    #[test]
    fn reseed_interval_is_enforced_and_reset_by_reseed() {
        let mut drbg = drbg();
        drbg.set_reseed_interval(2).unwrap();
        let mut out = [0u8; 8];
        drbg.generate(&mut out, &[]).unwrap();
        drbg.generate(&mut out, &[]).unwrap();
        assert_eq!(drbg.generate(&mut out, &[]), Err(Error::ReseedRequired));
        assert_eq!(drbg.try_next_u32(), Err(Error::ReseedRequired));
        drbg.reseed(&[9; 32], b"more").unwrap();
        assert_eq!(drbg.requests_before_reseed(), 2);
        drbg.generate(&mut out, &[]).unwrap();
        let err = drbg.set_reseed_interval(0).unwrap_err();
        assert_eq!(
            err,
            Error::OutOfRange {
                field: "reseed interval",
                min: 1,
                max: 1 << 48
            }
        );
    }

    #[test]
    fn fill_bytes_checks_all_requests_first() {
        let mut drbg = drbg();
        drbg.set_reseed_interval(2).unwrap();
        let mut big = vec![0u8; 2 * MAX_REQUEST_LEN + 1];
        assert_eq!(drbg.try_fill_bytes(&mut big), Err(Error::ReseedRequired));
        assert!(big.iter().all(|&b| b == 0));
        assert_eq!(drbg.requests_before_reseed(), 2);
        assert_eq!(drbg.try_fill_bytes(&mut big[..MAX_REQUEST_LEN + 1]), Ok(()));
        assert_eq!(drbg.requests_before_reseed(), 0);
    }

    #[test]
    fn debug_shows_no_state() {
        let shown = format!("{:?}", drbg());
        assert!(shown.contains("[redacted]"), "{shown}");
        assert!(shown.contains("reseed_counter: 1"), "{shown}");
    }
}
