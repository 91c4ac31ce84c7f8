//! HMAC_DRBG states that must not produce output.

use keyprov::Error;
use keyprov::drbg::HmacDrbg;
use zeroize::Zeroize;

/// What a wiped state (K and V all zero) would put out first: HMAC-SHA-256(K = 00 * 32,
/// V = 00 * 32), computed with Python's `hmac` and `hashlib`.
const WIPED_STATE_OUTPUT: &str = "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A zeroized generator is uninstantiated (SP 800-90A section 9.4): it must refuse to
/// generate rather than derive bytes anyone can compute from the all-zero state.
#[test]
fn zeroized_generator_refuses_to_generate() {
    let mut drbg = HmacDrbg::new(&[0x5a; 32], b"nonce", b"").unwrap();
    drbg.zeroize();
    let mut out = [0u8; 32];
    let refused = Error::InvalidState {
        call: "generate",
        state: "zeroized",
    };
    assert_eq!(drbg.generate(&mut out, &[]), Err(refused));
    assert_ne!(hex(&out), WIPED_STATE_OUTPUT);
    assert_eq!(out, [0u8; 32], "nothing is written");
    assert_eq!(drbg.requests_before_reseed(), 0);
    let refused = Error::InvalidState {
        call: "reseed",
        state: "zeroized",
    };
    assert_eq!(drbg.reseed(&[0x33; 32], &[]), Err(refused));
    assert_eq!(drbg.set_reseed_interval(10), Ok(()));
    assert!(drbg.generate(&mut out, &[]).is_err());
}
