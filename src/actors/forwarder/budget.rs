//! The global memory budget of the forwarders (`MUX_FORWARD_MEMORY_BYTES`): what all of them
//! together hold of waiting events. A forwarder takes a [`Charge`] for each event it keeps in
//! memory; dropping the charge (the event delivered, given up, or the forwarder stopped) gives
//! the bytes back. A forwarder holding nothing may always take one event, so a tenant is never
//! starved by the backlogs of others (their holdings are bounded per forwarder as well).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bookkeeping per held event besides its envelope and id (struct, queue slot, set entries).
pub const EVENT_OVERHEAD_BYTES: usize = 160;

#[derive(Debug)]
pub struct MemoryBudget {
    limit: usize,
    used: AtomicUsize,
}

impl MemoryBudget {
    pub fn new(limit: usize) -> MemoryBudget {
        MemoryBudget {
            limit,
            used: AtomicUsize::new(0),
        }
    }

    /// Bytes currently held by all forwarders.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Takes `bytes` if they fit, or regardless when `first` (the caller holds nothing yet).
    pub fn try_take(self: &Arc<Self>, bytes: usize, first: bool) -> Option<Charge> {
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            let next = used.saturating_add(bytes);
            if next > self.limit && !first {
                return None;
            }
            match self
                .used
                .compare_exchange_weak(used, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => {
                    return Some(Charge {
                        budget: self.clone(),
                        bytes,
                    });
                }
                Err(now) => used = now,
            }
        }
    }
}

/// Bytes of the budget held for one event; given back when dropped.
#[derive(Debug)]
pub struct Charge {
    budget: Arc<MemoryBudget>,
    bytes: usize,
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_fit_the_limit_and_are_given_back_when_dropped() {
        let budget = Arc::new(MemoryBudget::new(1_000));
        let a = budget.try_take(600, false).expect("fits");
        assert_eq!(budget.used(), 600);
        assert!(budget.try_take(500, false).is_none(), "over the limit");
        assert_eq!(budget.used(), 600, "a refusal takes nothing");
        let b = budget.try_take(400, false).expect("exactly fits");
        assert_eq!(budget.used(), 1_000);
        drop(a);
        assert_eq!(budget.used(), 400);
        drop(b);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn a_forwarder_holding_nothing_may_always_take_one_event() {
        let budget = Arc::new(MemoryBudget::new(100));
        let full = budget.try_take(100, false).expect("fits");
        assert!(budget.try_take(50, false).is_none());
        let first = budget
            .try_take(50, true)
            .expect("the first event always fits");
        assert_eq!(budget.used(), 150);
        drop(first);
        drop(full);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn concurrent_takes_never_exceed_the_limit_and_all_come_back() {
        let budget = Arc::new(MemoryBudget::new(10_000));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let budget = budget.clone();
                std::thread::spawn(move || {
                    let mut held = Vec::new();
                    for _ in 0..1_000 {
                        if let Some(c) = budget.try_take(7, false) {
                            assert!(budget.used() <= 10_000);
                            held.push(c);
                        }
                        if held.len() > 300 {
                            held.clear();
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        assert_eq!(budget.used(), 0);
    }
}
