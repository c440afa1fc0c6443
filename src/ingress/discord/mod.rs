//! Discord ingress, in two roles:
//! - `inbound` turns message objects into queue rows (`DiscordInbound`): a plain value, called
//!   for gateway dispatches and REST catch-up pages alike.
//! - `connection` keeps the channel's link to Discord (`DiscordIngress`, an actor): the gateway
//!   shard, the catch-up passes while it is down or just back, and the per-channel last-seen ids,
//!   which only it moves, after commits. An actor because it runs on its own (no request drives
//!   it) and its steps must not interleave.
//!
//! Threads: a message in a thread is routed to the thread's own binding first, then to its parent
//! channel's. The parent is learned from `GET /channels/{threadId}` (cached per thread for the
//! process's life; threads do not move), because MESSAGE_CREATE does not carry it. A message
//! routed through the parent keeps the parent binding's session key and carries the thread in
//! `threadId`, as Telegram topics routed through their chat do.
//!
//! Edits: MESSAGE_UPDATE with an `edited_timestamp` is forwarded with event id
//! `dc:<id>:edit:<edited_timestamp>` (each version once; the original keeps `dc:<id>`).
//!
//! What catch-up does not cover (the gateway's resume replay still does, when it resumes):
//! messages in threads of a bound parent channel (`GET /channels/{id}/messages` lists the
//! channel's own messages only), edits of messages older than the last-seen id, and DM bindings
//! whose DM channel was never seen on the gateway (a DM route names the user; the channel is
//! learned from the first gateway message, not opened by mux — Discord discourages opening DMs
//! in bulk).

pub mod connection;
pub mod envelope;
pub mod inbound;
pub mod interaction;
pub mod media;
pub mod message;
pub mod rest;

pub use inbound::DiscordInbound;
