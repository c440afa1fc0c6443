//! `/v1/admin/tenants*`: create, list, keys, disable/enable (contract §7).

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::actors::forwarder::Wake;
use crate::actors::registry::{AddKey, CreateTenant, InboundTarget, RevokeKey, SetTenantEnabled};
use crate::api::AppState;
use crate::api::body::ApiJson;
use crate::api::error::ApiError;
use crate::api::inbound_target::{TargetRequest, target_from};
use crate::config::seeds::valid_tenant_id;
use crate::db::overview::{self, TenantOverview};
use crate::db::tenants::SEED_LABEL;
use crate::domain::url_policy::InboundUrlAllow;

/// Longest tenant name and key label accepted; they are shown to operators, not parsed.
const MAX_NAME_LEN: usize = 200;
const MAX_LABEL_LEN: usize = 64;
/// Label of keys minted through the admin API when none is given.
pub const DEFAULT_LABEL: &str = "admin";

/// A validated `POST /v1/admin/tenants` body.
pub fn tenant_spec(body: Value, allow: &InboundUrlAllow) -> Result<CreateTenant, ApiError> {
    let Value::Object(map) = &body else {
        return Err(ApiError::bad_request("body must be a JSON object"));
    };
    let id = optional_string(map.get("id"), "id")?
        .ok_or_else(|| ApiError::bad_request("id required"))?;
    if !valid_tenant_id(&id) {
        return Err(ApiError::bad_request(
            "id must be 1 to 128 characters of A-Z a-z 0-9 - _ . :",
        ));
    }
    let name = optional_string(map.get("name"), "name")?.unwrap_or_else(|| id.clone());
    if name.len() > MAX_NAME_LEN {
        return Err(ApiError::bad_request(format!(
            "name longer than {MAX_NAME_LEN} bytes"
        )));
    }
    let wants_target = ["inboundUrl", "inboundToken"]
        .iter()
        .any(|k| map.get(*k).is_some_and(|v| !v.is_null()));
    let inbound: Option<InboundTarget> = if wants_target {
        Some(target_from(TargetRequest::from_json(&body)?, allow)?)
    } else {
        None
    };
    let label = key_label(map.get("keyLabel"))?;
    Ok(CreateTenant {
        id,
        name,
        inbound,
        label,
    })
}

/// A trimmed, non-blank string field, or None when absent/null/blank.
fn optional_string(v: Option<&Value>, field: &str) -> Result<Option<String>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Some(_) => Err(ApiError::bad_request(format!("{field} must be a string"))),
    }
}

/// A key label: short, and never `seed` (seeded keys are revoked when the env changes).
fn key_label(v: Option<&Value>) -> Result<String, ApiError> {
    let label = optional_string(v, "label")?.unwrap_or_else(|| DEFAULT_LABEL.to_owned());
    if label.len() > MAX_LABEL_LEN {
        return Err(ApiError::bad_request(format!(
            "label longer than {MAX_LABEL_LEN} bytes"
        )));
    }
    if label == SEED_LABEL {
        return Err(ApiError::bad_request("label 'seed' is reserved"));
    }
    Ok(label)
}

pub async fn create(
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> Result<HttpResponse, ApiError> {
    let spec = tenant_spec(body, &state.config.inbound_url_allow)?;
    let (tenant, key) = state.registry.send(spec).await??;
    log::info!(
        "event=admin_tenant_created tenant={} key_id={}",
        tenant.id,
        key.key_id
    );
    Ok(HttpResponse::Created().json(json!({
        "ok": true,
        "tenant": tenant_json(tenant),
        "apiKey": key.api_key.expose_secret(),
        "keyId": key.key_id,
    })))
}

/// The tenant fields of a create answer (no counters, never the inbound token).
fn tenant_json(t: TenantOverview) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "status": t.status,
        "enabled": t.enabled,
        "inboundUrl": t.inbound_url,
        "inboundTimeoutMs": t.inbound_timeout_ms,
        "createdAtMs": t.created_at_ms,
    })
}

pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let items = crate::db::read(&state.reads, overview::tenants).await?;
    Ok(HttpResponse::Ok().json(json!({"ok": true, "items": items})))
}

pub async fn add_key(
    state: web::Data<AppState>,
    path: web::Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<HttpResponse, ApiError> {
    let tenant_id = path.into_inner();
    let label = key_label(body.get("label"))?;
    let key = state
        .registry
        .send(AddKey {
            tenant_id: tenant_id.clone(),
            label,
        })
        .await??;
    log::info!(
        "event=admin_key_added tenant={tenant_id} key_id={}",
        key.key_id
    );
    Ok(HttpResponse::Created().json(json!({
        "ok": true,
        "apiKey": key.api_key.expose_secret(),
        "keyId": key.key_id,
    })))
}

pub async fn revoke_key(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (tenant_id, key_id) = path.into_inner();
    state
        .registry
        .send(RevokeKey {
            tenant_id: tenant_id.clone(),
            key_id: key_id.clone(),
        })
        .await??;
    log::info!("event=admin_key_revoked tenant={tenant_id} key_id={key_id}");
    Ok(HttpResponse::Ok().json(json!({"ok": true})))
}

pub async fn disable(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_enabled(state, path.into_inner(), false).await
}

pub async fn enable(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_enabled(state, path.into_inner(), true).await
}

async fn set_enabled(
    state: web::Data<AppState>,
    tenant_id: String,
    enabled: bool,
) -> Result<HttpResponse, ApiError> {
    state
        .registry
        .send(SetTenantEnabled {
            tenant_id: tenant_id.clone(),
            enabled,
        })
        .await??;
    if enabled {
        // Events held while the tenant was disabled go out now, not at their next retry time.
        state.forwarders.do_send(Wake {
            tenant_id: Arc::from(tenant_id.as_str()),
            now: true,
        });
    }
    let event = if enabled {
        "admin_tenant_enabled"
    } else {
        "admin_tenant_disabled"
    };
    log::info!("event={event} tenant={tenant_id}");
    Ok(HttpResponse::Ok().json(json!({"ok": true})))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn allow() -> InboundUrlAllow {
        InboundUrlAllow::parse(None).unwrap()
    }

    fn refused(body: Value) -> String {
        match tenant_spec(body.clone(), &allow()) {
            Ok(_) => panic!("{body} should be refused"),
            Err(e) => e.error.into_owned(),
        }
    }

    #[test]
    fn a_minimal_body_names_the_tenant_after_its_id() {
        let spec = tenant_spec(json!({"id": " t-1 "}), &allow()).unwrap();
        assert_eq!((spec.id.as_str(), spec.name.as_str()), ("t-1", "t-1"));
        assert!(spec.inbound.is_none());
        assert_eq!(spec.label, DEFAULT_LABEL);
    }

    #[test]
    fn bad_bodies_get_their_own_messages() {
        assert_eq!(refused(json!({})), "id required");
        assert_eq!(refused(json!([])), "body must be a JSON object");
        assert_eq!(refused(json!({"id": 5})), "id must be a string");
        assert!(refused(json!({"id": "has space"})).starts_with("id must be"));
        assert!(refused(json!({"id": "a/b"})).starts_with("id must be"));
        assert!(refused(json!({"id": "x".repeat(129)})).starts_with("id must be"));
        assert!(refused(json!({"id": "a", "name": "n".repeat(201)})).starts_with("name longer"));
        assert_eq!(
            refused(json!({"id": "a", "inboundUrl": "http://127.0.0.1/in"})),
            "inboundUrl and inboundToken are required"
        );
        assert_eq!(
            refused(json!({"id": "a", "keyLabel": "seed"})),
            "label 'seed' is reserved"
        );
    }

    #[test]
    fn an_inbound_target_passes_the_url_policy() {
        let body =
            json!({"id": "a", "inboundUrl": "http://169.254.169.254/x", "inboundToken": "t"});
        let err = tenant_spec(body, &allow()).err().unwrap();
        assert_eq!(err.code, Some("INBOUND_URL_NOT_ALLOWED"));
        let body = json!({"id": "a", "inboundUrl": "https://claw.example/in", "inboundToken": "t",
                          "inboundTimeoutMs": 2000});
        let target = tenant_spec(body, &allow()).unwrap().inbound.unwrap();
        assert_eq!(
            (target.url.as_str(), target.timeout_ms),
            ("https://claw.example/in", 2000)
        );
    }
}
