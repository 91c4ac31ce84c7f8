//! The registrar's bounded memory: per-service keys with their lifetime and the device's last
//! registration sequence number, and the replay cache of challenge-free registrations.
//!
//! Both are set-associative: a key's fingerprint picks a set of [`WAYS`] slots, and a full set
//! gives up its least recently used (keys) or oldest (replays) slot. Memory is allocated once,
//! at the configured capacity, and never grows.

use alloc::vec::Vec;

use sha2::{Digest, Sha256};

use crate::keys::ServiceMacKey;
use crate::secret::ServiceKey;

/// Slots per set.
pub const WAYS: usize = 8;

/// The first 16 bytes of SHA-256 of a binary key identifier: what the caches index by.
pub(crate) type Fingerprint = [u8; 16];

pub(crate) fn fingerprint(key_id: &[u8]) -> Fingerprint {
    let digest: [u8; 32] = Sha256::digest(key_id).into();
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

fn set_of(fingerprint: &Fingerprint, sets: usize) -> usize {
    let mut word = [0u8; 8];
    word.copy_from_slice(&fingerprint[..8]);
    (u64::from_be_bytes(word) % sets as u64) as usize
}

/// One device's cached key material.
#[derive(Clone)]
pub(crate) struct CachedKey {
    pub(crate) service_key: ServiceKey,
    pub(crate) mac_key: ServiceMacKey,
    pub(crate) not_after: u64,
    /// The highest registration sequence number accepted from the device, if any.
    pub(crate) sequence: Option<u64>,
}

/// Which device a slot holds and when it was last used; `last_used` 0 marks an empty slot.
/// Kept apart from the keys so that a lookup scans one set in three cache lines.
#[derive(Clone, Copy, Default)]
struct Tag {
    fingerprint: Fingerprint,
    last_used: u64,
}

/// Per-service keys within their lifetime, bounded.
pub(crate) struct KeyCache {
    tags: Vec<Tag>,
    keys: Vec<Option<CachedKey>>,
    sets: usize,
    clock: u64,
}

impl KeyCache {
    pub(crate) fn new(capacity: usize) -> Self {
        let sets = capacity.div_ceil(WAYS).max(1);
        let mut keys = Vec::with_capacity(sets * WAYS);
        keys.resize_with(sets * WAYS, || None);
        Self {
            tags: alloc::vec![Tag::default(); sets * WAYS],
            keys,
            sets,
            clock: 0,
        }
    }

    fn find(&self, start: usize, fingerprint: &Fingerprint) -> Option<usize> {
        let set = &self.tags[start..start + WAYS];
        let way = set
            .iter()
            .position(|t| t.last_used != 0 && t.fingerprint == *fingerprint)?;
        Some(start + way)
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// The key of a device, if cached and not expired at `now`.
    pub(crate) fn get(&mut self, fingerprint: &Fingerprint, now: u64) -> Option<&mut CachedKey> {
        let start = set_of(fingerprint, self.sets) * WAYS;
        let index = self.find(start, fingerprint)?;
        if self.keys[index].as_ref().is_none_or(|k| k.not_after < now) {
            self.clear(index);
            return None;
        }
        self.tags[index].last_used = self.tick();
        self.keys[index].as_mut()
    }

    /// Caches a device's key, keeping the sequence number it had if it was cached before.
    pub(crate) fn insert(&mut self, fingerprint: Fingerprint, key: CachedKey) {
        let start = set_of(&fingerprint, self.sets) * WAYS;
        let (index, sequence) = match self.find(start, &fingerprint) {
            Some(same) => {
                let old = self.keys[same].as_ref().and_then(|k| k.sequence);
                (same, old.max(key.sequence))
            }
            None => (self.victim(start), key.sequence),
        };
        let last_used = self.tick();
        self.tags[index] = Tag {
            fingerprint,
            last_used,
        };
        self.keys[index] = Some(CachedKey { sequence, ..key });
    }

    /// An empty slot of the set, else its least recently used one.
    fn victim(&self, start: usize) -> usize {
        let set = &self.tags[start..start + WAYS];
        let way = (0..WAYS).min_by_key(|&way| set[way].last_used).unwrap_or(0);
        start + way
    }

    fn clear(&mut self, index: usize) {
        self.tags[index] = Tag::default();
        self.keys[index] = None;
    }

    /// Drops a device's key, if cached.
    pub(crate) fn remove(&mut self, fingerprint: &Fingerprint) {
        let start = set_of(fingerprint, self.sets) * WAYS;
        if let Some(index) = self.find(start, fingerprint) {
            self.clear(index);
        }
    }

    /// Memory held, in bytes: the slot arrays, allocated once.
    pub(crate) fn memory(&self) -> usize {
        self.tags.capacity() * core::mem::size_of::<Tag>()
            + self.keys.capacity() * core::mem::size_of::<Option<CachedKey>>()
    }
}

#[derive(Clone, Copy)]
struct ReplaySlot {
    tag: [u8; 16],
    time: u64,
}

/// Device proofs of time-based registrations seen within the freshness window, bounded. When
/// a set is full its oldest entry is dropped and the set's floor rises to that entry's time:
/// from then on, anything not newer than the floor is refused as stale, so forgetting an entry
/// never lets its message be replayed.
pub(crate) struct ReplayCache {
    slots: Vec<Option<ReplaySlot>>,
    floors: Vec<u64>,
    sets: usize,
}

/// Why the replay cache refused a registration.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    Replay,
    Stale,
}

impl ReplayCache {
    pub(crate) fn new(capacity: usize) -> Self {
        let sets = capacity.div_ceil(WAYS).max(1);
        let mut slots = Vec::with_capacity(sets * WAYS);
        slots.resize(sets * WAYS, None);
        let floors = alloc::vec![0; sets];
        Self {
            slots,
            floors,
            sets,
        }
    }

    /// Records `tag` sent at device time `time`, unless it was seen before or is not newer
    /// than what the cache had to forget. Entries older than `oldest` are free to reuse.
    pub(crate) fn check_and_insert(
        &mut self,
        tag: [u8; 16],
        time: u64,
        oldest: u64,
    ) -> Result<(), Refused> {
        let mut key = [0u8; 16];
        key.copy_from_slice(&tag);
        let index = set_of(&key, self.sets);
        let set = &mut self.slots[index * WAYS..(index + 1) * WAYS];
        if set.iter().flatten().any(|s| s.tag == tag) {
            return Err(Refused::Replay);
        }
        if time <= self.floors[index] {
            return Err(Refused::Stale);
        }
        let free = set.iter().position(|s| s.is_none_or(|s| s.time < oldest));
        let slot = match free {
            Some(free) => free,
            None => {
                let oldest_slot = (0..WAYS)
                    .min_by_key(|&i| set[i].map_or(0, |s| s.time))
                    .unwrap_or(0);
                let dropped = set[oldest_slot].map_or(0, |s| s.time);
                self.floors[index] = self.floors[index].max(dropped);
                oldest_slot
            }
        };
        set[slot] = Some(ReplaySlot { tag, time });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(not_after: u64) -> CachedKey {
        let service_key = ServiceKey::from_bytes(&[4; 32]).unwrap();
        CachedKey {
            mac_key: service_key.mac_key(),
            service_key,
            not_after,
            sequence: None,
        }
    }

    /// Fingerprints that all land in set 0 of a cache with `sets` sets.
    fn same_set(count: usize, sets: usize) -> Vec<Fingerprint> {
        (0u64..)
            .map(|i| fingerprint(&i.to_be_bytes()))
            .filter(|f| set_of(f, sets) == 0)
            .take(count)
            .collect()
    }

    #[test]
    fn full_set_evicts_the_least_recently_used() {
        let mut cache = KeyCache::new(2 * WAYS);
        let prints = same_set(WAYS + 1, 2);
        for print in &prints[..WAYS] {
            cache.insert(*print, key(100));
        }
        assert!(
            cache.get(&prints[0], 1).is_some(),
            "touch the oldest so it is kept"
        );
        cache.insert(prints[WAYS], key(100));
        assert!(cache.get(&prints[0], 1).is_some());
        assert!(
            cache.get(&prints[1], 1).is_none(),
            "the least recently used went"
        );
        assert!(cache.get(&prints[WAYS], 1).is_some());
    }

    #[test]
    fn expired_keys_are_not_served_and_sequence_survives_a_refetch() {
        let mut cache = KeyCache::new(WAYS);
        let print = fingerprint(b"key id");
        cache.insert(
            print,
            CachedKey {
                sequence: Some(7),
                ..key(10)
            },
        );
        assert!(cache.get(&print, 11).is_none());
        cache.insert(
            print,
            CachedKey {
                sequence: Some(3),
                ..key(20)
            },
        );
        cache.insert(print, key(30));
        assert_eq!(cache.get(&print, 11).unwrap().sequence, Some(3));
        cache.remove(&print);
        assert!(cache.get(&print, 11).is_none());
    }

    #[test]
    fn replay_cache_refuses_repeats_and_everything_it_had_to_forget() {
        let mut replays = ReplayCache::new(WAYS);
        let tags: Vec<[u8; 16]> = (0u8..=WAYS as u8).map(|i| [i; 16]).collect();
        for (time, tag) in (100..).zip(&tags[..WAYS]) {
            replays.check_and_insert(*tag, time, 0).unwrap();
        }
        assert_eq!(
            replays.check_and_insert(tags[3], 103, 0),
            Err(Refused::Replay)
        );
        // The set is full: the oldest entry (time 100) is dropped and the floor rises to it.
        replays.check_and_insert(tags[WAYS], 150, 0).unwrap();
        assert_eq!(
            replays.check_and_insert(tags[0], 100, 0),
            Err(Refused::Stale)
        );
        assert_eq!(
            replays.check_and_insert([0xee; 16], 99, 0),
            Err(Refused::Stale)
        );
        assert_eq!(
            replays.check_and_insert(tags[WAYS], 150, 0),
            Err(Refused::Replay)
        );
        // Entries older than the window's start are reused without raising the floor.
        replays.check_and_insert([0xdd; 16], 160, 140).unwrap();
        replays.check_and_insert([0xcc; 16], 101, 140).unwrap();
    }

    #[test]
    fn a_slot_stays_within_its_budget() {
        let slot = core::mem::size_of::<Tag>() + core::mem::size_of::<Option<CachedKey>>();
        assert!(slot <= 256, "{slot} bytes per slot");
        let cache = KeyCache::new(64 * WAYS);
        assert_eq!(cache.memory(), 64 * WAYS * slot);
    }
}
