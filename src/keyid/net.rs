//! Text parsers and canonical writers for network addresses used as device identifiers.
//!
//! These are written here rather than taken from `core::net` so that what is accepted is
//! exactly what `docs/protocol.md` section 3 says, whatever a future toolchain's parser does.
//! Today the two agree: `tests/keyid_props.rs` compares acceptance and result with
//! `core::net` on generated address-like text (both refuse zone identifiers, brackets and
//! leading zeros in dotted decimal), and the IPv6 writer with `core::net`'s `Display`.

use core::fmt;

use crate::Error;

const IPV4: &str = "ipv4 address";
const IPV6: &str = "ipv6 address";
const MAC: &str = "mac address";

/// Four decimal numbers 0 to 255 separated by `.`, each without leading zeros.
pub(crate) fn parse_ipv4(text: &[u8]) -> Result<[u8; 4], Error> {
    let shape = Error::InvalidValue {
        field: IPV4,
        reason: "expected four numbers joined by '.'",
    };
    if text.split(|&b| b == b'.').count() != 4 {
        return Err(shape);
    }
    let mut octets = [0u8; 4];
    for (octet, part) in octets.iter_mut().zip(text.split(|&b| b == b'.')) {
        *octet = parse_ipv4_octet(part)?;
    }
    Ok(octets)
}

fn parse_ipv4_octet(digits: &[u8]) -> Result<u8, Error> {
    if digits.is_empty() || digits.len() > 3 || !digits.iter().all(u8::is_ascii_digit) {
        let reason = "each part must be 1 to 3 decimal digits";
        return Err(Error::InvalidValue {
            field: IPV4,
            reason,
        });
    }
    if digits.len() > 1 && digits[0] == b'0' {
        return Err(Error::InvalidValue {
            field: IPV4,
            reason: "leading zero is ambiguous",
        });
    }
    let value = digits
        .iter()
        .fold(0u16, |acc, &d| acc * 10 + u16::from(d - b'0'));
    u8::try_from(value).map_err(|_| Error::OutOfRange {
        field: "ipv4 address part",
        min: 0,
        max: 255,
    })
}

/// Sixteen-bit groups of an IPv6 address collected while parsing one side of `::`.
#[derive(Default)]
struct Groups {
    words: [u16; 8],
    len: usize,
}

impl Groups {
    fn push(&mut self, word: u16) -> Result<(), Error> {
        let slot = self.words.get_mut(self.len).ok_or(Error::InvalidValue {
            field: IPV6,
            reason: "more than eight groups",
        })?;
        *slot = word;
        self.len += 1;
        Ok(())
    }
}

/// Any RFC 4291 section 2.2 spelling: eight groups of 1 to 4 hex digits, at most one `::`
/// standing for one or more zero groups, and optionally a dotted IPv4 address as the last 32
/// bits. No brackets, no prefix length; a zone identifier has its own error.
pub(crate) fn parse_ipv6(text: &[u8]) -> Result<[u8; 16], Error> {
    if text.contains(&b'%') {
        return Err(Error::Ipv6ZoneIdentifier);
    }
    let words = match find_double_colon(text) {
        None => parse_full(text)?,
        Some(at) => parse_compressed(&text[..at], &text[at + 2..])?,
    };
    let mut octets = [0u8; 16];
    for (pair, word) in octets.chunks_exact_mut(2).zip(words) {
        pair.copy_from_slice(&word.to_be_bytes());
    }
    Ok(octets)
}

fn find_double_colon(text: &[u8]) -> Option<usize> {
    text.windows(2).position(|pair| pair == b"::")
}

fn parse_full(text: &[u8]) -> Result<[u16; 8], Error> {
    let groups = parse_groups(text)?;
    if groups.len != 8 {
        return Err(Error::InvalidValue {
            field: IPV6,
            reason: "expected eight groups or '::'",
        });
    }
    Ok(groups.words)
}

fn parse_compressed(head: &[u8], tail: &[u8]) -> Result<[u16; 8], Error> {
    if find_double_colon(tail).is_some() {
        return Err(Error::InvalidValue {
            field: IPV6,
            reason: "'::' appears twice",
        });
    }
    if head.contains(&b'.') {
        return Err(Error::InvalidValue {
            field: IPV6,
            reason: "ipv4 part not at the end",
        });
    }
    let head = parse_groups(head)?;
    let tail = parse_groups(tail)?;
    if head.len + tail.len > 7 {
        return Err(Error::InvalidValue {
            field: IPV6,
            reason: "'::' stands for no group",
        });
    }
    let mut words = [0u16; 8];
    words[..head.len].copy_from_slice(&head.words[..head.len]);
    words[8 - tail.len..].copy_from_slice(&tail.words[..tail.len]);
    Ok(words)
}

/// Groups separated by single `:`; the last one may be a dotted IPv4 address. Empty text is
/// no group at all (one side of a `::`).
fn parse_groups(text: &[u8]) -> Result<Groups, Error> {
    let mut groups = Groups::default();
    if text.is_empty() {
        return Ok(groups);
    }
    let mut parts = text.split(|&b| b == b':').peekable();
    while let Some(part) = parts.next() {
        let is_last = parts.peek().is_none();
        if is_last && part.contains(&b'.') {
            let [a, b, c, d] = parse_ipv4(part)?;
            groups.push(u16::from_be_bytes([a, b]))?;
            groups.push(u16::from_be_bytes([c, d]))?;
        } else {
            groups.push(parse_hex_group(part)?)?;
        }
    }
    Ok(groups)
}

fn parse_hex_group(digits: &[u8]) -> Result<u16, Error> {
    if digits.is_empty() || digits.len() > 4 {
        return Err(Error::InvalidValue {
            field: IPV6,
            reason: "group must be 1 to 4 hex digits",
        });
    }
    digits.iter().try_fold(0u16, |acc, &d| {
        let nibble = hex_value(d).ok_or(Error::InvalidValue {
            field: IPV6,
            reason: "group must be 1 to 4 hex digits",
        })?;
        Ok((acc << 4) | u16::from(nibble))
    })
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Six two-digit hex groups joined by `:` or by `-` (one separator throughout), three
/// four-digit groups joined by `.`, or twelve hex digits; any letter case.
pub(crate) fn parse_mac(text: &[u8]) -> Result<[u8; 6], Error> {
    let digits = mac_digits(text).ok_or(Error::InvalidValue {
        field: MAC,
        reason: "expected xx:xx:xx:xx:xx:xx, xx-xx-xx-xx-xx-xx, xxxx.xxxx.xxxx or 12 hex digits",
    })?;
    let mut octets = [0u8; 6];
    for (octet, pair) in octets.iter_mut().zip(digits.chunks_exact(2)) {
        let high = hex_value(pair[0]).ok_or(Error::InvalidValue {
            field: MAC,
            reason: "not a hex digit",
        })?;
        let low = hex_value(pair[1]).ok_or(Error::InvalidValue {
            field: MAC,
            reason: "not a hex digit",
        })?;
        *octet = (high << 4) | low;
    }
    Ok(octets)
}

/// The twelve digits of a MAC address with its separators removed, if the layout is one of
/// the accepted ones.
fn mac_digits(text: &[u8]) -> Option<[u8; 12]> {
    let (group, separator) = match text.len() {
        12 => (12, 0),
        14 if text[4] == b'.' => (4, b'.'),
        17 if text[2] == b':' || text[2] == b'-' => (2, text[2]),
        _ => return None,
    };
    let mut digits = [0u8; 12];
    let mut count = 0;
    for (index, &byte) in text.iter().enumerate() {
        let is_separator_slot = separator != 0 && index % (group + 1) == group;
        match (is_separator_slot, byte == separator) {
            (true, true) => {}
            (false, false) => {
                *digits.get_mut(count)? = byte;
                count += 1;
            }
            _ => return None,
        }
    }
    (count == 12).then_some(digits)
}

/// Dotted decimal, the only spelling accepted.
pub(crate) fn write_ipv4(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    match bytes {
        [a, b, c, d] => write!(f, "{a}.{b}.{c}.{d}"),
        _ => Err(fmt::Error),
    }
}

/// RFC 5952 section 4: lowercase, no leading zeros, the longest run of two or more zero groups
/// (the first of equal runs) as `::`; and section 5: IPv4-mapped addresses end in dotted
/// decimal.
pub(crate) fn write_ipv6(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    let octets: [u8; 16] = bytes.try_into().map_err(|_| fmt::Error)?;
    let mut words = [0u16; 8];
    for (word, pair) in words.iter_mut().zip(octets.chunks_exact(2)) {
        *word = u16::from_be_bytes([pair[0], pair[1]]);
    }
    if words[..5] == [0; 5] && words[5] == 0xffff {
        f.write_str("::ffff:")?;
        return write_ipv4(f, &octets[12..]);
    }
    match longest_zero_run(&words) {
        Some((start, end)) => {
            write_words(f, &words[..start])?;
            f.write_str("::")?;
            write_words(f, &words[end..])
        }
        None => write_words(f, &words),
    }
}

fn write_words(f: &mut fmt::Formatter<'_>, words: &[u16]) -> fmt::Result {
    for (index, word) in words.iter().enumerate() {
        if index > 0 {
            f.write_str(":")?;
        }
        write!(f, "{word:x}")?;
    }
    Ok(())
}

/// Start and end (exclusive) of the first longest run of at least two zero groups.
fn longest_zero_run(words: &[u16; 8]) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    let mut start = 0;
    while start < words.len() {
        let run = words[start..].iter().take_while(|&&w| w == 0).count();
        if run >= 2 && best.is_none_or(|(s, e)| run > e - s) {
            best = Some((start, start + run));
        }
        start += run.max(1);
    }
    best
}

/// Lowercase hex pairs joined by `-`.
pub(crate) fn write_mac(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for (index, byte) in bytes.iter().enumerate() {
        if index > 0 {
            f.write_str("-")?;
        }
        write!(f, "{byte:02x}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use alloc::string::{String, ToString};
    use core::net::Ipv6Addr;

    use super::*;

    struct Shown<'a>(fn(&mut fmt::Formatter<'_>, &[u8]) -> fmt::Result, &'a [u8]);

    impl fmt::Display for Shown<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            (self.0)(f, self.1)
        }
    }

    fn ipv6_text(octets: [u8; 16]) -> String {
        Shown(write_ipv6, &octets).to_string()
    }

    #[test]
    fn ipv4_refuses_ambiguous_and_out_of_range() {
        assert_eq!(parse_ipv4(b"192.0.2.1"), Ok([192, 0, 2, 1]));
        assert_eq!(parse_ipv4(b"0.0.0.0"), Ok([0; 4]));
        let leading = Error::InvalidValue {
            field: IPV4,
            reason: "leading zero is ambiguous",
        };
        assert_eq!(parse_ipv4(b"010.0.0.1"), Err(leading));
        assert_eq!(parse_ipv4(b"10.0.0.00"), Err(leading));
        let range = Error::OutOfRange {
            field: "ipv4 address part",
            min: 0,
            max: 255,
        };
        assert_eq!(parse_ipv4(b"256.0.0.1"), Err(range));
        for bad in [
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.",
            ".1.2.3",
            "1..2.3",
            "1.2.3.4 ",
            "+1.2.3.4",
        ] {
            assert!(parse_ipv4(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn ipv6_spellings_of_one_address_agree() {
        let expected = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        for spelling in [
            "2001:db8::1",
            "2001:DB8::1",
            "2001:0db8:0000:0000:0000:0000:0000:0001",
            "2001:db8:0:0:0:0:0:1",
            "2001:db8::0:1",
            "2001:db8:0::0:0:1",
            "2001:db8::0.0.0.1",
        ] {
            assert_eq!(parse_ipv6(spelling.as_bytes()), Ok(expected), "{spelling}");
        }
    }

    #[test]
    fn ipv6_refuses_zone_and_malformed() {
        assert_eq!(parse_ipv6(b"fe80::1%eth0"), Err(Error::Ipv6ZoneIdentifier));
        assert_eq!(
            parse_ipv6(b"fe80::1%25eth0"),
            Err(Error::Ipv6ZoneIdentifier)
        );
        for bad in [
            "",
            ":",
            ":::",
            "1::2::3",
            "[::1]",
            "::1/128",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7::8",
            "::1:2:3:4:5:6:7:8",
            "12345::",
            ":1::",
            "1::2:",
            "1.2.3.4::",
            "::1.2.3.4:5",
            "::01.2.3.4",
            "g::",
            "1:2:3:4:5:6:7:1.2.3.4",
        ] {
            assert!(parse_ipv6(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn ipv6_is_written_per_rfc_5952() {
        let cases = [
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("0:0:0:0:0:0:0:0", "::"),
            ("0:0:0:0:0:0:0:1", "::1"),
            ("1:0:0:0:0:0:0:0", "1::"),
            ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
            ("0:0:0:0:0:ffff:c000:201", "::ffff:192.0.2.1"),
            ("0:0:0:0:0:0:c000:201", "::c000:201"),
            ("2001:DB8:AAAA:0:0:0:0:0", "2001:db8:aaaa::"),
        ];
        for (input, canonical) in cases {
            let octets = parse_ipv6(input.as_bytes()).unwrap();
            assert_eq!(ipv6_text(octets), canonical, "{input}");
            assert_eq!(parse_ipv6(canonical.as_bytes()), Ok(octets));
        }
    }

    #[test]
    fn ipv6_writer_agrees_with_core_net() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut octets = [0u8; 16];
            for pair in octets.chunks_exact_mut(2) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Mostly zero groups, so that runs of zeros are common.
                let word = if state % 3 == 0 {
                    (state >> 32) as u16
                } else {
                    0
                };
                pair.copy_from_slice(&word.to_be_bytes());
            }
            assert_eq!(ipv6_text(octets), Ipv6Addr::from(octets).to_string());
        }
    }

    #[test]
    fn mac_spellings_of_one_address_agree() {
        let expected = [0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e];
        for spelling in [
            "00:1A:2b:3c:4D:5e",
            "00-1a-2b-3c-4d-5e",
            "001a.2b3c.4d5e",
            "001A2B3C4D5E",
        ] {
            assert_eq!(parse_mac(spelling.as_bytes()), Ok(expected), "{spelling}");
        }
        assert_eq!(Shown(write_mac, &expected).to_string(), "00-1a-2b-3c-4d-5e");
    }

    #[test]
    fn mac_refuses_mixed_or_short_groups() {
        for bad in [
            "00:1a-2b:3c:4d:5e",
            "0:1a:2b:3c:4d:5e:",
            "00:1a:2b:3c:4d",
            "001a.2b3c-4d5e",
            "001a2b3c4d5g",
            "00:1a:2b:3c:4d:5e:6f",
            "001a2b3c4d5",
            " 001a2b3c4d5e",
            "00.1a.2b.3c",
        ] {
            assert!(parse_mac(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
