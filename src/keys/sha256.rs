//! SHA-256 (FIPS 180-4) driven block by block through `sha2`'s compression function, so that a
//! hash can resume from a stored chaining value: the basis of the precomputed HMAC states.

use sha2::block_api::compress256;
use zeroize::ZeroizeOnDrop;

/// SHA-256 block length in bytes.
pub(crate) const BLOCK_LEN: usize = 64;
/// SHA-256 digest length in bytes.
pub(crate) const DIGEST_LEN: usize = 32;
/// Bytes the final block needs after the message: the `0x80` byte and the 64-bit bit length.
pub(crate) const PADDING_MIN: usize = 9;

/// The eight 32-bit words of SHA-256 state between two blocks.
pub(crate) type ChainingValue = [u32; 8];

/// SHA-256 initial hash value (FIPS 180-4 section 5.3.3).
pub(crate) const INITIAL_STATE: ChainingValue = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// Runs the compression function over one block.
pub(crate) fn compress(state: &mut ChainingValue, block: &[u8; BLOCK_LEN]) {
    #[cfg(all(test, feature = "std"))]
    counter::bump();
    compress256(state, core::slice::from_ref(block));
}

/// A SHA-256 computation in progress, possibly resumed from a stored chaining value.
/// Wiped when dropped.
pub(crate) struct Sha256Stream {
    state: ChainingValue,
    buffer: [u8; BLOCK_LEN],
    buffered: usize,
    /// Bytes hashed so far, including the blocks behind a resumed chaining value.
    length: u64,
}

impl Sha256Stream {
    /// A fresh SHA-256 computation.
    pub(crate) fn new() -> Self {
        Self::resume(INITIAL_STATE, 0)
    }

    /// Continues from `state`, reached after `blocks` whole blocks.
    pub(crate) fn resume(state: ChainingValue, blocks: u64) -> Self {
        let length = blocks * BLOCK_LEN as u64;
        Self {
            state,
            buffer: [0; BLOCK_LEN],
            buffered: 0,
            length,
        }
    }

    /// Absorbs `data`.
    pub(crate) fn update(&mut self, mut data: &[u8]) {
        self.length += data.len() as u64;
        if self.buffered > 0 {
            let take = data.len().min(BLOCK_LEN - self.buffered);
            self.buffer[self.buffered..self.buffered + take].copy_from_slice(&data[..take]);
            self.buffered += take;
            data = &data[take..];
            if self.buffered < BLOCK_LEN {
                return;
            }
            compress(&mut self.state, &self.buffer);
            self.buffered = 0;
        }
        while let Some((block, rest)) = data.split_first_chunk::<BLOCK_LEN>() {
            compress(&mut self.state, block);
            data = rest;
        }
        self.buffer[..data.len()].copy_from_slice(data);
        self.buffered = data.len();
    }

    /// Pads, runs the last compression(s) and returns the digest.
    pub(crate) fn finish(self) -> [u8; DIGEST_LEN] {
        let mut state = self.finish_state();
        let digest = state_bytes(&state);
        wipe(&mut state, [0; 8]);
        digest
    }

    /// Pads, runs the last compression(s) and returns the final chaining value.
    pub(crate) fn finish_state(mut self) -> ChainingValue {
        let bit_length = self.length.wrapping_mul(8);
        self.buffer[self.buffered] = 0x80;
        self.buffer[self.buffered + 1..].fill(0);
        if self.buffered + PADDING_MIN > BLOCK_LEN {
            compress(&mut self.state, &self.buffer);
            self.buffer.fill(0);
        }
        self.buffer[BLOCK_LEN - 8..].copy_from_slice(&bit_length.to_be_bytes());
        compress(&mut self.state, &self.buffer);
        self.state
    }
}

impl Drop for Sha256Stream {
    /// Plain stores kept by an optimization barrier rather than one volatile store per byte:
    /// this runs twice per MAC, where 74 volatile stores cost about half a compression.
    fn drop(&mut self) {
        wipe(&mut self.state, [0; 8]);
        wipe(&mut self.buffer, [0; BLOCK_LEN]);
        self.buffered = 0;
        self.length = 0;
    }
}

impl ZeroizeOnDrop for Sha256Stream {}

/// SHA-256 of `data`.
pub(crate) fn sha256(data: &[u8]) -> [u8; DIGEST_LEN] {
    let mut stream = Sha256Stream::new();
    stream.update(data);
    stream.finish()
}

/// Pads the final block in place: `used` message bytes are in `block[..used]` (at most
/// `BLOCK_LEN - PADDING_MIN`), and the whole message has `total_len` bytes.
pub(crate) fn pad_final_block(block: &mut [u8; BLOCK_LEN], used: usize, total_len: u64) {
    block[used] = 0x80;
    block[used + 1..BLOCK_LEN - 8].fill(0);
    block[BLOCK_LEN - 8..].copy_from_slice(&total_len.wrapping_mul(8).to_be_bytes());
}

/// Overwrites `value` with `zero`. Plain stores kept by an optimization barrier: as sure as one
/// volatile store per byte, and cheap enough to run after every compression of secret data.
pub(crate) fn wipe<T>(value: &mut T, zero: T) {
    *value = zero;
    zeroize::optimization_barrier(value);
}

/// The chaining value as digest bytes (big-endian words).
pub(crate) fn state_bytes(state: &ChainingValue) -> [u8; DIGEST_LEN] {
    let mut out = [0; DIGEST_LEN];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// Counts compressions on the current thread, so unit tests can check the cost claims.
#[cfg(all(test, feature = "std"))]
pub(crate) mod counter {
    use std::cell::Cell;

    std::thread_local!(static COMPRESSIONS: Cell<usize> = const { Cell::new(0) });

    pub(super) fn bump() {
        COMPRESSIONS.with(|c| c.set(c.get() + 1));
    }

    /// Runs `f` and returns how many compressions it made.
    pub(crate) fn count<T>(f: impl FnOnce() -> T) -> (T, usize) {
        let before = COMPRESSIONS.with(Cell::get);
        let value = f();
        (value, COMPRESSIONS.with(Cell::get) - before)
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    #[test]
    fn agrees_with_sha2_at_every_padding_boundary() {
        let data: Vec<u8> = (0..300u16).map(|i| (i * 7) as u8).collect();
        for len in 0..data.len() {
            assert_eq!(
                sha256(&data[..len]),
                Sha256::digest(&data[..len])[..],
                "length {len}"
            );
        }
    }

    #[test]
    fn split_updates_give_the_same_digest() {
        let data = [0x5a_u8; 200];
        for split in [0, 1, 55, 63, 64, 65, 130, 200] {
            let mut stream = Sha256Stream::new();
            stream.update(&data[..split]);
            stream.update(&data[split..]);
            assert_eq!(stream.finish(), sha256(&data), "split at {split}");
        }
    }
}
