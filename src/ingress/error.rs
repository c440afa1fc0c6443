//! Why an ingress step failed, for the step's outcome and its log line. Nothing here reaches a
//! tenant or a platform: a failed step is simply not acknowledged, and tried again.

use crate::error::StoreError;
use crate::ingress::discord::rest::RestError;
use crate::ingress::telegram::connection::bot_api::BotApiError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngressError {
    /// The queue (or the Registry in front of it) did not take the events.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The Telegram Bot API did not answer as asked.
    #[error(transparent)]
    Telegram(#[from] BotApiError),
    /// A Discord REST call failed.
    #[error(transparent)]
    Discord(#[from] RestError),
}

/// Why a platform's webhook delivery was refused. The HTTP handler answers it (401, 400, 503);
/// the platform delivers again later, except after a 4xx.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// A missing or wrong secret header or signature: nothing is read or stored.
    #[error("unauthorized")]
    Unauthorized,
    /// The body is not the JSON the platform sends.
    #[error("{0}")]
    NotJson(&'static str),
    /// The rows were not committed, so the delivery is not acknowledged.
    #[error(transparent)]
    Store(#[from] StoreError),
}
