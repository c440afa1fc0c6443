//! Outbound idempotency keys (contract §5): a key is reserved durably before the platform call,
//! completed with the exact answer after it, and released when nothing was sent. Each
//! reservation names the process that made it, so a restart can release the reservations of the
//! process that died (at-least-once across crashes, never twice while a process lives).

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
                return Ok(found(row, &self.fingerprint));
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
        _ => Reservation::InFlight,
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
        diesel::delete(
            ik::table
                .find((&self.tenant_id, &self.key))
                .filter(ik::owner.eq(&self.owner))
                .filter(ik::state.eq("reserved")),
        )
        .execute(conn)?;
        Ok(())
    }
}

/// At start: reservations of any other process are of one that is gone (one process per
/// database), so they are released.
pub struct ReleaseStaleReservations {
    pub owner: String,
}

impl WriteOp for ReleaseStaleReservations {
    type Output = usize;

    fn apply(self, conn: &mut SqliteConnection) -> Result<usize, StoreError> {
        Ok(diesel::delete(
            ik::table
                .filter(ik::state.eq("reserved"))
                .filter(ik::owner.ne(&self.owner)),
        )
        .execute(conn)?)
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
    ReleaseStaleReservations,
    PruneIdempotencyKeys
);

#[cfg(test)]
mod tests;
