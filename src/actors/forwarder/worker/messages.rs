//! The forwarder's messages: pokes from the manager, stop when idle, drain at shutdown.

use actix::prelude::*;

use super::Forwarder;
use crate::time::now_ms;

/// New events (or a reason to retry now) for this tenant.
#[derive(Message)]
#[rtype(result = "()")]
pub(in crate::actors::forwarder) struct Poke {
    pub seq: u64,
    pub retry_now: bool,
}

impl Handler<Poke> for Forwarder {
    type Result = ();

    fn handle(&mut self, msg: Poke, ctx: &mut Self::Context) {
        if self.drain.is_some() {
            return;
        }
        self.seen = self.seen.max(msg.seq);
        if msg.retry_now {
            let now = now_ms();
            for head in self.sessions.values_mut().filter_map(|q| q.front_mut()) {
                head.next_attempt_at_ms = head.next_attempt_at_ms.min(now);
            }
            // Re-read from the start: a requeued dead event has an id below what was read.
            self.loaded_up_to = 0;
        }
        self.more_in_db = true;
        self.budget_blocked = false;
        self.load(ctx);
        self.pump(ctx);
    }
}

#[derive(Message)]
#[rtype(result = "()")]
pub(in crate::actors::forwarder) struct Stop;

impl Handler<Stop> for Forwarder {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

/// Shutdown: start nothing new, let the attempts in flight finish and be recorded, then stop.
/// Answers once stopped; events not attempted stay pending for the next start.
#[derive(Message)]
#[rtype(result = "()")]
pub(in crate::actors::forwarder) struct Drain;

impl Handler<Drain> for Forwarder {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _: Drain, ctx: &mut Self::Context) -> Self::Result {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if let Some(t) = self.timer.take() {
            ctx.cancel_future(t);
        }
        self.drain.get_or_insert_with(Vec::new).push(tx);
        self.pump(ctx);
        Box::pin(async move {
            let _ = rx.await;
        })
    }
}
