//! The fake's REST side: `/api/v10` (bot token checked) and attachment downloads.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{FakeDiscord, Say, TOKEN, dm_channel_of};
use crate::testkit::{authorization, lock, reply};

pub async fn attachment(fake: web::Data<FakeDiscord>, name: web::Path<String>) -> HttpResponse {
    match lock(&fake.rest).attachments.get(name.as_str()) {
        Some(bytes) => HttpResponse::Ok()
            .content_type("image/png")
            .body(bytes.clone()),
        None => HttpResponse::NotFound().finish(),
    }
}

fn unknown_channel() -> (u16, Value) {
    (404, json!({"message": "Unknown Channel", "code": 10003}))
}

pub async fn api(fake: web::Data<FakeDiscord>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    if let Some(scripted) = fake.recorder.record(&req, &body) {
        return scripted.answer().await;
    }
    // Interaction callbacks are authorized by the interaction's token, not the bot's.
    let segments = segments_of(&req);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    if let ["interactions", id, token, "callback"] = segments.as_slice() {
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        lock(&fake.rest)
            .acks
            .push(((*id).to_owned(), (*token).to_owned(), body));
        return HttpResponse::NoContent().finish();
    }
    if authorization(&req) != Some(&format!("Bot {TOKEN}")) {
        return reply(401, &json!({"message": "401: Unauthorized", "code": 0}));
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = req.path().trim_start_matches("/api/v10/").to_owned();
    let segments: Vec<&str> = path.split('/').collect();
    let query: HashMap<String, String> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let (status, answer) = match (req.method().as_str(), segments.as_slice()) {
        ("GET", ["gateway", "bot"]) => (
            200,
            json!({"url": fake.gateway_url, "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}}),
        ),
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
        ("GET", ["channels", id, "messages"]) => list(&fake, id, &query, req.query_string()),
        ("GET", ["channels", id]) => channel(&fake, id),
        ("POST", ["channels", id, "messages"]) => (200, send(&fake, id, &body)),
        ("PATCH", ["channels", id, "messages", message]) => edit(&fake, id, message, &body),
        // Typing Start: 204 for a channel the fake knows (or a DM), as Discord answers.
        ("POST", ["channels", id, "typing"]) => {
            let channel: u64 = id.parse().unwrap_or(0);
            if lock(&fake.rest).channels.contains_key(&channel) || channel > dm_channel_of(0) {
                return HttpResponse::NoContent().finish();
            }
            unknown_channel()
        }
        _ => unknown_channel(),
    };
    reply(status, &answer)
}

fn segments_of(req: &HttpRequest) -> Vec<String> {
    req.path()
        .trim_start_matches("/api/v10/")
        .split('/')
        .map(str::to_owned)
        .collect()
}

/// Edits a stored message of the channel (`404 Unknown Message` if there is none).
fn edit(fake: &FakeDiscord, id: &str, message: &str, body: &Value) -> (u16, Value) {
    let channel: u64 = id.parse().unwrap_or(0);
    let mut rest = lock(&fake.rest);
    rest.edits.push((channel, message.to_owned(), body.clone()));
    let Some(stored) = rest
        .messages
        .get_mut(&channel)
        .and_then(|l| l.iter_mut().find(|m| m["id"] == message))
    else {
        return (404, json!({"message": "Unknown Message", "code": 10008}));
    };
    for (k, v) in body.as_object().cloned().unwrap_or_default() {
        stored[k] = v;
    }
    stored["edited_timestamp"] = json!("2026-01-01T00:05:00.000000+00:00");
    (200, stored.clone())
}

/// Records the bot's message, stores it and dispatches it back, as Discord does; with recording
/// off (the benchmark) only answers it: nothing is kept or dispatched.
fn send(fake: &FakeDiscord, id: &str, body: &Value) -> Value {
    let channel: u64 = id.parse().unwrap_or(0);
    if !fake.recorder.is_recording() {
        return fake.answer_only(channel, body["content"].as_str().unwrap_or_default());
    }
    let guild = {
        let mut rest = lock(&fake.rest);
        rest.sent.push((channel, body.clone()));
        rest.channels.get(&channel).map(|(g, _)| *g)
    };
    let text = body["content"].as_str().unwrap_or_default().into();
    let mut extra = json!({});
    if let Some(embeds) = body.get("embeds") {
        extra["embeds"] = embeds.clone();
    }
    fake.say(Say {
        channel,
        guild,
        author: 1,
        bot: true,
        text,
        attachments: vec![],
        extra,
    })
}

fn list(
    fake: &FakeDiscord,
    id: &str,
    query: &HashMap<String, String>,
    raw_query: &str,
) -> (u16, Value) {
    let channel: u64 = id.parse().unwrap_or(0);
    let mut rest = lock(&fake.rest);
    rest.list_calls.push(format!("{channel}?{raw_query}"));
    rest.list_times.push(std::time::Instant::now());
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(50);
    let all = rest.messages.get(&channel).cloned().unwrap_or_default();
    let id_of = |m: &Value| {
        m["id"]
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let mut page: Vec<Value> = match query.get("after").and_then(|a| a.parse::<u64>().ok()) {
        // The `limit` messages right after `after`…
        Some(after) => all
            .into_iter()
            .filter(|m| id_of(m) > after)
            .take(limit)
            .collect(),
        // …or the newest `limit`.
        None => all.into_iter().rev().take(limit).rev().collect(),
    };
    page.reverse(); // listed newest first
    (200, Value::Array(page))
}

fn channel(fake: &FakeDiscord, id: &str) -> (u16, Value) {
    let channel: u64 = id.parse().unwrap_or(0);
    match lock(&fake.rest).channels.get(&channel) {
        Some((guild, Some(parent))) => (
            200,
            json!({"id": id, "type": 11, "guild_id": guild.to_string(), "parent_id": parent.to_string()}),
        ),
        Some((guild, None)) => (
            200,
            json!({"id": id, "type": 0, "guild_id": guild.to_string(), "name": "general", "position": 0}),
        ),
        None => unknown_channel(),
    }
}
