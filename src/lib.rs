//! mux-server: one host serving many OpenClaw tenants on Telegram, Discord and WhatsApp through
//! shared bot accounts. See README.md and the contract in shared/spec.

pub mod actors;
pub mod api;
pub mod channel_status;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod file_proxy;
pub mod ingress;
pub mod metrics;
pub mod outbound;
pub mod senders;
pub mod startup;
pub mod telemetry;
pub mod testkit;
pub mod time;

#[cfg(test)]
mod architecture_tests;
