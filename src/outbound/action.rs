//! Chat actions (`op: "action"`, contract §5a): typing, on all three channels. Same binding
//! lookup and route lock as a send — the action reaches only the bound chat, or a thread or
//! topic the lock allows inside it — but best effort: never queued behind the rate limiter
//! (no budget free → `200 {"ok":true,"skipped":true}` at once), never retried, and nothing is
//! stored under an `Idempotency-Key` (a repeated typing is harmless, so the key is ignored).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use super::route_lock::Target;
use super::{Answer, Outbound, SendRequest};
use crate::domain::Channel;
pub use crate::metrics::ActionOutcome;
use crate::senders::discord::DiscordRoute;
use crate::senders::{OutgoingMessage, SendError, Typing};

/// The longest an action may take: it is a hint, not worth the whole send deadline.
const ACTION_DEADLINE: Duration = Duration::from_secs(5);

/// The actions mux knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Typing,
}

impl ActionKind {
    pub fn parse(raw: &str) -> Option<ActionKind> {
        (raw == "typing").then_some(ActionKind::Typing)
    }
}

/// A validated action request.
#[derive(Debug, Clone)]
pub struct ActionRequest {
    pub channel: Channel,
    pub session_key: String,
    /// As for sends: read only by the route lock.
    pub to: Option<String>,
    pub thread_id: Option<String>,
    pub action: ActionKind,
}

impl Outbound {
    /// One action into the bound chat of `(tenant, channel, sessionKey)`.
    pub async fn action(
        self: Arc<Self>,
        tenant: Arc<str>,
        req: ActionRequest,
    ) -> (Answer, ActionOutcome) {
        let (answer, outcome) = match self.act(&tenant, &req).await {
            Ok(Typing::Shown) => (Answer::json(200, &json!({"ok": true})), ActionOutcome::Sent),
            Ok(Typing::Skipped) => (
                Answer::json(200, &json!({"ok": true, "skipped": true})),
                ActionOutcome::Skipped,
            ),
            Err(e) => {
                let answer = Answer::failed(req.channel, &e);
                let outcome = match e {
                    SendError::Platform { .. } | SendError::OutcomeUnknown => ActionOutcome::Failed,
                    _ => ActionOutcome::Refused,
                };
                (answer, outcome)
            }
        };
        log::info!(
            "event=outbound_action tenant={tenant} channel={} action=typing outcome={}",
            req.channel,
            outcome.as_str()
        );
        (answer, outcome)
    }

    async fn act(&self, tenant: &Arc<str>, req: &ActionRequest) -> Result<Typing, SendError> {
        let Some(binding) = self.view.route(tenant, req.channel, &req.session_key) else {
            return Err(SendError::RouteNotBound);
        };
        let deadline = Instant::now() + ACTION_DEADLINE.min(self.deadline);
        // The lock reads only the steering fields; an action carries no message.
        let steer = SendRequest {
            channel: req.channel,
            session_key: req.session_key.clone(),
            to: req.to.clone(),
            thread_id: req.thread_id.clone(),
            message: OutgoingMessage::default(),
            raw: None,
        };
        let target = match self
            .lock(tenant, &binding.route_key, &steer, deadline)
            .await
        {
            // The lock asked the platform and ran out of time or budget: skip, never queue.
            Err(SendError::RateLimited { .. } | SendError::OutcomeUnknown) => {
                return Ok(Typing::Skipped);
            }
            other => other?,
        };
        match target {
            Target::Telegram(target) => {
                let sender = self.telegram.as_ref().ok_or(SendError::Disabled)?;
                sender.typing(target, deadline).await
            }
            Target::DiscordDm { user_id } => {
                let sender = self.discord.as_ref().ok_or(SendError::Disabled)?;
                sender.typing(DiscordRoute::Dm { user_id }, deadline).await
            }
            Target::DiscordChannel { channel_id } => {
                let sender = self.discord.as_ref().ok_or(SendError::Disabled)?;
                sender
                    .typing(DiscordRoute::Channel { channel_id }, deadline)
                    .await
            }
            Target::Whatsapp { .. } => {
                let sender = self.whatsapp.as_ref().ok_or(SendError::Disabled)?;
                // Nothing received in this binding since mux started: nothing to show it on.
                match self.last_inbound.get(&binding.binding_id) {
                    Some(message_id) => sender.typing(&message_id, deadline).await,
                    None => Ok(Typing::Skipped),
                }
            }
        }
    }
}
