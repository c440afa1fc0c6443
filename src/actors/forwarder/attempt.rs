//! One delivery attempt to a tenant's OpenClaw, and the rules that turn its result into the
//! event's next state (architecture.md, Forwarder). Plain functions, tested without a network.

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::inbound::Outcome;

/// First retry delay; doubles per attempt (full jitter).
pub const BACKOFF_BASE_MS: u64 = 1_000;
/// Longest wait between two attempts.
pub const BACKOFF_CAP_MS: u64 = 300_000;
/// Shortest wait, so full jitter never turns into a hot loop against a failing endpoint.
pub const BACKOFF_FLOOR_MS: u64 = 100;
/// Longest `Retry-After` honoured; a receiver asking for more is retried at this distance.
pub const RETRY_AFTER_CAP_MS: u64 = 3_600_000;

/// What came back from the tenant's endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// An HTTP status, with `Retry-After` in ms when the receiver sent one.
    Status {
        code: u16,
        retry_after_ms: Option<u64>,
    },
    /// No HTTP answer: connect error, reset, timeout.
    Transport(String),
    /// The tenant has no inbound target (yet).
    NoTarget,
}

/// `webhook-signature` value: `v1,` + base64(HMAC-SHA256(token bytes, "<id>.<ts>.<body>")).
pub fn signature(token: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail; keep the error path anyway.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(token.as_bytes()) else {
        return String::new();
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    format!("v1,{sig}")
}

/// Parses `Retry-After` (delta seconds, or an HTTP date) into ms from `now_ms`.
pub fn parse_retry_after(value: &str, now_ms: i64) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs.saturating_mul(1000));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at_ms = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64;
    Some(at_ms.saturating_sub(now_ms).max(0) as u64)
}

/// Exponential backoff with full jitter for the `attempts`-th failure (1-based).
/// `jitter` is a uniform random number in [0, 1).
pub fn backoff_ms(attempts: u32, jitter: f64) -> u64 {
    let exp = BACKOFF_BASE_MS.saturating_mul(1u64 << attempts.saturating_sub(1).min(20));
    let ceiling = exp.min(BACKOFF_CAP_MS);
    ((ceiling as f64 * jitter.clamp(0.0, 1.0)) as u64).max(BACKOFF_FLOOR_MS)
}

/// The event's next state after an attempt.
///
/// `attempts` counts this attempt; `age` is how long the event has waited since it was queued.
pub fn decide(
    response: &Response,
    attempts: u32,
    age: Duration,
    max_age: Duration,
    now_ms: i64,
    jitter: f64,
) -> Outcome {
    let (retry_after, error) = match response {
        Response::Status { code, .. } if (200..300).contains(code) => return Outcome::Delivered,
        Response::Status { code, .. } if matches!(code, 400 | 413 | 415 | 422) => {
            return Outcome::Dead {
                error: format!("HTTP {code}: rejected by the receiver"),
            };
        }
        Response::Status {
            code,
            retry_after_ms,
        } => (*retry_after_ms, format!("HTTP {code}")),
        Response::Transport(e) => (None, e.clone()),
        Response::NoTarget => (None, "no inbound target configured".to_owned()),
    };
    if age >= max_age {
        return Outcome::Dead {
            error: format!("gave up after {}s: {error}", age.as_secs()),
        };
    }
    let delay = match retry_after {
        Some(ms) => ms.clamp(BACKOFF_FLOOR_MS, RETRY_AFTER_CAP_MS),
        None => backoff_ms(attempts, jitter),
    };
    Outcome::Retry {
        next_attempt_at_ms: now_ms.saturating_add(delay as i64),
        error,
    }
}

/// A uniform random number in [0, 1) from the OS RNG (jitter need not be cryptographic, but
/// this avoids another dependency and never fails in practice).
pub fn jitter() -> f64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);
    const DAY: Duration = Duration::from_secs(86_400);

    fn status(code: u16) -> Response {
        Response::Status {
            code,
            retry_after_ms: None,
        }
    }

    #[test]
    fn any_2xx_is_delivered() {
        for code in [200, 202, 204, 299] {
            assert_eq!(
                decide(&status(code), 1, HOUR, DAY, 0, 0.5),
                Outcome::Delivered
            );
        }
    }

    #[test]
    fn malformed_request_answers_give_up_at_once() {
        for code in [400, 413, 415, 422] {
            assert!(
                matches!(
                    decide(&status(code), 1, Duration::ZERO, DAY, 0, 0.5),
                    Outcome::Dead { .. }
                ),
                "{code}"
            );
        }
    }

    #[test]
    fn outages_and_reprovisioning_are_retried() {
        for code in [401, 403, 404, 408, 425, 429, 500, 502, 503, 504] {
            assert!(
                matches!(
                    decide(&status(code), 1, Duration::ZERO, DAY, 0, 0.5),
                    Outcome::Retry { .. }
                ),
                "{code}"
            );
        }
        let transport = Response::Transport("connection refused".into());
        assert!(matches!(
            decide(&transport, 3, HOUR, DAY, 0, 0.5),
            Outcome::Retry { .. }
        ));
    }

    #[test]
    fn retries_stop_at_the_age_limit() {
        let out = decide(&status(503), 40, DAY, DAY, 0, 0.5);
        assert!(
            matches!(out, Outcome::Dead { ref error } if error.contains("HTTP 503")),
            "{out:?}"
        );
    }

    #[test]
    fn retry_after_is_honoured() {
        let r = Response::Status {
            code: 429,
            retry_after_ms: Some(7_000),
        };
        assert_eq!(
            decide(&r, 1, Duration::ZERO, DAY, 1_000, 0.0),
            Outcome::Retry {
                next_attempt_at_ms: 8_000,
                error: "HTTP 429".into()
            }
        );
        assert_eq!(parse_retry_after(" 12 ", 0), Some(12_000));
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", 4_000),
            Some(6_000)
        );
        assert_eq!(parse_retry_after("soon", 0), None);
    }

    #[test]
    fn backoff_grows_exponentially_up_to_the_cap() {
        assert_eq!(backoff_ms(1, 1.0), 1_000);
        assert_eq!(backoff_ms(2, 1.0), 2_000);
        assert_eq!(backoff_ms(5, 1.0), 16_000);
        assert_eq!(backoff_ms(30, 1.0), BACKOFF_CAP_MS);
        assert_eq!(backoff_ms(30, 0.0), BACKOFF_FLOOR_MS);
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }

    #[test]
    fn the_signature_follows_standard_webhooks_with_the_raw_token_as_key() {
        // Same content as the Standard Webhooks test vector, keyed with the token's UTF-8 bytes.
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;
        let sig = signature(
            "C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            body,
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(b"C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        mac.update(b"msg_27UH4WbU6Z5A5EzD8u03UvzRbpk.1649367553.");
        mac.update(body);
        let expected =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        assert_eq!(sig, format!("v1,{expected}"));
        assert_ne!(
            sig,
            signature("other", "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body)
        );
    }
}
