//! Starting Discord ingress: the REST client (the sender's builder, sharing its ratelimiter), the gateway URL,
//! the shard and the actor.

use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, Addr};
use secrecy::ExposeSecret;
use twilight_http_ratelimiting::RateLimiter;

use super::actor::DiscordIngress;
use super::gateway;
use crate::channel_status::ChannelHealth;
use crate::config::DiscordConfig;
use crate::db::ReadPool;
use crate::ingress::IngressCtx;
use crate::ingress::discord::{DiscordInbound, rest};
use crate::senders::discord::{Limits, rest_client};

/// Per REST call (twilight's default); a catch-up page that takes longer is retried next pass.
const REST_TIMEOUT: Duration = Duration::from_secs(10);

/// Starts ingress when a bot token is configured. Must run inside the actix system (twilight's
/// ratelimiter and the shard need the tokio runtime).
pub async fn start(
    ctx: IngressCtx,
    cfg: &DiscordConfig,
    rate_limiter: Option<RateLimiter>,
    reads: ReadPool,
    health: Arc<ChannelHealth>,
) -> anyhow::Result<Option<Addr<DiscordIngress>>> {
    let Some(token) = &cfg.bot_token else {
        log::warn!("event=discord_ingress_disabled reason=discord_token_unset");
        return Ok(None);
    };
    let http = Arc::new(rest_client(
        &cfg.api_base_url,
        token.expose_secret(),
        REST_TIMEOUT,
        rate_limiter.map_or(Limits::Own, Limits::Shared),
    )?);
    let url = match &cfg.gateway_url {
        Some(url) => Some(url.clone()),
        None => rest::gateway_url(&http).await,
    };
    let shard = gateway::shard(token, url.as_deref());
    let inbound = DiscordInbound::new(ctx, http, cfg.media_max_bytes);
    let actor = DiscordIngress::new(inbound, reads, health, cfg, shard).start();
    log::info!(
        "event=discord_ingress_started gateway_url={}",
        url.as_deref().unwrap_or("default")
    );
    Ok(Some(actor))
}
