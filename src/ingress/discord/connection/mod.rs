//! Discord's connection, an actor (`DiscordIngress`): nothing drives it from outside, and its
//! steps — a gateway message, a catch-up page — run one at a time, so the per-channel last-seen
//! ids move only here, after commits. Its parts:
//! - `gateway`, `frame`: the twilight shard (which does the protocol) and what its frames mean;
//! - `live`: one gateway message, routed and committed;
//! - `catchup`: one REST page of a bound channel, for what the gateway missed;
//! - `cursors`: the durable last-seen ids and learned DM channels;
//! - `start`: the REST client, the gateway URL, the shard and the actor.
//!
//! Turning each message into a queue row is `DiscordInbound`'s part (`super::inbound`).

pub mod actor;
pub mod catchup;
pub mod cursors;
pub mod frame;
pub mod gateway;
pub mod live;
pub mod start;

pub use actor::{DiscordIngress, StopGateway};
