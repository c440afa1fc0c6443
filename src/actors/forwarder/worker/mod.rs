//! One tenant's forwarder: FIFO per session key, a few sessions in flight at once, retries with
//! backoff, and every outcome recorded through the Writer before memory moves on.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use super::attempt::{self, Response};
use super::delivery::{Pending, post};
use super::manager::{ForwarderDeps, Forwarders, Idle};
use crate::db::op::write;
use crate::db::{inbound::Outcome, inbound::RecordAttempt};
use crate::time::now_ms;

mod load;
mod messages;
pub(super) use messages::{Drain, Poke, Stop};

/// Sessions of one tenant delivered concurrently; events of one session never overlap.
const MAX_SESSIONS_IN_FLIGHT: usize = 4;
/// How long a disabled tenant's events wait before the forwarder looks again (enabling the
/// tenant also wakes it at once).
const HELD_RECHECK_MS: i64 = 60_000;
/// Retry delay when the database could not record an outcome.
const STORE_RETRY_MS: i64 = 1_000;

thread_local! {
    /// One HTTP client per forwarder thread, shared by its forwarders: a client's TLS setup
    /// (its root store) weighs far more than the few events a forwarder holds, times 2000
    /// tenants. No connection limit, so one tenant's hanging endpoint never takes a slot
    /// another tenant needs. Redirects are failures (Standard Webhooks): the tenant should fix
    /// its URL.
    static CLIENT: awc::Client = awc::Client::builder()
        .connector(awc::Connector::new().limit(0))
        .disable_redirects()
        .timeout(Duration::from_secs(600))
        .finish();
}

pub(super) struct Forwarder {
    tenant_id: Arc<str>,
    deps: ForwarderDeps,
    manager: Addr<Forwarders>,
    client: Option<awc::Client>,
    sessions: HashMap<String, VecDeque<Pending>>,
    /// Sessions with more pending in the database than in memory: all their pending events up
    /// to this id are in memory or done; the rest is read as the session drains (load.rs).
    overflow: HashMap<String, i32>,
    /// The global budget refused an event: read nothing more until one of ours is finished.
    budget_blocked: bool,
    known: HashSet<i32>,
    /// Events finished while a read was running: that read may still list them as pending.
    done_while_loading: HashSet<i32>,
    in_flight: HashSet<String>,
    loaded_up_to: i32,
    loading: bool,
    /// A poke came while a read was running: that read may predate the new events, so read again.
    reload: bool,
    more_in_db: bool,
    seen: u64,
    timer: Option<SpawnHandle>,
    /// Shutting down: no new attempts; these are told when the last one in flight is recorded.
    drain: Option<Vec<tokio::sync::oneshot::Sender<()>>>,
}

impl Forwarder {
    pub fn new(tenant_id: Arc<str>, deps: ForwarderDeps, manager: Addr<Forwarders>) -> Forwarder {
        Forwarder {
            tenant_id,
            deps,
            manager,
            client: None,
            sessions: HashMap::new(),
            overflow: HashMap::new(),
            budget_blocked: false,
            known: HashSet::new(),
            done_while_loading: HashSet::new(),
            in_flight: HashSet::new(),
            loaded_up_to: 0,
            loading: false,
            reload: false,
            more_in_db: true,
            seen: 0,
            timer: None,
            drain: None,
        }
    }

    /// Starts every attempt that may start now; arranges to be called again when one may.
    fn pump(&mut self, ctx: &mut Context<Self>) {
        if let Some(waiters) = &mut self.drain {
            if self.in_flight.is_empty() {
                for waiter in waiters.drain(..) {
                    let _ = waiter.send(());
                }
                ctx.stop();
            }
            return;
        }
        let now = now_ms();
        let mut earliest: Option<i64> = None;
        let due: Vec<String> = self
            .sessions
            .iter()
            .filter(|(s, _)| !self.in_flight.contains(*s))
            .filter_map(|(s, q)| {
                let head = q.front()?;
                if head.next_attempt_at_ms <= now {
                    Some(s.clone())
                } else {
                    earliest = Some(
                        earliest
                            .map_or(head.next_attempt_at_ms, |e| e.min(head.next_attempt_at_ms)),
                    );
                    None
                }
            })
            .collect();
        for session in due {
            if self.in_flight.len() >= MAX_SESSIONS_IN_FLIGHT {
                earliest = Some(now);
                break;
            }
            self.start_attempt(session, ctx);
        }
        if let Some(at) = earliest.filter(|_| self.in_flight.len() < MAX_SESSIONS_IN_FLIGHT) {
            self.schedule(ctx, at);
        }
        if self.wants_read() {
            self.load(ctx);
        } else if self.known.is_empty()
            && self.in_flight.is_empty()
            && self.overflow.is_empty()
            && !self.more_in_db
            && !self.loading
        {
            self.manager.do_send(Idle {
                tenant_id: self.tenant_id.clone(),
                seen: self.seen,
            });
        }
    }

    fn schedule(&mut self, ctx: &mut Context<Self>, at_ms: i64) {
        if let Some(t) = self.timer.take() {
            ctx.cancel_future(t);
        }
        let delay = Duration::from_millis((at_ms - now_ms()).max(0) as u64);
        self.timer = Some(ctx.run_later(delay, |act, ctx| {
            act.timer = None;
            act.pump(ctx);
        }));
    }

    fn start_attempt(&mut self, session: String, ctx: &mut Context<Self>) {
        let Some(event) = self.sessions.get(&session).and_then(|q| q.front()).cloned() else {
            return;
        };
        let Some(client) = self.client.clone() else {
            return;
        };
        self.in_flight.insert(session.clone());
        let registry = self.deps.registry.clone();
        let writer = self.deps.writer.clone();
        let tenant_id = self.tenant_id.clone();
        let max_age = self.deps.max_age;
        let work = async move {
            let forwarding = registry.forwarding(&tenant_id);
            let response = match forwarding {
                Some(f) if !f.enabled => return Step::Held,
                Some(f) => match f.target {
                    Some(target) => post(&client, &target, &event).await,
                    None => Response::NoTarget,
                },
                None => Response::NoTarget,
            };
            let now = now_ms();
            let age = Duration::from_millis((now - event.created_at_ms).max(0) as u64);
            let outcome = attempt::decide(
                &response,
                event.attempts + 1,
                age,
                max_age,
                now,
                attempt::jitter(),
            );
            let op = RecordAttempt {
                id: event.id,
                outcome: outcome.clone(),
                now_ms: now,
            };
            match write(writer, op).await {
                Ok(()) => Step::Recorded(outcome),
                Err(e) => Step::StoreFailed(e.to_string()),
            }
        };
        ctx.spawn(work.into_actor(self).map(move |step, act, ctx| {
            act.in_flight.remove(&session);
            act.finish(&session, step);
            act.pump(ctx);
        }));
    }

    /// Applies a recorded outcome to the session's head event.
    fn finish(&mut self, session: &str, step: Step) {
        // Whatever happened, the budget may have room again by now.
        self.budget_blocked = false;
        let Some(queue) = self.sessions.get_mut(session) else {
            return;
        };
        let Some(head) = queue.front_mut() else {
            return;
        };
        let tenant = &self.tenant_id;
        let (metrics, channel) = (&self.deps.metrics, head.channel);
        match step {
            Step::Recorded(Outcome::Delivered) | Step::Recorded(Outcome::Dead { .. }) => {
                if let Step::Recorded(Outcome::Dead { error }) = &step {
                    metrics.inbound_dead(channel);
                    log::warn!(
                        "event=forward_dead tenant={tenant} channel={channel} event_id={} error={error}",
                        head.event_id
                    );
                } else {
                    metrics.inbound_forwarded(channel);
                    metrics.forward_latency((now_ms() - head.created_at_ms).max(0) as u64);
                    log::debug!(
                        "event=forwarded tenant={tenant} channel={channel} event_id={}",
                        head.event_id
                    );
                }
                let id = head.id;
                queue.pop_front();
                self.known.remove(&id);
                if self.loading {
                    self.done_while_loading.insert(id);
                }
                if queue.is_empty() {
                    self.sessions.remove(session);
                }
            }
            Step::Recorded(Outcome::Retry {
                next_attempt_at_ms,
                error,
            }) => {
                metrics.inbound_retried(channel);
                log::info!(
                    "event={channel}_retry_deferred tenant={tenant} event_id={} attempts={} error={error}",
                    head.event_id,
                    head.attempts + 1
                );
                head.attempts += 1;
                head.next_attempt_at_ms = next_attempt_at_ms;
            }
            Step::Held => head.next_attempt_at_ms = now_ms() + HELD_RECHECK_MS,
            Step::StoreFailed(e) => {
                log::error!(
                    "event=forward_record_failed tenant={tenant} event_id={} error={e}",
                    head.event_id
                );
                head.next_attempt_at_ms = now_ms() + STORE_RETRY_MS;
            }
        }
    }
}

enum Step {
    Recorded(Outcome),
    /// The tenant is disabled: nothing sent, nothing recorded.
    Held,
    StoreFailed(String),
}

impl Actor for Forwarder {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Self::Context) {
        self.client = Some(CLIENT.with(|c| c.clone()));
    }
}
