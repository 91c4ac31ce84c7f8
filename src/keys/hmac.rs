//! HMAC-SHA-256 (RFC 2104) with the key's inner and outer blocks compressed once, up front.
//!
//! An [`HmacKey`] stores the two SHA-256 chaining values reached after the `key ^ ipad` and
//! `key ^ opad` blocks. A MAC over `n` message bytes then costs `(n + 9).div_ceil(64)`
//! compressions for the inner hash plus one for the outer hash: two for `n <= 55`.

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::sha256::{self, BLOCK_LEN, ChainingValue, DIGEST_LEN, Sha256Stream};
use crate::Error;

/// Length in bytes of an HMAC-SHA-256 tag.
pub const TAG_LEN: usize = DIGEST_LEN;
/// Length in bytes of the serialized keyed state of an [`HmacKey`].
pub const KEYED_STATE_LEN: usize = 64;

const IPAD: u8 = 0x36;
const OPAD: u8 = 0x5c;

/// An HMAC-SHA-256 key in precomputed form: the inner and outer chaining values.
///
/// Holds 64 bytes, zeroized on drop; `Debug` is redacted. The keyed state is as secret as the
/// key itself: anyone holding it can compute every MAC under the key.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct HmacKey {
    inner: ChainingValue,
    outer: ChainingValue,
}

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
    pub fn mac_parts(&self, parts: &[&[u8]]) -> [u8; TAG_LEN] {
        let mut stream = self.start();
        for part in parts {
            stream.update(part);
        }
        stream.finish()
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
        let mut key = Self {
            inner: [0; 8],
            outer: [0; 8],
        };
        let words = key.inner.iter_mut().chain(key.outer.iter_mut());
        for (word, chunk) in words.zip(state.chunks_exact(4)) {
            *word = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        Ok(key)
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
        let inner_hash = Zeroizing::new(self.inner.finish());
        let mut outer = Sha256Stream::resume(*self.outer, 1);
        outer.update(&*inner_hash);
        outer.finish()
    }
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
    if bool::from(expected[..].ct_eq(received)) {
        Ok(())
    } else {
        Err(Error::WrongProof)
    }
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
}
