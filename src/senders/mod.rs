//! Outbound senders: one per platform, each a small client with one method per platform call,
//! its own rate limiting and a shared outcome type. Only `crate::outbound` calls them (tenant
//! sends, and the pairing notices ingress asks it for); nothing here knows about HTTP requests to
//! mux itself, nor about ingress.

pub mod discord;
pub mod discord_target;
pub mod pacing;
pub mod split;
pub mod telegram;
pub mod telegram_format;
pub mod whatsapp;

use std::borrow::Cow;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

/// What to send into one chat. The destination is not here: it always comes from the binding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The text, byte for byte as given; `None` when absent or blank.
    pub text: Option<String>,
    /// Media URLs in order.
    pub media: Vec<String>,
    /// The platform message id to answer (`replyToId`), as given; always inside the chat.
    pub reply_to: Option<String>,
    /// Platform ids of the leading parts an earlier attempt under the same `Idempotency-Key`
    /// already sent (a split send resumed after `429`): the sender skips that many parts and
    /// answers with these ids first.
    pub already_sent: Vec<String>,
    /// Telegram `parse_mode` asked for (`parseMode`); the other platforms ignore it.
    pub parse_mode: Option<crate::domain::ParseMode>,
}

/// A successful send: every platform message id, first one first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The response field naming the destination (`chatId`, `channelId`, `toJid`).
    pub destination_field: &'static str,
    /// Its value.
    pub destination: String,
    pub message_ids: Vec<String>,
}

/// What a best-effort chat action (`op: "action"`, typing) came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typing {
    /// The platform accepted it.
    Shown,
    /// Not sent: no rate budget free right now (or nothing to show it on). Never queued.
    Skipped,
}

/// Why a send did not (entirely) happen. Each variant is answered differently (contract §5).
#[derive(Debug, Clone, PartialEq)]
pub enum SendError {
    /// No credentials for the channel: `503 CHANNEL_DISABLED`.
    Disabled,
    /// The request steers into a place bound to another tenant: `403 ROUTE_NOT_BOUND`.
    RouteNotBound,
    /// mux itself cannot answer right now (its registry is gone, shutting down): `503`.
    Unavailable,
    /// The request cannot be sent as asked (a Discord target outside the binding): 400 or 403.
    Rejected { status: u16, message: &'static str },
    /// The platform refused or failed: `502 <channel> send failed` with its error in `details`.
    Platform { details: Value },
    /// The platform's rate limit outlasts the request deadline: `429 RATE_LIMITED`.
    RateLimited { retry_after: Duration },
    /// As `RateLimited`, after the leading parts of a split send went out (their ids in
    /// `sent`): `429 RATE_LIMITED` listing them; a retry with the same key sends the rest.
    RateLimitedAfter {
        retry_after: Duration,
        sent: Vec<String>,
    },
    /// The platform call timed out after the request was written: it may or may not have been
    /// delivered, so it is never sent again on mux's own initiative (`504 OUTCOME_UNKNOWN`).
    OutcomeUnknown,
}

/// One platform message of a send. Telegram and WhatsApp send text and each image separately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part<'a> {
    /// Borrowed from the message, or built by a formatting-aware splitter (HTML tags reopened).
    Text(Cow<'a, str>),
    Media {
        url: &'a str,
        caption: Option<&'a str>,
    },
}

/// Telegram and WhatsApp: the first image carries the text as caption when it fits the caption
/// limit; otherwise the images go first and the text follows as its own message(s), split at the
/// text limit. Text is never shortened.
pub fn plan_parts<'a>(
    msg: &'a OutgoingMessage,
    text_limit: usize,
    caption_limit: usize,
) -> Vec<Part<'a>> {
    plan_parts_with(msg, text_limit, caption_limit, |text, limit| {
        split::split_text(text, limit)
            .into_iter()
            .map(Cow::Borrowed)
            .collect()
    })
}

/// [`plan_parts`] with the text split by `split` (Telegram: aware of the parse mode).
pub fn plan_parts_with<'a>(
    msg: &'a OutgoingMessage,
    text_limit: usize,
    caption_limit: usize,
    split: impl Fn(&'a str, usize) -> Vec<Cow<'a, str>>,
) -> Vec<Part<'a>> {
    let text = msg.text.as_deref();
    let mut parts = Vec::new();
    let caption_fits = text.is_some_and(|t| split::text_len(t) <= caption_limit);
    for (i, url) in msg.media.iter().enumerate() {
        let caption = if i == 0 && caption_fits { text } else { None };
        parts.push(Part::Media { url, caption });
    }
    if let Some(text) = text.filter(|_| msg.media.is_empty() || !caption_fits) {
        parts.extend(split(text, text_limit).into_iter().map(Part::Text));
    }
    parts
}

/// Time left until `deadline`, or None when it has passed.
pub fn remaining(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

/// Keeps a token out of anything that is logged or answered (error texts of HTTP clients can
/// carry the request URL, and Telegram's URL holds the bot token).
pub fn scrub(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, "<redacted>")
    }
}

/// A multi-part send that failed after some parts were delivered. The rate limit (the deadline
/// cut the send short) becomes a resumable `429` listing what went out; any other failure a
/// stored `502` listing it, so the caller does not resend those parts.
pub fn after_partial(err: SendError, sent: &[String]) -> SendError {
    if sent.is_empty() {
        return err;
    }
    let reason = match &err {
        SendError::Platform { details } => details.clone(),
        SendError::RateLimited { retry_after }
        | SendError::RateLimitedAfter { retry_after, .. } => {
            return SendError::RateLimitedAfter {
                retry_after: *retry_after,
                sent: sent.to_vec(),
            };
        }
        SendError::OutcomeUnknown => serde_json::json!({"error": "platform outcome unknown"}),
        SendError::Disabled
        | SendError::RouteNotBound
        | SendError::Unavailable
        | SendError::Rejected { .. } => return err,
    };
    SendError::Platform {
        details: serde_json::json!({"error": reason, "sentMessageIds": sent}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: Option<&str>, media: &[&str]) -> OutgoingMessage {
        OutgoingMessage {
            text: text.map(str::to_owned),
            media: media.iter().map(|m| (*m).to_owned()).collect(),
            ..OutgoingMessage::default()
        }
    }

    #[test]
    fn the_caption_goes_on_the_first_image_only() {
        let m = msg(Some("hi"), &["u1", "u2"]);
        assert_eq!(
            plan_parts(&m, 4096, 1024),
            vec![
                Part::Media {
                    url: "u1",
                    caption: Some("hi")
                },
                Part::Media {
                    url: "u2",
                    caption: None
                }
            ]
        );
    }

    #[test]
    fn text_too_long_for_a_caption_follows_the_images() {
        let long = "x".repeat(1500);
        let m = msg(Some(&long), &["u1"]);
        assert_eq!(
            plan_parts(&m, 4096, 1024),
            vec![
                Part::Media {
                    url: "u1",
                    caption: None
                },
                Part::Text(Cow::Borrowed(&long))
            ]
        );
    }

    #[test]
    fn a_token_never_survives_scrubbing() {
        assert_eq!(
            scrub("url http://h/bot123:abc/SendMessage", "123:abc"),
            "url http://h/bot<redacted>/SendMessage"
        );
    }

    #[test]
    fn the_rate_limit_after_some_parts_is_a_resumable_429_listing_them() {
        let err = after_partial(
            SendError::RateLimited {
                retry_after: Duration::from_secs(3),
            },
            &["1".to_owned(), "2".to_owned()],
        );
        assert_eq!(
            err,
            SendError::RateLimitedAfter {
                retry_after: Duration::from_secs(3),
                sent: vec!["1".to_owned(), "2".to_owned()]
            }
        );
    }

    #[test]
    fn a_failure_after_some_parts_becomes_a_502_listing_them() {
        let err = after_partial(SendError::OutcomeUnknown, &["1".to_owned()]);
        assert!(
            matches!(err, SendError::Platform { details } if details["sentMessageIds"][0] == "1")
        );
        assert_eq!(
            after_partial(SendError::OutcomeUnknown, &[]),
            SendError::OutcomeUnknown
        );
    }
}
