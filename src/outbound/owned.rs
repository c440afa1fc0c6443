//! What belongs to which tenant beyond its bindings, for raw calls (contract §5a): the messages
//! this service sent for a tenant (only those may be edited or deleted through `raw`), and the
//! button presses (Telegram callback queries) a tenant was forwarded (only those may be answered).
//!
//! Kept in memory and bounded (oldest forgotten first), not in the database: edits and answers
//! follow a send or a press within seconds to minutes (streamed replies, a keyboard updated after
//! a press, Telegram's callback spinner), and recording each send durably would add a write to
//! every send's latency. What is forgotten — after a restart, or past the bound — is refused,
//! never allowed: the failure mode is a `403`, not an edit of someone else's message.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use crate::domain::Channel;

/// Sent messages remembered (about 80 bytes each: 8 MB at most).
pub const MAX_SENT: usize = 100_000;
/// Callback queries remembered.
pub const MAX_CALLBACKS: usize = 50_000;

/// A bounded map that forgets its oldest entries first.
struct Bounded<K, V> {
    map: HashMap<K, V>,
    order: VecDeque<K>,
    cap: usize,
}

impl<K: Hash + Eq + Clone, V> Bounded<K, V> {
    fn new(cap: usize) -> Self {
        Bounded {
            map: HashMap::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    fn insert(&mut self, key: K, value: V) {
        if self.map.insert(key.clone(), value).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > self.cap {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }

    fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key)
    }
}

/// A platform message: channel, chat or channel id, message id (Telegram ids are integers,
/// Discord's snowflakes; both fit 64 bits).
type MessageKey = (Channel, i64, u64);

/// The key of a message given as text; `None` for ids no platform uses (never owned).
fn key(channel: Channel, place: &str, id: &str) -> Option<MessageKey> {
    let place = place.trim().parse::<i64>().ok()?;
    let id = id.trim().parse::<u64>().ok()?;
    Some((channel, place, id))
}

/// Who owns which sent message and which callback.
pub struct Owned {
    sent: Mutex<Bounded<MessageKey, Arc<str>>>,
    callbacks: Mutex<Bounded<String, Arc<str>>>,
}

impl Default for Owned {
    fn default() -> Self {
        Owned::with_caps(MAX_SENT, MAX_CALLBACKS)
    }
}

impl Owned {
    pub fn with_caps(sent: usize, callbacks: usize) -> Owned {
        Owned {
            sent: Mutex::new(Bounded::new(sent)),
            callbacks: Mutex::new(Bounded::new(callbacks)),
        }
    }

    /// Messages this service just sent for `tenant` into `place` (a chat or channel id).
    pub fn record_sent(&self, tenant: &Arc<str>, channel: Channel, place: &str, ids: &[String]) {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            if let Some(key) = key(channel, place, id) {
                sent.insert(key, tenant.clone());
            }
        }
    }

    /// Whether this service sent message `id` into `place` for `tenant` (and still remembers).
    pub fn sent_by(&self, tenant: &str, channel: Channel, place: &str, id: &str) -> bool {
        let Some(key) = key(channel, place, id) else {
            return false;
        };
        let sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        sent.get(&key).is_some_and(|owner| &**owner == tenant)
    }

    /// A callback query forwarded to `tenant`.
    pub fn record_callback(&self, tenant: &Arc<str>, callback_id: &str) {
        let mut callbacks = self.callbacks.lock().unwrap_or_else(|e| e.into_inner());
        callbacks.insert(callback_id.to_owned(), tenant.clone());
    }

    /// Whether callback `id` was forwarded to `tenant`.
    pub fn callback_of(&self, tenant: &str, id: &str) -> bool {
        let callbacks = self.callbacks.lock().unwrap_or_else(|e| e.into_inner());
        callbacks
            .get(&id.to_owned())
            .is_some_and(|owner| &**owner == tenant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_belongs_to_the_tenant_it_was_sent_for_in_its_place() {
        let owned = Owned::default();
        let a: Arc<str> = Arc::from("a");
        owned.record_sent(&a, Channel::Telegram, "-100", &["7".to_owned()]);
        assert!(owned.sent_by("a", Channel::Telegram, "-100", "7"));
        assert!(!owned.sent_by("b", Channel::Telegram, "-100", "7"));
        assert!(!owned.sent_by("a", Channel::Telegram, "-101", "7"));
        assert!(!owned.sent_by("a", Channel::Discord, "-100", "7"));
        assert!(!owned.sent_by("a", Channel::Telegram, "-100", "x7"));
    }

    #[test]
    fn the_oldest_are_forgotten_past_the_bound_and_then_refused() {
        let owned = Owned::with_caps(2, 1);
        let a: Arc<str> = Arc::from("a");
        for id in ["1", "2", "3"] {
            owned.record_sent(&a, Channel::Discord, "5", &[id.to_owned()]);
        }
        assert!(!owned.sent_by("a", Channel::Discord, "5", "1"));
        assert!(owned.sent_by("a", Channel::Discord, "5", "3"));
        owned.record_callback(&a, "q1");
        owned.record_callback(&a, "q2");
        assert!(!owned.callback_of("a", "q1"));
        assert!(owned.callback_of("a", "q2"));
        assert!(!owned.callback_of("b", "q2"));
    }
}
