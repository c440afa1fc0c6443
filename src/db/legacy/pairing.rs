//! Pairing tokens and codes of the older service.
//!
//! - Tokens still redeem until they expire: their SHA-256 hex is stored as `sha256:<hex>`
//!   (redemption looks that form up when the BLAKE3 one misses). A Discord token is tied to the
//!   pending DM binding created with it (same tenant, created within a moment), as ours are.
//! - Codes were stored in clear: they are hashed as ours are; claimed ones stay claimed.

use std::collections::HashSet;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::set_aside;
use super::tenants::{MovedBindings, sha256_hex};
use super::upgrade::Moved;
use crate::db::models::{BindingRow, PairingCodeRow, PairingTokenRow};
use crate::db::schema::{pairing_codes, pairing_tokens};
use crate::domain::{BindingStatus, hash_secret};
use crate::error::StoreError;

/// How far apart a Discord DM token and its pending binding may have been created (the older
/// service wrote both in one request).
const PENDING_LINK_WINDOW_MS: i64 = 5_000;

#[derive(QueryableByName)]
struct LegacyToken {
    #[diesel(sql_type = Nullable<Text>)]
    token_hash: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    tenant_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    channel: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    session_key: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    created_at_ms: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    expires_at_ms: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    consumed_at_ms: Option<i64>,
}

/// Unconsumed, unexpired tokens of known tenants.
pub(super) fn pairing_tokens(
    c: &mut SqliteConnection,
    has: &dyn Fn(&str) -> bool,
    known: &HashSet<String>,
    bindings: &MovedBindings,
    now_ms: i64,
    moved: &mut Moved,
) -> Result<(), StoreError> {
    if !has("pairing_tokens") {
        return Ok(());
    }
    let rows: Vec<LegacyToken> = diesel::sql_query(format!(
        "SELECT token_hash, tenant_id, channel, session_key, created_at_ms, expires_at_ms, \
         consumed_at_ms FROM {}",
        set_aside("pairing_tokens")
    ))
    .load(c)?;
    let mut pending: Vec<&BindingRow> = bindings
        .iter()
        .filter(|b| b.status == BindingStatus::Pending.as_str() && b.channel == "discord")
        .collect();
    for t in rows {
        let live = t.consumed_at_ms.is_none() && t.expires_at_ms.is_some_and(|e| e > now_ms);
        let (Some(hash), Some(tenant_id), Some(channel), Some(expires), true) = (
            sha256_hex(t.token_hash.as_deref()),
            t.tenant_id,
            t.channel,
            t.expires_at_ms,
            live,
        ) else {
            moved.skip("pairing_tokens_used_or_expired", 1);
            continue;
        };
        if !known.contains(&tenant_id) {
            moved.skip("pairing_tokens_of_unknown_tenants", 1);
            continue;
        }
        let created = t.created_at_ms.unwrap_or(0);
        // The pending DM binding issued with this token: closest in time, used once.
        let link = (channel == "discord")
            .then(|| {
                pending
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| b.tenant_id == tenant_id)
                    .map(|(i, b)| (i, (b.created_at_ms - created).abs()))
                    .filter(|(_, d)| *d <= PENDING_LINK_WINDOW_MS)
                    .min_by_key(|(_, d)| *d)
                    .map(|(i, _)| pending.swap_remove(i))
            })
            .flatten();
        diesel::insert_into(pairing_tokens::table)
            .values(PairingTokenRow {
                token_hash: hash,
                tenant_id,
                channel,
                session_key: t.session_key,
                route_key: link.map(|b| b.route_key.clone()),
                pending_binding_id: link.map(|b| b.binding_id.clone()),
                created_at_ms: created,
                expires_at_ms: expires,
                consumed_at_ms: None,
                binding_id: None,
            })
            .execute(c)?;
        moved.pairing_tokens += 1;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct LegacyCode {
    #[diesel(sql_type = Nullable<Text>)]
    code: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    channel: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    route_key: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    scope: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    expires_at_ms: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    claimed_by_tenant_id: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    claimed_at_ms: Option<i64>,
}

pub(super) fn pairing_codes(
    c: &mut SqliteConnection,
    has: &dyn Fn(&str) -> bool,
    now_ms: i64,
    moved: &mut Moved,
) -> Result<(), StoreError> {
    if !has("pairing_codes") {
        return Ok(());
    }
    let rows: Vec<LegacyCode> = diesel::sql_query(format!(
        "SELECT code, channel, route_key, scope, expires_at_ms, claimed_by_tenant_id, \
         claimed_at_ms FROM {}",
        set_aside("pairing_codes")
    ))
    .load(c)?;
    for r in rows {
        let (Some(code), Some(channel), Some(route_key)) = (r.code, r.channel, r.route_key) else {
            moved.skip("pairing_codes_incomplete", 1);
            continue;
        };
        let claimed = r.claimed_by_tenant_id.is_some() || r.claimed_at_ms.is_some();
        moved.pairing_codes += diesel::insert_into(pairing_codes::table)
            .values(PairingCodeRow {
                code_hash: hash_secret(&code),
                channel,
                route_key,
                scope: r.scope.unwrap_or_default(),
                expires_at_ms: r.expires_at_ms,
                created_at_ms: r.claimed_at_ms.unwrap_or(now_ms),
                claimed_at_ms: claimed.then(|| r.claimed_at_ms.unwrap_or(now_ms)),
                claimed_by_tenant: r.claimed_by_tenant_id,
                binding_id: None,
            })
            .on_conflict_do_nothing()
            .execute(c)?;
    }
    Ok(())
}
