//! The envelope OpenClaw's `/v1/mux/inbound` reads (contract §6) for a Telegram message.

use serde_json::{Value, json};

use crate::domain::Channel;
use crate::ingress::envelope::{Envelope, EventKind};

use super::update::TgMessage;

/// `media` describes every image (inlined or not); `attachments` holds the inlined ones.
pub fn build(
    msg: &TgMessage,
    session_key: &str,
    route_key: &str,
    media: Vec<Value>,
    attachments: Vec<Value>,
) -> Value {
    Envelope {
        kind: EventKind::of_message(msg.edited),
        event_id: msg.event_id(),
        channel: Channel::Telegram,
        session_key,
        body: msg.text.clone().unwrap_or_default(),
        from: format!(
            "telegram:{}",
            msg.from_id
                .map_or_else(|| msg.chat_id.to_string(), |f| f.to_string())
        ),
        to: format!("telegram:{}", msg.chat_id),
        direct: msg.is_direct(),
        message_id: msg.message_id.to_string(),
        timestamp_ms: msg.date.saturating_mul(1000),
        thread_id: msg.topic_id.map(|t| json!(t)),
        channel_data: json!({
            "accountId": "default",
            "messageId": msg.message_id.to_string(),
            "chatId": msg.chat_id.to_string(),
            "topicId": msg.topic_id,
            "routeKey": route_key,
            "updateId": msg.update_id,
            "telegram": {
                "media": media,
                "rawMessage": msg.raw_message,
                "rawUpdate": msg.raw_update,
            },
        }),
        attachments,
    }
    .into_json()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingress::telegram::update::parse;

    #[test]
    fn a_topic_message_envelope_has_every_contract_field() {
        let update = json!({"update_id": 77, "message": {"message_id": 5, "message_thread_id": 4,
            "is_topic_message": true, "date": 1700000000, "from": {"id": 42, "is_bot": false},
            "chat": {"id": -1001, "type": "supergroup"}, "text": "  hi  "}});
        let msg = parse(&update, u64::MAX).unwrap();
        let env = build(
            &msg,
            "sess",
            "telegram:default:chat:-1001:topic:4",
            vec![],
            vec![],
        );
        assert_eq!(
            env,
            json!({
                "eventId": "tg:77", "channel": "telegram", "sessionKey": "sess", "body": "  hi  ",
                "from": "telegram:42", "to": "telegram:-1001", "accountId": "default",
                "chatType": "group", "messageId": "5", "timestampMs": 1700000000000i64, "threadId": 4,
                "event": {"kind": "message"},
                "channelData": {"accountId": "default", "messageId": "5", "chatId": "-1001", "topicId": 4,
                    "routeKey": "telegram:default:chat:-1001:topic:4", "updateId": 77,
                    "telegram": {"media": [], "rawMessage": update["message"], "rawUpdate": update}}
            })
        );
    }

    #[test]
    fn a_direct_message_has_no_thread_and_a_null_topic() {
        let update = json!({"update_id": 1, "message": {"message_id": 2, "date": 3,
            "from": {"id": 9}, "chat": {"id": 9, "type": "private"}}});
        let env = build(
            &parse(&update, u64::MAX).unwrap(),
            "tg:chat:9",
            "telegram:default:chat:9",
            vec![],
            vec![],
        );
        assert_eq!(env["chatType"], "direct");
        assert_eq!(env["body"], "");
        assert!(env.get("threadId").is_none() && env.get("attachments").is_none());
        assert_eq!(env["channelData"]["topicId"], Value::Null);
    }
}
