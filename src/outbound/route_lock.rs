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
//! - Discord thread-bound (`…:thread:<t>`): always the bound thread.
//! - Discord guild-bound (the whole guild): the target is `threadId`, else `to` in a channel form
//!   (`guild_target`); a DM-style `to` is `403`, no target `400`; the target must sit in the bound
//!   guild (`403 discord channel not allowed for this bound guild`, also for a channel that cannot
//!   be read), and a channel or thread another tenant holds — in any spelling, or through the
//!   thread's parent channel — is `403 ROUTE_NOT_BOUND`.
//!
//! `replyToId` is sent as a reply inside the chosen chat (Telegram `reply_parameters` without a
//! chat, Discord `message_reference` without a channel), so it cannot move the message either.

pub mod raw;

use std::sync::Arc;

use tokio::time::Instant;

use super::{Outbound, SendRequest};
use crate::domain::RouteKey;
use crate::senders::SendError;
use crate::senders::discord::ChannelPlace;
use crate::senders::discord_target::{
    NO_TARGET, OTHER_GUILD, channel_from_to, guild_target, snowflake,
};
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
    /// The bound place itself, with no request field applied (pairing notices). A whole guild
    /// names no place: `None`.
    pub fn of_route(route: &RouteKey) -> Option<Target> {
        Some(match route {
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
            RouteKey::DiscordThread { thread_id, .. } => Target::DiscordChannel {
                channel_id: *thread_id,
            },
            RouteKey::DiscordGuild { .. } => return None,
            RouteKey::WhatsappChat { jid } => Target::Whatsapp { jid: jid.clone() },
        })
    }
}

/// Whether a channel sits in the bound guild. A channel that could not be read (deleted, no
/// access) does not.
pub fn in_bound_guild(place: Option<ChannelPlace>, guild_id: u64) -> bool {
    place.is_some_and(|p| p.guild_id == Some(guild_id))
}

/// The bound place itself; a whole guild names none (`400`, as a guild send without a target).
fn bound(route: &RouteKey) -> Result<Target, SendError> {
    Target::of_route(route).ok_or(SendError::Rejected {
        status: 400,
        message: NO_TARGET,
    })
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
                    return bound(route);
                };
                let topic = RouteKey::TelegramTopic {
                    chat_id: *chat_id,
                    topic_id,
                };
                if self.held_by_another(tenant, vec![topic]).await? {
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
                    return bound(route);
                };
                let sender = self.discord.as_ref().ok_or(SendError::Disabled)?;
                let place = sender.place(wanted, deadline).await?;
                let spellings = RouteKey::discord_spellings(*guild_id, wanted, Some(*channel_id));
                if inside_bound_channel(place, *guild_id, *channel_id)
                    && !self.held_by_another(tenant, spellings).await?
                {
                    return Ok(Target::DiscordChannel { channel_id: wanted });
                }
                log::info!(
                    "event=outbound_target_not_followed tenant={tenant} channel=discord requested={wanted}"
                );
                bound(route)
            }
            RouteKey::DiscordGuild { guild_id, .. } => {
                let wanted = guild_target(None, req.thread_id.as_deref(), req.to.as_deref())?;
                let sender = self.discord.as_ref().ok_or(SendError::Disabled)?;
                let place = sender.place(wanted, deadline).await?;
                if !in_bound_guild(place, *guild_id) {
                    log::info!(
                        "event=outbound_target_refused tenant={tenant} channel=discord requested={wanted} reason=other_guild"
                    );
                    return Err(SendError::Rejected {
                        status: 403,
                        message: OTHER_GUILD,
                    });
                }
                let parent = place.and_then(|p| p.parent_id);
                let spellings = RouteKey::discord_spellings(*guild_id, wanted, parent);
                if self.held_by_another(tenant, spellings).await? {
                    return Err(SendError::RouteNotBound);
                }
                Ok(Target::DiscordChannel { channel_id: wanted })
            }
            _ => bound(route),
        }
    }

    /// Whether the first of `route_keys` (most specific first) that is actively bound is bound
    /// to a tenant other than `tenant`.
    async fn held_by_another(
        &self,
        tenant: &Arc<str>,
        route_keys: Vec<RouteKey>,
    ) -> Result<bool, SendError> {
        let holder = self.view.incoming(&route_keys);
        Ok(holder.is_some_and(|b| b.tenant_id != *tenant))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a panic is how a test fails
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
            raw: None,
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

    #[test]
    fn only_a_readable_channel_of_the_bound_guild_is_in_it() {
        let place = |guild| {
            Some(ChannelPlace {
                guild_id: guild,
                parent_id: None,
            })
        };
        assert!(in_bound_guild(place(Some(500)), 500));
        assert!(!in_bound_guild(place(Some(600)), 500), "other guild");
        assert!(!in_bound_guild(place(None), 500), "a DM channel");
        assert!(!in_bound_guild(None, 500), "unreadable");
    }

    #[test]
    fn a_whole_guild_names_no_place_of_its_own() {
        let guild = RouteKey::parse("discord:default:guild:500").unwrap();
        assert_eq!(Target::of_route(&guild), None);
        let thread = RouteKey::parse("discord:default:guild:500:channel:501:thread:5011").unwrap();
        assert_eq!(
            Target::of_route(&thread),
            Some(Target::DiscordChannel { channel_id: 5011 })
        );
    }
}
