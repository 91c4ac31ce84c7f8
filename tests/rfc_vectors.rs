//! HMAC-SHA-256 against RFC 4231 and HKDF-SHA-256 against RFC 5869 appendix A, through the
//! public API, plus property tests against the `hmac` and `hkdf` crates.

use hmac::{KeyInit, Mac};
use keyprov::keys::{HKDF_MAX_OUTPUT_LEN, HmacKey, hkdf_expand, hkdf_extract};
use proptest::prelude::*;

const RFC4231: &str = include_str!("vectors/rfc4231-hmac-sha256.txt");
const RFC5869: &str = include_str!("vectors/rfc5869-hkdf-sha256.txt");

/// One record of a `Name = value` vector file: records start at a line naming `first`.
fn records<'a>(text: &'a str, first: &str) -> Vec<Vec<(&'a str, &'a str)>> {
    let mut out: Vec<Vec<(&str, &str)>> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || !line.contains('=') || line.starts_with('[') {
            continue;
        }
        let (name, value) = line.split_once('=').unwrap();
        let (name, value) = (name.trim(), value.trim());
        if name == first {
            out.push(Vec::new());
        }
        if let Some(record) = out.last_mut() {
            record.push((name, value));
        }
    }
    out
}

fn field<'a>(record: &[(&str, &'a str)], name: &str) -> &'a str {
    record
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| {
            panic!("record {record:?} has no {name}");
        })
}

fn hex(text: &str) -> Vec<u8> {
    assert!(text.len() % 2 == 0, "odd hex length: {text}");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn rfc4231_all_cases() {
    let cases = records(RFC4231, "Case");
    assert_eq!(cases.len(), 7);
    for case in &cases {
        let key = HmacKey::new(&hex(field(case, "Key")));
        let tag = key.mac(&hex(field(case, "Data")));
        let number = field(case, "Case");
        if number == "5" {
            let truncated = hex(field(case, "HMAC-SHA-256-128"));
            assert_eq!(tag[..16], truncated[..], "case 5");
        } else {
            assert_eq!(
                tag[..],
                hex(field(case, "HMAC-SHA-256"))[..],
                "case {number}"
            );
            assert_eq!(key.verify(&hex(field(case, "Data")), &tag), Ok(()));
        }
    }
}

#[test]
fn rfc5869_appendix_a() {
    let cases = records(RFC5869, "COUNT");
    assert_eq!(cases.len(), 3);
    for case in &cases {
        let prk = hkdf_extract(&hex(field(case, "salt")), &hex(field(case, "IKM")));
        let count = field(case, "COUNT");
        assert_eq!(
            prk.expose_secret()[..],
            hex(field(case, "PRK"))[..],
            "case {count}"
        );
        let mut okm = vec![0u8; field(case, "L").parse().unwrap()];
        hkdf_expand(&prk, &hex(field(case, "info")), &mut okm).unwrap();
        assert_eq!(okm, hex(field(case, "OKM")), "case {count}");
    }
}

#[test]
fn hkdf_output_limit_is_8160_bytes() {
    let prk = hkdf_extract(b"", b"ikm");
    let mut okm = vec![0u8; HKDF_MAX_OUTPUT_LEN + 1];
    assert!(hkdf_expand(&prk, b"", &mut okm).is_err());
    assert!(hkdf_expand(&prk, b"", &mut okm[..8160]).is_ok());
}

proptest! {
    #[test]
    fn hmac_agrees_with_hmac_crate(
        key in proptest::collection::vec(any::<u8>(), 0..200),
        message in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut reference = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        reference.update(&message);
        let expected = reference.finalize().into_bytes();
        prop_assert_eq!(&HmacKey::new(&key).mac(&message)[..], &expected[..]);
    }

    #[test]
    fn hkdf_agrees_with_hkdf_crate(
        salt in proptest::collection::vec(any::<u8>(), 0..100),
        ikm in proptest::collection::vec(any::<u8>(), 0..100),
        info in proptest::collection::vec(any::<u8>(), 0..100),
        len in 0usize..700,
    ) {
        let reference = hkdf::Hkdf::<sha2::Sha256>::new(Some(&salt), &ikm);
        let mut expected = vec![0u8; len];
        reference.expand(&info, &mut expected).unwrap();
        let mut okm = vec![0u8; len];
        hkdf_expand(&hkdf_extract(&salt, &ikm), &info, &mut okm).unwrap();
        prop_assert_eq!(okm, expected);
    }
}
