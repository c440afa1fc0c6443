//! Reads the state the Registry keeps in memory, once at start.

use diesel::prelude::*;

use super::models::{ApiKeyRow, BindingRow, SessionRouteRow, TenantRow};
use super::schema::{bindings, session_routes, tenant_api_keys, tenants};
use crate::error::StoreError;

/// Everything the Registry answers from memory.
#[derive(Debug, Default)]
pub struct LoadedState {
    pub tenants: Vec<TenantRow>,
    /// Keys that are not revoked.
    pub keys: Vec<ApiKeyRow>,
    /// Active and pending bindings.
    pub bindings: Vec<BindingRow>,
    pub routes: Vec<SessionRouteRow>,
}

pub fn load_all(conn: &mut SqliteConnection) -> Result<LoadedState, StoreError> {
    Ok(LoadedState {
        tenants: tenants::table.select(TenantRow::as_select()).load(conn)?,
        keys: tenant_api_keys::table
            .filter(tenant_api_keys::revoked_at_ms.is_null())
            .select(ApiKeyRow::as_select())
            .load(conn)?,
        bindings: bindings::table
            .filter(bindings::status.eq_any(["active", "pending"]))
            .select(BindingRow::as_select())
            .load(conn)?,
        routes: session_routes::table
            .select(SessionRouteRow::as_select())
            .load(conn)?,
    })
}
