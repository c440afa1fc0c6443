//! Read-side summaries for operators: the admin tenant listing and the queue gauges of
//! `/metrics`. These run on the read pool, never on the Writer.

use std::collections::HashMap;

use diesel::dsl::{count_star, min};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use serde::Serialize;

use super::models::TenantRow;
use super::schema::{bindings, inbound_events, tenant_api_keys, tenants};
use crate::domain::{BindingStatus, EventState, TenantStatus};
use crate::error::StoreError;

/// One active key, without its hash.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct KeySummary {
    pub key_id: String,
    pub label: Option<String>,
    pub created_at_ms: i64,
}

/// The latest delivery attempt's outcome for a tenant.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LastDelivery {
    /// `delivered`, `dead`, or `retrying` (pending after a failed attempt).
    pub state: String,
    pub at_ms: i64,
    pub error: Option<String>,
}

/// One row of `GET /v1/admin/tenants`. Never holds the inbound token.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TenantOverview {
    pub id: String,
    pub name: String,
    pub status: String,
    pub enabled: bool,
    pub inbound_url: Option<String>,
    pub inbound_timeout_ms: Option<i64>,
    pub created_at_ms: i64,
    pub keys: Vec<KeySummary>,
    pub bindings: i64,
    pub queue_depth: i64,
    pub last_delivery: Option<LastDelivery>,
}

impl TenantOverview {
    /// The tenant part only (for the create answer), with empty counters.
    pub fn from_row(row: TenantRow) -> TenantOverview {
        let inbound_timeout_ms = row.inbound_url.as_ref().and(row.inbound_timeout_ms);
        TenantOverview {
            enabled: row.status() == TenantStatus::Active,
            id: row.id,
            name: row.name,
            status: row.status,
            inbound_url: row.inbound_url,
            inbound_timeout_ms,
            created_at_ms: row.created_at_ms,
            keys: Vec::new(),
            bindings: 0,
            queue_depth: 0,
            last_delivery: None,
        }
    }
}

#[derive(QueryableByName)]
struct LastRow {
    #[diesel(sql_type = Text)]
    tenant_id: String,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Nullable<Text>)]
    last_error: Option<String>,
    #[diesel(sql_type = BigInt)]
    updated_at_ms: i64,
}

/// Every tenant with its keys, active binding count, pending queue and last delivery, by id.
pub fn tenants(conn: &mut SqliteConnection) -> Result<Vec<TenantOverview>, StoreError> {
    let rows: Vec<TenantRow> = tenants::table
        .select(TenantRow::as_select())
        .order(tenants::id)
        .load(conn)?;
    let mut keys: HashMap<String, Vec<KeySummary>> = HashMap::new();
    let key_rows: Vec<(String, String, Option<String>, i64)> = tenant_api_keys::table
        .filter(tenant_api_keys::revoked_at_ms.is_null())
        .select((
            tenant_api_keys::tenant_id,
            tenant_api_keys::key_id,
            tenant_api_keys::label,
            tenant_api_keys::created_at_ms,
        ))
        .order(tenant_api_keys::created_at_ms)
        .load(conn)?;
    for (tenant_id, key_id, label, created_at_ms) in key_rows {
        keys.entry(tenant_id).or_default().push(KeySummary {
            key_id,
            label,
            created_at_ms,
        });
    }
    let binding_counts: HashMap<String, i64> = bindings::table
        .filter(bindings::status.eq(BindingStatus::Active.as_str()))
        .group_by(bindings::tenant_id)
        .select((bindings::tenant_id, count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let queue: HashMap<String, i64> = inbound_events::table
        .filter(inbound_events::state.eq(EventState::Pending.as_str()))
        .group_by(inbound_events::tenant_id)
        .select((inbound_events::tenant_id, count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let mut last = last_deliveries(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let id = row.id.clone();
            let mut overview = TenantOverview::from_row(row);
            overview.keys = keys.remove(&id).unwrap_or_default();
            overview.bindings = binding_counts.get(&id).copied().unwrap_or(0);
            overview.queue_depth = queue.get(&id).copied().unwrap_or(0);
            overview.last_delivery = last.remove(&id);
            overview
        })
        .collect())
}

/// The most recently updated attempted event per tenant (portable SQL: no bare-column MAX).
fn last_deliveries(
    conn: &mut SqliteConnection,
) -> Result<HashMap<String, LastDelivery>, StoreError> {
    let rows: Vec<LastRow> = diesel::sql_query(
        "SELECT e.tenant_id, e.state, e.last_error, e.updated_at_ms FROM inbound_events e \
         JOIN (SELECT tenant_id, MAX(updated_at_ms) AS m FROM inbound_events \
               WHERE state <> 'pending' OR attempts > 0 GROUP BY tenant_id) l \
         ON e.tenant_id = l.tenant_id AND e.updated_at_ms = l.m \
         WHERE e.state <> 'pending' OR e.attempts > 0 \
         ORDER BY e.id DESC",
    )
    .load(conn)?;
    let mut out = HashMap::new();
    for r in rows {
        let state = if r.state == EventState::Pending.as_str() {
            "retrying".to_owned()
        } else {
            r.state
        };
        out.entry(r.tenant_id).or_insert(LastDelivery {
            state,
            at_ms: r.updated_at_ms,
            error: r.last_error,
        });
    }
    Ok(out)
}

/// Pending inbound events, all tenants, and the creation time of the oldest one.
pub fn queue_stats(conn: &mut SqliteConnection) -> Result<(i64, Option<i64>), StoreError> {
    Ok(inbound_events::table
        .filter(inbound_events::state.eq(EventState::Pending.as_str()))
        .select((count_star(), min(inbound_events::created_at_ms)))
        .first(conn)?)
}
