//! Reading a Discord message object (raw JSON from a gateway dispatch or a REST page, kept
//! unmodified for `channelData.discord.rawMessage`) into what routing and the envelope need.
//! Pure: any JSON in, never a panic.

use serde_json::Value;

use crate::domain::RouteKey;

/// Snowflakes count milliseconds from 2015-01-01T00:00:00Z (platforms.md §2.5).
pub const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;

/// Message types a person writes: 0 default, 19 reply. Joins, pins, thread-created notices and
/// the like are the platform talking, not the user, and are not forwarded.
const USER_MESSAGE_TYPES: [u64; 2] = [0, 19];

/// Channel types that are threads (announcement, public, private).
const THREAD_TYPES: [u64; 3] = [10, 11, 12];

/// One attachment as Discord describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcAttachment {
    pub id: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub size: Option<u64>,
    pub url: Option<String>,
    pub width: Option<u64>,
    pub height: Option<u64>,
}

/// A message from MESSAGE_CREATE, MESSAGE_UPDATE or `GET /channels/{id}/messages`.
#[derive(Debug, Clone, PartialEq)]
pub struct DcMessage {
    pub id: u64,
    /// In a thread this is the thread's id.
    pub channel_id: u64,
    /// Absent in DMs, and in REST pages (the caller fills it in from the binding).
    pub guild_id: Option<u64>,
    /// Only MESSAGE_CREATE carries it.
    pub channel_type: Option<u64>,
    pub author_id: u64,
    /// A bot, a webhook or a system author: never forwarded, never answered.
    pub from_bot: bool,
    pub kind: u64,
    pub content: String,
    /// Set only when a person edited the message (embed unfurls update without it).
    pub edited_timestamp: Option<String>,
    pub attachments: Vec<DcAttachment>,
    pub raw: Value,
}

/// A snowflake string as a number; `None` for anything not a positive u64 in a string.
pub fn snowflake(v: Option<&Value>) -> Option<u64> {
    v?.as_str()?.parse::<u64>().ok().filter(|n| *n > 0)
}

/// Creation time of a snowflake, in unix milliseconds.
pub fn snowflake_ms(id: u64) -> i64 {
    i64::try_from(id >> 22)
        .unwrap_or(i64::MAX)
        .saturating_add(DISCORD_EPOCH_MS)
}

/// The smallest snowflake of a unix millisecond (for `after=` pagination from a point in time).
pub fn snowflake_at(ms: i64) -> u64 {
    u64::try_from(ms.saturating_sub(DISCORD_EPOCH_MS)).unwrap_or(0) << 22
}

pub fn parse(raw: &Value) -> Option<DcMessage> {
    let author = raw.get("author")?;
    let flag = |v: &Value, k: &str| v.get(k).and_then(Value::as_bool) == Some(true);
    let webhook = raw.get("webhook_id").is_some_and(|w| !w.is_null());
    let attachments = raw
        .get("attachments")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(attachment).collect())
        .unwrap_or_default();
    Some(DcMessage {
        id: snowflake(raw.get("id"))?,
        channel_id: snowflake(raw.get("channel_id"))?,
        guild_id: snowflake(raw.get("guild_id")),
        channel_type: raw.get("channel_type").and_then(Value::as_u64),
        author_id: snowflake(author.get("id"))?,
        from_bot: flag(author, "bot") || flag(author, "system") || webhook,
        kind: raw.get("type").and_then(Value::as_u64).unwrap_or(0),
        content: raw
            .get("content")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        edited_timestamp: raw
            .get("edited_timestamp")
            .and_then(Value::as_str)
            .map(str::to_owned),
        attachments,
        raw: raw.clone(),
    })
}

fn attachment(v: &Value) -> Option<DcAttachment> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let n = |k: &str| v.get(k).and_then(Value::as_u64);
    Some(DcAttachment {
        id: s("id")?,
        filename: s("filename").unwrap_or_default(),
        content_type: s("content_type"),
        size: n("size"),
        url: s("url"),
        width: n("width"),
        height: n("height"),
    })
}

/// Whether a channel type is a thread (`None`: not known from this payload).
pub fn is_thread_type(channel_type: u64) -> bool {
    THREAD_TYPES.contains(&channel_type)
}

impl DcMessage {
    /// `dc:<id>` for a message; an edit gets its own id, `dc:<id>:edit:<edited_timestamp>`, so the
    /// queue's unique `(channel, event_id)` drops the gateway/catch-up duplicates of each version
    /// without swallowing the edit as a duplicate of the original.
    pub fn event_id(&self, edit: bool) -> String {
        match (&self.edited_timestamp, edit) {
            (Some(at), true) => format!("dc:{}:edit:{at}", self.id),
            _ => format!("dc:{}", self.id),
        }
    }

    pub fn is_user_message(&self) -> bool {
        USER_MESSAGE_TYPES.contains(&self.kind)
    }

    pub fn is_direct(&self) -> bool {
        self.guild_id.is_none()
    }

    /// Route keys to try, most specific first: a DM is the author's DM route; a guild message is
    /// its channel (the thread itself, in every spelling, in a thread), then the thread's parent
    /// channel if known.
    pub fn route_keys(&self, parent: Option<u64>) -> Vec<RouteKey> {
        match self.guild_id {
            None => vec![RouteKey::DiscordDm {
                user_id: self.author_id,
            }],
            Some(guild_id) => RouteKey::discord_spellings(guild_id, self.channel_id, parent),
        }
    }

    /// The text to route and forward; `None` when there is none (media only).
    pub fn text(&self) -> Option<&str> {
        Some(self.content.as_str()).filter(|t| !t.is_empty())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn guild_message() -> Value {
        json!({"id": "1100000000000000001", "channel_id": "501", "guild_id": "500", "channel_type": 11,
            "author": {"id": "42", "username": "ann", "bot": false}, "content": "hi", "type": 0,
            "timestamp": "2023-04-21T10:00:00.000000+00:00", "edited_timestamp": null,
            "attachments": [{"id": "9", "filename": "a.png", "content_type": "image/png", "size": 10,
                             "url": "https://cdn.example/a.png", "width": 2, "height": 3}]})
    }

    #[test]
    fn a_guild_thread_message_routes_the_thread_then_its_parent() {
        let m = parse(&guild_message()).unwrap();
        assert_eq!(
            (m.id, m.channel_id, m.guild_id, m.author_id),
            (1100000000000000001, 501, Some(500), 42)
        );
        assert!(!m.from_bot && m.is_user_message() && !m.is_direct());
        assert!(is_thread_type(m.channel_type.unwrap()));
        let keys: Vec<String> = m
            .route_keys(Some(77))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            keys,
            vec![
                "discord:default:guild:500:channel:501",
                "discord:default:guild:500:channel:77:thread:501",
                "discord:default:guild:500:thread:501",
                "discord:default:guild:500:channel:77"
            ]
        );
        assert_eq!(m.attachments[0].content_type.as_deref(), Some("image/png"));
        assert_eq!(m.raw, guild_message());
    }

    #[test]
    fn a_dm_routes_to_the_authors_dm() {
        let m =
            parse(&json!({"id": "5", "channel_id": "900", "author": {"id": "42"}, "content": ""}))
                .unwrap();
        assert!(m.is_direct());
        assert_eq!(
            m.route_keys(None),
            vec![RouteKey::DiscordDm { user_id: 42 }]
        );
        assert_eq!(m.text(), None);
    }

    #[test]
    fn bots_webhooks_and_system_authors_are_bots() {
        for extra in [
            json!({"author": {"id": "1", "bot": true}}),
            json!({"author": {"id": "1", "system": true}}),
            json!({"author": {"id": "1"}, "webhook_id": "3"}),
        ] {
            let mut raw = json!({"id": "5", "channel_id": "900"});
            for (k, v) in extra.as_object().unwrap() {
                raw[k] = v.clone();
            }
            assert!(parse(&raw).unwrap().from_bot, "{raw}");
        }
    }

    #[test]
    fn edits_get_their_own_event_id() {
        let mut raw = guild_message();
        raw["edited_timestamp"] = json!("2023-04-21T10:05:00.000000+00:00");
        let m = parse(&raw).unwrap();
        assert_eq!(m.event_id(false), "dc:1100000000000000001");
        assert_eq!(
            m.event_id(true),
            "dc:1100000000000000001:edit:2023-04-21T10:05:00.000000+00:00"
        );
    }

    #[test]
    fn snowflakes_carry_their_creation_time() {
        // The example from Discord's reference: 175928847299117063 → 2016-04-30T11:18:25.796Z.
        assert_eq!(snowflake_ms(175928847299117063), 1462015105796);
        assert_eq!(snowflake_ms(snowflake_at(1462015105796)), 1462015105796);
        assert_eq!(snowflake_at(0), 0, "times before the epoch clamp to zero");
    }

    proptest! {
        #[test]
        fn any_json_parses_or_is_skipped_without_panic(s in ".{0,200}", id in 1u64.., ms in any::<i64>()) {
            if let Ok(v) = serde_json::from_str::<Value>(&s) {
                let _ = parse(&v);
            }
            let v = json!({"id": id.to_string(), "channel_id": "1", "author": {"id": "2"}, "content": s});
            let m = parse(&v).unwrap();
            prop_assert_eq!(m.content, s);
            prop_assert!(snowflake_at(snowflake_ms(id)) <= id);
            let _ = snowflake_at(ms);
        }
    }
}
