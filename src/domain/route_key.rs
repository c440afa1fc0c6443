//! Route keys: the canonical string naming one bindable place on a platform (§3.2).
//!
//! Route keys are stored in the database, and the database enforces "one active tenant per route
//! key" by a unique index on the string. That only works if every place has exactly one spelling,
//! so [`RouteKey::parse`] accepts only the canonical form that [`fmt::Display`] writes (no `+5`,
//! `007`, `-0`, spaces or other accounts than `default`).
//!
//! The older service's Discord guild forms are accepted too (contract §3.2, compat): the whole
//! guild `discord:<account>:guild:<guildId>` (the only form whose account may be other than
//! `default`; it is kept as written, so a stored key reads back byte-identical) and the two thread
//! forms `…:guild:<g>:channel:<c>:thread:<t>` and `…:guild:<g>:thread:<t>`. The two thread forms
//! name the same thread, and a thread paired by token is `…:guild:<g>:channel:<t>`; every lookup
//! of "who holds this thread" therefore asks for all of its spellings
//! ([`RouteKey::discord_spellings`]).

use std::fmt;
use std::str::FromStr;

use super::channel::{Channel, Scope};

/// The only account segment mux supports; it is part of every route key for compatibility with
/// OpenClaw's format.
pub const DEFAULT_ACCOUNT: &str = "default";

const WA_DIRECT_SUFFIX: &str = "@s.whatsapp.net";
const WA_GROUP_SUFFIX: &str = "@g.us";

/// One bindable place on a platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RouteKey {
    /// `telegram:default:chat:<chatId>` — a private chat, group or supergroup (negative ids are
    /// groups).
    TelegramChat { chat_id: i64 },
    /// `telegram:default:chat:<chatId>:topic:<topicId>` — one forum topic of a supergroup.
    TelegramTopic { chat_id: i64, topic_id: i64 },
    /// `discord:default:dm:user:<userId>` — the DM with one user.
    DiscordDm { user_id: u64 },
    /// `discord:default:guild:<guildId>:channel:<channelId>` — one guild channel (or a thread
    /// paired by a token posted in it).
    DiscordChannel { guild_id: u64, channel_id: u64 },
    /// `discord:<account>:guild:<guildId>` — a whole guild (scope `guild`): no inbound; each send
    /// names its channel or thread in the guild.
    DiscordGuild { account: String, guild_id: u64 },
    /// `discord:default:guild:<g>:channel:<c>:thread:<t>` (`parent_id` given) or
    /// `discord:default:guild:<g>:thread:<t>` — one thread (scope `channel`).
    DiscordThread {
        guild_id: u64,
        parent_id: Option<u64>,
        thread_id: u64,
    },
    /// `whatsapp:default:chat:<jid>` — `<wa_id>@s.whatsapp.net` or a group `<id>@g.us`.
    WhatsappChat { jid: String },
}

/// Why a string is not a canonical route key. Messages are meant for API error bodies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteKeyError {
    #[error("routeKey must start with telegram:, discord: or whatsapp:")]
    UnknownChannel,
    #[error(
        "routeKey account must be default (any account only for discord:<account>:guild:<guildId>)"
    )]
    UnsupportedAccount,
    #[error("routeKey must look like {expected}")]
    Malformed { expected: &'static str },
    #[error("routeKey {field} must be a canonical integer{rule}")]
    InvalidId {
        field: &'static str,
        rule: &'static str,
    },
    #[error("routeKey jid must be <digits>@s.whatsapp.net or <group id>@g.us")]
    InvalidJid,
}

const TG_FORMS: &str = "telegram:default:chat:<chatId>[:topic:<topicId>]";
const DC_FORMS: &str = "discord:default:dm:user:<userId>, \
    discord:default:guild:<guildId>[:channel:<channelId>][:thread:<threadId>] or \
    discord:<account>:guild:<guildId>";

/// Account names the older service wrote: OpenClaw account ids.
fn is_account(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
const WA_FORMS: &str = "whatsapp:default:chat:<jid>";

/// The WhatsApp JID of a Cloud API `wa_id` (OpenClaw keys WhatsApp sessions by JID, the Graph API
/// wants the bare id).
pub fn whatsapp_jid(wa_id: &str) -> String {
    format!("{wa_id}{WA_DIRECT_SUFFIX}")
}

impl RouteKey {
    /// The keys a Telegram message or press in `chat_id` (and its forum topic, if any) is
    /// routed by, most specific first: the topic, then the chat.
    pub fn telegram_keys(chat_id: i64, topic_id: Option<i64>) -> Vec<RouteKey> {
        let chat = RouteKey::TelegramChat { chat_id };
        match topic_id {
            Some(topic_id) => vec![RouteKey::TelegramTopic { chat_id, topic_id }, chat],
            None => vec![chat],
        }
    }

    /// Parses the canonical form only; see the module docs for why.
    pub fn parse(s: &str) -> Result<RouteKey, RouteKeyError> {
        let parts: Vec<&str> = s.split(':').collect();
        let (channel, account, rest) = match parts.as_slice() {
            [c, a, rest @ ..] => (*c, *a, rest),
            _ => return Err(RouteKeyError::UnknownChannel),
        };
        let expected = match channel {
            "telegram" => TG_FORMS,
            "discord" => DC_FORMS,
            "whatsapp" => WA_FORMS,
            _ => return Err(RouteKeyError::UnknownChannel),
        };
        if account != DEFAULT_ACCOUNT {
            return match (channel, rest) {
                ("discord", ["guild", guild]) if is_account(account) => {
                    Ok(RouteKey::DiscordGuild {
                        account: account.to_owned(),
                        guild_id: parse_snowflake(guild, "guildId")?,
                    })
                }
                _ => Err(RouteKeyError::UnsupportedAccount),
            };
        }
        match (channel, rest) {
            ("telegram", ["chat", chat]) => Ok(RouteKey::TelegramChat {
                chat_id: parse_i64(chat, "chatId")?,
            }),
            ("telegram", ["chat", chat, "topic", topic]) => {
                let chat_id = parse_i64(chat, "chatId")?;
                let topic_id = parse_i64(topic, "topicId")?;
                if topic_id <= 0 {
                    return Err(RouteKeyError::InvalidId {
                        field: "topicId",
                        rule: " > 0",
                    });
                }
                Ok(RouteKey::TelegramTopic { chat_id, topic_id })
            }
            ("discord", ["dm", "user", user]) => Ok(RouteKey::DiscordDm {
                user_id: parse_snowflake(user, "userId")?,
            }),
            ("discord", ["guild", guild, "channel", chan]) => Ok(RouteKey::DiscordChannel {
                guild_id: parse_snowflake(guild, "guildId")?,
                channel_id: parse_snowflake(chan, "channelId")?,
            }),
            ("discord", ["guild", guild]) => Ok(RouteKey::DiscordGuild {
                account: DEFAULT_ACCOUNT.to_owned(),
                guild_id: parse_snowflake(guild, "guildId")?,
            }),
            ("discord", ["guild", guild, "channel", chan, "thread", thread]) => {
                Ok(RouteKey::DiscordThread {
                    guild_id: parse_snowflake(guild, "guildId")?,
                    parent_id: Some(parse_snowflake(chan, "channelId")?),
                    thread_id: parse_snowflake(thread, "threadId")?,
                })
            }
            ("discord", ["guild", guild, "thread", thread]) => Ok(RouteKey::DiscordThread {
                guild_id: parse_snowflake(guild, "guildId")?,
                parent_id: None,
                thread_id: parse_snowflake(thread, "threadId")?,
            }),
            ("whatsapp", ["chat", jid]) if is_valid_jid(jid) => Ok(RouteKey::WhatsappChat {
                jid: (*jid).to_owned(),
            }),
            ("whatsapp", ["chat", _]) => Err(RouteKeyError::InvalidJid),
            _ => Err(RouteKeyError::Malformed { expected }),
        }
    }

    /// The WhatsApp JID of a Cloud API `wa_id`; same as the free function [`whatsapp_jid`].
    pub fn whatsapp_jid(wa_id: &str) -> String {
        whatsapp_jid(wa_id)
    }

    pub fn channel(&self) -> Channel {
        match self {
            RouteKey::TelegramChat { .. } | RouteKey::TelegramTopic { .. } => Channel::Telegram,
            RouteKey::DiscordDm { .. }
            | RouteKey::DiscordChannel { .. }
            | RouteKey::DiscordGuild { .. }
            | RouteKey::DiscordThread { .. } => Channel::Discord,
            RouteKey::WhatsappChat { .. } => Channel::Whatsapp,
        }
    }

    /// The binding scope this place implies (§3.2): a WhatsApp group JID is a `group`, any other
    /// WhatsApp chat a `chat`.
    pub fn scope(&self) -> Scope {
        match self {
            RouteKey::TelegramChat { .. } => Scope::Chat,
            RouteKey::TelegramTopic { .. } => Scope::Topic,
            RouteKey::DiscordDm { .. } => Scope::Dm,
            RouteKey::DiscordChannel { .. } | RouteKey::DiscordThread { .. } => Scope::Channel,
            RouteKey::DiscordGuild { .. } => Scope::Guild,
            RouteKey::WhatsappChat { jid } if jid.ends_with(WA_GROUP_SUFFIX) => Scope::Group,
            RouteKey::WhatsappChat { .. } => Scope::Chat,
        }
    }

    /// The session key used when the pairing token carried none (§6). These strings are what
    /// OpenClaw keys its conversations by, so they must match the older service exactly.
    pub fn derived_session_key(&self) -> String {
        fn tg_base(chat_id: i64) -> String {
            if chat_id < 0 {
                format!("tg:group:{chat_id}")
            } else {
                format!("tg:chat:{chat_id}")
            }
        }
        match self {
            RouteKey::TelegramChat { chat_id } => tg_base(*chat_id),
            RouteKey::TelegramTopic { chat_id, topic_id } => {
                format!("{}:thread:{topic_id}", tg_base(*chat_id))
            }
            RouteKey::DiscordDm { user_id } => format!("dc:dm:{user_id}"),
            RouteKey::DiscordChannel {
                guild_id,
                channel_id,
            } => format!("dc:guild:{guild_id}:channel:{channel_id}"),
            RouteKey::DiscordGuild { guild_id, .. } => format!("dc:guild:{guild_id}"),
            RouteKey::DiscordThread {
                guild_id,
                parent_id: Some(parent),
                thread_id,
            } => format!("dc:guild:{guild_id}:channel:{parent}:thread:{thread_id}"),
            RouteKey::DiscordThread {
                guild_id,
                parent_id: None,
                thread_id,
            } => format!("dc:guild:{guild_id}:thread:{thread_id}"),
            RouteKey::WhatsappChat { jid } if jid.ends_with(WA_GROUP_SUFFIX) => {
                format!("wa:group:{jid}")
            }
            RouteKey::WhatsappChat { jid } => format!("wa:chat:{jid}"),
        }
    }

    /// Discord DMs are handled differently from guild channels on outbound (the DM channel is
    /// opened on demand).
    pub fn is_discord_dm(&self) -> bool {
        matches!(self, RouteKey::DiscordDm { .. })
    }

    /// Every route key a tenant may hold that covers Discord channel `channel_id` of `guild_id`
    /// (`parent_id`: the parent channel when it is a thread), most specific first: the channel
    /// itself in each spelling, then — for a thread — its parent channel, whose binding receives
    /// the thread's messages. Inbound routing and the route lock's "held by another tenant"
    /// both ask for all of them, so no spelling of a place escapes either.
    pub fn discord_spellings(
        guild_id: u64,
        channel_id: u64,
        parent_id: Option<u64>,
    ) -> Vec<RouteKey> {
        let mut keys = vec![RouteKey::DiscordChannel {
            guild_id,
            channel_id,
        }];
        let Some(parent) = parent_id.filter(|p| *p != channel_id) else {
            return keys;
        };
        keys.extend([
            RouteKey::DiscordThread {
                guild_id,
                parent_id: Some(parent),
                thread_id: channel_id,
            },
            RouteKey::DiscordThread {
                guild_id,
                parent_id: None,
                thread_id: channel_id,
            },
            RouteKey::DiscordChannel {
                guild_id,
                channel_id: parent,
            },
        ]);
        keys
    }

    /// The bare Cloud API `wa_id` of a direct WhatsApp chat (what the Graph API is sent); `None`
    /// for groups and other channels.
    pub fn whatsapp_wa_id(&self) -> Option<&str> {
        match self {
            RouteKey::WhatsappChat { jid } => jid.strip_suffix(WA_DIRECT_SUFFIX),
            _ => None,
        }
    }
}

impl fmt::Display for RouteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = DEFAULT_ACCOUNT;
        match self {
            RouteKey::TelegramChat { chat_id } => write!(f, "telegram:{a}:chat:{chat_id}"),
            RouteKey::TelegramTopic { chat_id, topic_id } => {
                write!(f, "telegram:{a}:chat:{chat_id}:topic:{topic_id}")
            }
            RouteKey::DiscordDm { user_id } => write!(f, "discord:{a}:dm:user:{user_id}"),
            RouteKey::DiscordChannel {
                guild_id,
                channel_id,
            } => {
                write!(f, "discord:{a}:guild:{guild_id}:channel:{channel_id}")
            }
            RouteKey::DiscordGuild { account, guild_id } => {
                write!(f, "discord:{account}:guild:{guild_id}")
            }
            RouteKey::DiscordThread {
                guild_id,
                parent_id: Some(parent),
                thread_id,
            } => write!(
                f,
                "discord:{a}:guild:{guild_id}:channel:{parent}:thread:{thread_id}"
            ),
            RouteKey::DiscordThread {
                guild_id,
                parent_id: None,
                thread_id,
            } => write!(f, "discord:{a}:guild:{guild_id}:thread:{thread_id}"),
            RouteKey::WhatsappChat { jid } => write!(f, "whatsapp:{a}:chat:{jid}"),
        }
    }
}

/// On the wire a route key is its canonical string.
impl serde::Serialize for RouteKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl FromStr for RouteKey {
    type Err = RouteKeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RouteKey::parse(s)
    }
}

/// Parsing then printing must give back the input, which rules out signs, leading zeros, `-0` and
/// whitespace.
fn parse_i64(s: &str, field: &'static str) -> Result<i64, RouteKeyError> {
    match s.parse::<i64>() {
        Ok(n) if n.to_string() == s => Ok(n),
        _ => Err(RouteKeyError::InvalidId { field, rule: "" }),
    }
}

/// Discord ids are positive u64 snowflakes.
fn parse_snowflake(s: &str, field: &'static str) -> Result<u64, RouteKeyError> {
    match s.parse::<u64>() {
        Ok(n) if n > 0 && n.to_string() == s => Ok(n),
        _ => Err(RouteKeyError::InvalidId {
            field,
            rule: " > 0",
        }),
    }
}

fn is_valid_jid(jid: &str) -> bool {
    if let Some(user) = jid.strip_suffix(WA_DIRECT_SUFFIX) {
        (5..=20).contains(&user.len()) && user.bytes().all(|b| b.is_ascii_digit())
    } else if let Some(group) = jid.strip_suffix(WA_GROUP_SUFFIX) {
        (5..=40).contains(&group.len()) && group.bytes().all(|b| b.is_ascii_digit() || b == b'-')
    } else {
        false
    }
}

#[cfg(test)]
mod tests;
