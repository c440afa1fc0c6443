//! The envelope OpenClaw's `/v1/mux/inbound` reads (contract §6) for a Telegram message.

use serde_json::{Map, Value, json};

use super::update::TgMessage;

/// `media` describes every image (inlined or not); `attachments` holds the inlined ones.
pub fn build(
    msg: &TgMessage,
    session_key: &str,
    route_key: &str,
    media: Vec<Value>,
    attachments: Vec<Value>,
) -> Value {
    let mut env = Map::new();
    env.insert("eventId".into(), json!(msg.event_id()));
    env.insert("channel".into(), json!("telegram"));
    env.insert("sessionKey".into(), json!(session_key));
    env.insert("body".into(), json!(msg.text.clone().unwrap_or_default()));
    env.insert(
        "from".into(),
        json!(format!(
            "telegram:{}",
            msg.from_id
                .map_or_else(|| msg.chat_id.to_string(), |f| f.to_string())
        )),
    );
    env.insert("to".into(), json!(format!("telegram:{}", msg.chat_id)));
    env.insert("accountId".into(), json!("default"));
    env.insert(
        "chatType".into(),
        json!(if msg.is_direct() { "direct" } else { "group" }),
    );
    env.insert("messageId".into(), json!(msg.message_id.to_string()));
    env.insert("timestampMs".into(), json!(msg.date.saturating_mul(1000)));
    if let Some(topic) = msg.topic_id {
        env.insert("threadId".into(), json!(topic));
    }
    env.insert(
        "channelData".into(),
        json!({
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
    );
    if !attachments.is_empty() {
        env.insert("attachments".into(), Value::Array(attachments));
    }
    Value::Object(env)
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
