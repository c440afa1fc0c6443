//! Outbound sends (contract §5): resolve the binding, send through the channel's sender, and keep
//! the idempotency promise — hold the key in memory while the request runs, store the exact
//! answer after the platform call (written behind the reply), replay it for the same key and
//! body. The one dispatch to the platform senders is here; ingress's pairing notices go through
//! it too (`notice`).

pub mod action;
pub mod answer;
pub mod key_filter;
pub mod last_inbound;
mod notice;
pub mod owned;
pub mod press;
pub mod raw;
pub mod route_lock;
pub mod single_flight;
mod start;

use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use tokio::time::Instant;

use crate::actors::registry::RegistryView;
use crate::actors::writer::Writer;
use crate::config::Config;
use crate::db::idempotency::{self, Outcome, Reservation, StoreOutcome};
use crate::db::local_read::LocalReads;
use crate::db::{self, ReadPool};
use crate::domain::{Channel, ParseMode};
use crate::senders::discord::{DiscordRoute, DiscordSender};
use crate::senders::telegram::TelegramSender;
use crate::senders::whatsapp::WhatsappSender;
use crate::senders::{Delivered, OutgoingMessage, SendError};
use crate::time::now_ms;
pub use answer::Answer;
use route_lock::Target;
use single_flight::{SingleFlight, Turn};
pub use start::{spawn_expiry_sweep, start};

/// A validated send request.
#[derive(Debug, Clone)]
pub struct SendRequest {
    pub channel: Channel,
    pub session_key: String,
    /// `to` and `threadId` as given: read only by the route lock (`route_lock`), never by a
    /// sender, so they can narrow a send to a thread of the bound place and nothing more.
    pub to: Option<String>,
    pub thread_id: Option<String>,
    /// A raw platform call (contract §5a) instead of `message`; its place fields are overwritten
    /// by the route lock (`route_lock::raw`).
    pub raw: Option<raw::RawCall>,
    pub message: OutgoingMessage,
}

/// `Idempotency-Key` and the fingerprint of the body it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    pub fingerprint: String,
}

/// The senders plus what the send path needs; shared by all HTTP workers.
pub struct Outbound {
    pub telegram: Option<TelegramSender>,
    pub discord: Option<DiscordSender>,
    pub whatsapp: Option<WhatsappSender>,
    /// The Registry's maps: the route of every send, read without a message.
    view: RegistryView,
    writer: Addr<Writer>,
    /// The keys the store may hold an entry for (a fresh key skips the lookup).
    pub keys: key_filter::KeyFilter,
    /// Idempotency lookups: on the request's thread, else on the pool.
    local_reads: LocalReads,
    reads: ReadPool,
    deadline: Duration,
    ttl_ms: i64,
    /// This process's id on idempotency reservations.
    owner: String,
    flights: Arc<SingleFlight>,
    /// The messages sent and the button presses forwarded for each tenant (raw edits, deletes
    /// and callback answers are limited to those).
    pub owned: Arc<owned::Owned>,
    /// `MUX_TELEGRAM_PARSE_MODE`: the `parseMode` of tenant sends to Telegram that name none.
    parse_mode: Option<ParseMode>,
    /// The last inbound WhatsApp message per binding, for the typing indicator.
    pub last_inbound: last_inbound::LastInbound,
}

impl Outbound {
    /// Builds the senders of the configured channels. Must run inside the actix system.
    pub fn new(
        config: &Config,
        view: RegistryView,
        writer: Addr<Writer>,
        reads: ReadPool,
        owner: String,
    ) -> anyhow::Result<Outbound> {
        let ttl_ms = i64::try_from(config.idempotency_ttl_ms).unwrap_or(i64::MAX);
        Ok(Outbound {
            telegram: TelegramSender::new(&config.telegram, &config.outbound)?,
            discord: DiscordSender::new(&config.discord, &config.outbound)?,
            whatsapp: WhatsappSender::new(&config.whatsapp),
            view,
            writer,
            keys: key_filter::KeyFilter::new(ttl_ms, key_filter::DEFAULT_CAP, now_ms()),
            local_reads: LocalReads::new(&config.db_path),
            reads,
            deadline: Duration::from_millis(config.outbound.deadline_ms),
            ttl_ms,
            owner,
            flights: Arc::default(),
            owned: Arc::default(),
            parse_mode: config.telegram.parse_mode,
            last_inbound: last_inbound::LastInbound::default(),
        })
    }

    /// One send, idempotent when a key is given.
    pub async fn send(
        self: Arc<Self>,
        tenant: Arc<str>,
        mut req: SendRequest,
        key: Option<IdempotencyKey>,
    ) -> Answer {
        if req.channel == Channel::Telegram && req.message.parse_mode.is_none() {
            req.message.parse_mode = self.parse_mode;
        }
        let answer = match key {
            None => self.perform(&tenant, &req).await,
            Some(key) => self.send_keyed(&tenant, &req, key).await,
        };
        log::info!(
            "event=outbound_send tenant={tenant} channel={} status={}",
            req.channel,
            answer.status
        );
        answer
    }

    async fn send_keyed(
        &self,
        tenant: &Arc<str>,
        req: &SendRequest,
        key: IdempotencyKey,
    ) -> Answer {
        loop {
            let guard = match self.flights.turn(tenant, &key.key) {
                Turn::Wait(mut running) => {
                    let _ = running.changed().await;
                    continue;
                }
                Turn::Mine(guard) => guard,
            };
            // The key is this request's while `guard` lives; the store says what earlier
            // requests left. No write before the platform call.
            let found = self.lookup(tenant, &key).await;
            let answer = match found {
                Err(e) => {
                    log::error!("event=idempotency_lookup_failed tenant={tenant} error={e}");
                    Answer::unavailable()
                }
                Ok(Reservation::Replay { status, body }) => Answer {
                    status,
                    body,
                    retry_after: None,
                    progress: None,
                },
                Ok(Reservation::Mismatch) => Answer::key_mismatch(),
                Ok(Reservation::InFlight) => Answer::error(409, "idempotency key in use", None),
                Ok(free @ (Reservation::Free | Reservation::Resume { .. })) => {
                    let answer = match free {
                        // Only the parts the earlier attempt did not send go out now.
                        Reservation::Resume { sent } => {
                            let mut req = req.clone();
                            req.message.already_sent = sent;
                            self.perform(tenant, &req).await
                        }
                        _ => self.perform(tenant, req).await,
                    };
                    // The caller gets the answer now; the key's turn ends when the outcome is
                    // committed, so a duplicate arriving meanwhile waits and then replays it. A
                    // crash in between loses the outcome and leaves the key free: at-least-once
                    // across crashes (contract §5). Nothing sent and nothing to keep: the turn
                    // ends at once.
                    if let Some(store) = self.settle(tenant, &key, &answer) {
                        actix_web::rt::spawn(async move {
                            store.await;
                            drop(guard);
                        });
                    }
                    return answer;
                }
            };
            drop(guard);
            return answer;
        }
    }

    /// What the store holds for the key: read on this thread (a primary-key read), or on the
    /// read pool if that fails.
    async fn lookup(
        &self,
        tenant: &Arc<str>,
        key: &IdempotencyKey,
    ) -> Result<Reservation, crate::error::StoreError> {
        let now = now_ms();
        if !self.keys.maybe_stored(tenant, &key.key, now) {
            return Ok(Reservation::Free);
        }
        let here = self
            .local_reads
            .run(|c| idempotency::lookup(c, tenant, &key.key, &key.fingerprint, now));
        if let Err(e) = &here {
            log::warn!("event=idempotency_lookup_local_failed error={e}");
        } else {
            return here;
        }
        let (t, k, fp) = (tenant.clone(), key.key.clone(), key.fingerprint.clone());
        db::read(&self.reads, move |c| {
            idempotency::lookup(c, &t, &k, &fp, now)
        })
        .await
    }

    /// The op that keeps the answer for the key, or how far a split send got when the rate
    /// limit cut it short; `None` when the answer is not kept (nothing was sent). The op enters
    /// the Writer's mailbox here, before the caller is answered, so it is ahead of the shutdown
    /// message and committed even if the server stops right after replying.
    fn settle(
        &self,
        tenant: &Arc<str>,
        key: &IdempotencyKey,
        answer: &Answer,
    ) -> Option<impl std::future::Future<Output = ()> + 'static> {
        let outcome = if let Some(sent) = &answer.progress {
            Outcome::Partial {
                sent_ids: sent.clone(),
            }
        } else if answer.is_stored() {
            Outcome::Answered {
                status: answer.status,
                body: answer.body.clone(),
            }
        } else {
            return None;
        };
        let now = now_ms();
        let expires_at_ms = now.saturating_add(self.ttl_ms);
        // Before the key's turn ends: the next request with it reads the store.
        self.keys.note(tenant, &key.key, now, expires_at_ms);
        let written = self.writer.send(StoreOutcome {
            tenant_id: tenant.to_string(),
            key: key.key.clone(),
            fingerprint: key.fingerprint.clone(),
            owner: self.owner.clone(),
            now_ms: now,
            expires_at_ms,
            outcome,
        });
        let (tenant, status) = (tenant.clone(), answer.status);
        Some(async move {
            let error = match written.await {
                Ok(Ok(())) => return,
                Ok(Err(e)) => e.to_string(),
                Err(e) => e.to_string(),
            };
            log::error!(
                "event=idempotency_store_failed tenant={tenant} status={status} error={error}"
            );
        })
    }

    /// Route lookup (memory only) and the platform send.
    async fn perform(&self, tenant: &Arc<str>, req: &SendRequest) -> Answer {
        let Some(binding) = self.view.route(tenant, req.channel, &req.session_key) else {
            return Answer::route_not_bound();
        };
        let deadline = Instant::now() + self.deadline;
        let sent = match self.lock(tenant, &binding.route_key, req, deadline).await {
            Ok(target) => self.dispatch(tenant, target, req, deadline).await,
            Err(e) => Err(e),
        };
        match sent {
            Ok(delivered) => {
                if req.channel != Channel::Whatsapp {
                    self.owned.record_sent(
                        tenant,
                        req.channel,
                        &delivered.destination,
                        &delivered.message_ids,
                    );
                }
                Answer::delivered(&delivered)
            }
            Err(e) => Answer::failed(req.channel, &e),
        }
    }

    /// The platform send into a target the route lock chose.
    async fn dispatch(
        &self,
        tenant: &Arc<str>,
        target: Target,
        req: &SendRequest,
        deadline: Instant,
    ) -> Result<Delivered, SendError> {
        if let Some(raw) = &req.raw {
            return self.dispatch_raw(tenant, target, raw, deadline).await;
        }
        let msg = &req.message;
        match target {
            Target::Telegram(target) => {
                let sender = self.telegram.as_ref().ok_or(SendError::Disabled)?;
                sender.send(tenant, target, msg, deadline).await
            }
            Target::DiscordDm { user_id } => {
                let sender = self.discord.as_ref().ok_or(SendError::Disabled)?;
                sender
                    .send(DiscordRoute::Dm { user_id }, msg, deadline)
                    .await
            }
            Target::DiscordChannel { channel_id } => {
                let sender = self.discord.as_ref().ok_or(SendError::Disabled)?;
                sender
                    .send(DiscordRoute::Channel { channel_id }, msg, deadline)
                    .await
            }
            Target::Whatsapp { jid } => {
                let sender = self.whatsapp.as_ref().ok_or(SendError::Disabled)?;
                sender.send(&jid, msg, deadline).await
            }
        }
    }
}
