//! Telegram's payloads → queue rows: each update's message is parsed (`update`), routed
//! (pairing, hints, drops: `IngressCtx::route`), its images inlined (`media`) and its envelope
//! built (`envelope`). Role: the translator, a plain value shared by the poller and the webhook.

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::{callback, envelope, media, update};
use crate::config::TelegramConfig;
use crate::db::inbound::NewInboundEvent;
use crate::domain::Channel;
use crate::error::StoreError;
use crate::ingress::media::linked_attachments;
use crate::ingress::{IngressCtx, Routed, Seen};

/// Turns updates into queue rows (pairing and notices on the way). Send + Sync: the webhook
/// handler calls it from any worker.
#[derive(Clone)]
pub struct TelegramInbound {
    pub ctx: IngressCtx,
    pub api_base: String,
    pub token: SecretString,
    pub media_max_bytes: u64,
}

impl TelegramInbound {
    pub fn new(ctx: IngressCtx, cfg: &TelegramConfig) -> Option<TelegramInbound> {
        Some(TelegramInbound {
            ctx,
            api_base: cfg.api_base_url.clone(),
            token: cfg.bot_token.clone()?,
            media_max_bytes: cfg.media_max_bytes,
        })
    }

    /// `<base>/bot<token>/<method>`: never log it.
    pub fn method_url(&self, method: &str) -> String {
        format!(
            "{}/bot{}/{method}",
            self.api_base,
            self.token.expose_secret()
        )
    }

    /// The queue rows for a batch of updates. Unknown update kinds and unbound chats give none.
    pub async fn process(&self, updates: &[Value]) -> Result<Vec<NewInboundEvent>, StoreError> {
        let mut events = Vec::new();
        for raw in updates {
            if raw.get("callback_query").is_some() {
                match callback::parse(raw) {
                    Some(press) => events.extend(self.press(&press).await?),
                    None => self.answer_chatless_press(raw),
                }
                continue;
            }
            let Some(msg) = update::parse(raw, self.media_max_bytes) else {
                continue;
            };
            let route_keys = msg.route_keys();
            let event_id = msg.event_id();
            let seen = Seen {
                channel: Channel::Telegram,
                route_keys: &route_keys,
                text: msg.text.as_deref(),
                from_bot: msg.from_is_bot,
                event_id: &event_id,
            };
            let Routed::Forwarded(binding) = self.ctx.route(seen).await? else {
                continue;
            };
            let media::Inlined {
                described,
                mut attachments,
                grants,
            } = media::inline(self, &msg.media).await;
            attachments.extend(linked_attachments(&described));
            if msg.text.as_deref().is_none_or(str::is_empty) && attachments.is_empty() {
                log::warn!(
                    "event=inbound_dropped channel=telegram event_id={event_id} reason=no_text_and_no_inlined_media"
                );
                continue;
            }
            let envelope = envelope::build(
                &msg,
                &binding.session_key,
                &binding.route_key.to_string(),
                described,
                attachments,
            );
            events.push(
                NewInboundEvent::for_binding(&binding, event_id, &envelope).with_files(grants),
            );
        }
        Ok(events)
    }
}
