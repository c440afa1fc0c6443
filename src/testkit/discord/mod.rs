//! A fake Discord: a gateway (see `gateway`) and the REST API under `/api/v10` (bot token
//! checked) sharing one message store, so what a test "says" in a channel is both dispatched
//! live and listed by `GET /channels/{id}/messages` (real `after`/`limit` semantics, newest
//! first). Sends (`POST /channels/{id}/messages`) are recorded (and scriptable), stored as the
//! bot's messages and dispatched back, as Discord does; `POST /channels/{id}/typing` answers 204. Channels the test adds belong to a
//! guild; others are `404 Unknown Channel`. Attachments are served from `/attachments/{name}`.

pub mod gateway;
mod rest;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{App, web};
use serde_json::{Value, json};

use super::{Recorder, Scripted, Served, lock, serve};

pub const TOKEN: &str = "discord-TEST-bot-token-secret";
/// The guild of the tests' channels, and a second guild.
pub const GUILD: u64 = 500;
pub const OTHER_GUILD: u64 = 600;
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// The DM channel the fake has with a user.
pub fn dm_channel_of(user: u64) -> u64 {
    800_000 + user
}

#[derive(Default)]
pub struct Rest {
    /// channel → its messages (REST form, oldest first).
    messages: HashMap<u64, Vec<Value>>,
    /// channel → (guild, parent channel if it is a thread).
    channels: HashMap<u64, (u64, Option<u64>)>,
    last_id: u64,
    /// (channel, body) of every send the fake answered itself.
    pub sent: Vec<(u64, Value)>,
    /// `<channel>?<query>` of every message listing, in order.
    pub list_calls: Vec<String>,
    /// When each `GET /channels/{id}/messages` arrived.
    pub list_times: Vec<std::time::Instant>,
    attachments: HashMap<String, Vec<u8>>,
    /// (channel, message, body) of every message edit.
    pub edits: Vec<(u64, String, Value)>,
    /// (interaction id, token, body) of every interaction callback.
    pub acks: Vec<(String, String, Value)>,
    /// Interactions dispatched so far.
    interactions: u64,
}

#[derive(Clone)]
pub struct FakeDiscord {
    pub base_url: String,
    pub gateway_url: String,
    pub recorder: Recorder,
    pub served: Option<Served>,
    pub rest: Arc<Mutex<Rest>>,
    pub gw: gateway::Shared,
}

/// A message a person (or bot) writes, built up by the test.
pub struct Say {
    pub channel: u64,
    pub guild: Option<u64>,
    pub author: u64,
    pub bot: bool,
    pub text: String,
    pub attachments: Vec<Value>,
    pub extra: Value,
}

impl Say {
    pub fn dm(user: u64, text: &str) -> Say {
        Say {
            channel: dm_channel_of(user),
            guild: None,
            author: user,
            bot: false,
            text: text.into(),
            attachments: vec![],
            extra: json!({}),
        }
    }

    pub fn guild(channel: u64, author: u64, text: &str) -> Say {
        Say {
            channel,
            guild: Some(GUILD),
            author,
            bot: false,
            text: text.into(),
            attachments: vec![],
            extra: json!({}),
        }
    }
}

impl FakeDiscord {
    pub fn start(workers: usize) -> std::io::Result<FakeDiscord> {
        let gw: gateway::Shared = Arc::default();
        let gateway_url = gateway::start(gw.clone())?;
        let fake = FakeDiscord {
            base_url: String::new(),
            gateway_url,
            recorder: Recorder::default(),
            served: None,
            rest: Arc::default(),
            gw,
        };
        let shared = fake.clone();
        let served = serve(workers, move || {
            App::new()
                .app_data(web::Data::new(shared.clone()))
                .route("/attachments/{name}", web::get().to(rest::attachment))
                .default_service(web::to(rest::api))
        })?;
        Ok(FakeDiscord {
            base_url: served.base_url.clone(),
            served: Some(served),
            ..fake
        })
    }

    /// The next message send is refused with this status and Discord error.
    pub fn fail_next_send(&self, status: u16, message: &str, code: u64) {
        self.recorder.script(Scripted::new(
            "/messages",
            status,
            json!({"message": message, "code": code}),
        ));
    }

    /// The base URL the service is configured with (`MUX_DISCORD_API_BASE_URL`).
    pub fn api_url(&self) -> String {
        format!("{}/api/v10", self.base_url)
    }

    /// A text channel of [`GUILD`], or a thread in `parent`.
    pub fn add_channel(&self, channel: u64, parent: Option<u64>) {
        self.add_channel_in(GUILD, channel, parent);
    }

    /// A text channel of `guild`, or a thread in `parent`.
    pub fn add_channel_in(&self, guild: u64, channel: u64, parent: Option<u64>) {
        lock(&self.rest).channels.insert(channel, (guild, parent));
    }

    pub fn add_attachment(&self, name: &str, bytes: Vec<u8>) -> String {
        lock(&self.rest).attachments.insert(name.to_owned(), bytes);
        format!("{}/attachments/{name}?ex=1&hm=sig", self.base_url)
    }

    /// Stores the message and dispatches MESSAGE_CREATE; returns the dispatched payload.
    pub fn say(&self, say: Say) -> Value {
        let mut rest = lock(&self.rest);
        let id = next_id(&mut rest);
        let mut msg = message(id, say.channel, say.author, &say.text, say.attachments);
        if say.bot {
            msg["author"]["bot"] = json!(true);
        }
        for (k, v) in say.extra.as_object().cloned().unwrap_or_default() {
            msg[k] = v;
        }
        rest.messages
            .entry(say.channel)
            .or_default()
            .push(msg.clone());
        let thread = rest
            .channels
            .get(&say.channel)
            .is_some_and(|(_, p)| p.is_some());
        drop(rest);
        let mut live = msg;
        match say.guild {
            Some(g) => {
                live["guild_id"] = json!(g.to_string());
                live["channel_type"] = json!(if thread { 11 } else { 0 });
                live["member"] = json!({"roles": [], "joined_at": "2025-01-01T00:00:00+00:00"});
            }
            None => live["channel_type"] = json!(1),
        }
        gateway::dispatch(&self.gw, "MESSAGE_CREATE", live.clone());
        live
    }

    /// The bot's message as a send answers it, neither stored nor dispatched.
    fn answer_only(&self, channel: u64, text: &str) -> Value {
        let id = next_id(&mut lock(&self.rest));
        let mut msg = message(id, channel, 1, text, vec![]);
        msg["author"]["bot"] = json!(true);
        msg
    }

    /// Edits a stored message and dispatches MESSAGE_UPDATE with the whole message; `None` if
    /// there is no such message.
    pub fn edit(&self, channel: u64, id: &str, text: &str, guild: Option<u64>) -> Option<Value> {
        let mut rest = lock(&self.rest);
        let msg = rest
            .messages
            .get_mut(&channel)
            .and_then(|l| l.iter_mut().find(|m| m["id"] == id))?;
        msg["content"] = json!(text);
        msg["edited_timestamp"] = json!("2026-01-01T00:05:00.000000+00:00");
        let mut live = msg.clone();
        drop(rest);
        if let Some(g) = guild {
            live["guild_id"] = json!(g.to_string());
        }
        gateway::dispatch(&self.gw, "MESSAGE_UPDATE", live.clone());
        Some(live)
    }

    /// A user presses component `custom_id` on message `message_id` in `channel` (of `guild`,
    /// or a DM): dispatches INTERACTION_CREATE (type 3); returns the interaction's id.
    pub fn press(
        &self,
        channel: u64,
        guild: Option<u64>,
        user: u64,
        message_id: &str,
        custom_id: &str,
    ) -> String {
        let (id, thread) = {
            let mut rest = lock(&self.rest);
            rest.interactions += 1;
            let thread = rest.channels.get(&channel).and_then(|(_, p)| *p);
            (next_id(&mut rest), thread)
        };
        let user_obj =
            json!({"id": user.to_string(), "username": format!("u{user}"), "discriminator": "0"});
        let mut d = json!({"id": id.to_string(), "application_id": "1", "type": 3,
            "token": format!("itoken-{id}"), "version": 1, "channel_id": channel.to_string(),
            "message": {"id": message_id, "channel_id": channel.to_string()},
            "data": {"custom_id": custom_id, "component_type": 2}});
        match guild {
            Some(g) => {
                d["guild_id"] = json!(g.to_string());
                d["member"] = json!({"user": user_obj, "roles": []});
                d["channel"] = match thread {
                    Some(parent) => {
                        json!({"id": channel.to_string(), "type": 11, "parent_id": parent.to_string()})
                    }
                    None => json!({"id": channel.to_string(), "type": 0}),
                };
            }
            None => {
                d["user"] = user_obj;
                d["channel"] = json!({"id": channel.to_string(), "type": 1});
            }
        }
        gateway::dispatch(&self.gw, "INTERACTION_CREATE", d);
        id.to_string()
    }

    /// (interaction id, token, body) of every interaction callback so far.
    pub fn acks(&self) -> Vec<(String, String, Value)> {
        lock(&self.rest).acks.clone()
    }

    /// (channel, message id, body) of every message edit so far.
    pub fn edits(&self) -> Vec<(u64, String, Value)> {
        lock(&self.rest).edits.clone()
    }

    /// Bodies the bot posted into `channel`.
    pub fn posts_to(&self, channel: u64) -> Vec<Value> {
        lock(&self.rest)
            .sent
            .iter()
            .filter(|(c, _)| *c == channel)
            .map(|(_, b)| b.clone())
            .collect()
    }

    /// Texts the bot sent into `channel`.
    pub fn texts_to(&self, channel: u64) -> Vec<String> {
        lock(&self.rest)
            .sent
            .iter()
            .filter(|(c, _)| *c == channel)
            .map(|(_, b)| b["content"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// `<channel>?<query>` of every message listing so far.
    pub fn list_calls(&self) -> Vec<String> {
        lock(&self.rest).list_calls.clone()
    }

    /// The listings with when each arrived.
    pub fn list_times(&self) -> Vec<std::time::Instant> {
        lock(&self.rest).list_times.clone()
    }

    pub fn identifies(&self) -> usize {
        lock(&self.gw).identifies.len()
    }

    pub fn resumes(&self) -> usize {
        lock(&self.gw).resumes
    }

    /// Dispatches sent again on resumes.
    pub fn replayed(&self) -> usize {
        lock(&self.gw).replayed
    }

    pub fn set_accepting(&self, accepting: bool) {
        lock(&self.gw).accepting = accepting;
    }

    /// Whether a client holds an identified (or resumed) gateway connection right now; false
    /// once the client closed it.
    pub fn gateway_open(&self) -> bool {
        gateway::is_live(&self.gw)
    }
}

/// A message in REST form.
fn message(id: u64, channel: u64, author: u64, text: &str, attachments: Vec<Value>) -> Value {
    json!({"id": id.to_string(), "channel_id": channel.to_string(),
        "author": {"id": author.to_string(), "username": format!("u{author}"), "discriminator": "0",
                   "global_name": null, "avatar": null},
        "content": text, "timestamp": "2026-01-01T00:00:00.000000+00:00", "edited_timestamp": null,
        "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
        "attachments": attachments, "embeds": [], "pinned": false, "type": 0, "flags": 0})
}

fn next_id(rest: &mut Rest) -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(DISCORD_EPOCH_MS);
    rest.last_id = (now.saturating_sub(DISCORD_EPOCH_MS) << 22).max(rest.last_id + 1);
    rest.last_id
}
