//! `op` of `POST /v1/mux/outbound/send` (contract §5a): `"send"` (or none) is a send,
//! `"action"` a chat action (`action: "typing"`, no text needed), anything else a 400.
//! An `Idempotency-Key` on an action is ignored: nothing is reserved or stored, a retry shows
//! typing again.

use std::sync::Arc;

use actix_web::HttpResponse;
use serde_json::Value;

use super::error::ApiError;
use super::fields::Fields;
use crate::domain::Channel;
use crate::metrics::Metrics;
use crate::outbound::Outbound;
use crate::outbound::action::{ActionKind, ActionRequest};

/// The action a body asks for; `None` when it asks for a send.
pub fn action_request(body: &Value) -> Result<Option<ActionRequest>, ApiError> {
    let f = Fields::of(body)?;
    match f.string("op")?.as_deref() {
        None | Some("send") => return Ok(None),
        Some("action") => {}
        Some(_) => return Err(ApiError::bad_request("unsupported op")),
    }
    let channel =
        non_blank(f.string("channel")?).ok_or_else(|| ApiError::bad_request("channel required"))?;
    let session_key = non_blank(f.string("sessionKey")?)
        .ok_or_else(|| ApiError::bad_request("sessionKey required"))?;
    let action =
        non_blank(f.string("action")?).ok_or_else(|| ApiError::bad_request("action required"))?;
    let to = f.id("to")?;
    let thread_id = f.id("threadId")?;
    f.string("text")?;
    f.id("requestId")?;
    f.string("accountId")?;
    let action =
        ActionKind::parse(&action).ok_or_else(|| ApiError::bad_request("unsupported action"))?;
    let channel =
        Channel::parse(&channel).ok_or_else(|| ApiError::bad_request("unsupported channel"))?;
    super::pairings::session_key(Some(session_key.clone()))?;
    Ok(Some(ActionRequest {
        channel,
        session_key,
        to: non_blank(to),
        thread_id: non_blank(thread_id),
        action,
    }))
}

fn non_blank(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

/// Runs the action and counts it.
pub async fn act(
    outbound: Arc<Outbound>,
    metrics: &Metrics,
    tenant: Arc<str>,
    req: ActionRequest,
) -> Result<HttpResponse, ApiError> {
    let channel = req.channel;
    let (answer, outcome) = outbound.action(tenant, req).await;
    metrics.outbound_action(channel, outcome);
    Ok(HttpResponse::build(
        actix_web::http::StatusCode::from_u16(answer.status)
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
    )
    .content_type("application/json")
    .body(answer.body))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(body: Value) -> Result<Option<ActionKind>, String> {
        action_request(&body)
            .map(|r| r.map(|r| r.action))
            .map_err(|e| e.error.to_string())
    }

    #[test]
    fn op_and_action_are_checked_in_order() {
        assert_eq!(check(json!({"channel": "telegram"})), Ok(None), "a send");
        assert_eq!(check(json!({"op": "send"})), Ok(None));
        assert_eq!(
            check(json!({"op": "poll"})).err().as_deref(),
            Some("unsupported op")
        );
        assert_eq!(
            check(json!({"op": 1})).err().as_deref(),
            Some("op must be a string")
        );
        let base = json!({"op": "action", "channel": "telegram", "sessionKey": "s"});
        assert_eq!(
            check(base.clone()).err().as_deref(),
            Some("action required")
        );
        let mut typing = base.clone();
        typing["action"] = json!("typing");
        assert_eq!(check(typing.clone()), Ok(Some(ActionKind::Typing)));
        typing["action"] = json!("upload_photo");
        assert_eq!(
            check(typing.clone()).err().as_deref(),
            Some("unsupported action")
        );
        typing["action"] = json!("typing");
        typing["channel"] = json!("sms");
        assert_eq!(check(typing).err().as_deref(), Some("unsupported channel"));
        assert_eq!(
            check(json!({"op": "action", "sessionKey": "s", "action": "typing"}))
                .err()
                .as_deref(),
            Some("channel required")
        );
    }
}
