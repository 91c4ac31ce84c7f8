//! The registrar's location service: contact bindings per address of record, with expiry.

use std::collections::HashMap;

/// One contact bound to an address of record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The contact URI as the phone wrote it.
    pub contact: String,
    /// Unix second the binding lapses.
    pub expires_at: u64,
    /// The Call-ID of the registration that made it.
    pub call_id: String,
    /// The CSeq of that registration.
    pub cseq: u32,
}

/// Why an update was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateRefused {
    /// A request of the same Call-ID with an equal or higher CSeq was processed before: this
    /// one is out of order (RFC 3261 section 10.3, step 7).
    OutOfOrder,
}

/// Every binding, by address of record.
#[derive(Debug, Default)]
pub struct Bindings {
    by_aor: HashMap<String, Vec<Binding>>,
}

impl Bindings {
    /// Applies one REGISTER: each `(contact, expires)` is added, refreshed, or removed when
    /// `expires` is 0.
    pub fn update(
        &mut self,
        aor: &str,
        contacts: &[(String, u32)],
        call_id: &str,
        cseq: u32,
        now: u64,
    ) -> Result<(), UpdateRefused> {
        let list = self.by_aor.entry(aor.to_string()).or_default();
        list.retain(|b| b.expires_at > now);
        let stale = |b: &Binding| b.call_id == call_id && b.cseq >= cseq;
        if contacts
            .iter()
            .any(|(c, _)| list.iter().any(|b| &b.contact == c && stale(b)))
        {
            return Err(UpdateRefused::OutOfOrder);
        }
        for (contact, expires) in contacts {
            list.retain(|b| &b.contact != contact);
            if *expires > 0 {
                list.push(Binding {
                    contact: contact.clone(),
                    expires_at: now + u64::from(*expires),
                    call_id: call_id.to_string(),
                    cseq,
                });
            }
        }
        if list.is_empty() {
            self.by_aor.remove(aor);
        }
        Ok(())
    }

    /// Removes every binding of an address of record (`Contact: *`, `Expires: 0`).
    pub fn remove_all(&mut self, aor: &str) {
        self.by_aor.remove(aor);
    }

    /// The live bindings of an address of record with their remaining seconds.
    pub fn current(&self, aor: &str, now: u64) -> Vec<(String, u64)> {
        self.by_aor
            .get(aor)
            .map(|list| {
                list.iter()
                    .filter(|b| b.expires_at > now)
                    .map(|b| (b.contact.clone(), b.expires_at - now))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Drops lapsed bindings; returns how many addresses of record still have one.
    pub fn purge(&mut self, now: u64) -> usize {
        self.by_aor.retain(|_, list| {
            list.retain(|b| b.expires_at > now);
            !list.is_empty()
        });
        self.by_aor.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(contact: &str, expires: u32) -> Vec<(String, u32)> {
        vec![(contact.to_string(), expires)]
    }

    #[test]
    fn bindings_expire_and_refresh() {
        let mut b = Bindings::default();
        b.update("a", &one("sip:a@1", 60), "c1", 1, 100).unwrap();
        assert_eq!(b.current("a", 130), vec![("sip:a@1".to_string(), 30)]);
        b.update("a", &one("sip:a@1", 60), "c1", 2, 130).unwrap();
        assert_eq!(b.current("a", 180), vec![("sip:a@1".to_string(), 10)]);
        assert!(b.current("a", 190).is_empty());
        assert_eq!(b.purge(190), 0);
    }

    #[test]
    fn zero_expires_removes_and_old_cseq_is_refused() {
        let mut b = Bindings::default();
        b.update("a", &one("sip:a@1", 60), "c1", 5, 100).unwrap();
        assert_eq!(
            b.update("a", &one("sip:a@1", 60), "c1", 5, 101),
            Err(UpdateRefused::OutOfOrder)
        );
        b.update("a", &one("sip:a@2", 60), "c2", 1, 101).unwrap();
        b.update("a", &one("sip:a@1", 0), "c1", 6, 102).unwrap();
        assert_eq!(b.current("a", 103), vec![("sip:a@2".to_string(), 58)]);
        b.remove_all("a");
        assert!(b.current("a", 103).is_empty());
    }
}
