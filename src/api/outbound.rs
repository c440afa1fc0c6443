//! `POST /v1/mux/outbound/send` (contract §5): parse and validate in the contract's order, then
//! one call into [`Outbound`]. The answer's bytes come from there (stored for replays).

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::body::ApiJson;
use super::error::ApiError;
use super::fields::Fields;
use crate::actors::registry::TenantAuth;
use crate::domain::request_fingerprint;
use crate::domain::{Channel, ParseMode};
use crate::outbound::{Answer, IdempotencyKey, Outbound, SendRequest};
use crate::senders::OutgoingMessage;

/// Longest `Idempotency-Key` accepted (UUIDs and request ids are far shorter).
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 256;

/// Validation in the contract's order, with its messages. The fields OpenClaw sends that mux
/// reads are typed (`<field> must be <type>`); `requestId`, `accountId`, `channelData` and `poll`
/// are type-checked and otherwise ignored, as are unknown fields.
pub fn send_request(body: &Value) -> Result<SendRequest, ApiError> {
    let f = Fields::of(body)?;
    let channel =
        non_blank(f.string("channel")?).ok_or_else(|| ApiError::bad_request("channel required"))?;
    let session_key = non_blank(f.string("sessionKey")?)
        .ok_or_else(|| ApiError::bad_request("sessionKey required"))?;
    let text = f.string("text")?;
    let media_url = f.string("mediaUrl")?;
    let media_urls = f.strings("mediaUrls")?;
    let to = f.id("to")?;
    let reply_to = f.id("replyToId")?;
    let thread_id = f.id("threadId")?;
    let parse_mode = parse_mode(&f)?;
    f.id("requestId")?;
    f.string("accountId")?;
    f.object("channelData")?;
    f.object("poll")?;
    let raw = f.object("raw")?;
    let text = non_blank(text);
    // Passed on as given, in order, duplicates included (contract §6); only blanks are no URL.
    let media: Vec<String> = media_url
        .into_iter()
        .chain(media_urls.into_iter().flatten())
        .filter(|u| !u.trim().is_empty())
        .collect();
    // A raw platform call carries its own content (contract §5a).
    if text.is_none() && media.is_empty() && raw.is_none() {
        return Err(ApiError::bad_request("text or mediaUrl(s) required"));
    }
    let channel =
        Channel::parse(&channel).ok_or_else(|| ApiError::bad_request("unsupported channel"))?;
    let raw = raw
        .map(|r| crate::outbound::raw::parse(channel, r))
        .transpose()
        .map_err(ApiError::bad_request)?;
    super::pairings::session_key(Some(session_key.clone()))?;
    Ok(SendRequest {
        channel,
        session_key,
        to: non_blank(to),
        thread_id: non_blank(thread_id),
        raw,
        message: OutgoingMessage {
            text,
            media,
            reply_to: non_blank(reply_to),
            already_sent: Vec::new(),
            parse_mode,
        },
    })
}

/// `parseMode`: `"HTML"` or `"MarkdownV2"` (Telegram's `parse_mode`); any other value or type
/// is a 400, not ignored.
fn parse_mode(f: &Fields<'_>) -> Result<Option<ParseMode>, ApiError> {
    let wrong = || ApiError::bad_request(r#"parseMode must be "HTML" or "MarkdownV2""#);
    match f.get("parseMode") {
        None => Ok(None),
        Some(Value::String(s)) => ParseMode::parse(s).map(Some).ok_or_else(wrong),
        Some(_) => Err(wrong()),
    }
}

/// A string that is not blank; the text itself is kept verbatim.
fn non_blank(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
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
    Fields::of(&body)?;
    if let Some(action) = super::outbound_action::action_request(&body)? {
        let outbound = outbound.into_inner();
        return super::outbound_action::act(outbound, &state.metrics, tenant.tenant_id, action)
            .await;
    }
    let key = idempotency_key(&req, &body)?;
    let send = send_request(&body)?;
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
        send_request(&body).map_err(|e| e.error.to_string())
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
    fn a_known_field_of_the_wrong_type_is_named() {
        let base = json!({"channel": "telegram", "sessionKey": "s", "text": "hi"});
        let with = |k: &str, v: Value| {
            let mut b = base.clone();
            b[k] = v;
            check(b).err()
        };
        let cases = [
            ("channel", json!(1), "channel must be a string"),
            ("sessionKey", json!(12), "sessionKey must be a string"),
            ("text", json!({}), "text must be a string"),
            ("mediaUrl", json!(["x"]), "mediaUrl must be a string"),
            (
                "mediaUrls",
                json!("x"),
                "mediaUrls must be an array of strings",
            ),
            (
                "mediaUrls",
                json!([1]),
                "mediaUrls must be an array of strings",
            ),
            (
                "threadId",
                json!(true),
                "threadId must be a string or integer",
            ),
            (
                "replyToId",
                json!(1.5),
                "replyToId must be a string or integer",
            ),
            ("to", json!({}), "to must be a string or integer"),
            ("channelData", json!("x"), "channelData must be an object"),
        ];
        for (field, value, expected) in cases {
            assert_eq!(with(field, value).as_deref(), Some(expected), "{field}");
        }
        assert!(with("text", Value::Null).is_some(), "null text is no text");
        assert!(
            with("threadId", json!(7)).is_none(),
            "an integer id is fine"
        );
    }

    #[test]
    fn text_is_kept_verbatim_and_media_urls_are_passed_on_as_given() {
        let req = check(json!({
            "channel": "telegram", "sessionKey": "s", "text": "  *hi*\n",
            "mediaUrl": "https://a", "mediaUrls": ["https://a", "https://b"],
            "replyToId": 5, "threadId": "7", "poll": {"q": 1}
        }))
        .expect("valid");
        assert_eq!(req.message.text.as_deref(), Some("  *hi*\n"));
        assert_eq!(
            req.message.media,
            vec!["https://a", "https://a", "https://b"],
            "in order, duplicates included (contract §6)"
        );
        assert_eq!(req.message.reply_to.as_deref(), Some("5"));
        assert_eq!(req.thread_id.as_deref(), Some("7"));
    }
}
