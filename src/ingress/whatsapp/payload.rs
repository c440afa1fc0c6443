//! Reading WhatsApp Cloud API webhook payloads (raw JSON kept for `rawMessage`) and building the
//! envelope (contract §6). Pure: any JSON in, never a panic. Statuses and errors are skipped.

use serde_json::{Value, json};

use crate::domain::{Channel, RouteKey, whatsapp_jid};
use crate::ingress::envelope::{Envelope, EventKind};

/// One inbound message of a webhook POST.
#[derive(Debug, Clone, PartialEq)]
pub struct WaMessage {
    pub wamid: String,
    /// The sender's `wa_id` (digits, no `+`).
    pub from: String,
    /// `<wa_id>@s.whatsapp.net`, or `<group_id>@g.us` for a group message.
    pub chat_jid: String,
    pub is_group: bool,
    pub timestamp: i64,
    /// Text body or media caption, verbatim.
    pub text: Option<String>,
    /// The image, document, audio (voice notes too), video or sticker of the message.
    pub media: Option<WaMedia>,
    /// `value.metadata.phone_number_id`: the business number the message was sent to.
    pub phone_number_id: Option<String>,
    pub raw: Value,
}

/// A media object of a message, as the Cloud API describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaMedia {
    pub id: String,
    /// `image`, `document`, `audio`, `video` or `sticker`.
    pub kind: String,
    pub mime_type: Option<String>,
    pub sha256: Option<String>,
    /// Documents only.
    pub file_name: Option<String>,
    pub caption: Option<String>,
}

/// Every message in the POST, in order (entries → changes → messages).
pub fn messages(payload: &Value) -> Vec<WaMessage> {
    let mut out = Vec::new();
    for entry in payload
        .get("entry")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for change in entry
            .get("changes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let value = change.get("value");
            let phone_number_id = value
                .and_then(|v| v.pointer("/metadata/phone_number_id"))
                .and_then(Value::as_str);
            let msgs = value
                .and_then(|v| v.get("messages"))
                .and_then(Value::as_array);
            out.extend(
                msgs.into_iter()
                    .flatten()
                    .filter_map(|m| message(m, phone_number_id)),
            );
        }
    }
    out
}

fn message(raw: &Value, phone_number_id: Option<&str>) -> Option<WaMessage> {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let wamid = s(raw, "id")?;
    let from = s(raw, "from")?;
    let kind = s(raw, "type").unwrap_or_default();
    let group = s(raw, "group_id");
    let object = raw.get(&kind);
    let text = match kind.as_str() {
        "text" => object.and_then(|o| s(o, "body")),
        _ => object.and_then(|o| s(o, "caption")),
    };
    let media = match kind.as_str() {
        "image" | "document" | "audio" | "video" | "sticker" => object.and_then(|o| {
            Some(WaMedia {
                id: s(o, "id")?,
                kind: kind.clone(),
                mime_type: s(o, "mime_type"),
                sha256: s(o, "sha256"),
                file_name: s(o, "filename"),
                caption: s(o, "caption"),
            })
        }),
        _ => None,
    };
    Some(WaMessage {
        chat_jid: group
            .as_ref()
            .map_or_else(|| whatsapp_jid(&from), |g| format!("{g}@g.us")),
        is_group: group.is_some(),
        timestamp: raw
            .get("timestamp")
            .and_then(|t| {
                t.as_str()
                    .and_then(|t| t.parse().ok())
                    .or_else(|| t.as_i64())
            })
            .unwrap_or(0),
        wamid,
        from,
        text,
        media,
        phone_number_id: phone_number_id.map(str::to_owned),
        raw: raw.clone(),
    })
}

impl WaMessage {
    pub fn event_id(&self) -> String {
        format!("wa:{}", self.wamid)
    }

    /// None when the chat is not one mux can route (an odd group id).
    pub fn route_key(&self) -> Option<RouteKey> {
        RouteKey::parse(&format!("whatsapp:default:chat:{}", self.chat_jid)).ok()
    }

    /// The envelope for `binding`'s session.
    pub fn envelope(
        &self,
        session_key: &str,
        route_key: &str,
        media: Vec<Value>,
        attachments: Vec<Value>,
    ) -> Value {
        Envelope {
            kind: EventKind::Message,
            event_id: self.event_id(),
            channel: Channel::Whatsapp,
            session_key,
            body: self.text.clone().unwrap_or_default(),
            from: format!("whatsapp:+{}", self.from),
            to: format!("whatsapp:{}", self.chat_jid),
            direct: !self.is_group,
            message_id: self.wamid.clone(),
            timestamp_ms: self.timestamp.saturating_mul(1000),
            thread_id: None,
            channel_data: json!({
                "accountId": "default",
                "messageId": self.wamid,
                "chatJid": self.chat_jid,
                "routeKey": route_key,
                "whatsapp": {"media": media, "rawMessage": self.raw},
            }),
            attachments,
        }
        .into_json()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn payload(messages: Value) -> Value {
        json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages",
            "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "106"},
                      "contacts": [{"wa_id": "16505551234"}], "messages": messages}}]}]})
    }

    #[test]
    fn a_text_message_becomes_a_direct_chat_envelope() {
        let p = payload(
            json!([{"from": "16505551234", "id": "wamid.X", "timestamp": "1749416383",
            "type": "text", "text": {"body": "hi there"}}]),
        );
        let msgs = messages(&p);
        assert_eq!(msgs.len(), 1);
        let m = &msgs[0];
        assert_eq!(
            m.route_key().unwrap().to_string(),
            "whatsapp:default:chat:16505551234@s.whatsapp.net"
        );
        let env = m.envelope(
            "wa:chat:16505551234@s.whatsapp.net",
            "whatsapp:default:chat:16505551234@s.whatsapp.net",
            vec![],
            vec![],
        );
        assert_eq!(env["eventId"], "wa:wamid.X");
        assert_eq!(env["from"], "whatsapp:+16505551234");
        assert_eq!(env["to"], "whatsapp:16505551234@s.whatsapp.net");
        assert_eq!(env["chatType"], "direct");
        assert_eq!(env["timestampMs"], 1_749_416_383_000i64);
        assert_eq!(env["channelData"]["chatJid"], "16505551234@s.whatsapp.net");
        assert_eq!(
            env["channelData"]["whatsapp"]["rawMessage"]["text"]["body"],
            "hi there"
        );
    }

    #[test]
    fn statuses_are_not_messages_and_images_carry_their_caption() {
        let statuses = json!({"entry": [{"changes": [{"value": {"statuses": [{"id": "wamid.S", "status": "read"}]}}]}]});
        assert!(messages(&statuses).is_empty());
        let p = payload(
            json!([{"from": "1555", "id": "wamid.I", "timestamp": "1", "type": "image",
            "image": {"id": "MEDIA1", "mime_type": "image/jpeg", "caption": "pic"}}]),
        );
        let m = &messages(&p)[0];
        assert_eq!(m.text.as_deref(), Some("pic"));
        assert_eq!(
            m.media,
            Some(WaMedia {
                id: "MEDIA1".into(),
                kind: "image".into(),
                mime_type: Some("image/jpeg".into()),
                sha256: None,
                file_name: None,
                caption: Some("pic".into()),
            })
        );
    }

    proptest! {
        #[test]
        fn any_json_yields_messages_or_nothing_without_panic(s in ".{0,300}") {
            if let Ok(v) = serde_json::from_str::<Value>(&s) {
                let _ = messages(&v);
            }
            let p = payload(json!([{"from": s, "id": s, "timestamp": s, "type": "text", "text": {"body": s}}]));
            for m in messages(&p) {
                let _ = m.route_key();
            }
        }
    }
}
