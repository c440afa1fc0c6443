//! The Telegram sender: sendMessage / sendPhoto through teloxide-core against
//! `MUX_TELEGRAM_API_BASE_URL`, paced by [`Pacer`], with 429 `retry_after` honoured inside the
//! request deadline.

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::json;
use serde::{Deserialize, Serialize};
use teloxide_core::requests::{JsonRequest, Payload, Request};
use teloxide_core::types::{MessageId, ReplyParameters};
use teloxide_core::{Bot, RequestError};
use tokio::time::{Instant, sleep, timeout};

use super::pacing::Pacer;
use super::{Delivered, OutgoingMessage, Part, SendError, after_partial, plan_parts, remaining, scrub};
use crate::config::{OutboundConfig, TelegramConfig};

/// sendMessage text limit (characters after entity parsing; we send no entities).
pub const TEXT_LIMIT: usize = 4096;
/// sendPhoto caption limit.
pub const CAPTION_LIMIT: usize = 1024;
/// reqwest's own timeout, a backstop behind the request deadline (which is enforced per call).
const HTTP_TIMEOUT: Duration = Duration::from_secs(60);

/// Where a binding points in Telegram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelegramTarget {
    pub chat_id: i64,
    /// The bound forum topic, if the binding is a topic.
    pub topic_id: Option<i64>,
}

pub struct TelegramSender {
    bot: Bot,
    token: String,
    pacer: Pacer,
}

impl TelegramSender {
    /// None without `TELEGRAM_BOT_TOKEN`. Must run inside a tokio runtime (the pacer's task).
    pub fn new(cfg: &TelegramConfig, outbound: &OutboundConfig) -> anyhow::Result<Option<TelegramSender>> {
        let Some(token) = &cfg.bot_token else {
            return Ok(None);
        };
        let token = token.expose_secret().to_owned();
        let client = teloxide_core::net::default_reqwest_settings()
            .timeout(HTTP_TIMEOUT)
            .build()
            .map_err(|e| anyhow::anyhow!("telegram http client: {e}"))?;
        let url = url::Url::parse(&cfg.api_base_url)?;
        let bot = Bot::with_client(token.clone(), client).set_api_url(url);
        Ok(Some(TelegramSender {
            bot,
            token,
            pacer: Pacer::new(outbound),
        }))
    }

    /// Sends `msg` into the target chat: text parts or photos (caption on the first).
    pub async fn send(
        &self,
        tenant: &Arc<str>,
        target: TelegramTarget,
        msg: &OutgoingMessage,
        deadline: Instant,
    ) -> Result<Delivered, SendError> {
        let thread = positive(msg.thread_id.as_deref())
            .or(target.topic_id)
            .and_then(|t| i32::try_from(t).ok());
        let reply = positive(msg.reply_to.as_deref()).and_then(|r| i32::try_from(r).ok());
        let mut turn = self.pacer.chat_turn(target.chat_id).await;
        let mut ids = Vec::new();
        for (i, part) in plan_parts(msg, TEXT_LIMIT, CAPTION_LIMIT).into_iter().enumerate() {
            let call = Call {
                chat_id: target.chat_id,
                thread,
                reply: if i == 0 { reply } else { None },
                part,
            };
            let result = loop {
                if let Err(wait) = self.pacer.ready(&mut turn, target.chat_id, tenant, deadline).await {
                    break Err(SendError::RateLimited { retry_after: wait });
                }
                let outcome = self.call(&call, deadline).await;
                self.pacer.sent(&mut turn);
                match outcome {
                    Err(Retry(wait)) if Instant::now() + wait <= deadline => {
                        self.pacer.pause(Instant::now() + wait);
                        sleep(wait).await;
                    }
                    Err(Retry(wait)) => break Err(SendError::RateLimited { retry_after: wait }),
                    Ok(result) => break result,
                }
            };
            match result {
                Ok(id) => ids.push(id),
                Err(e) => return Err(after_partial(e, &ids)),
            }
        }
        Ok(Delivered {
            destination_field: "chatId",
            destination: target.chat_id.to_string(),
            message_ids: ids,
        })
    }

    /// One Bot API call. `Err(Retry)` asks the caller to wait and repeat it.
    async fn call(&self, call: &Call<'_>, deadline: Instant) -> Result<Result<String, SendError>, Retry> {
        let Some(left) = remaining(deadline) else {
            return Ok(Err(SendError::RateLimited { retry_after: Duration::from_secs(1) }));
        };
        let reply_parameters = call
            .reply
            .map(|r| ReplyParameters::new(MessageId(r)).allow_sending_without_reply());
        let sent = match call.part {
            Part::Text(text) => {
                let payload = SendText {
                    chat_id: call.chat_id,
                    text: text.to_owned(),
                    message_thread_id: call.thread,
                    reply_parameters,
                };
                timeout(left, JsonRequest::new(self.bot.clone(), payload).send()).await
            }
            Part::Media { url, caption } => {
                let payload = SendPhotoUrl {
                    chat_id: call.chat_id,
                    photo: url.to_owned(),
                    caption: caption.map(str::to_owned),
                    message_thread_id: call.thread,
                    reply_parameters,
                };
                timeout(left, JsonRequest::new(self.bot.clone(), payload).send()).await
            }
        };
        match sent {
            Err(_elapsed) => Ok(Err(SendError::OutcomeUnknown)),
            Ok(Ok(sent)) => Ok(Ok(sent.message_id.to_string())),
            Ok(Err(RequestError::RetryAfter(secs))) => Err(Retry(secs.duration())),
            Ok(Err(e)) => Ok(Err(self.failure(&e))),
        }
    }

    /// Maps a teloxide error: a connection that never opened is a plain failure (nothing was
    /// sent); any other network error may have happened after Telegram got the request.
    fn failure(&self, e: &RequestError) -> SendError {
        let description = scrub(&error_chain(e), &self.token);
        match e {
            RequestError::Network(net) if !net.is_connect() => SendError::OutcomeUnknown,
            RequestError::MigrateToChatId(to) => SendError::Platform {
                details: json!({"description": description, "migrateToChatId": to.0}),
            },
            _ => SendError::Platform { details: json!({"description": description}) },
        }
    }
}

/// `sendMessage` as JSON. Our own payload rather than teloxide's `SendMessage` so that the answer
/// is read into [`Sent`] (one field) instead of a full `Message`: cheaper on the hot path and
/// immune to message kinds teloxide cannot parse.
#[derive(Serialize)]
struct SendText {
    chat_id: i64,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_thread_id: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_parameters: Option<ReplyParameters>,
}

impl Payload for SendText {
    type Output = Sent;
    const NAME: &'static str = "SendMessage";
}

/// `sendPhoto` by URL as JSON (teloxide's own `SendPhoto` is always multipart).
#[derive(Serialize)]
struct SendPhotoUrl {
    chat_id: i64,
    photo: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    caption: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_thread_id: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_parameters: Option<ReplyParameters>,
}

impl Payload for SendPhotoUrl {
    type Output = Sent;
    const NAME: &'static str = "SendPhoto";
}

/// The part of the sent `Message` mux needs.
#[derive(Deserialize)]
struct Sent {
    message_id: i32,
}

struct Call<'a> {
    chat_id: i64,
    thread: Option<i32>,
    reply: Option<i32>,
    part: Part<'a>,
}

/// Telegram asked to wait this long and repeat the call.
struct Retry(Duration);

/// The error and its causes ("error sending request: … connection refused"), for `details`.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// A positive integer given as a number or numeric string (OpenClaw sends both).
fn positive(raw: Option<&str>) -> Option<i64> {
    raw?.trim().parse::<i64>().ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::positive;

    #[test]
    fn only_positive_integers_are_thread_or_reply_ids() {
        assert_eq!(positive(Some("42")), Some(42));
        assert_eq!(positive(Some("0")), None);
        assert_eq!(positive(Some("-3")), None);
        assert_eq!(positive(Some("abc")), None);
        assert_eq!(positive(None), None);
    }
}
