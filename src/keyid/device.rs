//! The device identifier: which device a structured key identifier belongs to.

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::str::FromStr;

use super::bounded::ShortBytes;
use super::net;
use crate::Error;

/// Most bytes in any device identifier value (serial numbers and user logins).
pub const MAX_VALUE_LEN: usize = 32;

/// The kind of a device identifier, with its type byte in the binary key identifier and its
/// prefix in the typed text form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum DeviceIdType {
    /// A telephone extension: 1 to 16 decimal digits, leading zeros significant.
    Extension = 1,
    /// A serial number: 1 to 32 of `A`-`Z`, `0`-`9`, `-`.
    SerialNumber = 2,
    /// A user login: 1 to 32 of `a`-`z`, `0`-`9`, `.`, `_`, `-`.
    UserLogin = 3,
    /// An IPv4 address, 4 bytes.
    Ipv4 = 4,
    /// An IPv6 address without zone, 16 bytes.
    Ipv6 = 5,
    /// An IEEE 802 MAC address, 6 bytes.
    Mac = 6,
}

impl DeviceIdType {
    /// Every type, in type byte order.
    pub const ALL: [Self; 6] = [
        Self::Extension,
        Self::SerialNumber,
        Self::UserLogin,
        Self::Ipv4,
        Self::Ipv6,
        Self::Mac,
    ];

    /// The type byte in the binary key identifier.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The type for a type byte, if it has one.
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Extension),
            2 => Some(Self::SerialNumber),
            3 => Some(Self::UserLogin),
            4 => Some(Self::Ipv4),
            5 => Some(Self::Ipv6),
            6 => Some(Self::Mac),
            _ => None,
        }
    }

    /// The prefix of the typed text form, without the `:`.
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::Extension => "ext",
            Self::SerialNumber => "sn",
            Self::UserLogin => "user",
            Self::Ipv4 => "ipv4",
            Self::Ipv6 => "ipv6",
            Self::Mac => "mac",
        }
    }

    /// The field name used in error messages.
    pub const fn field(self) -> &'static str {
        match self {
            Self::Extension => "extension",
            Self::SerialNumber => "serial number",
            Self::UserLogin => "user login",
            Self::Ipv4 => "ipv4 address",
            Self::Ipv6 => "ipv6 address",
            Self::Mac => "mac address",
        }
    }

    /// Smallest and largest value length in bytes.
    pub const fn value_len_bounds(self) -> (usize, usize) {
        match self {
            Self::Extension => (1, 16),
            Self::SerialNumber | Self::UserLogin => (1, MAX_VALUE_LEN),
            Self::Ipv4 => (4, 4),
            Self::Ipv6 => (16, 16),
            Self::Mac => (6, 6),
        }
    }

    fn from_prefix(prefix: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.prefix() == prefix)
    }
}

/// The identity of one device, typed, in its one canonical form.
///
/// Built from text, every accepted spelling of one identity gives the same value (and so the
/// same bytes): a MAC address written `00:1A:2b:3c:4d:5e`, `00-1a-2b-3c-4d-5e`,
/// `001a.2b3c.4d5e` or `001a2b3c4d5e`, an IPv6 address in any RFC 4291 spelling, a serial
/// number in any letter case, a login in any letter case. Built from binary bytes, only the
/// canonical form is accepted.
///
/// The typed text form is `PREFIX:VALUE` with the prefixes of [`DeviceIdType::prefix`], for
/// example `ext:0123`, `sn:ABC123`, `user:alice`, `ipv4:192.0.2.1`, `ipv6:2001:db8::1`,
/// `mac:00-1a-2b-3c-4d-5e`. [`fmt::Display`] writes the canonical form; [`FromStr`] accepts
/// every spelling the type-specific constructors accept.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceId {
    kind: DeviceIdType,
    value: ShortBytes<MAX_VALUE_LEN>,
}

impl DeviceId {
    /// An extension: 1 to 16 ASCII digits, taken as written (`0123` and `123` differ).
    pub fn extension(digits: &str) -> Result<Self, Error> {
        Self::from_canonical(DeviceIdType::Extension, digits.as_bytes())
    }

    /// A serial number: 1 to 32 of ASCII letters, digits and `-`; lowercase letters are
    /// turned into uppercase.
    pub fn serial_number(serial: &str) -> Result<Self, Error> {
        let folded = fold_case(serial, DeviceIdType::SerialNumber, u8::to_ascii_uppercase)?;
        Self::from_canonical(DeviceIdType::SerialNumber, folded.as_slice())
    }

    /// A user login: 1 to 32 of ASCII letters, digits, `.`, `_` and `-`; uppercase letters are
    /// turned into lowercase.
    pub fn user_login(login: &str) -> Result<Self, Error> {
        let folded = fold_case(login, DeviceIdType::UserLogin, u8::to_ascii_lowercase)?;
        Self::from_canonical(DeviceIdType::UserLogin, folded.as_slice())
    }

    /// An IPv4 address.
    pub fn ipv4(address: Ipv4Addr) -> Self {
        Self::fixed(DeviceIdType::Ipv4, &address.octets())
    }

    /// An IPv6 address. An IPv4-mapped address (`::ffff:192.0.2.1`) is the IPv4 address it
    /// maps, so it gives the [`DeviceId::ipv4`] identifier: one phone, one identifier,
    /// whichever socket family reported its address.
    pub fn ipv6(address: Ipv6Addr) -> Self {
        match address.to_ipv4_mapped() {
            Some(mapped) => Self::ipv4(mapped),
            None => Self::fixed(DeviceIdType::Ipv6, &address.octets()),
        }
    }

    /// A MAC address from its 6 bytes.
    pub fn mac(bytes: [u8; 6]) -> Self {
        Self::fixed(DeviceIdType::Mac, &bytes)
    }

    /// An IPv4 address in dotted decimal: four numbers 0 to 255 without leading zeros.
    pub fn parse_ipv4(text: &str) -> Result<Self, Error> {
        net::parse_ipv4(text.as_bytes()).map(|octets| Self::ipv4(Ipv4Addr::from(octets)))
    }

    /// An IPv6 address in any RFC 4291 text spelling, without brackets; a zone identifier
    /// (`%eth0`) is refused with [`Error::Ipv6ZoneIdentifier`].
    pub fn parse_ipv6(text: &str) -> Result<Self, Error> {
        net::parse_ipv6(text.as_bytes()).map(|octets| Self::ipv6(Ipv6Addr::from(octets)))
    }

    /// A MAC address as six two-digit hex groups separated by `:` or `-`, as three four-digit
    /// groups separated by `.`, or as twelve hex digits; any letter case.
    pub fn parse_mac(text: &str) -> Result<Self, Error> {
        net::parse_mac(text.as_bytes()).map(Self::mac)
    }

    /// A value of the given type in any accepted text spelling.
    pub fn parse_typed(kind: DeviceIdType, text: &str) -> Result<Self, Error> {
        match kind {
            DeviceIdType::Extension => Self::extension(text),
            DeviceIdType::SerialNumber => Self::serial_number(text),
            DeviceIdType::UserLogin => Self::user_login(text),
            DeviceIdType::Ipv4 => Self::parse_ipv4(text),
            DeviceIdType::Ipv6 => Self::parse_ipv6(text),
            DeviceIdType::Mac => Self::parse_mac(text),
        }
    }

    /// A value of the given type from its binary bytes, which must already be canonical: a
    /// lowercase letter in a serial number or an uppercase one in a login is refused with
    /// [`Error::NotCanonical`], never folded.
    pub fn from_canonical(kind: DeviceIdType, value: &[u8]) -> Result<Self, Error> {
        check_value(kind, value)?;
        let value = ShortBytes::new(value).ok_or(Error::TooLong {
            field: kind.field(),
            max: MAX_VALUE_LEN,
            actual: value.len(),
        })?;
        Ok(Self { kind, value })
    }

    /// The type.
    pub fn kind(&self) -> DeviceIdType {
        self.kind
    }

    /// The canonical value bytes, as written in the binary key identifier.
    pub fn value_bytes(&self) -> &[u8] {
        self.value.as_slice()
    }

    /// The IPv4 address, if this is one.
    pub fn as_ipv4(&self) -> Option<Ipv4Addr> {
        let octets: [u8; 4] = self.value_bytes().try_into().ok()?;
        (self.kind == DeviceIdType::Ipv4).then(|| Ipv4Addr::from(octets))
    }

    /// The IPv6 address, if this is one.
    pub fn as_ipv6(&self) -> Option<Ipv6Addr> {
        let octets: [u8; 16] = self.value_bytes().try_into().ok()?;
        (self.kind == DeviceIdType::Ipv6).then(|| Ipv6Addr::from(octets))
    }

    /// The MAC address bytes, if this is one.
    pub fn as_mac(&self) -> Option<[u8; 6]> {
        let octets: [u8; 6] = self.value_bytes().try_into().ok()?;
        (self.kind == DeviceIdType::Mac).then_some(octets)
    }

    fn fixed<const M: usize>(kind: DeviceIdType, bytes: &[u8; M]) -> Self {
        Self {
            kind,
            value: ShortBytes::from_array(bytes),
        }
    }
}

/// Folds the ASCII letters of a serial number or login to its canonical case; the result is
/// checked afterwards by [`DeviceId::from_canonical`].
fn fold_case(
    text: &str,
    kind: DeviceIdType,
    fold: fn(&u8) -> u8,
) -> Result<ShortBytes<MAX_VALUE_LEN>, Error> {
    let too_long = Error::TooLong {
        field: kind.field(),
        max: MAX_VALUE_LEN,
        actual: text.len(),
    };
    let mut folded = [0u8; MAX_VALUE_LEN];
    let slot = folded.get_mut(..text.len()).ok_or(too_long)?;
    for (out, byte) in slot.iter_mut().zip(text.as_bytes()) {
        *out = fold(byte);
    }
    ShortBytes::new(slot).ok_or(too_long)
}

fn check_value(kind: DeviceIdType, value: &[u8]) -> Result<(), Error> {
    let field = kind.field();
    let (min, max) = kind.value_len_bounds();
    if min == max && value.len() != min {
        return Err(Error::WrongLength {
            field,
            expected: min,
            actual: value.len(),
        });
    }
    if value.len() < min {
        return Err(Error::TooShort {
            field,
            min,
            actual: value.len(),
        });
    }
    if value.len() > max {
        return Err(Error::TooLong {
            field,
            max,
            actual: value.len(),
        });
    }
    match kind {
        DeviceIdType::Extension => check_extension(value),
        DeviceIdType::SerialNumber => check_serial(value),
        DeviceIdType::UserLogin => check_login(value),
        DeviceIdType::Ipv6 => check_ipv6(value),
        DeviceIdType::Ipv4 | DeviceIdType::Mac => Ok(()),
    }
}

/// The first 12 bytes of an IPv4-mapped IPv6 address (RFC 4291 section 2.5.5.2).
const IPV4_MAPPED_PREFIX: [u8; 12] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

fn check_ipv6(value: &[u8]) -> Result<(), Error> {
    if value.starts_with(&IPV4_MAPPED_PREFIX) {
        return Err(Error::NotCanonical {
            field: "ipv6 address",
            reason: "an ipv4-mapped address is written as its ipv4 identifier",
        });
    }
    Ok(())
}

fn check_extension(value: &[u8]) -> Result<(), Error> {
    if value.iter().all(u8::is_ascii_digit) {
        return Ok(());
    }
    Err(Error::InvalidValue {
        field: "extension",
        reason: "allowed are digits 0-9",
    })
}

fn check_serial(value: &[u8]) -> Result<(), Error> {
    let field = "serial number";
    if value.iter().any(u8::is_ascii_lowercase) {
        return Err(Error::NotCanonical {
            field,
            reason: "lowercase letter",
        });
    }
    if value
        .iter()
        .all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
    {
        return Ok(());
    }
    Err(Error::InvalidValue {
        field,
        reason: "allowed are letters, digits and '-'",
    })
}

fn check_login(value: &[u8]) -> Result<(), Error> {
    let field = "user login";
    if value.iter().any(u8::is_ascii_uppercase) {
        return Err(Error::NotCanonical {
            field,
            reason: "uppercase letter",
        });
    }
    let allowed = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(b);
    if value.iter().all(allowed) {
        return Ok(());
    }
    Err(Error::InvalidValue {
        field,
        reason: "allowed are letters, digits, '.', '_' and '-'",
    })
}

impl FromStr for DeviceId {
    type Err = Error;

    /// Parses the typed text form `PREFIX:VALUE`; the prefix is lowercase and exact.
    fn from_str(text: &str) -> Result<Self, Error> {
        let field = "device identifier";
        let (prefix, value) = text.split_once(':').ok_or(Error::InvalidValue {
            field,
            reason: "missing type prefix",
        })?;
        let kind = DeviceIdType::from_prefix(prefix).ok_or(Error::InvalidValue {
            field,
            reason: "unknown type prefix",
        })?;
        Self::parse_typed(kind, value)
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.kind.prefix())?;
        self.fmt_value(f)
    }
}

impl DeviceId {
    /// Writes the canonical text of the value alone, without the type prefix.
    fn fmt_value(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.value_bytes();
        match self.kind {
            DeviceIdType::Extension | DeviceIdType::SerialNumber | DeviceIdType::UserLogin => {
                f.write_str(self.value.as_ascii())
            }
            DeviceIdType::Ipv4 => net::write_ipv4(f, bytes),
            DeviceIdType::Ipv6 => net::write_ipv6(f, bytes),
            DeviceIdType::Mac => net::write_mac(f, bytes),
        }
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({self})")
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use super::*;

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("ext:12a", "extension"),
            ("sn:A_B", "serial number"),
            ("user:a b", "user login"),
            ("ipv4:1.2.3", "ipv4 address"),
            ("ipv6:1::2::3", "ipv6 address"),
            ("mac:00:11:22", "mac address"),
        ];
        for (text, field) in cases {
            let error = DeviceId::from_str(text).unwrap_err();
            assert!(error.to_string().contains(field), "{text}: {error}");
        }
    }

    #[test]
    fn extension_keeps_leading_zeros() {
        let with_zero = DeviceId::extension("0123").unwrap();
        assert_eq!(with_zero.value_bytes(), b"0123");
        assert_ne!(with_zero, DeviceId::extension("123").unwrap());
        assert_eq!(with_zero.to_string(), "ext:0123");
    }

    #[test]
    fn case_is_folded_from_text_and_refused_in_binary() {
        assert_eq!(
            DeviceId::serial_number("ab-1").unwrap().to_string(),
            "sn:AB-1"
        );
        assert_eq!(
            DeviceId::user_login("Bob.X").unwrap().to_string(),
            "user:bob.x"
        );
        let serial = DeviceId::from_canonical(DeviceIdType::SerialNumber, b"ab-1");
        let reason = "lowercase letter";
        assert_eq!(
            serial,
            Err(Error::NotCanonical {
                field: "serial number",
                reason
            })
        );
        let login = DeviceId::from_canonical(DeviceIdType::UserLogin, b"Bob");
        let reason = "uppercase letter";
        assert_eq!(
            login,
            Err(Error::NotCanonical {
                field: "user login",
                reason
            })
        );
    }

    #[test]
    fn fixed_values_need_their_exact_length() {
        let short = DeviceId::from_canonical(DeviceIdType::Mac, &[0; 5]);
        let expected = Error::WrongLength {
            field: "mac address",
            expected: 6,
            actual: 5,
        };
        assert_eq!(short, Err(expected));
        assert!(DeviceId::from_canonical(DeviceIdType::Ipv6, &[0; 15]).is_err());
        assert!(DeviceId::from_canonical(DeviceIdType::Ipv4, &[0; 4]).is_ok());
    }

    #[test]
    fn type_prefix_is_exact() {
        for text in [
            "MAC:00-11-22-33-44-55",
            "mac 00-11-22-33-44-55",
            "phone:1",
            ":1",
            "",
        ] {
            let error = DeviceId::from_str(text).unwrap_err();
            assert!(matches!(
                error,
                Error::InvalidValue {
                    field: "device identifier",
                    ..
                }
            ));
        }
    }

    #[test]
    fn typed_accessors_answer_only_for_their_type() {
        let mac = DeviceId::mac([1, 2, 3, 4, 5, 6]);
        assert_eq!(mac.as_mac(), Some([1, 2, 3, 4, 5, 6]));
        assert_eq!(mac.as_ipv4(), None);
        let v4 = DeviceId::parse_ipv4("192.0.2.1").unwrap();
        assert_eq!(v4.as_ipv4(), Some(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(v4.as_ipv6(), None);
        assert_eq!(
            DeviceIdType::ALL.map(|t| DeviceIdType::from_code(t.code())),
            DeviceIdType::ALL.map(Some)
        );
        assert_eq!(DeviceIdType::from_code(0), None);
        assert_eq!(DeviceIdType::from_code(7), None);
    }

    #[test]
    fn ipv4_mapped_ipv6_is_the_ipv4_identifier() {
        let mapped: DeviceId = "ipv6:::FFFF:192.0.2.33".parse().unwrap();
        assert_eq!(mapped, DeviceId::ipv4(Ipv4Addr::new(192, 0, 2, 33)));
        assert_eq!(mapped.to_string(), "ipv4:192.0.2.33");
        let octets = Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0221).octets();
        let err = DeviceId::from_canonical(DeviceIdType::Ipv6, &octets).unwrap_err();
        assert_eq!(err.code(), 105);
        let compatible: DeviceId = "ipv6:::192.0.2.33".parse().unwrap();
        assert_eq!(compatible.kind(), DeviceIdType::Ipv6);
    }
}
