//! The periodic sweep: what is no longer needed leaves the database, so it stays small for years.

use diesel::prelude::*;

use super::op::WriteOp;
use super::schema::{bindings, inbound_events, pairing_tokens};
use crate::domain::{BindingStatus, EventState};
use crate::error::StoreError;

/// Delivered events are kept this long: their rows are what drops a platform's redelivery (Meta
/// retries a webhook for up to 7 days), so they must outlive it.
pub const DELIVERED_RETENTION_MS: i64 = 8 * 24 * 3600 * 1000;
/// Expired or used pairing tokens are kept a day for support questions, then dropped.
pub const TOKEN_RETENTION_MS: i64 = 24 * 3600 * 1000;

/// Deletes old delivered events and old tokens; ends pending bindings whose token expired.
pub struct Prune {
    pub now_ms: i64,
}

/// How many rows each part removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub events: usize,
    pub tokens: usize,
    pub pending_bindings: usize,
    /// Expired file grants (`file_grants`).
    pub file_grants: usize,
}

impl WriteOp for Prune {
    type Output = Pruned;

    fn apply(self, conn: &mut SqliteConnection) -> Result<Pruned, StoreError> {
        let expired_pending = pairing_tokens::table
            .filter(pairing_tokens::expires_at_ms.le(self.now_ms))
            .filter(pairing_tokens::consumed_at_ms.is_null())
            .filter(pairing_tokens::pending_binding_id.is_not_null())
            .select(pairing_tokens::pending_binding_id.assume_not_null());
        let pending_bindings = diesel::update(
            bindings::table
                .filter(bindings::status.eq(BindingStatus::Pending.as_str()))
                .filter(bindings::binding_id.eq_any(expired_pending)),
        )
        .set((
            bindings::status.eq(BindingStatus::Expired.as_str()),
            bindings::updated_at_ms.eq(self.now_ms),
        ))
        .execute(conn)?;
        let events = diesel::delete(
            inbound_events::table
                .filter(inbound_events::state.eq(EventState::Delivered.as_str()))
                .filter(inbound_events::updated_at_ms.lt(self.now_ms - DELIVERED_RETENTION_MS)),
        )
        .execute(conn)?;
        let tokens = diesel::delete(
            pairing_tokens::table
                .filter(pairing_tokens::expires_at_ms.lt(self.now_ms - TOKEN_RETENTION_MS)),
        )
        .execute(conn)?;
        let file_grants = super::file_grants::expire(conn, self.now_ms)?;
        Ok(Pruned {
            file_grants,
            events,
            tokens,
            pending_bindings,
        })
    }
}

crate::write_message!(Prune);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TenantSeed;
    use crate::db::inbound::{EnqueueInbound, NewInboundEvent, Outcome, RecordAttempt};
    use crate::db::{self, tenants::SeedTenants};
    use crate::domain::Channel;

    #[test]
    fn only_old_delivered_events_and_old_tokens_go() {
        let dir = tempfile::tempdir().unwrap();
        let conn = &mut db::open_writer(&dir.path().join("p.sqlite")).unwrap();
        let seed = TenantSeed {
            id: "t".into(),
            name: "t".into(),
            api_key: "k".into(),
            inbound: None,
        };
        SeedTenants {
            seeds: vec![seed],
            now_ms: 0,
        }
        .apply(conn)
        .unwrap();
        let ev = |id: &str| {
            NewInboundEvent::pending(Channel::Telegram, id.into(), "t", "s", "{}".into(), 0)
        };
        EnqueueInbound {
            events: vec![ev("old"), ev("pending"), ev("recent")],
            cursor: None,
            now_ms: 0,
        }
        .apply(conn)
        .unwrap();
        RecordAttempt {
            id: 1,
            outcome: Outcome::Delivered,
            now_ms: 0,
        }
        .apply(conn)
        .unwrap();
        RecordAttempt {
            id: 3,
            outcome: Outcome::Delivered,
            now_ms: DELIVERED_RETENTION_MS,
        }
        .apply(conn)
        .unwrap();
        let pruned = Prune {
            now_ms: DELIVERED_RETENTION_MS + 1,
        }
        .apply(conn)
        .unwrap();
        assert_eq!(pruned.events, 1);
        let left: Vec<String> = crate::db::schema::inbound_events::table
            .select(crate::db::schema::inbound_events::event_id)
            .order(crate::db::schema::inbound_events::id)
            .load(conn)
            .unwrap();
        assert_eq!(
            left,
            vec!["pending", "recent"],
            "pending events are never pruned"
        );
    }
}
