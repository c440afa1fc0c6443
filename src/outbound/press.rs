//! Acknowledging button presses on the platform, so the user's client stops its spinner: a
//! Telegram `answerCallbackQuery` for a press in a chat nobody is bound to (in bound chats the
//! tenant answers it through `raw`), and Discord's deferred update for every component
//! interaction (Discord wants an answer within 3 s, whether or not the tenant is up). Like the
//! pairing notices, they go through the senders' rate limits; ingress asks for them here.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, json};
use tokio::time::Instant;

use super::Outbound;
use crate::senders::SendError;

/// Discord gives an interaction 3 s; an ack later than that is useless anyway.
const ACK_DEADLINE: Duration = Duration::from_millis(2_500);
/// Telegram shows the spinner for a while; a late answer still stops it.
const ANSWER_DEADLINE: Duration = Duration::from_secs(10);
/// Presses are paced as a tenant of their own, as the notices are.
const PRESSES_TENANT: &str = "mux-presses";

/// A press to acknowledge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Press {
    Telegram {
        chat_id: i64,
        callback_query_id: String,
    },
    Discord {
        interaction_id: u64,
        token: String,
    },
}

impl Outbound {
    pub async fn answer_press(&self, press: &Press) -> Result<(), SendError> {
        match press {
            Press::Telegram {
                chat_id,
                callback_query_id,
            } => {
                let sender = self.telegram.as_ref().ok_or(SendError::Disabled)?;
                let mut body = Map::new();
                body.insert("callback_query_id".into(), json!(callback_query_id));
                let tenant: Arc<str> = Arc::from(PRESSES_TENANT);
                let deadline = Instant::now() + ANSWER_DEADLINE;
                sender
                    .send_raw(&tenant, *chat_id, "answerCallbackQuery", &body, deadline)
                    .await
                    .map(|_| ())
            }
            Press::Discord {
                interaction_id,
                token,
            } => {
                let sender = self.discord.as_ref().ok_or(SendError::Disabled)?;
                let deadline = Instant::now() + ACK_DEADLINE;
                sender
                    .ack_interaction(*interaction_id, token, deadline)
                    .await
            }
        }
    }
}
