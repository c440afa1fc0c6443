//! Registry messages. Lookups answer from memory; changes write through the Writer and update
//! memory after the commit.

use std::sync::Arc;

use actix::prelude::*;
use secrecy::SecretString;

use super::Registry;
use crate::db::pairing::{ClaimPairingCode, InsertPairingToken, RedeemPairingToken, Redeemed};
use crate::db::{bindings::Unbind, tenants::SetInboundTarget};
use crate::domain::pairing_token::generate_pairing_token;
use crate::domain::secrets::{hash_secret, legacy_hash_secret, new_id};
use crate::domain::{Binding, BindingStatus, Channel, InboundTarget, Paired, RouteKey};
use crate::error::StoreError;
use crate::time::now_ms;

/// A freshly issued pairing token; the clear token exists only in this answer.
#[derive(Debug)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at_ms: i64,
}

/// `POST /v1/pairings/token`, after validation.
#[derive(Message)]
#[rtype(result = "Result<IssuedToken, StoreError>")]
pub struct IssuePairingToken {
    pub tenant_id: Arc<str>,
    pub channel: Channel,
    pub session_key: Option<String>,
    /// Only a Discord DM route: the token activates a pending binding for that DM.
    pub dm_route: Option<RouteKey>,
    pub ttl_sec: u64,
}

impl Handler<IssuePairingToken> for Registry {
    type Result = ResponseActFuture<Self, Result<IssuedToken, StoreError>>;

    fn handle(&mut self, msg: IssuePairingToken, _: &mut Self::Context) -> Self::Result {
        let now = now_ms();
        let token = generate_pairing_token();
        let expires_at_ms = now.saturating_add((msg.ttl_sec as i64).saturating_mul(1000));
        let pending = msg.dm_route.as_ref().map(|route| Binding {
            binding_id: new_id("bind_"),
            tenant_id: msg.tenant_id.clone(),
            channel: route.channel(),
            scope: route.scope(),
            route_key: route.clone(),
            session_key: msg
                .session_key
                .clone()
                .unwrap_or_else(|| route.derived_session_key()),
            status: BindingStatus::Pending,
            created_at_ms: now,
        });
        let op = InsertPairingToken {
            token_hash: hash_secret(&token),
            tenant_id: msg.tenant_id.to_string(),
            channel: msg.channel,
            session_key: msg.session_key,
            route_key: msg.dm_route,
            pending: pending.clone(),
            created_at_ms: now,
            expires_at_ms,
        };
        self.write_then(op, move |res, act, _| {
            res?;
            if let Some(b) = pending {
                act.state.write().put_binding(b);
            }
            Ok(IssuedToken {
                token,
                expires_at_ms,
            })
        })
    }
}

/// A token seen in a chat. Used by the ingress actors; the atomic claim is the Writer's.
#[derive(Message)]
#[rtype(result = "Result<Redeemed, StoreError>")]
pub struct RedeemToken {
    pub token: String,
    pub route_key: RouteKey,
}

impl Handler<RedeemToken> for Registry {
    type Result = ResponseActFuture<Self, Result<Redeemed, StoreError>>;

    fn handle(&mut self, msg: RedeemToken, _: &mut Self::Context) -> Self::Result {
        let op = RedeemPairingToken {
            token_hash: hash_secret(&msg.token),
            legacy_token_hash: legacy_hash_secret(&msg.token),
            route_key: msg.route_key,
            now_ms: now_ms(),
        };
        self.write_then(op, |res, act, _| {
            if let Ok(Redeemed::Paired { binding, route }) = &res {
                act.put_paired(Paired {
                    binding: binding.clone(),
                    route: route.clone(),
                });
            }
            res
        })
    }
}

/// `POST /v1/pairings/claim`.
#[derive(Message)]
#[rtype(result = "Result<Paired, StoreError>")]
pub struct ClaimCode {
    pub tenant_id: Arc<str>,
    pub code: String,
    pub session_key: Option<String>,
}

impl Handler<ClaimCode> for Registry {
    type Result = ResponseActFuture<Self, Result<Paired, StoreError>>;

    fn handle(&mut self, msg: ClaimCode, _: &mut Self::Context) -> Self::Result {
        let op = ClaimPairingCode {
            code_hash: hash_secret(&msg.code),
            tenant_id: msg.tenant_id.to_string(),
            session_key: msg.session_key,
            now_ms: now_ms(),
        };
        self.write_then(op, |res, act, _| {
            if let Ok(paired) = &res {
                act.put_paired(paired.clone());
            }
            res
        })
    }
}

impl Registry {
    fn put_paired(&mut self, paired: Paired) {
        // A pending binding of the same id is replaced by its active form.
        let mut state = self.state.write();
        state.bindings.remove(&paired.binding.binding_id);
        state.put_binding(paired.binding);
        state.put_route(paired.route);
    }
}

/// `GET /v1/pairings`: the tenant's active bindings, newest first.
#[derive(Message)]
#[rtype(result = "Vec<Binding>")]
pub struct ListBindings {
    pub tenant_id: Arc<str>,
}

impl Handler<ListBindings> for Registry {
    type Result = Vec<Binding>;

    fn handle(&mut self, msg: ListBindings, _: &mut Self::Context) -> Self::Result {
        self.state.read().active_bindings_of(&msg.tenant_id)
    }
}

/// `POST /v1/pairings/unbind`. Another tenant's binding is "not found" (no existence leak).
#[derive(Message)]
#[rtype(result = "Result<(), StoreError>")]
pub struct UnbindBinding {
    pub tenant_id: Arc<str>,
    pub binding_id: String,
}

impl Handler<UnbindBinding> for Registry {
    type Result = ResponseActFuture<Self, Result<(), StoreError>>;

    fn handle(&mut self, msg: UnbindBinding, _: &mut Self::Context) -> Self::Result {
        let owned = self
            .state
            .read()
            .bindings
            .get(&msg.binding_id)
            .is_some_and(|b| b.tenant_id == msg.tenant_id && b.status == BindingStatus::Active);
        if !owned {
            return Box::pin(fut::ready(Err(StoreError::NotFound("binding not found"))));
        }
        let binding_id = msg.binding_id.clone();
        let op = Unbind {
            tenant_id: msg.tenant_id.to_string(),
            binding_id: msg.binding_id,
            now_ms: now_ms(),
        };
        self.write_then(op, move |res, act, _| {
            let removed = res?;
            act.state.write().remove_binding(&binding_id, &removed);
            Ok(())
        })
    }
}

/// `GET /v1/tenant/inbound-target` (and, later, the forwarders).
#[derive(Message)]
#[rtype(result = "Option<InboundTarget>")]
pub struct GetInboundTarget {
    pub tenant_id: Arc<str>,
}

impl Handler<GetInboundTarget> for Registry {
    type Result = Option<InboundTarget>;

    fn handle(&mut self, msg: GetInboundTarget, _: &mut Self::Context) -> Self::Result {
        self.state
            .read()
            .tenants
            .get(&msg.tenant_id)?
            .inbound
            .clone()
    }
}

/// `POST /v1/tenant/inbound-target`, after the URL policy passed.
#[derive(Message)]
#[rtype(result = "Result<(), StoreError>")]
pub struct ChangeInboundTarget {
    pub tenant_id: Arc<str>,
    pub target: InboundTarget,
}

impl Handler<ChangeInboundTarget> for Registry {
    type Result = ResponseActFuture<Self, Result<(), StoreError>>;

    fn handle(&mut self, msg: ChangeInboundTarget, _: &mut Self::Context) -> Self::Result {
        let target = msg.target;
        let op = SetInboundTarget {
            tenant_id: msg.tenant_id.to_string(),
            url: target.url.clone(),
            token: SecretString::from(secrecy::ExposeSecret::expose_secret(&target.token)),
            timeout_ms: target.timeout_ms,
            now_ms: now_ms(),
        };
        let tenant_id = msg.tenant_id;
        self.write_then(op, move |res, act, _| {
            res?;
            if let Some(t) = act.state.write().tenants.get_mut(&tenant_id) {
                t.inbound = Some(target);
            }
            Ok(())
        })
    }
}

/// Outbound: the active binding behind `(tenant, channel, sessionKey)`.
#[derive(Message)]
#[rtype(result = "Option<Binding>")]
pub struct ResolveRoute {
    pub tenant_id: Arc<str>,
    pub channel: Channel,
    pub session_key: String,
}

impl Handler<ResolveRoute> for Registry {
    type Result = Option<Binding>;

    fn handle(&mut self, msg: ResolveRoute, _: &mut Self::Context) -> Self::Result {
        self.state
            .route(&msg.tenant_id, msg.channel, &msg.session_key)
    }
}

/// Inbound: the active binding of the first matching route key (most specific first).
#[derive(Message)]
#[rtype(result = "Option<Binding>")]
pub struct ResolveIncoming {
    pub route_keys: Vec<RouteKey>,
}

impl Handler<ResolveIncoming> for Registry {
    type Result = Option<Binding>;

    fn handle(&mut self, msg: ResolveIncoming, _: &mut Self::Context) -> Self::Result {
        self.state.incoming(&msg.route_keys)
    }
}
