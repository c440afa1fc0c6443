//! Which idempotency keys may have an entry in the store, so that a send with a key the store
//! cannot hold skips the read. Every send with a fresh key (the stock OpenClaw client makes one
//! per call) used to read the store before the platform call, and those reads were the largest
//! single cost of a send (issue 12's profile: ~19 % of the server's CPU; each read starts with
//! a page cache the last commit invalidated).
//!
//! The entries are written only by this process (its outcomes, noted here before the key's turn
//! ends) or were there at start (loaded here). A key in neither set has no entry: the read is
//! skipped. A key in one may have one: the store is read, as before. Hashes, not keys, are kept;
//! a collision only costs a read.
//!
//! Bounded: two generations of hashes, each covering one TTL, at most `cap` in all (~16 bytes
//! each). Past the cap, new keys are not noted, and every key is read from the store until the
//! last unnoted one has expired — the filter then says "maybe" for all, which is the old path.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

/// Keys noted before every lookup reads the store again: 262,144 hashes (~4–8 MiB).
pub const DEFAULT_CAP: usize = 1 << 18;

pub struct KeyFilter {
    hasher: RandomState,
    ttl_ms: i64,
    cap: usize,
    inner: Mutex<Inner>,
}

struct Inner {
    current: HashSet<u64>,
    previous: HashSet<u64>,
    /// When `current` began; it becomes `previous` one TTL later.
    rotated_at_ms: i64,
    /// Until then a key in neither set may still have an entry (one was not noted).
    unsure_until_ms: i64,
}

impl KeyFilter {
    pub fn new(ttl_ms: i64, cap: usize, now_ms: i64) -> KeyFilter {
        KeyFilter {
            hasher: RandomState::new(),
            ttl_ms,
            cap,
            inner: Mutex::new(Inner {
                current: HashSet::new(),
                previous: HashSet::new(),
                rotated_at_ms: now_ms,
                unsure_until_ms: i64::MIN,
            }),
        }
    }

    fn hash(&self, tenant: &str, key: &str) -> u64 {
        self.hasher.hash_one((tenant, key))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// False only when the store cannot hold an entry for the key.
    pub fn maybe_stored(&self, tenant: &str, key: &str, now_ms: i64) -> bool {
        let h = self.hash(tenant, key);
        let mut inner = self.lock();
        inner.rotate(now_ms, self.ttl_ms);
        now_ms < inner.unsure_until_ms || inner.current.contains(&h) || inner.previous.contains(&h)
    }

    /// An entry for the key is being written (its expiry `expires_at_ms`). Call before the
    /// key's turn ends, so that the next request with the key reads the store.
    pub fn note(&self, tenant: &str, key: &str, now_ms: i64, expires_at_ms: i64) {
        let h = self.hash(tenant, key);
        let mut inner = self.lock();
        inner.rotate(now_ms, self.ttl_ms);
        // An entry that outlives the two generations (a longer TTL of an earlier run), or one
        // past the cap, is not tracked: unsure until it expires.
        let outlives = expires_at_ms
            > inner
                .rotated_at_ms
                .saturating_add(self.ttl_ms.saturating_mul(2));
        if outlives || inner.current.len() + inner.previous.len() >= self.cap {
            inner.unsure_until_ms = inner.unsure_until_ms.max(expires_at_ms);
            return;
        }
        inner.current.insert(h);
    }
}

impl KeyFilter {
    /// Notes the entries the store already holds (`live_keys` at start).
    pub fn load(&self, live: crate::db::idempotency::LiveKeys, now_ms: i64) -> usize {
        match live {
            crate::db::idempotency::LiveKeys::All(keys) => {
                for (tenant, key, expires_at_ms) in &keys {
                    self.note(tenant, key, now_ms, *expires_at_ms);
                }
                keys.len()
            }
            crate::db::idempotency::LiveKeys::TooMany { latest_expiry_ms } => {
                let mut inner = self.lock();
                inner.unsure_until_ms = inner.unsure_until_ms.max(latest_expiry_ms);
                0
            }
        }
    }
}

impl Inner {
    fn rotate(&mut self, now_ms: i64, ttl_ms: i64) {
        if now_ms.saturating_sub(self.rotated_at_ms) < ttl_ms {
            return;
        }
        // Two TTLs without a rotation: both generations are expired.
        if now_ms.saturating_sub(self.rotated_at_ms) >= ttl_ms.saturating_mul(2) {
            self.previous.clear();
            self.current.clear();
            self.rotated_at_ms = now_ms;
            return;
        }
        self.previous = std::mem::take(&mut self.current);
        self.rotated_at_ms = self.rotated_at_ms.saturating_add(ttl_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: i64 = 1_000;

    #[test]
    fn only_noted_keys_may_be_stored_and_they_are_kept_for_at_least_a_ttl() {
        let f = KeyFilter::new(TTL, 100, 0);
        assert!(!f.maybe_stored("t", "k", 0));
        f.note("t", "k", 10, 10 + TTL);
        assert!(f.maybe_stored("t", "k", 11));
        assert!(!f.maybe_stored("other", "k", 11), "keys are per tenant");
        assert!(!f.maybe_stored("t", "k2", 11));
        // Noted at 10, its entry lives until 1010: still "maybe" at every instant before.
        for now in [500, 999, 1000, 1009, 1500, 1999] {
            assert!(f.maybe_stored("t", "k", now), "at {now}");
        }
        assert!(
            !f.maybe_stored("t", "k", 2000),
            "dropped two generations later"
        );
    }

    #[test]
    fn past_the_cap_every_key_reads_the_store_until_the_unnoted_ones_expire() {
        let f = KeyFilter::new(TTL, 2, 0);
        f.note("t", "a", 0, TTL);
        f.note("t", "b", 0, TTL);
        f.note("t", "c", 5, 5 + TTL);
        assert!(f.maybe_stored("t", "never-seen", 6), "unsure while c lives");
        assert!(f.maybe_stored("t", "c", 1004));
        assert!(!f.maybe_stored("t", "never-seen", 1005));
    }

    #[test]
    fn an_entry_outliving_both_generations_makes_every_key_unsure_until_it_expires() {
        let f = KeyFilter::new(TTL, 100, 0);
        f.note("t", "old", 0, 10 * TTL);
        assert!(f.maybe_stored("t", "anything", 9 * TTL));
        assert!(!f.maybe_stored("t", "anything", 10 * TTL));
    }

    #[test]
    fn entries_found_at_start_are_noted_or_make_every_key_unsure() {
        use crate::db::idempotency::LiveKeys;
        let f = KeyFilter::new(TTL, 100, 0);
        let n = f.load(LiveKeys::All(vec![("t".into(), "old".into(), 500)]), 0);
        assert_eq!(n, 1);
        assert!(f.maybe_stored("t", "old", 1));
        assert!(!f.maybe_stored("t", "new", 1));
        let f = KeyFilter::new(TTL, 100, 0);
        f.load(
            LiveKeys::TooMany {
                latest_expiry_ms: 800,
            },
            0,
        );
        assert!(f.maybe_stored("t", "new", 799));
        assert!(!f.maybe_stored("t", "new", 800));
    }
}
