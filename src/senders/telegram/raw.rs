//! `raw.telegram` calls (contract §5a): one Bot API method with a body the route lock already
//! confined to the bound chat, paced and retried exactly as a plain send (the chat's turn, the
//! global and per-chat budgets, a 429's `retry_after` inside the deadline). Raw calls are not
//! split: the body is the platform's own call, and its other fields (a keyboard, entities with
//! offsets) cannot be spread over several messages faithfully; an over-long text is Telegram's
//! refusal (`502`).

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::time::{Instant, sleep};

use super::{Retry, TelegramSender, read_answer};
use crate::senders::{Delivered, SendError};

/// The answer of any method: `result` is a Message, or `true`.
#[derive(Deserialize)]
struct RawAnswer {
    ok: bool,
    result: Option<Value>,
}

impl TelegramSender {
    /// Calls `method` in chat `chat_id`. The answer's ids: the resulting message's, none for
    /// methods that answer `true`.
    pub async fn send_raw(
        &self,
        tenant: &Arc<str>,
        chat_id: i64,
        method: &str,
        body: &Map<String, Value>,
        deadline: Instant,
    ) -> Result<Delivered, SendError> {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let mut turn = self.pacer.chat_turn(chat_id).await;
        let ids = loop {
            if let Err(wait) = self.pacer.ready(&mut turn, chat_id, tenant, deadline).await {
                return Err(SendError::RateLimited { retry_after: wait });
            }
            let outcome = self.post(method, bytes.clone(), deadline).await;
            self.pacer.sent(&mut turn);
            let (status, answer) = outcome?;
            match read_raw(status, &answer) {
                Err(Retry(wait)) if Instant::now() + wait <= deadline => {
                    self.pacer.pause(Instant::now() + wait);
                    sleep(wait).await;
                }
                Err(Retry(wait)) => return Err(SendError::RateLimited { retry_after: wait }),
                Ok(result) => break result?,
            }
        };
        Ok(Delivered {
            destination_field: "chatId",
            destination: chat_id.to_string(),
            message_ids: ids,
        })
    }
}

fn read_raw(status: u16, bytes: &[u8]) -> Result<Result<Vec<String>, SendError>, Retry> {
    match serde_json::from_slice::<RawAnswer>(bytes) {
        Ok(RawAnswer { ok: true, result }) => Ok(Ok(result
            .as_ref()
            .and_then(|r| r.get("message_id"))
            .and_then(Value::as_i64)
            .map(|id| id.to_string())
            .into_iter()
            .collect())),
        // A refusal, a rate limit or no JSON at all: read as for plain sends.
        _ => read_answer(status, bytes).map(|r| r.map(|id| vec![id])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_result_gives_its_id_and_true_gives_none() {
        let msg = br#"{"ok":true,"result":{"message_id":42,"chat":{"id":1}}}"#;
        assert!(matches!(read_raw(200, msg), Ok(Ok(ids)) if ids == ["42"]));
        let done = br#"{"ok":true,"result":true}"#;
        assert!(matches!(read_raw(200, done), Ok(Ok(ids)) if ids.is_empty()));
        let refused = br#"{"ok":false,"error_code":400,"description":"Bad Request: message can't be edited"}"#;
        assert!(matches!(
            read_raw(400, refused),
            Ok(Err(SendError::Platform { details })) if details["description"] == "Bad Request: message can't be edited"
        ));
    }
}
