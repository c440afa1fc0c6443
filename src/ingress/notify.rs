//! Pairing notices go out through the channel senders; ingress only knows this trait.

use futures_util::future::BoxFuture;

use crate::domain::RouteKey;

/// Sends a short text into the chat of `route`.
pub trait Notifier: Send + Sync + 'static {
    fn notify(&self, route: RouteKey, text: String) -> BoxFuture<'static, Result<(), String>>;
}
