//! Randomness from the operating system, for seeds, nonces and key material.

use anyhow::{Result, anyhow};
use ring::rand::{SecureRandom, SystemRandom};

/// Fills `out` with random bytes from the operating system.
pub fn fill(out: &mut [u8]) -> Result<()> {
    SystemRandom::new()
        .fill(out)
        .map_err(|_| anyhow!("operating system random source failed"))
}

/// Random bytes as an array.
pub fn array<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    fill(&mut out)?;
    Ok(out)
}

/// The operating system's random source as a `rand_core` generator, for keyprov calls that
/// take one (Digest nonces and client nonces).
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRng;

impl rand_core::TryRng for OsRng {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(u32::from_le_bytes(os_bytes()))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(u64::from_le_bytes(os_bytes()))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        // A failing operating system random source leaves nothing safe to do but stop.
        fill(dst).expect("operating system random source failed");
        Ok(())
    }
}

impl rand_core::TryCryptoRng for OsRng {}

fn os_bytes<const N: usize>() -> [u8; N] {
    array::<N>().expect("operating system random source failed")
}
