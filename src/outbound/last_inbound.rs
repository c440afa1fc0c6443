//! The last inbound WhatsApp message of each binding: the typing indicator is shown on it
//! (Cloud API: mark it read with `typing_indicator`). Kept in memory on purpose: the indicator
//! only makes sense on the message the agent is answering right now, which arrived seconds ago;
//! after a restart the next inbound message sets it again, and until then typing is skipped
//! (`200 {"ok":true,"skipped":true}`). A durable write per inbound message would cost a commit
//! for a hint that lasts 25 seconds.
//!
//! Keyed by binding id, so a chat unbound and paired again (maybe by another tenant) never shows
//! typing on a message of the earlier binding.

use std::collections::HashMap;
use std::sync::Mutex;

/// Bindings remembered at most; past it the map starts over (an entry is ~100 bytes).
const MAX_ENTRIES: usize = 100_000;

#[derive(Default)]
pub struct LastInbound(Mutex<HashMap<String, String>>);

impl LastInbound {
    /// Records `message_id` as the newest inbound message of `binding_id`.
    pub fn note(&self, binding_id: &str, message_id: &str) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES && !map.contains_key(binding_id) {
            map.clear();
        }
        map.insert(binding_id.to_owned(), message_id.to_owned());
    }

    pub fn get(&self, binding_id: &str) -> Option<String> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(binding_id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_message_of_a_binding_is_kept() {
        let last = LastInbound::default();
        assert_eq!(last.get("b1"), None);
        last.note("b1", "wamid.1");
        last.note("b1", "wamid.2");
        last.note("b2", "wamid.3");
        assert_eq!(last.get("b1").as_deref(), Some("wamid.2"));
        assert_eq!(last.get("b2").as_deref(), Some("wamid.3"));
    }
}
