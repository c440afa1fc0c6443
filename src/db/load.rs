//! Reads the state the Registry keeps in memory, once at start, as domain types.

use diesel::prelude::*;

use super::models::{ApiKeyRow, BindingRow, SessionRouteRow, TenantRow};
use super::schema::{bindings, session_routes, tenant_api_keys, tenants};
use crate::domain::{Binding, BindingStatus, SessionRoute, Tenant};
use crate::error::StoreError;

/// Everything the Registry answers from memory.
#[derive(Debug, Default)]
pub struct LoadedState {
    pub tenants: Vec<Tenant>,
    /// Keys that are not revoked.
    pub keys: Vec<ApiKey>,
    /// Active and pending bindings.
    pub bindings: Vec<Binding>,
    pub routes: Vec<SessionRoute>,
}

/// An accepted API key: only its BLAKE3 hex is kept.
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub key_id: String,
    pub tenant_id: String,
    pub key_hash: String,
}

pub fn load_all(conn: &mut SqliteConnection) -> Result<LoadedState, StoreError> {
    let live = [
        BindingStatus::Active.as_str(),
        BindingStatus::Pending.as_str(),
    ];
    let bindings = bindings::table
        .filter(bindings::status.eq_any(live))
        .select(BindingRow::as_select())
        .load(conn)?;
    let routes = session_routes::table
        .select(SessionRouteRow::as_select())
        .load(conn)?;
    Ok(LoadedState {
        tenants: tenants::table
            .select(TenantRow::as_select())
            .load(conn)?
            .into_iter()
            .map(TenantRow::into_domain)
            .collect(),
        keys: tenant_api_keys::table
            .filter(tenant_api_keys::revoked_at_ms.is_null())
            .select(ApiKeyRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|k: ApiKeyRow| ApiKey {
                key_id: k.key_id,
                tenant_id: k.tenant_id,
                key_hash: k.key_hash,
            })
            .collect(),
        bindings: readable(bindings, BindingRow::into_domain),
        routes: readable(routes, SessionRouteRow::into_domain),
    })
}

/// The rows this version can read; each unreadable one is skipped with a warning (as the
/// Registry always skipped a binding of an unknown channel).
fn readable<R, T>(rows: Vec<R>, convert: fn(R) -> Result<T, StoreError>) -> Vec<T> {
    rows.into_iter()
        .filter_map(|r| match convert(r) {
            Ok(t) => Some(t),
            Err(e) => {
                log::warn!("event=row_skipped reason=unreadable error={e}");
                None
            }
        })
        .collect()
}
