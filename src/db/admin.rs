//! Operator changes (admin API, contract §7): tenants, their keys, their status, pairing codes.
//! Each op writes its audit row in the same transaction as the change.

use diesel::prelude::*;
use secrecy::ExposeSecret;
use serde_json::json;

use super::audit::{self, Actor};
use super::models::{ApiKeyInsertForm, PairingCodeRow, TenantInsertForm, TenantRow};
use super::op::WriteOp;
use super::overview::TenantOverview;
use super::schema::{pairing_codes, tenant_api_keys, tenants};
use crate::domain::{Channel, InboundTarget, RouteKey, Scope, Tenant, TenantStatus};
use crate::error::StoreError;

/// A new API key: only its hash is stored.
pub struct NewKey {
    pub key_id: String,
    pub key_hash: String,
    pub label: String,
}

/// `POST /v1/admin/tenants`: the tenant and its first key, in one transaction.
pub struct CreateTenant {
    pub id: String,
    pub name: String,
    /// Already checked against the URL policy.
    pub inbound: Option<InboundTarget>,
    pub key: NewKey,
    pub now_ms: i64,
}

impl WriteOp for CreateTenant {
    /// The tenant as the Registry keeps it, and as the create answer shows it.
    type Output = (Tenant, TenantOverview);

    fn apply(self, conn: &mut SqliteConnection) -> Result<Self::Output, StoreError> {
        let exists: i64 = tenants::table
            .filter(tenants::id.eq(&self.id))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            return Err(StoreError::Conflict("tenant already exists"));
        }
        let inbound = self.inbound.as_ref();
        diesel::insert_into(tenants::table)
            .values(TenantInsertForm {
                id: &self.id,
                name: &self.name,
                status: TenantStatus::Active.as_str(),
                inbound_url: inbound.map(|t| t.url.as_str()),
                inbound_token: inbound.map(|t| t.token.expose_secret()),
                inbound_timeout_ms: inbound.map(|t| t.timeout_ms as i64),
                // Set by the operator at runtime: a later env seed must not overwrite it.
                inbound_target_source: inbound.map(|_| "runtime"),
                created_at_ms: self.now_ms,
                updated_at_ms: self.now_ms,
            })
            .execute(conn)?;
        insert_key(conn, &self.id, &self.key, self.now_ms)?;
        audit::record(
            conn,
            self.now_ms,
            Some(&self.id),
            Actor::Admin,
            "tenant_created",
            json!({
                "name": self.name,
                "keyId": self.key.key_id,
                "inboundUrl": inbound.map(|t| t.url.as_str()),
            }),
        )?;
        let row: TenantRow = tenants::table
            .find(&self.id)
            .select(TenantRow::as_select())
            .first(conn)?;
        let overview = TenantOverview::from_row(row.clone());
        Ok((row.into_domain(), overview))
    }
}

fn insert_key(
    conn: &mut SqliteConnection,
    tenant_id: &str,
    key: &NewKey,
    now_ms: i64,
) -> Result<(), StoreError> {
    diesel::insert_into(tenant_api_keys::table)
        .values(ApiKeyInsertForm {
            key_id: &key.key_id,
            tenant_id,
            key_hash: &key.key_hash,
            label: Some(&key.label),
            created_at_ms: now_ms,
        })
        .execute(conn)?;
    Ok(())
}

fn require_tenant(conn: &mut SqliteConnection, tenant_id: &str) -> Result<(), StoreError> {
    let found: i64 = tenants::table
        .filter(tenants::id.eq(tenant_id))
        .count()
        .get_result(conn)?;
    if found == 0 {
        return Err(StoreError::NotFound("tenant not found"));
    }
    Ok(())
}

/// `POST /v1/admin/tenants/{id}/keys`: one more active key (rotation step one).
pub struct AddApiKey {
    pub tenant_id: String,
    pub key: NewKey,
    pub now_ms: i64,
}

impl WriteOp for AddApiKey {
    type Output = ();

    fn apply(self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        require_tenant(conn, &self.tenant_id)?;
        insert_key(conn, &self.tenant_id, &self.key, self.now_ms)?;
        audit::record(
            conn,
            self.now_ms,
            Some(&self.tenant_id),
            Actor::Admin,
            "api_key_added",
            json!({"keyId": self.key.key_id, "label": self.key.label}),
        )
    }
}

/// `DELETE /v1/admin/tenants/{id}/keys/{keyId}`. Revoking a revoked key is a no-op success.
pub struct RevokeApiKey {
    pub tenant_id: String,
    pub key_id: String,
    pub now_ms: i64,
}

impl WriteOp for RevokeApiKey {
    /// The key's hash, so the Registry can forget it.
    type Output = String;

    fn apply(self, conn: &mut SqliteConnection) -> Result<String, StoreError> {
        let key = tenant_api_keys::table
            .filter(tenant_api_keys::key_id.eq(&self.key_id))
            .filter(tenant_api_keys::tenant_id.eq(&self.tenant_id))
            .select((tenant_api_keys::key_hash, tenant_api_keys::revoked_at_ms))
            .first::<(String, Option<i64>)>(conn)
            .optional()?;
        let Some((key_hash, revoked)) = key else {
            return Err(StoreError::NotFound("api key not found"));
        };
        if revoked.is_none() {
            diesel::update(tenant_api_keys::table.find(&self.key_id))
                .set(tenant_api_keys::revoked_at_ms.eq(self.now_ms))
                .execute(conn)?;
            audit::record(
                conn,
                self.now_ms,
                Some(&self.tenant_id),
                Actor::Admin,
                "api_key_revoked",
                json!({"keyId": self.key_id}),
            )?;
        }
        Ok(key_hash)
    }
}

/// `POST /v1/admin/tenants/{id}/disable|enable`.
pub struct SetTenantStatus {
    pub tenant_id: String,
    pub enabled: bool,
    pub now_ms: i64,
}

impl WriteOp for SetTenantStatus {
    type Output = ();

    fn apply(self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        let status = if self.enabled {
            TenantStatus::Active
        } else {
            TenantStatus::Disabled
        };
        let changed = diesel::update(tenants::table.find(&self.tenant_id))
            .set((
                tenants::status.eq(status.as_str()),
                tenants::updated_at_ms.eq(self.now_ms),
            ))
            .execute(conn)?;
        if changed == 0 {
            return Err(StoreError::NotFound("tenant not found"));
        }
        let action = if self.enabled {
            "tenant_enabled"
        } else {
            "tenant_disabled"
        };
        audit::record(
            conn,
            self.now_ms,
            Some(&self.tenant_id),
            Actor::Admin,
            action,
            json!({}),
        )
    }
}

/// `POST /v1/admin/pairing-codes`: a code a tenant can claim with `POST /v1/pairings/claim`.
pub struct InsertPairingCode {
    /// Only the hash is stored; the clear code is only in the admin's answer.
    pub code_hash: String,
    pub channel: Channel,
    pub route_key: RouteKey,
    pub scope: Scope,
    /// None: the code does not expire.
    pub expires_at_ms: Option<i64>,
    pub now_ms: i64,
}

impl WriteOp for InsertPairingCode {
    type Output = ();

    fn apply(self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        let row = PairingCodeRow {
            code_hash: self.code_hash,
            channel: self.channel.as_str().to_owned(),
            route_key: self.route_key.to_string(),
            scope: self.scope.as_str().to_owned(),
            expires_at_ms: self.expires_at_ms,
            created_at_ms: self.now_ms,
            claimed_at_ms: None,
            claimed_by_tenant: None,
            binding_id: None,
        };
        diesel::insert_into(pairing_codes::table)
            .values(&row)
            .execute(conn)
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict("pairing code already exists"),
                other => other,
            })?;
        audit::record(
            conn,
            row.created_at_ms,
            None,
            Actor::Admin,
            "pairing_code_seeded",
            json!({
                "channel": row.channel,
                "routeKey": row.route_key,
                "scope": row.scope,
                "expiresAtMs": row.expires_at_ms,
            }),
        )
    }
}

crate::write_message!(
    CreateTenant,
    AddApiKey,
    RevokeApiKey,
    SetTenantStatus,
    InsertPairingCode
);
