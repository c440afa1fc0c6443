//! Ingress: platform messages in, durable queue rows out. What to do with a message (forward,
//! pair, hint, drop: `route`), the envelope's common fields (`envelope`), the capped media
//! download (`media`) and the commit are the same for every channel and live here.
//!
//! Each channel has the same two roles, whatever form each takes:
//!
//! | channel  | `inbound`: payload → queue rows | `connection`: keeps the link, acks after commit |
//! |----------|---------------------------------|--------------------------------------------------|
//! | telegram | `TelegramInbound` (plain value) | `poller` (actor) or `webhook` (plain struct)     |
//! | discord  | `DiscordInbound` (plain value)  | `DiscordIngress` (actor: gateway + catch-up)     |
//! | whatsapp | `WhatsappInbound` (plain value) | `WhatsappWebhook` (plain struct)                 |
//!
//! A connection that runs on its own (a poll loop, a gateway socket) is an actor, so its steps
//! never interleave and its cursor is moved in one place. A webhook is pushed to: the HTTP
//! handler calls it, each delivery is answered within its request, and there is nothing to keep
//! between deliveries, so it is a plain struct. Translators are plain values either way, shared
//! by whichever connection calls them. Pairing notices go back out through `crate::outbound`.

pub mod answered;
pub mod discord;
pub mod envelope;
pub mod error;
pub mod media;
pub mod route;
pub mod telegram;
pub mod whatsapp;

use std::sync::Arc;

use actix::Addr;

use crate::actors::forwarder::{Forwarders, Wake};
use crate::actors::registry::{Registry, RegistryView};
use crate::actors::writer::Writer;
use crate::config::PairingConfig;
use crate::db::inbound::{Cursor, EnqueueInbound, NewInboundEvent};
use crate::db::op::write;
use crate::domain::{Channel, RouteKey};
use crate::error::StoreError;
use crate::outbound::Outbound;
use crate::time::now_ms;
pub use route::Routed;

/// What every ingress shares.
#[derive(Clone)]
pub struct IngressCtx {
    pub registry: Addr<Registry>,
    /// The Registry's maps for the per-message route lookup.
    pub view: RegistryView,
    pub writer: Addr<Writer>,
    pub forwarders: Addr<Forwarders>,
    pub pairing: PairingConfig,
    /// Pairing notices go out through the outbound send path, like every message mux sends.
    pub outbound: actix_web::web::Data<Outbound>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Events already answered in their chat, so a redelivery is not answered again.
    pub answered: Arc<answered::AnsweredEvents>,
    /// `MUX_PUBLIC_URL`, or empty: the base of the file proxy URLs in envelopes.
    pub public_url: Arc<str>,
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
