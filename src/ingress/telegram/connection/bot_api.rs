//! The Bot API calls Telegram ingress makes itself (`getUpdates`, `setWebhook`, `deleteWebhook`):
//! one POST with a JSON body, one JSON answer checked for `"ok": true`. The request URL holds the
//! bot token, so no error text carries it.

use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::ingress::telegram::TelegramInbound;
use crate::senders::scrub;

/// The largest answer read (a full `getUpdates` page with long texts stays far below it).
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BotApiError {
    /// No answer; `cause` is the HTTP client's error with the token scrubbed out.
    #[error("{method}: {cause}")]
    Request { method: &'static str, cause: String },
    #[error("{method} answered {status} without JSON")]
    NotJson { method: &'static str, status: u16 },
    /// Telegram answered `"ok": false`.
    #[error("{method} answered {status}: {description}")]
    Refused {
        method: &'static str,
        status: u16,
        description: String,
    },
}

/// Calls `method` and answers its `result`. `timeout` overrides the client's (long polls).
pub async fn call(
    client: &awc::Client,
    inbound: &TelegramInbound,
    method: &'static str,
    body: &Value,
    timeout: Option<Duration>,
) -> Result<Value, BotApiError> {
    let mut request = client.post(inbound.method_url(method));
    if let Some(timeout) = timeout {
        request = request.timeout(timeout);
    }
    let mut resp = request
        .send_json(body)
        .await
        .map_err(|e| BotApiError::Request {
            method,
            cause: scrub(&e.to_string(), inbound.token.expose_secret()),
        })?;
    let status = resp.status().as_u16();
    let answer: Value = resp
        .json()
        .limit(MAX_ANSWER_BYTES)
        .await
        .map_err(|_| BotApiError::NotJson { method, status })?;
    if answer["ok"] != json!(true) {
        return Err(BotApiError::Refused {
            method,
            status,
            description: answer["description"].as_str().unwrap_or("").to_owned(),
        });
    }
    Ok(answer["result"].clone())
}
