//! The HTTP answer of a send, built once as bytes: the same bytes are stored for idempotent
//! replays, so a replay is byte-identical to the first answer.

use serde_json::{Value, json};

use crate::domain::Channel;
use crate::senders::{Delivered, SendError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// Seconds for `Retry-After` (429 only).
    pub retry_after: Option<u64>,
    /// A split send cut short by the rate limit: the ids of the parts that went out, recorded
    /// under the `Idempotency-Key` so a retry sends only the rest.
    pub progress: Option<Vec<String>>,
}

impl Answer {
    pub fn json(status: u16, body: &Value) -> Answer {
        Answer {
            status,
            body: body.to_string(),
            retry_after: None,
            progress: None,
        }
    }

    pub fn error(status: u16, error: &str, code: Option<&str>) -> Answer {
        match code {
            Some(code) => Answer::json(status, &json!({"ok": false, "error": error, "code": code})),
            None => Answer::json(status, &json!({"ok": false, "error": error})),
        }
    }

    /// Every final answer is stored for the key (contract §5), `403 ROUTE_NOT_BOUND` included, so
    /// a replay gives the same answer and another body a 409. Not stored — the key is released and
    /// a retry with it tries again: `400` (the request was refused as asked), `429` (the platform
    /// budget ran out before anything was sent) and `503` (channel or store unavailable).
    pub fn is_stored(&self) -> bool {
        !matches!(self.status, 400 | 429 | 503)
    }

    pub fn route_not_bound() -> Answer {
        Answer::error(403, "route not bound", Some("ROUTE_NOT_BOUND"))
    }

    pub fn key_mismatch() -> Answer {
        Answer::error(409, "idempotency key reused with different payload", None)
    }

    pub fn unavailable() -> Answer {
        Answer::error(503, "database unavailable", Some("DB_UNAVAILABLE"))
    }

    pub fn delivered(d: &Delivered) -> Answer {
        let mut body = serde_json::Map::new();
        body.insert("ok".into(), json!(true));
        body.insert("messageId".into(), json!(d.message_ids.first()));
        body.insert(d.destination_field.into(), json!(d.destination));
        body.insert("providerMessageIds".into(), json!(d.message_ids));
        Answer::json(200, &Value::Object(body))
    }

    pub fn failed(channel: Channel, err: &SendError) -> Answer {
        match err {
            SendError::Disabled => Answer::error(
                503,
                &format!("{channel} channel is not configured"),
                Some("CHANNEL_DISABLED"),
            ),
            SendError::RouteNotBound => Answer::route_not_bound(),
            SendError::Unavailable => {
                Answer::error(503, "service unavailable", Some("UNAVAILABLE"))
            }
            SendError::Rejected { status, message } => Answer::error(*status, message, None),
            SendError::Platform { details } => Answer::json(
                502,
                &json!({"ok": false, "error": format!("{channel} send failed"), "details": details}),
            ),
            SendError::RateLimited { retry_after } => {
                let secs = retry_secs(*retry_after);
                Answer {
                    retry_after: Some(secs),
                    ..Answer::json(
                        429,
                        &json!({"ok": false, "error": "rate limited", "code": "RATE_LIMITED", "retryAfter": secs}),
                    )
                }
            }
            SendError::RateLimitedAfter { retry_after, sent } => {
                let secs = retry_secs(*retry_after);
                Answer {
                    retry_after: Some(secs),
                    progress: Some(sent.clone()),
                    ..Answer::json(
                        429,
                        &json!({"ok": false, "error": "rate limited", "code": "RATE_LIMITED", "retryAfter": secs, "sentMessageIds": sent}),
                    )
                }
            }
            SendError::OutcomeUnknown => {
                Answer::error(504, "platform outcome unknown", Some("OUTCOME_UNKNOWN"))
            }
        }
    }
}

/// Whole seconds, rounded up, at least 1 (`Retry-After` has no fractions).
fn retry_secs(wait: std::time::Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_rate_limit_rounds_retry_after_up_to_whole_seconds() {
        let a = Answer::failed(
            Channel::Telegram,
            &SendError::RateLimited {
                retry_after: Duration::from_millis(1500),
            },
        );
        assert_eq!((a.status, a.retry_after), (429, Some(2)));
        assert!(!a.is_stored());
    }

    #[test]
    fn final_answers_are_stored_and_retryable_ones_are_not() {
        assert!(Answer::failed(Channel::Discord, &SendError::OutcomeUnknown).is_stored());
        assert!(
            Answer::failed(
                Channel::Discord,
                &SendError::Platform { details: json!({}) }
            )
            .is_stored()
        );
        assert!(Answer::route_not_bound().is_stored());
        assert!(
            Answer::failed(
                Channel::Discord,
                &SendError::Rejected {
                    status: 403,
                    message: "discord channel not allowed for this bound guild"
                }
            )
            .is_stored()
        );
        assert!(!Answer::failed(Channel::Discord, &SendError::Disabled).is_stored());
        assert!(!Answer::failed(Channel::Discord, &SendError::Unavailable).is_stored());
        assert!(!Answer::unavailable().is_stored());
    }
}
