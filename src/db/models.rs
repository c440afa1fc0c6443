//! Row structs (what is read) and insert forms (what is written), one pair per table in use,
//! and the conversions that turn rows into domain types: nothing above `db` sees a row's words.

use std::sync::Arc;

use diesel::prelude::*;

use super::schema::*;
use secrecy::SecretString;

use crate::domain::{
    Binding, BindingStatus, Channel, InboundTarget, RouteKey, Scope, SessionRoute, Tenant,
    TenantStatus,
};
use crate::error::StoreError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tenants)]
pub struct TenantRow {
    pub id: String,
    pub name: String,
    pub status: String,
    pub inbound_url: Option<String>,
    pub inbound_token: Option<String>,
    pub inbound_timeout_ms: Option<i64>,
    pub inbound_target_source: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = tenants)]
pub struct TenantInsertForm<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub status: &'a str,
    pub inbound_url: Option<&'a str>,
    pub inbound_token: Option<&'a str>,
    pub inbound_timeout_ms: Option<i64>,
    pub inbound_target_source: Option<&'a str>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tenant_api_keys)]
pub struct ApiKeyRow {
    pub key_id: String,
    pub tenant_id: String,
    pub key_hash: String,
    pub label: Option<String>,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = tenant_api_keys)]
pub struct ApiKeyInsertForm<'a> {
    pub key_id: &'a str,
    pub tenant_id: &'a str,
    pub key_hash: &'a str,
    pub label: Option<&'a str>,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = bindings)]
pub struct BindingRow {
    pub binding_id: String,
    pub tenant_id: String,
    pub channel: String,
    pub scope: String,
    pub route_key: String,
    pub session_key: String,
    pub status: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = session_routes)]
pub struct SessionRouteRow {
    pub tenant_id: String,
    pub channel: String,
    pub session_key: String,
    pub binding_id: String,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pairing_tokens)]
pub struct PairingTokenRow {
    pub token_hash: String,
    pub tenant_id: String,
    pub channel: String,
    pub session_key: Option<String>,
    pub route_key: Option<String>,
    pub pending_binding_id: Option<String>,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub consumed_at_ms: Option<i64>,
    pub binding_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pairing_codes)]
pub struct PairingCodeRow {
    pub code_hash: String,
    pub channel: String,
    pub route_key: String,
    pub scope: String,
    pub expires_at_ms: Option<i64>,
    pub created_at_ms: i64,
    pub claimed_at_ms: Option<i64>,
    pub claimed_by_tenant: Option<String>,
    pub binding_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: i32,
    pub at_ms: i64,
    pub tenant_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub detail: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditInsertForm<'a> {
    pub at_ms: i64,
    pub tenant_id: Option<&'a str>,
    pub actor: &'a str,
    pub action: &'a str,
    pub detail: Option<String>,
}

/// A row whose words or keys no longer parse (written by hand, or by a newer version).
fn unreadable(what: &str, id: &str, field: &str) -> StoreError {
    StoreError::Unavailable(format!("{what} {id}: unreadable {field}"))
}

impl BindingRow {
    /// The domain form. Fails on a channel, scope, route key or status this version cannot read.
    pub fn into_domain(self) -> Result<Binding, StoreError> {
        let id = &self.binding_id;
        Ok(Binding {
            channel: Channel::parse(&self.channel)
                .ok_or_else(|| unreadable("binding", id, "channel"))?,
            scope: Scope::parse(&self.scope).ok_or_else(|| unreadable("binding", id, "scope"))?,
            route_key: RouteKey::parse(&self.route_key)
                .map_err(|_| unreadable("binding", id, "routeKey"))?,
            status: BindingStatus::parse(&self.status)
                .ok_or_else(|| unreadable("binding", id, "status"))?,
            tenant_id: Arc::from(self.tenant_id.as_str()),
            session_key: self.session_key,
            created_at_ms: self.created_at_ms,
            binding_id: self.binding_id,
        })
    }

    /// The row that stores `b` (created and updated at its creation time).
    pub fn from_domain(b: &Binding) -> BindingRow {
        BindingRow {
            binding_id: b.binding_id.clone(),
            tenant_id: b.tenant_id.to_string(),
            channel: b.channel.as_str().to_owned(),
            scope: b.scope.as_str().to_owned(),
            route_key: b.route_key.to_string(),
            session_key: b.session_key.clone(),
            status: b.status.as_str().to_owned(),
            created_at_ms: b.created_at_ms,
            updated_at_ms: b.created_at_ms,
        }
    }
}

impl SessionRouteRow {
    pub fn into_domain(self) -> Result<SessionRoute, StoreError> {
        Ok(SessionRoute {
            channel: Channel::parse(&self.channel)
                .ok_or_else(|| unreadable("session route", &self.session_key, "channel"))?,
            tenant_id: Arc::from(self.tenant_id.as_str()),
            session_key: self.session_key,
            binding_id: self.binding_id,
        })
    }
}

/// A stored target without a timeout gets the contract's default.
const DEFAULT_INBOUND_TIMEOUT_MS: i64 = 15_000;

impl TenantRow {
    /// The tenant's status; an unknown word reads as disabled (fail closed).
    pub fn status(&self) -> TenantStatus {
        TenantStatus::parse(&self.status).unwrap_or(TenantStatus::Disabled)
    }

    pub fn into_domain(self) -> Tenant {
        let status = self.status();
        let inbound = match (self.inbound_url, self.inbound_token) {
            (Some(url), Some(token)) => Some(InboundTarget {
                url,
                token: SecretString::from(token),
                timeout_ms: self
                    .inbound_timeout_ms
                    .unwrap_or(DEFAULT_INBOUND_TIMEOUT_MS)
                    .max(1) as u64,
            }),
            _ => None,
        };
        Tenant {
            id: self.id,
            name: self.name,
            status,
            inbound,
        }
    }
}
