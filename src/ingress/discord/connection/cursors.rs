//! Discord ingress's durable progress, in `ingress_offsets` under channel `discord`:
//! - scope `<channelId>` → the last message id handled in that channel (the catch-up `after=`);
//! - scope `dm:<userId>` → the DM channel of a bound user, learned from the gateway, because a DM
//!   binding names the user while `GET /channels/{id}/messages` needs the channel.
//!
//! All of it is loaded once at start; the ingress actor is the only writer and keeps memory in
//! step after each commit.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::inbound::Cursor;
use crate::db::schema::ingress_offsets;
use crate::error::StoreError;

const CHANNEL: &str = "discord";
const DM_PREFIX: &str = "dm:";

/// Every stored Discord cursor as `(scope_key, value)`.
pub fn load(conn: &mut SqliteConnection) -> Result<Vec<(String, String)>, StoreError> {
    Ok(ingress_offsets::table
        .filter(ingress_offsets::channel.eq(CHANNEL))
        .select((ingress_offsets::scope_key, ingress_offsets::cursor))
        .load(conn)?)
}

pub fn last_seen_cursor(channel_id: u64, message_id: u64) -> Cursor {
    Cursor {
        channel: CHANNEL.into(),
        scope_key: channel_id.to_string(),
        value: message_id.to_string(),
    }
}

pub fn dm_cursor(user_id: u64, channel_id: u64) -> Cursor {
    Cursor {
        channel: CHANNEL.into(),
        scope_key: format!("{DM_PREFIX}{user_id}"),
        value: channel_id.to_string(),
    }
}

/// The in-memory copy of the stored cursors.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Cursors {
    last_seen: HashMap<u64, u64>,
    dm_channels: HashMap<u64, u64>,
}

impl Cursors {
    /// Rows that do not parse (written by something else) are ignored.
    pub fn from_rows(rows: Vec<(String, String)>) -> Cursors {
        let mut c = Cursors::default();
        for (scope, value) in rows {
            let Ok(value) = value.parse::<u64>() else {
                continue;
            };
            match scope.strip_prefix(DM_PREFIX) {
                Some(user) => {
                    if let Ok(user) = user.parse() {
                        c.dm_channels.insert(user, value);
                    }
                }
                None => {
                    if let Ok(channel) = scope.parse() {
                        c.last_seen.insert(channel, value);
                    }
                }
            }
        }
        c
    }

    pub fn last_seen(&self, channel_id: u64) -> Option<u64> {
        self.last_seen.get(&channel_id).copied()
    }

    /// Whether `message_id` would move the cursor forward (cursors never go back).
    pub fn is_ahead(&self, channel_id: u64, message_id: u64) -> bool {
        self.last_seen(channel_id)
            .is_none_or(|seen| message_id > seen)
    }

    /// Records a committed cursor; an older id leaves it where it is.
    pub fn advance(&mut self, channel_id: u64, message_id: u64) {
        if self.is_ahead(channel_id, message_id) {
            self.last_seen.insert(channel_id, message_id);
        }
    }

    pub fn dm_channel(&self, user_id: u64) -> Option<u64> {
        self.dm_channels.get(&user_id).copied()
    }

    pub fn learn_dm(&mut self, user_id: u64, channel_id: u64) {
        self.dm_channels.insert(user_id, channel_id);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn rows_split_into_channel_cursors_and_dm_channels() {
        let rows = vec![
            ("501".to_owned(), "1000".to_owned()),
            ("dm:42".to_owned(), "900".to_owned()),
            ("junk".to_owned(), "1".to_owned()),
            ("7".to_owned(), "x".to_owned()),
        ];
        let c = Cursors::from_rows(rows);
        assert_eq!(c.last_seen(501), Some(1000));
        assert_eq!(c.dm_channel(42), Some(900));
        assert_eq!(c.last_seen(7), None);
    }

    #[test]
    fn cursors_only_move_forward() {
        let mut c = Cursors::default();
        c.advance(1, 10);
        c.advance(1, 5);
        assert_eq!(c.last_seen(1), Some(10));
        assert!(!c.is_ahead(1, 10) && c.is_ahead(1, 11) && c.is_ahead(2, 1));
    }

    proptest! {
        #[test]
        fn stored_cursors_read_back_as_written(ch in 1u64.., id in 1u64.., user in 1u64..) {
            let a = last_seen_cursor(ch, id);
            let b = dm_cursor(user, ch);
            let c = Cursors::from_rows(vec![(a.scope_key, a.value), (b.scope_key, b.value)]);
            prop_assert_eq!(c.last_seen(ch), Some(id));
            prop_assert_eq!(c.dm_channel(user), Some(ch));
        }
    }
}
