//! The audit log and the stored idempotent answers of the older service.
//!
//! - Audit rows keep their ids and times; secrets in their payloads (a claimed code) are redacted.
//! - Idempotent answers replay byte for byte: the stored body text is kept and the older
//!   fingerprint (the request body as JSON text) becomes ours (`domain::request_fingerprint`).

use std::collections::HashSet;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use serde_json::Value;

use super::set_aside;
use super::upgrade::Moved;
use crate::db::schema::{audit_log, idempotency_keys as ik};
use crate::domain::{hash_secret, request_fingerprint};
use crate::error::StoreError;

/// The owner of moved idempotency answers (finished, so no process ever releases them).
const IDEMPOTENCY_OWNER: &str = "legacy-upgrade";

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
}
