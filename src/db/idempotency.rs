//! Outbound idempotency keys (contract §5): a key is reserved durably before the platform call,
//! completed with the exact answer after it, and released when nothing was sent. Each
//! reservation names the process that made it, so a restart can release the reservations of the
//! process that died (at-least-once across crashes, never twice while a process lives).
//!
//! A split send cut short by the rate limit is *partial* (issue 9.2): the key holds the platform
//! ids of the parts that went out, no request holds it, and the next request with the same body
//! resumes it — it sends only the remaining parts.

use diesel::prelude::*;

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

/// What a reservation attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The caller holds the key and must complete or release it.
    Reserved,
    /// A finished request with the same body: answer with this, byte for byte.
    Replay { status: u16, body: String },
    /// The key was used with another body.
    Mismatch,
    /// Another request with this key is still running.
    InFlight,
    /// A split send cut short earlier: the caller now holds the key and sends only the parts
    /// after these (platform ids of the parts that went out, in order).
    Resume { sent: Vec<String> },
}

/// Reserve `(tenant, key)` for a request whose body hashes to `fingerprint`.
pub struct ReserveIdempotencyKey {
    pub tenant_id: String,
    pub key: String,
    pub fingerprint: String,
    pub owner: String,
    pub now_ms: i64,
    pub expires_at_ms: i64,
}

impl WriteOp for ReserveIdempotencyKey {
    type Output = Reservation;

    fn apply(self, conn: &mut SqliteConnection) -> Result<Reservation, StoreError> {
        let existing = ik::table
            .find((&self.tenant_id, &self.key))
            .select(IdempotencyRow::as_select())
            .first(conn)
            .optional()?;
        if let Some(row) = existing {
            if row.expires_at_ms > self.now_ms {
                let found = found(row, &self.fingerprint);
                if let Reservation::Resume { .. } = found {
                    // The partial send is this request's to finish now.
                    diesel::update(ik::table.find((&self.tenant_id, &self.key)))
                        .set((ik::state.eq("reserved"), ik::owner.eq(&self.owner)))
                        .execute(conn)?;
                }
                return Ok(found);
            }
            diesel::delete(ik::table.find((&self.tenant_id, &self.key))).execute(conn)?;
        }
        diesel::insert_into(ik::table)
            .values((
                ik::tenant_id.eq(&self.tenant_id),
                ik::idem_key.eq(&self.key),
                ik::state.eq("reserved"),
                ik::fingerprint.eq(&self.fingerprint),
                ik::owner.eq(&self.owner),
                ik::created_at_ms.eq(self.now_ms),
                ik::expires_at_ms.eq(self.expires_at_ms),
            ))
            .execute(conn)?;
        Ok(Reservation::Reserved)
    }
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

/// A split send of a reserved key was cut short by the rate limit after `sent_ids` went out:
/// the key becomes partial (free for the next request with the same body, which resumes it).
pub struct RecordSendProgress {
    pub tenant_id: String,
    pub key: String,
    pub owner: String,
    pub sent_ids: Vec<String>,
    pub expires_at_ms: i64,
}

impl WriteOp for RecordSendProgress {
    type Output = ();

    fn apply(self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        let sent = serde_json::to_string(&self.sent_ids)
            .map_err(|e| StoreError::Unavailable(format!("sent ids: {e}")))?;
        diesel::update(
            ik::table
                .find((&self.tenant_id, &self.key))
                .filter(ik::owner.eq(&self.owner)),
        )
        .set((
            ik::state.eq("partial"),
            ik::sent_ids.eq(sent),
            ik::expires_at_ms.eq(self.expires_at_ms),
        ))
        .execute(conn)?;
        Ok(())
    }
}

/// Store the answer of a reserved key (only the reserving process may).
pub struct CompleteIdempotencyKey {
    pub tenant_id: String,
    pub key: String,
    pub owner: String,
    pub status: u16,
    pub body: String,
    pub expires_at_ms: i64,
}

impl WriteOp for CompleteIdempotencyKey {
    type Output = ();

    fn apply(self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        diesel::update(
            ik::table
                .find((&self.tenant_id, &self.key))
                .filter(ik::owner.eq(&self.owner)),
        )
        .set((
            ik::state.eq("done"),
            ik::status_code.eq(i32::from(self.status)),
            ik::response_body.eq(&self.body),
            ik::expires_at_ms.eq(self.expires_at_ms),
        ))
        .execute(conn)?;
        Ok(())
    }
}

/// Drop a reservation whose request sent nothing (validation, route, rate limit, disabled), so
/// the same key can be tried again.
pub struct ReleaseIdempotencyKey {
    pub tenant_id: String,
    pub key: String,
    pub owner: String,
}

impl WriteOp for ReleaseIdempotencyKey {
    type Output = ();

    fn apply(self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        let mine = ik::table
            .find((&self.tenant_id, &self.key))
            .filter(ik::owner.eq(&self.owner))
            .filter(ik::state.eq("reserved"));
        // A resumed send keeps what earlier attempts sent; a fresh one leaves no trace.
        diesel::update(mine.filter(ik::sent_ids.is_not_null()))
            .set(ik::state.eq("partial"))
            .execute(conn)?;
        diesel::delete(mine.filter(ik::sent_ids.is_null())).execute(conn)?;
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

crate::write_message!(
    ReserveIdempotencyKey,
    CompleteIdempotencyKey,
    ReleaseIdempotencyKey,
    RecordSendProgress,
    ReleaseStaleReservations,
    PruneIdempotencyKeys
);

#[cfg(test)]
mod tests;
