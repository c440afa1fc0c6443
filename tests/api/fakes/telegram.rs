//! A fake Telegram Bot API: `getUpdates` with real offset semantics (confirm by offset, negative
//! offsets, long-poll wait), `sendMessage`/`sendPhoto` answering Message objects, `getFile` and
//! file downloads, `setWebhook`/`deleteWebhook`. Token in the path as the real API has it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, web};
use serde_json::{Value, json};

pub const TOKEN: &str = "123456:fake-telegram-token";

#[derive(Default)]
pub struct State {
    /// Unconfirmed updates, oldest first.
    pub updates: Vec<Value>,
    pub next_update_id: i64,
    /// (method, body) of every send call.
    pub sent: Vec<(String, Value)>,
    pub next_message_id: i64,
    /// file_id → (file_path, bytes)
    pub files: HashMap<String, (String, Vec<u8>)>,
    pub calls: Vec<String>,
    /// When set, getUpdates answers this 409 (another poller on the same token).
    pub conflict: bool,
}

#[derive(Clone)]
pub struct FakeTelegram {
    pub base_url: String,
    pub state: Arc<Mutex<State>>,
}

impl FakeTelegram {
    pub fn start() -> FakeTelegram {
        let state = Arc::new(Mutex::new(State {
            next_update_id: 1000,
            next_message_id: 1,
            ..State::default()
        }));
        let shared = state.clone();
        let (base_url, _handle) = super::serve(move || {
            App::new()
                .app_data(web::Data::new(shared.clone()))
                .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                .route("/bot{token}/{method}", web::post().to(api))
                .route("/file/bot{token}/{path:.*}", web::get().to(file))
        });
        FakeTelegram { base_url, state }
    }

    /// Queues a text message update from user `from` in `chat`; returns its update_id.
    pub fn push_text(&self, chat: i64, from: i64, text: &str) -> i64 {
        let chat_type = if chat < 0 { "supergroup" } else { "private" };
        self.push_message(json!({"chat": {"id": chat, "type": chat_type}, "from": {"id": from, "is_bot": false, "first_name": "U"}, "text": text}))
    }

    /// Queues a message update with the given fields (message_id and date added).
    pub fn push_message(&self, mut message: Value) -> i64 {
        let mut s = self.state.lock().unwrap();
        let id = s.next_update_id;
        s.next_update_id += 1;
        message["message_id"] = json!(id * 10);
        message["date"] = json!(1_700_000_000 + id);
        s.updates.push(json!({"update_id": id, "message": message}));
        id
    }

    pub fn add_file(&self, file_id: &str, bytes: Vec<u8>) {
        let path = format!("photos/{file_id}.jpg");
        self.state
            .lock()
            .unwrap()
            .files
            .insert(file_id.to_owned(), (path, bytes));
    }

    pub fn sent(&self) -> Vec<(String, Value)> {
        self.state.lock().unwrap().sent.clone()
    }

    pub fn texts_to(&self, chat: i64) -> Vec<String> {
        self.sent()
            .into_iter()
            .filter(|(_, b)| b["chat_id"] == json!(chat))
            .filter_map(|(_, b)| b["text"].as_str().map(str::to_owned))
            .collect()
    }

    pub fn pending_updates(&self) -> usize {
        self.state.lock().unwrap().updates.len()
    }
}

async fn api(
    state: web::Data<Arc<Mutex<State>>>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let (token, method) = path.into_inner();
    // Method names are case-insensitive (teloxide sends `SendMessage`); keep the canonical form.
    let method = match method.to_ascii_lowercase().as_str() {
        "getupdates" => "getUpdates",
        "sendmessage" => "sendMessage",
        "sendphoto" => "sendPhoto",
        "getfile" => "getFile",
        "setwebhook" => "setWebhook",
        "deletewebhook" => "deleteWebhook",
        other => return HttpResponse::NotFound().json(
            json!({"ok": false, "error_code": 404, "description": format!("Not Found: {other}")}),
        ),
    }
    .to_owned();
    if token != TOKEN {
        return HttpResponse::Unauthorized()
            .json(json!({"ok": false, "error_code": 401, "description": "Unauthorized"}));
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    state.lock().unwrap().calls.push(method.clone());
    match method.as_str() {
        "getUpdates" => get_updates(&state, &body).await,
        "sendMessage" | "sendPhoto" => {
            let mut s = state.lock().unwrap();
            let id = s.next_message_id;
            s.next_message_id += 1;
            s.sent.push((method, body.clone()));
            HttpResponse::Ok().json(json!({"ok": true, "result": {"message_id": id, "date": 1,
                "chat": {"id": body["chat_id"], "type": "private"}}}))
        }
        "getFile" => {
            let s = state.lock().unwrap();
            let file_id = body["file_id"].as_str().unwrap_or_default();
            match s.files.get(file_id) {
                Some((path, bytes)) => HttpResponse::Ok().json(json!({"ok": true, "result": {
                    "file_id": file_id, "file_unique_id": "u", "file_size": bytes.len(), "file_path": path}})),
                None => HttpResponse::BadRequest().json(json!({"ok": false, "error_code": 400, "description": "Bad Request: invalid file_id"})),
            }
        }
        "setWebhook" | "deleteWebhook" => {
            HttpResponse::Ok().json(json!({"ok": true, "result": true}))
        }
        _ => HttpResponse::NotFound()
            .json(json!({"ok": false, "error_code": 404, "description": "Not Found"})),
    }
}

/// Confirms updates below `offset`, then returns up to `limit` from `offset` on, waiting up to
/// `timeout` seconds for one to arrive. A negative offset returns the last `-offset` updates.
async fn get_updates(state: &Arc<Mutex<State>>, body: &Value) -> HttpResponse {
    if state.lock().unwrap().conflict {
        return HttpResponse::Conflict().json(json!({"ok": false, "error_code": 409,
            "description": "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}));
    }
    let offset = body["offset"].as_i64().unwrap_or(0);
    let limit = body["limit"].as_u64().unwrap_or(100).clamp(1, 100) as usize;
    let timeout = body["timeout"].as_u64().unwrap_or(0).min(2);
    let deadline = std::time::Instant::now() + Duration::from_secs(timeout);
    loop {
        let result: Vec<Value> = {
            let mut s = state.lock().unwrap();
            if offset < 0 {
                let keep = (-offset) as usize;
                let len = s.updates.len();
                s.updates.drain(..len.saturating_sub(keep));
                s.updates.clone()
            } else {
                s.updates
                    .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
                s.updates.iter().take(limit).cloned().collect()
            }
        };
        if !result.is_empty() || std::time::Instant::now() >= deadline {
            return HttpResponse::Ok().json(json!({"ok": true, "result": result}));
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn file(
    state: web::Data<Arc<Mutex<State>>>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (token, file_path) = path.into_inner();
    if token != TOKEN {
        return HttpResponse::Unauthorized().finish();
    }
    let s = state.lock().unwrap();
    match s.files.values().find(|(p, _)| *p == file_path) {
        Some((_, bytes)) => HttpResponse::Ok()
            .content_type("image/jpeg")
            .body(bytes.clone()),
        None => HttpResponse::NotFound().finish(),
    }
}
