//! `POST /v1/admin/pairing-codes` (seed a code for `/v1/pairings/claim`) and
//! `GET /v1/admin/audit` (contract §7).

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::api::AppState;
use crate::api::body::ApiJson;
use crate::api::error::ApiError;
use crate::db::admin::InsertPairingCode;
use crate::db::op::write;
use crate::domain::pairing_token::parse_ttl;
use crate::domain::secrets::{hash_secret, new_id};
use crate::domain::{Channel, RouteKey, Scope};
use crate::time::now_ms;

/// Longest code accepted: codes are typed or pasted by people.
const MAX_CODE_LEN: usize = 200;
/// Audit listing page size: default and cap.
const AUDIT_DEFAULT_LIMIT: i64 = 100;
const AUDIT_MAX_LIMIT: i64 = 1000;

/// A validated code: the clear code (for the answer) and the write that stores it (hash only).
pub fn code_spec(body: &Value, now: i64) -> Result<(String, InsertPairingCode), ApiError> {
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let code = match text("code") {
        Some(c) if c.len() > MAX_CODE_LEN => {
            return Err(ApiError::bad_request(format!(
                "code longer than {MAX_CODE_LEN} bytes"
            )));
        }
        Some(c) => c.to_owned(),
        None => new_id("mpc_"),
    };
    let channel = text("channel").ok_or_else(|| ApiError::bad_request("channel required"))?;
    let channel =
        Channel::parse(channel).ok_or_else(|| ApiError::bad_request("unsupported channel"))?;
    let route_key = text("routeKey").ok_or_else(|| ApiError::bad_request("routeKey required"))?;
    let route_key =
        RouteKey::parse(route_key).map_err(|e| ApiError::bad_request(format!("routeKey: {e}")))?;
    if route_key.channel() != channel {
        return Err(ApiError::bad_request("routeKey is of another channel"));
    }
    let scope = match text("scope") {
        Some(s) => Scope::parse(s).ok_or_else(|| ApiError::bad_request("unknown scope"))?,
        None => route_key.scope(),
    };
    let ttl = parse_ttl(body.get("ttlSec")).map_err(|e| ApiError::bad_request(e.to_string()))?;
    // Absent or not positive: the code does not expire (as seeded codes without expiresAtMs).
    let expires_at_ms = ttl
        .filter(|s| *s > 0)
        .map(|sec| now.saturating_add(sec.saturating_mul(1000)));
    let op = InsertPairingCode {
        code_hash: hash_secret(&code),
        channel,
        route_key,
        scope,
        expires_at_ms,
        now_ms: now,
    };
    Ok((code, op))
}

pub async fn create_code(
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> Result<HttpResponse, ApiError> {
    let (code, op) = code_spec(&body, now_ms())?;
    let answer = json!({
        "ok": true,
        "code": code,
        "channel": op.channel,
        "routeKey": op.route_key,
        "scope": op.scope,
        "expiresAtMs": op.expires_at_ms,
    });
    let route_key = op.route_key.clone();
    write(state.writer.clone(), op).await?;
    log::info!("event=admin_pairing_code_seeded route={route_key}");
    Ok(HttpResponse::Created().json(answer))
}

/// `tenantId` (optional) and `limit` (1..=1000, default 100) from the query string.
pub fn audit_query(query: &str) -> Result<(Option<String>, i64), ApiError> {
    let params = web::Query::<HashMap<String, String>>::from_query(query)
        .map_err(|_| ApiError::bad_request("invalid query string"))?
        .into_inner();
    let tenant_id = params
        .get("tenantId")
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    let limit = match params
        .get("limit")
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
    {
        None => AUDIT_DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=AUDIT_MAX_LIMIT).contains(l))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "limit must be an integer from 1 to {AUDIT_MAX_LIMIT}"
                ))
            })?,
    };
    Ok((tenant_id, limit))
}

pub async fn audit(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let (tenant_id, limit) = audit_query(req.query_string())?;
    let rows = crate::db::read(&state.reads, move |conn| {
        crate::db::audit::list(conn, tenant_id.as_deref(), limit)
    })
    .await?;
    let items: Vec<Value> =
        rows.into_iter()
            .map(|r| {
                let detail = r.detail.as_deref().map(|d| {
                    serde_json::from_str(d).unwrap_or_else(|_| Value::String(d.to_owned()))
                });
                json!({
                    "id": r.id,
                    "atMs": r.at_ms,
                    "tenantId": r.tenant_id,
                    "actor": r.actor,
                    "action": r.action,
                    "detail": detail,
                })
            })
            .collect();
    Ok(HttpResponse::Ok().json(json!({"ok": true, "items": items})))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_generated_when_none_is_given_and_stored_as_a_hash() {
        let body =
            json!({"channel": "telegram", "routeKey": "telegram:default:chat:-100", "ttlSec": 60});
        let (code, row) = code_spec(&body, 1_000).unwrap();
        assert!(code.starts_with("mpc_"));
        assert_eq!(row.code_hash, hash_secret(&code));
        assert_eq!(row.scope, Scope::Chat, "scope defaults to the route's");
        assert_eq!(row.expires_at_ms, Some(61_000));
    }

    #[test]
    fn bad_codes_get_their_own_messages() {
        let err = |body: Value| code_spec(&body, 0).err().unwrap().error.into_owned();
        assert_eq!(err(json!({})), "channel required");
        assert_eq!(err(json!({"channel": "irc"})), "unsupported channel");
        assert_eq!(err(json!({"channel": "telegram"})), "routeKey required");
        assert!(err(json!({"channel": "telegram", "routeKey": "nope"})).starts_with("routeKey"));
        assert_eq!(
            err(json!({"channel": "discord", "routeKey": "telegram:default:chat:1"})),
            "routeKey is of another channel"
        );
        assert_eq!(
            err(
                json!({"channel": "telegram", "routeKey": "telegram:default:chat:1", "scope": "x"})
            ),
            "unknown scope"
        );
    }

    #[test]
    fn the_audit_query_has_bounds() {
        assert_eq!(audit_query("").unwrap(), (None, 100));
        assert_eq!(
            audit_query("tenantId=t-1&limit=5").unwrap(),
            (Some("t-1".into()), 5)
        );
        for bad in ["limit=0", "limit=1001", "limit=x", "limit=-1"] {
            assert!(audit_query(bad).is_err(), "{bad}");
        }
    }
}
