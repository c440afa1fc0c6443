//! Where ingress resumes: Telegram at `last_update_id + 1`; each Discord binding's last message
//! id becomes the catch-up cursor of its channel or thread (the largest, when bindings share one).

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::set_aside;
use super::upgrade::Moved;
use crate::db::schema::ingress_offsets;
use crate::error::StoreError;

/// Where a Discord DM binding's last message id is kept (`discord` / `dm-after:<userId>`): our
/// cursors are per channel, and the older service never stored the DM channel's id. Discord
/// ingress resumes from it once the DM channel of that user is known (opened over REST or seen on
/// the gateway): `ingress::discord::connection::cursors`.
pub const DM_CURSOR_PREFIX: &str = "dm-after:";

#[derive(QueryableByName)]
struct LastUpdate {
    #[diesel(sql_type = Nullable<BigInt>)]
    last_update_id: Option<i64>,
}

#[derive(QueryableByName)]
struct LegacyOffset {
    #[diesel(sql_type = Nullable<Text>)]
    last_message_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    route_key: Option<String>,
}

/// Where a Discord route's messages are read: a channel or thread by id, or a DM by its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    Channel(u64),
    DmUser(u64),
}

fn discord_place(route_key: &str) -> Option<Place> {
    let id = |s: &str| s.parse::<u64>().ok().filter(|n| *n > 0);
    match route_key.split(':').collect::<Vec<_>>().as_slice() {
        ["discord", _, "dm", "user", u] => id(u).map(Place::DmUser),
        ["discord", _, "guild", _, "channel", c] => id(c).map(Place::Channel),
        ["discord", _, "guild", _, "channel", _, "thread", t]
        | ["discord", _, "guild", _, "thread", t] => id(t).map(Place::Channel),
        // A whole guild has no inbound.
        _ => None,
    }
}

pub(super) fn offsets(
    c: &mut SqliteConnection,
    has: &dyn Fn(&str) -> bool,
    now_ms: i64,
    moved: &mut Moved,
) -> Result<(), StoreError> {
    if has("telegram_offsets") {
        let last: Option<LastUpdate> = diesel::sql_query(format!(
            "SELECT last_update_id FROM {} ORDER BY id = 1 DESC, id LIMIT 1",
            set_aside("telegram_offsets")
        ))
        .get_result(c)
        .optional()?;
        if let Some(last) = last.and_then(|l| l.last_update_id) {
            let next = last.saturating_add(1);
            put_cursor(c, "telegram", "", &next.to_string(), now_ms)?;
            moved.telegram_offset = Some(next);
        }
    }
    if !has("discord_offsets") {
        return Ok(());
    }
    let join = if has("bindings") {
        format!(
            "SELECT o.last_message_id, b.route_key FROM {} o LEFT JOIN {} b \
             ON b.binding_id = o.binding_id",
            set_aside("discord_offsets"),
            set_aside("bindings")
        )
    } else {
        format!(
            "SELECT last_message_id, NULL AS route_key FROM {}",
            set_aside("discord_offsets")
        )
    };
    let rows: Vec<LegacyOffset> = diesel::sql_query(join).load(c)?;
    let mut last: BTreeMap<Place, u64> = BTreeMap::new();
    for r in rows {
        let place = r.route_key.as_deref().and_then(discord_place);
        let id = r.last_message_id.and_then(|m| m.trim().parse::<u64>().ok());
        let (Some(place), Some(id)) = (place, id) else {
            moved.skip("discord_offsets_without_a_channel", 1);
            continue;
        };
        let e = last.entry(place).or_default();
        *e = (*e).max(id);
    }
    for (place, id) in last {
        let scope = match place {
            Place::Channel(ch) => ch.to_string(),
            Place::DmUser(user) => format!("{DM_CURSOR_PREFIX}{user}"),
        };
        put_cursor(c, "discord", &scope, &id.to_string(), now_ms)?;
        moved.discord_cursors += 1;
    }
    Ok(())
}

fn put_cursor(
    c: &mut SqliteConnection,
    channel: &str,
    scope_key: &str,
    value: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    diesel::insert_into(ingress_offsets::table)
        .values((
            ingress_offsets::channel.eq(channel),
            ingress_offsets::scope_key.eq(scope_key),
            ingress_offsets::cursor.eq(value),
            ingress_offsets::updated_at_ms.eq(now_ms),
        ))
        .execute(c)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discord_route_keys_name_the_channel_or_thread_read_or_the_dm_user() {
        assert_eq!(
            discord_place("discord:default:guild:1:channel:2"),
            Some(Place::Channel(2))
        );
        assert_eq!(
            discord_place("discord:default:guild:1:channel:2:thread:3"),
            Some(Place::Channel(3))
        );
        assert_eq!(
            discord_place("discord:other:guild:1:thread:4"),
            Some(Place::Channel(4))
        );
        assert_eq!(
            discord_place("discord:default:dm:user:5"),
            Some(Place::DmUser(5))
        );
        assert_eq!(discord_place("discord:default:guild:1"), None);
        assert_eq!(discord_place("telegram:default:chat:1"), None);
    }
}
