//! `/v1/pairings/*` (contract §3): issue tokens, list, claim codes, unbind.

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::AppState;
use super::body::ApiJson;
use super::error::ApiError;
use super::fields::Fields;
use crate::actors::registry::{
    ClaimCode, IssuePairingToken, ListBindings, TenantAuth, UnbindBinding,
};
use crate::config::PairingConfig;
use crate::domain::pairing_token::{clamp_ttl, parse_ttl};
use crate::domain::{Channel, RouteKey};
use crate::error::StoreError;
use crate::metrics::PairingOutcome;

/// Longest session key accepted; OpenClaw's keys are far shorter.
pub const MAX_SESSION_KEY_LEN: usize = 512;

pub struct TokenRequest {
    channel: Option<String>,
    session_key: Option<String>,
    route_key: Option<String>,
    ttl_sec: Option<Value>,
}

impl TokenRequest {
    /// The body's fields, each of its JSON type (`channel must be a string`); `ttlSec` is
    /// checked by [`token_spec`] (a number or a numeric string).
    pub fn from_json(body: &Value) -> Result<TokenRequest, ApiError> {
        let f = Fields::of(body)?;
        Ok(TokenRequest {
            channel: f.string("channel")?,
            session_key: f.string("sessionKey")?,
            route_key: f.string("routeKey")?,
            ttl_sec: f.get("ttlSec").cloned(),
        })
    }
}

/// A validated token request.
#[derive(Debug, PartialEq, Eq)]
pub struct TokenSpec {
    pub channel: Channel,
    pub session_key: Option<String>,
    pub dm_route: Option<RouteKey>,
    pub ttl_sec: u64,
}

/// Validation in the contract's order with its messages.
pub fn token_spec(req: TokenRequest, cfg: &PairingConfig) -> Result<TokenSpec, ApiError> {
    let channel =
        non_blank(req.channel).ok_or_else(|| ApiError::bad_request("channel required"))?;
    let channel = Channel::parse(&channel)
        .ok_or_else(|| ApiError::bad_request("unsupported channel for token pairing"))?;
    let requested =
        parse_ttl(req.ttl_sec.as_ref()).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let ttl_sec = clamp_ttl(requested, cfg.token_ttl_sec, cfg.token_max_ttl_sec);
    let session_key = session_key(req.session_key)?;
    let dm_route = match (channel, non_blank(req.route_key)) {
        (Channel::Discord, Some(raw)) => match RouteKey::parse(&raw) {
            Ok(route) if route.is_discord_dm() => Some(route),
            _ => {
                return Err(ApiError::bad_request(
                    "discord token pairing currently supports dm routeKey only",
                ));
            }
        },
        // Telegram and WhatsApp chats are bound where the token is posted; a routeKey is moot.
        _ => None,
    };
    Ok(TokenSpec {
        channel,
        session_key,
        dm_route,
        ttl_sec,
    })
}

/// An optional session key: blank → none; too long → 400.
pub fn session_key(raw: Option<String>) -> Result<Option<String>, ApiError> {
    match non_blank(raw) {
        Some(k) if k.len() > MAX_SESSION_KEY_LEN => Err(ApiError::bad_request(format!(
            "sessionKey longer than {MAX_SESSION_KEY_LEN} bytes"
        ))),
        other => Ok(other),
    }
}

fn non_blank(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

pub async fn create_token(
    tenant: TenantAuth,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> Result<HttpResponse, ApiError> {
    let spec = token_spec(TokenRequest::from_json(&body)?, &state.config.pairing)?;
    let channel = spec.channel;
    let issued = state
        .registry
        .send(IssuePairingToken {
            tenant_id: tenant.tenant_id.clone(),
            channel,
            session_key: spec.session_key,
            dm_route: spec.dm_route,
            ttl_sec: spec.ttl_sec,
        })
        .await??;
    state.metrics.pairing(PairingOutcome::TokenIssued);
    log::info!(
        "event=pairing_token_issued tenant={} channel={channel}",
        tenant.tenant_id
    );
    let is_telegram = channel == Channel::Telegram;
    let start_command = is_telegram.then(|| format!("/start {}", issued.token));
    let deep_link = match (&state.config.telegram.bot_username, is_telegram) {
        (Some(bot), true) => Some(format!("https://t.me/{bot}?start={}", issued.token)),
        _ => None,
    };
    Ok(HttpResponse::Ok().json(json!({
        "ok": true,
        "channel": channel,
        "token": issued.token,
        "expiresAtMs": issued.expires_at_ms,
        "startCommand": start_command,
        "deepLink": deep_link,
    })))
}

pub async fn list(
    tenant: TenantAuth,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let bindings = state
        .registry
        .send(ListBindings {
            tenant_id: tenant.tenant_id,
        })
        .await?;
    let items: Vec<Value> = bindings
        .iter()
        .map(|b| {
            json!({
                "bindingId": b.binding_id,
                "channel": b.channel,
                "scope": b.scope,
                "routeKey": b.route_key,
                "sessionKey": b.session_key,
                "createdAtMs": b.created_at_ms,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

pub async fn claim(
    tenant: TenantAuth,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> Result<HttpResponse, ApiError> {
    let f = Fields::of(&body)?;
    let code =
        non_blank(f.string("code")?).ok_or_else(|| ApiError::bad_request("code required"))?;
    let session_key = session_key(f.string("sessionKey")?)?;
    let claimed = state
        .registry
        .send(ClaimCode {
            tenant_id: tenant.tenant_id.clone(),
            code: code.trim().to_owned(),
            session_key: session_key.clone(),
        })
        .await?;
    match &claimed {
        Ok(_) => state.metrics.pairing(PairingOutcome::CodeClaimed),
        Err(StoreError::NotFound(_) | StoreError::Conflict(_)) => {
            state.metrics.pairing(PairingOutcome::CodeRejected)
        }
        Err(StoreError::Unavailable(_)) => {}
    }
    let binding = claimed?.binding;
    log::info!(
        "event=pairing_code_claimed tenant={} binding={}",
        tenant.tenant_id,
        binding.binding_id
    );
    let mut body = json!({
        "bindingId": binding.binding_id,
        "channel": binding.channel,
        "scope": binding.scope,
        "routeKey": binding.route_key,
    });
    if let Some(k) = session_key {
        body["sessionKey"] = Value::String(k);
    }
    Ok(HttpResponse::Ok().json(body))
}

pub async fn unbind(
    tenant: TenantAuth,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> Result<HttpResponse, ApiError> {
    let f = Fields::of(&body)?;
    let binding_id = non_blank(f.string("bindingId")?)
        .ok_or_else(|| ApiError::bad_request("bindingId required"))?;
    state
        .registry
        .send(UnbindBinding {
            tenant_id: tenant.tenant_id.clone(),
            binding_id: binding_id.clone(),
        })
        .await??;
    log::info!(
        "event=binding_unbound tenant={} binding={binding_id}",
        tenant.tenant_id
    );
    Ok(HttpResponse::Ok().json(json!({"ok": true})))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::api::body;

    fn cfg() -> PairingConfig {
        PairingConfig {
            token_ttl_sec: 900,
            token_max_ttl_sec: 3600,
            success_text: String::new(),
            invalid_text: String::new(),
            unpaired_hint_text: String::new(),
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|f| json!(f)),
            ".{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::hash_map(".{0,4}", inner, 0..3)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn token_validation_answers_ok_or_a_400_for_any_input(
            channel in proptest::option::of(prop_oneof![
                Just("telegram".to_owned()), Just("discord".to_owned()), ".{0,10}".prop_map(String::from)]),
            ttl in proptest::option::of(json_value()),
            route in proptest::option::of(".{0,40}"),
            session in proptest::option::of(".{0,600}"),
        ) {
            let req = TokenRequest { channel, session_key: session, route_key: route, ttl_sec: ttl };
            match token_spec(req, &cfg()) {
                Ok(spec) => prop_assert!((1..=3600).contains(&spec.ttl_sec)),
                Err(e) => prop_assert_eq!(e.status.as_u16(), 400),
            }
        }

        #[test]
        fn any_body_bytes_decode_or_give_a_400(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let parsed = body::parse::<Value>(&bytes).and_then(|v| TokenRequest::from_json(&v));
            if let Err(e) = parsed {
                prop_assert_eq!(e.status.as_u16(), 400);
            }
        }
    }

    #[test]
    fn a_token_request_names_the_first_problem() {
        let req = |v: Value| -> TokenRequest { TokenRequest::from_json(&v).unwrap() };
        let err = |v: Value| token_spec(req(v), &cfg()).unwrap_err().error;
        assert_eq!(err(json!({"ttlSec": "soon"})), "channel required");
        assert_eq!(
            err(json!({"channel": "Telegram"})),
            "unsupported channel for token pairing"
        );
        let spec = token_spec(
            req(json!({"channel": "discord", "routeKey": "discord:default:dm:user:9", "sessionKey": " "})),
            &cfg(),
        )
        .unwrap();
        assert_eq!(
            spec.session_key, None,
            "a blank session key is no session key"
        );
        assert!(spec.dm_route.is_some_and(|r| r.is_discord_dm()));
        let telegram =
            token_spec(req(json!({"channel": "telegram", "routeKey": "x"})), &cfg()).unwrap();
        assert_eq!(telegram.dm_route, None, "routeKey only matters for Discord");
    }
}
