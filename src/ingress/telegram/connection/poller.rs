//! Telegram's connection in polling mode, an actor: `getUpdates` with the stored offset; the offset advances (is stored, and sent
//! on the next call) only after the batch's events are committed. A tenant whose OpenClaw is
//! down never holds the poller back: its events wait in its own queue.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use serde_json::{Value, json};
use tokio::sync::watch;

use super::ALLOWED_UPDATES;
use super::bot_api::{self, BotApiError};
use crate::channel_status::{ChannelHealth, ChannelState};
use crate::db::{self, ReadPool, inbound::Cursor};
use crate::domain::Channel;
use crate::ingress::error::IngressError;
use crate::ingress::telegram::TelegramInbound;
use crate::ingress::telegram::update::update_id;

/// Longest wait between failed polls, however long the failures last.
const MAX_RETRY_MS: u64 = 30_000;

pub struct TelegramPoller {
    inbound: TelegramInbound,
    reads: ReadPool,
    health: Arc<ChannelHealth>,
    poll_timeout_sec: u64,
    retry_ms: u64,
    bootstrap_latest: bool,
    offset: Option<i64>,
    failures: u32,
    client: Option<awc::Client>,
    /// Turns true at shutdown: an open long poll is abandoned at once (nothing in it was
    /// acknowledged, so Telegram hands it out again to the next poll).
    stopping: watch::Receiver<bool>,
}

/// Stops a poller: abandons its open long poll, then stops the actor.
pub struct PollerHandle {
    pub addr: Addr<TelegramPoller>,
    stop: watch::Sender<bool>,
}

impl PollerHandle {
    /// Abandons the open long poll (a poll whose updates are being stored finishes storing
    /// them first), then stops the poller once its current step has ended.
    pub async fn stop(&self) {
        let _ = self.stop.send(true);
        let _ = self.addr.send(StopPolling).await;
    }
}

/// What one poll came to.
#[derive(Debug)]
pub enum PollOutcome {
    /// Updates handled and committed (count); poll again at once.
    Committed(usize),
    /// Telegram or the store failed; wait and try again.
    Failed(IngressError),
    /// Shutdown: the open long poll was abandoned; nothing was taken from it.
    Stopped,
}

impl TelegramPoller {
    /// Starts the poller; the handle stops it.
    pub fn start_polling(
        inbound: TelegramInbound,
        reads: ReadPool,
        health: Arc<ChannelHealth>,
        cfg: &crate::config::TelegramConfig,
    ) -> PollerHandle {
        let (stop, stopping) = watch::channel(false);
        let addr = TelegramPoller::new(inbound, reads, health, cfg, stopping).start();
        PollerHandle { addr, stop }
    }

    fn new(
        inbound: TelegramInbound,
        reads: ReadPool,
        health: Arc<ChannelHealth>,
        cfg: &crate::config::TelegramConfig,
        stopping: watch::Receiver<bool>,
    ) -> Self {
        TelegramPoller {
            inbound,
            reads,
            health,
            poll_timeout_sec: cfg.poll_timeout_sec,
            retry_ms: cfg.poll_retry_ms,
            bootstrap_latest: cfg.bootstrap_latest,
            offset: None,
            failures: 0,
            client: None,
            stopping,
        }
    }
}

/// One step: find the offset (bootstrapping on the very first start), poll, route, commit.
async fn poll_once(
    inbound: TelegramInbound,
    client: awc::Client,
    reads: ReadPool,
    offset: Option<i64>,
    timeout_sec: u64,
    bootstrap: bool,
    mut stopping: watch::Receiver<bool>,
) -> (PollOutcome, Option<i64>) {
    let offset = match offset {
        Some(o) => o,
        None => match stored_offset(&reads).await {
            Ok(Some(o)) => o,
            Ok(None) if bootstrap => match skip_backlog(&inbound, &client).await {
                Ok(o) => return (PollOutcome::Committed(0), Some(o)),
                Err(e) => return (PollOutcome::Failed(e), None),
            },
            Ok(None) => 0,
            Err(e) => return (PollOutcome::Failed(e.into()), None),
        },
    };
    // Only the wait for Telegram is abandoned at shutdown: once updates are in hand they are
    // stored and acknowledged (or neither) as usual.
    let polled = tokio::select! {
        polled = get_updates(&inbound, &client, offset, timeout_sec) => polled,
        _ = stopping.wait_for(|stop| *stop) => return (PollOutcome::Stopped, Some(offset)),
    };
    let updates = match polled {
        Ok(u) => u,
        Err(e) => return (PollOutcome::Failed(e.into()), Some(offset)),
    };
    let Some(next) = updates.iter().filter_map(update_id).max().map(|id| id + 1) else {
        return (PollOutcome::Committed(0), Some(offset));
    };
    let events = match inbound.process(&updates).await {
        Ok(events) => events,
        Err(e) => return (PollOutcome::Failed(e.into()), Some(offset)),
    };
    match inbound.ctx.commit(events, Some(cursor(next))).await {
        Ok(()) => (PollOutcome::Committed(updates.len()), Some(next)),
        Err(e) => (PollOutcome::Failed(e.into()), Some(offset)),
    }
}

fn cursor(next: i64) -> Cursor {
    Cursor {
        channel: "telegram".into(),
        scope_key: String::new(),
        value: next.to_string(),
    }
}

async fn stored_offset(reads: &ReadPool) -> Result<Option<i64>, crate::error::StoreError> {
    let raw = db::read(reads, |c| db::inbound::cursor(c, "telegram", "")).await?;
    Ok(raw.and_then(|v| v.parse().ok()))
}

/// First start with bootstrap-latest: confirm everything waiting (offset -1 returns the last
/// update only) and remember where new traffic starts.
async fn skip_backlog(
    inbound: &TelegramInbound,
    client: &awc::Client,
) -> Result<i64, IngressError> {
    let latest = get_updates(inbound, client, -1, 0).await?;
    let next = latest
        .iter()
        .filter_map(update_id)
        .max()
        .map_or(0, |id| id + 1);
    inbound.ctx.commit(Vec::new(), Some(cursor(next))).await?;
    log::info!("event=telegram_bootstrapped skipped_backlog=true");
    Ok(next)
}

async fn get_updates(
    inbound: &TelegramInbound,
    client: &awc::Client,
    offset: i64,
    timeout_sec: u64,
) -> Result<Vec<Value>, BotApiError> {
    let body = json!({"offset": offset, "timeout": timeout_sec, "limit": 100,
                      "allowed_updates": ALLOWED_UPDATES});
    let timeout = Duration::from_secs(timeout_sec + 15);
    let result = bot_api::call(client, inbound, "getUpdates", &body, Some(timeout)).await?;
    Ok(result.as_array().cloned().unwrap_or_default())
}

impl Actor for TelegramPoller {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.client = Some(
            awc::Client::builder()
                .timeout(Duration::from_secs(self.poll_timeout_sec + 15))
                .finish(),
        );
        ctx.notify(Poll);
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Poll;

impl Handler<Poll> for TelegramPoller {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, _: Poll, _: &mut Self::Context) -> Self::Result {
        let client = self.client.clone().unwrap_or_default();
        let step = poll_once(
            self.inbound.clone(),
            client,
            self.reads.clone(),
            self.offset,
            self.poll_timeout_sec,
            self.bootstrap_latest,
            self.stopping.clone(),
        );
        AtomicResponse::new(Box::pin(step.into_actor(self).map(
            |(outcome, offset), act, ctx| {
                act.offset = offset;
                match outcome {
                    PollOutcome::Committed(n) => {
                        act.failures = 0;
                        act.health.set(Channel::Telegram, ChannelState::Connected);
                        if n > 0 {
                            log::debug!("event=telegram_polled updates={n}");
                        }
                        ctx.notify(Poll);
                    }
                    PollOutcome::Stopped => {
                        log::info!("event=telegram_poll_abandoned reason=shutdown");
                    }
                    PollOutcome::Failed(e) => {
                        act.failures = act.failures.saturating_add(1);
                        act.health.set(Channel::Telegram, ChannelState::Retrying);
                        let wait = act
                            .retry_ms
                            .saturating_mul(1 << act.failures.min(5))
                            .clamp(1, MAX_RETRY_MS);
                        log::warn!(
                            "event=telegram_poll_failed failures={} retry_in_ms={wait} error={e}",
                            act.failures
                        );
                        ctx.notify_later(Poll, Duration::from_millis(wait));
                    }
                }
            },
        )))
    }
}

/// Stops polling (shutdown): no more updates are taken, so none are acknowledged.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopPolling;

impl Handler<StopPolling> for TelegramPoller {
    type Result = ();

    fn handle(&mut self, _: StopPolling, ctx: &mut Self::Context) {
        ctx.stop();
    }
}
