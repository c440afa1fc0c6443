//! Reading a tenant's backlog from SQLite a little at a time. Memory holds at most
//! [`PER_SESSION`] events of a session and [`MAX_HELD`] of a tenant, and all forwarders together
//! no more than the global budget; the rest waits in the database.
//!
//! Two reads: the *scan* walks the tenant's pending rows by id (`loaded_up_to`) to find new
//! sessions and events; a session that is full when the scan meets another of its events is
//! marked in `overflow` with the id up to which all its pending events are held or done, and the
//! scan moves on. Such a session is *refilled* from that id, by its own query, as it drains.
//! Both run in one read, refills first, one read at a time: a session's events are appended in
//! id order and never twice (`known`).

use actix::prelude::*;

use super::Forwarder;
use crate::actors::forwarder::delivery::Pending;
use crate::db::{self, inbound::QueuedEvent};
use crate::time::now_ms;

/// Events of one session held in memory: its head and the next few.
pub(super) const PER_SESSION: usize = 16;
/// A session with more in the database is refilled when it holds this many or fewer.
const REFILL_AT: usize = 4;
/// Events one forwarder holds at most.
pub(super) const MAX_HELD: usize = 32;
/// Rows the scan reads at a time.
const LOAD_BATCH: i64 = 32;
/// Scan again when fewer than this many events are in memory.
const LOW_WATER: usize = 16;
/// Retry delay when the database could not be read.
const READ_RETRY_MS: i64 = 1_000;

/// One session to refill: its key, the id to read after, how many rows to ask for.
type Refill = (String, i32, i64);

impl Forwarder {
    pub(super) fn in_memory(&self) -> usize {
        self.known.len()
    }

    fn held_in(&self, session: &str) -> usize {
        self.sessions.get(session).map_or(0, |q| q.len())
    }

    fn may_hold_more(&self) -> bool {
        !self.budget_blocked && self.in_memory() < MAX_HELD
    }

    fn refills(&self) -> Vec<Refill> {
        if !self.may_hold_more() {
            return Vec::new();
        }
        self.overflow
            .iter()
            .filter(|(s, _)| self.held_in(s) <= REFILL_AT)
            .map(|(s, after)| {
                // Held events of the session may come back in the answer; ask for room beyond.
                let limit = (PER_SESSION + self.held_in(s)) as i64;
                (s.clone(), *after, limit)
            })
            .collect()
    }

    fn wants_scan(&self) -> bool {
        self.more_in_db && !self.budget_blocked && self.in_memory() < LOW_WATER
    }

    /// Whether a read would bring anything in now.
    pub(super) fn wants_read(&self) -> bool {
        self.wants_scan() || !self.refills().is_empty()
    }

    /// Reads what there is room for: refills of drained sessions and the next slice of the scan.
    pub(super) fn load(&mut self, ctx: &mut Context<Self>) {
        if self.loading {
            self.reload = true;
            return;
        }
        let refills = self.refills();
        let scan = self.wants_scan();
        if refills.is_empty() && !scan {
            return;
        }
        self.loading = true;
        let (tenant, after, reads) = (
            self.tenant_id.to_string(),
            self.loaded_up_to,
            self.deps.reads.clone(),
        );
        let read = async move {
            db::read(&reads, move |c| {
                let mut refilled = Vec::with_capacity(refills.len());
                for (session, from, limit) in refills {
                    let rows =
                        db::inbound::pending_in_session_after(c, &tenant, &session, from, limit)?;
                    refilled.push((session, limit, rows));
                }
                let scanned = if scan {
                    db::inbound::pending_after(c, &tenant, after, LOAD_BATCH)?
                } else {
                    Vec::new()
                };
                Ok((refilled, scanned))
            })
            .await
        };
        ctx.spawn(read.into_actor(self).map(move |res, act, ctx| {
            act.loading = false;
            let done = std::mem::take(&mut act.done_while_loading);
            // A lost wake-up here would strand committed events until the tenant's next
            // event (found by the benchmark): a poke during the read forces another read.
            let reload = std::mem::take(&mut act.reload);
            match res {
                Ok((refilled, scanned)) => {
                    for (session, limit, rows) in refilled {
                        act.refill(session, limit, rows, &done);
                    }
                    let more = scan && act.take_scanned(scanned, &done);
                    act.more_in_db = more || reload || (!scan && act.more_in_db);
                }
                Err(e) => {
                    act.more_in_db = true;
                    log::error!(
                        "event=forward_load_failed tenant={} error={e}",
                        act.tenant_id
                    );
                    act.schedule(ctx, now_ms() + READ_RETRY_MS);
                    return;
                }
            }
            act.pump(ctx);
        }));
    }

    /// Takes a session's next events; it leaves `overflow` once the database has no more.
    fn refill(
        &mut self,
        session: String,
        limit: i64,
        rows: Vec<QueuedEvent>,
        done: &std::collections::HashSet<i32>,
    ) {
        let Some(mut after) = self.overflow.get(&session).copied() else {
            return;
        };
        let mut more = rows.len() as i64 == limit;
        for row in rows {
            if done.contains(&row.id) || self.known.contains(&row.id) {
                after = after.max(row.id);
                continue;
            }
            let id = row.id;
            if self.held_in(&session) >= PER_SESSION || !self.hold(row) {
                more = true;
                break;
            }
            after = after.max(id);
        }
        if more {
            self.overflow.insert(session, after);
        } else {
            self.overflow.remove(&session);
        }
    }

    /// Takes the scan's rows while there is room; answers whether the database may have more.
    fn take_scanned(
        &mut self,
        rows: Vec<QueuedEvent>,
        done: &std::collections::HashSet<i32>,
    ) -> bool {
        let more = rows.len() as i64 == LOAD_BATCH;
        for row in rows {
            let id = row.id;
            if done.contains(&id) || self.known.contains(&id) {
            } else if let Some(after) = self.overflow.get_mut(&row.session_key) {
                // A requeued dead event can lie below what was read of its session.
                *after = (*after).min(id - 1);
            } else if self.held_in(&row.session_key) >= PER_SESSION {
                let held = self.sessions.get(&row.session_key);
                let top = held.and_then(|q| q.iter().map(|p| p.id).max()).unwrap_or(0);
                self.overflow
                    .insert(row.session_key.clone(), top.min(id - 1));
            } else if self.in_memory() >= MAX_HELD || !self.hold(row) {
                return true;
            }
            self.loaded_up_to = self.loaded_up_to.max(id);
        }
        more
    }

    /// Keeps `row` in memory if the budget allows; marks the forwarder blocked if not.
    fn hold(&mut self, row: QueuedEvent) -> bool {
        let first = self.known.is_empty();
        let Some(charge) = self.deps.budget.try_take(Pending::cost(&row), first) else {
            self.budget_blocked = true;
            return false;
        };
        self.known.insert(row.id);
        let session = row.session_key.clone();
        self.sessions
            .entry(session)
            .or_default()
            .push_back(Pending::new(row, charge));
        true
    }
}
