//! HKDF-SHA-256 (RFC 5869) on top of [`HmacKey`].

use zeroize::Zeroizing;

use super::hmac::{HmacKey, TAG_LEN};
use crate::Error;
use crate::secret::PseudorandomKey;

/// Most bytes one expand may produce: 255 blocks of 32 bytes (RFC 5869 section 2.3).
pub const HKDF_MAX_OUTPUT_LEN: usize = 255 * TAG_LEN;

/// HKDF-Extract: `PRK = HMAC-SHA-256(salt, ikm)`. An empty salt stands for 32 zero bytes, which
/// gives the same HMAC key.
pub fn hkdf_extract(salt: &[u8], ikm: &[u8]) -> PseudorandomKey {
    PseudorandomKey::from_array(HmacKey::new(salt).mac(ikm))
}

/// HKDF-Expand: fills `okm` from `prk` and `info`; `okm` may hold at most
/// [`HKDF_MAX_OUTPUT_LEN`] bytes.
pub fn hkdf_expand(prk: &PseudorandomKey, info: &[u8], okm: &mut [u8]) -> Result<(), Error> {
    if okm.len() > HKDF_MAX_OUTPUT_LEN {
        return Err(Error::TooLong {
            field: "hkdf output",
            max: HKDF_MAX_OUTPUT_LEN,
            actual: okm.len(),
        });
    }
    let key = HmacKey::new(prk.expose_secret());
    let mut previous = Zeroizing::new([0u8; TAG_LEN]);
    for (index, chunk) in okm.chunks_mut(TAG_LEN).enumerate() {
        let counter = [index as u8 + 1];
        let block = if index == 0 {
            key.mac_parts(&[info, &counter])
        } else {
            key.mac_parts(&[&previous[..], info, &counter])
        };
        *previous = block;
        chunk.copy_from_slice(&previous[..chunk.len()]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_limit_is_enforced() {
        let prk = hkdf_extract(b"salt", b"ikm");
        let mut okm = [0u8; HKDF_MAX_OUTPUT_LEN + 1];
        let err = hkdf_expand(&prk, b"", &mut okm).unwrap_err();
        assert_eq!(
            err,
            Error::TooLong {
                field: "hkdf output",
                max: 8160,
                actual: 8161
            }
        );
        assert_eq!(
            hkdf_expand(&prk, b"", &mut okm[..HKDF_MAX_OUTPUT_LEN]),
            Ok(())
        );
    }
}
