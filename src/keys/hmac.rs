//! HMAC-SHA-256 (RFC 2104) with the key's inner and outer blocks compressed once, up front.
//!
//! An [`HmacKey`] stores the two SHA-256 chaining values reached after the `key ^ ipad` and
//! `key ^ opad` blocks. A MAC over `n` message bytes then costs `(n + 9).div_ceil(64)`
//! compressions for the inner hash plus one for the outer hash: two for `n <= 55`.

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::sha256::{self, BLOCK_LEN, ChainingValue, DIGEST_LEN, PADDING_MIN, Sha256Stream};
use crate::Error;

/// Length in bytes of an HMAC-SHA-256 tag.
pub const TAG_LEN: usize = DIGEST_LEN;
/// Length in bytes of the serialized keyed state of an [`HmacKey`].
pub const KEYED_STATE_LEN: usize = 64;

/// Longest message that fits the one block after the inner key block: two compressions.
const SHORT_MESSAGE_MAX: usize = BLOCK_LEN - PADDING_MIN;

const IPAD: u8 = 0x36;
const OPAD: u8 = 0x5c;

/// An HMAC-SHA-256 key in precomputed form: the inner and outer chaining values.
///
/// Holds 64 bytes, zeroized on drop; `Debug` is redacted. The keyed state is as secret as the
/// key itself: anyone holding it can compute every MAC under the key.
#[derive(Clone)]
pub struct HmacKey {
    inner: ChainingValue,
    outer: ChainingValue,
}

impl Zeroize for HmacKey {
    fn zeroize(&mut self) {
        sha256::wipe(&mut self.inner, [0; 8]);
        sha256::wipe(&mut self.outer, [0; 8]);
    }
}

impl Drop for HmacKey {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for HmacKey {}

impl HmacKey {
    /// Precomputes the keyed state of `key` (any length; keys longer than 64 bytes are hashed
    /// first, as RFC 2104 says). Costs two compressions, plus the hash of a long key.
    pub fn new(key: &[u8]) -> Self {
        let mut block = Zeroizing::new([0u8; BLOCK_LEN]);
        if key.len() > BLOCK_LEN {
            block[..DIGEST_LEN].copy_from_slice(&*Zeroizing::new(sha256::sha256(key)));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        Self {
            inner: padded_state(&block, IPAD),
            outer: padded_state(&block, OPAD),
        }
    }

    /// HMAC-SHA-256 of `message`.
    pub fn mac(&self, message: &[u8]) -> [u8; TAG_LEN] {
        self.mac_parts(&[message])
    }

    /// HMAC-SHA-256 of the concatenation of `parts`, without copying them together.
    #[inline]
    pub fn mac_parts(&self, parts: &[&[u8]]) -> [u8; TAG_LEN] {
        let len: usize = parts.iter().map(|part| part.len()).sum();
        if len <= SHORT_MESSAGE_MAX {
            return self.mac_short(parts, len);
        }
        let mut stream = self.start();
        for part in parts {
            stream.update(part);
        }
        stream.finish()
    }

    /// The MAC of a message of at most [`SHORT_MESSAGE_MAX`] bytes, built in one block on the
    /// stack: exactly two compressions and no streaming buffers to fill and wipe.
    #[inline]
    fn mac_short(&self, parts: &[&[u8]], len: usize) -> [u8; TAG_LEN] {
        let mut block = [0u8; BLOCK_LEN];
        let mut at = 0;
        for part in parts {
            block[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        sha256::pad_final_block(&mut block, len, (BLOCK_LEN + len) as u64);
        let mut inner = self.inner;
        sha256::compress(&mut inner, &block);
        sha256::wipe(&mut block, [0; BLOCK_LEN]);
        outer_hash(&self.outer, inner)
    }

    /// Starts a MAC whose message is fed piece by piece.
    pub(crate) fn start(&self) -> HmacStream {
        HmacStream {
            inner: Sha256Stream::resume(self.inner, 1),
            outer: Zeroizing::new(self.outer),
        }
    }

    /// Checks in constant time that `tag` is the full 32-byte MAC of `message`.
    pub fn verify(&self, message: &[u8], tag: &[u8]) -> Result<(), Error> {
        verify_tag(&self.mac(message), tag)
    }

    /// The keyed state as 64 bytes (inner then outer chaining value, big-endian words), for a
    /// cache. As secret as the key; the copy returned is zeroized when dropped.
    pub fn expose_secret_state(&self) -> Zeroizing<[u8; KEYED_STATE_LEN]> {
        let mut out = Zeroizing::new([0u8; KEYED_STATE_LEN]);
        let words = self.inner.iter().chain(&self.outer);
        for (chunk, word) in out.chunks_exact_mut(4).zip(words) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    /// Restores a keyed state made by [`HmacKey::expose_secret_state`].
    pub fn from_secret_state(state: &[u8]) -> Result<Self, Error> {
        if state.len() != KEYED_STATE_LEN {
            return Err(Error::WrongLength {
                field: "hmac keyed state",
                expected: KEYED_STATE_LEN,
                actual: state.len(),
            });
        }
        let (inner, outer) = state.split_at(KEYED_STATE_LEN / 2);
        Ok(Self {
            inner: chaining_value(inner),
            outer: chaining_value(outer),
        })
    }
}

impl core::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("HmacKey([redacted])")
    }
}

/// A MAC in progress: the inner hash running, the outer chaining value waiting.
pub(crate) struct HmacStream {
    inner: Sha256Stream,
    outer: Zeroizing<ChainingValue>,
}

impl HmacStream {
    /// Absorbs the next piece of the message.
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    /// Finishes the inner hash and runs the outer one.
    pub(crate) fn finish(self) -> [u8; TAG_LEN] {
        outer_hash(&self.outer, self.inner.finish_state())
    }
}

/// `SHA-256(key ^ opad || inner hash)`, resumed from the outer chaining value: one compression.
/// Wipes the inner hash, which is as secret as the MAC.
fn outer_hash(outer: &ChainingValue, mut inner: ChainingValue) -> [u8; TAG_LEN] {
    let mut block = [0u8; BLOCK_LEN];
    for (chunk, word) in block[..DIGEST_LEN].chunks_exact_mut(4).zip(&inner) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    sha256::pad_final_block(&mut block, DIGEST_LEN, (BLOCK_LEN + DIGEST_LEN) as u64);
    let mut state = *outer;
    sha256::compress(&mut state, &block);
    let tag = sha256::state_bytes(&state);
    sha256::wipe(&mut block, [0; BLOCK_LEN]);
    sha256::wipe(&mut inner, [0; 8]);
    sha256::wipe(&mut state, [0; 8]);
    tag
}

/// Compares a computed tag with a received one in constant time.
pub(crate) fn verify_tag(expected: &[u8; TAG_LEN], received: &[u8]) -> Result<(), Error> {
    if received.len() != TAG_LEN {
        return Err(Error::WrongLength {
            field: "mac tag",
            expected: TAG_LEN,
            actual: received.len(),
        });
    }
    if bool::from(tags_equal(expected, received)) {
        Ok(())
    } else {
        Err(Error::WrongProof)
    }
}

/// Compares two tags in constant time: the differences of all four 64-bit words are gathered
/// without a branch and only their union is tested, through `subtle`. Byte by byte through
/// `subtle` costs a quarter of a five-compression MAC; this costs a few instructions.
fn tags_equal(expected: &[u8; TAG_LEN], received: &[u8]) -> subtle::Choice {
    let difference = expected
        .chunks_exact(8)
        .zip(received.chunks_exact(8))
        .fold(0u64, |acc, (a, b)| acc | (word(a) ^ word(b)));
    difference.ct_eq(&0)
}

/// Eight bytes as a native-endian word (the order does not matter for an equality test).
fn word(bytes: &[u8]) -> u64 {
    let mut out = [0u8; 8];
    out.copy_from_slice(bytes);
    u64::from_ne_bytes(out)
}

/// Eight big-endian words from 32 bytes, indexed directly so the loop unrolls.
fn chaining_value(bytes: &[u8]) -> ChainingValue {
    core::array::from_fn(|i| {
        u32::from_be_bytes([
            bytes[4 * i],
            bytes[4 * i + 1],
            bytes[4 * i + 2],
            bytes[4 * i + 3],
        ])
    })
}

/// The chaining value after one block of `key ^ pad`.
fn padded_state(key_block: &[u8; BLOCK_LEN], pad: u8) -> ChainingValue {
    let mut block = Zeroizing::new([0u8; BLOCK_LEN]);
    for (out, byte) in block.iter_mut().zip(key_block) {
        *out = byte ^ pad;
    }
    let mut state = sha256::INITIAL_STATE;
    sha256::compress(&mut state, &block);
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::sha256::counter::count;

    #[test]
    fn short_message_costs_two_compressions() {
        let key = HmacKey::new(b"key");
        for len in [0, 1, 32, 55] {
            let (_, n) = count(|| key.mac(&[7u8; 55][..len]));
            assert_eq!(n, 2, "message of {len} bytes");
        }
        let (_, n) = count(|| key.mac(&[7u8; 56]));
        assert_eq!(n, 3);
    }

    #[test]
    fn two_hundred_bytes_cost_five_compressions() {
        let key = HmacKey::new(&[1; 32]);
        let (_, n) = count(|| key.mac(&[9u8; 200]));
        assert_eq!(n, 5);
    }

    #[test]
    fn keyed_state_round_trips() {
        let key = HmacKey::new(b"round trip");
        let restored = HmacKey::from_secret_state(&key.expose_secret_state()[..]).unwrap();
        assert_eq!(restored.mac(b"m"), key.mac(b"m"));
        let err = HmacKey::from_secret_state(&[0; 63]).unwrap_err();
        assert_eq!(
            err,
            Error::WrongLength {
                field: "hmac keyed state",
                expected: 64,
                actual: 63
            }
        );
    }

    #[test]
    fn verify_refuses_wrong_and_short_tags() {
        let key = HmacKey::new(b"k");
        let mut tag = key.mac(b"m");
        assert_eq!(key.verify(b"m", &tag), Ok(()));
        assert!(matches!(
            key.verify(b"m", &tag[..16]),
            Err(Error::WrongLength { .. })
        ));
        tag[31] ^= 1;
        assert_eq!(key.verify(b"m", &tag), Err(Error::WrongProof));
        assert_eq!(format!("{key:?}"), "HmacKey([redacted])");
    }

    #[test]
    fn agrees_with_the_hmac_crate_around_the_short_message_limit() {
        use ::hmac::{KeyInit, Mac};
        let message: alloc::vec::Vec<u8> = (0..130u8).map(|i| i.wrapping_mul(37)).collect();
        let key = HmacKey::new(b"boundary key");
        for len in 0..message.len() {
            let mut reference =
                ::hmac::Hmac::<sha2::Sha256>::new_from_slice(b"boundary key").unwrap();
            reference.update(&message[..len]);
            let expected: [u8; TAG_LEN] = reference.finalize().into_bytes().into();
            assert_eq!(key.mac(&message[..len]), expected, "length {len}");
            let (head, tail) = message[..len].split_at(len / 3);
            assert_eq!(
                key.mac_parts(&[head, &[], tail]),
                expected,
                "parts of length {len}"
            );
        }
    }

    #[test]
    fn a_tag_differing_in_any_byte_is_refused() {
        let key = HmacKey::new(b"k");
        let tag = key.mac(b"m");
        for index in 0..TAG_LEN {
            for bit in [0x01, 0x80] {
                let mut wrong = tag;
                wrong[index] ^= bit;
                assert_eq!(
                    key.verify(b"m", &wrong),
                    Err(Error::WrongProof),
                    "byte {index}"
                );
            }
        }
    }
}
