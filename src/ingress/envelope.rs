//! The inbound envelope (contract §6) that every channel fills in: one place for its fields,
//! the constant `accountId`, and which fields appear only when present.

use serde_json::{Map, Value, json};

use crate::domain::Channel;

/// What an envelope reports (`event.kind`, contract §5a).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A new chat message.
    Message,
    /// An edited message (Telegram `edited_message`, Discord `MESSAGE_UPDATE`).
    Edit,
    /// A button press (Telegram `callback_query`, Discord component interaction).
    Callback,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Message => "message",
            EventKind::Edit => "edit",
            EventKind::Callback => "callback",
        }
    }

    /// `edit` for an edited message, else `message`.
    pub fn of_message(edited: bool) -> EventKind {
        if edited {
            EventKind::Edit
        } else {
            EventKind::Message
        }
    }
}

/// What differs per channel; the assembler adds the rest.
pub struct Envelope<'a> {
    pub kind: EventKind,
    pub event_id: String,
    pub channel: Channel,
    pub session_key: &'a str,
    /// Text or caption verbatim; empty for media-only.
    pub body: String,
    pub from: String,
    pub to: String,
    pub direct: bool,
    pub message_id: String,
    pub timestamp_ms: i64,
    /// Telegram topic (a number) or Discord thread (a string); left out when absent.
    pub thread_id: Option<Value>,
    pub channel_data: Value,
    /// Inlined media; left out when empty.
    pub attachments: Vec<Value>,
}

impl Envelope<'_> {
    pub fn into_json(self) -> Value {
        let mut env = Map::new();
        env.insert("eventId".into(), json!(self.event_id));
        env.insert("channel".into(), json!(self.channel));
        env.insert("sessionKey".into(), json!(self.session_key));
        env.insert("body".into(), json!(self.body));
        env.insert("from".into(), json!(self.from));
        env.insert("to".into(), json!(self.to));
        env.insert("accountId".into(), json!("default"));
        let chat_type = if self.direct { "direct" } else { "group" };
        env.insert("chatType".into(), json!(chat_type));
        env.insert("messageId".into(), json!(self.message_id));
        env.insert("timestampMs".into(), json!(self.timestamp_ms));
        env.insert("event".into(), json!({"kind": self.kind.as_str()}));
        if let Some(thread) = self.thread_id {
            env.insert("threadId".into(), thread);
        }
        env.insert("channelData".into(), self.channel_data);
        if !self.attachments.is_empty() {
            env.insert("attachments".into(), Value::Array(self.attachments));
        }
        Value::Object(env)
    }
}
