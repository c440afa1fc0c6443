//! Bindings (chat ↔ tenant) and session routes (tenant, channel, sessionKey → binding).

use diesel::prelude::*;
use diesel::upsert::excluded;
use serde_json::json;

use super::audit::{self, Actor};
use super::models::{BindingRow, SessionRouteRow};
use super::op::WriteOp;
use super::schema::{bindings, session_routes};
use crate::domain::{Binding, BindingStatus, Paired, RouteKey, Scope, SessionRoute};
use crate::error::StoreError;

const ACTIVE: &str = BindingStatus::Active.as_str();

pub fn active_binding_for_route(
    conn: &mut SqliteConnection,
    route_key: &RouteKey,
) -> Result<Option<BindingRow>, StoreError> {
    Ok(bindings::table
        .filter(bindings::channel.eq(route_key.channel().as_str()))
        .filter(bindings::route_key.eq(route_key.to_string()))
        .filter(bindings::status.eq(ACTIVE))
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
    scope: Scope,
    session_key: &str,
    now_ms: i64,
) -> Result<Paired, StoreError> {
    let binding = Binding {
        binding_id: binding_id.to_owned(),
        tenant_id: tenant_id.into(),
        channel: route_key.channel(),
        scope,
        route_key: route_key.clone(),
        session_key: session_key.to_owned(),
        status: BindingStatus::Active,
        created_at_ms: now_ms,
    };
    let activated = diesel::update(
        bindings::table
            .find(binding_id)
            .filter(bindings::status.eq(BindingStatus::Pending.as_str())),
    )
    .set((
        bindings::status.eq(ACTIVE),
        bindings::session_key.eq(session_key),
        bindings::created_at_ms.eq(now_ms),
        bindings::updated_at_ms.eq(now_ms),
    ))
    .execute(conn)
    .map_err(route_conflict)?;
    if activated == 0 {
        diesel::insert_into(bindings::table)
            .values(BindingRow::from_domain(&binding))
            .execute(conn)
            .map_err(route_conflict)?;
    }
    let route = SessionRoute {
        tenant_id: binding.tenant_id.clone(),
        channel: binding.channel,
        session_key: session_key.to_owned(),
        binding_id: binding_id.to_owned(),
    };
    diesel::insert_into(session_routes::table)
        .values(SessionRouteRow {
            tenant_id: tenant_id.to_owned(),
            channel: binding.channel.as_str().to_owned(),
            session_key: session_key.to_owned(),
            binding_id: binding_id.to_owned(),
            created_at_ms: now_ms,
        })
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
    Ok(Paired { binding, route })
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
                .filter(bindings::status.eq(ACTIVE)),
        )
        .set((
            bindings::status.eq(BindingStatus::Unbound.as_str()),
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
