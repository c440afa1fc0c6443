//! Discord ingress's durable progress, in `ingress_offsets` under channel `discord`:
//! - scope `<channelId>` → the last message id handled in that channel (the catch-up `after=`);
//! - scope `dm:<userId>` → the DM channel of a bound user, learned from the gateway, because a DM
//!   binding names the user while `GET /channels/{id}/messages` needs the channel.
//! - scope `dm-after:<userId>` → (written only by the upgrade from the older service, which kept
//!   a DM's last message per binding without its channel) where that DM's catch-up starts once its
//!   channel is known: nothing the older service handled is read twice, nothing after it skipped.
//!
//! All of it is loaded once at start; the ingress actor is the only writer and keeps memory in
//! step after each commit.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::inbound::Cursor;
use crate::db::legacy::DM_CURSOR_PREFIX;
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
    /// user → the last DM message the older service handled (see the module comment).
    dm_after: HashMap<u64, u64>,
}

impl Cursors {
    /// Rows that do not parse (written by something else) are ignored.
    pub fn from_rows(rows: Vec<(String, String)>) -> Cursors {
        let mut c = Cursors::default();
        for (scope, value) in rows {
            let Ok(value) = value.parse::<u64>() else {
                continue;
            };
            if let Some(user) = scope.strip_prefix(DM_CURSOR_PREFIX) {
                if let Ok(user) = user.parse() {
                    c.dm_after.insert(user, value);
                }
            } else if let Some(user) = scope.strip_prefix(DM_PREFIX) {
                if let Ok(user) = user.parse() {
                    c.dm_channels.insert(user, value);
                }
            } else if let Ok(channel) = scope.parse() {
                c.last_seen.insert(channel, value);
            }
        }
        let known: Vec<(u64, u64)> = c.dm_channels.iter().map(|(u, ch)| (*u, *ch)).collect();
        for (user, channel) in known {
            c.start_dm_after_upgrade(user, channel);
        }
        c
    }

    /// A DM channel without a cursor of its own starts where the older service stopped.
    fn start_dm_after_upgrade(&mut self, user_id: u64, channel_id: u64) {
        if let Some(after) = self.dm_after.get(&user_id).copied() {
            self.last_seen.entry(channel_id).or_insert(after);
        }
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
        self.start_dm_after_upgrade(user_id, channel_id);
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
    fn an_upgraded_dm_starts_after_the_older_services_last_message() {
        let rows = vec![
            ("dm-after:42".into(), "700".into()),
            ("dm:43".into(), "901".into()),
        ];
        let mut c = Cursors::from_rows(rows.clone());
        assert_eq!(c.last_seen(900), None, "channel not known yet");
        c.learn_dm(42, 900);
        assert_eq!(c.last_seen(900), Some(700));
        // Known at load (the DM channel was learned before a restart): applied at once.
        let mut rows = rows;
        rows.push(("dm:42".into(), "900".into()));
        assert_eq!(Cursors::from_rows(rows.clone()).last_seen(900), Some(700));
        // The channel's own cursor, once written, wins.
        rows.push(("900".into(), "750".into()));
        assert_eq!(Cursors::from_rows(rows).last_seen(900), Some(750));
        assert_eq!(
            c.last_seen(901),
            None,
            "a DM without an upgrade row is untouched"
        );
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
