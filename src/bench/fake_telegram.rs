//! In-process fake Telegram Bot API for the benchmark: `getUpdates` with offset semantics
//! (updates below `offset` are confirmed and dropped, up to `limit` ≤ 100 per call, long-poll
//! wait woken at once by a new update), `sendMessage` answering a Message at once, and the
//! housekeeping calls the service makes at start. Method names match case-insensitively
//! (teloxide sends `SendMessage`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actix_web::web::{self, Bytes};
use actix_web::{App, HttpResponse};
use serde::Deserialize;
use tokio::sync::Notify;

use super::ledger::Ledger;

pub const BOT_TOKEN: &str = "123456:mux-bench-token";
/// Longest long-poll wait the fake grants, whatever `timeout` asks for.
const MAX_WAIT: Duration = Duration::from_secs(2);

#[derive(Default)]
struct Queue {
    /// Unconfirmed updates, oldest first: (update_id, JSON).
    updates: VecDeque<(i64, Bytes)>,
    /// Highest offset a getUpdates call has confirmed.
    confirmed: i64,
}

#[derive(Default)]
pub struct Counters {
    pub get_updates: AtomicU64,
    pub sent: AtomicU64,
    pub unknown_method: AtomicU64,
}

#[derive(Clone)]
pub struct FakeTelegram {
    pub base_url: String,
    queue: Arc<Mutex<Queue>>,
    notify: Arc<Notify>,
    pub counters: Arc<Counters>,
    ledger: Arc<Ledger>,
    _server: actix_web::dev::ServerHandle,
}

#[derive(Clone)]
struct Shared {
    queue: Arc<Mutex<Queue>>,
    notify: Arc<Notify>,
    counters: Arc<Counters>,
}

fn lock(q: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    q.lock().unwrap_or_else(|e| e.into_inner())
}

impl FakeTelegram {
    pub fn start(ledger: Arc<Ledger>, workers: usize) -> anyhow::Result<FakeTelegram> {
        let shared = Shared {
            queue: Arc::new(Mutex::new(Queue::default())),
            notify: Arc::new(Notify::new()),
            counters: Arc::new(Counters::default()),
        };
        let s = shared.clone();
        let (base_url, server) = super::serve(workers, move || {
            App::new()
                .app_data(web::Data::new(s.clone()))
                .route("/bot{token}/{method}", web::post().to(api))
        })?;
        Ok(FakeTelegram {
            base_url,
            queue: shared.queue,
            notify: shared.notify,
            counters: shared.counters,
            ledger,
            _server: server,
        })
    }

    /// Makes text messages available: one update per `(tenant, chat)`, recorded in the ledger
    /// with the time it became available. Wakes waiting long polls.
    pub fn push(&self, batch: &[(u32, i64)]) {
        {
            let mut q = lock(&self.queue);
            let now = Instant::now();
            for &(tenant, chat) in batch {
                let id = self.ledger.push(tenant, now);
                let json = format!(
                    r#"{{"update_id":{id},"message":{{"message_id":{id},"date":1700000000,"chat":{{"id":{chat},"type":"private","first_name":"U"}},"from":{{"id":{chat},"is_bot":false,"first_name":"U"}},"text":"bench message {id}"}}}}"#
                );
                q.updates.push_back((id, Bytes::from(json)));
            }
        }
        self.notify.notify_waiters();
    }

    /// Highest offset confirmed by the service (all updates below it are committed there).
    pub fn confirmed(&self) -> i64 {
        lock(&self.queue).confirmed
    }
}

#[derive(Deserialize)]
struct GetUpdates {
    #[serde(default)]
    offset: i64,
    limit: Option<usize>,
    #[serde(default)]
    timeout: u64,
}

#[derive(Deserialize)]
struct Send {
    chat_id: serde_json::Value,
    #[serde(default)]
    text: String,
}

async fn api(
    state: web::Data<Shared>,
    path: web::Path<(String, String)>,
    body: Bytes,
) -> HttpResponse {
    let (_token, method) = path.into_inner();
    match method.to_ascii_lowercase().as_str() {
        "getupdates" => get_updates(&state, &body).await,
        "sendmessage" => {
            let Ok(send) = serde_json::from_slice::<Send>(&body) else {
                return HttpResponse::BadRequest()
                    .content_type("application/json")
                    .body(r#"{"ok":false,"error_code":400,"description":"Bad Request: bad body"}"#);
            };
            let id = state.counters.sent.fetch_add(1, Ordering::Relaxed) + 1;
            let answer = serde_json::json!({"ok": true, "result": {"message_id": id, "date": 1_700_000_000,
                "chat": {"id": send.chat_id, "type": "private"}, "text": send.text}});
            HttpResponse::Ok().json(answer)
        }
        "deletewebhook" | "setwebhook" => HttpResponse::Ok().content_type("application/json").body(r#"{"ok":true,"result":true}"#),
        "getme" => HttpResponse::Ok()
            .content_type("application/json")
            .body(r#"{"ok":true,"result":{"id":123456,"is_bot":true,"first_name":"Bench","username":"bench_bot"}}"#),
        _ => {
            state.counters.unknown_method.fetch_add(1, Ordering::Relaxed);
            HttpResponse::NotFound()
                .content_type("application/json")
                .body(r#"{"ok":false,"error_code":404,"description":"Not Found"}"#)
        }
    }
}

async fn get_updates(state: &Shared, body: &[u8]) -> HttpResponse {
    state.counters.get_updates.fetch_add(1, Ordering::Relaxed);
    let req: GetUpdates = serde_json::from_slice(body).unwrap_or(GetUpdates {
        offset: 0,
        limit: None,
        timeout: 0,
    });
    let limit = req.limit.unwrap_or(100).clamp(1, 100);
    let deadline = Instant::now() + Duration::from_secs(req.timeout).min(MAX_WAIT);
    loop {
        let notified = state.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let out = {
            let mut q = lock(&state.queue);
            if req.offset > 0 {
                while q.updates.front().is_some_and(|(id, _)| *id < req.offset) {
                    q.updates.pop_front();
                }
                q.confirmed = q.confirmed.max(req.offset);
            }
            let mut out = Vec::with_capacity(64 * 1024);
            out.extend_from_slice(br#"{"ok":true,"result":["#);
            let mut n = 0;
            for (i, (_, json)) in q.updates.iter().take(limit).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(json);
                n += 1;
            }
            out.extend_from_slice(b"]}");
            (n, out)
        };
        let now = Instant::now();
        if out.0 > 0 || now >= deadline {
            return HttpResponse::Ok()
                .content_type("application/json")
                .body(out.1);
        }
        let _ = actix_web::rt::time::timeout(deadline - now, notified).await;
    }
}
