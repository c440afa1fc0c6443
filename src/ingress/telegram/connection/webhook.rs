//! Telegram's connection in webhook mode: Telegram pushes each update to
//! `POST /v1/ingress/telegram` and the HTTP handler hands the delivery here. A plain struct, not
//! an actor: there is no link to keep and no state between deliveries, and each delivery is
//! answered within its own request. The secret header is checked before the body is read; the
//! update is committed before Telegram gets its 200.

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::domain::secrets::constant_time_eq;
use crate::ingress::error::WebhookError;
use crate::ingress::telegram::TelegramInbound;

pub struct TelegramWebhook {
    inbound: TelegramInbound,
    /// `X-Telegram-Bot-Api-Secret-Token`, as registered with `setWebhook`.
    secret: SecretString,
}

impl TelegramWebhook {
    pub fn new(inbound: TelegramInbound, secret: SecretString) -> TelegramWebhook {
        TelegramWebhook { inbound, secret }
    }

    /// The delivery's `X-Telegram-Bot-Api-Secret-Token` as received; checked before its body
    /// is read.
    pub fn authorize(&self, secret_header: Option<&[u8]>) -> Result<(), WebhookError> {
        let given = secret_header.unwrap_or_default();
        if !constant_time_eq(given, self.secret.expose_secret().as_bytes()) {
            log::warn!("event=auth_failed path=/v1/ingress/telegram");
            return Err(WebhookError::Unauthorized);
        }
        Ok(())
    }

    /// One authorized delivery, `body` the raw update. Ok means committed.
    pub async fn receive(&self, body: &[u8]) -> Result<(), WebhookError> {
        let update: Value = serde_json::from_slice(body)
            .map_err(|_| WebhookError::NotJson("update is not JSON"))?;
        let events = self.inbound.process(std::slice::from_ref(&update)).await?;
        self.inbound.ctx.commit(events, None).await?;
        Ok(())
    }
}
