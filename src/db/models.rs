//! Row structs (what is read) and insert forms (what is written), one pair per table in use.

use diesel::prelude::*;

use super::schema::*;

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
