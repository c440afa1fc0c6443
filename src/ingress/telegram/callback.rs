//! Telegram button presses (`callback_query` updates, contract §5a): from a bound chat, an
//! envelope with `event.kind = "callback"` and `body` = the callback data, queued like any
//! message (the tenant answers the query itself with `raw.telegram answerCallbackQuery`, which
//! only a tenant the press was forwarded to may do); from a chat nobody is bound to, answered so
//! the user's spinner stops, and dropped. Pure reading of the update here, any JSON in, never a
//! panic; the routing is `TelegramInbound::press`.

use serde_json::{Value, json};

use super::TelegramInbound;
use crate::db::inbound::NewInboundEvent;
use crate::domain::{Channel, RouteKey};
use crate::error::StoreError;
use crate::ingress::envelope::{Envelope, EventKind};
use crate::outbound::press::Press;
use crate::time::now_ms;

/// A press on an inline keyboard button of a message in a chat.
#[derive(Debug, Clone, PartialEq)]
pub struct TgCallback {
    pub update_id: i64,
    pub id: String,
    pub data: Option<String>,
    pub from_id: Option<i64>,
    pub from_is_bot: bool,
    pub chat_id: i64,
    pub chat_type: String,
    pub topic_id: Option<i64>,
    /// The message the button belongs to.
    pub message_id: i64,
    pub raw_update: Value,
}

/// The press an update carries. A press on an inline-mode message (no `message`, no chat) is
/// none: no chat, no binding.
pub fn parse(update: &Value) -> Option<TgCallback> {
    let query = update.get("callback_query")?;
    let message = query.get("message")?;
    let chat = message.get("chat")?;
    let from = query.get("from");
    let is_topic = message.get("is_topic_message").and_then(Value::as_bool) == Some(true);
    let is_forum = chat.get("is_forum").and_then(Value::as_bool) == Some(true);
    Some(TgCallback {
        update_id: update.get("update_id")?.as_i64()?,
        id: query.get("id")?.as_str()?.to_owned(),
        data: query.get("data").and_then(Value::as_str).map(str::to_owned),
        from_id: from.and_then(|f| f.get("id")).and_then(Value::as_i64),
        from_is_bot: from.and_then(|f| f.get("is_bot")).and_then(Value::as_bool) == Some(true),
        chat_id: chat.get("id")?.as_i64()?,
        chat_type: chat
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("private")
            .to_owned(),
        topic_id: message
            .get("message_thread_id")
            .and_then(Value::as_i64)
            .filter(|t| (is_topic || is_forum) && *t > 0),
        message_id: message.get("message_id")?.as_i64()?,
        raw_update: update.clone(),
    })
}

impl TgCallback {
    fn route_keys(&self) -> Vec<RouteKey> {
        RouteKey::telegram_keys(self.chat_id, self.topic_id)
    }

    /// The envelope for a binding's session.
    pub fn envelope(&self, session_key: &str, route_key: &str) -> Value {
        let data = self.data.clone().unwrap_or_default();
        Envelope {
            kind: EventKind::Callback,
            event_id: format!("tg:{}", self.update_id),
            channel: Channel::Telegram,
            session_key,
            body: data.clone(),
            from: format!(
                "telegram:{}",
                self.from_id
                    .map_or_else(|| self.chat_id.to_string(), |f| f.to_string())
            ),
            to: format!("telegram:{}", self.chat_id),
            direct: self.chat_type == "private",
            message_id: self.message_id.to_string(),
            // A callback query carries no date: the time mux received it.
            timestamp_ms: now_ms(),
            thread_id: self.topic_id.map(|t| json!(t)),
            channel_data: json!({
                "accountId": "default",
                "messageId": self.message_id.to_string(),
                "chatId": self.chat_id.to_string(),
                "topicId": self.topic_id,
                "routeKey": route_key,
                "updateId": self.update_id,
                "telegram": {
                    "callbackQueryId": self.id,
                    "callbackData": data,
                    "callbackMessageId": self.message_id.to_string(),
                    "rawCallbackQuery": self.raw_update.get("callback_query"),
                    "rawUpdate": self.raw_update,
                },
            }),
            attachments: Vec::new(),
        }
        .into_json()
    }
}

impl TelegramInbound {
    /// A press with no chat (on an inline-mode message): no binding can hold it, so it is
    /// answered, so the spinner stops, and dropped.
    pub fn answer_chatless_press(&self, update: &Value) {
        let id = update
            .get("callback_query")
            .and_then(|q| q.get("id"))
            .and_then(Value::as_str);
        if let Some(id) = id {
            self.answer_unbound(0, id);
        }
        self.ctx.metrics.callback(Channel::Telegram, false);
        log::info!("event=callback_dropped channel=telegram reason=no_chat");
    }

    /// Answers a press nobody will (in the background).
    fn answer_unbound(&self, chat_id: i64, callback_query_id: &str) {
        let outbound = self.ctx.outbound.clone();
        let answer = Press::Telegram {
            chat_id,
            callback_query_id: callback_query_id.to_owned(),
        };
        actix_web::rt::spawn(async move {
            if let Err(e) = outbound.answer_press(&answer).await {
                log::warn!("event=callback_answer_failed channel=telegram error={e:?}");
            }
        });
    }

    /// A press: its queue row when its chat is bound; otherwise answered (in the background)
    /// and dropped.
    pub async fn press(&self, press: &TgCallback) -> Result<Option<NewInboundEvent>, StoreError> {
        let binding = self.ctx.view.incoming(&press.route_keys());
        let bound = binding.filter(|_| !press.from_is_bot);
        self.ctx
            .metrics
            .callback(Channel::Telegram, bound.is_some());
        let Some(binding) = bound else {
            self.answer_unbound(press.chat_id, &press.id);
            log::info!(
                "event=callback_dropped channel=telegram update_id={} reason=unbound",
                press.update_id
            );
            return Ok(None);
        };
        self.ctx
            .outbound
            .owned
            .record_callback(&binding.tenant_id, &press.id);
        let envelope = press.envelope(&binding.session_key, &binding.route_key.to_string());
        let event_id = format!("tg:{}", press.update_id);
        Ok(Some(NewInboundEvent::for_binding(
            &binding, event_id, &envelope,
        )))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_press_in_a_forum_topic_becomes_a_callback_envelope() {
        let update = json!({"update_id": 9, "callback_query": {"id": "cq1", "data": "yes",
            "chat_instance": "ci", "from": {"id": 42, "is_bot": false},
            "message": {"message_id": 77, "message_thread_id": 5, "is_topic_message": true,
                "chat": {"id": -100, "type": "supergroup", "is_forum": true}}}});
        let press = parse(&update).unwrap();
        assert_eq!(press.topic_id, Some(5));
        let env = press.envelope("s", "telegram:default:chat:-100:topic:5");
        assert_eq!(env["event"], json!({"kind": "callback"}));
        assert_eq!(env["body"], "yes");
        assert_eq!(env["eventId"], "tg:9");
        assert_eq!(env["threadId"], 5);
        let tg = &env["channelData"]["telegram"];
        assert_eq!(tg["callbackQueryId"], "cq1");
        assert_eq!(tg["callbackData"], "yes");
        assert_eq!(tg["callbackMessageId"], "77");
        assert_eq!(tg["rawUpdate"], update);
    }

    #[test]
    fn an_inline_mode_press_has_no_chat_and_is_none() {
        let update =
            json!({"update_id": 9, "callback_query": {"id": "cq1", "inline_message_id": "x"}});
        assert_eq!(parse(&update), None);
        assert_eq!(parse(&json!({"update_id": 1, "message": {}})), None);
    }
}
