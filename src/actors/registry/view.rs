//! The Registry's lookups without a mailbox round trip: request handlers, forwarders and
//! ingress read the same maps under a read lock. Every change is still the actor's, made after
//! the Writer's commit (`Registry::write_then`), so a lookup never sees state the database does
//! not hold. The hot paths (every authenticated request, every send's route, every inbound
//! event's route, every delivery's target) use this; a message to the actor costs two thread
//! wake-ups (issue 12's profile).

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::state::{State, TenantAuth};
use crate::domain::{Binding, Channel, InboundTarget, RouteKey};

/// What a forwarder needs to deliver a tenant's events.
#[derive(Debug, Clone)]
pub struct TenantForwarding {
    /// A disabled tenant's events are held, not forwarded.
    pub enabled: bool,
    pub target: Option<InboundTarget>,
}

/// The Registry's maps, shared by the actor (the only writer) and its readers.
#[derive(Clone, Default)]
pub struct RegistryView(Arc<RwLock<State>>);

impl RegistryView {
    pub(super) fn new(state: State) -> RegistryView {
        RegistryView(Arc::new(RwLock::new(state)))
    }

    /// A lock is poisoned only by a panic while held; the maps are still whole (every change is
    /// one map operation), so reading on is right.
    pub(super) fn read(&self) -> RwLockReadGuard<'_, State> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The tenant behind an API key hash; None for unknown, revoked or disabled.
    pub fn tenant_by_key(&self, key_hash: &str) -> Option<TenantAuth> {
        self.read().tenant_by_key(key_hash)
    }

    /// Outbound: the active binding behind `(tenant, channel, sessionKey)`.
    pub fn route(&self, tenant_id: &str, channel: Channel, session_key: &str) -> Option<Binding> {
        self.read().route(tenant_id, channel, session_key).cloned()
    }

    /// Inbound: the active binding of the first matching route key (most specific first).
    pub fn incoming(&self, route_keys: &[RouteKey]) -> Option<Binding> {
        self.read().incoming(route_keys).cloned()
    }

    /// What a forwarder needs before each attempt.
    pub fn forwarding(&self, tenant_id: &str) -> Option<TenantForwarding> {
        self.read().forwarding(tenant_id)
    }
}
