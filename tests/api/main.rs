//! Integration tests: the real service in-process on a temp SQLite file, over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic: that is how they fail

mod admin;
mod cli;
mod crash;
mod deploy;
mod health;
mod helpers;
mod inbound_discord;
mod inbound_discord_catchup;
mod inbound_discord_gateway;
mod inbound_discord_media;
mod inbound_target;
mod inbound_telegram;
mod inbound_whatsapp;
mod metrics;
mod openapi;
mod outbound;
mod pairings;
mod redeem;
mod restart;
mod upgrade;
