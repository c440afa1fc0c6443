//! In-process single flight per idempotency key: while one request with a key runs (until its
//! answer is committed), later requests with that key wait for it and then read its stored
//! answer. This is the key's reservation (contract §5): nothing is written before the platform
//! call, and a crash leaves the key free (at-least-once across crashes).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

type Key = (Arc<str>, String);

#[derive(Default)]
pub struct SingleFlight {
    running: Mutex<HashMap<Key, watch::Receiver<()>>>,
}

/// Either this request runs the key, or it waits for the one that does.
pub enum Turn {
    Mine(TurnGuard),
    Wait(watch::Receiver<()>),
}

/// Held by the request running a key; dropping it wakes the waiters.
pub struct TurnGuard {
    flights: Arc<SingleFlight>,
    key: Key,
    _done: watch::Sender<()>,
}

impl SingleFlight {
    pub fn turn(self: &Arc<Self>, tenant: &Arc<str>, key: &str) -> Turn {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let key = (tenant.clone(), key.to_owned());
        if let Some(rx) = running.get(&key) {
            return Turn::Wait(rx.clone());
        }
        let (tx, rx) = watch::channel(());
        running.insert(key.clone(), rx);
        Turn::Mine(TurnGuard {
            flights: self.clone(),
            key,
            _done: tx,
        })
    }
}

impl Drop for TurnGuard {
    fn drop(&mut self) {
        // Remove the entry first, so a woken waiter finds the key free (the sender drops after).
        let mut running = self
            .flights
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        running.remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_request_waits_until_the_first_is_done() {
        let flights = Arc::new(SingleFlight::default());
        let tenant: Arc<str> = "t".into();
        let Turn::Mine(guard) = flights.turn(&tenant, "k") else {
            panic!("first request runs");
        };
        let Turn::Wait(mut rx) = flights.turn(&tenant, "k") else {
            panic!("second request waits");
        };
        assert!(
            matches!(flights.turn(&"other".into(), "k"), Turn::Mine(_)),
            "keys are per tenant"
        );
        drop(guard);
        assert!(rx.changed().await.is_err(), "woken when the first finishes");
        assert!(matches!(flights.turn(&tenant, "k"), Turn::Mine(_)));
    }
}
