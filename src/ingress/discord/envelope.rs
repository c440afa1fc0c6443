//! The envelope OpenClaw's `/v1/mux/inbound` reads (contract §6) for a Discord message. An edit
//! has the same shape as a new message; only its `eventId` (and `rawMessage.edited_timestamp`)
//! tell it apart.

use serde_json::{Value, json};

use crate::domain::Channel;
use crate::ingress::envelope::{Envelope, EventKind};

use super::message::{DcMessage, snowflake_ms};

/// Where the message sits, beyond the message itself.
pub struct Placement<'a> {
    pub session_key: &'a str,
    /// The route key of the binding that matched.
    pub route_key: &'a str,
    /// The thread's id when the message was posted in a thread.
    pub thread_id: Option<u64>,
    pub edit: bool,
}

/// `media` describes every attachment (inlined or not); `attachments` holds the inlined ones.
pub fn build(
    msg: &DcMessage,
    at: &Placement<'_>,
    media: Vec<Value>,
    attachments: Vec<Value>,
) -> Value {
    Envelope {
        kind: EventKind::of_message(at.edit),
        event_id: msg.event_id(at.edit),
        channel: Channel::Discord,
        session_key: at.session_key,
        body: msg.content.clone(),
        from: format!("discord:{}", msg.author_id),
        to: format!("channel:{}", msg.channel_id),
        direct: msg.is_direct(),
        message_id: msg.id.to_string(),
        // The snowflake holds the creation time to the millisecond; edits keep it, as Telegram's do.
        timestamp_ms: snowflake_ms(msg.id),
        thread_id: at.thread_id.map(|t| json!(t.to_string())),
        channel_data: json!({
            "accountId": "default",
            "messageId": msg.id.to_string(),
            "channelId": msg.channel_id.to_string(),
            "guildId": msg.guild_id.map(|g| g.to_string()),
            "routeKey": at.route_key,
            "discord": {"media": media, "rawMessage": msg.raw},
        }),
        attachments,
    }
    .into_json()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ingress::discord::message::parse;

    #[test]
    fn a_thread_message_envelope_has_every_contract_field() {
        let raw = json!({"id": "175928847299117063", "channel_id": "502", "guild_id": "500",
            "author": {"id": "42", "bot": false}, "content": " hi ", "type": 0});
        let msg = parse(&raw).unwrap();
        let at = Placement {
            session_key: "sess",
            route_key: "discord:default:guild:500:channel:501",
            thread_id: Some(502),
            edit: false,
        };
        let media = vec![json!({"id": "9"})];
        let att = vec![json!({"type": "image"})];
        assert_eq!(
            build(&msg, &at, media.clone(), att.clone()),
            json!({
                "eventId": "dc:175928847299117063", "channel": "discord", "sessionKey": "sess",
                "body": " hi ", "from": "discord:42", "to": "channel:502", "accountId": "default",
                "chatType": "group", "messageId": "175928847299117063", "timestampMs": 1462015105796i64,
                "threadId": "502", "event": {"kind": "message"},
                "channelData": {"accountId": "default", "messageId": "175928847299117063", "channelId": "502",
                    "guildId": "500", "routeKey": "discord:default:guild:500:channel:501",
                    "discord": {"media": media, "rawMessage": raw}},
                "attachments": att,
            })
        );
    }

    #[test]
    fn a_dm_is_direct_with_a_null_guild_and_no_thread() {
        let raw = json!({"id": "7", "channel_id": "900", "author": {"id": "42"}, "content": "yo",
            "edited_timestamp": "2024-01-01T00:00:00+00:00"});
        let at = Placement {
            session_key: "dc:dm:42",
            route_key: "discord:default:dm:user:42",
            thread_id: None,
            edit: true,
        };
        let env = build(&parse(&raw).unwrap(), &at, vec![], vec![]);
        assert_eq!(env["chatType"], "direct");
        assert_eq!(env["channelData"]["guildId"], Value::Null);
        assert_eq!(env["eventId"], "dc:7:edit:2024-01-01T00:00:00+00:00");
        assert_eq!(env["event"]["kind"], "edit");
        assert!(env.get("threadId").is_none() && env.get("attachments").is_none());
    }
}
