//! Ingress: platform messages in, durable queue rows out. Each channel parses its platform's
//! payloads; what to do with a message (forward, pair, hint, drop) and how it is committed are
//! the same for all of them and live here.

pub mod discord;
pub mod envelope;
pub mod media;
pub mod notify;
pub mod route;
pub mod telegram;
pub mod whatsapp;

use std::sync::Arc;

use actix::Addr;

use crate::actors::forwarder::{Forwarders, Wake};
use crate::actors::registry::{Binding, RedeemToken, Registry, ResolveIncoming};
use crate::actors::writer::Writer;
use crate::config::PairingConfig;
use crate::db::inbound::{Cursor, EnqueueInbound, NewInboundEvent};
use crate::db::op::write;
use crate::db::pairing::Redeemed;
use crate::domain::{Channel, RouteKey};
use crate::error::StoreError;
use crate::metrics::PairingOutcome;
use crate::time::now_ms;
use notify::Notifier;
use route::{Action, decide};

/// What every ingress shares.
#[derive(Clone)]
pub struct IngressCtx {
    pub registry: Addr<Registry>,
    pub writer: Addr<Writer>,
    pub forwarders: Addr<Forwarders>,
    pub pairing: PairingConfig,
    /// Sends pairing notices into chats; None when the channel cannot send.
    pub notifier: Option<Arc<dyn Notifier>>,
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// A message seen in a chat, reduced to what routing needs.
pub struct Seen<'a> {
    pub channel: Channel,
    /// Most specific first (a Telegram topic before its chat). The first is the one a token binds.
    pub route_keys: &'a [RouteKey],
    pub text: Option<&'a str>,
    pub from_bot: bool,
    pub event_id: &'a str,
}

impl IngressCtx {
    /// Forwards (returns the binding to build the envelope for), pairs, answers or drops.
    pub async fn route(&self, seen: Seen<'_>) -> Result<Option<Binding>, StoreError> {
        let binding = self
            .registry
            .send(ResolveIncoming {
                route_keys: seen.route_keys.to_vec(),
            })
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        self.metrics.inbound_received(seen.channel);
        let bang = seen.channel == Channel::Whatsapp;
        let channel = seen.channel;
        match decide(seen.text, seen.from_bot, binding.is_some(), bang) {
            Action::Forward => return Ok(binding),
            Action::IgnoreToken => {
                log::info!(
                    "event=pairing_token_in_bound_chat channel={channel} event_id={}",
                    seen.event_id
                );
            }
            Action::Redeem(token) => {
                let Some(route_key) = seen.route_keys.first().cloned() else {
                    return Ok(None);
                };
                let outcome = self
                    .registry
                    .send(RedeemToken {
                        token,
                        route_key: route_key.clone(),
                    })
                    .await
                    .map_err(|e| StoreError::Unavailable(e.to_string()))??;
                let text = match outcome {
                    Redeemed::Paired { binding, .. } => {
                        self.metrics.pairing(PairingOutcome::TokenRedeemed);
                        log::info!(
                            "event=pairing_token_claimed channel={channel} tenant={} binding={}",
                            binding.tenant_id,
                            binding.binding_id
                        );
                        &self.pairing.success_text
                    }
                    Redeemed::Invalid => {
                        self.metrics.pairing(PairingOutcome::TokenInvalid);
                        log::info!(
                            "event=pairing_token_invalid channel={channel} event_id={}",
                            seen.event_id
                        );
                        &self.pairing.invalid_text
                    }
                    Redeemed::AlreadyBound => {
                        self.metrics.pairing(PairingOutcome::AlreadyBound);
                        log::info!(
                            "event=pairing_token_in_bound_chat channel={channel} event_id={}",
                            seen.event_id
                        );
                        return Ok(None);
                    }
                };
                self.notify(route_key, text.clone());
            }
            Action::Hint => {
                if let Some(route_key) = seen.route_keys.first().cloned() {
                    self.notify(route_key, self.pairing.unpaired_hint_text.clone());
                }
            }
            Action::Drop => {}
        }
        Ok(None)
    }

    /// Sends a notice without holding up the ingress.
    fn notify(&self, route_key: RouteKey, text: String) {
        let Some(notifier) = self.notifier.clone() else {
            log::warn!(
                "event=notice_skipped channel={} reason=no_sender",
                route_key.channel()
            );
            return;
        };
        actix_web::rt::spawn(async move {
            if let Err(e) = notifier.notify(route_key.clone(), text).await {
                log::warn!(
                    "event=notice_failed channel={} error={e}",
                    route_key.channel()
                );
            }
        });
    }

    /// Commits events and the platform cursor in one transaction, then wakes the forwarders.
    /// The caller acknowledges the platform only after this returns Ok.
    pub async fn commit(
        &self,
        events: Vec<NewInboundEvent>,
        cursor: Option<Cursor>,
    ) -> Result<(), StoreError> {
        let channels: Vec<Channel> = events
            .iter()
            .filter_map(|e| Channel::parse(&e.channel))
            .collect();
        let op = EnqueueInbound {
            events,
            cursor,
            now_ms: now_ms(),
        };
        let woken = write(self.writer.clone(), op).await?;
        // Counted as enqueued once committed (a redelivered duplicate counts too).
        for channel in channels {
            self.metrics.inbound_enqueued(channel);
        }
        for tenant in woken {
            self.forwarders.do_send(Wake {
                tenant_id: Arc::from(tenant.as_str()),
                now: false,
            });
        }
        Ok(())
    }
}
