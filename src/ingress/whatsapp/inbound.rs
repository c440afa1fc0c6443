//! WhatsApp's webhook payloads → queue rows (`WhatsappInbound::process`): every message of a
//! notification parsed (`payload`), routed (`IngressCtx::route`, with `!word` commands), its
//! media fetched from the Graph API and inlined, its envelope built. Role: the translator, a
//! plain value the webhook (`super::connection`) calls.

use std::time::Duration;

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::payload::{self, WaMessage};
use crate::config::WhatsappConfig;
use crate::db::file_grants::FileGrant;
use crate::db::inbound::NewInboundEvent;
use crate::domain::Channel;
use crate::error::StoreError;
use crate::ingress::media::{
    MediaError, Stated, attachment_type, description, download_capped, linked_attachments,
    real_mime, reference,
};
use crate::ingress::{IngressCtx, Routed, Seen};

const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct WhatsappInbound {
    pub ctx: IngressCtx,
    api_base: String,
    access_token: Option<SecretString>,
    media_max_bytes: u64,
    /// `MUX_WHATSAPP_PHONE_NUMBER_ID`: messages to any other number of the app are dropped.
    phone_number_id: Option<String>,
}

impl WhatsappInbound {
    pub fn new(ctx: IngressCtx, cfg: &WhatsappConfig) -> WhatsappInbound {
        WhatsappInbound {
            ctx,
            api_base: cfg.api_base_url.clone(),
            access_token: cfg.access_token.clone(),
            media_max_bytes: cfg.media_max_bytes,
            phone_number_id: cfg.phone_number_id.clone(),
        }
    }

    /// Routes every message of a POST and returns the rows to queue.
    pub async fn process(&self, payload: &Value) -> Result<Vec<NewInboundEvent>, StoreError> {
        let mut events = Vec::new();
        for msg in payload::messages(payload) {
            if !self.is_ours(&msg) {
                // Another number of the same Meta app: its chats are not mux's to route, and
                // a reply would go out from our number.
                self.ctx.metrics.inbound_foreign(Channel::Whatsapp);
                log::warn!(
                    "event=inbound_dropped channel=whatsapp reason=other_phone_number_id event_id={}",
                    msg.event_id()
                );
                continue;
            }
            let Some(route_key) = msg.route_key() else {
                log::info!("event=inbound_dropped channel=whatsapp reason=unroutable_chat");
                continue;
            };
            let event_id = msg.event_id();
            let keys = [route_key];
            let seen = Seen {
                channel: Channel::Whatsapp,
                route_keys: &keys,
                text: msg.text.as_deref(),
                from_bot: false,
                event_id: &event_id,
            };
            let Routed::Forwarded(binding) = self.ctx.route(seen).await? else {
                continue;
            };
            // Where a typing indicator for this chat is shown (`op: "action"`).
            self.ctx
                .outbound
                .last_inbound
                .note(&binding.binding_id, &msg.wamid);
            let (media, mut attachments, grants) = self.inline(&msg).await;
            attachments.extend(linked_attachments(&media));
            if msg.text.as_deref().is_none_or(str::is_empty) && attachments.is_empty() {
                log::warn!(
                    "event=inbound_dropped channel=whatsapp event_id={event_id} reason=no_text_and_no_inlined_media"
                );
                continue;
            }
            let envelope = msg.envelope(
                &binding.session_key,
                &binding.route_key.to_string(),
                media,
                attachments,
            );
            events.push(
                NewInboundEvent::for_binding(&binding, event_id, &envelope).with_files(grants),
            );
        }
        Ok(events)
    }

    /// Whether the message was sent to the configured business number (any, when none is).
    fn is_ours(&self, msg: &WaMessage) -> bool {
        match &self.phone_number_id {
            Some(ours) => msg.phone_number_id.as_deref() == Some(ours.as_str()),
            None => true,
        }
    }

    /// The media description with the older service's fields `{id, kind, mimeType, sha256?,
    /// fileName?, caption?}` (contract §6), and the inlined file typed by its own bytes.
    /// Also answers the grant that makes the file fetchable through the proxy (`fileRef`, and
    /// `url` when not inlined).
    async fn inline(&self, msg: &WaMessage) -> (Vec<Value>, Vec<Value>, Vec<FileGrant>) {
        let Some(media) = &msg.media else {
            return (Vec::new(), Vec::new(), Vec::new());
        };
        let mut desc = description(vec![
            ("id", json!(media.id)),
            ("kind", json!(media.kind)),
            ("mimeType", json!(media.mime_type)),
            ("sha256", json!(media.sha256)),
            ("fileName", json!(media.file_name)),
            ("caption", json!(media.caption)),
            ("inlined", json!(false)),
        ]);
        // Images, documents and stickers are inlined as before; audio and video are served
        // through the file proxy only.
        let fetched = if matches!(media.kind.as_str(), "audio" | "video") {
            Err(MediaError::NotAnImage)
        } else {
            self.download(&media.id).await
        };
        match fetched {
            Ok((bytes, served)) => {
                let mime = real_mime(
                    &bytes,
                    Stated {
                        platform: media.mime_type.as_deref(),
                        name: media.file_name.as_deref(),
                        served: served.as_deref(),
                    },
                );
                desc["inlined"] = json!(true);
                let grant = reference(
                    &mut desc,
                    Channel::Whatsapp,
                    &media.id,
                    &self.ctx.public_url,
                    false,
                );
                let attachment = json!({
                    "type": attachment_type(&mime),
                    "mimeType": mime,
                    "fileName": media.file_name.as_deref().unwrap_or(&media.id),
                    "content": base64::engine::general_purpose::STANDARD.encode(&bytes),
                });
                (vec![desc], vec![attachment], vec![grant])
            }
            Err(reason) => {
                log::info!("event=inbound_media_skipped channel=whatsapp reason={reason}");
                desc["skipped"] = json!(reason.to_string());
                let grant = reference(
                    &mut desc,
                    Channel::Whatsapp,
                    &media.id,
                    &self.ctx.public_url,
                    true,
                );
                (vec![desc], Vec::new(), vec![grant])
            }
        }
    }

    /// Graph media endpoint → short-lived URL → bytes (both with the bearer token).
    async fn download(&self, media_id: &str) -> Result<(Vec<u8>, Option<String>), MediaError> {
        let token = self
            .access_token
            .as_ref()
            .ok_or(MediaError::NoAccessToken)?
            .expose_secret();
        let client = awc::Client::builder().timeout(DOWNLOAD_TIMEOUT).finish();
        let bearer = format!("Bearer {token}");
        let mut resp = client
            .get(format!("{}/{media_id}", self.api_base))
            .insert_header(("Authorization", bearer.as_str()))
            .send()
            .await
            .map_err(|_| MediaError::LookupFailed("media lookup"))?;
        let meta: Value = resp
            .json()
            .await
            .map_err(|_| MediaError::LookupNotJson("media lookup"))?;
        let url = meta["url"].as_str().ok_or(MediaError::LookupIncomplete {
            lookup: "media lookup",
            field: "url",
        })?;
        let size = meta["file_size"]
            .as_u64()
            .or_else(|| meta["file_size"].as_str().and_then(|s| s.parse().ok()));
        if size.is_some_and(|s| s > self.media_max_bytes) {
            return Err(MediaError::TooLarge(self.media_max_bytes));
        }
        download_capped(
            client
                .get(url)
                .insert_header(("Authorization", bearer.as_str())),
            self.media_max_bytes,
        )
        .await
    }
}
