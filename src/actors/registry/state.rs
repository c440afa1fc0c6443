//! The Registry's maps and the plain functions that change them (tested without actors).

use std::collections::HashMap;
use std::sync::Arc;

use secrecy::SecretString;

use crate::db::load::LoadedState;
use crate::db::models::{BindingRow, SessionRouteRow, TenantRow};
use crate::domain::Channel;

/// The tenant behind an accepted API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantAuth {
    pub tenant_id: Arc<str>,
    pub key_id: Arc<str>,
}

/// Where a tenant's inbound messages go.
#[derive(Debug, Clone)]
pub struct InboundTarget {
    pub url: String,
    pub token: SecretString,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingStatus {
    Active,
    /// A Discord DM binding waiting for its token.
    Pending,
}

/// A chat bound to a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub binding_id: String,
    pub tenant_id: Arc<str>,
    pub channel: Channel,
    pub scope: String,
    pub route_key: String,
    pub session_key: String,
    pub status: BindingStatus,
    pub created_at_ms: i64,
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
    /// (channel, route key) → active binding id.
    pub active_routes: HashMap<(Channel, String), String>,
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

    pub fn put_tenant(&mut self, row: TenantRow) {
        let id: Arc<str> = Arc::from(row.id.as_str());
        let inbound = match (row.inbound_url, row.inbound_token) {
            (Some(url), Some(token)) => Some(InboundTarget {
                url,
                token: SecretString::from(token),
                timeout_ms: row.inbound_timeout_ms.unwrap_or(15_000).max(1) as u64,
            }),
            _ => None,
        };
        let entry = TenantEntry {
            id: id.clone(),
            enabled: row.status == "active",
            inbound,
        };
        self.tenants.insert(id, entry);
    }

    pub fn put_binding(&mut self, row: BindingRow) {
        let (Some(tenant_id), Some(channel)) =
            (self.tenant_id(&row.tenant_id), Channel::parse(&row.channel))
        else {
            log::warn!(
                "event=binding_skipped binding={} reason=unknown_tenant_or_channel",
                row.binding_id
            );
            return;
        };
        let status = if row.status == "active" {
            self.active_routes
                .insert((channel, row.route_key.clone()), row.binding_id.clone());
            BindingStatus::Active
        } else {
            BindingStatus::Pending
        };
        let binding = Binding {
            binding_id: row.binding_id.clone(),
            tenant_id,
            channel,
            scope: row.scope,
            route_key: row.route_key,
            session_key: row.session_key,
            status,
            created_at_ms: row.created_at_ms,
        };
        self.bindings.insert(row.binding_id, binding);
    }

    pub fn put_route(&mut self, row: SessionRouteRow) {
        let (Some(tenant_id), Some(channel)) =
            (self.tenant_id(&row.tenant_id), Channel::parse(&row.channel))
        else {
            return;
        };
        self.sessions
            .insert((tenant_id, channel, row.session_key), row.binding_id);
    }

    /// Forgets an unbound binding and the session keys that pointed at it.
    pub fn remove_binding(&mut self, binding_id: &str, session_keys: &[String]) {
        if let Some(b) = self.bindings.remove(binding_id) {
            let route = (b.channel, b.route_key.clone());
            if self.active_routes.get(&route).map(String::as_str) == Some(binding_id) {
                self.active_routes.remove(&route);
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

    /// The first of `route_keys` (most specific first) with an active binding.
    pub fn incoming(&self, channel: Channel, route_keys: &[String]) -> Option<&Binding> {
        route_keys.iter().find_map(|rk| {
            let id = self.active_routes.get(&(channel, rk.clone()))?;
            self.bindings.get(id)
        })
    }
}
