//! Why an ingress step failed, for the step's outcome and its log line. Nothing here reaches a
//! tenant or a platform: a failed step is simply not acknowledged, and tried again.

use crate::error::StoreError;
use crate::ingress::discord::rest::RestError;
use crate::ingress::telegram::bot_api::BotApiError;

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
