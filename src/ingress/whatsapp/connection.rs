//! WhatsApp's connection: the Cloud API webhook. Meta pushes notifications to
//! `POST /v1/ingress/whatsapp` (after a one-time `GET` verify challenge) and the HTTP handlers
//! hand them here. A plain struct, not an actor: there is no link to keep and no state between
//! deliveries, and each is answered within its own request. The signature over the raw body is
//! checked before anything is read; messages are committed before Meta gets its 200, and Meta's
//! redeliveries are dropped by event id.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::Sha256;

use super::WhatsappInbound;
use crate::config::WhatsappConfig;
use crate::domain::secrets::constant_time_eq;
use crate::ingress::IngressCtx;
use crate::ingress::error::WebhookError;

pub struct WhatsappWebhook {
    inbound: WhatsappInbound,
    app_secret: SecretString,
    verify_token: SecretString,
}

/// Whether a `X-Hub-Signature-256` header is there at all (checked before the body is read).
pub fn signature_present(header: Option<&str>) -> bool {
    header.is_some_and(|h| h.trim().starts_with("sha256="))
}

/// `sha256=<lowercase hex HMAC-SHA256(app secret, raw body)>`, compared in constant time.
pub fn signature_valid(app_secret: &str, header: Option<&str>, body: &[u8]) -> bool {
    let Some(given) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    constant_time_eq(given.to_ascii_lowercase().as_bytes(), expected.as_bytes())
}

/// `hub.challenge` when `hub.mode` is `subscribe` and `hub.verify_token` is ours.
fn verified_challenge<'a>(
    verify_token: &str,
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&'a str>,
) -> Option<&'a str> {
    let mode_ok = mode == Some("subscribe");
    let token_ok = token.is_some_and(|t| constant_time_eq(t.as_bytes(), verify_token.as_bytes()));
    challenge.filter(|_| mode_ok && token_ok)
}

impl WhatsappWebhook {
    /// None unless both the app secret and the verify token are configured.
    pub fn new(ctx: IngressCtx, cfg: &WhatsappConfig) -> Option<WhatsappWebhook> {
        Some(WhatsappWebhook {
            app_secret: cfg.app_secret.clone()?,
            verify_token: cfg.verify_token.clone()?,
            inbound: WhatsappInbound::new(ctx, cfg),
        })
    }

    /// Meta's verify challenge: the challenge to echo when mode and token match, else None.
    pub fn verify<'a>(
        &self,
        mode: Option<&str>,
        token: Option<&str>,
        challenge: Option<&'a str>,
    ) -> Option<&'a str> {
        verified_challenge(self.verify_token.expose_secret(), mode, token, challenge)
    }

    /// One notification: `signature` is `X-Hub-Signature-256` as received, `body` the raw
    /// bytes it signs. Ok means every message in it is committed.
    pub async fn receive(&self, signature: Option<&str>, body: &[u8]) -> Result<(), WebhookError> {
        if !signature_valid(self.app_secret.expose_secret(), signature, body) {
            log::warn!("event=auth_failed path=/v1/ingress/whatsapp reason=bad_signature");
            return Err(WebhookError::Unauthorized);
        }
        let payload: Value = serde_json::from_slice(body)
            .map_err(|_| WebhookError::NotJson("payload is not JSON"))?;
        let events = self.inbound.process(&payload).await?;
        self.inbound.ctx.commit(events, None).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        format!(
            "sha256={}",
            mac.finalize()
                .into_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        )
    }

    #[test]
    fn only_the_app_secrets_signature_over_the_raw_body_passes() {
        let body = br#"{"entry":[]}"#;
        assert!(signature_valid("s3cret", Some(&sign("s3cret", body)), body));
        assert!(!signature_valid("s3cret", Some(&sign("other", body)), body));
        assert!(!signature_valid(
            "s3cret",
            Some(&sign("s3cret", b"{\"entry\": []}")),
            body
        ));
        assert!(!signature_valid("s3cret", None, body));
        assert!(!signature_valid("s3cret", Some("sha1=abc"), body));
    }

    #[test]
    fn the_challenge_is_echoed_only_for_a_subscribe_with_our_token() {
        let ok = verified_challenge("vt", Some("subscribe"), Some("vt"), Some("42"));
        assert_eq!(ok, Some("42"));
        assert_eq!(
            verified_challenge("vt", Some("subscribe"), Some("vx"), Some("42")),
            None
        );
        assert_eq!(
            verified_challenge("vt", Some("unsubscribe"), Some("vt"), Some("42")),
            None
        );
        assert_eq!(
            verified_challenge("vt", Some("subscribe"), None, Some("42")),
            None
        );
        assert_eq!(
            verified_challenge("vt", Some("subscribe"), Some("vt"), None),
            None
        );
    }
}
