//! Property tests of key identifiers: round trips, canonical decoding, equivalent spellings,
//! boundary sizes, and decoders that never panic.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use keyprov::keyid::{
    DeviceIdType, MAX_LEN, MAX_TEXT_LEN, TEXT_PREFIX, UnstructuredValue, ValueSource,
};
use keyprov::{AgentId, DeviceId, Error, KeyId};
use proptest::prelude::*;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

fn agent_id() -> impl Strategy<Value = AgentId> {
    prop_oneof!["[a-z0-9]", "[a-z0-9][a-z0-9-]{0,30}[a-z0-9]",]
        .prop_map(|name| AgentId::new(&name).expect("strategy yields valid agent ids"))
}

fn device_id() -> impl Strategy<Value = DeviceId> {
    prop_oneof![
        "[0-9]{1,16}".prop_map(|s| DeviceId::extension(&s).unwrap()),
        "[A-Za-z0-9-]{1,32}".prop_map(|s| DeviceId::serial_number(&s).unwrap()),
        "[A-Za-z0-9._-]{1,32}".prop_map(|s| DeviceId::user_login(&s).unwrap()),
        any::<[u8; 4]>().prop_map(|b| DeviceId::ipv4(Ipv4Addr::from(b))),
        any::<[u8; 16]>().prop_map(|b| DeviceId::ipv6(Ipv6Addr::from(b))),
        any::<[u8; 6]>().prop_map(DeviceId::mac),
    ]
}

fn unstructured_value() -> impl Strategy<Value = UnstructuredValue> {
    let source = prop_oneof![
        Just(ValueSource::Random),
        Just(ValueSource::KeyDatabase),
        Just(ValueSource::Hash),
    ];
    (source, proptest::collection::vec(any::<u8>(), 1..=32))
        .prop_map(|(source, value)| UnstructuredValue::new(source, &value).unwrap())
}

fn key_id() -> impl Strategy<Value = KeyId> {
    prop_oneof![
        (any::<u16>(), agent_id(), device_id(), any::<u32>())
            .prop_map(|(e, a, d, c)| KeyId::structured(e, a, d, c)),
        (any::<u16>(), agent_id(), unstructured_value())
            .prop_map(|(e, a, v)| KeyId::unstructured(e, a, v)),
    ]
}

/// Characters RFC 3261 allows unescaped in `user`: alphanumerics, marks and user-unreserved.
fn is_sip_user_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.!~*'()&=+$,;?/".contains(c)
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn binary_round_trip(key_id in key_id()) {
        let bytes = key_id.to_bytes();
        prop_assert_eq!(bytes.len(), key_id.encoded_len());
        prop_assert!(bytes.len() <= MAX_LEN);
        prop_assert_eq!(KeyId::from_bytes(&bytes), Ok(key_id));
    }

    #[test]
    fn text_round_trip_and_sip_safe(key_id in key_id()) {
        let text = key_id.to_string();
        prop_assert_eq!(text.len(), key_id.text_len());
        prop_assert!(text.len() <= MAX_TEXT_LEN);
        prop_assert!(text.starts_with(TEXT_PREFIX));
        prop_assert!(text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        prop_assert!(text.chars().all(is_sip_user_char));
        prop_assert_eq!(KeyId::from_str(&text), Ok(key_id));
    }

    #[test]
    fn write_to_matches_to_bytes_and_refuses_short_buffers(key_id in key_id()) {
        let len = key_id.encoded_len();
        let mut buffer = [0xAAu8; MAX_LEN + 1];
        prop_assert_eq!(key_id.write_to(&mut buffer), Ok(len));
        let expected = key_id.to_bytes();
        prop_assert_eq!(&buffer[..len], expected.as_slice());
        let mut short = vec![0u8; len - 1];
        prop_assert_eq!(key_id.write_to(&mut short), Err(Error::BufferTooSmall { needed: len }));
        prop_assert!(short.iter().all(|&b| b == 0));
        let mut text = [0u8; MAX_TEXT_LEN];
        prop_assert_eq!(key_id.write_text_to(&mut text).map(str::to_owned), Ok(key_id.to_string()));
    }

    #[test]
    fn one_byte_changed_is_refused_or_still_canonical(
        key_id in key_id(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        edit in 0..3u8,
    ) {
        let mut bytes = key_id.to_bytes();
        let at = at.index(bytes.len());
        match edit {
            0 => bytes[at] = byte,
            1 => bytes.insert(at, byte),
            _ => { bytes.remove(at); }
        }
        if let Ok(decoded) = KeyId::from_bytes(&bytes) {
            prop_assert_eq!(decoded.to_bytes(), bytes);
        }
    }

    #[test]
    fn device_id_text_round_trip(device in device_id()) {
        let text = device.to_string();
        prop_assert_eq!(DeviceId::from_str(&text), Ok(device));
        prop_assert_eq!(DeviceId::from_canonical(device.kind(), device.value_bytes()), Ok(device));
    }
}

proptest! {
    #![proptest_config(config(2048))]

    #[test]
    fn decoding_arbitrary_bytes_never_panics_and_accepts_only_canonical(
        bytes in proptest::collection::vec(any::<u8>(), 0..96),
    ) {
        if let Ok(key_id) = KeyId::from_bytes(&bytes) {
            prop_assert_eq!(key_id.to_bytes(), bytes);
        }
    }

    #[test]
    fn decoding_plausible_bytes_accepts_only_canonical(
        form in 1..=2u8,
        epoch in any::<[u8; 2]>(),
        agent in "[a-z0-9-]{0,33}",
        kind in 0..=7u8,
        len in 0..=34u8,
        tail in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        // Structurally close to a key identifier, so that deeper checks are reached.
        let mut bytes = vec![1, form, epoch[0], epoch[1], agent.len() as u8];
        bytes.extend_from_slice(agent.as_bytes());
        bytes.extend_from_slice(&[kind, len]);
        bytes.extend_from_slice(&tail);
        if let Ok(key_id) = KeyId::from_bytes(&bytes) {
            prop_assert_eq!(key_id.to_bytes(), bytes);
        }
    }

    #[test]
    fn decoding_arbitrary_text_never_panics_and_accepts_only_canonical(text in ".{0,120}") {
        if let Ok(key_id) = KeyId::from_str(&text) {
            prop_assert_eq!(key_id.to_string(), text);
        }
    }

    #[test]
    fn decoding_base64_like_text_accepts_only_canonical(text in "kp1[A-Za-z0-9_=+/-]{0,104}") {
        if let Ok(key_id) = KeyId::from_str(&text) {
            prop_assert_eq!(key_id.to_string(), text);
        }
    }

    #[test]
    fn parsing_arbitrary_device_text_never_panics(text in ".{0,60}") {
        if let Ok(device) = DeviceId::from_str(&text) {
            let canonical = device.to_string();
            prop_assert_eq!(DeviceId::from_str(&canonical), Ok(device));
        }
    }

    #[test]
    fn parsing_address_like_device_text_is_canonical_after_one_pass(
        prefix in prop_oneof![Just("ipv4:"), Just("ipv6:"), Just("mac:")],
        text in "[0-9a-fA-F:.%-]{0,45}",
    ) {
        if let Ok(device) = DeviceId::from_str(&format!("{prefix}{text}")) {
            let canonical = device.to_string();
            prop_assert_eq!(DeviceId::from_str(&canonical), Ok(device));
            prop_assert_eq!(device.to_string(), canonical);
        }
    }
}

/// Writes a MAC address in one of the accepted layouts with mixed letter case.
fn spell_mac(bytes: [u8; 6], layout: u8, upper_mask: u16) -> String {
    let digits: Vec<char> = bytes
        .iter()
        .flat_map(|b| [b >> 4, b & 15])
        .enumerate()
        .map(|(i, nibble)| {
            let c = char::from_digit(u32::from(nibble), 16).unwrap();
            if upper_mask >> i & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect();
    let group = |size: usize, separator: &str| {
        digits
            .chunks(size)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(separator)
    };
    match layout {
        0 => group(2, ":"),
        1 => group(2, "-"),
        2 => group(4, "."),
        _ => group(12, ""),
    }
}

/// Writes an IPv6 address uncompressed, each group padded to `width` digits.
fn spell_ipv6_full(octets: [u8; 16], width: usize, upper: bool) -> String {
    let groups: Vec<String> = octets
        .chunks(2)
        .map(|pair| {
            let word = u16::from_be_bytes([pair[0], pair[1]]);
            let text = format!("{word:0width$x}");
            if upper { text.to_uppercase() } else { text }
        })
        .collect();
    groups.join(":")
}

/// Mostly-zero addresses, so that `::` runs are common.
fn sparse_ipv6() -> impl Strategy<Value = [u8; 16]> {
    proptest::collection::vec(prop_oneof![3 => Just(0u16), 1 => any::<u16>()], 8).prop_map(
        |words| {
            let mut octets = [0u8; 16];
            for (pair, word) in octets.chunks_exact_mut(2).zip(words) {
                pair.copy_from_slice(&word.to_be_bytes());
            }
            octets
        },
    )
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn mac_spellings_give_identical_bytes(
        bytes in any::<[u8; 6]>(),
        layout in 0..4u8,
        upper_mask in any::<u16>(),
    ) {
        let spelled = spell_mac(bytes, layout, upper_mask);
        let device = DeviceId::from_str(&format!("mac:{spelled}")).unwrap();
        prop_assert_eq!(device, DeviceId::mac(bytes));
        prop_assert_eq!(device.value_bytes(), &bytes[..]);
        prop_assert_eq!(device.as_mac(), Some(bytes));
    }

    #[test]
    fn ipv6_spellings_give_identical_bytes(
        octets in prop_oneof![sparse_ipv6(), any::<[u8; 16]>()],
        width in 1..=4usize,
        upper in any::<bool>(),
    ) {
        let address = Ipv6Addr::from(octets);
        let expected = DeviceId::ipv6(address);
        let mut spellings = vec![
            spell_ipv6_full(octets, width, upper),
            address.to_string(),
            address.to_string().to_uppercase(),
            format!("{}:{}", spell_ipv6_full(octets, width, upper).rsplitn(3, ':').nth(2).unwrap(),
                Ipv4Addr::from([octets[12], octets[13], octets[14], octets[15]])),
        ];
        spellings.push(expected.to_string()["ipv6:".len()..].to_owned());
        for spelling in spellings {
            let device = DeviceId::parse_ipv6(&spelling);
            prop_assert_eq!(device, Ok(expected), "{}", spelling);
        }
        prop_assert_eq!(expected.to_string(), format!("ipv6:{address}"));
    }

    #[test]
    fn ipv6_acceptance_matches_core_net(text in "[0-9a-fA-F:.]{0,41}") {
        let ours = DeviceId::parse_ipv6(&text).ok().and_then(|d| d.as_ipv6());
        prop_assert_eq!(ours, Ipv6Addr::from_str(&text).ok(), "{}", text);
    }

    #[test]
    fn ipv6_acceptance_matches_core_net_near_valid(
        octets in sparse_ipv6(),
        at in any::<prop::sample::Index>(),
        insert in "[0-9a-f:.]",
    ) {
        let mut text = Ipv6Addr::from(octets).to_string();
        let at = at.index(text.len() + 1);
        text.insert_str(at, &insert);
        let ours = DeviceId::parse_ipv6(&text).ok().and_then(|d| d.as_ipv6());
        prop_assert_eq!(ours, Ipv6Addr::from_str(&text).ok(), "{}", text);
    }

    #[test]
    fn ipv4_acceptance_matches_core_net(text in "[0-9.]{0,17}") {
        let ours = DeviceId::parse_ipv4(&text).ok().and_then(|d| d.as_ipv4());
        prop_assert_eq!(ours, Ipv4Addr::from_str(&text).ok(), "{}", text);
    }

    #[test]
    fn ipv6_zone_identifiers_are_refused(octets in any::<[u8; 16]>(), zone in "[a-z0-9]{0,8}") {
        let text = format!("{}%{zone}", Ipv6Addr::from(octets));
        prop_assert_eq!(DeviceId::parse_ipv6(&text), Err(Error::Ipv6ZoneIdentifier));
    }

    #[test]
    fn serial_and_login_case_folds_from_text_only(text in "[A-Za-z0-9-]{1,32}") {
        let serial = DeviceId::serial_number(&text).unwrap();
        let upper = text.to_ascii_uppercase();
        prop_assert_eq!(serial.value_bytes(), upper.as_bytes());
        prop_assert_eq!(DeviceId::serial_number(&text.to_ascii_lowercase()), Ok(serial));
        let login = DeviceId::user_login(&text).unwrap();
        let lower = text.to_ascii_lowercase();
        prop_assert_eq!(login.value_bytes(), lower.as_bytes());
        let has_lower = text.bytes().any(|b| b.is_ascii_lowercase());
        let binary_serial = DeviceId::from_canonical(DeviceIdType::SerialNumber, text.as_bytes());
        prop_assert_eq!(binary_serial.is_ok(), !has_lower);
        let has_upper = text.bytes().any(|b| b.is_ascii_uppercase());
        let binary_login = DeviceId::from_canonical(DeviceIdType::UserLogin, text.as_bytes());
        prop_assert_eq!(binary_login.is_ok(), !has_upper);
    }

    #[test]
    fn non_canonical_trailing_base64_bits_are_refused(key_id in key_id(), bits in 1..16u8) {
        let text = key_id.to_string();
        let remainder = key_id.encoded_len() % 3;
        prop_assume!(remainder != 0);
        // The last character carries 4 (one leftover byte) or 2 (two) unused low bits.
        let unused = if remainder == 1 { 4 } else { 2 };
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let last = text.as_bytes()[text.len() - 1];
        let sextet = alphabet.iter().position(|&c| c == last).unwrap() as u8;
        let altered = sextet | (bits & ((1 << unused) - 1));
        prop_assume!(altered != sextet);
        let mut bad = text[..text.len() - 1].to_owned();
        bad.push(char::from(alphabet[usize::from(altered)]));
        let refused = matches!(KeyId::from_str(&bad), Err(Error::InvalidValue { .. }));
        prop_assert!(refused, "accepted {}", bad);
    }
}

/// Lengths 0, 1, max and max + 1 of a field, with whether each must be accepted.
fn boundaries(min: usize, max: usize) -> [(usize, bool); 4] {
    [
        (0, min == 0),
        (1, min <= 1 && max >= 1),
        (max, true),
        (max + 1, false),
    ]
}

#[test]
fn agent_id_boundaries() {
    for (len, accepted) in boundaries(AgentId::MIN_LEN, AgentId::MAX_LEN) {
        assert_eq!(
            AgentId::new(&"a".repeat(len)).is_ok(),
            accepted,
            "agent length {len}"
        );
    }
}

#[test]
fn device_value_boundaries_in_text_and_binary() {
    for kind in DeviceIdType::ALL {
        let (min, max) = kind.value_len_bounds();
        for (len, accepted) in boundaries(min, max) {
            let value = vec![b'1'; len];
            let binary = DeviceId::from_canonical(kind, &value);
            assert_eq!(binary.is_ok(), accepted, "{kind:?} binary length {len}");
            if let Err(error) = binary {
                let limit = matches!(
                    error,
                    Error::TooShort { .. } | Error::TooLong { .. } | Error::WrongLength { .. }
                );
                assert!(limit, "{kind:?} length {len}: {error}");
                assert!(error.to_string().starts_with(kind.field()), "{error}");
            }
        }
    }
    assert!(DeviceId::extension(&"9".repeat(16)).is_ok());
    assert!(DeviceId::extension(&"9".repeat(17)).is_err());
    assert!(DeviceId::serial_number(&"a".repeat(32)).is_ok());
    assert!(DeviceId::serial_number(&"a".repeat(33)).is_err());
    assert!(DeviceId::user_login(&"A".repeat(32)).is_ok());
    assert!(DeviceId::user_login(&"A".repeat(33)).is_err());
}

#[test]
fn unstructured_value_boundaries() {
    for (len, accepted) in boundaries(1, keyprov::keyid::MAX_UNSTRUCTURED_LEN) {
        let value = UnstructuredValue::new(ValueSource::Hash, &vec![7; len]);
        assert_eq!(value.is_ok(), accepted, "unstructured length {len}");
    }
}

#[test]
fn counter_boundaries_and_exhaustion() {
    let agent = AgentId::new("pbx-east").unwrap();
    let device = DeviceId::parse_mac("00-1a-2b-3c-4d-5e").unwrap();
    let first = KeyId::structured(1, agent, device, 0);
    assert_eq!(first.successor().unwrap().counter(), Some(1));
    let last = KeyId::structured(1, agent, device, u32::MAX);
    assert_eq!(KeyId::from_bytes(&last.to_bytes()), Ok(last));
    assert_eq!(last.successor(), Err(Error::CounterExhausted));
    let next_to_last = KeyId::structured(1, agent, device, u32::MAX - 1);
    assert_eq!(next_to_last.successor(), Ok(last));
    let value = UnstructuredValue::new(ValueSource::Random, &[1; 16]).unwrap();
    let unstructured = KeyId::unstructured(1, agent, value);
    assert!(matches!(
        unstructured.successor(),
        Err(Error::InvalidValue { .. })
    ));
}

#[test]
fn typical_structured_key_id_with_mac_is_25_bytes() {
    let agent = AgentId::new("pbx-east").unwrap();
    let device = DeviceId::parse_mac("00:1a:2b:3c:4d:5e").unwrap();
    assert_eq!(KeyId::structured(1, agent, device, 7).encoded_len(), 25);
}
