//! Pairing notices ("Paired successfully", "invalid link", the unpaired hint): the service's own
//! messages into a chat, outside any tenant request. They take the same dispatch and the same
//! senders (and so the same rate limits) as tenant sends; ingress asks for them here and never
//! talks to a sender itself.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::route_lock::Target;
use super::{Outbound, SendRequest};
use crate::domain::RouteKey;
use crate::senders::{Delivered, OutgoingMessage, SendError};

/// How long a notice may wait for the platform (rate limits included). Longer than a tenant
/// send's deadline: nobody is waiting on an HTTP answer, and a notice dropped at a busy moment
/// leaves a user who just paired without a word.
const NOTICE_DEADLINE: Duration = Duration::from_secs(30);

/// Notices are paced like a tenant of their own, so a burst of pairings cannot hold back the
/// tenants' sends (and the other way round) beyond the round robin's fair share.
const NOTICES_TENANT: &str = "mux-notices";

impl Outbound {
    /// Sends a plain text into the chat of `route`.
    pub async fn notice(&self, route: &RouteKey, text: &str) -> Result<Delivered, SendError> {
        let req = SendRequest {
            channel: route.channel(),
            session_key: String::new(),
            to: None,
            thread_id: None,
            raw: None,
            message: OutgoingMessage {
                text: Some(text.to_owned()),
                ..OutgoingMessage::default()
            },
        };
        let tenant: Arc<str> = Arc::from(NOTICES_TENANT);
        let deadline = Instant::now() + NOTICE_DEADLINE;
        let target = Target::of_route(route).ok_or(SendError::Rejected {
            status: 400,
            message: crate::senders::discord_target::NO_TARGET,
        })?;
        self.dispatch(&tenant, target, &req, deadline).await
    }
}
