//! WhatsApp ingress (Cloud API), in two roles:
//! - `inbound` turns webhook payloads into queue rows (`WhatsappInbound`, a plain value);
//! - `connection` is the webhook itself (`WhatsappWebhook`, a plain struct the HTTP handlers
//!   call): Meta pushes, so there is no connection to keep and no actor — each delivery is
//!   checked, committed and answered within its own request.

pub mod connection;
pub mod inbound;
pub mod payload;

pub use connection::{WhatsappWebhook, signature_present};
pub use inbound::WhatsappInbound;
