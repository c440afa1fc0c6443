//! Forwarders: one actor per tenant with pending inbound work, started on demand by the
//! `Forwarders` manager and stopped when idle. Their mailbox is the `inbound_events` table, so
//! nothing lives only in memory: at start every tenant with pending rows gets a forwarder.
//!
//! ```text
//!  ingress ──EnqueueInbound──▶ Writer ──commit──▶ ingress ──Wake(tenant)──▶ Forwarders
//!                                                                     │ start / poke
//!                                                                     ▼
//!   tenant's OpenClaw ◀──POST envelope── Forwarder(tenant) ──RecordAttempt──▶ Writer
//! ```

pub mod attempt;
mod budget;
mod delivery;
mod manager;
mod worker;

pub use budget::MemoryBudget;
pub use manager::{ForwarderDeps, Forwarders, StopAll, Wake};
