//! The Discord ingress actor: gateway frames and REST catch-up steps, one at a time (atomic
//! handlers), so the per-channel last-seen ids are only ever moved by this actor, after commits.
//!
//! When the last-seen id may move: a catch-up page advances it to the page's newest id. A gateway
//! message advances it only in a channel that is *in sync* — caught up by REST since the current
//! connection came up, or just paired. Otherwise a live message could move the cursor past
//! messages sent during an outage that catch-up has not read yet. Every disconnect and every
//! new session (READY/RESUMED) puts all channels out of sync and starts a pass; while the gateway
//! is down (or never came up), a pass runs every `MUX_DISCORD_POLL_INTERVAL_MS` after the previous
//! one ended: REST polling, within the ratelimiter shared with the sends. When the gateway is
//! back, the pass its READY/RESUMED starts is the last one. A pass first opens the DM channel of
//! every DM binding whose channel is not known yet (`POST /users/@me/channels`, stored), so DMs are
//! read without the gateway too.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tokio::time::Instant;

use super::catchup::{self, CatchUp, Target, targets};
use super::cursors::{Cursors, load};
use super::frame::Frame;
use super::gateway::{GatewayEvent, pump};
use super::live::{self, Known, Live};
use crate::actors::registry::ListDiscordBindings;
use crate::channel_status::{ChannelHealth, ChannelState};
use crate::db::{self, ReadPool};
use crate::domain::Channel;
use crate::ingress::discord::DiscordInbound;
use crate::ingress::discord::{interaction, message};

/// Catch-up requests per second: half of Discord's global 50/s, so outbound sends (which share
/// twilight's ratelimiter) keep the other half even during a long pass over many bindings.
const CATCH_UP_PER_SEC: u64 = 25;
const STEP_PACE: Duration = Duration::from_millis(1000 / CATCH_UP_PER_SEC);

/// How long a channel that answered 403/404 is left out of catch-up. Those answers count toward
/// Discord's 10,000-invalid-requests-per-10-minutes IP ban; asking once an hour per channel keeps
/// even many deleted channels far below it.
const GONE_RETRY: Duration = Duration::from_secs(3600);

pub struct DiscordIngress {
    inbound: DiscordInbound,
    reads: ReadPool,
    health: Arc<ChannelHealth>,
    poll_interval: Duration,
    bootstrap_latest: bool,
    /// Bootstrap-latest skips the backlog of bindings that existed before this start only; one
    /// made while running is read from its creation, so nothing said after pairing is skipped.
    started_ms: i64,
    shard: Option<twilight_gateway::Shard>,
    pump: Option<tokio::task::JoinHandle<()>>,
    cursors: Cursors,
    up: bool,
    /// Bumped on every connect and disconnect: a catch-up step that saw another connection
    /// than the current one cannot vouch for it.
    epoch: u64,
    synced: HashSet<u64>,
    /// Channels that answered 403/404, and when.
    gone: HashMap<u64, Instant>,
    /// The targets left in the running pass; `None` when no pass runs.
    pass: Option<VecDeque<Target>>,
    again: bool,
    timer: Option<SpawnHandle>,
}

impl DiscordIngress {
    pub fn new(
        inbound: DiscordInbound,
        reads: ReadPool,
        health: Arc<ChannelHealth>,
        cfg: &crate::config::DiscordConfig,
        shard: twilight_gateway::Shard,
    ) -> DiscordIngress {
        DiscordIngress {
            inbound,
            reads,
            health,
            poll_interval: Duration::from_millis(cfg.poll_interval_ms),
            bootstrap_latest: cfg.bootstrap_latest,
            started_ms: crate::time::now_ms(),
            shard: Some(shard),
            pump: None,
            cursors: Cursors::default(),
            up: false,
            epoch: 0,
            synced: HashSet::new(),
            gone: HashMap::new(),
            pass: None,
            again: false,
            timer: None,
        }
    }

    /// Starts a pass now, or right after the running one.
    fn request_pass(&mut self, ctx: &mut Context<Self>) {
        if self.pass.is_some() {
            self.again = true;
            return;
        }
        self.pass = Some(VecDeque::new());
        let list = self.inbound.ctx.registry.send(ListDiscordBindings);
        let opened = list.into_actor(self).then(|bindings, act, _| {
            let bindings = bindings.unwrap_or_default();
            act.gone.retain(|_, at| at.elapsed() < GONE_RETRY);
            let users: Vec<u64> = catchup::unopened_dms(&bindings, &act.cursors)
                .into_iter()
                .filter(|user| !act.gone.contains_key(user))
                .collect();
            let inbound = act.inbound.clone();
            async move {
                let opened = catchup::open_dms(&inbound, users, STEP_PACE).await;
                (bindings, opened)
            }
            .into_actor(act)
        });
        ctx.spawn(opened.map(|(bindings, opened), act, ctx| {
            for (user, outcome) in opened {
                match outcome {
                    Ok(channel_id) => act.cursors.learn_dm(user, channel_id),
                    Err(e) => {
                        log::warn!("event=discord_dm_open_failed user_id={user} error={e}");
                        if catchup::dm_refused(&e) {
                            // User and channel ids are both snowflakes: one map, no clash.
                            act.gone.insert(user, Instant::now());
                        }
                    }
                }
            }
            let mut targets = targets(&bindings, &act.cursors);
            targets.retain(|t| !act.gone.contains_key(&t.channel_id));
            log::debug!("event=discord_catch_up_started targets={}", targets.len());
            act.pass = Some(targets);
            ctx.notify(CatchUpStep);
        }));
    }

    fn pass_finished(&mut self, ctx: &mut Context<Self>) {
        self.pass = None;
        if std::mem::take(&mut self.again) {
            self.request_pass(ctx);
        } else if !self.up {
            self.poll_later(ctx);
        }
    }

    fn poll_later(&mut self, ctx: &mut Context<Self>) {
        if self.timer.is_some() || self.pass.is_some() {
            return;
        }
        self.timer = Some(ctx.run_later(self.poll_interval, |act, ctx| {
            act.timer = None;
            if !act.up {
                act.request_pass(ctx);
            }
        }));
    }

    fn connection_changed(&mut self, up: bool, ctx: &mut Context<Self>) {
        self.epoch = self.epoch.wrapping_add(1);
        self.synced.clear();
        self.up = up;
        if up {
            self.health.set(Channel::Discord, ChannelState::Connected);
            if let Some(timer) = self.timer.take() {
                ctx.cancel_future(timer);
            }
            self.request_pass(ctx);
        } else {
            self.health.set(Channel::Discord, ChannelState::Retrying);
            self.poll_later(ctx);
        }
    }
}

impl Actor for DiscordIngress {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.health.set(Channel::Discord, ChannelState::Retrying);
        let reads = self.reads.clone();
        ctx.wait(
            async move { db::read(&reads, load).await }
                .into_actor(self)
                .map(|rows, act, ctx| {
                    match rows {
                        Ok(rows) => act.cursors = Cursors::from_rows(rows),
                        Err(e) => log::error!("event=discord_cursors_unreadable error={e}"),
                    }
                    if let Some(shard) = act.shard.take() {
                        act.pump = Some(actix::spawn(pump(shard, ctx.address().recipient())));
                    }
                    // Whatever was sent while mux was stopped, before the gateway is even up.
                    act.request_pass(ctx);
                }),
        );
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        if let Some(pump) = self.pump.take() {
            pump.abort();
        }
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct CatchUpStep;

impl Handler<CatchUpStep> for DiscordIngress {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, _: CatchUpStep, ctx: &mut Self::Context) -> Self::Result {
        let Some(target) = self.pass.as_mut().and_then(VecDeque::pop_front) else {
            self.pass_finished(ctx);
            return AtomicResponse::new(Box::pin(fut::ready(())));
        };
        let bootstrap = self.bootstrap_latest && target.since_ms < self.started_ms;
        let (inbound, epoch) = (self.inbound.clone(), self.epoch);
        let last_seen = self.cursors.last_seen(target.channel_id);
        let step = async move {
            let outcome = catchup::step(&inbound, &target, last_seen, bootstrap).await;
            (target, outcome)
        };
        AtomicResponse::new(Box::pin(step.into_actor(self).map(
            move |(target, outcome), act, ctx| {
                let in_sync = act.up && act.epoch == epoch;
                match outcome {
                    CatchUp::Committed {
                        last_seen,
                        forwarded,
                        more,
                    } => {
                        act.cursors.advance(target.channel_id, last_seen);
                        if forwarded > 0 {
                            log::info!(
                                "event=discord_caught_up channel_id={} forwarded={forwarded}",
                                target.channel_id
                            );
                        }
                        if more {
                            if let Some(pass) = act.pass.as_mut() {
                                pass.push_front(target);
                            }
                        } else if in_sync {
                            act.synced.insert(target.channel_id);
                        }
                    }
                    CatchUp::UpToDate if in_sync => {
                        act.synced.insert(target.channel_id);
                    }
                    CatchUp::UpToDate => {}
                    CatchUp::Gone(e) => {
                        log::warn!(
                            "event=discord_catch_up_skipped channel_id={} retry_in_s={} error={e}",
                            target.channel_id,
                            GONE_RETRY.as_secs()
                        );
                        act.gone.insert(target.channel_id, Instant::now());
                    }
                    CatchUp::Failed(e) => log::warn!(
                        "event=discord_retry_deferred channel_id={} error={e}",
                        target.channel_id
                    ),
                }
                ctx.notify_later(CatchUpStep, STEP_PACE);
            },
        )))
    }
}

impl Handler<GatewayEvent> for DiscordIngress {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, event: GatewayEvent, ctx: &mut Self::Context) -> Self::Result {
        let done = || AtomicResponse::new(Box::pin(fut::ready(())));
        match event {
            GatewayEvent::Frame(Frame::Ready { user_id }) => {
                log::info!("event=discord_gateway_ready");
                if let Some(id) = user_id {
                    self.inbound.set_own_user_id(id);
                }
                self.connection_changed(true, ctx);
            }
            GatewayEvent::Frame(Frame::Resumed) => {
                log::info!("event=discord_gateway_resumed");
                self.connection_changed(true, ctx);
            }
            GatewayEvent::Down(reason) => {
                log::warn!("event=discord_gateway_down reason={reason}");
                self.connection_changed(false, ctx);
            }
            GatewayEvent::Fatal => self.connection_changed(false, ctx),
            GatewayEvent::Frame(Frame::Message { data, edit }) => {
                return self.live_message(data, edit);
            }
            GatewayEvent::Frame(Frame::Interaction { data }) => {
                // Its own task: the 3 s answer must not wait behind this actor's queue.
                actix::spawn(interaction::handle(self.inbound.clone(), data));
            }
            GatewayEvent::Frame(Frame::Other) => {}
        }
        done()
    }
}

impl DiscordIngress {
    /// A message from the gateway: routed and committed, with the channel's cursor when in sync.
    fn live_message(&mut self, data: serde_json::Value, edit: bool) -> AtomicResponse<Self, ()> {
        let Some((channel_id, id, author)) =
            message::parse(&data).map(|m| (m.channel_id, m.id, m.author_id))
        else {
            return AtomicResponse::new(Box::pin(fut::ready(())));
        };
        let known = Known {
            advance: self.synced.contains(&channel_id) && self.cursors.is_ahead(channel_id, id),
            learn_dm: self.cursors.dm_channel(author) != Some(channel_id),
        };
        let inbound = self.inbound.clone();
        let step = async move { live::step(&inbound, &data, edit, known).await };
        AtomicResponse::new(Box::pin(step.into_actor(self).map(move |outcome, act, ctx| match outcome {
            Live::Skipped => {}
            Live::Committed { advanced, learned_dm } => {
                if advanced {
                    act.cursors.advance(channel_id, id);
                    act.synced.insert(channel_id);
                }
                if learned_dm {
                    act.cursors.learn_dm(author, channel_id);
                }
            }
            Live::Failed(e) => {
                // Not acknowledged: the channel's cursor stays, and catch-up reads it again.
                log::warn!("event=discord_retry_deferred channel_id={channel_id} message_id={id} error={e}");
                act.synced.remove(&channel_id);
                act.request_pass(ctx);
            }
        })))
    }
}

/// Stops the gateway (shutdown): the connection is dropped, which Discord treats as resumable.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopGateway;

impl Handler<StopGateway> for DiscordIngress {
    type Result = ();

    fn handle(&mut self, _: StopGateway, ctx: &mut Self::Context) {
        if let Some(pump) = self.pump.take() {
            pump.abort();
        }
        ctx.stop();
    }
}
