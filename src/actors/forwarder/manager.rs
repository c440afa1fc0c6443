//! The manager: starts a tenant's forwarder on demand, on one of a few arbiters, and stops it
//! when it has been idle with no wake in flight.

use std::collections::HashMap;
use std::sync::Arc;

use actix::prelude::*;

use super::worker::{Drain, Forwarder, Poke, Stop};
use crate::actors::registry::RegistryView;
use crate::actors::writer::Writer;
use crate::db::ReadPool;

/// Everything a forwarder needs, shared by all of them.
#[derive(Clone)]
pub struct ForwarderDeps {
    pub registry: RegistryView,
    pub writer: Addr<Writer>,
    pub reads: ReadPool,
    /// Events older than this are given up (`MUX_FORWARD_MAX_AGE_SEC`).
    pub max_age: std::time::Duration,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// What all forwarders together may hold in memory (`MUX_FORWARD_MEMORY_BYTES`).
    pub budget: Arc<super::MemoryBudget>,
}

struct Entry {
    addr: Addr<Forwarder>,
    /// Wakes sent to this forwarder; it reports the last one it saw when idle.
    sent: u64,
}

pub struct Forwarders {
    deps: ForwarderDeps,
    arbiters: Vec<ArbiterHandle>,
    running: HashMap<Arc<str>, Entry>,
    next_arbiter: usize,
    /// After `StopAll` no forwarder is started.
    stopping: bool,
}

impl Forwarders {
    /// `threads` arbiters carry the forwarders (their HTTP clients and timers).
    pub fn new(deps: ForwarderDeps, threads: usize) -> Forwarders {
        let arbiters = (0..threads.max(1))
            .map(|_| Arbiter::new().handle())
            .collect();
        Forwarders {
            deps,
            arbiters,
            running: HashMap::new(),
            next_arbiter: 0,
            stopping: false,
        }
    }
}

impl Actor for Forwarders {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(65_536);
    }
}

/// New work (or a new target) for a tenant: start its forwarder or poke the running one.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Wake {
    pub tenant_id: Arc<str>,
    /// Retry waiting events now (the target changed or the tenant was enabled).
    pub now: bool,
}

impl Handler<Wake> for Forwarders {
    type Result = ();

    fn handle(&mut self, msg: Wake, ctx: &mut Self::Context) {
        if self.stopping {
            return;
        }
        if let Some(entry) = self.running.get_mut(&msg.tenant_id)
            && entry.addr.connected()
        {
            entry.sent += 1;
            entry.addr.do_send(Poke {
                seq: entry.sent,
                retry_now: msg.now,
            });
            return;
        }
        let arbiter = &self.arbiters[self.next_arbiter % self.arbiters.len()];
        self.next_arbiter = self.next_arbiter.wrapping_add(1);
        let tenant_id = msg.tenant_id.clone();
        let deps = self.deps.clone();
        let manager = ctx.address();
        let addr =
            Forwarder::start_in_arbiter(arbiter, move |_| Forwarder::new(tenant_id, deps, manager));
        addr.do_send(Poke {
            seq: 1,
            retry_now: msg.now,
        });
        self.running.insert(msg.tenant_id, Entry { addr, sent: 1 });
    }
}

/// A forwarder has nothing loaded, nothing in flight and nothing more in the database.
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct Idle {
    pub tenant_id: Arc<str>,
    /// The last wake it had processed when it went idle.
    pub seen: u64,
}

impl Handler<Idle> for Forwarders {
    type Result = ();

    fn handle(&mut self, msg: Idle, _: &mut Self::Context) {
        // A wake sent after the forwarder looked means it has work again: keep it.
        if self
            .running
            .get(&msg.tenant_id)
            .is_some_and(|e| e.sent == msg.seen)
            && let Some(entry) = self.running.remove(&msg.tenant_id)
        {
            entry.addr.do_send(Stop);
        }
    }
}

/// How long shutdown waits for deliveries in flight to finish and be recorded. Within systemd's
/// stop timeout (45 s in the unit) with room for the Writer's last commit.
const DRAIN_DEADLINE: std::time::Duration = std::time::Duration::from_secs(15);

/// Shutdown: every forwarder finishes and records the attempts it has in flight (up to
/// [`DRAIN_DEADLINE`]) and starts no new one; then their threads stop. Events not delivered
/// stay pending in the database and go out after the restart (at least once).
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopAll;

impl Handler<StopAll> for Forwarders {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, _: StopAll, _: &mut Self::Context) -> Self::Result {
        self.stopping = true;
        let drains: Vec<_> = self
            .running
            .drain()
            .map(|(_, e)| e.addr.send(Drain))
            .collect();
        let arbiters = self.arbiters.clone();
        let drained = async move {
            let all = futures_util::future::join_all(drains);
            if tokio::time::timeout(DRAIN_DEADLINE, all).await.is_err() {
                log::warn!("event=forward_drain_timeout");
            }
            for arbiter in &arbiters {
                arbiter.stop();
            }
        };
        Box::pin(drained.into_actor(self).map(|(), _, ctx| ctx.stop()))
    }
}
