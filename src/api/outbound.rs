//! `POST /v1/mux/outbound/send` (contract §5): parse and validate in the contract's order, then
//! one call into [`Outbound`]. The answer's bytes come from there (stored for replays).

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;

use super::body::ApiJson;
use super::error::ApiError;
use crate::actors::registry::TenantAuth;
use crate::domain::Channel;
use crate::domain::request_fingerprint;
use crate::outbound::{Answer, IdempotencyKey, Outbound, SendRequest};
use crate::senders::OutgoingMessage;

/// Longest `Idempotency-Key` accepted (UUIDs and request ids are far shorter).
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 256;

/// The fields OpenClaw sends that mux reads; `requestId`, `accountId`, `channelData` and `poll`
/// are accepted and ignored, as are unknown fields.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendBody {
    channel: Option<Value>,
    session_key: Option<Value>,
    to: Option<Value>,
    text: Option<Value>,
    media_url: Option<Value>,
    media_urls: Option<Value>,
    reply_to_id: Option<Value>,
    thread_id: Option<Value>,
}

/// Validation in the contract's order, with its messages.
pub fn send_request(body: SendBody) -> Result<SendRequest, ApiError> {
    let channel = scalar(body.channel).ok_or_else(|| ApiError::bad_request("channel required"))?;
    let session_key =
        scalar(body.session_key).ok_or_else(|| ApiError::bad_request("sessionKey required"))?;
    let text = match body.text {
        Some(Value::String(t)) if !t.trim().is_empty() => Some(t),
        _ => None,
    };
    let mut media: Vec<String> = scalar(body.media_url).into_iter().collect();
    let listed = match body.media_urls {
        Some(Value::Array(items)) => items,
        // A single URL where a list was expected: taken as a list of one.
        Some(single) => vec![single],
        None => Vec::new(),
    };
    for url in listed.into_iter().filter_map(|v| scalar(Some(v))) {
        if !media.contains(&url) {
            media.push(url);
        }
    }
    if text.is_none() && media.is_empty() {
        return Err(ApiError::bad_request("text or mediaUrl(s) required"));
    }
    let channel =
        Channel::parse(&channel).ok_or_else(|| ApiError::bad_request("unsupported channel"))?;
    super::pairings::session_key(Some(session_key.clone()))?;
    Ok(SendRequest {
        channel,
        session_key,
        to: scalar(body.to),
        thread_id: scalar(body.thread_id),
        message: OutgoingMessage {
            text,
            media,
            reply_to: scalar(body.reply_to_id),
        },
    })
}

/// A non-blank string, or a number as its decimal text (OpenClaw sends ids both ways).
fn scalar(v: Option<Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The optional `Idempotency-Key`, with the body's fingerprint (`domain::request_fingerprint`:
/// the same JSON matches whatever its whitespace and key order).
fn idempotency_key(req: &HttpRequest, body: &Value) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(raw) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = raw
        .to_str()
        .map_err(|_| ApiError::bad_request("Idempotency-Key must be visible ASCII"))?
        .trim();
    if key.is_empty() {
        return Ok(None);
    }
    if key.len() > MAX_IDEMPOTENCY_KEY_LEN {
        return Err(ApiError::bad_request(format!(
            "Idempotency-Key longer than {MAX_IDEMPOTENCY_KEY_LEN} bytes"
        )));
    }
    Ok(Some(IdempotencyKey {
        key: key.to_owned(),
        fingerprint: request_fingerprint(body),
    }))
}

pub async fn send(
    tenant: TenantAuth,
    outbound: web::Data<Outbound>,
    state: web::Data<super::AppState>,
    req: HttpRequest,
    ApiJson(body): ApiJson<Value>,
) -> Result<HttpResponse, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "invalid JSON body: expected an object",
        ));
    }
    let key = idempotency_key(&req, &body)?;
    let parsed: SendBody = serde_json::from_value(body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
    let send = send_request(parsed)?;
    let channel = send.channel;
    // A task of its own: if the client goes away mid-send, the send still finishes and its answer
    // is stored for the key, so a retry replays it instead of sending twice.
    let task = actix_web::rt::spawn(outbound.into_inner().send(tenant.tenant_id, send, key));
    let answer = task.await.map_err(|e| {
        log::error!("event=outbound_task_failed error={e}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    })?;
    state.metrics.outbound_sent(channel, answer.status);
    if answer.status == 429 {
        // The platform's rate limit outlasted the request deadline.
        state.metrics.platform_429(channel);
    }
    Ok(respond(answer))
}

fn respond(answer: Answer) -> HttpResponse {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    response.insert_header((CONTENT_TYPE, "application/json"));
    if let Some(secs) = answer.retry_after {
        response.insert_header((RETRY_AFTER, secs.to_string()));
    }
    response.body(answer.body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(body: Value) -> Result<SendRequest, String> {
        let parsed: SendBody = serde_json::from_value(body).map_err(|e| e.to_string())?;
        send_request(parsed).map_err(|e| e.error.to_string())
    }

    #[test]
    fn validation_follows_the_contract_order() {
        assert_eq!(check(json!({})).err().as_deref(), Some("channel required"));
        assert_eq!(
            check(json!({"channel": "x"})).err().as_deref(),
            Some("sessionKey required")
        );
        assert_eq!(
            check(json!({"channel": "x", "sessionKey": "s", "text": "  "}))
                .err()
                .as_deref(),
            Some("text or mediaUrl(s) required")
        );
        assert_eq!(
            check(json!({"channel": "x", "sessionKey": "s", "text": "hi"}))
                .err()
                .as_deref(),
            Some("unsupported channel")
        );
    }

    #[test]
    fn text_is_kept_verbatim_and_media_urls_are_merged_in_order() {
        let req = check(json!({
            "channel": "telegram", "sessionKey": "s", "text": "  *hi*\n",
            "mediaUrl": "https://a", "mediaUrls": ["https://a", "https://b"],
            "replyToId": 5, "threadId": "7", "poll": {"q": 1}
        }))
        .expect("valid");
        assert_eq!(req.message.text.as_deref(), Some("  *hi*\n"));
        assert_eq!(req.message.media, vec!["https://a", "https://b"]);
        assert_eq!(req.message.reply_to.as_deref(), Some("5"));
        assert_eq!(req.thread_id.as_deref(), Some("7"));
    }
}
