//! The master key seed file: hexadecimal text, readable by its owner only.
//!
//! The seed is never taken from the command line, where other users could read it from the
//! process list. A file that its group or others may read or write is refused.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{Context, Result, bail};
use zeroize::Zeroizing;

/// Fewest seed bytes accepted: the seed must carry at least 256 bits of entropy.
pub const MIN_SEED_LEN: usize = 32;
/// Most seed bytes accepted.
pub const MAX_SEED_LEN: usize = 1024;

/// Reads the seed, after checking that the file's mode is 0600 or stricter.
pub fn read_seed(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    check_private(path)?;
    let text = Zeroizing::new(fs::read_to_string(path).context("seed file is not text")?);
    decode_hex_seed(text.trim())
}

/// Refuses a file that its group or others may access in any way.
pub fn check_private(path: &Path) -> Result<()> {
    let meta = fs::metadata(path).with_context(|| format!("file {}", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "file {} has mode {mode:04o}: group and others must have no access (chmod 600)",
            path.display()
        );
    }
    Ok(())
}

/// Writes a fresh random seed to a new file created with mode 0600.
pub fn write_new_seed(path: &Path) -> Result<()> {
    let mut seed = Zeroizing::new([0u8; MIN_SEED_LEN]);
    crate::random::fill(seed.as_mut_slice())?;
    let text = Zeroizing::new(format!("{}\n", hex_encode(seed.as_slice())));
    crate::tls::create_private(path, text.as_bytes()).context("seed file")
}

fn decode_hex_seed(text: &str) -> Result<Zeroizing<Vec<u8>>> {
    let seed = decode_hex(text).context("seed file")?;
    let len = seed.len();
    if !(MIN_SEED_LEN..=MAX_SEED_LEN).contains(&len) {
        bail!("seed holds {len} bytes; accepted {MIN_SEED_LEN}..={MAX_SEED_LEN}");
    }
    Ok(seed)
}

/// Bytes from hexadecimal text (either case).
pub fn decode_hex(text: &str) -> Result<Zeroizing<Vec<u8>>> {
    if text.len() % 2 != 0 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("expected an even number of hexadecimal digits");
    }
    let mut out = Zeroizing::new(Vec::with_capacity(text.len() / 2));
    for pair in text.as_bytes().chunks(2) {
        out.push((hex_value(pair[0]) << 4) | hex_value(pair[1]));
    }
    Ok(out)
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit - b'A' + 10,
    }
}

/// Lowercase hexadecimal text of some bytes.
pub fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_by_group_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seed");
        fs::write(&path, "00".repeat(32)).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let err = read_seed(&path).unwrap_err().to_string();
        assert!(err.contains("mode 0640"), "{err}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_seed(&path).unwrap().as_slice(), &[0u8; 32]);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        assert!(read_seed(&path).is_ok());
    }

    #[test]
    fn generated_seed_file_is_private_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seed");
        write_new_seed(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read_seed(&path).unwrap().len(), MIN_SEED_LEN);
        assert!(
            write_new_seed(&path).is_err(),
            "an existing seed is never overwritten"
        );
    }

    #[test]
    fn short_or_malformed_seed_is_refused() {
        assert!(
            decode_hex_seed(&"ab".repeat(31))
                .unwrap_err()
                .to_string()
                .contains("31 bytes")
        );
        assert!(decode_hex_seed("zz").is_err());
        assert_eq!(decode_hex_seed(&"Ab".repeat(32)).unwrap()[0], 0xab);
    }
}
