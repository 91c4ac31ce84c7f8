//! The agent's durable state in SQLite: key identifier counters, the directory of users and
//! devices with PIN verifiers, issued key identifiers, revocations and master key epochs.
//!
//! Counters are reserved in a committed transaction before any key identifier using them leaves
//! the agent, so a counter is never issued twice, even across a crash and restart: a reserved
//! counter that was never used is simply skipped.

use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OptionalExtension, params};
use zeroize::Zeroizing;

use keyprov::secret::{Pin, PinVerifier};

use crate::inventory::Phone;

/// Failed PIN attempts within [`LOCKOUT_SECONDS`] after which a user is locked out.
pub const MAX_PIN_FAILURES: u32 = 5;
/// The window in which failures count, in seconds: a lockout lasts until the failures that
/// caused it are this old.
pub const LOCKOUT_SECONDS: u64 = 300;
/// Most logins outside the directory whose PIN failures are counted; past it the one whose last
/// failure is oldest is forgotten, so a flood of made-up logins cannot grow the database.
pub const MAX_UNKNOWN_LOGINS: u32 = 10_000;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS counters (scope TEXT PRIMARY KEY, next INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    login TEXT PRIMARY KEY, extension TEXT NOT NULL, pin_verifier BLOB,
    failures INTEGER NOT NULL DEFAULT 0, last_failure INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS devices (
    serial TEXT PRIMARY KEY, mac TEXT NOT NULL UNIQUE, extension TEXT NOT NULL,
    login TEXT NOT NULL REFERENCES users(login));
CREATE TABLE IF NOT EXISTS issued (
    key_id TEXT PRIMARY KEY, device TEXT NOT NULL, epoch INTEGER NOT NULL,
    counter INTEGER NOT NULL, issued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
    superseded_by TEXT);
CREATE INDEX IF NOT EXISTS issued_by_device ON issued(device);
CREATE TABLE IF NOT EXISTS unknown_logins (
    login TEXT PRIMARY KEY, failures INTEGER NOT NULL, last_failure INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS unknown_logins_by_age ON unknown_logins(last_failure);
CREATE TABLE IF NOT EXISTS revocations (
    key_id TEXT PRIMARY KEY, revoked_at INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS epochs (
    epoch INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, retired_at INTEGER);
";

/// A user's PIN verifier, failure count and time of the last failure.
type PinRow = (Option<Vec<u8>>, u32, u64);
/// A login's PIN verifier, if the directory holds one, and its recent PIN failures.
pub type UserPinRecord = (Option<Zeroizing<Vec<u8>>>, u32);

/// The agent's database. Calls are short and serialised by a mutex.
pub struct Store {
    conn: Mutex<Connection>,
}

/// A device of the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceEntry {
    /// Serial number.
    pub serial: String,
    /// MAC address, lowercase with colons.
    pub mac: String,
    /// The user's extension.
    pub extension: String,
    /// The user's login.
    pub login: String,
}

/// The state of an issued key identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyStatus {
    /// Issued, current and unexpired.
    Current {
        /// The epoch of the master key it was derived from.
        epoch: u32,
        /// The device it was issued to.
        device: String,
        /// Expiry, Unix seconds.
        expires_at: u64,
    },
    /// A newer key identifier was issued to the same device.
    Superseded,
    /// Revoked.
    Revoked,
    /// Its lifetime is over.
    Expired,
    /// Never issued here.
    Unknown,
}

impl Store {
    /// Opens (creating when needed) the database at `path`, with durable commits.
    pub fn open(path: &Path) -> Result<Self> {
        create_private(path)?;
        let conn = Connection::open(path).with_context(|| format!("open {}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Durably reserves `count` consecutive counters of `scope` and returns the first. The
    /// counters start at 1 and end at `u32::MAX`.
    pub fn reserve_counters(&self, scope: &str, count: u32) -> Result<u32> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let next: u64 = tx
            .query_row("SELECT next FROM counters WHERE scope = ?1", [scope], |r| {
                r.get(0)
            })
            .optional()?
            .unwrap_or(1);
        let end = next + u64::from(count);
        if end - 1 > u64::from(u32::MAX) {
            bail!("key id counter exhausted at 4294967295");
        }
        tx.execute(
            "INSERT INTO counters(scope, next) VALUES (?1, ?2)
             ON CONFLICT(scope) DO UPDATE SET next = excluded.next",
            params![scope, end],
        )?;
        tx.commit()?;
        Ok(next as u32)
    }

    /// Enrolls every phone in one transaction; returns how many.
    pub fn enroll_all(&self, phones: &[Phone]) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for phone in phones {
            let verifier = phone
                .pin
                .as_deref()
                .map(|pin| pin_verifier(&phone.login, pin))
                .transpose()?;
            tx.execute(
                "INSERT INTO users(login, extension, pin_verifier) VALUES (?1, ?2, ?3)
                 ON CONFLICT(login) DO UPDATE SET extension = excluded.extension,
                 pin_verifier = excluded.pin_verifier",
                params![
                    phone.login,
                    phone.extension,
                    verifier.as_ref().map(|v| &v.expose_secret()[..])
                ],
            )?;
            tx.execute(
                "INSERT OR REPLACE INTO devices(serial, mac, extension, login)
                 VALUES (?1, ?2, ?3, ?4)",
                params![phone.serial, phone.mac, phone.extension, phone.login],
            )?;
        }
        tx.commit()?;
        Ok(phones.len())
    }

    /// Finds a device by `serial` or `mac` (the only columns accepted).
    pub fn device_by(&self, column: &str, value: &str) -> Result<Option<DeviceEntry>> {
        let sql = match column {
            "serial" => "SELECT serial, mac, extension, login FROM devices WHERE serial = ?1",
            "mac" => "SELECT serial, mac, extension, login FROM devices WHERE mac = ?1",
            other => bail!("devices are not looked up by {other}"),
        };
        let conn = self.conn();
        let entry = conn
            .query_row(sql, [value], |r| {
                Ok(DeviceEntry {
                    serial: r.get(0)?,
                    mac: r.get(1)?,
                    extension: r.get(2)?,
                    login: r.get(3)?,
                })
            })
            .optional()?;
        Ok(entry)
    }

    /// Whether the user has a PIN at all.
    pub fn has_pin(&self, login: &str) -> Result<bool> {
        let conn = self.conn();
        let found: Option<Option<Vec<u8>>> = conn
            .query_row(
                "SELECT pin_verifier FROM users WHERE login = ?1",
                [login],
                |r| r.get(0),
            )
            .optional()?;
        Ok(matches!(found, Some(Some(_))))
    }

    /// A login's PIN verifier (`None` for a login outside the directory or a user without a
    /// PIN) and the failures counted for it in the last [`LOCKOUT_SECONDS`]. Failures are
    /// counted for every login, known or not, so the lockout tells none apart.
    pub fn user_record(&self, login: &str, now: u64) -> Result<UserPinRecord> {
        let conn = self.conn();
        let user: Option<PinRow> = conn
            .query_row(
                "SELECT pin_verifier, failures, last_failure FROM users WHERE login = ?1",
                [login],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let (verifier, failures, last_failure) = match user {
            Some(row) => row,
            None => conn
                .query_row(
                    "SELECT NULL, failures, last_failure FROM unknown_logins WHERE login = ?1",
                    [login],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?
                .unwrap_or((None, 0, 0)),
        };
        let recent = if now < last_failure + LOCKOUT_SECONDS {
            failures
        } else {
            0
        };
        Ok((verifier.map(Zeroizing::new), recent))
    }

    /// Counts a failed PIN proof for `login` at time `at`, in the directory or, for a login
    /// outside it, in the bounded table of unknown logins; failures older than
    /// [`LOCKOUT_SECONDS`] are forgotten first. Returns the count.
    pub fn pin_failed(&self, login: &str, at: u64) -> Result<u32> {
        self.pin_failed_within(login, at, MAX_UNKNOWN_LOGINS)
    }

    /// [`Store::pin_failed`] keeping at most `max_unknown` unknown logins.
    fn pin_failed_within(&self, login: &str, at: u64, max_unknown: u32) -> Result<u32> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let count = "CASE WHEN ?2 < last_failure + ?3 THEN failures + 1 ELSE 1 END";
        let known: Option<u32> = tx
            .query_row(
                &format!(
                    "UPDATE users SET failures = {count}, last_failure = ?2 WHERE login = ?1
                     RETURNING failures"
                ),
                params![login, at, LOCKOUT_SECONDS],
                |r| r.get(0),
            )
            .optional()?;
        let failures = match known {
            Some(failures) => failures,
            None => {
                let failures = tx.query_row(
                    &format!(
                        "INSERT INTO unknown_logins (login, failures, last_failure)
                         VALUES (?1, 1, ?2) ON CONFLICT (login) DO UPDATE SET
                         failures = {count}, last_failure = ?2 RETURNING failures"
                    ),
                    params![login, at, LOCKOUT_SECONDS],
                    |r| r.get(0),
                )?;
                tx.execute(
                    "DELETE FROM unknown_logins WHERE (SELECT COUNT(*) FROM unknown_logins) > ?1
                     AND login = (SELECT login FROM unknown_logins
                                  ORDER BY last_failure, login LIMIT 1)",
                    [max_unknown],
                )?;
                failures
            }
        };
        tx.commit()?;
        Ok(failures)
    }

    /// Clears a login's failure count after a verified PIN proof.
    pub fn pin_accepted(&self, login: &str) -> Result<()> {
        self.conn()
            .execute("UPDATE users SET failures = 0 WHERE login = ?1", [login])?;
        Ok(())
    }

    /// Records an issued key identifier; earlier current ones of the same device become
    /// superseded by it.
    pub fn record_issued(
        &self,
        key_id: &str,
        device: &str,
        epoch: u32,
        counter: u32,
        now: u64,
        expires_at: u64,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE issued SET superseded_by = ?1 WHERE device = ?2 AND superseded_by IS NULL",
            params![key_id, device],
        )?;
        tx.execute(
            "INSERT INTO issued(key_id, device, epoch, counter, issued_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![key_id, device, epoch, counter, now, expires_at],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// What is known about a key identifier at time `now`.
    pub fn key_status(&self, key_id: &str, now: u64) -> Result<KeyStatus> {
        let conn = self.conn();
        let revoked: Option<String> = conn
            .query_row(
                "SELECT reason FROM revocations WHERE key_id = ?1",
                [key_id],
                |r| r.get(0),
            )
            .optional()?;
        if revoked.is_some() {
            return Ok(KeyStatus::Revoked);
        }
        let row: Option<(u32, String, u64, Option<String>)> = conn
            .query_row(
                "SELECT epoch, device, expires_at, superseded_by FROM issued WHERE key_id = ?1",
                [key_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        Ok(match row {
            None => KeyStatus::Unknown,
            Some((_, _, _, Some(_))) => KeyStatus::Superseded,
            Some((_, _, expires_at, None)) if expires_at <= now => KeyStatus::Expired,
            Some((epoch, device, expires_at, None)) => KeyStatus::Current {
                epoch,
                device,
                expires_at,
            },
        })
    }

    /// Every issued key identifier with its device and counter, in issue order.
    pub fn issued(&self) -> Result<Vec<(String, String, u32)>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT key_id, device, counter FROM issued ORDER BY issued_at, rowid")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Revokes a key identifier.
    pub fn revoke(&self, key_id: &str, reason: &str, now: u64) -> Result<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO revocations(key_id, revoked_at, reason) VALUES (?1, ?2, ?3)",
            params![key_id, now, reason],
        )?;
        Ok(())
    }

    /// Every current key identifier with its epoch, for exports.
    pub fn current_keys(&self, now: u64) -> Result<Vec<(String, u32)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT key_id, epoch FROM issued WHERE superseded_by IS NULL AND expires_at > ?1
             AND key_id NOT IN (SELECT key_id FROM revocations) ORDER BY key_id",
        )?;
        let rows = stmt.query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every master key epoch with whether it was retired, oldest first; epoch 1 is created
    /// on first use. New keys are issued under the newest.
    pub fn epochs(&self, now: u64) -> Result<Vec<(u32, bool)>> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO epochs(epoch, created_at) VALUES (1, ?1)",
            [now],
        )?;
        let mut stmt =
            conn.prepare("SELECT epoch, retired_at IS NOT NULL FROM epochs ORDER BY epoch")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Starts the next epoch: keys are issued under it from the agent's next start on, and the
    /// keys of older live epochs keep verifying. Returns the new epoch.
    pub fn new_epoch(&self, now: u64) -> Result<u32> {
        let newest = self.epochs(now)?.last().map_or(1, |(epoch, _)| *epoch);
        let next = newest + 1;
        if next > u32::from(u16::MAX) {
            bail!("master key epoch exhausted at 65535");
        }
        self.conn().execute(
            "INSERT INTO epochs(epoch, created_at) VALUES (?1, ?2)",
            params![next, now],
        )?;
        Ok(next)
    }

    /// Retires an older epoch: keys issued under it stop verifying from the agent's next start
    /// on. The newest epoch cannot be retired.
    pub fn retire_epoch(&self, epoch: u32, now: u64) -> Result<()> {
        let epochs = self.epochs(now)?;
        match epochs.iter().find(|(e, _)| *e == epoch) {
            None => bail!("no master key epoch {epoch}"),
            Some(_) if epochs.last().map(|(e, _)| *e) == Some(epoch) => {
                bail!("epoch {epoch} is the newest: start a new one before retiring it")
            }
            Some(_) => {}
        }
        self.conn().execute(
            "UPDATE epochs SET retired_at = ?2 WHERE epoch = ?1 AND retired_at IS NULL",
            params![epoch, now],
        )?;
        Ok(())
    }
}

/// Creates the database file, if it is new, readable by its owner only: it holds PIN
/// verifiers, from which a PIN is found offline by trying them all. SQLite gives its journal
/// files the database file's mode.
fn create_private(path: &Path) -> Result<()> {
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            Err(e).with_context(|| format!("create {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// The PIN verifier of a user, as keyprov defines it, salted with [`pin_salt`].
pub fn pin_verifier(login: &str, pin: &str) -> Result<PinVerifier> {
    Ok(keyprov::agent::pin_verifier(
        &pin_salt(login),
        &Pin::new(pin)?,
    ))
}

/// A user's salt: not secret, and derived from the login so that a phone can compute it from
/// what its user types.
pub fn pin_salt(login: &str) -> Vec<u8> {
    [PIN_SALT_PREFIX, login.as_bytes()].concat()
}

const PIN_SALT_PREFIX: &[u8] = b"keyprov-services pin salt:";

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(n: u32, pin: Option<&str>) -> Phone {
        Phone {
            extension: format!("{}", 2000 + n),
            serial: format!("SN{n:06}"),
            mac: format!("00:11:22:33:44:{n:02x}"),
            login: format!("user{n}"),
            pin: pin.map(Into::into),
        }
    }

    #[test]
    fn counters_are_never_reused_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.sqlite");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.reserve_counters("e1", 1).unwrap(), 1);
        assert_eq!(store.reserve_counters("e1", 10).unwrap(), 2);
        assert_eq!(store.reserve_counters("e2", 1).unwrap(), 1);
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.reserve_counters("e1", 1).unwrap(), 12);
    }

    #[test]
    fn counter_exhaustion_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        assert_eq!(store.reserve_counters("s", u32::MAX - 1).unwrap(), 1);
        assert_eq!(store.reserve_counters("s", 1).unwrap(), u32::MAX);
        let err = store.reserve_counters("s", 1).unwrap_err().to_string();
        assert_eq!(err, "key id counter exhausted at 4294967295");
    }

    #[test]
    fn pin_failures_are_counted_within_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        store
            .enroll_all(&[phone(1, Some("1234")), phone(2, None)])
            .unwrap();
        assert_eq!(store.user_record("user1", 100).unwrap().1, 0);
        assert!(
            store.user_record("user2", 100).unwrap().0.is_none(),
            "no pin, no verifier"
        );
        assert!(store.user_record("nobody", 100).unwrap().0.is_none());
        assert_eq!(store.pin_failed("user1", 100).unwrap(), 1);
        assert_eq!(store.pin_failed("user1", 101).unwrap(), 2);
        assert_eq!(store.user_record("user1", 102).unwrap().1, 2);
        let later = 101 + LOCKOUT_SECONDS;
        assert_eq!(store.user_record("user1", later).unwrap().1, 0);
        assert_eq!(store.pin_failed("user1", later).unwrap(), 1);
        store.pin_accepted("user1").unwrap();
        assert_eq!(store.user_record("user1", 500).unwrap().1, 0);
        let stored = store.user_record("user1", 500).unwrap().0.unwrap();
        assert_eq!(
            &stored[..],
            pin_verifier("user1", "1234").unwrap().expose_secret()
        );
    }

    #[test]
    fn unknown_logins_count_failures_like_known_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        store.enroll_all(&[phone(1, Some("1234"))]).unwrap();
        for at in 100..103 {
            let known = store.pin_failed("user1", at).unwrap();
            let unknown = store.pin_failed("nobody", at).unwrap();
            assert_eq!(known, unknown);
            assert_eq!(
                store.user_record("user1", at).unwrap().1,
                store.user_record("nobody", at).unwrap().1
            );
        }
        assert_eq!(store.user_record("nobody", 103).unwrap(), (None, 3));
        let later = 102 + LOCKOUT_SECONDS;
        assert_eq!(store.user_record("nobody", later).unwrap().1, 0);
        assert_eq!(store.pin_failed("nobody", later).unwrap(), 1);
    }

    #[test]
    fn the_table_of_unknown_logins_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        for i in 0..8 {
            store
                .pin_failed_within(&format!("guess{i}"), 1000 + i, 5)
                .unwrap();
        }
        store.pin_failed_within("guess7", 1008, 5).unwrap();
        let rows: u32 = store
            .conn()
            .query_row("SELECT COUNT(*) FROM unknown_logins", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 5);
        for (login, failures) in [("guess2", 0), ("guess3", 1), ("guess7", 2)] {
            assert_eq!(
                store.user_record(login, 1010).unwrap().1,
                failures,
                "{login}"
            );
        }
    }

    #[test]
    fn newer_key_supersedes_older_and_revocation_wins() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        store.record_issued("k1", "SN1", 1, 1, 10, 1000).unwrap();
        store.record_issued("k2", "SN1", 1, 2, 20, 1000).unwrap();
        assert_eq!(store.key_status("k1", 30).unwrap(), KeyStatus::Superseded);
        assert_eq!(
            store.key_status("k2", 30).unwrap(),
            KeyStatus::Current {
                epoch: 1,
                device: "SN1".into(),
                expires_at: 1000
            }
        );
        assert_eq!(store.key_status("k2", 1000).unwrap(), KeyStatus::Expired);
        store.revoke("k2", "lost phone", 40).unwrap();
        assert_eq!(store.key_status("k2", 50).unwrap(), KeyStatus::Revoked);
        assert_eq!(store.key_status("k9", 50).unwrap(), KeyStatus::Unknown);
    }

    #[test]
    fn epochs_start_at_one_and_only_older_ones_retire() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        assert_eq!(store.epochs(5).unwrap(), vec![(1, false)]);
        assert_eq!(store.new_epoch(6).unwrap(), 2);
        assert!(store.retire_epoch(2, 7).is_err(), "the newest epoch stays");
        assert!(store.retire_epoch(9, 7).is_err());
        store.retire_epoch(1, 7).unwrap();
        assert_eq!(store.epochs(8).unwrap(), vec![(1, true), (2, false)]);
    }
}
