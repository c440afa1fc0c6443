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
#[allow(clippy::unwrap_used)] // a panic is how a test fails
mod tests {
    use super::*;
    use Channel::{Discord, Telegram, Whatsapp};
    use proptest::prelude::*;

    fn p(s: &str) -> RouteKey {
        RouteKey::parse(s).unwrap()
    }

    fn err(s: &str) -> RouteKeyError {
        RouteKey::parse(s).unwrap_err()
    }

    /// (canonical route key, channel, scope, derived session key), one row per shape.
    #[rustfmt::skip]
    const CANONICAL: [(&str, Channel, Scope, &str); 11] = [
        ("telegram:default:chat:-100123", Telegram, Scope::Chat, "tg:group:-100123"),
        ("telegram:default:chat:777", Telegram, Scope::Chat, "tg:chat:777"),
        ("telegram:default:chat:-1001:topic:7", Telegram, Scope::Topic, "tg:group:-1001:thread:7"),
        ("discord:default:dm:user:813847887657", Discord, Scope::Dm, "dc:dm:813847887657"),
        ("discord:default:guild:1:channel:2", Discord, Scope::Channel, "dc:guild:1:channel:2"),
        ("discord:default:guild:1", Discord, Scope::Guild, "dc:guild:1"),
        ("discord:work-2:guild:1", Discord, Scope::Guild, "dc:guild:1"),
        ("discord:default:guild:1:channel:2:thread:3", Discord, Scope::Channel,
            "dc:guild:1:channel:2:thread:3"),
        ("discord:default:guild:1:thread:3", Discord, Scope::Channel, "dc:guild:1:thread:3"),
        ("whatsapp:default:chat:155512@s.whatsapp.net", Whatsapp, Scope::Chat,
            "wa:chat:155512@s.whatsapp.net"),
        ("whatsapp:default:chat:120363-99@g.us", Whatsapp, Scope::Group, "wa:group:120363-99@g.us"),
    ];

    #[test]
    fn canonical_keys_round_trip_and_give_channel_scope_and_session_key() {
        for (s, channel, scope, session) in CANONICAL {
            let key = p(s);
            assert_eq!(key.to_string(), s);
            assert_eq!(s.parse::<RouteKey>(), Ok(key.clone()));
            assert_eq!((key.channel(), key.scope()), (channel, scope), "{s}");
            assert_eq!(key.derived_session_key(), session);
        }
    }

    #[test]
    fn canonical_keys_parse_to_the_expected_variants() {
        let topic = RouteKey::TelegramTopic {
            chat_id: -1001,
            topic_id: 7,
        };
        assert_eq!(p("telegram:default:chat:-1001:topic:7"), topic);
        let guild = RouteKey::DiscordChannel {
            guild_id: 1,
            channel_id: 2,
        };
        assert_eq!(p("discord:default:guild:1:channel:2"), guild);
        let whole = RouteKey::DiscordGuild {
            account: "ops".into(),
            guild_id: 1,
        };
        assert_eq!(p("discord:ops:guild:1"), whole);
        let thread = RouteKey::DiscordThread {
            guild_id: 1,
            parent_id: Some(2),
            thread_id: 3,
        };
        assert_eq!(p("discord:default:guild:1:channel:2:thread:3"), thread);
        let bare = RouteKey::DiscordThread {
            guild_id: 1,
            parent_id: None,
            thread_id: 3,
        };
        assert_eq!(p("discord:default:guild:1:thread:3"), bare);
        let jid = "120363-99@g.us".to_owned();
        assert_eq!(
            p("whatsapp:default:chat:120363-99@g.us"),
            RouteKey::WhatsappChat { jid }
        );
    }

    #[test]
    fn non_canonical_integers_are_rejected() {
        let tg = [
            "+5",
            "007",
            "-0",
            " 5",
            "5 ",
            "",
            "9223372036854775808",
            "1:topic:0",
        ];
        for tail in tg.iter().chain(&["1:topic:-3", "1:topic:01", "1:topic:+2"]) {
            let s = format!("telegram:default:chat:{tail}");
            assert!(matches!(err(&s), RouteKeyError::InvalidId { .. }), "{s}");
        }
        let dc = [
            "dm:user:0",
            "dm:user:-1",
            "dm:user:+1",
            "dm:user:01",
            "guild:0:channel:2",
            "guild:0",
            "guild:01",
            "guild:1:thread:0",
            "guild:1:channel:2:thread:-3",
            "guild:1:channel:0:thread:3",
        ];
        for tail in dc.iter().chain(&["guild:1:channel:18446744073709551616"]) {
            let s = format!("discord:default:{tail}");
            assert!(matches!(err(&s), RouteKeyError::InvalidId { .. }), "{s}");
        }
    }

    #[test]
    fn other_accounts_channels_and_shapes_are_rejected() {
        assert_eq!(
            err("telegram:main:chat:1"),
            RouteKeyError::UnsupportedAccount
        );
        assert_eq!(err("slack:default:chat:1"), RouteKeyError::UnknownChannel);
        assert_eq!(
            err("Telegram:default:chat:1"),
            RouteKeyError::UnknownChannel
        );
        assert_eq!(err(""), RouteKeyError::UnknownChannel);
        for s in [
            "discord:ops:guild:1:channel:2",
            "discord:ops:dm:user:1",
            "discord:ops:guild:1:thread:3",
            "discord::guild:1",
            "discord:o p:guild:1",
            "discord:ops:guild:1:",
            "whatsapp:ops:chat:12345@s.whatsapp.net",
        ] {
            assert_eq!(err(s), RouteKeyError::UnsupportedAccount, "{s}");
        }
        for s in [
            "telegram:default:chat",
            "telegram:default:chat:1:topic",
            "telegram:default:chat:1:thread:2",
            "telegram:default:chat:1:",
            "discord:default:dm:1",
            "discord:default:guild",
            "discord:default:guild:1:thread",
            "discord:default:guild:1:channel:2:thread",
            "discord:default:guild:1:channel:2:topic:3",
            "discord:default:guild:1:thread:3:channel:2",
            "whatsapp:default:dm:15551234567@s.whatsapp.net",
        ] {
            assert!(matches!(err(s), RouteKeyError::Malformed { .. }), "{s}");
        }
    }

    #[test]
    fn whatsapp_jids_must_be_direct_or_group_forms() {
        for jid in [
            "1234@s.whatsapp.net",
            "123456789012345678901@s.whatsapp.net",
            "+15551234567@s.whatsapp.net",
            "15551234567",
            "1555-1234@s.whatsapp.net",
            "1234@g.us",
            "12345@G.US",
            "abcde@g.us",
        ] {
            let s = format!("whatsapp:default:chat:{jid}");
            assert_eq!(err(&s), RouteKeyError::InvalidJid, "{s}");
        }
        assert!(RouteKey::parse("whatsapp:default:chat:12345@s.whatsapp.net").is_ok());
    }

    #[test]
    fn whatsapp_jid_appends_the_direct_suffix_and_wa_id_strips_it() {
        assert_eq!(whatsapp_jid("15551234567"), "15551234567@s.whatsapp.net");
        assert_eq!(
            RouteKey::whatsapp_jid("15551234567"),
            "15551234567@s.whatsapp.net"
        );
        let key = RouteKey::WhatsappChat {
            jid: whatsapp_jid("15551234567"),
        };
        assert_eq!(key.whatsapp_wa_id(), Some("15551234567"));
        assert_eq!(
            p("whatsapp:default:chat:120363-99@g.us").whatsapp_wa_id(),
            None
        );
    }

    #[test]
    fn a_thread_is_asked_for_in_every_spelling_then_its_parent() {
        let keys: Vec<String> = RouteKey::discord_spellings(1, 3, Some(2))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            keys,
            vec![
                "discord:default:guild:1:channel:3",
                "discord:default:guild:1:channel:2:thread:3",
                "discord:default:guild:1:thread:3",
                "discord:default:guild:1:channel:2",
            ]
        );
        assert_eq!(
            RouteKey::discord_spellings(1, 2, None),
            vec![p("discord:default:guild:1:channel:2")]
        );
        assert_eq!(RouteKey::discord_spellings(1, 2, Some(2)).len(), 1);
    }

    #[test]
    fn only_discord_dm_is_a_discord_dm() {
        assert!(p("discord:default:dm:user:9").is_discord_dm());
        assert!(!p("discord:default:guild:1:channel:2").is_discord_dm());
        assert!(!p("telegram:default:chat:9").is_discord_dm());
    }

    fn any_route_key() -> impl Strategy<Value = RouteKey> {
        let id = || 1..=u64::MAX;
        prop_oneof![
            any::<i64>().prop_map(|chat_id| RouteKey::TelegramChat { chat_id }),
            (any::<i64>(), 1..=i64::MAX).prop_map(|(c, t)| RouteKey::TelegramTopic {
                chat_id: c,
                topic_id: t
            }),
            id().prop_map(|user_id| RouteKey::DiscordDm { user_id }),
            (id(), id()).prop_map(|(g, c)| RouteKey::DiscordChannel {
                guild_id: g,
                channel_id: c
            }),
            ("default|[A-Za-z0-9_-]{1,64}", id())
                .prop_map(|(account, guild_id)| { RouteKey::DiscordGuild { account, guild_id } }),
            (id(), prop::option::of(id()), id()).prop_map(|(g, p, t)| RouteKey::DiscordThread {
                guild_id: g,
                parent_id: p,
                thread_id: t
            }),
            "[0-9]{5,20}".prop_map(|id| RouteKey::WhatsappChat {
                jid: whatsapp_jid(&id)
            }),
            "[0-9-]{5,40}".prop_map(|id| RouteKey::WhatsappChat {
                jid: format!("{id}@g.us")
            }),
        ]
    }

    /// Arbitrary text, or pieces of route keys glued at random so that some inputs are near misses.
    const ARBITRARY: &str = "\\PC{0,80}|(telegram|discord|whatsapp|default|chat|topic|dm\
                             |user|guild|channel|thread|ops|[-+0-9 ]{1,4}|[0-9]{5}@g\\.us\
                             |[0-9]{5}@s\\.whatsapp\\.net|:){0,12}";

    proptest! {
        #[test]
        fn built_keys_round_trip_through_display_and_parse(key in any_route_key()) {
            prop_assert_eq!(RouteKey::parse(&key.to_string()), Ok(key));
        }

        #[test]
        fn parse_never_panics_and_accepted_input_redisplays_identically(s in ARBITRARY) {
            if let Ok(key) = RouteKey::parse(&s) {
                prop_assert_eq!(key.to_string(), s);
            }
        }

        #[test]
        fn a_key_with_one_byte_changed_is_rejected_or_still_canonical(
            key in any_route_key(), pos in any::<prop::sample::Index>(), byte in b' '..=b'~'
        ) {
            let mut bytes = key.to_string().into_bytes();
            let i = pos.index(bytes.len());
            bytes[i] = byte;
            let s = String::from_utf8(bytes).unwrap();
            if let Ok(parsed) = RouteKey::parse(&s) {
                prop_assert_eq!(parsed.to_string(), s);
            }
        }
    }
}
