//! Platform events this process already answered in a chat (the unpaired hint, "invalid link"),
//! so a redelivered or replayed update (same event id) is not answered twice. Forwarded events
//! are de-duplicated durably by the queue; answers leave no row, so they are remembered here, for
//! the most recent `CAPACITY` events (a redelivery comes within minutes, not thousands of
//! events later). A restart forgets them: at worst one more hint after a restart.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

const CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct AnsweredEvents {
    seen: Mutex<(HashSet<String>, VecDeque<String>)>,
}

impl AnsweredEvents {
    /// True the first time `event_id` is given (then it is remembered), false for a repeat.
    pub fn first_time(&self, event_id: &str) -> bool {
        let mut guard = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let (set, order) = &mut *guard;
        if !set.insert(event_id.to_owned()) {
            return false;
        }
        order.push_back(event_id.to_owned());
        if order.len() > CAPACITY
            && let Some(oldest) = order.pop_front()
        {
            set.remove(&oldest);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeat_is_noticed_and_the_oldest_are_forgotten() {
        let answered = AnsweredEvents::default();
        assert!(answered.first_time("tg:1"));
        assert!(!answered.first_time("tg:1"));
        for i in 2..=CAPACITY + 1 {
            assert!(answered.first_time(&format!("tg:{i}")));
        }
        assert!(
            answered.first_time("tg:1"),
            "forgotten after CAPACITY others"
        );
    }
}
