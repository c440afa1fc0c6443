//! `/v1/tenant/inbound-target` (contract §4): where mux forwards a tenant's inbound messages.

use actix_web::{HttpResponse, web};
use secrecy::SecretString;
use serde_json::{Value, json};

use super::AppState;
use super::body::ApiJson;
use super::error::ApiError;
use super::fields::Fields;
use crate::actors::forwarder::Wake;
use crate::actors::registry::{ChangeInboundTarget, GetInboundTarget, InboundTarget, TenantAuth};
use crate::config::seeds::{DEFAULT_INBOUND_TIMEOUT_MS, MAX_INBOUND_TIMEOUT_MS};
use crate::domain::url_policy::InboundUrlAllow;

pub async fn get(tenant: TenantAuth, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let target = state
        .registry
        .send(GetInboundTarget {
            tenant_id: tenant.tenant_id,
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "ok": true,
        "configured": target.is_some(),
        "inboundUrl": target.as_ref().map(|t| t.url.as_str()),
        "inboundTimeoutMs": target.as_ref().map(|t| t.timeout_ms),
    })))
}

pub struct TargetRequest {
    inbound_url: Option<String>,
    inbound_token: Option<String>,
    inbound_timeout_ms: Option<Value>,
}

impl TargetRequest {
    /// The body's fields, each of its JSON type (`inboundUrl must be a string`); the timeout is
    /// checked by [`target_from`] (an integer or a numeric string).
    pub fn from_json(body: &Value) -> Result<TargetRequest, ApiError> {
        let f = Fields::of(body)?;
        Ok(TargetRequest {
            inbound_url: f.string("inboundUrl")?,
            inbound_token: f.string("inboundToken")?,
            inbound_timeout_ms: f.get("inboundTimeoutMs").cloned(),
        })
    }
}

/// Validates a target change: both fields, the URL policy, the timeout range.
pub fn target_from(req: TargetRequest, allow: &InboundUrlAllow) -> Result<InboundTarget, ApiError> {
    let (Some(url), Some(token)) = (
        req.inbound_url
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty()),
        req.inbound_token.filter(|t| !t.trim().is_empty()),
    ) else {
        return Err(ApiError::bad_request(
            "inboundUrl and inboundToken are required",
        ));
    };
    allow.check(&url).map_err(|e| {
        ApiError::bad_request(format!("inboundUrl not allowed: {e}"))
            .with_code("INBOUND_URL_NOT_ALLOWED")
    })?;
    Ok(InboundTarget {
        url,
        token: SecretString::from(token.trim()),
        timeout_ms: timeout_ms(req.inbound_timeout_ms.as_ref())?,
    })
}

/// `inboundTimeoutMs`: absent/null → 15000; an integer (or numeric string) in 1..=300000.
fn timeout_ms(v: Option<&Value>) -> Result<u64, ApiError> {
    let parsed = match v {
        None | Some(Value::Null) => return Ok(DEFAULT_INBOUND_TIMEOUT_MS),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        Some(_) => None,
    };
    parsed
        .filter(|ms| (1..=MAX_INBOUND_TIMEOUT_MS).contains(ms))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "inboundTimeoutMs must be an integer from 1 to {MAX_INBOUND_TIMEOUT_MS}"
            ))
        })
}

pub async fn set(
    tenant: TenantAuth,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> Result<HttpResponse, ApiError> {
    let req = TargetRequest::from_json(&body)?;
    let target = target_from(req, &state.config.inbound_url_allow)?;
    let (url, timeout_ms) = (target.url.clone(), target.timeout_ms);
    state
        .registry
        .send(ChangeInboundTarget {
            tenant_id: tenant.tenant_id.clone(),
            target,
        })
        .await??;
    // Deliveries waiting for retry go to the new target at once.
    state.forwarders.do_send(Wake {
        tenant_id: tenant.tenant_id.clone(),
        now: true,
    });
    log::info!("event=inbound_target_changed tenant={}", tenant.tenant_id);
    Ok(HttpResponse::Ok().json(json!({
        "ok": true,
        "inboundUrl": url,
        "inboundTimeoutMs": timeout_ms,
    })))
}
