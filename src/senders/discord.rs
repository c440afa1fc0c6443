//! The Discord sender: twilight-http (its ratelimiter handles Discord's buckets, the global
//! 50/s and 429s) against `MUX_DISCORD_API_BASE_URL`. DM routes open the DM channel once and
//! cache it. It posts where it is told; which channel that may be is the route lock's decision
//! (`crate::outbound::route_lock`), made with `place` (`GET /channels/{id}`, cached a while).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::{Instant, timeout};
use twilight_http::Client;
use twilight_http::error::ErrorType;
use twilight_http_ratelimiting::{Endpoint, Method};
use twilight_model::channel::message::embed::{Embed, EmbedImage};
use twilight_model::id::Id;

use super::discord_target::snowflake;
use super::{Delivered, OutgoingMessage, SendError, Typing, after_partial, remaining, split};
use crate::config::{DiscordConfig, OutboundConfig};

mod raw;

/// Message `content` limit.
pub const TEXT_LIMIT: usize = 2000;
/// Embeds per message.
pub const MAX_EMBEDS: usize = 10;
/// How long a channel's place is trusted. Threads do not move between channels, but they can
/// be deleted; five minutes bounds how long a deleted channel id stays "inside".
const CHANNEL_PLACE_TTL: Duration = Duration::from_secs(300);

/// Where a send goes in Discord.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscordRoute {
    /// The DM with a user (its channel is opened once and cached).
    Dm { user_id: u64 },
    /// A guild channel or thread.
    Channel { channel_id: u64 },
}

/// Where a channel sits: its guild and, for a thread, its parent channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelPlace {
    pub guild_id: Option<u64>,
    pub parent_id: Option<u64>,
}

type PlaceCache = HashMap<u64, (Option<ChannelPlace>, Instant)>;

pub struct DiscordSender {
    http: Client,
    dm_channels: Mutex<HashMap<u64, u64>>,
    places: Mutex<PlaceCache>,
}

/// The fields of a channel or message object mux reads.
#[derive(Deserialize)]
struct Object {
    id: String,
    #[serde(default)]
    guild_id: Option<String>,
    #[serde(default)]
    parent_id: Option<String>,
    /// The channel type (threads: 10 announcement, 11 public, 12 private).
    #[serde(default, rename = "type")]
    kind: Option<u64>,
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
        let limits = if outbound.discord_ratelimit {
            Limits::Own
        } else {
            log::warn!("event=discord_ratelimit_disabled note=only_against_a_fake_discord");
            Limits::Off
        };
        let http = rest_client(
            &cfg.api_base_url,
            token.expose_secret(),
            Duration::from_millis(outbound.deadline_ms),
            limits,
        )?;
        Ok(Some(DiscordSender {
            http,
            dm_channels: Mutex::new(HashMap::new()),
            places: Mutex::new(HashMap::new()),
        }))
    }

    pub async fn send(
        &self,
        route: DiscordRoute,
        msg: &OutgoingMessage,
        deadline: Instant,
    ) -> Result<Delivered, SendError> {
        let channel_id = match route {
            DiscordRoute::Dm { user_id } => self.dm_channel(user_id, deadline).await?,
            DiscordRoute::Channel { channel_id } => channel_id,
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
        let mut ids = msg.already_sent.clone();
        for i in msg.already_sent.len()..count {
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

    /// `POST /channels/{id}/typing` into the channel the route lock chose, unless the
    /// ratelimiter's bucket for it is empty right now (then skipped: never queued).
    pub async fn typing(
        &self,
        route: DiscordRoute,
        deadline: Instant,
    ) -> Result<Typing, SendError> {
        let channel_id = match route {
            DiscordRoute::Dm { user_id } => self.dm_channel(user_id, deadline).await?,
            DiscordRoute::Channel { channel_id } => channel_id,
        };
        if let Some(limiter) = self.http.ratelimiter() {
            let endpoint = Endpoint {
                method: Method::Post,
                path: format!("channels/{channel_id}/typing"),
            };
            let left = remaining(deadline).unwrap_or_default();
            match timeout(left, limiter.bucket(endpoint)).await {
                Ok(Some(bucket))
                    if bucket.remaining == 0 && bucket.reset_at > std::time::Instant::now() =>
                {
                    return Ok(Typing::Skipped);
                }
                Ok(_) => {}
                Err(_) => return Ok(Typing::Skipped),
            }
        }
        let Some(left) = remaining(deadline) else {
            return Ok(Typing::Skipped);
        };
        match timeout(
            left,
            self.http
                .create_typing_trigger(Id::new(channel_id))
                .into_future(),
        )
        .await
        {
            Ok(Ok(_)) => Ok(Typing::Shown),
            Ok(Err(e)) => match failure(&e) {
                // twilight waited out a 429 past the deadline, or it timed out: nothing to show.
                SendError::OutcomeUnknown => Ok(Typing::Skipped),
                other => Err(other),
            },
            Err(_) => Ok(Typing::Skipped),
        }
    }

    /// The DM channel with a user: `POST /users/@me/channels` once, then from the cache.
    pub(super) async fn dm_channel(
        &self,
        user_id: u64,
        deadline: Instant,
    ) -> Result<u64, SendError> {
        if let Some(id) = self.lock_dms().get(&user_id) {
            return Ok(*id);
        }
        let channel = call(self.http.create_private_channel(Id::new(user_id)), deadline).await?;
        let id = snowflake(&channel.id).ok_or_else(|| bad_answer(&channel.id))?;
        self.lock_dms().insert(user_id, id);
        Ok(id)
    }

    /// Where a channel sits (None for one that does not exist or the bot cannot read).
    pub async fn place(
        &self,
        channel_id: u64,
        deadline: Instant,
    ) -> Result<Option<ChannelPlace>, SendError> {
        if let Some((place, at)) = self.lock_places().get(&channel_id)
            && at.elapsed() < CHANNEL_PLACE_TTL
        {
            return Ok(*place);
        }
        let place = match call(self.http.channel(Id::new(channel_id)), deadline).await {
            Ok(channel) => Some(ChannelPlace {
                guild_id: channel.guild_id.as_deref().and_then(snowflake),
                // Other channels' `parent_id` is their category, which holds no messages.
                parent_id: channel
                    .parent_id
                    .as_deref()
                    .and_then(snowflake)
                    .filter(|_| matches!(channel.kind, Some(10..=12))),
            }),
            // An unknown or inaccessible channel is simply not inside the bound one.
            Err(SendError::Platform { details })
                if matches!(details["status"].as_u64(), Some(403 | 404)) =>
            {
                None
            }
            Err(e) => return Err(e),
        };
        self.lock_places()
            .insert(channel_id, (place, Instant::now()));
        Ok(place)
    }

    /// twilight's ratelimiter, so that Discord ingress's REST catch-up shares the bot's buckets
    /// and global limit with the sends instead of adding a second 50/s on top.
    pub fn rate_limiter(&self) -> Option<twilight_http_ratelimiting::RateLimiter> {
        self.http.ratelimiter().cloned()
    }

    fn lock_dms(&self) -> std::sync::MutexGuard<'_, HashMap<u64, u64>> {
        self.dm_channels.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_places(&self) -> std::sync::MutexGuard<'_, PlaceCache> {
        self.places.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whose rate limiter a Discord REST client keeps.
pub enum Limits {
    /// Its own buckets and global limit.
    Own,
    /// Another client's (ingress's catch-up shares the sender's, so both count against the bot).
    Shared(twilight_http_ratelimiting::RateLimiter),
    /// None (`MUX_DISCORD_RATELIMIT_ENABLED=false`: benchmarks against a fake Discord only).
    Off,
}

/// The one way mux builds a Discord REST client (the sender's, and ingress's for catch-up):
/// against `MUX_DISCORD_API_BASE_URL` (scheme and host[:port]; twilight always speaks `/api/v10`
/// under it), keeping Discord's rate limits as `limits` says.
pub fn rest_client(
    api_base_url: &str,
    token: &str,
    timeout: Duration,
    limits: Limits,
) -> anyhow::Result<Client> {
    let mut builder = Client::builder().token(token.to_owned()).timeout(timeout);
    match limits {
        Limits::Own => {}
        Limits::Shared(limiter) => builder = builder.ratelimiter(Some(limiter)),
        Limits::Off => builder = builder.ratelimiter(None),
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
