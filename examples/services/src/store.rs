//! The agent's durable state in SQLite: key identifier counters, the directory of users and
//! devices with PIN verifiers, issued key identifiers, revocations and master key epochs.
//!
//! Counters are reserved in a committed transaction before any key identifier using them leaves
//! the agent, so a counter is never issued twice, even across a crash and restart: a reserved
//! counter that was never used is simply skipped.

use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use ring::pbkdf2;
use rusqlite::{Connection, OptionalExtension, params};
use zeroize::Zeroizing;

use crate::inventory::Phone;

/// PBKDF2-HMAC-SHA256 iterations of a PIN verifier. A PIN has few digits, so the lockout, not
/// the iteration count, is what protects it; the count only slows an offline search of a
/// stolen database.
const PIN_ITERATIONS: NonZeroU32 = NonZeroU32::new(2_000).expect("non-zero");
/// Failed PIN attempts before a user is locked out.
pub const MAX_PIN_FAILURES: u32 = 5;
/// How long a lockout lasts, in seconds.
pub const LOCKOUT_SECONDS: u64 = 300;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS counters (scope TEXT PRIMARY KEY, next INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    login TEXT PRIMARY KEY, extension TEXT NOT NULL, pin_verifier BLOB,
    failures INTEGER NOT NULL DEFAULT 0, locked_until INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS devices (
    serial TEXT PRIMARY KEY, mac TEXT NOT NULL UNIQUE, extension TEXT NOT NULL,
    login TEXT NOT NULL REFERENCES users(login));
CREATE TABLE IF NOT EXISTS issued (
    key_id TEXT PRIMARY KEY, device TEXT NOT NULL, epoch INTEGER NOT NULL,
    counter INTEGER NOT NULL, issued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
    superseded_by TEXT);
CREATE INDEX IF NOT EXISTS issued_by_device ON issued(device);
CREATE TABLE IF NOT EXISTS revocations (
    key_id TEXT PRIMARY KEY, revoked_at INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS epochs (
    epoch INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, retired_at INTEGER);
";

/// A user's PIN verifier, failure count and lockout end.
type PinRow = (Option<Vec<u8>>, u32, u64);

/// The agent's database. Calls are short and serialised by a mutex.
pub struct Store {
    conn: Mutex<Connection>,
}

/// What a PIN check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinCheck {
    /// The PIN matches; the failure count was reset.
    Accepted,
    /// The PIN does not match; this many attempts remain before a lockout.
    Wrong {
        /// Attempts left.
        remaining: u32,
    },
    /// The user is locked out until this Unix time (seconds).
    LockedOut {
        /// End of the lockout.
        until: u64,
    },
    /// No such user.
    UnknownUser,
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

    /// Adds or replaces a user and a device of the inventory. The PIN is kept only as a
    /// verifier.
    pub fn enroll(&self, phone: &Phone) -> Result<()> {
        self.enroll_all(std::slice::from_ref(phone)).map(|_| ())
    }

    /// Enrolls every phone in one transaction; returns how many.
    pub fn enroll_all(&self, phones: &[Phone]) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for phone in phones {
            let verifier = phone
                .pin
                .as_deref()
                .map(|pin| pin_verifier(&phone.login, pin));
            tx.execute(
                "INSERT INTO users(login, extension, pin_verifier) VALUES (?1, ?2, ?3)
                 ON CONFLICT(login) DO UPDATE SET extension = excluded.extension,
                 pin_verifier = excluded.pin_verifier",
                params![
                    phone.login,
                    phone.extension,
                    verifier.as_ref().map(|v| &v[..])
                ],
            )?;
            tx.execute(
                "INSERT OR REPLACE INTO devices(serial, mac, extension, login) VALUES (?1,?2,?3,?4)",
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

    /// Checks a PIN proof with `matches`, which is given the user's stored verifier; counts
    /// failures and locks the user out after [`MAX_PIN_FAILURES`].
    pub fn check_pin(
        &self,
        login: &str,
        now: u64,
        matches: impl FnOnce(&[u8]) -> bool,
    ) -> Result<PinCheck> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let row: Option<PinRow> = tx
            .query_row(
                "SELECT pin_verifier, failures, locked_until FROM users WHERE login = ?1",
                [login],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((verifier, failures, locked_until)) = row else {
            return Ok(PinCheck::UnknownUser);
        };
        if locked_until > now {
            return Ok(PinCheck::LockedOut {
                until: locked_until,
            });
        }
        let verifier = verifier.map(Zeroizing::new);
        let outcome = if verifier.as_deref().is_some_and(|v| matches(v)) {
            tx.execute("UPDATE users SET failures = 0 WHERE login = ?1", [login])?;
            PinCheck::Accepted
        } else if failures + 1 >= MAX_PIN_FAILURES {
            let until = now + LOCKOUT_SECONDS;
            tx.execute(
                "UPDATE users SET failures = 0, locked_until = ?2 WHERE login = ?1",
                params![login, until],
            )?;
            PinCheck::LockedOut { until }
        } else {
            let failures = failures + 1;
            tx.execute(
                "UPDATE users SET failures = ?2 WHERE login = ?1",
                params![login, failures],
            )?;
            PinCheck::Wrong {
                remaining: MAX_PIN_FAILURES - failures,
            }
        };
        tx.commit()?;
        Ok(outcome)
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

    /// The current master key epoch, creating epoch 1 on first use.
    pub fn current_epoch(&self, now: u64) -> Result<u32> {
        let conn = self.conn();
        let epoch: Option<u32> = conn.query_row(
            "SELECT max(epoch) FROM epochs WHERE retired_at IS NULL",
            [],
            |r| r.get(0),
        )?;
        if let Some(epoch) = epoch {
            return Ok(epoch);
        }
        conn.execute(
            "INSERT INTO epochs(epoch, created_at) VALUES (1, ?1)",
            [now],
        )?;
        Ok(1)
    }

    /// Retires the current epoch and starts the next; returns the new epoch.
    pub fn rotate_epoch(&self, now: u64) -> Result<u32> {
        let current = self.current_epoch(now)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE epochs SET retired_at = ?2 WHERE epoch = ?1",
            params![current, now],
        )?;
        tx.execute(
            "INSERT INTO epochs(epoch, created_at) VALUES (?1, ?2)",
            params![current + 1, now],
        )?;
        tx.commit()?;
        Ok(current + 1)
    }
}

/// The PIN verifier of a user: PBKDF2-HMAC-SHA256 of the PIN, salted with the login (so the
/// device can compute it too), [`PIN_ITERATIONS`] rounds.
pub fn pin_verifier(login: &str, pin: &str) -> Zeroizing<[u8; 32]> {
    let mut verifier = Zeroizing::new([0u8; 32]);
    let salt = [PIN_SALT_PREFIX, login.as_bytes()].concat();
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        PIN_ITERATIONS,
        &salt,
        pin.as_bytes(),
        verifier.as_mut_slice(),
    );
    verifier
}

const PIN_SALT_PREFIX: &[u8] = b"keyprov-services pin:";

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
    fn repeated_wrong_pin_locks_out_that_user_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        store
            .enroll_all(&[phone(1, Some("1234")), phone(2, Some("9999"))])
            .unwrap();
        let pin = |login: &str, pin: &str, now| {
            let given = pin_verifier(login, pin);
            store
                .check_pin(login, now, |stored| stored == &given[..])
                .unwrap()
        };
        for remaining in (1..MAX_PIN_FAILURES).rev() {
            assert_eq!(pin("user1", "0000", 100), PinCheck::Wrong { remaining });
        }
        let until = 100 + LOCKOUT_SECONDS;
        assert_eq!(pin("user1", "0000", 100), PinCheck::LockedOut { until });
        assert_eq!(pin("user1", "1234", 101), PinCheck::LockedOut { until });
        assert_eq!(pin("user2", "9999", 101), PinCheck::Accepted);
        assert_eq!(pin("user1", "1234", until), PinCheck::Accepted);
        assert_eq!(pin("nobody", "1234", 0), PinCheck::UnknownUser);
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
    fn pin_verifier_is_pbkdf2_sha256_salted_with_login() {
        // Independent value: Python
        // hashlib.pbkdf2_hmac('sha256', b'1234', b'keyprov-services pin:alice', 2000).
        let verifier = pin_verifier("alice", "1234");
        assert_eq!(crate::seed::hex_encode(&verifier[..]), EXPECTED_PBKDF2);
        assert_ne!(verifier, pin_verifier("alice", "1235"));
    }

    const EXPECTED_PBKDF2: &str =
        "9c35223ce529fef30d866bb7bc0709dfaa5465af1741dd248ac338376e011125";

    #[test]
    fn epochs_start_at_one_and_rotate() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        assert_eq!(store.current_epoch(5).unwrap(), 1);
        assert_eq!(store.rotate_epoch(6).unwrap(), 2);
        assert_eq!(store.current_epoch(7).unwrap(), 2);
    }
}
