//! The Telegram sender: sendMessage / sendPhoto as JSON against `MUX_TELEGRAM_API_BASE_URL`,
//! through teloxide-core's `Bot` (its reqwest client) and types, paced by [`Pacer`], with a 429's
//! `retry_after` honoured inside the request deadline. Sends into one chat hold the chat's turn
//! from the first part to the last, so a split message is never interleaved with another.

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::json;
use teloxide_core::Bot;
use teloxide_core::types::{MessageId, ReplyParameters};
use tokio::time::{Instant, sleep, timeout};

use super::pacing::Pacer;
use super::telegram_format::split_formatted;
use super::{
    Delivered, OutgoingMessage, Part, SendError, after_partial, plan_parts_with, remaining, scrub,
};
use crate::config::{OutboundConfig, TelegramConfig};
use crate::domain::ParseMode;

mod chat_action;
mod raw;

/// sendMessage text limit (characters after entity parsing; parts are measured on the marked-up
/// text, which is never shorter, so they fit).
pub const TEXT_LIMIT: usize = 4096;
/// sendPhoto caption limit.
pub const CAPTION_LIMIT: usize = 1024;
/// reqwest's own timeout, a backstop behind the request deadline (which is enforced per call).
const HTTP_TIMEOUT: Duration = Duration::from_secs(60);

/// Where a binding points in Telegram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelegramTarget {
    pub chat_id: i64,
    /// The forum topic: the bound one, or one the route lock allowed in a bound chat.
    pub topic_id: Option<i64>,
}

pub struct TelegramSender {
    bot: Bot,
    /// `<base>/bot<token>/`, the prefix of every method URL.
    method_base: String,
    token: String,
    pacer: Pacer,
}

impl TelegramSender {
    /// None without `TELEGRAM_BOT_TOKEN`. Must run inside a tokio runtime (the pacer's task).
    pub fn new(
        cfg: &TelegramConfig,
        outbound: &OutboundConfig,
    ) -> anyhow::Result<Option<TelegramSender>> {
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
        let method_base = format!("{}/bot{token}/", cfg.api_base_url);
        Ok(Some(TelegramSender {
            bot,
            method_base,
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
        // The topic comes from the route lock only (the bound topic, or one it allowed).
        let thread = target.topic_id.and_then(|t| i32::try_from(t).ok());
        let reply = positive(msg.reply_to.as_deref()).and_then(|r| i32::try_from(r).ok());
        let mut turn = self.pacer.chat_turn(target.chat_id).await;
        let mut ids = msg.already_sent.clone();
        let split = |text, limit| split_formatted(text, limit, msg.parse_mode);
        for (i, part) in plan_parts_with(msg, TEXT_LIMIT, CAPTION_LIMIT, split)
            .into_iter()
            .enumerate()
            .skip(msg.already_sent.len())
        {
            let mut call = Call {
                chat_id: target.chat_id,
                thread,
                reply: if i == 0 { reply } else { None },
                part,
                parse_mode: msg.parse_mode,
            };
            let result = loop {
                if let Err(wait) = self
                    .pacer
                    .ready(&mut turn, target.chat_id, tenant, deadline)
                    .await
                {
                    break Err(SendError::RateLimited { retry_after: wait });
                }
                let outcome = self.call(&call, deadline).await;
                self.pacer.sent(&mut turn);
                match outcome {
                    Err(Retry(wait)) if Instant::now() + wait <= deadline => {
                        self.pacer.pause(Instant::now() + wait);
                        sleep(wait).await;
                    }
                    Err(Retry(wait)) => {
                        // Telegram holds the bot off for that long, whether or not this send
                        // can wait for it.
                        self.pacer.pause(Instant::now() + wait);
                        break Err(SendError::RateLimited { retry_after: wait });
                    }
                    // Formatting Telegram cannot parse: the same text once more, plain.
                    Ok(Err(e)) if call.parse_mode.is_some() && refused_entities(&e) => {
                        log::info!(
                            "event=telegram_parse_mode_fallback tenant={tenant} parse_mode={}",
                            call.parse_mode.map_or("", ParseMode::as_str)
                        );
                        call.parse_mode = None;
                    }
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
    async fn call(
        &self,
        call: &Call<'_>,
        deadline: Instant,
    ) -> Result<Result<String, SendError>, Retry> {
        let (method, body) = call.payload();
        match self.post(method, body, deadline).await {
            Err(e) => Ok(Err(e)),
            Ok((status, bytes)) => read_answer(status, &bytes),
        }
    }

    /// One Bot API POST within the deadline: the answer's status and bytes, or why there are
    /// none. Through the Bot's reqwest client directly rather than teloxide's request futures:
    /// on any 5xx those sleep 10 s before reading the body (teloxide-core 0.13
    /// `DELAY_ON_SERVER_ERROR`), which would turn every Telegram 5xx into a deadline timeout.
    async fn post(
        &self,
        method: &str,
        body: Vec<u8>,
        deadline: Instant,
    ) -> Result<(u16, actix_web::web::Bytes), SendError> {
        let Some(left) = remaining(deadline) else {
            return Err(SendError::RateLimited {
                retry_after: Duration::from_secs(1),
            });
        };
        self.exchange(method, body, left).await
    }

    /// Posts one method's JSON body and reads the answer's status and bytes, within `left`.
    async fn exchange(
        &self,
        method: &str,
        body: Vec<u8>,
        left: Duration,
    ) -> Result<(u16, actix_web::web::Bytes), SendError> {
        let request = self
            .bot
            .client()
            .post(format!("{}{method}", self.method_base))
            .header("content-type", "application/json")
            .body(body);
        let exchange = async {
            let response = request
                .send()
                .await
                .map_err(|e| (e.is_connect(), error_chain(&e)))?;
            let status = response.status().as_u16();
            let bytes = response
                .bytes()
                .await
                .map_err(|e| (false, error_chain(&e)))?;
            Ok::<_, (bool, String)>((status, bytes))
        };
        match timeout(left, exchange).await {
            Err(_elapsed) => Err(SendError::OutcomeUnknown),
            // A connection that never opened sent nothing; any other network error may have
            // happened after Telegram got the request.
            Ok(Err((true, cause))) => Err(SendError::Platform {
                details: json!({"description": scrub(&cause, &self.token)}),
            }),
            Ok(Err((false, _))) => Err(SendError::OutcomeUnknown),
            Ok(Ok(answer)) => Ok(answer),
        }
    }
}

/// Reads a Bot API answer: the message id, a `retry_after` to honour, or the error for `details`.
fn read_answer(status: u16, bytes: &[u8]) -> Result<Result<String, SendError>, Retry> {
    let Ok(answer) = serde_json::from_slice::<BotAnswer>(bytes) else {
        let body: String = String::from_utf8_lossy(bytes).chars().take(500).collect();
        return Ok(Err(SendError::Platform {
            details: json!({"status": status, "body": body}),
        }));
    };
    if let (true, Some(sent)) = (answer.ok, &answer.result) {
        return Ok(Ok(sent.message_id.to_string()));
    }
    if let Some(secs) = answer.parameters.as_ref().and_then(|p| p.retry_after) {
        return Err(Retry(Duration::from_secs(secs)));
    }
    let mut details = json!({
        "status": status,
        "error_code": answer.error_code,
        "description": answer.description,
    });
    if let Some(to) = answer.parameters.and_then(|p| p.migrate_to_chat_id) {
        details["migrate_to_chat_id"] = json!(to);
    }
    Ok(Err(SendError::Platform { details }))
}

/// Telegram's refusal of the formatting (`400 Bad Request: can't parse entities: …`).
fn refused_entities(e: &SendError) -> bool {
    matches!(e, SendError::Platform { details }
        if details["description"].as_str().is_some_and(|d| d.contains("can't parse entities")))
}

/// The Bot API's answer envelope (platforms.md §1.1), with only the fields mux reads.
#[derive(Deserialize)]
struct BotAnswer {
    ok: bool,
    result: Option<Sent>,
    description: Option<String>,
    error_code: Option<i64>,
    parameters: Option<ResponseParameters>,
}

#[derive(Deserialize)]
struct ResponseParameters {
    retry_after: Option<u64>,
    migrate_to_chat_id: Option<i64>,
}

impl Call<'_> {
    /// The method and its JSON body.
    fn payload(&self) -> (&'static str, Vec<u8>) {
        let reply_parameters = self
            .reply
            .map(|r| ReplyParameters::new(MessageId(r)).allow_sending_without_reply());
        let encoded = match &self.part {
            Part::Text(text) => (
                "sendMessage",
                serde_json::to_vec(&SendText {
                    chat_id: self.chat_id,
                    text: text.as_ref(),
                    parse_mode: self.parse_mode.map(ParseMode::as_str),
                    message_thread_id: self.thread,
                    reply_parameters,
                }),
            ),
            Part::Media { url, caption } => (
                "sendPhoto",
                serde_json::to_vec(&SendPhotoUrl {
                    chat_id: self.chat_id,
                    photo: url,
                    caption: caption.as_deref(),
                    parse_mode: caption.as_ref().and(self.parse_mode).map(ParseMode::as_str),
                    message_thread_id: self.thread,
                    reply_parameters,
                }),
            ),
        };
        // Serializing strings and integers cannot fail.
        (encoded.0, encoded.1.unwrap_or_default())
    }
}

/// `sendMessage`. The answer is read into [`Sent`] (one field) instead of a full `Message`:
/// cheaper on the hot path and immune to message kinds a parser does not know.
#[derive(Serialize)]
struct SendText<'a> {
    chat_id: i64,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    parse_mode: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_thread_id: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_parameters: Option<ReplyParameters>,
}

/// `sendPhoto` by URL as JSON (teloxide's own `SendPhoto` is always multipart).
#[derive(Serialize)]
struct SendPhotoUrl<'a> {
    chat_id: i64,
    photo: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    caption: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parse_mode: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_thread_id: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_parameters: Option<ReplyParameters>,
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
    /// Dropped for the one plain resend after Telegram refused the entities.
    parse_mode: Option<ParseMode>,
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
