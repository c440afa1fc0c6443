//! The route lock (contract §5): whatever a request carries (`threadId`, `to`, `replyToId`,
//! `channelData`), a send reaches only chats bound to its tenant. The binding names the place;
//! the request may only narrow it to a thread or topic inside that place, and never to one that
//! another tenant holds.
//!
//! - Telegram topic-bound: always the bound topic; `threadId` is ignored.
//! - Telegram chat-bound: a positive `threadId` picks that topic of the bound chat, unless the
//!   topic is bound to another tenant (`403 ROUTE_NOT_BOUND`).
//! - Discord DM-bound, WhatsApp: the bound chat; `to`/`threadId` are ignored.
//! - Discord channel-bound: a `threadId` (or a `to` naming a channel) is followed only when it is
//!   a thread whose parent is the bound channel, in the bound guild, and not bound to another
//!   tenant; anything else goes to the bound channel.
//!
//! `replyToId` is sent as a reply inside the chosen chat (Telegram `reply_parameters` without a
//! chat, Discord `message_reference` without a channel), so it cannot move the message either.

use std::sync::Arc;

use tokio::time::Instant;

use super::{Outbound, SendRequest};
use crate::actors::registry::ResolveIncoming;
use crate::domain::RouteKey;
use crate::senders::SendError;
use crate::senders::discord::ChannelPlace;
use crate::senders::discord_target::{channel_from_to, snowflake};
use crate::senders::telegram::TelegramTarget;

/// Where a send goes, after the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Telegram(TelegramTarget),
    DiscordDm { user_id: u64 },
    DiscordChannel { channel_id: u64 },
    Whatsapp { jid: String },
}

impl Target {
    /// The bound place itself, with no request field applied (pairing notices).
    pub fn of_route(route: &RouteKey) -> Target {
        match route {
            RouteKey::TelegramChat { chat_id } => Target::Telegram(TelegramTarget {
                chat_id: *chat_id,
                topic_id: None,
            }),
            RouteKey::TelegramTopic { chat_id, topic_id } => Target::Telegram(TelegramTarget {
                chat_id: *chat_id,
                topic_id: Some(*topic_id),
            }),
            RouteKey::DiscordDm { user_id } => Target::DiscordDm { user_id: *user_id },
            RouteKey::DiscordChannel { channel_id, .. } => Target::DiscordChannel {
                channel_id: *channel_id,
            },
            RouteKey::WhatsappChat { jid } => Target::Whatsapp { jid: jid.clone() },
        }
    }
}

/// A positive integer thread or topic id as OpenClaw sends it (number or decimal text).
pub fn requested_topic(raw: Option<&str>) -> Option<i64> {
    raw?.trim().parse::<i64>().ok().filter(|n| *n > 0)
}

/// The Discord channel a request asks for: `threadId`, else a `to` naming a channel. None when
/// it asks for nothing, or for the bound channel itself.
pub fn requested_discord_channel(req: &SendRequest, bound: u64) -> Option<u64> {
    req.thread_id
        .as_deref()
        .and_then(snowflake)
        .or_else(|| req.to.as_deref().and_then(channel_from_to))
        .filter(|c| *c != bound)
}

/// Whether a requested channel lies inside the bound one: a thread of the bound channel, in the
/// bound guild. A channel that could not be read (deleted, no access) is not.
pub fn inside_bound_channel(place: Option<ChannelPlace>, guild_id: u64, channel_id: u64) -> bool {
    place.is_some_and(|p| p.guild_id == Some(guild_id) && p.parent_id == Some(channel_id))
}

impl Outbound {
    /// Applies the lock to the tenant's binding (`route`) and the request's steering fields.
    pub(super) async fn lock(
        &self,
        tenant: &Arc<str>,
        route: &RouteKey,
        req: &SendRequest,
        deadline: Instant,
    ) -> Result<Target, SendError> {
        match route {
            RouteKey::TelegramChat { chat_id } => {
                let Some(topic_id) = requested_topic(req.thread_id.as_deref()) else {
                    return Ok(Target::of_route(route));
                };
                let topic = RouteKey::TelegramTopic {
                    chat_id: *chat_id,
                    topic_id,
                };
                if self.held_by_another(tenant, topic).await? {
                    return Err(SendError::RouteNotBound);
                }
                Ok(Target::Telegram(TelegramTarget {
                    chat_id: *chat_id,
                    topic_id: Some(topic_id),
                }))
            }
            RouteKey::DiscordChannel {
                guild_id,
                channel_id,
            } => {
                let Some(wanted) = requested_discord_channel(req, *channel_id) else {
                    return Ok(Target::of_route(route));
                };
                let sender = self.discord.as_ref().ok_or(SendError::Disabled)?;
                let place = sender.place(wanted, deadline).await?;
                let thread = RouteKey::DiscordChannel {
                    guild_id: *guild_id,
                    channel_id: wanted,
                };
                if inside_bound_channel(place, *guild_id, *channel_id)
                    && !self.held_by_another(tenant, thread).await?
                {
                    return Ok(Target::DiscordChannel { channel_id: wanted });
                }
                log::info!(
                    "event=outbound_target_not_followed tenant={tenant} channel=discord requested={wanted}"
                );
                Ok(Target::of_route(route))
            }
            _ => Ok(Target::of_route(route)),
        }
    }

    /// Whether `route` is actively bound to a tenant other than `tenant`.
    async fn held_by_another(&self, tenant: &Arc<str>, route: RouteKey) -> Result<bool, SendError> {
        let holder = self
            .registry
            .send(ResolveIncoming {
                route_keys: vec![route],
            })
            .await
            .map_err(|_| SendError::Unavailable)?;
        Ok(holder.is_some_and(|b| b.tenant_id != *tenant))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Channel;
    use crate::senders::OutgoingMessage;

    fn req(thread_id: Option<&str>, to: Option<&str>) -> SendRequest {
        SendRequest {
            channel: Channel::Discord,
            session_key: "s".into(),
            to: to.map(str::to_owned),
            thread_id: thread_id.map(str::to_owned),
            message: OutgoingMessage::default(),
        }
    }

    #[test]
    fn only_positive_integers_name_a_topic() {
        assert_eq!(requested_topic(Some("7")), Some(7));
        assert_eq!(requested_topic(Some(" 7 ")), Some(7));
        for bad in ["0", "-5", "x", "", "7.5"] {
            assert_eq!(requested_topic(Some(bad)), None, "{bad}");
        }
        assert_eq!(requested_topic(None), None);
    }

    #[test]
    fn thread_id_wins_over_to_and_the_bound_channel_asks_for_nothing() {
        assert_eq!(
            requested_discord_channel(&req(Some("77"), Some("channel:5")), 10),
            Some(77)
        );
        assert_eq!(
            requested_discord_channel(&req(None, Some("<#5>")), 10),
            Some(5)
        );
        assert_eq!(requested_discord_channel(&req(Some("10"), None), 10), None);
        assert_eq!(
            requested_discord_channel(&req(None, Some("user:9")), 10),
            None
        );
        assert_eq!(requested_discord_channel(&req(None, None), 10), None);
    }

    #[test]
    fn only_a_thread_of_the_bound_channel_in_the_bound_guild_is_inside() {
        let place = |guild, parent| {
            Some(ChannelPlace {
                guild_id: Some(guild),
                parent_id: parent,
            })
        };
        assert!(inside_bound_channel(place(500, Some(501)), 500, 501));
        assert!(
            !inside_bound_channel(place(500, Some(502)), 500, 501),
            "sibling's thread"
        );
        assert!(
            !inside_bound_channel(place(500, None), 500, 501),
            "sibling channel"
        );
        assert!(
            !inside_bound_channel(place(600, Some(501)), 500, 501),
            "other guild"
        );
        assert!(!inside_bound_channel(None, 500, 501), "unreadable");
    }
}
