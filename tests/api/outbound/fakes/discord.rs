//! A fake Discord REST API under `/api/v10`: create DM, get channel, create message. Channels it
//! knows belong to the guilds given at start; others are `404 Unknown Channel`.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::HttpRequest;
use serde_json::{Value, json};

use super::{FakeServer, Recorder, spawn};

pub const TOKEN: &str = "discord-TEST-bot-token-secret";
/// The bound guild of the tests and a second guild.
pub const GUILD: u64 = 500;
pub const OTHER_GUILD: u64 = 600;
/// Channels: 501 and thread 502 in GUILD, 601 in OTHER_GUILD.
pub const CHANNEL: u64 = 501;
pub const THREAD_IN_GUILD: u64 = 502;
pub const CHANNEL_IN_OTHER_GUILD: u64 = 601;

fn guild_of() -> &'static HashMap<u64, u64> {
    static MAP: OnceLock<HashMap<u64, u64>> = OnceLock::new();
    MAP.get_or_init(|| {
        HashMap::from([
            (CHANNEL, GUILD),
            (THREAD_IN_GUILD, GUILD),
            (CHANNEL_IN_OTHER_GUILD, OTHER_GUILD),
        ])
    })
}

/// The DM channel the fake opens for a user.
pub fn dm_channel_of(user: u64) -> u64 {
    900_000 + user
}

pub fn start() -> FakeServer {
    spawn(answer)
}

fn unknown_channel() -> (u16, Value) {
    (404, json!({"message": "Unknown Channel", "code": 10003}))
}

fn answer(recorder: &Recorder, req: &HttpRequest, body: &Value) -> (u16, Value) {
    if req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        != Some(&format!("Bot {TOKEN}"))
    {
        return (401, json!({"message": "401: Unauthorized", "code": 0}));
    }
    let segments: Vec<&str> = req
        .path()
        .trim_start_matches("/api/v10/")
        .split('/')
        .collect();
    match (req.method().as_str(), segments.as_slice()) {
        ("POST", ["users", "@me", "channels"]) => {
            let user: u64 = body["recipient_id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            (
                200,
                json!({
                    "id": dm_channel_of(user).to_string(), "type": 1, "last_message_id": null, "flags": 0,
                    "recipients": [{"id": user.to_string(), "username": "u", "discriminator": "0", "global_name": null, "avatar": null}]
                }),
            )
        }
        ("GET", ["channels", id]) => {
            match id.parse::<u64>().ok().and_then(|c| guild_of().get(&c)) {
                Some(guild) => (
                    200,
                    json!({"id": id, "type": 0, "guild_id": guild.to_string(), "name": "general", "position": 0}),
                ),
                None => unknown_channel(),
            }
        }
        ("POST", ["channels", id, "messages"]) => (
            200,
            json!({
                "id": recorder.next_id().to_string(),
                "channel_id": id,
                "author": {"id": "1", "username": "mux", "discriminator": "0", "global_name": null, "avatar": null, "bot": true},
                "content": body.get("content").cloned().unwrap_or(json!("")),
                "timestamp": "2026-01-01T00:00:00.000000+00:00",
                "edited_timestamp": null, "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
                "attachments": [], "embeds": body.get("embeds").cloned().unwrap_or(json!([])), "pinned": false, "type": 0, "flags": 0
            }),
        ),
        _ => unknown_channel(),
    }
}
