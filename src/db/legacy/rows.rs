//! Everything else the older service kept: pairing tokens and codes, idempotent answers, the
//! audit log and the ingress offsets.
//!
//! - Pairing tokens still redeem until they expire: their SHA-256 hex is stored as `sha256:<hex>`
//!   (redemption looks that form up when the BLAKE3 one misses). A Discord token is tied to the
//!   pending DM binding created with it (same tenant, created within a moment), as ours are.
//! - Pairing codes were stored in clear: they are hashed as ours are; claimed ones stay claimed.
//! - Idempotent answers replay byte for byte: the stored body text is kept and the older
//!   fingerprint (the request body as JSON text) becomes ours (`domain::request_fingerprint`).
//! - Audit rows keep their ids and times; secrets in their payloads (a claimed code) are redacted.
//! - Telegram resumes at `last_update_id + 1`; each Discord binding's last message id becomes the
//!   catch-up cursor of its channel or thread (the largest, when bindings share one).

use std::collections::{BTreeMap, HashSet};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use serde_json::Value;

use super::set_aside;
use super::tenants::{MovedBindings, sha256_hex};
use super::upgrade::Moved;
use crate::db::models::{PairingCodeRow, PairingTokenRow};
use crate::db::schema::{
    audit_log, idempotency_keys as ik, ingress_offsets, pairing_codes, pairing_tokens,
};
use crate::domain::{BindingStatus, hash_secret, request_fingerprint};
use crate::error::StoreError;

/// The owner of moved idempotency answers (finished, so no process ever releases them).
const IDEMPOTENCY_OWNER: &str = "legacy-upgrade";
/// How far apart a Discord DM token and its pending binding may have been created (the older
/// service wrote both in one request).
const PENDING_LINK_WINDOW_MS: i64 = 5_000;
/// Where a Discord DM binding's last message id is kept (`discord` / `dm-after:<userId>`): our
/// cursors are per channel, and the older service never stored the DM channel's id. This
/// version's ingress ignores the key; it is the cursor to resume from once the DM channel of
/// that user is opened.
pub const DM_CURSOR_PREFIX: &str = "dm-after:";

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Rows of a table; None if it cannot be counted.
pub(super) fn count(c: &mut SqliteConnection, table: &str) -> Option<i64> {
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .get_result::<Count>(c)
        .ok()
        .map(|r| r.n)
}

/// Keys whose values are secrets in the older service's audit payloads.
const SECRET_FIELDS: [&str; 6] = [
    "code",
    "token",
    "apiKey",
    "inboundToken",
    "secret",
    "password",
];

#[derive(QueryableByName)]
struct AuditDetail {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    detail: String,
}

pub(super) fn audit(
    c: &mut SqliteConnection,
    has: &dyn Fn(&str) -> bool,
    moved: &mut Moved,
) -> Result<(), StoreError> {
    if !has("audit_logs") {
        return Ok(());
    }
    moved.audit_rows = diesel::sql_query(format!(
        "INSERT INTO audit_log (id, at_ms, tenant_id, actor, action, detail) \
         SELECT id, COALESCE(created_at_ms, 0), tenant_id, 'system', \
                COALESCE(event_type, 'legacy_event'), payload_json \
         FROM {} WHERE id IS NOT NULL ORDER BY id",
        set_aside("audit_logs")
    ))
    .execute(c)?;
    let filter = SECRET_FIELDS
        .iter()
        .map(|f| format!("detail LIKE '%\"{f}\"%'"))
        .collect::<Vec<_>>()
        .join(" OR ");
    let suspects: Vec<AuditDetail> =
        diesel::sql_query(format!("SELECT id, detail FROM audit_log WHERE {filter}")).load(c)?;
    for row in suspects {
        let Ok(mut detail) = serde_json::from_str::<Value>(&row.detail) else {
            continue;
        };
        if redact(&mut detail) {
            diesel::update(audit_log::table.find(row.id))
                .set(audit_log::detail.eq(detail.to_string()))
                .execute(c)?;
        }
    }
    Ok(())
}

/// Replaces secret fields anywhere in `v`; true if any was.
fn redact(v: &mut Value) -> bool {
    match v {
        Value::Object(map) => {
            let mut changed = false;
            for (k, val) in map.iter_mut() {
                if SECRET_FIELDS.contains(&k.as_str()) && !val.is_null() {
                    *val = Value::String("[redacted]".into());
                    changed = true;
                } else {
                    changed |= redact(val);
                }
            }
            changed
        }
        Value::Array(items) => items.iter_mut().fold(false, |acc, i| redact(i) | acc),
        _ => false,
    }
}

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
    let mut pending: Vec<&crate::db::models::BindingRow> = bindings
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

#[derive(QueryableByName)]
struct LegacyAnswer {
    #[diesel(sql_type = Nullable<Text>)]
    tenant_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    key: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    request_fingerprint: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    response_status: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    response_body: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    expires_at_ms: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    created_at_ms: Option<i64>,
}

/// Finished, unexpired answers of known tenants.
pub(super) fn idempotency_keys(
    c: &mut SqliteConnection,
    has: &dyn Fn(&str) -> bool,
    known: &HashSet<String>,
    now_ms: i64,
    moved: &mut Moved,
) -> Result<(), StoreError> {
    if !has("idempotency_keys") {
        return Ok(());
    }
    let rows: Vec<LegacyAnswer> = diesel::sql_query(format!(
        "SELECT tenant_id, key, request_fingerprint, response_status, response_body, \
         expires_at_ms, created_at_ms FROM {}",
        set_aside("idempotency_keys")
    ))
    .load(c)?;
    for r in rows {
        let (Some(tenant_id), Some(key), Some(body_text), Some(status), Some(body), Some(expires)) = (
            r.tenant_id,
            r.key,
            r.request_fingerprint,
            r.response_status,
            r.response_body,
            r.expires_at_ms.filter(|e| *e > now_ms),
        ) else {
            moved.skip("idempotency_keys_unfinished_or_expired", 1);
            continue;
        };
        if !known.contains(&tenant_id) {
            moved.skip("idempotency_keys_of_unknown_tenants", 1);
            continue;
        }
        // A body that does not parse can match no request: the key answers 409, never a resend.
        let fingerprint = serde_json::from_str::<Value>(&body_text)
            .map_or_else(|_| hash_secret(&body_text), |v| request_fingerprint(&v));
        diesel::insert_into(ik::table)
            .values((
                ik::tenant_id.eq(&tenant_id),
                ik::idem_key.eq(&key),
                ik::state.eq("done"),
                ik::fingerprint.eq(&fingerprint),
                ik::status_code.eq(status),
                ik::response_body.eq(&body),
                ik::owner.eq(IDEMPOTENCY_OWNER),
                ik::created_at_ms.eq(r.created_at_ms.unwrap_or(now_ms)),
                ik::expires_at_ms.eq(expires),
            ))
            .execute(c)?;
        moved.idempotency_keys += 1;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct LastUpdate {
    #[diesel(sql_type = Nullable<BigInt>)]
    last_update_id: Option<i64>,
}

#[derive(QueryableByName)]
struct LegacyOffset {
    #[diesel(sql_type = Nullable<Text>)]
    last_message_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    route_key: Option<String>,
}

/// Where a Discord route's messages are read: a channel or thread by id, or a DM by its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    Channel(u64),
    DmUser(u64),
}

fn discord_place(route_key: &str) -> Option<Place> {
    let id = |s: &str| s.parse::<u64>().ok().filter(|n| *n > 0);
    match route_key.split(':').collect::<Vec<_>>().as_slice() {
        ["discord", _, "dm", "user", u] => id(u).map(Place::DmUser),
        ["discord", _, "guild", _, "channel", c] => id(c).map(Place::Channel),
        ["discord", _, "guild", _, "channel", _, "thread", t]
        | ["discord", _, "guild", _, "thread", t] => id(t).map(Place::Channel),
        // A whole guild has no inbound.
        _ => None,
    }
}

pub(super) fn offsets(
    c: &mut SqliteConnection,
    has: &dyn Fn(&str) -> bool,
    now_ms: i64,
    moved: &mut Moved,
) -> Result<(), StoreError> {
    if has("telegram_offsets") {
        let last: Option<LastUpdate> = diesel::sql_query(format!(
            "SELECT last_update_id FROM {} ORDER BY id = 1 DESC, id LIMIT 1",
            set_aside("telegram_offsets")
        ))
        .get_result(c)
        .optional()?;
        if let Some(last) = last.and_then(|l| l.last_update_id) {
            let next = last.saturating_add(1);
            put_cursor(c, "telegram", "", &next.to_string(), now_ms)?;
            moved.telegram_offset = Some(next);
        }
    }
    if !has("discord_offsets") {
        return Ok(());
    }
    let join = if has("bindings") {
        format!(
            "SELECT o.last_message_id, b.route_key FROM {} o LEFT JOIN {} b \
             ON b.binding_id = o.binding_id",
            set_aside("discord_offsets"),
            set_aside("bindings")
        )
    } else {
        format!(
            "SELECT last_message_id, NULL AS route_key FROM {}",
            set_aside("discord_offsets")
        )
    };
    let rows: Vec<LegacyOffset> = diesel::sql_query(join).load(c)?;
    let mut last: BTreeMap<Place, u64> = BTreeMap::new();
    for r in rows {
        let place = r.route_key.as_deref().and_then(discord_place);
        let id = r.last_message_id.and_then(|m| m.trim().parse::<u64>().ok());
        let (Some(place), Some(id)) = (place, id) else {
            moved.skip("discord_offsets_without_a_channel", 1);
            continue;
        };
        let e = last.entry(place).or_default();
        *e = (*e).max(id);
    }
    for (place, id) in last {
        let scope = match place {
            Place::Channel(ch) => ch.to_string(),
            Place::DmUser(user) => format!("{DM_CURSOR_PREFIX}{user}"),
        };
        put_cursor(c, "discord", &scope, &id.to_string(), now_ms)?;
        moved.discord_cursors += 1;
    }
    Ok(())
}

fn put_cursor(
    c: &mut SqliteConnection,
    channel: &str,
    scope_key: &str,
    value: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    diesel::insert_into(ingress_offsets::table)
        .values((
            ingress_offsets::channel.eq(channel),
            ingress_offsets::scope_key.eq(scope_key),
            ingress_offsets::cursor.eq(value),
            ingress_offsets::updated_at_ms.eq(now_ms),
        ))
        .execute(c)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secrets_in_legacy_audit_payloads_are_redacted_and_the_rest_kept() {
        let mut v = json!({"bindingId": "bind_1", "code": "PAIR-1", "routeKey": "r",
                           "nested": [{"token": "mpt_x"}], "inboundToken": null});
        assert!(redact(&mut v));
        assert_eq!(
            v,
            json!({"bindingId": "bind_1", "code": "[redacted]", "routeKey": "r",
                   "nested": [{"token": "[redacted]"}], "inboundToken": null})
        );
        assert!(!redact(&mut json!({"bindingId": "b"})));
    }

    #[test]
    fn discord_route_keys_name_the_channel_or_thread_read_or_the_dm_user() {
        assert_eq!(
            discord_place("discord:default:guild:1:channel:2"),
            Some(Place::Channel(2))
        );
        assert_eq!(
            discord_place("discord:default:guild:1:channel:2:thread:3"),
            Some(Place::Channel(3))
        );
        assert_eq!(
            discord_place("discord:other:guild:1:thread:4"),
            Some(Place::Channel(4))
        );
        assert_eq!(
            discord_place("discord:default:dm:user:5"),
            Some(Place::DmUser(5))
        );
        assert_eq!(discord_place("discord:default:guild:1"), None);
        assert_eq!(discord_place("telegram:default:chat:1"), None);
    }
}
