//! `/v1/tenant/deliveries` (contract §8): a tenant inspects its waiting and given-up inbound
//! events and puts dead ones back in line.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use crate::actors::forwarder::Wake;
use crate::actors::registry::TenantAuth;
use crate::db::op::write;
use crate::db::{self, inbound::RequeueDead};
use crate::domain::EventState;
use crate::time::now_ms;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

/// `status` and `limit` from the query string.
pub fn filters(query: &str) -> Result<(Vec<EventState>, i64), ApiError> {
    let q = web::Query::<HashMap<String, String>>::from_query(query)
        .map_err(|_| ApiError::bad_request("invalid query string"))?;
    let states = match q.get("status").map(String::as_str) {
        None | Some("") => vec![EventState::Pending, EventState::Dead],
        Some(s) => match EventState::parse(s) {
            Some(state @ (EventState::Pending | EventState::Dead)) => vec![state],
            _ => return Err(ApiError::bad_request("status must be pending or dead")),
        },
    };
    let limit = match q.get("limit").map(String::as_str) {
        None | Some("") => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!("limit must be an integer from 1 to {MAX_LIMIT}"))
            })?,
    };
    Ok((states, limit))
}

pub async fn list(
    tenant: TenantAuth,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (states, limit) = filters(req.query_string())?;
    let tenant_id = tenant.tenant_id.to_string();
    let rows = db::read(&state.reads, move |c| {
        db::inbound::list_deliveries(c, &tenant_id, &states, limit)
    })
    .await?;
    let items: Vec<_> = rows
        .into_iter()
        .map(|r| {
            json!({
                "eventId": r.event_id,
                "channel": r.channel,
                "sessionKey": r.session_key,
                "state": r.state,
                "attempts": r.attempts,
                "lastError": r.last_error,
                "nextAttemptAtMs": r.next_attempt_at_ms,
                "createdAtMs": r.created_at_ms,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

pub async fn retry(
    tenant: TenantAuth,
    state: web::Data<AppState>,
    event_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let op = RequeueDead {
        tenant_id: tenant.tenant_id.to_string(),
        event_id: event_id.into_inner(),
        now_ms: now_ms(),
    };
    let event_id = op.event_id.clone();
    write(state.writer.clone(), op).await?;
    state.forwarders.do_send(Wake {
        tenant_id: tenant.tenant_id.clone(),
        now: true,
    });
    log::info!(
        "event=delivery_requeued tenant={} event_id={event_id}",
        tenant.tenant_id
    );
    Ok(HttpResponse::Ok().json(json!({"ok": true})))
}
