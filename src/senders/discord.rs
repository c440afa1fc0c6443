//! The Discord sender: twilight-http (its ratelimiter handles Discord's buckets, the global
//! 50/s and 429s) against `MUX_DISCORD_API_BASE_URL`. DM routes open the DM channel once and
//! cache it; guild routes may only post into channels of the bound guild, checked with
//! `GET /channels/{id}` and cached for a while.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::{Instant, timeout};
use twilight_http::Client;
use twilight_http::error::ErrorType;
use twilight_model::channel::message::embed::{Embed, EmbedImage};
use twilight_model::id::Id;

use super::discord_target::{OTHER_GUILD, guild_target, snowflake};
use super::{Delivered, OutgoingMessage, SendError, after_partial, remaining, split};
use crate::config::{DiscordConfig, OutboundConfig};

/// Message `content` limit.
pub const TEXT_LIMIT: usize = 2000;
/// Embeds per message.
pub const MAX_EMBEDS: usize = 10;
/// How long a channel's guild is trusted. Channels do not move between guilds, but they can be
/// deleted; five minutes bounds how long a deleted channel id stays "allowed".
const CHANNEL_GUILD_TTL: Duration = Duration::from_secs(300);

/// Where a binding points in Discord.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscordRoute {
    Dm { user_id: u64 },
    Guild { guild_id: u64, channel_id: u64 },
}

pub struct DiscordSender {
    http: Client,
    dm_channels: Mutex<HashMap<u64, u64>>,
    channel_guilds: Mutex<HashMap<u64, (Option<u64>, Instant)>>,
}

/// The fields of a channel or message object mux reads.
#[derive(Deserialize)]
struct Object {
    id: String,
    #[serde(default)]
    guild_id: Option<String>,
}

impl DiscordSender {
    /// None without `DISCORD_BOT_TOKEN`. Must run inside a tokio runtime (twilight's ratelimiter).
    pub fn new(
        cfg: &DiscordConfig,
        outbound: &OutboundConfig,
    ) -> anyhow::Result<Option<DiscordSender>> {
        let Some(token) = &cfg.bot_token else {
            return Ok(None);
        };
        let http = rest_client(
            &cfg.api_base_url,
            token.expose_secret(),
            Duration::from_millis(outbound.deadline_ms),
            None,
        )?;
        Ok(Some(DiscordSender {
            http,
            dm_channels: Mutex::new(HashMap::new()),
            channel_guilds: Mutex::new(HashMap::new()),
        }))
    }

    pub async fn send(
        &self,
        route: DiscordRoute,
        msg: &OutgoingMessage,
        to: Option<&str>,
        deadline: Instant,
    ) -> Result<Delivered, SendError> {
        let channel_id = match route {
            DiscordRoute::Dm { user_id } => self.dm_channel(user_id, deadline).await?,
            DiscordRoute::Guild {
                guild_id,
                channel_id,
            } => {
                let target = guild_target(Some(channel_id), msg.thread_id.as_deref(), to)?;
                if target != channel_id
                    && self.channel_guild(target, deadline).await? != Some(guild_id)
                {
                    return Err(SendError::Rejected {
                        status: 403,
                        message: OTHER_GUILD,
                    });
                }
                target
            }
        };
        let embeds: Vec<Embed> = msg
            .media
            .iter()
            .take(MAX_EMBEDS)
            .map(|u| image_embed(u))
            .collect();
        let texts = msg
            .text
            .as_deref()
            .map(|t| split::split_text(t, TEXT_LIMIT))
            .unwrap_or_default();
        let reply = msg.reply_to.as_deref().and_then(snowflake);
        let count = texts.len().max(1);
        let mut ids = Vec::with_capacity(count);
        for i in 0..count {
            let first = i == 0;
            let mut req = self.http.create_message(Id::new(channel_id));
            if let Some(text) = texts.get(i) {
                req = req.content(text);
            }
            if first && !embeds.is_empty() {
                req = req.embeds(&embeds);
            }
            if let (true, Some(reply)) = (first, reply) {
                req = req.reply(Id::new(reply)).fail_if_not_exists(false);
            }
            match call(req, deadline).await {
                Ok(object) => ids.push(object.id),
                Err(e) => return Err(after_partial(e, &ids)),
            }
        }
        Ok(Delivered {
            destination_field: "channelId",
            destination: channel_id.to_string(),
            message_ids: ids,
        })
    }

    /// The DM channel with a user: `POST /users/@me/channels` once, then from the cache.
    async fn dm_channel(&self, user_id: u64, deadline: Instant) -> Result<u64, SendError> {
        if let Some(id) = self.lock_dms().get(&user_id) {
            return Ok(*id);
        }
        let channel = call(self.http.create_private_channel(Id::new(user_id)), deadline).await?;
        let id = snowflake(&channel.id).ok_or_else(|| bad_answer(&channel.id))?;
        self.lock_dms().insert(user_id, id);
        Ok(id)
    }

    /// The guild of a channel (None for a DM channel or one that does not exist).
    async fn channel_guild(
        &self,
        channel_id: u64,
        deadline: Instant,
    ) -> Result<Option<u64>, SendError> {
        if let Some((guild, at)) = self.lock_guilds().get(&channel_id)
            && at.elapsed() < CHANNEL_GUILD_TTL
        {
            return Ok(*guild);
        }
        let guild = match call(self.http.channel(Id::new(channel_id)), deadline).await {
            Ok(channel) => channel.guild_id.as_deref().and_then(snowflake),
            // An unknown or inaccessible channel is simply not in the bound guild.
            Err(SendError::Platform { details })
                if matches!(details["status"].as_u64(), Some(403 | 404)) =>
            {
                None
            }
            Err(e) => return Err(e),
        };
        self.lock_guilds()
            .insert(channel_id, (guild, Instant::now()));
        Ok(guild)
    }

    /// twilight's ratelimiter, so that Discord ingress's REST catch-up shares the bot's buckets
    /// and global limit with the sends instead of adding a second 50/s on top.
    pub fn rate_limiter(&self) -> Option<twilight_http_ratelimiting::RateLimiter> {
        self.http.ratelimiter().cloned()
    }

    fn lock_dms(&self) -> std::sync::MutexGuard<'_, HashMap<u64, u64>> {
        self.dm_channels.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_guilds(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (Option<u64>, Instant)>> {
        self.channel_guilds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

/// The one way mux builds a Discord REST client (the sender's, and ingress's for catch-up):
/// against `MUX_DISCORD_API_BASE_URL` (scheme and host[:port]; twilight always speaks `/api/v10`
/// under it). `rate_limiter`: share an existing client's buckets and global limit; `None` gives
/// the client its own.
pub fn rest_client(
    api_base_url: &str,
    token: &str,
    timeout: Duration,
    rate_limiter: Option<twilight_http_ratelimiting::RateLimiter>,
) -> anyhow::Result<Client> {
    let mut builder = Client::builder().token(token.to_owned()).timeout(timeout);
    if let Some(limiter) = rate_limiter {
        builder = builder.ratelimiter(Some(limiter));
    }
    let url = url::Url::parse(api_base_url)?;
    let host = url.host_str().unwrap_or("discord.com");
    if url.scheme() == "http" || host != "discord.com" || url.port().is_some() {
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        builder = builder.proxy(authority, url.scheme() == "http");
    }
    Ok(builder.build())
}

/// Runs one twilight request within the deadline and reads the answer's `id`/`guild_id` only.
async fn call<F, T>(request: F, deadline: Instant) -> Result<Object, SendError>
where
    F: std::future::IntoFuture<Output = Result<twilight_http::Response<T>, twilight_http::Error>>,
{
    let Some(left) = remaining(deadline) else {
        return Err(SendError::RateLimited {
            retry_after: Duration::from_secs(1),
        });
    };
    // Past the deadline twilight is either waiting for its ratelimiter or has the request in
    // flight; it cannot say which, so the outcome is unknown.
    let response = match timeout(left, request.into_future()).await {
        Err(_) => return Err(SendError::OutcomeUnknown),
        Ok(Err(e)) => return Err(failure(&e)),
        Ok(Ok(response)) => response,
    };
    let bytes = match timeout(remaining(deadline).unwrap_or_default(), response.bytes()).await {
        Ok(Ok(bytes)) => bytes,
        _ => return Err(SendError::OutcomeUnknown),
    };
    serde_json::from_slice::<Object>(&bytes)
        .map_err(|_| bad_answer(&String::from_utf8_lossy(&bytes)))
}

fn failure(e: &twilight_http::Error) -> SendError {
    match e.kind() {
        ErrorType::RequestTimedOut => SendError::OutcomeUnknown,
        ErrorType::Response { body, status, .. } => {
            let body: Value = serde_json::from_slice(body)
                .unwrap_or_else(|_| json!(String::from_utf8_lossy(body)));
            SendError::Platform {
                details: json!({"status": status.get(), "error": body}),
            }
        }
        // twilight's Display never includes the token (it lives in a header).
        _ => SendError::Platform {
            details: json!({"error": e.to_string()}),
        },
    }
}

fn bad_answer(raw: &str) -> SendError {
    SendError::Platform {
        details: json!({"error": "unexpected answer", "body": raw}),
    }
}

fn image_embed(url: &str) -> Embed {
    Embed {
        author: None,
        color: None,
        description: None,
        fields: Vec::new(),
        flags: None,
        footer: None,
        image: Some(EmbedImage {
            content_type: None,
            flags: None,
            height: None,
            placeholder: None,
            placeholder_version: None,
            proxy_url: None,
            url: url.to_owned(),
            width: None,
        }),
        kind: "rich".to_owned(),
        provider: None,
        thumbnail: None,
        timestamp: None,
        title: None,
        url: None,
        video: None,
    }
}
