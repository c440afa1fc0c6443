//! The Registry's maps and the plain functions that change them (tested without actors).

use std::collections::HashMap;
use std::sync::Arc;

use super::view::TenantForwarding;
use crate::db::load::LoadedState;
use crate::domain::{
    Binding, BindingStatus, Channel, InboundTarget, RouteKey, SessionRoute, Tenant, TenantStatus,
};

/// The tenant behind an accepted API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantAuth {
    pub tenant_id: Arc<str>,
    pub key_id: Arc<str>,
}

pub(super) struct TenantEntry {
    pub id: Arc<str>,
    pub enabled: bool,
    pub inbound: Option<InboundTarget>,
}

#[derive(Default)]
pub(super) struct State {
    pub tenants: HashMap<Arc<str>, TenantEntry>,
    /// blake3 hex of an active key → (tenant, key id).
    pub keys: HashMap<String, TenantAuth>,
    pub bindings: HashMap<String, Binding>,
    /// route key → active binding id (the route key names its channel).
    pub active_routes: HashMap<RouteKey, String>,
    /// (tenant, channel, session key) → binding id.
    pub sessions: HashMap<(Arc<str>, Channel, String), String>,
}

impl State {
    pub fn from_loaded(loaded: LoadedState) -> State {
        let mut state = State::default();
        for t in loaded.tenants {
            state.put_tenant(t);
        }
        for k in loaded.keys {
            if let Some(tenant_id) = state.tenant_id(&k.tenant_id) {
                let auth = TenantAuth {
                    tenant_id,
                    key_id: Arc::from(k.key_id.as_str()),
                };
                state.keys.insert(k.key_hash, auth);
            }
        }
        for b in loaded.bindings {
            state.put_binding(b);
        }
        for r in loaded.routes {
            state.put_route(r);
        }
        state
    }

    /// The shared id of a known tenant (one allocation per tenant, shared by every map).
    pub fn tenant_id(&self, id: &str) -> Option<Arc<str>> {
        self.tenants.get(id).map(|t| t.id.clone())
    }

    pub fn put_tenant(&mut self, t: Tenant) {
        let id: Arc<str> = Arc::from(t.id.as_str());
        let entry = TenantEntry {
            id: id.clone(),
            enabled: t.status == TenantStatus::Active,
            inbound: t.inbound,
        };
        self.tenants.insert(id, entry);
    }

    /// Keeps an active or pending binding (an unbound one has nothing to answer).
    pub fn put_binding(&mut self, mut binding: Binding) {
        let Some(tenant_id) = self.tenant_id(&binding.tenant_id) else {
            log::warn!(
                "event=binding_skipped binding={} reason=unknown_tenant",
                binding.binding_id
            );
            return;
        };
        // One shared allocation per tenant across every map.
        binding.tenant_id = tenant_id;
        match binding.status {
            BindingStatus::Active => {
                self.active_routes
                    .insert(binding.route_key.clone(), binding.binding_id.clone());
            }
            BindingStatus::Pending => {}
            BindingStatus::Unbound | BindingStatus::Expired => return,
        }
        self.bindings.insert(binding.binding_id.clone(), binding);
    }

    pub fn put_route(&mut self, route: SessionRoute) {
        let Some(tenant_id) = self.tenant_id(&route.tenant_id) else {
            return;
        };
        self.sessions.insert(
            (tenant_id, route.channel, route.session_key),
            route.binding_id,
        );
    }

    /// Forgets an unbound binding and the session keys that pointed at it.
    pub fn remove_binding(&mut self, binding_id: &str, session_keys: &[String]) {
        if let Some(b) = self.bindings.remove(binding_id) {
            if self.active_routes.get(&b.route_key).map(String::as_str) == Some(binding_id) {
                self.active_routes.remove(&b.route_key);
            }
            for key in session_keys {
                let k = (b.tenant_id.clone(), b.channel, key.clone());
                if self.sessions.get(&k).map(String::as_str) == Some(binding_id) {
                    self.sessions.remove(&k);
                }
            }
        }
    }

    /// The tenant's active bindings, newest first.
    pub fn active_bindings_of(&self, tenant_id: &str) -> Vec<Binding> {
        let mut list: Vec<Binding> = self
            .bindings
            .values()
            .filter(|b| &*b.tenant_id == tenant_id && b.status == BindingStatus::Active)
            .cloned()
            .collect();
        list.sort_by(|a, b| {
            b.created_at_ms
                .cmp(&a.created_at_ms)
                .then_with(|| b.binding_id.cmp(&a.binding_id))
        });
        list
    }

    /// The active binding a tenant's session key is routed to.
    pub fn route(&self, tenant_id: &str, channel: Channel, session_key: &str) -> Option<&Binding> {
        let tenant_id = self.tenant_id(tenant_id)?;
        let id = self
            .sessions
            .get(&(tenant_id, channel, session_key.to_owned()))?;
        self.bindings
            .get(id)
            .filter(|b| b.status == BindingStatus::Active)
    }

    /// The tenant behind an API key hash; None for unknown, revoked or disabled.
    pub fn tenant_by_key(&self, key_hash: &str) -> Option<TenantAuth> {
        let auth = self.keys.get(key_hash)?;
        let tenant = self.tenants.get(&auth.tenant_id)?;
        tenant.enabled.then(|| auth.clone())
    }

    /// A tenant's switch and inbound target, for its forwarder.
    pub fn forwarding(&self, tenant_id: &str) -> Option<TenantForwarding> {
        let t = self.tenants.get(tenant_id)?;
        Some(TenantForwarding {
            enabled: t.enabled,
            target: t.inbound.clone(),
        })
    }

    /// The first of `route_keys` (most specific first) with an active binding.
    pub fn incoming(&self, route_keys: &[RouteKey]) -> Option<&Binding> {
        route_keys.iter().find_map(|rk| {
            let id = self.active_routes.get(rk)?;
            self.bindings.get(id)
        })
    }
}
