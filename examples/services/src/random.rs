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
