//! Gateway frames as the shard hands them over (text JSON, `{"op","d","s","t"}`), reduced to
//! what ingress acts on. The shard keeps the connection (heartbeats, identify, resume); ingress
//! reads the same frames to take the dispatch payloads unmodified — twilight's typed `Event`
//! would re-serialize them. Pure: any text in, never a panic.

use serde_json::Value;

use crate::ingress::discord::message::snowflake;

/// What one gateway frame means for ingress.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// A new session: `READY` (with the bot's own user id).
    Ready { user_id: Option<u64> },
    /// A resumed session: `RESUMED`.
    Resumed,
    /// `MESSAGE_CREATE` (`edit: false`) or `MESSAGE_UPDATE` (`edit: true`), the message object
    /// exactly as received.
    Message { data: Value, edit: bool },
    /// `INTERACTION_CREATE` (a button or select press, among others), exactly as received.
    Interaction { data: Value },
    /// Heartbeats, HELLO, other dispatches: the shard's business.
    Other,
}

pub fn classify(text: &str) -> Frame {
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        return Frame::Other;
    };
    if frame.get("op").and_then(Value::as_u64) != Some(0) {
        return Frame::Other;
    }
    let data = frame.get("d");
    match frame.get("t").and_then(Value::as_str) {
        Some("READY") => Frame::Ready {
            user_id: snowflake(data.and_then(|d| d.get("user")).and_then(|u| u.get("id"))),
        },
        Some("RESUMED") => Frame::Resumed,
        Some(t @ ("MESSAGE_CREATE" | "MESSAGE_UPDATE")) => match data {
            Some(d) if d.is_object() => Frame::Message {
                data: d.clone(),
                edit: t == "MESSAGE_UPDATE",
            },
            _ => Frame::Other,
        },
        Some("INTERACTION_CREATE") => match data {
            Some(d) if d.is_object() => Frame::Interaction { data: d.clone() },
            _ => Frame::Other,
        },
        _ => Frame::Other,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    #[test]
    fn dispatches_are_told_apart_and_payloads_kept_whole() {
        let d = json!({"id": "1", "channel_id": "2", "author": {"id": "3"}, "content": "x", "nonce": 12});
        let create = json!({"op": 0, "s": 5, "t": "MESSAGE_CREATE", "d": d}).to_string();
        assert_eq!(
            classify(&create),
            Frame::Message {
                data: d.clone(),
                edit: false
            }
        );
        let update = json!({"op": 0, "s": 6, "t": "MESSAGE_UPDATE", "d": d}).to_string();
        assert_eq!(
            classify(&update),
            Frame::Message {
                data: d,
                edit: true
            }
        );
        let ready =
            json!({"op": 0, "s": 1, "t": "READY", "d": {"user": {"id": "77"}, "session_id": "s"}});
        assert_eq!(
            classify(&ready.to_string()),
            Frame::Ready { user_id: Some(77) }
        );
        assert_eq!(
            classify(r#"{"op":0,"s":2,"t":"RESUMED","d":{}}"#),
            Frame::Resumed
        );
    }

    #[test]
    fn an_interaction_is_handed_over_whole() {
        let d = json!({"id": "1", "type": 3, "token": "t", "data": {"custom_id": "go"}});
        let frame = json!({"op": 0, "s": 7, "t": "INTERACTION_CREATE", "d": d}).to_string();
        assert_eq!(classify(&frame), Frame::Interaction { data: d });
    }

    #[test]
    fn control_frames_and_other_events_are_left_to_the_shard() {
        for text in [
            r#"{"op":10,"d":{"heartbeat_interval":41250}}"#,
            r#"{"op":11}"#,
            r#"{"op":0,"s":3,"t":"GUILD_CREATE","d":{}}"#,
            r#"{"op":0,"t":"MESSAGE_CREATE","d":null}"#,
            "not json",
        ] {
            assert_eq!(classify(text), Frame::Other, "{text}");
        }
    }

    proptest! {
        #[test]
        fn any_text_is_classified_without_panic(s in ".{0,300}") {
            let _ = classify(&s);
            let wrapped = json!({"op": 0, "t": "MESSAGE_CREATE", "d": {"content": s}}).to_string();
            let is_message = matches!(classify(&wrapped), Frame::Message { .. });
            prop_assert!(is_message);
        }
    }
}
