//! REST catch-up of one bound channel: `GET /channels/{id}/messages?after=<last seen>`, oldest
//! first, every message through the same routing as the gateway's, then the events and the new
//! last-seen id committed together. Messages the gateway already delivered come back with the same
//! `dc:<id>` and are dropped by the queue's unique `(channel, event_id)`.
//!
//! A channel without a stored last-seen id is bootstrapped: with `MUX_DISCORD_BOOTSTRAP_LATEST`
//! (for bindings older than this start — the caller decides) only its newest id is recorded and
//! nothing from before is forwarded; otherwise reading starts at the binding's creation time (a
//! snowflake made from it), so the chat's history from before the pairing is never forwarded.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use serde_json::Value;

use super::cursors::{Cursors, dm_cursor, last_seen_cursor};
use crate::actors::registry::Binding;
use crate::domain::RouteKey;
use crate::ingress::discord::DiscordInbound;
use crate::ingress::discord::message::{self, snowflake_at};
use crate::ingress::discord::rest::{self, PAGE_LIMIT, RestError};
use crate::ingress::error::IngressError;
use crate::time::now_ms;

/// One bound Discord place to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub channel_id: u64,
    /// The binding's guild; REST message objects do not carry it.
    pub guild_id: Option<u64>,
    /// When the binding was created (unix ms).
    pub since_ms: i64,
}

/// What one catch-up step came to.
#[derive(Debug, PartialEq, Eq)]
pub enum CatchUp {
    /// Messages up to `last_seen` are committed; `more` when the page was full (read on).
    Committed {
        last_seen: u64,
        forwarded: usize,
        more: bool,
    },
    /// Nothing after the last seen id.
    UpToDate,
    /// The channel is gone or unreadable (403/404): skipped until the binding changes.
    Gone(RestError),
    /// Discord or the store failed; the next pass tries again.
    Failed(IngressError),
}

/// The channels to read: guild channel and thread bindings directly, DM bindings through their DM
/// channel once it is known (learned from the gateway, or opened by `open_dms` beforehand). A
/// whole guild is not read (no inbound for that scope).
pub fn targets(bindings: &[Binding], cursors: &Cursors) -> VecDeque<Target> {
    let mut seen = HashSet::new();
    let mut out = VecDeque::new();
    for b in bindings {
        let (channel_id, guild_id) = match b.route_key {
            RouteKey::DiscordChannel {
                guild_id,
                channel_id,
            } => (channel_id, Some(guild_id)),
            RouteKey::DiscordThread {
                guild_id,
                thread_id,
                ..
            } => (thread_id, Some(guild_id)),
            RouteKey::DiscordDm { user_id } => match cursors.dm_channel(user_id) {
                Some(channel_id) => (channel_id, None),
                None => continue,
            },
            _ => continue,
        };
        if seen.insert(channel_id) {
            out.push_back(Target {
                channel_id,
                guild_id,
                since_ms: b.created_at_ms,
            });
        }
    }
    out
}

/// The users of DM bindings whose DM channel is not known yet, once each.
pub fn unopened_dms(bindings: &[Binding], cursors: &Cursors) -> Vec<u64> {
    let mut seen = HashSet::new();
    bindings
        .iter()
        .filter_map(|b| match b.route_key {
            RouteKey::DiscordDm { user_id } if cursors.dm_channel(user_id).is_none() => {
                Some(user_id)
            }
            _ => None,
        })
        .filter(|user| seen.insert(*user))
        .collect()
}

/// Opens the DM channel of each user (`POST /users/@me/channels`, paced like catch-up pages)
/// and stores it, so a DM is read even if it never appeared on the gateway. Says per user what
/// came of it; a user whose channel could not be stored is asked again next pass.
pub async fn open_dms(
    inbound: &DiscordInbound,
    users: Vec<u64>,
    pace: Duration,
) -> Vec<(u64, Result<u64, IngressError>)> {
    let mut out = Vec::with_capacity(users.len());
    for (i, user) in users.into_iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(pace).await;
        }
        let opened = match rest::open_dm(&inbound.http, user).await {
            Ok(channel) => inbound
                .ctx
                .commit(Vec::new(), Some(dm_cursor(user, channel)))
                .await
                .map(|()| channel)
                .map_err(IngressError::from),
            Err(e) => Err(e.into()),
        };
        out.push((user, opened));
    }
    out
}

/// Discord refused to open the DM (unknown user, DMs closed): not worth asking again soon.
pub fn dm_refused(e: &IngressError) -> bool {
    matches!(e, IngressError::Discord(r) if r.is_refused())
}

/// One page of one channel.
pub async fn step(
    inbound: &DiscordInbound,
    target: &Target,
    last_seen: Option<u64>,
    bootstrap_latest: bool,
) -> CatchUp {
    let after = match last_seen {
        Some(id) => id,
        None if bootstrap_latest => return bootstrap(inbound, target).await,
        // `after` is exclusive: one below the creation time's snowflake, so a message sent in
        // the very millisecond the binding was made (the pairing token right after it was
        // issued) is read too.
        None => snowflake_at(target.since_ms).saturating_sub(1),
    };
    let page = match rest::messages(&inbound.http, target.channel_id, Some(after), PAGE_LIMIT).await
    {
        Ok(page) => page,
        Err(e) if e.is_gone() => return CatchUp::Gone(e),
        Err(e) => return CatchUp::Failed(e.into()),
    };
    let more = page.len() >= usize::from(PAGE_LIMIT);
    // The cursor passes every listed id, even of objects that do not parse, so a page can never
    // be read twice.
    let Some(last) = newest_id(&page).filter(|id| *id > after) else {
        return CatchUp::UpToDate;
    };
    let mut messages: Vec<_> = page
        .iter()
        .filter_map(message::parse)
        .filter(|m| m.id > after)
        .collect();
    // Discord lists newest first; handle (and queue) them in the order they were written.
    messages.sort_by_key(|m| m.id);
    let mut events = Vec::new();
    for mut msg in messages {
        msg.guild_id = msg.guild_id.or(target.guild_id);
        match inbound.process(&msg, false).await {
            Ok(processed) => events.extend(processed.event),
            Err(e) => return CatchUp::Failed(e.into()),
        }
    }
    let forwarded = events.len();
    match inbound
        .ctx
        .commit(events, Some(last_seen_cursor(target.channel_id, last)))
        .await
    {
        Ok(()) => CatchUp::Committed {
            last_seen: last,
            forwarded,
            more,
        },
        Err(e) => CatchUp::Failed(e.into()),
    }
}

/// Records the newest message id (or, for an empty or unreadable history, the present moment)
/// without forwarding anything.
async fn bootstrap(inbound: &DiscordInbound, target: &Target) -> CatchUp {
    let newest = match rest::messages(&inbound.http, target.channel_id, None, 1).await {
        Ok(page) => newest_id(&page),
        Err(e) if e.is_gone() => return CatchUp::Gone(e),
        Err(e) => return CatchUp::Failed(e.into()),
    };
    let last = newest.unwrap_or_else(|| snowflake_at(now_ms()));
    match inbound
        .ctx
        .commit(Vec::new(), Some(last_seen_cursor(target.channel_id, last)))
        .await
    {
        Ok(()) => {
            log::info!(
                "event=discord_bootstrapped channel_id={} last_seen={last}",
                target.channel_id
            );
            CatchUp::Committed {
                last_seen: last,
                forwarded: 0,
                more: false,
            }
        }
        Err(e) => CatchUp::Failed(e.into()),
    }
}

fn newest_id(page: &[Value]) -> Option<u64> {
    page.iter()
        .filter_map(|m| message::snowflake(m.get("id")))
        .max()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn binding(route_key: &str, created_at_ms: i64) -> Binding {
        Binding {
            binding_id: route_key.into(),
            tenant_id: "t".into(),
            channel: crate::domain::Channel::Discord,
            scope: crate::domain::Scope::Channel,
            route_key: RouteKey::parse(route_key).unwrap(),
            session_key: "s".into(),
            status: crate::actors::registry::BindingStatus::Active,
            created_at_ms,
        }
    }

    #[test]
    fn guild_channels_are_read_directly_and_dms_only_through_a_known_dm_channel() {
        let cursors = Cursors::from_rows(vec![("dm:42".into(), "900".into())]);
        let bindings = vec![
            binding("discord:default:guild:500:channel:501", 1),
            binding("discord:default:dm:user:42", 2),
            binding("discord:default:dm:user:43", 3),
            binding("discord:default:guild:500:channel:501", 4),
            binding("telegram:default:chat:1", 5),
        ];
        let got: Vec<Target> = targets(&bindings, &cursors).into_iter().collect();
        assert_eq!(
            got,
            vec![
                Target {
                    channel_id: 501,
                    guild_id: Some(500),
                    since_ms: 1
                },
                Target {
                    channel_id: 900,
                    guild_id: None,
                    since_ms: 2
                },
            ]
        );
    }

    #[test]
    fn threads_are_read_whole_guilds_are_not_and_unknown_dms_are_opened_first() {
        let cursors = Cursors::from_rows(vec![("dm:42".into(), "900".into())]);
        let bindings = vec![
            binding("discord:default:guild:500", 1),
            binding("discord:default:guild:500:channel:501:thread:5011", 2),
            binding("discord:default:guild:500:thread:5012", 3),
            binding("discord:default:dm:user:42", 4),
            binding("discord:default:dm:user:43", 5),
            binding("discord:default:dm:user:43", 6),
        ];
        let read: Vec<(u64, Option<u64>)> = targets(&bindings, &cursors)
            .into_iter()
            .map(|t| (t.channel_id, t.guild_id))
            .collect();
        assert_eq!(
            read,
            vec![(5011, Some(500)), (5012, Some(500)), (900, None)]
        );
        assert_eq!(unopened_dms(&bindings, &cursors), vec![43]);
    }

    #[test]
    fn the_newest_id_is_the_largest_snowflake_not_the_first_listed() {
        let page = vec![
            json!({"id": "9"}),
            json!({"id": "10"}),
            json!({"id": "x"}),
            json!({}),
        ];
        assert_eq!(newest_id(&page), Some(10));
        assert_eq!(newest_id(&[]), None);
    }
}
