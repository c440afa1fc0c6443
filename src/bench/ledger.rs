//! Bookkeeping of inbound events: when each update was made available by the fake Telegram and
//! when (and how often) a fake OpenClaw endpoint accepted it. Update ids are dense from `BASE`,
//! so a slot is found by index.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

/// First update id the fake Telegram hands out.
pub const BASE_UPDATE_ID: i64 = 1_000_000;

#[derive(Clone, Copy, Debug)]
pub struct Slot {
    pub update_id: i64,
    pub tenant: u32,
    pub pushed: Instant,
    pub first_ok: Option<Instant>,
    /// 2xx answers given for this event (more than one = a duplicate delivery).
    pub ok: u32,
    /// Attempts answered with an error or left hanging.
    pub refused: u32,
}

#[derive(Default)]
pub struct Ledger {
    slots: Mutex<Vec<Slot>>,
    /// Deliveries whose `webhook-id` header did not equal the envelope's `eventId`.
    pub webhook_id_mismatch: AtomicU64,
    /// Deliveries to a tenant other than the one owning the chat (isolation breach).
    pub wrong_tenant: AtomicU64,
    /// Deliveries whose eventId names no update the fake handed out.
    pub unknown_event: AtomicU64,
}

impl Ledger {
    fn lock(&self) -> MutexGuard<'_, Vec<Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers the next update (id = BASE + index); callers keep ids and indexes in step.
    pub fn push(&self, tenant: u32, now: Instant) -> i64 {
        let mut s = self.lock();
        let update_id = BASE_UPDATE_ID + s.len() as i64;
        s.push(Slot {
            update_id,
            tenant,
            pushed: now,
            first_ok: None,
            ok: 0,
            refused: 0,
        });
        BASE_UPDATE_ID + s.len() as i64 - 1
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Records one delivery attempt of `update_id` at tenant endpoint `tenant`.
    pub fn record(&self, update_id: i64, tenant: u32, ok: bool, at: Instant) {
        let Some(i) = usize::try_from(update_id - BASE_UPDATE_ID).ok() else {
            self.unknown_event.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let mut s = self.lock();
        let Some(slot) = s.get_mut(i) else {
            drop(s);
            self.unknown_event.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if slot.tenant != tenant {
            drop(s);
            self.wrong_tenant.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if ok {
            slot.ok += 1;
            slot.first_ok.get_or_insert(at);
        } else {
            slot.refused += 1;
        }
    }

    pub fn snapshot(&self, range: Range<usize>) -> Vec<Slot> {
        let s = self.lock();
        let end = range.end.min(s.len());
        s.get(range.start.min(end)..end)
            .map(<[Slot]>::to_vec)
            .unwrap_or_default()
    }

    /// Events of `range` accepted at least once.
    pub fn delivered(&self, range: Range<usize>) -> usize {
        let s = self.lock();
        let end = range.end.min(s.len());
        s.get(range.start.min(end)..end)
            .map_or(0, |v| v.iter().filter(|x| x.ok > 0).count())
    }

    /// Whether every slot of `range` selected by `want` was accepted at least once (no copy).
    pub fn all_delivered(&self, range: Range<usize>, want: impl Fn(&Slot) -> bool) -> bool {
        let s = self.lock();
        let end = range.end.min(s.len());
        s.get(range.start.min(end)..end)
            .is_none_or(|v| v.iter().filter(|x| want(x)).all(|x| x.ok > 0))
    }
}
