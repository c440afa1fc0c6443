//! Outbound idempotency keys (contract §5). A request reads its key (`lookup`) while holding it
//! in memory (`outbound::single_flight`), and its outcome is written once, after the platform
//! call (`StoreOutcome`): the exact answer, replayed byte for byte, or — for a split send the
//! rate limit cut short (issue 9.2) — the platform ids of the parts that went out, which the next
//! request with the same body resumes from. Nothing is written before the platform call and
//! nothing when a request sends nothing, so a keyed send costs one op, written behind its answer.
//! A crash before that op commits leaves the key free (at-least-once across crashes; contract
//! §5). Builds before issue 12 reserved keys durably (`state = 'reserved'`); such rows are
//! released at start (`ReleaseStaleReservations`).

use diesel::prelude::*;
use diesel::upsert::excluded;

use super::op::WriteOp;
use super::schema::idempotency_keys as ik;
use crate::error::StoreError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ik)]
pub struct IdempotencyRow {
    pub tenant_id: String,
    pub idem_key: String,
    pub state: String,
    pub fingerprint: String,
    pub status_code: Option<i32>,
    pub response_body: Option<String>,
    pub owner: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    /// The ids of the parts already sent (JSON array), when a split send was cut short.
    pub sent_ids: Option<String>,
}

/// What a request with a key and body finds in the store. Reading it holds nothing: while a
/// request runs, its key is held in memory (`outbound::single_flight`), and its answer is
/// written after the platform call (`StoreAnswer`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// No live entry: the caller may send.
    Free,
    /// A finished request with the same body: answer with this, byte for byte.
    Replay { status: u16, body: String },
    /// The key was used with another body.
    Mismatch,
    /// Held by a process that reserved keys durably (a build before issue 12) and is still
    /// running; entries of a dead one are released at start (`ReleaseStaleReservations`).
    InFlight,
    /// A split send cut short earlier: the caller sends only the parts after these (platform ids
    /// of the parts that went out, in order).
    Resume { sent: Vec<String> },
}

/// Reads what `(tenant, key)` holds for a request whose body hashes to `fingerprint`.
pub fn lookup(
    conn: &mut SqliteConnection,
    tenant_id: &str,
    key: &str,
    fingerprint: &str,
    now_ms: i64,
) -> Result<Reservation, StoreError> {
    let row = ik::table
        .find((tenant_id, key))
        .select(IdempotencyRow::as_select())
        .first(conn)
        .optional()?;
    Ok(match row {
        Some(row) if row.expires_at_ms > now_ms => found(row, fingerprint),
        _ => Reservation::Free,
    })
}

/// The keys with a live entry, with their expiry — at most `limit`; `None` when there are more
/// (then only the latest expiry, so a caller knows how long it cannot vouch for a key).
pub enum LiveKeys {
    All(Vec<(String, String, i64)>),
    TooMany { latest_expiry_ms: i64 },
}

pub fn live_keys(
    conn: &mut SqliteConnection,
    now_ms: i64,
    limit: usize,
) -> Result<LiveKeys, StoreError> {
    let live = ik::table.filter(ik::expires_at_ms.gt(now_ms));
    let count: i64 = live.count().get_result(conn)?;
    if usize::try_from(count).unwrap_or(usize::MAX) > limit {
        let latest: Option<i64> = live
            .select(diesel::dsl::max(ik::expires_at_ms))
            .first(conn)?;
        return Ok(LiveKeys::TooMany {
            latest_expiry_ms: latest.unwrap_or(now_ms),
        });
    }
    Ok(LiveKeys::All(
        live.select((ik::tenant_id, ik::idem_key, ik::expires_at_ms))
            .load(conn)?,
    ))
}

fn found(row: IdempotencyRow, fingerprint: &str) -> Reservation {
    if row.fingerprint != fingerprint {
        return Reservation::Mismatch;
    }
    match (row.state.as_str(), row.status_code, row.response_body) {
        ("done", Some(status), Some(body)) => Reservation::Replay {
            status: u16::try_from(status).unwrap_or(500),
            body,
        },
        ("partial", _, _) => Reservation::Resume {
            sent: parse_sent(row.sent_ids.as_deref()),
        },
        _ => Reservation::InFlight,
    }
}

fn parse_sent(raw: Option<&str>) -> Vec<String> {
    raw.and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default()
}

/// The entry a finished request leaves: its answer (`done`), or, for a split send the rate
/// limit cut short, the ids of the parts that went out (`partial`; the next request with the
/// same body resumes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Answered { status: u16, body: String },
    Partial { sent_ids: Vec<String> },
}

/// Writes a key's outcome, replacing whatever entry the key had (an expired one, or the partial
/// entry a resumed send started from). One statement, so it needs no savepoint of its own.
pub struct StoreOutcome {
    pub tenant_id: String,
    pub key: String,
    pub fingerprint: String,
    pub owner: String,
    pub now_ms: i64,
    pub expires_at_ms: i64,
    pub outcome: Outcome,
}

impl WriteOp for StoreOutcome {
    type Output = ();
    const ONE_STATEMENT: bool = true;

    fn apply(self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        let (state, status, body, sent) = match self.outcome {
            Outcome::Answered { status, body } => {
                ("done", Some(i32::from(status)), Some(body), None)
            }
            Outcome::Partial { sent_ids } => {
                let sent = serde_json::to_string(&sent_ids)
                    .map_err(|e| StoreError::Unavailable(format!("sent ids: {e}")))?;
                ("partial", None, None, Some(sent))
            }
        };
        diesel::insert_into(ik::table)
            .values((
                ik::tenant_id.eq(&self.tenant_id),
                ik::idem_key.eq(&self.key),
                ik::state.eq(state),
                ik::fingerprint.eq(&self.fingerprint),
                ik::status_code.eq(status),
                ik::response_body.eq(&body),
                ik::owner.eq(&self.owner),
                ik::created_at_ms.eq(self.now_ms),
                ik::expires_at_ms.eq(self.expires_at_ms),
                ik::sent_ids.eq(&sent),
            ))
            .on_conflict((ik::tenant_id, ik::idem_key))
            .do_update()
            .set((
                ik::state.eq(excluded(ik::state)),
                ik::fingerprint.eq(excluded(ik::fingerprint)),
                ik::status_code.eq(excluded(ik::status_code)),
                ik::response_body.eq(excluded(ik::response_body)),
                ik::owner.eq(excluded(ik::owner)),
                ik::created_at_ms.eq(excluded(ik::created_at_ms)),
                ik::expires_at_ms.eq(excluded(ik::expires_at_ms)),
                ik::sent_ids.eq(excluded(ik::sent_ids)),
            ))
            .execute(conn)?;
        Ok(())
    }
}

/// At start: reservations of any other process are of one that is gone (one process per
/// database), so they are released; one that was resuming a partial send goes back to partial.
pub struct ReleaseStaleReservations {
    pub owner: String,
}

impl WriteOp for ReleaseStaleReservations {
    type Output = usize;

    fn apply(self, conn: &mut SqliteConnection) -> Result<usize, StoreError> {
        let stale = ik::table
            .filter(ik::state.eq("reserved"))
            .filter(ik::owner.ne(&self.owner));
        let resumable = diesel::update(stale.filter(ik::sent_ids.is_not_null()))
            .set(ik::state.eq("partial"))
            .execute(conn)?;
        let released = diesel::delete(stale.filter(ik::sent_ids.is_null())).execute(conn)?;
        Ok(resumable + released)
    }
}

/// The expiry sweep.
pub struct PruneIdempotencyKeys {
    pub now_ms: i64,
}

impl WriteOp for PruneIdempotencyKeys {
    type Output = usize;

    fn apply(self, conn: &mut SqliteConnection) -> Result<usize, StoreError> {
        Ok(diesel::delete(ik::table.filter(ik::expires_at_ms.le(self.now_ms))).execute(conn)?)
    }
}

crate::write_message!(StoreOutcome, ReleaseStaleReservations, PruneIdempotencyKeys);

#[cfg(test)]
mod tests;
