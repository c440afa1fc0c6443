//! Operator messages (admin API and CLI): tenant lifecycle and keys. As everywhere in the
//! Registry, the Writer commits first and memory follows, inside the actor — so a revoked key or
//! a disabled tenant answers 401 on the very next request the Registry resolves.

use std::sync::Arc;

use actix::prelude::*;
use secrecy::SecretString;

use super::state::TenantAuth;
use super::{InboundTarget, Registry};
use crate::db::admin::{
    AddApiKey, CreateTenant as CreateTenantOp, NewKey, RevokeApiKey, SetTenantStatus,
};
use crate::db::overview::TenantOverview;
use crate::domain::secrets::{generate_api_key, hash_secret, new_id};
use crate::error::StoreError;
use crate::time::now_ms;

/// A freshly minted API key; the clear key exists only in this answer.
#[derive(Debug)]
pub struct IssuedKey {
    pub key_id: String,
    pub api_key: SecretString,
}

fn mint_key(label: String) -> (NewKey, IssuedKey) {
    let api_key = generate_api_key();
    let key_id = new_id("key_");
    let new = NewKey {
        key_id: key_id.clone(),
        key_hash: hash_secret(&api_key),
        label,
    };
    let issued = IssuedKey {
        key_id,
        api_key: SecretString::from(api_key),
    };
    (new, issued)
}

/// `POST /v1/admin/tenants`, after validation.
#[derive(Message)]
#[rtype(result = "Result<(TenantOverview, IssuedKey), StoreError>")]
pub struct CreateTenant {
    pub id: String,
    pub name: String,
    pub inbound: Option<InboundTarget>,
    pub label: String,
}

impl Handler<CreateTenant> for Registry {
    type Result = ResponseActFuture<Self, Result<(TenantOverview, IssuedKey), StoreError>>;

    fn handle(&mut self, msg: CreateTenant, _: &mut Self::Context) -> Self::Result {
        let (key, issued) = mint_key(msg.label);
        let key_hash = key.key_hash.clone();
        let op = CreateTenantOp {
            id: msg.id,
            name: msg.name,
            inbound: msg.inbound,
            key,
            now_ms: now_ms(),
        };
        self.write_then(op, move |res, act, _| {
            let (tenant, overview) = res?;
            let tenant_id = tenant.id.clone();
            act.state.write().put_tenant(tenant);
            act.remember_key(&tenant_id, key_hash, &issued.key_id);
            Ok((overview, issued))
        })
    }
}

/// `POST /v1/admin/tenants/{id}/keys`: the tenant now has one more working key.
#[derive(Message)]
#[rtype(result = "Result<IssuedKey, StoreError>")]
pub struct AddKey {
    pub tenant_id: String,
    pub label: String,
}

impl Handler<AddKey> for Registry {
    type Result = ResponseActFuture<Self, Result<IssuedKey, StoreError>>;

    fn handle(&mut self, msg: AddKey, _: &mut Self::Context) -> Self::Result {
        if self.state.read().tenant_id(&msg.tenant_id).is_none() {
            return Box::pin(fut::ready(Err(StoreError::NotFound("tenant not found"))));
        }
        let (key, issued) = mint_key(msg.label);
        let key_hash = key.key_hash.clone();
        let tenant_id = msg.tenant_id.clone();
        let op = AddApiKey {
            tenant_id: msg.tenant_id,
            key,
            now_ms: now_ms(),
        };
        self.write_then(op, move |res, act, _| {
            res?;
            act.remember_key(&tenant_id, key_hash, &issued.key_id);
            Ok(issued)
        })
    }
}

/// `DELETE /v1/admin/tenants/{id}/keys/{keyId}`: the key stops working at once.
#[derive(Message)]
#[rtype(result = "Result<(), StoreError>")]
pub struct RevokeKey {
    pub tenant_id: String,
    pub key_id: String,
}

impl Handler<RevokeKey> for Registry {
    type Result = ResponseActFuture<Self, Result<(), StoreError>>;

    fn handle(&mut self, msg: RevokeKey, _: &mut Self::Context) -> Self::Result {
        let op = RevokeApiKey {
            tenant_id: msg.tenant_id,
            key_id: msg.key_id,
            now_ms: now_ms(),
        };
        self.write_then(op, |res, act, _| {
            let key_hash = res?;
            act.state.write().keys.remove(&key_hash);
            Ok(())
        })
    }
}

/// `POST /v1/admin/tenants/{id}/disable|enable`. A disabled tenant's keys answer 401
/// (`RegistryView::tenant_by_key` checks `enabled`); its bindings and queue are kept.
#[derive(Message)]
#[rtype(result = "Result<(), StoreError>")]
pub struct SetTenantEnabled {
    pub tenant_id: String,
    pub enabled: bool,
}

impl Handler<SetTenantEnabled> for Registry {
    type Result = ResponseActFuture<Self, Result<(), StoreError>>;

    fn handle(&mut self, msg: SetTenantEnabled, _: &mut Self::Context) -> Self::Result {
        let tenant_id = msg.tenant_id.clone();
        let enabled = msg.enabled;
        let op = SetTenantStatus {
            tenant_id: msg.tenant_id,
            enabled,
            now_ms: now_ms(),
        };
        self.write_then(op, move |res, act, _| {
            res?;
            if let Some(t) = act.state.write().tenants.get_mut(tenant_id.as_str()) {
                t.enabled = enabled;
            }
            Ok(())
        })
    }
}

impl Registry {
    fn remember_key(&mut self, tenant_id: &str, key_hash: String, key_id: &str) {
        let mut state = self.state.write();
        if let Some(tenant_id) = state.tenant_id(tenant_id) {
            let auth = TenantAuth {
                tenant_id,
                key_id: Arc::from(key_id),
            };
            state.keys.insert(key_hash, auth);
        }
    }
}
