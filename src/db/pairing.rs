//! Pairing: one-time tokens redeemed in a chat, and operator-seeded codes claimed over the API.
//! Each claim is one transaction: consume the token or code, create the active binding and its
//! session route. The partial unique index on active routes makes "one tenant per route" hold
//! even if a check here were wrong.

use diesel::prelude::*;
use serde_json::json;

use super::audit::{self, Actor};
use super::bindings::{activate_or_insert, active_binding_for_route};
use super::models::{BindingRow, PairingCodeRow, PairingTokenRow};
use super::op::WriteOp;
use super::schema::{bindings, pairing_codes, pairing_tokens};
use crate::config::PairingCodeSeed;
use crate::domain::secrets::{hash_secret, new_id};
use crate::domain::{Binding, Channel, Paired, RouteKey, Scope, SessionRoute};
use crate::error::StoreError;
use secrecy::ExposeSecret;

/// Stores a newly issued token (and, for a Discord DM routeKey, its pending binding).
pub struct InsertPairingToken {
    pub token_hash: String,
    pub tenant_id: String,
    pub channel: Channel,
    pub session_key: Option<String>,
    /// Set only for a Discord DM token, with `pending` the binding it will activate.
    pub route_key: Option<RouteKey>,
    pub pending: Option<Binding>,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

impl WriteOp for InsertPairingToken {
    type Output = ();

    fn apply(self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        if let Some(pending) = &self.pending {
            let bound = active_binding_for_route(conn, &pending.route_key)?;
            if bound.is_some_and(|b| *b.tenant_id == *pending.tenant_id) {
                return Err(StoreError::Conflict("route already bound"));
            }
            diesel::insert_into(bindings::table)
                .values(BindingRow::from_domain(pending))
                .execute(conn)?;
        }
        let route_key = self.route_key.as_ref().map(ToString::to_string);
        diesel::insert_into(pairing_tokens::table)
            .values(PairingTokenRow {
                token_hash: self.token_hash,
                tenant_id: self.tenant_id.clone(),
                channel: self.channel.as_str().to_owned(),
                session_key: self.session_key,
                route_key: route_key.clone(),
                pending_binding_id: self.pending.map(|b| b.binding_id),
                created_at_ms: self.created_at_ms,
                expires_at_ms: self.expires_at_ms,
                consumed_at_ms: None,
                binding_id: None,
            })
            .execute(conn)?;
        audit::record(
            conn,
            self.created_at_ms,
            Some(&self.tenant_id),
            Actor::Tenant,
            "pairing_token_issued",
            json!({
                "channel": self.channel.as_str(),
                "expiresAtMs": self.expires_at_ms,
                "routeKey": route_key,
            }),
        )
    }
}

/// What redeeming a token in a chat came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// The chat is now bound to the token's tenant.
    Paired {
        binding: Binding,
        route: SessionRoute,
    },
    /// Unknown, expired, used, of another channel, or for another DM than the one it came from.
    Invalid,
    /// The chat is already bound (to any tenant): the token is left unconsumed.
    AlreadyBound,
}

/// A token seen in a chat (`route_key`) on `channel`.
pub struct RedeemPairingToken {
    pub token_hash: String,
    /// The `sha256:` form a token issued by the older service keeps after an upgrade; looked up
    /// only when `token_hash` is not found.
    pub legacy_token_hash: String,
    pub route_key: RouteKey,
    pub now_ms: i64,
}

impl WriteOp for RedeemPairingToken {
    type Output = Redeemed;

    fn apply(self, conn: &mut SqliteConnection) -> Result<Redeemed, StoreError> {
        let channel = self.route_key.channel().as_str();
        let route = self.route_key.to_string();
        if active_binding_for_route(conn, &self.route_key)?.is_some() {
            return Ok(Redeemed::AlreadyBound);
        }
        let token = match find_token(conn, &self.token_hash)? {
            Some(token) => Some(token),
            None => find_token(conn, &self.legacy_token_hash)?,
        };
        let Some(token) = token.filter(|t| {
            t.consumed_at_ms.is_none()
                && t.expires_at_ms > self.now_ms
                && t.channel == channel
                && t.route_key.as_ref().is_none_or(|r| *r == route)
        }) else {
            return Ok(Redeemed::Invalid);
        };
        let session_key = token
            .session_key
            .clone()
            .unwrap_or_else(|| self.route_key.derived_session_key());
        let binding_id = token
            .pending_binding_id
            .clone()
            .unwrap_or_else(|| new_id("bind_"));
        let paired = activate_or_insert(
            conn,
            &binding_id,
            &token.tenant_id,
            &self.route_key,
            self.route_key.scope(),
            &session_key,
            self.now_ms,
        )?;
        let consumed = diesel::update(
            pairing_tokens::table
                .find(&token.token_hash)
                .filter(pairing_tokens::consumed_at_ms.is_null()),
        )
        .set((
            pairing_tokens::consumed_at_ms.eq(self.now_ms),
            pairing_tokens::binding_id.eq(&paired.binding.binding_id),
        ))
        .execute(conn)?;
        if consumed != 1 {
            return Err(StoreError::Conflict("pairing token already used"));
        }
        audit::record(
            conn,
            self.now_ms,
            Some(&token.tenant_id),
            Actor::Chat,
            "pairing_token_claimed",
            json!({"bindingId": paired.binding.binding_id, "channel": channel, "routeKey": route}),
        )?;
        Ok(Redeemed::Paired {
            binding: paired.binding,
            route: paired.route,
        })
    }
}

fn find_token(
    conn: &mut SqliteConnection,
    token_hash: &str,
) -> Result<Option<PairingTokenRow>, StoreError> {
    Ok(pairing_tokens::table
        .find(token_hash)
        .select(PairingTokenRow::as_select())
        .first(conn)
        .optional()?)
}

/// `POST /v1/pairings/claim`: a tenant claims an operator-seeded code.
pub struct ClaimPairingCode {
    pub code_hash: String,
    pub tenant_id: String,
    pub session_key: Option<String>,
    pub now_ms: i64,
}

impl WriteOp for ClaimPairingCode {
    type Output = Paired;

    fn apply(self, conn: &mut SqliteConnection) -> Result<Self::Output, StoreError> {
        let code: Option<PairingCodeRow> = pairing_codes::table
            .find(&self.code_hash)
            .select(PairingCodeRow::as_select())
            .first(conn)
            .optional()?;
        let not_found = StoreError::NotFound("pairing code not found or expired");
        let Some(code) = code else {
            return Err(not_found);
        };
        if code.claimed_at_ms.is_some() {
            return Err(StoreError::Conflict("pairing code already claimed"));
        }
        if code.expires_at_ms.is_some_and(|e| e <= self.now_ms) {
            return Err(not_found);
        }
        let route_key = RouteKey::parse(&code.route_key)
            .map_err(|_| StoreError::NotFound("pairing code not found or expired"))?;
        if active_binding_for_route(conn, &route_key)?.is_some() {
            return Err(StoreError::Conflict("route already bound"));
        }
        let session_key = self
            .session_key
            .clone()
            .unwrap_or_else(|| route_key.derived_session_key());
        // The operator chose the scope when seeding the code.
        let scope = Scope::parse(&code.scope).unwrap_or_else(|| route_key.scope());
        let paired = activate_or_insert(
            conn,
            &new_id("bind_"),
            &self.tenant_id,
            &route_key,
            scope,
            &session_key,
            self.now_ms,
        )?;
        diesel::update(pairing_codes::table.find(&self.code_hash))
            .set((
                pairing_codes::claimed_at_ms.eq(self.now_ms),
                pairing_codes::claimed_by_tenant.eq(&self.tenant_id),
                pairing_codes::binding_id.eq(&paired.binding.binding_id),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            self.now_ms,
            Some(&self.tenant_id),
            Actor::Tenant,
            "pairing_code_claimed",
            json!({"bindingId": paired.binding.binding_id, "routeKey": code.route_key}),
        )?;
        Ok(paired)
    }
}

/// Seeds `MUX_PAIRING_CODES_JSON` at start. A code already present (perhaps claimed) is kept
/// as it is, so a restart never re-opens a claimed code.
pub struct SeedPairingCodes {
    pub seeds: Vec<PairingCodeSeed>,
    pub now_ms: i64,
}

impl WriteOp for SeedPairingCodes {
    type Output = ();

    fn apply(self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        for seed in &self.seeds {
            diesel::insert_into(pairing_codes::table)
                .values(PairingCodeRow {
                    code_hash: hash_secret(seed.code.expose_secret()),
                    channel: seed.channel.as_str().to_owned(),
                    route_key: seed.route_key.to_string(),
                    scope: seed.scope.as_str().to_owned(),
                    expires_at_ms: seed.expires_at_ms,
                    created_at_ms: self.now_ms,
                    claimed_at_ms: None,
                    claimed_by_tenant: None,
                    binding_id: None,
                })
                .on_conflict_do_nothing()
                .execute(conn)?;
        }
        Ok(())
    }
}

crate::write_message!(
    InsertPairingToken,
    RedeemPairingToken,
    ClaimPairingCode,
    SeedPairingCodes
);
