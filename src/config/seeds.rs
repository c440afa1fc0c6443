//! Tenants and pairing codes seeded from the environment (`MUX_TENANTS_JSON`, the legacy
//! `MUX_API_KEY` + `MUX_OPENCLAW_INBOUND_*`, `MUX_PAIRING_CODES_JSON`).

use std::collections::HashSet;

use secrecy::SecretString;
use serde::Deserialize;

use super::env::{ConfigError, Env};
use crate::domain::{Channel, RouteKey, Scope, url_policy::InboundUrlAllow};

/// The tenant `MUX_API_KEY` seeds when `MUX_TENANTS_JSON` is unset (compat).
pub const LEGACY_TENANT_ID: &str = "tenant-default";
/// Default inbound timeout (contract §4.2).
pub const DEFAULT_INBOUND_TIMEOUT_MS: u64 = 15_000;
/// Longest inbound timeout a tenant may ask for: longer would pin a forwarder slot for minutes.
pub const MAX_INBOUND_TIMEOUT_MS: u64 = 300_000;

/// A tenant to upsert at start.
#[derive(Debug, Clone)]
pub struct TenantSeed {
    pub id: String,
    pub name: String,
    pub api_key: SecretString,
    pub inbound: Option<InboundTargetSeed>,
}

/// A seeded inbound target; it never overwrites one a tenant set at runtime.
#[derive(Debug, Clone)]
pub struct InboundTargetSeed {
    pub url: String,
    pub token: SecretString,
    pub timeout_ms: u64,
}

/// A pairing code an operator seeded for `POST /v1/pairings/claim`.
#[derive(Debug, Clone)]
pub struct PairingCodeSeed {
    pub code: SecretString,
    pub channel: Channel,
    pub route_key: RouteKey,
    pub scope: Scope,
    pub expires_at_ms: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TenantItem {
    id: String,
    name: Option<String>,
    api_key: String,
    inbound_url: Option<String>,
    inbound_token: Option<String>,
    inbound_timeout_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CodeItem {
    code: String,
    channel: String,
    route_key: String,
    scope: String,
    expires_at_ms: Option<i64>,
}

/// Whether a tenant id is usable in paths, logs and audit rows.
pub fn valid_tenant_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

pub(super) fn tenants(env: &Env, allow: &InboundUrlAllow) -> Result<Vec<TenantSeed>, ConfigError> {
    if let Some(raw) = env.get("MUX_TENANTS_JSON") {
        return tenants_from_json(raw, allow);
    }
    let Some(key) = env.get("MUX_API_KEY") else {
        return Ok(Vec::new());
    };
    let inbound = inbound_target(
        "MUX_OPENCLAW_INBOUND_URL",
        env.get("MUX_OPENCLAW_INBOUND_URL"),
        env.get("MUX_OPENCLAW_INBOUND_TOKEN"),
        Some(env.u64_min(
            "MUX_OPENCLAW_INBOUND_TIMEOUT_MS",
            DEFAULT_INBOUND_TIMEOUT_MS,
            1,
        )?),
        allow,
    )?;
    Ok(vec![TenantSeed {
        id: LEGACY_TENANT_ID.to_owned(),
        name: LEGACY_TENANT_ID.to_owned(),
        api_key: SecretString::from(key),
        inbound,
    }])
}

fn tenants_from_json(raw: &str, allow: &InboundUrlAllow) -> Result<Vec<TenantSeed>, ConfigError> {
    const VAR: &str = "MUX_TENANTS_JSON";
    let items: Vec<TenantItem> = serde_json::from_str(raw)
        .map_err(|e| ConfigError::new(VAR, format!("not a JSON array of tenants ({e})")))?;
    let mut ids = HashSet::new();
    let mut keys = HashSet::new();
    let mut seeds = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let id = item.id.trim().to_owned();
        if !valid_tenant_id(&id) {
            return Err(ConfigError::new(
                VAR,
                format!("item {i}: id must be 1-128 characters of A-Z a-z 0-9 - _ . :"),
            ));
        }
        if !ids.insert(id.clone()) {
            return Err(ConfigError::new(VAR, format!("duplicate tenant id {id}")));
        }
        let key = item.api_key.trim().to_owned();
        if key.is_empty() {
            return Err(ConfigError::new(
                VAR,
                format!("tenant {id}: apiKey required"),
            ));
        }
        if !keys.insert(key.clone()) {
            return Err(ConfigError::new(
                VAR,
                format!("tenant {id}: apiKey is already used by another tenant"),
            ));
        }
        let inbound = inbound_target(
            VAR,
            item.inbound_url.as_deref(),
            item.inbound_token.as_deref(),
            item.inbound_timeout_ms,
            allow,
        )
        .map_err(|e| ConfigError::new(VAR, format!("tenant {id}: {}", e.reason)))?;
        seeds.push(TenantSeed {
            name: item
                .name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| id.clone()),
            id,
            api_key: SecretString::from(key),
            inbound,
        });
    }
    Ok(seeds)
}

fn inbound_target(
    var: &str,
    url: Option<&str>,
    token: Option<&str>,
    timeout_ms: Option<u64>,
    allow: &InboundUrlAllow,
) -> Result<Option<InboundTargetSeed>, ConfigError> {
    let (url, token) = match (url.map(str::trim), token.map(str::trim)) {
        (None | Some(""), None | Some("")) => return Ok(None),
        (Some(u), Some(t)) if !u.is_empty() && !t.is_empty() => (u, t),
        _ => {
            return Err(ConfigError::new(
                var,
                "inbound URL and inbound token must be set together",
            ));
        }
    };
    allow
        .check(url)
        .map_err(|e| ConfigError::new(var, format!("inbound URL refused: {e}")))?;
    let timeout_ms = timeout_ms.unwrap_or(DEFAULT_INBOUND_TIMEOUT_MS);
    if timeout_ms == 0 || timeout_ms > MAX_INBOUND_TIMEOUT_MS {
        return Err(ConfigError::new(
            var,
            format!("inbound timeout must be 1..={MAX_INBOUND_TIMEOUT_MS} ms"),
        ));
    }
    Ok(Some(InboundTargetSeed {
        url: url.to_owned(),
        token: SecretString::from(token),
        timeout_ms,
    }))
}

pub(super) fn pairing_codes(env: &Env) -> Result<Vec<PairingCodeSeed>, ConfigError> {
    const VAR: &str = "MUX_PAIRING_CODES_JSON";
    let Some(raw) = env.get(VAR) else {
        return Ok(Vec::new());
    };
    let items: Vec<CodeItem> = serde_json::from_str(raw)
        .map_err(|e| ConfigError::new(VAR, format!("not a JSON array of codes ({e})")))?;
    let mut seen = HashSet::new();
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let bad = |why: &str| ConfigError::new(VAR, format!("item {i}: {why}"));
            let code = item.code.trim();
            if code.is_empty() {
                return Err(bad("code required"));
            }
            if !seen.insert(code.to_owned()) {
                return Err(bad("duplicate code"));
            }
            let channel = Channel::parse(&item.channel).ok_or_else(|| bad("unknown channel"))?;
            let route_key = RouteKey::parse(&item.route_key).map_err(|e| bad(&e.to_string()))?;
            if route_key.channel() != channel {
                return Err(bad("routeKey is of another channel"));
            }
            let scope = Scope::parse(&item.scope).ok_or_else(|| bad("unknown scope"))?;
            Ok(PairingCodeSeed {
                code: SecretString::from(code),
                channel,
                route_key,
                scope,
                expires_at_ms: item.expires_at_ms,
            })
        })
        .collect()
}
