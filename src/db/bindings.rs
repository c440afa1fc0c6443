//! Bindings (chat ↔ tenant) and session routes (tenant, channel, sessionKey → binding).

use diesel::prelude::*;
use diesel::upsert::excluded;
use serde_json::json;

use super::audit::{self, Actor};
use super::models::{BindingRow, SessionRouteRow};
use super::schema::{bindings, session_routes};
use crate::actors::writer::WriteOp;
use crate::domain::RouteKey;
use crate::error::StoreError;

pub fn active_binding_for_route(
    conn: &mut SqliteConnection,
    channel: &str,
    route_key: &str,
) -> Result<Option<BindingRow>, StoreError> {
    Ok(bindings::table
        .filter(bindings::channel.eq(channel))
        .filter(bindings::route_key.eq(route_key))
        .filter(bindings::status.eq("active"))
        .select(BindingRow::as_select())
        .first(conn)
        .optional()?)
}

/// Makes `binding_id` the active binding of `route_key` with `scope` (activating a pending row of that id, or
/// inserting one) and points the tenant's session key at it. A session key reused for a new chat
/// moves to the new chat: the latest pairing wins, as in the older service.
pub fn activate_or_insert(
    conn: &mut SqliteConnection,
    binding_id: &str,
    tenant_id: &str,
    route_key: &RouteKey,
    scope: &str,
    session_key: &str,
    now_ms: i64,
) -> Result<(BindingRow, SessionRouteRow), StoreError> {
    let binding = BindingRow {
        binding_id: binding_id.to_owned(),
        tenant_id: tenant_id.to_owned(),
        channel: route_key.channel().as_str().to_owned(),
        scope: scope.to_owned(),
        route_key: route_key.to_string(),
        session_key: session_key.to_owned(),
        status: "active".to_owned(),
        created_at_ms: now_ms,
        updated_at_ms: now_ms,
    };
    let activated = diesel::update(
        bindings::table
            .find(binding_id)
            .filter(bindings::status.eq("pending")),
    )
    .set((
        bindings::status.eq("active"),
        bindings::session_key.eq(session_key),
        bindings::created_at_ms.eq(now_ms),
        bindings::updated_at_ms.eq(now_ms),
    ))
    .execute(conn)
    .map_err(route_conflict)?;
    if activated == 0 {
        diesel::insert_into(bindings::table)
            .values(&binding)
            .execute(conn)
            .map_err(route_conflict)?;
    }
    let route = SessionRouteRow {
        tenant_id: tenant_id.to_owned(),
        channel: binding.channel.clone(),
        session_key: session_key.to_owned(),
        binding_id: binding_id.to_owned(),
        created_at_ms: now_ms,
    };
    diesel::insert_into(session_routes::table)
        .values(&route)
        .on_conflict((
            session_routes::tenant_id,
            session_routes::channel,
            session_routes::session_key,
        ))
        .do_update()
        .set((
            session_routes::binding_id.eq(excluded(session_routes::binding_id)),
            session_routes::created_at_ms.eq(excluded(session_routes::created_at_ms)),
        ))
        .execute(conn)?;
    Ok((binding, route))
}

fn route_conflict(e: diesel::result::Error) -> StoreError {
    match StoreError::from(e) {
        StoreError::Conflict(_) => StoreError::Conflict("route already bound"),
        other => other,
    }
}

/// `POST /v1/pairings/unbind`: ends a tenant's active binding and removes its session routes.
pub struct Unbind {
    pub tenant_id: String,
    pub binding_id: String,
    pub now_ms: i64,
}

impl WriteOp for Unbind {
    /// The session keys that pointed at the binding.
    type Output = Vec<String>;

    fn apply(self, conn: &mut SqliteConnection) -> Result<Vec<String>, StoreError> {
        let changed = diesel::update(
            bindings::table
                .find(&self.binding_id)
                .filter(bindings::tenant_id.eq(&self.tenant_id))
                .filter(bindings::status.eq("active")),
        )
        .set((
            bindings::status.eq("unbound"),
            bindings::updated_at_ms.eq(self.now_ms),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Err(StoreError::NotFound("binding not found"));
        }
        let removed: Vec<String> = diesel::delete(
            session_routes::table.filter(session_routes::binding_id.eq(&self.binding_id)),
        )
        .returning(session_routes::session_key)
        .get_results(conn)?;
        audit::record(
            conn,
            self.now_ms,
            Some(&self.tenant_id),
            Actor::Tenant,
            "binding_unbound",
            json!({"bindingId": self.binding_id}),
        )?;
        Ok(removed)
    }
}

crate::write_message!(Unbind);
