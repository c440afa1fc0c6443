//! A chat bound to a tenant, and the session route that points a tenant's session key at it:
//! what the store hands out (rows become these at the `db` boundary) and the Registry keeps.

use std::sync::Arc;

use super::channel::{Channel, Scope};
use super::route_key::RouteKey;
use super::status::BindingStatus;

/// A chat (or topic, channel, DM) bound to a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub binding_id: String,
    pub tenant_id: Arc<str>,
    pub channel: Channel,
    pub scope: Scope,
    pub route_key: RouteKey,
    pub session_key: String,
    pub status: BindingStatus,
    pub created_at_ms: i64,
}

/// `(tenant, channel, sessionKey)` → binding: where a tenant's session sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRoute {
    pub tenant_id: Arc<str>,
    pub channel: Channel,
    pub session_key: String,
    pub binding_id: String,
}

/// A binding just made by a pairing (token redeemed or code claimed), with its session route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paired {
    pub binding: Binding,
    pub route: SessionRoute,
}
