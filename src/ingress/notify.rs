//! Pairing notices go out through the channel senders; ingress only knows this trait.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web::Data;
use futures_util::future::LocalBoxFuture;

use crate::channels::discord::DiscordRoute;
use crate::channels::telegram::TelegramTarget;
use crate::channels::{OutgoingMessage, SendError};
use crate::domain::RouteKey;
use crate::outbound::Outbound;

/// How long a notice may wait for the platform (rate limits included).
const NOTICE_DEADLINE: Duration = Duration::from_secs(30);

/// Sends a short text into the chat of `route`.
pub trait Notifier: Send + Sync + 'static {
    fn notify(&self, route: RouteKey, text: String) -> LocalBoxFuture<'static, Result<(), String>>;
}

/// Notices through the same senders (and rate limits) as outbound sends.
pub struct SenderNotifier(pub Data<Outbound>);

/// Notices are the service's own messages, paced like a tenant of their own.
fn notices_tenant() -> Arc<str> {
    Arc::from("mux-notices")
}

impl Notifier for SenderNotifier {
    fn notify(&self, route: RouteKey, text: String) -> LocalBoxFuture<'static, Result<(), String>> {
        let outbound = self.0.clone();
        Box::pin(async move {
            let msg = OutgoingMessage {
                text: Some(text),
                ..OutgoingMessage::default()
            };
            let deadline = tokio::time::Instant::now() + NOTICE_DEADLINE;
            let sent = match route {
                RouteKey::TelegramChat { chat_id } => match &outbound.telegram {
                    Some(s) => {
                        s.send(
                            &notices_tenant(),
                            TelegramTarget {
                                chat_id,
                                topic_id: None,
                            },
                            &msg,
                            deadline,
                        )
                        .await
                    }
                    None => Err(SendError::Disabled),
                },
                RouteKey::TelegramTopic { chat_id, topic_id } => match &outbound.telegram {
                    Some(s) => {
                        let target = TelegramTarget {
                            chat_id,
                            topic_id: Some(topic_id),
                        };
                        s.send(&notices_tenant(), target, &msg, deadline).await
                    }
                    None => Err(SendError::Disabled),
                },
                RouteKey::DiscordDm { user_id } => match &outbound.discord {
                    Some(s) => {
                        s.send(DiscordRoute::Dm { user_id }, &msg, None, deadline)
                            .await
                    }
                    None => Err(SendError::Disabled),
                },
                RouteKey::DiscordChannel {
                    guild_id,
                    channel_id,
                } => match &outbound.discord {
                    Some(s) => {
                        s.send(
                            DiscordRoute::Guild {
                                guild_id,
                                channel_id,
                            },
                            &msg,
                            None,
                            deadline,
                        )
                        .await
                    }
                    None => Err(SendError::Disabled),
                },
                RouteKey::WhatsappChat { jid } => match &outbound.whatsapp {
                    Some(s) => s.send(&jid, &msg, deadline).await,
                    None => Err(SendError::Disabled),
                },
            };
            sent.map(|_| ()).map_err(|e| format!("{e:?}"))
        })
    }
}
