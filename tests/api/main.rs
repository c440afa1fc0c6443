//! Integration tests: the real service in-process on a temp SQLite file, over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic: that is how they fail

mod admin;
mod body_types;
mod buttons;
mod cli;
mod crash;
mod deploy;
mod discord_guild_scope;
mod files;
mod forward_memory;
mod health;
mod helpers;
mod http_errors;
mod inbound_discord;
mod inbound_discord_catchup;
mod inbound_discord_gateway;
mod inbound_discord_media;
mod inbound_discord_rest;
mod inbound_media_fields;
mod inbound_replay;
mod inbound_target;
mod inbound_telegram;
mod inbound_telegram_topics;
mod inbound_whatsapp;
mod metrics;
mod openapi;
mod outbound;
mod pairings;
mod probe_errors;
mod redeem;
mod restart;
mod slow_clients;
mod store_faults;
mod upgrade;
