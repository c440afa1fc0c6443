//! Telegram chat actions (`sendChatAction typing`): best effort, only with a permit the pacer
//! has free right now.

use serde_json::json;
use tokio::time::Instant;

use super::{Retry, TelegramSender, TelegramTarget, read_answer};
use crate::senders::{SendError, Typing, remaining};

impl TelegramSender {
    /// `sendChatAction typing` into the target (its topic included), when the pacer has a permit
    /// free right now; skipped otherwise, and on a 429 (which pauses the bot as for sends).
    pub async fn typing(
        &self,
        target: TelegramTarget,
        deadline: Instant,
    ) -> Result<Typing, SendError> {
        if !self.pacer.try_now().await {
            return Ok(Typing::Skipped);
        }
        let Some(left) = remaining(deadline) else {
            return Ok(Typing::Skipped);
        };
        let mut body = json!({"chat_id": target.chat_id, "action": "typing"});
        if let Some(topic) = target.topic_id {
            body["message_thread_id"] = json!(topic);
        }
        let (status, bytes) = self
            .exchange("sendChatAction", body.to_string().into_bytes(), left)
            .await?;
        match read_answer_ok(status, &bytes) {
            Err(Retry(wait)) => {
                self.pacer.pause(Instant::now() + wait);
                Ok(Typing::Skipped)
            }
            Ok(Ok(())) => Ok(Typing::Shown),
            Ok(Err(e)) => Err(e),
        }
    }
}

/// Reads the answer of a method that returns `true` (sendChatAction).
fn read_answer_ok(status: u16, bytes: &[u8]) -> Result<Result<(), SendError>, Retry> {
    if let Ok(answer) = serde_json::from_slice::<serde_json::Value>(bytes)
        && answer["ok"] == true
    {
        return Ok(Ok(()));
    }
    match read_answer(status, bytes) {
        Err(retry) => Err(retry),
        Ok(Err(e)) => Ok(Err(e)),
        // `ok: false` cannot carry a message; anything else is not Telegram's answer.
        Ok(Ok(_)) => Ok(Err(SendError::Platform {
            details: json!({"status": status}),
        })),
    }
}
