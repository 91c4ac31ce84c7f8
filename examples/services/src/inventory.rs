//! The phone inventory: a CSV file with the header `extension,serial,mac,login,pin`.
//!
//! One phone per line; the PIN may be empty when the user is never asked for one. Fields are
//! plain (no quoting: no field may contain a comma). Blank lines and lines starting with `#`
//! are skipped. Errors name the line and the field.

use anyhow::{Result, bail};

/// The header line every inventory starts with.
pub const HEADER: &str = "extension,serial,mac,login,pin";

/// The sample inventory shipped with the services and used when none is given.
pub const SAMPLE: &str = include_str!("../../data/inventory.csv");

/// One phone of the inventory.
#[derive(Clone, PartialEq, Eq)]
pub struct Phone {
    /// The user's extension (digits).
    pub extension: String,
    /// The phone's serial number.
    pub serial: String,
    /// The phone's MAC address, lowercase with colons.
    pub mac: String,
    /// The user's login.
    pub login: String,
    /// The user's PIN, when the user is asked for one.
    pub pin: Option<String>,
}

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Phone")
            .field("extension", &self.extension)
            .field("serial", &self.serial)
            .field("mac", &self.mac)
            .field("login", &self.login)
            .field("pin", &self.pin.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// Parses an inventory.
pub fn parse(text: &str) -> Result<Vec<Phone>> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !skipped(l));
    match lines.next() {
        Some((_, header)) if header.trim() == HEADER => {}
        _ => bail!("inventory must start with the header line `{HEADER}`"),
    }
    let phones: Vec<Phone> = lines
        .map(|(index, line)| parse_line(line).map_err(|e| e.context(format!("line {}", index + 1))))
        .collect::<Result<_>>()?;
    check_unique(&phones)?;
    Ok(phones)
}

fn skipped(line: &str) -> bool {
    let line = line.trim();
    line.is_empty() || line.starts_with('#')
}

fn parse_line(line: &str) -> Result<Phone> {
    let fields: Vec<&str> = line.trim().split(',').map(str::trim).collect();
    let [extension, serial, mac, login, pin] = fields[..] else {
        bail!("expected 5 fields, found {}", fields.len());
    };
    Ok(Phone {
        extension: checked("extension", extension, 2, 16, |c| c.is_ascii_digit())?,
        serial: checked("serial", serial, 1, 32, serial_char)?,
        mac: normalise_mac(mac)?,
        login: checked("login", login, 1, 32, login_char)?,
        pin: match pin {
            "" => None,
            pin => Some(checked("pin", pin, 4, 12, |c| c.is_ascii_digit())?),
        },
    })
}

fn serial_char(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-'
}

fn login_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
}

fn checked(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
    allowed: fn(char) -> bool,
) -> Result<String> {
    if value.len() < min || value.len() > max {
        bail!(
            "{field} has {} characters; accepted {min}..={max}",
            value.len()
        );
    }
    if !value.chars().all(allowed) {
        bail!("{field} holds a character that is not allowed");
    }
    Ok(value.to_string())
}

/// A MAC address as six pairs of hexadecimal digits separated by `:` or `-`, or twelve digits.
pub fn normalise_mac(mac: &str) -> Result<String> {
    let digits: String = mac.chars().filter(|c| !matches!(c, ':' | '-')).collect();
    if digits.len() != 12 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        bail!("mac must be 12 hexadecimal digits, optionally separated by : or -");
    }
    let lower = digits.to_ascii_lowercase();
    let pairs: Vec<&str> = (0..6).map(|i| &lower[2 * i..2 * i + 2]).collect();
    Ok(pairs.join(":"))
}

fn check_unique(phones: &[Phone]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for phone in phones {
        for (field, value) in [
            ("extension", &phone.extension),
            ("serial", &phone.serial),
            ("mac", &phone.mac),
        ] {
            if !seen.insert((field, value.as_str())) {
                bail!("{field} {value} appears twice in the inventory");
            }
        }
    }
    Ok(())
}

/// Writes a synthetic inventory of `count` phones (used to make the sample file and for large
/// runs). PINs are four digits for every third user and empty otherwise.
pub fn synthetic(count: u32) -> String {
    let mut out = format!("{HEADER}\n");
    for n in 0..count {
        let pin = if n % 3 == 0 {
            format!("{:04}", (n * 7919 + 1234) % 10_000)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "{},SN{:08},00:1a:2b:{:02x}:{:02x}:{:02x},user{:04},{}\n",
            2000 + n,
            740_000 + n,
            (n >> 16) & 0xff,
            (n >> 8) & 0xff,
            n & 0xff,
            n,
            pin
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_inventory_parses_with_a_few_hundred_phones() {
        let phones = parse(SAMPLE).unwrap();
        assert!(phones.len() >= 200, "{}", phones.len());
        assert!(phones.iter().any(|p| p.pin.is_some()));
        assert!(phones.iter().any(|p| p.pin.is_none()));
    }

    #[test]
    fn sample_file_matches_the_generator() {
        let phones = parse(SAMPLE).unwrap();
        assert_eq!(parse(&synthetic(phones.len() as u32)).unwrap(), phones);
    }

    #[test]
    fn fields_are_checked_with_line_numbers() {
        let text = format!("{HEADER}\n2001,SN1,00:11:22:33:44:55,alice,1234\n20x2,SN2,x,bob,\n");
        let err = format!("{:#}", parse(&text).unwrap_err());
        assert_eq!(
            err,
            "line 3: extension holds a character that is not allowed"
        );
        let short_pin = format!("{HEADER}\n2001,SN1,001122334455,alice,12\n");
        let err = format!("{:#}", parse(&short_pin).unwrap_err());
        assert_eq!(err, "line 2: pin has 2 characters; accepted 4..=12");
        assert!(
            parse("2001,SN1,001122334455,alice,1234").is_err(),
            "header required"
        );
    }

    #[test]
    fn mac_is_normalised_and_duplicates_refused() {
        assert_eq!(
            normalise_mac("00-1A-2B-3C-4D-5E").unwrap(),
            "00:1a:2b:3c:4d:5e"
        );
        assert_eq!(normalise_mac("001a2b3c4d5e").unwrap(), "00:1a:2b:3c:4d:5e");
        assert!(normalise_mac("00:1a:2b").is_err());
        let text = format!("{HEADER}\n2001,SN1,001122334455,a,\n2002,SN2,00:11:22:33:44:55,b,\n");
        let err = format!("{:#}", parse(&text).unwrap_err());
        assert_eq!(err, "mac 00:11:22:33:44:55 appears twice in the inventory");
    }

    #[test]
    fn debug_hides_the_pin() {
        let phones = parse(&format!("{HEADER}\n2001,SN1,001122334455,alice,8642\n")).unwrap();
        assert!(!format!("{:?}", phones[0]).contains("8642"));
    }
}
