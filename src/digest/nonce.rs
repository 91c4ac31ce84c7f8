//! Registrar nonces: stateless, authenticated, time-stamped; and nonce-count replay tracking in
//! fixed memory.
//!
//! A nonce is `base64url(u64(issued) || salt || tag)` without padding (43 characters), where
//! `issued` is the issue time in seconds (8 bytes, big-endian), `salt` 8 random bytes from the
//! host, and `tag` the first 16 bytes of
//! HMAC-SHA-256(secret, "keyprov digest nonce v1" || 0x00 || u16(len(realm)) || realm ||
//! issued || salt). Any registrar holding the same secret can check a nonce without having
//! seen it; a nonce not made with the secret, or made for another realm, is recognised as
//! forged.

use alloc::collections::BTreeMap;
use alloc::string::String;

use base64ct::{Base64UrlUnpadded, Encoding};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::Error;
use crate::secret::DigestNonceSecret;

const LABEL: &[u8] = b"keyprov digest nonce v1\x00";
const SALT_LEN: usize = 8;
const TAG_LEN: usize = 16;
const RAW_LEN: usize = 8 + SALT_LEN + TAG_LEN;
/// Length of a nonce's text form.
pub const NONCE_TEXT_LEN: usize = 43;
/// Longest nonce lifetime and clock drift accepted, in seconds (one day).
pub const MAX_LIFETIME: u64 = 86_400;
/// Largest replay tracker accepted, in nonces.
pub const MAX_TRACKER_CAPACITY: usize = 1 << 20;

/// What identifies one issued nonce: its issue time and salt.
pub type NonceId = [u8; 8 + SALT_LEN];

/// What a nonce turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceCheck {
    /// Genuine and within its lifetime.
    Valid {
        /// When it was issued, in host seconds.
        issued: u64,
        /// Its identity for nonce-count tracking.
        id: NonceId,
    },
    /// Genuine, but expired or issued further in the future than the allowed clock drift.
    Stale,
    /// Not made with this secret for this realm, or not a keyprov nonce at all.
    Forged,
}

/// Issues and checks the nonces of one realm.
#[derive(Clone, Debug)]
pub struct NonceCodec {
    secret: DigestNonceSecret,
    lifetime: u64,
    max_drift: u64,
}

impl NonceCodec {
    /// A codec whose nonces live `lifetime` seconds, allowing `max_drift` seconds of clock
    /// difference between the registrars that share `secret`.
    pub fn new(secret: DigestNonceSecret, lifetime: u64, max_drift: u64) -> Result<Self, Error> {
        if !(1..=MAX_LIFETIME).contains(&lifetime) {
            return Err(Error::OutOfRange {
                field: "nonce lifetime",
                min: 1,
                max: MAX_LIFETIME,
            });
        }
        if max_drift > MAX_LIFETIME {
            return Err(Error::OutOfRange {
                field: "clock drift",
                min: 0,
                max: MAX_LIFETIME,
            });
        }
        Ok(Self {
            secret,
            lifetime,
            max_drift,
        })
    }

    /// How long after its issue time a nonce is still accepted: lifetime plus drift.
    pub const fn horizon(&self) -> u64 {
        self.lifetime + self.max_drift
    }

    /// Makes a nonce for `realm` issued at `now`, with 8 salt bytes from the host's RNG.
    pub fn issue(&self, realm: &str, now: u64, salt: [u8; SALT_LEN]) -> String {
        let mut raw = [0u8; RAW_LEN];
        raw[..8].copy_from_slice(&now.to_be_bytes());
        raw[8..16].copy_from_slice(&salt);
        let tag = self.tag(realm, &raw[..16]);
        raw[16..].copy_from_slice(&tag);
        Base64UrlUnpadded::encode_string(&raw)
    }

    /// Checks a nonce received in credentials at time `now`.
    pub fn check(&self, realm: &str, nonce: &str, now: u64) -> NonceCheck {
        let mut raw = [0u8; RAW_LEN];
        if nonce.len() != NONCE_TEXT_LEN || Base64UrlUnpadded::decode(nonce, &mut raw).is_err() {
            return NonceCheck::Forged;
        }
        let tag = self.tag(realm, &raw[..16]);
        if !bool::from(tag.ct_eq(&raw[16..])) {
            return NonceCheck::Forged;
        }
        let issued = u64::from_be_bytes(raw[..8].try_into().unwrap_or([0xff; 8]));
        if issued > now.saturating_add(self.max_drift)
            || now > issued.saturating_add(self.horizon())
        {
            return NonceCheck::Stale;
        }
        let mut id = [0u8; 16];
        id.copy_from_slice(&raw[..16]);
        NonceCheck::Valid { issued, id }
    }

    fn tag(&self, realm: &str, issued_and_salt: &[u8]) -> [u8; TAG_LEN] {
        let key = self.secret.expose_secret();
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        let realm_len = u16::try_from(realm.len()).unwrap_or(u16::MAX);
        mac.update(LABEL);
        mac.update(&realm_len.to_be_bytes());
        mac.update(realm.as_bytes());
        mac.update(issued_and_salt);
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&full[..TAG_LEN]);
        tag
    }
}

/// Whether a nonce count may be accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountCheck {
    /// Not seen before for this nonce.
    Fresh,
    /// Seen before, or zero: a replay.
    Replay,
    /// The tracker no longer remembers this nonce and cannot rule out a replay: ask for a new
    /// nonce (stale) instead of accepting.
    Forgotten,
}

/// Accepted counts of one nonce: the highest, and which of the 64 below it were seen.
#[derive(Clone, Copy, Debug)]
struct Entry {
    issued: u64,
    highest: u32,
    seen_below: u64,
}

impl Entry {
    fn has_seen(&self, nc: u32) -> bool {
        match self.highest.checked_sub(nc) {
            Some(0) => true,
            Some(gap @ 1..=64) => self.seen_below & (1u64 << (gap - 1)) != 0,
            Some(_) => true,
            None => false,
        }
    }

    fn mark(&mut self, nc: u32) {
        match self.highest.checked_sub(nc) {
            None => {
                let shift = nc - self.highest;
                let moved = self.seen_below.checked_shl(shift).unwrap_or(0);
                self.seen_below = moved | 1u64.checked_shl(shift - 1).unwrap_or(0);
                self.highest = nc;
            }
            Some(gap @ 1..=64) => self.seen_below |= 1u64 << (gap - 1),
            Some(_) => {}
        }
    }
}

/// Remembers accepted nonce counts in memory of fixed size.
///
/// Each nonce in use takes one entry. Counts may arrive out of order by up to 64; a count 65
/// or more below the highest one accepted for its nonce is treated as a replay. When the
/// tracker is full, the entry of the oldest nonce is dropped and its issue time raised into a
/// watermark: any nonce issued at or before the watermark that the tracker does not know is
/// answered [`CountCheck::Forgotten`] (the registrar asks for a new nonce) rather than
/// accepted, so forgetting never lets a replay through; it only costs the phone one more
/// round trip. Entries are ordered by nonce identity, which starts with the big-endian issue
/// time, so the oldest is always the first: lookups and evictions take logarithmic time.
#[derive(Clone, Debug)]
pub struct NonceTracker {
    entries: BTreeMap<NonceId, Entry>,
    capacity: usize,
    watermark: Option<u64>,
}

impl NonceTracker {
    /// A tracker for at most `capacity` nonces at once.
    pub fn new(capacity: usize) -> Result<Self, Error> {
        if !(1..=MAX_TRACKER_CAPACITY).contains(&capacity) {
            let max = MAX_TRACKER_CAPACITY as u64;
            let field = "nonce tracker capacity";
            return Err(Error::OutOfRange { field, min: 1, max });
        }
        Ok(Self {
            entries: BTreeMap::new(),
            capacity,
            watermark: None,
        })
    }

    /// Whether `nc` may be accepted for the nonce `id` issued at `issued`. Changes nothing.
    pub fn check(&self, id: &NonceId, issued: u64, nc: u32) -> CountCheck {
        if nc == 0 {
            return CountCheck::Replay;
        }
        match self.entries.get(id) {
            Some(entry) if entry.has_seen(nc) => CountCheck::Replay,
            Some(_) => CountCheck::Fresh,
            None if self.watermark.is_some_and(|mark| issued <= mark) => CountCheck::Forgotten,
            None => CountCheck::Fresh,
        }
    }

    /// Records an accepted count. Call only after the response verified and
    /// [`NonceTracker::check`] said [`CountCheck::Fresh`]. Entries older than `horizon`
    /// seconds at `now` are dropped first.
    pub fn record(&mut self, id: &NonceId, issued: u64, nc: u32, now: u64, horizon: u64) {
        if let Some(entry) = self.entries.get_mut(id) {
            entry.mark(nc);
            return;
        }
        self.forget_expired(now, horizon);
        if self.entries.len() >= self.capacity {
            self.forget_oldest();
        }
        let entry = Entry {
            issued,
            highest: nc,
            seen_below: 0,
        };
        self.entries.insert(*id, entry);
    }

    /// Number of nonces remembered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no nonce is remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn forget_expired(&mut self, now: u64, horizon: u64) {
        while let Some((_, oldest)) = self.entries.first_key_value() {
            if oldest.issued.saturating_add(horizon) >= now {
                return;
            }
            self.forget_oldest();
        }
    }

    fn forget_oldest(&mut self) {
        if let Some((_, entry)) = self.entries.pop_first() {
            self.watermark = self.watermark.max(Some(entry.issued));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec() -> NonceCodec {
        let secret = DigestNonceSecret::from_bytes(&[7; 32]).unwrap();
        NonceCodec::new(secret, 300, 30).unwrap()
    }

    #[test]
    fn nonce_is_valid_until_lifetime_plus_drift() {
        let codec = codec();
        let nonce = codec.issue("example.com", 1000, [1; 8]);
        assert_eq!(nonce.len(), NONCE_TEXT_LEN);
        assert!(matches!(
            codec.check("example.com", &nonce, 1330),
            NonceCheck::Valid { .. }
        ));
        assert_eq!(codec.check("example.com", &nonce, 1331), NonceCheck::Stale);
        assert!(matches!(
            codec.check("example.com", &nonce, 970),
            NonceCheck::Valid { .. }
        ));
        assert_eq!(codec.check("example.com", &nonce, 969), NonceCheck::Stale);
    }

    #[test]
    fn other_realm_other_secret_and_edits_are_forged() {
        let codec = codec();
        let nonce = codec.issue("example.com", 1000, [1; 8]);
        assert_eq!(codec.check("example.org", &nonce, 1000), NonceCheck::Forged);
        let other = NonceCodec::new(DigestNonceSecret::from_bytes(&[8; 32]).unwrap(), 300, 30);
        assert_eq!(
            other.unwrap().check("example.com", &nonce, 1000),
            NonceCheck::Forged
        );
        let mut edited = nonce.into_bytes();
        edited[3] = if edited[3] == b'A' { b'B' } else { b'A' };
        let edited = String::from_utf8(edited).unwrap();
        assert_eq!(
            codec.check("example.com", &edited, 1000),
            NonceCheck::Forged
        );
        assert_eq!(
            codec.check("example.com", "short", 1000),
            NonceCheck::Forged
        );
    }

    #[test]
    fn counts_are_accepted_once_and_out_of_order() {
        let mut tracker = NonceTracker::new(4).unwrap();
        let id = [1; 16];
        assert_eq!(tracker.check(&id, 10, 0), CountCheck::Replay);
        tracker.record(&id, 10, 5, 10, 100);
        assert_eq!(tracker.check(&id, 10, 5), CountCheck::Replay);
        assert_eq!(tracker.check(&id, 10, 3), CountCheck::Fresh);
        tracker.record(&id, 10, 3, 10, 100);
        assert_eq!(tracker.check(&id, 10, 3), CountCheck::Replay);
        tracker.record(&id, 10, 100, 10, 100);
        assert_eq!(tracker.check(&id, 10, 5), CountCheck::Replay);
        assert_eq!(
            tracker.check(&id, 10, 35),
            CountCheck::Replay,
            "more than 64 below"
        );
        assert_eq!(tracker.check(&id, 10, 36), CountCheck::Fresh);
        assert_eq!(tracker.check(&id, 10, 101), CountCheck::Fresh);
    }

    fn id(issued: u64, salt: u8) -> NonceId {
        let mut id = [salt; 16];
        id[..8].copy_from_slice(&issued.to_be_bytes());
        id
    }

    #[test]
    fn eviction_fails_safe() {
        let mut tracker = NonceTracker::new(2).unwrap();
        tracker.record(&id(10, 1), 10, 1, 12, 100);
        tracker.record(&id(11, 2), 11, 1, 12, 100);
        tracker.record(&id(12, 3), 12, 1, 12, 100);
        assert_eq!(tracker.len(), 2);
        // The oldest nonce was forgotten: its next count is not accepted but sent for a new
        // nonce, and so is an unseen nonce of the same age.
        assert_eq!(tracker.check(&id(10, 1), 10, 2), CountCheck::Forgotten);
        assert_eq!(tracker.check(&id(10, 9), 10, 1), CountCheck::Forgotten);
        assert_eq!(tracker.check(&id(11, 2), 11, 1), CountCheck::Replay);
        assert_eq!(tracker.check(&id(11, 2), 11, 2), CountCheck::Fresh);
        assert_eq!(tracker.check(&id(13, 8), 13, 1), CountCheck::Fresh);
    }

    #[test]
    fn expired_entries_go_first_and_raise_the_watermark() {
        let mut tracker = NonceTracker::new(8).unwrap();
        tracker.record(&id(10, 1), 10, 1, 10, 100);
        tracker.record(&id(50, 2), 50, 1, 50, 100);
        tracker.record(&id(140, 3), 140, 1, 140, 100);
        assert_eq!(tracker.len(), 2, "the nonce of 10 expired at 110");
        assert_eq!(tracker.check(&id(10, 1), 10, 2), CountCheck::Forgotten);
        assert_eq!(tracker.check(&id(50, 2), 50, 1), CountCheck::Replay);
    }
}
