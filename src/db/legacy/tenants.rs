//! Tenants with their keys, and bindings with their session routes: what routes messages.
//!
//! - A tenant's key stays valid before the environment seeds it again: the older service's
//!   SHA-256 hex is stored as `sha256:<hex>` (`domain::secrets::legacy_hash_secret`), labelled
//!   `seed` like every key from the environment, so the next start that seeds the same key (as
//!   BLAKE3) or another one retires it, as the older service's upsert did.
//! - Bindings keep their ids, scopes, route keys (verbatim, also forms this version cannot read
//!   yet: the Registry skips those with a warning) and statuses (`inactive` → `unbound`). A
//!   binding's session key is its latest session route's, else the one its route key derives.
//! - Two active bindings of one route (the older service allowed it): the oldest stays active,
//!   each other one is unbound, with one warning and one audit row naming both tenants.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use serde_json::json;

use super::set_aside;
use super::upgrade::Moved;
use super::words::{binding_status, derived_session_key, scope};
use crate::db::audit::{self, Actor};
use crate::db::models::{ApiKeyInsertForm, BindingRow, SessionRouteRow, TenantInsertForm};
use crate::db::schema::{bindings, session_routes, tenant_api_keys, tenants};
use crate::db::tenants::SEED_LABEL;
use crate::domain::secrets::{LEGACY_SHA256_PREFIX, new_id};
use crate::domain::{BindingStatus, TenantStatus};
use crate::error::StoreError;

#[derive(QueryableByName)]
struct LegacyTenant {
    #[diesel(sql_type = Nullable<Text>)]
    id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    api_key_hash: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    status: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    inbound_url: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    inbound_token: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    inbound_timeout_ms: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    created_at_ms: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    updated_at_ms: Option<i64>,
}

/// A lowercase 64-char hex SHA-256, as the older service wrote them.
pub(super) fn sha256_hex(raw: Option<&str>) -> Option<String> {
    let hex = raw?.trim().to_ascii_lowercase();
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("{LEGACY_SHA256_PREFIX}{hex}"))
}

/// Moves tenants and their keys; returns the ids of the tenants moved.
pub(super) fn tenants(
    c: &mut SqliteConnection,
    has: &dyn Fn(&str) -> bool,
    moved: &mut Moved,
) -> Result<HashSet<String>, StoreError> {
    let mut known = HashSet::new();
    if !has("tenants") {
        return Ok(known);
    }
    let rows: Vec<LegacyTenant> = diesel::sql_query(format!(
        "SELECT id, name, api_key_hash, status, inbound_url, inbound_token, inbound_timeout_ms, \
         created_at_ms, updated_at_ms FROM {}",
        set_aside("tenants")
    ))
    .load(c)?;
    for t in rows {
        let Some(id) = t.id.filter(|id| !id.is_empty()) else {
            moved.skip("tenants_without_id", 1);
            continue;
        };
        let created = t.created_at_ms.unwrap_or(0);
        let updated = t.updated_at_ms.unwrap_or(created);
        // The older service only wrote `active`; any other word fails closed.
        let status = match t.status.as_deref() {
            Some("active") | None => TenantStatus::Active,
            Some(_) => TenantStatus::Disabled,
        };
        // The older service upserted these from the environment at every start; as `seed`, the
        // environment keeps that power (a target set through the API afterwards is `runtime`).
        let target = t.inbound_url.is_some() && t.inbound_token.is_some();
        diesel::insert_into(tenants::table)
            .values(TenantInsertForm {
                id: &id,
                name: t.name.as_deref().unwrap_or(&id),
                status: status.as_str(),
                inbound_url: t.inbound_url.as_deref(),
                inbound_token: t.inbound_token.as_deref(),
                inbound_timeout_ms: t.inbound_timeout_ms,
                inbound_target_source: target.then_some("seed"),
                created_at_ms: created,
                updated_at_ms: updated,
            })
            .execute(c)?;
        moved.tenants += 1;
        match sha256_hex(t.api_key_hash.as_deref()) {
            Some(key_hash) => {
                diesel::insert_into(tenant_api_keys::table)
                    .values(ApiKeyInsertForm {
                        key_id: &new_id("key_"),
                        tenant_id: &id,
                        key_hash: &key_hash,
                        label: Some(SEED_LABEL),
                        created_at_ms: updated,
                    })
                    .execute(c)?;
                moved.keys += 1;
            }
            None => moved.skip("keys_not_sha256_hex", 1),
        }
        known.insert(id);
    }
    Ok(known)
}

#[derive(QueryableByName)]
struct LegacyBinding {
    #[diesel(sql_type = Nullable<Text>)]
    binding_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    tenant_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    channel: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    scope: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    route_key: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    status: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    created_at_ms: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    updated_at_ms: Option<i64>,
}

#[derive(QueryableByName)]
struct LegacyRoute {
    #[diesel(sql_type = Nullable<Text>)]
    tenant_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    channel: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    session_key: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    binding_id: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    updated_at_ms: Option<i64>,
}

/// The bindings as moved: what the token and cursor moves need to know of them.
pub(super) type MovedBindings = Vec<BindingRow>;

/// Moves bindings and session routes, resolving two-tenants-one-route conflicts.
pub(super) fn bindings(
    c: &mut SqliteConnection,
    has: &dyn Fn(&str) -> bool,
    known: &HashSet<String>,
    now_ms: i64,
    moved: &mut Moved,
) -> Result<MovedBindings, StoreError> {
    if !has("bindings") {
        return Ok(Vec::new());
    }
    let routes: Vec<LegacyRoute> = if has("session_routes") {
        diesel::sql_query(format!(
            "SELECT tenant_id, channel, session_key, binding_id, updated_at_ms FROM {} \
             ORDER BY updated_at_ms",
            set_aside("session_routes")
        ))
        .load(c)?
    } else {
        Vec::new()
    };
    // Oldest first, so the first active binding of a route is the one that stays.
    let legacy: Vec<LegacyBinding> = diesel::sql_query(format!(
        "SELECT binding_id, tenant_id, channel, scope, route_key, status, created_at_ms, \
         updated_at_ms FROM {} ORDER BY created_at_ms, rowid",
        set_aside("bindings")
    ))
    .load(c)?;
    // binding → its latest session key (the routes are read oldest first).
    let mut session_of: HashMap<(&str, &str), &str> = HashMap::new();
    for r in &routes {
        if let (Some(t), Some(b), Some(k)) = (&r.tenant_id, &r.binding_id, &r.session_key) {
            session_of.insert((t.as_str(), b.as_str()), k.as_str());
        }
    }
    let mut out = Vec::with_capacity(legacy.len());
    let mut holder: HashMap<(String, String), (String, String)> = HashMap::new();
    for b in legacy {
        let (Some(id), Some(tenant_id), Some(channel), Some(route_key)) =
            (b.binding_id, b.tenant_id, b.channel, b.route_key)
        else {
            moved.skip("bindings_incomplete", 1);
            continue;
        };
        if !known.contains(&tenant_id) {
            moved.skip("bindings_of_unknown_tenants", 1);
            continue;
        }
        let mut status = binding_status(b.status.as_deref());
        if status == BindingStatus::Active {
            let route = (channel.clone(), route_key.clone());
            match holder.get(&route) {
                Some((kept_tenant, kept_binding)) => {
                    conflict(
                        c,
                        &route_key,
                        (kept_tenant, kept_binding),
                        (&tenant_id, &id),
                        now_ms,
                    )?;
                    moved.route_conflicts += 1;
                    status = BindingStatus::Unbound;
                }
                None => {
                    holder.insert(route, (tenant_id.clone(), id.clone()));
                }
            }
        }
        let session_key = session_of
            .get(&(tenant_id.as_str(), id.as_str()))
            .map_or_else(|| derived_session_key(&route_key), |k| (*k).to_owned());
        let created = b.created_at_ms.unwrap_or(0);
        let row = BindingRow {
            scope: scope(b.scope.as_deref(), &route_key),
            binding_id: id,
            tenant_id,
            channel,
            route_key,
            session_key,
            status: status.as_str().to_owned(),
            created_at_ms: created,
            updated_at_ms: if status == BindingStatus::Unbound {
                now_ms.max(b.updated_at_ms.unwrap_or(created))
            } else {
                b.updated_at_ms.unwrap_or(created)
            },
        };
        diesel::insert_into(bindings::table)
            .values(&row)
            .execute(c)?;
        out.push(row);
    }
    moved.bindings = out.len();
    session_routes(c, routes, &out, moved)?;
    Ok(out)
}

/// One route held by two bindings: the later one is unbound, said once in the log and once in
/// the audit log (under the tenant that lost the route).
fn conflict(
    c: &mut SqliteConnection,
    route_key: &str,
    (kept_tenant, kept_binding): (&str, &str),
    (unbound_tenant, unbound_binding): (&str, &str),
    now_ms: i64,
) -> Result<(), StoreError> {
    log::warn!(
        "event=legacy_route_conflict route_key={route_key} kept_tenant={kept_tenant} \
         kept_binding={kept_binding} unbound_tenant={unbound_tenant} \
         unbound_binding={unbound_binding}"
    );
    audit::record(
        c,
        now_ms,
        Some(unbound_tenant),
        Actor::System,
        "legacy_route_conflict_unbound",
        json!({
            "routeKey": route_key,
            "keptTenantId": kept_tenant,
            "keptBindingId": kept_binding,
            "unboundTenantId": unbound_tenant,
            "unboundBindingId": unbound_binding,
        }),
    )
}

/// Routes of live (active or pending) bindings of the same tenant; an unbound binding has none.
fn session_routes(
    c: &mut SqliteConnection,
    routes: Vec<LegacyRoute>,
    bindings: &[BindingRow],
    moved: &mut Moved,
) -> Result<(), StoreError> {
    let live: HashMap<&str, &BindingRow> = bindings
        .iter()
        .filter(|b| b.status != BindingStatus::Unbound.as_str())
        .map(|b| (b.binding_id.as_str(), b))
        .collect();
    for r in routes {
        let (Some(tenant_id), Some(channel), Some(session_key), Some(binding_id)) =
            (r.tenant_id, r.channel, r.session_key, r.binding_id)
        else {
            moved.skip("session_routes_incomplete", 1);
            continue;
        };
        if live
            .get(binding_id.as_str())
            .is_none_or(|b| b.tenant_id != tenant_id)
        {
            moved.skip("session_routes_of_unbound_bindings", 1);
            continue;
        }
        diesel::insert_into(session_routes::table)
            .values(SessionRouteRow {
                tenant_id,
                channel,
                session_key,
                binding_id,
                created_at_ms: r.updated_at_ms.unwrap_or(0),
            })
            .execute(c)?;
        moved.session_routes += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sha256_hex_becomes_a_legacy_key() {
        let hex = "AB".repeat(32);
        assert_eq!(
            sha256_hex(Some(&hex)),
            Some(format!("sha256:{}", "ab".repeat(32)))
        );
        assert_eq!(sha256_hex(Some("abc")), None);
        assert_eq!(sha256_hex(None), None);
    }
}
