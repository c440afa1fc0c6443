//! The gateway connection: one twilight shard (a relay far below 2,500 guilds needs one), which
//! does the protocol itself — HELLO, IDENTIFY, heartbeats, zombie detection, RESUME on op 7,
//! op 9 `true` and resumable close codes, a new IDENTIFY otherwise, and stopping for good on the
//! fatal close codes (4004, 4010–4014). The pump only reads its frames and tells the ingress actor
//! what they mean.

use actix::Recipient;
use futures_util::StreamExt as _;
use secrecy::{ExposeSecret, SecretString};
use twilight_gateway::error::ReceiveMessageErrorType;
use twilight_gateway::{ConfigBuilder, Intents, Message, Shard, ShardId};

use super::frame::{self, Frame};

/// Guild messages, DMs, and their content (privileged: it must be enabled for the app, or the
/// gateway closes with 4014).
pub fn intents() -> Intents {
    Intents::GUILD_MESSAGES | Intents::DIRECT_MESSAGES | Intents::MESSAGE_CONTENT
}

/// What the gateway did, for the ingress actor.
#[derive(actix::Message, Debug)]
#[rtype(result = "()")]
pub enum GatewayEvent {
    Frame(Frame),
    /// The connection dropped or a reconnect failed; the shard keeps retrying (with backoff).
    Down(String),
    /// Closed for good (bad token, disallowed intents, …): only REST catch-up remains.
    Fatal,
}

/// twilight appends `/?v=10&encoding=json` to the base URL itself.
pub fn base_url(url: &str) -> String {
    let base = url.split(['?', '#']).next().unwrap_or(url);
    base.trim_end_matches('/').to_owned()
}

/// The shard, against `url` when given (MUX_DISCORD_GATEWAY_URL or `GET /gateway/bot`), else
/// twilight's default. After READY the shard resumes to the `resume_gateway_url` Discord gave.
pub fn shard(token: &SecretString, url: Option<&str>) -> Shard {
    let mut config = ConfigBuilder::new(token.expose_secret().to_owned(), intents());
    if let Some(url) = url {
        config = config.proxy_url(base_url(url));
    }
    Shard::with_config(ShardId::ONE, config.build())
}

/// Reads the shard until it stops, handing the frames ingress cares about to `to`. Runs as its
/// own task so the shard is polled (and heartbeats go out) even while the actor is busy with a
/// slow download or catch-up page.
pub async fn pump(mut shard: Shard, to: Recipient<GatewayEvent>) {
    while let Some(item) = shard.next().await {
        let event = match item {
            Ok(Message::Text(text)) => match frame::classify(&text) {
                Frame::Other => continue,
                f => GatewayEvent::Frame(f),
            },
            Ok(Message::Close(close)) => {
                let code = close.map_or_else(|| "none".to_owned(), |c| c.code.to_string());
                GatewayEvent::Down(format!("closed code={code}"))
            }
            Err(e) if matches!(e.kind(), ReceiveMessageErrorType::Reconnect) => {
                GatewayEvent::Down(format!("reconnect failed: {e}"))
            }
            Err(e) => {
                log::warn!("event=discord_gateway_frame_error error={e}");
                continue;
            }
        };
        if !to.connected() {
            return;
        }
        to.do_send(event);
    }
    log::error!(
        "event=discord_gateway_stopped reason=fatal_close state={:?}",
        shard.state()
    );
    to.do_send(GatewayEvent::Fatal);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_url_loses_query_and_trailing_slash() {
        assert_eq!(
            base_url("wss://gateway.discord.gg/?v=10&encoding=json"),
            "wss://gateway.discord.gg"
        );
        assert_eq!(base_url("ws://127.0.0.1:9000/"), "ws://127.0.0.1:9000");
        assert_eq!(base_url("ws://127.0.0.1:9000"), "ws://127.0.0.1:9000");
        assert_eq!(intents().bits(), 512 | 4096 | 32768);
    }
}
