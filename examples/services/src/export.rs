//! Registrar-side credentials for other registrars: Kamailio's db_text `subscriber` table with
//! one row per current key identifier (username = key identifier text, H(A1) for one realm).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use keyprov::secret::DigestHa1;

/// The db_text `version` table naming the `subscriber` table's version.
pub const VERSION_TABLE: &str =
    "id(int,auto) table_name(string) table_version(int) \n0:subscriber:7\n";

/// The db_text `subscriber` table for `realm`.
pub fn subscriber_table(realm: &str, rows: &[(String, DigestHa1)]) -> String {
    let mut out = String::from("id(int,auto) username(string) domain(string) ha1(string) \n");
    for (id, (username, ha1)) in rows.iter().enumerate() {
        let ha1 = String::from_utf8_lossy(ha1.expose_secret());
        let _ = writeln!(out, "{}:{username}:{realm}:{ha1}", id + 1);
    }
    out
}

/// Writes the `version` and `subscriber` tables into `dir` (the subscriber file mode 0600:
/// an H(A1) answers any challenge of its realm).
pub fn write_dbtext(dir: &Path, realm: &str, rows: &[(String, DigestHa1)]) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("version"), VERSION_TABLE)?;
    crate::tls::write_private(
        &dir.join("subscriber"),
        subscriber_table(realm, rows).as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_one_numbered_row_per_key() {
        let rows = vec![
            (
                "kp1AAA".to_string(),
                DigestHa1::from_hex(&"ab".repeat(32)).unwrap(),
            ),
            (
                "kp1BBB".to_string(),
                DigestHa1::from_hex(&"CD".repeat(16)).unwrap(),
            ),
        ];
        let table = subscriber_table("sip.example.test", &rows);
        let expected = format!(
            "id(int,auto) username(string) domain(string) ha1(string) \n\
             1:kp1AAA:sip.example.test:{}\n2:kp1BBB:sip.example.test:{}\n",
            "ab".repeat(32),
            "cd".repeat(16)
        );
        assert_eq!(table, expected);
    }
}
