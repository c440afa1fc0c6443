//! Telegram's connection, in the configured mode. Both acknowledge an update only after its rows
//! are committed: the poller by sending the next `getUpdates` offset, the webhook by answering
//! 200.
//! - `poller`: long polling, an actor — it runs on its own, without any request to serve, and
//!   owns the offset and the retry backoff between polls.
//! - `webhook`: Telegram pushes each update to `POST /v1/ingress/telegram`; the handler calls the
//!   plain `TelegramWebhook`, and the request itself is the connection, so nothing is kept.
//!
//! `start` picks the mode, registers or removes the webhook at Telegram, and starts the poller.

pub mod bot_api;
pub mod poller;
pub mod webhook;

use std::sync::Arc;

use serde_json::json;

use super::TelegramInbound;
use crate::channel_status::{ChannelHealth, ChannelState};
use crate::config::TelegramConfig;
use crate::db::ReadPool;
use crate::domain::Channel;
use poller::{PollerHandle, TelegramPoller};
use webhook::TelegramWebhook;

/// The update kinds mux asks for, in polling and webhook mode alike: messages, their edits and
/// button presses.
pub const ALLOWED_UPDATES: [&str; 3] = ["message", "edited_message", "callback_query"];

/// How Telegram ingress runs: a webhook route's receiver, or a poller to stop at shutdown.
pub enum Started {
    Webhook(Box<TelegramWebhook>),
    Polling(PollerHandle),
}

/// Polling: starts the poller (after removing any webhook, which would make getUpdates fail).
/// Webhook: registers it; the HTTP route serves deliveries.
pub async fn start(
    inbound: TelegramInbound,
    cfg: &TelegramConfig,
    reads: ReadPool,
    health: Arc<ChannelHealth>,
) -> Started {
    let client = awc::Client::default();
    match (&cfg.webhook_url, &cfg.webhook_secret) {
        (Some(url), Some(secret)) => {
            let body = json!({"url": url, "secret_token": secrecy::ExposeSecret::expose_secret(secret),
                              "allowed_updates": ALLOWED_UPDATES});
            match bot_api::call(&client, &inbound, "setWebhook", &body, None).await {
                Ok(_) => {
                    health.set(Channel::Telegram, ChannelState::Connected);
                    log::info!("event=telegram_webhook_registered");
                }
                Err(e) => {
                    health.set(Channel::Telegram, ChannelState::Retrying);
                    log::error!("event=telegram_webhook_failed error={e}");
                }
            }
            Started::Webhook(Box::new(TelegramWebhook::new(inbound, secret.clone())))
        }
        _ => {
            // A Bot API call that answers means Telegram accepted the token: `/ready` reads
            // connected from here, not only once the first long poll has returned (up to
            // MUX_TELEGRAM_POLL_TIMEOUT_SEC later).
            match bot_api::call(&client, &inbound, "deleteWebhook", &json!({}), None).await {
                Ok(_) => health.set(Channel::Telegram, ChannelState::Connected),
                Err(e) => {
                    health.set(Channel::Telegram, ChannelState::Retrying);
                    log::warn!("event=telegram_delete_webhook_failed error={e}");
                }
            }
            let poller = TelegramPoller::start_polling(inbound, reads, health, cfg);
            log::info!("event=telegram_polling_started");
            Started::Polling(poller)
        }
    }
}
