//! What to do with a chat message, the same for every channel (contract §3.2): forward it,
//! redeem the pairing token it carries, answer with a hint, or drop it. `decide` is the pure rule;
//! `IngressCtx::route` asks the Registry, carries the decision out and says what it did.

use super::{IngressCtx, Seen};
use crate::actors::registry::{Binding, RedeemToken};
use crate::db::pairing::Redeemed;
use crate::domain::{RouteKey, extract_token};
use crate::error::StoreError;
use crate::metrics::PairingOutcome;

/// What routing one message came to.
#[derive(Debug, Clone)]
pub enum Routed {
    /// The chat is bound: build the message's envelope for this binding.
    Forwarded(Binding),
    /// The message's token paired its chat: the chat's history starts here. Not forwarded.
    Paired,
    /// A token posted in a chat that is already bound: not consumed, not forwarded.
    TokenIgnored,
    /// An unbound chat was answered (the unpaired hint, or "invalid link" for a bad token).
    Hinted,
    /// Nothing to do: bots' messages, plain talk in unbound chats.
    Dropped,
}

impl Routed {
    /// Whether the message's chat is bound now (it was, or this message paired it).
    pub fn chat_bound(&self) -> bool {
        matches!(
            self,
            Routed::Forwarded(_) | Routed::Paired | Routed::TokenIgnored
        )
    }
}

impl IngressCtx {
    /// Forwards, pairs, answers or drops one message, and says which.
    pub async fn route(&self, seen: Seen<'_>) -> Result<Routed, StoreError> {
        let binding = self.view.incoming(seen.route_keys);
        self.metrics.inbound_received(seen.channel);
        let bang = seen.channel == crate::domain::Channel::Whatsapp;
        let channel = seen.channel;
        let routed = match decide(seen.text, seen.from_bot, binding.is_some(), bang) {
            Action::Forward => binding.map_or(Routed::Dropped, Routed::Forwarded),
            Action::IgnoreToken => {
                log::info!(
                    "event=pairing_token_in_bound_chat channel={channel} event_id={}",
                    seen.event_id
                );
                Routed::TokenIgnored
            }
            Action::Redeem(token) => match seen.route_keys.first() {
                Some(route_key) => self.redeem(token, route_key, &seen).await?,
                None => Routed::Dropped,
            },
            Action::Hint => match seen.route_keys.first() {
                Some(route_key) => {
                    self.answer_once(&seen, route_key, &self.pairing.unpaired_hint_text);
                    Routed::Hinted
                }
                None => Routed::Dropped,
            },
            Action::Drop => Routed::Dropped,
        };
        Ok(routed)
    }

    /// Claims the token for the message's most specific route key and answers in the chat.
    async fn redeem(
        &self,
        token: String,
        route_key: &RouteKey,
        seen: &Seen<'_>,
    ) -> Result<Routed, StoreError> {
        let channel = seen.channel;
        let outcome = self
            .registry
            .send(RedeemToken {
                token,
                route_key: route_key.clone(),
            })
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))??;
        let (text, routed) = match outcome {
            Redeemed::Paired { binding, .. } => {
                self.metrics.pairing(PairingOutcome::TokenRedeemed);
                log::info!(
                    "event=pairing_token_claimed channel={channel} tenant={} binding={}",
                    binding.tenant_id,
                    binding.binding_id
                );
                (&self.pairing.success_text, Routed::Paired)
            }
            Redeemed::Invalid => {
                self.metrics.pairing(PairingOutcome::TokenInvalid);
                log::info!(
                    "event=pairing_token_invalid channel={channel} event_id={}",
                    seen.event_id
                );
                (&self.pairing.invalid_text, Routed::Hinted)
            }
            Redeemed::AlreadyBound => {
                self.metrics.pairing(PairingOutcome::AlreadyBound);
                log::info!(
                    "event=pairing_token_in_bound_chat channel={channel} event_id={}",
                    seen.event_id
                );
                return Ok(Routed::TokenIgnored);
            }
        };
        self.answer_once(seen, route_key, text);
        Ok(routed)
    }

    /// Answers the message's chat with `text`, unless this event was answered before (a
    /// platform redelivery or a replayed webhook update).
    fn answer_once(&self, seen: &Seen<'_>, route_key: &RouteKey, text: &str) {
        if self.answered.first_time(seen.event_id) {
            self.notify(route_key.clone(), text.to_owned());
        } else {
            log::info!(
                "event=notice_skipped channel={} event_id={} reason=already_answered",
                seen.channel,
                seen.event_id
            );
        }
    }

    /// Sends a notice through the outbound send path without holding up the ingress.
    fn notify(&self, route_key: RouteKey, text: String) {
        let outbound = self.outbound.clone();
        actix_web::rt::spawn(async move {
            if let Err(e) = outbound.notice(&route_key, &text).await {
                log::warn!(
                    "event=notice_failed channel={} error={e:?}",
                    route_key.channel()
                );
            }
        });
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A bound chat's message: queue it for the tenant.
    Forward,
    /// A token posted in a chat that is already bound: ignored, token not consumed.
    IgnoreToken,
    /// An unbound chat with a token: try to pair it.
    Redeem(String),
    /// An unbound chat, a command: answer with the unpaired hint.
    Hint,
    /// Bots' messages, and plain talk in unbound chats.
    Drop,
}

/// `bang_commands`: WhatsApp also treats `!word` as a command.
pub fn decide(text: Option<&str>, from_bot: bool, bound: bool, bang_commands: bool) -> Action {
    if from_bot {
        return Action::Drop;
    }
    let token = text.and_then(extract_token);
    match (bound, token) {
        (true, Some(_)) => Action::IgnoreToken,
        (true, None) => Action::Forward,
        (false, Some(t)) => Action::Redeem(t.to_owned()),
        (false, None) if text.is_some_and(|t| is_command(t, bang_commands)) => Action::Hint,
        (false, None) => Action::Drop,
    }
}

/// `/word…` (or `!word…` when allowed) at the very start of the text.
pub fn is_command(text: &str, bang: bool) -> bool {
    let mut chars = text.chars();
    match chars.next() {
        Some('/') => {}
        Some('!') if bang => {}
        _ => return false,
    }
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "mpt_abcdefghijklmnopqrstuvwxyz012345";

    #[test]
    fn bound_chats_forward_everything_but_tokens() {
        assert_eq!(decide(Some("hello"), false, true, false), Action::Forward);
        assert_eq!(
            decide(None, false, true, false),
            Action::Forward,
            "media only"
        );
        assert_eq!(
            decide(Some(&format!("/start {TOKEN}")), false, true, false),
            Action::IgnoreToken
        );
    }

    #[test]
    fn unbound_chats_redeem_tokens_hint_commands_and_drop_the_rest() {
        assert_eq!(
            decide(Some(&format!("/start {TOKEN}")), false, false, false),
            Action::Redeem(TOKEN.into())
        );
        assert_eq!(
            decide(Some(&format!("here: {TOKEN}")), false, false, false),
            Action::Redeem(TOKEN.into())
        );
        assert_eq!(decide(Some("/help"), false, false, false), Action::Hint);
        assert_eq!(decide(Some("!help"), false, false, true), Action::Hint);
        assert_eq!(decide(Some("!help"), false, false, false), Action::Drop);
        assert_eq!(decide(Some("hi"), false, false, false), Action::Drop);
        assert_eq!(decide(Some("/"), false, false, false), Action::Drop);
    }

    #[test]
    fn bots_are_never_forwarded_or_answered() {
        assert_eq!(decide(Some("hi"), true, true, false), Action::Drop);
        assert_eq!(decide(Some(TOKEN), true, false, false), Action::Drop);
    }

    #[test]
    fn a_chat_is_bound_after_pairing_or_an_ignored_token_only() {
        assert!(Routed::Paired.chat_bound());
        assert!(Routed::TokenIgnored.chat_bound());
        assert!(!Routed::Hinted.chat_bound());
        assert!(!Routed::Dropped.chat_bound());
    }
}
