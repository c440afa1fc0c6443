//! Telegram ingress, in two roles:
//! - `inbound` turns updates into queue rows (`TelegramInbound`): pairing, routing, media,
//!   envelopes. A plain `Clone + Send + Sync` value, because both connection modes call it — the
//!   poller from its actor, webhook deliveries from whichever HTTP worker received them.
//! - `connection` keeps the channel's link to Telegram and acknowledges updates only after their
//!   rows are committed: long polling (an actor, since it owns a loop and the offset) or webhook
//!   mode (a plain struct the HTTP handler calls, since Telegram pushes and each delivery is
//!   answered within its own request).
//!
//! Updates are read as raw JSON with awc rather than teloxide's typed `Update`: the envelope must
//! carry the platform's own objects unmodified (`rawUpdate`, `rawMessage`), and the long-poll
//! timeout must be under our control.

pub mod callback;
pub mod connection;
pub mod envelope;
pub mod inbound;
pub mod media;
pub mod update;

pub use inbound::TelegramInbound;
