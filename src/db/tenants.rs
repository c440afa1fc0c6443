//! Tenant rows, their API keys and inbound targets.

use diesel::prelude::*;
use secrecy::ExposeSecret;
use serde_json::json;

use super::audit::{self, Actor};
use super::models::{ApiKeyInsertForm, TenantInsertForm, TenantRow};
use super::op::WriteOp;
use super::schema::{tenant_api_keys, tenants};
use crate::config::TenantSeed;
use crate::domain::TenantStatus;
use crate::domain::secrets::{hash_secret, new_id};
use crate::error::StoreError;

/// Label of keys that come from the environment; they follow the environment across restarts.
pub const SEED_LABEL: &str = "seed";

/// Upserts the tenants of `MUX_TENANTS_JSON` / `MUX_API_KEY` at start.
///
/// A seeded inbound target fills or replaces an earlier *seeded* one, never one a tenant set
/// through the API. A seeded key is added if new; a tenant's older seeded keys that the
/// environment no longer names are revoked (the operator rotated the env key). A key an operator
/// revoked stays revoked even if the environment still names it.
pub struct SeedTenants {
    pub seeds: Vec<TenantSeed>,
    pub now_ms: i64,
}

impl WriteOp for SeedTenants {
    type Output = ();

    fn apply(self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        for seed in &self.seeds {
            seed_one(conn, seed, self.now_ms)?;
        }
        Ok(())
    }
}

fn seed_one(conn: &mut SqliteConnection, seed: &TenantSeed, now: i64) -> Result<(), StoreError> {
    let existing: Option<TenantRow> = tenants::table
        .find(&seed.id)
        .select(TenantRow::as_select())
        .first(conn)
        .optional()?;
    let inbound = seed.inbound.as_ref();
    match existing {
        None => {
            diesel::insert_into(tenants::table)
                .values(TenantInsertForm {
                    id: &seed.id,
                    name: &seed.name,
                    status: TenantStatus::Active.as_str(),
                    inbound_url: inbound.map(|t| t.url.as_str()),
                    inbound_token: inbound.map(|t| t.token.expose_secret()),
                    inbound_timeout_ms: inbound.map(|t| t.timeout_ms as i64),
                    inbound_target_source: inbound.map(|_| "seed"),
                    created_at_ms: now,
                    updated_at_ms: now,
                })
                .execute(conn)?;
            audit::record(
                conn,
                now,
                Some(&seed.id),
                Actor::System,
                "tenant_seeded",
                json!({}),
            )?;
        }
        Some(row) => {
            diesel::update(tenants::table.find(&seed.id))
                .set((tenants::name.eq(&seed.name), tenants::updated_at_ms.eq(now)))
                .execute(conn)?;
            let runtime_target = row.inbound_target_source.as_deref() == Some("runtime");
            if let (Some(t), false) = (inbound, runtime_target) {
                diesel::update(tenants::table.find(&seed.id))
                    .set((
                        tenants::inbound_url.eq(&t.url),
                        tenants::inbound_token.eq(t.token.expose_secret()),
                        tenants::inbound_timeout_ms.eq(t.timeout_ms as i64),
                        tenants::inbound_target_source.eq("seed"),
                    ))
                    .execute(conn)?;
            }
        }
    }
    seed_key(conn, seed, now)
}

fn seed_key(conn: &mut SqliteConnection, seed: &TenantSeed, now: i64) -> Result<(), StoreError> {
    let hash = hash_secret(seed.api_key.expose_secret());
    let owner: Option<String> = tenant_api_keys::table
        .filter(tenant_api_keys::key_hash.eq(&hash))
        .select(tenant_api_keys::tenant_id)
        .first(conn)
        .optional()?;
    match owner {
        Some(t) if t != seed.id => {
            return Err(StoreError::Conflict(
                "a seeded apiKey is already a key of another tenant",
            ));
        }
        Some(_) => {}
        None => {
            let key_id = new_id("key_");
            diesel::insert_into(tenant_api_keys::table)
                .values(ApiKeyInsertForm {
                    key_id: &key_id,
                    tenant_id: &seed.id,
                    key_hash: &hash,
                    label: Some(SEED_LABEL),
                    created_at_ms: now,
                })
                .execute(conn)?;
            audit::record(
                conn,
                now,
                Some(&seed.id),
                Actor::System,
                "api_key_seeded",
                json!({"keyId": key_id}),
            )?;
        }
    }
    diesel::update(
        tenant_api_keys::table
            .filter(tenant_api_keys::tenant_id.eq(&seed.id))
            .filter(tenant_api_keys::label.eq(SEED_LABEL))
            .filter(tenant_api_keys::key_hash.ne(&hash))
            .filter(tenant_api_keys::revoked_at_ms.is_null()),
    )
    .set(tenant_api_keys::revoked_at_ms.eq(now))
    .execute(conn)?;
    Ok(())
}

/// A tenant's inbound target as set through `POST /v1/tenant/inbound-target`.
pub struct SetInboundTarget {
    pub tenant_id: String,
    pub url: String,
    pub token: secrecy::SecretString,
    pub timeout_ms: u64,
    pub now_ms: i64,
}

impl WriteOp for SetInboundTarget {
    type Output = ();

    fn apply(self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        let changed = diesel::update(tenants::table.find(&self.tenant_id))
            .set((
                tenants::inbound_url.eq(&self.url),
                tenants::inbound_token.eq(self.token.expose_secret()),
                tenants::inbound_timeout_ms.eq(self.timeout_ms as i64),
                tenants::inbound_target_source.eq("runtime"),
                tenants::updated_at_ms.eq(self.now_ms),
            ))
            .execute(conn)?;
        if changed == 0 {
            return Err(StoreError::NotFound("tenant not found"));
        }
        audit::record(
            conn,
            self.now_ms,
            Some(&self.tenant_id),
            Actor::Tenant,
            "inbound_target_changed",
            json!({"inboundUrl": self.url, "inboundTimeoutMs": self.timeout_ms}),
        )
    }
}

crate::write_message!(SeedTenants, SetInboundTarget);
