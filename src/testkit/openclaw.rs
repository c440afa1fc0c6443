//! Fake OpenClaw inbound endpoints, one path per tenant (`/t/<tenant>/inbound`). Each tenant's
//! endpoint accepts (202), answers a status (with `Retry-After: 1`, as a real overloaded receiver
//! would), accepts slowly, or never answers (held until `recover()`, then 503). Every attempt is
//! recorded with its headers and body, and handed to an observer if one is set (the benchmark's
//! ledger), which is how a run with many events keeps its memory flat (`set_recording(false)`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web::{self, Bytes};
use actix_web::{App, HttpRequest, HttpResponse};
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::{Served, lock, reply, serve};

/// Longest a "never answers" endpoint holds a request (keeps a run bounded).
const HANG_CAP: Duration = Duration::from_secs(300);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// Answers this status with `Retry-After: 1`.
    Status(u16),
    /// Holds the request until `recover()` (or a cap), then answers 503.
    Hang,
    /// Accepts after this many milliseconds.
    Slow(u64),
}

#[derive(Clone, Debug)]
pub struct Received {
    pub tenant: String,
    pub headers: HashMap<String, String>,
    pub raw: Vec<u8>,
    pub body: Value,
}

/// One delivery attempt as an observer sees it: (tenant, request, raw body, accepted).
pub type Observer = Arc<dyn Fn(&str, &HttpRequest, &[u8], bool) + Send + Sync>;

#[derive(Default)]
struct State {
    modes: HashMap<String, Mode>,
    received: Vec<Received>,
}

struct Shared {
    state: Mutex<State>,
    recording: AtomicBool,
    observer: Mutex<Option<Observer>>,
    recovered: Notify,
}

#[derive(Clone)]
pub struct FakeOpenClaw {
    pub base_url: String,
    pub served: Served,
    shared: Arc<Shared>,
}

impl FakeOpenClaw {
    pub fn start(workers: usize) -> std::io::Result<FakeOpenClaw> {
        let shared = Arc::new(Shared {
            state: Mutex::default(),
            recording: AtomicBool::new(true),
            observer: Mutex::new(None),
            recovered: Notify::new(),
        });
        let data = web::Data::from(shared.clone());
        let served = serve(workers, move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
                .route("/t/{tenant}/inbound", web::post().to(inbound))
        })?;
        Ok(FakeOpenClaw {
            base_url: served.base_url.clone(),
            served,
            shared,
        })
    }

    pub fn url(&self, tenant: &str) -> String {
        format!("{}/t/{tenant}/inbound", self.base_url)
    }

    pub fn set_mode(&self, tenant: &str, mode: Mode) {
        lock(&self.shared.state)
            .modes
            .insert(tenant.to_owned(), mode);
    }

    /// Every endpoint accepts from now on; requests being held are released (answered 503).
    pub fn recover(&self) {
        lock(&self.shared.state).modes.clear();
        self.shared.recovered.notify_waiters();
    }

    /// Keep (or stop keeping) each attempt for `accepted`/`attempts`.
    pub fn set_recording(&self, on: bool) {
        self.shared.recording.store(on, Ordering::Relaxed);
    }

    /// Calls `observer` on every attempt, before it is answered.
    pub fn observe(&self, observer: Observer) {
        *lock(&self.shared.observer) = Some(observer);
    }

    /// Accepted (2xx) deliveries for `tenant`, in arrival order.
    pub fn accepted(&self, tenant: &str) -> Vec<Received> {
        lock(&self.shared.state)
            .received
            .iter()
            .filter(|r| r.tenant == tenant && r.headers.contains_key("x-accepted"))
            .cloned()
            .collect()
    }

    /// The `body` text of each accepted delivery for `tenant`.
    pub fn bodies(&self, tenant: &str) -> Vec<String> {
        self.accepted(tenant)
            .iter()
            .map(|r| r.body["body"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Every attempt for `tenant`, whatever it was answered.
    pub fn attempts(&self, tenant: &str) -> usize {
        lock(&self.shared.state)
            .received
            .iter()
            .filter(|r| r.tenant == tenant)
            .count()
    }
}

async fn inbound(
    shared: web::Data<Shared>,
    req: HttpRequest,
    path: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    let tenant = path.into_inner();
    let mode = lock(&shared.state)
        .modes
        .get(&tenant)
        .copied()
        .unwrap_or(Mode::Accept);
    let accepted = matches!(mode, Mode::Accept | Mode::Slow(_));
    let observer = lock(&shared.observer).clone();
    if let Some(observe) = observer {
        observe(&tenant, &req, &body, accepted);
    }
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if shared.recording.load(Ordering::Relaxed) {
        let mut headers: HashMap<String, String> = req
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        if accepted {
            headers.insert("x-accepted".into(), "1".into());
        }
        lock(&shared.state).received.push(Received {
            tenant,
            headers,
            raw: body.to_vec(),
            body: parsed.clone(),
        });
    }
    match mode {
        Mode::Accept => reply(202, &json!({"ok": true, "eventId": parsed["eventId"]})),
        Mode::Slow(ms) => {
            actix_web::rt::time::sleep(Duration::from_millis(ms)).await;
            reply(202, &json!({"ok": true, "eventId": parsed["eventId"]}))
        }
        Mode::Status(code) => unavailable(code),
        Mode::Hang => {
            let _ = actix_web::rt::time::timeout(HANG_CAP, shared.recovered.notified()).await;
            unavailable(503)
        }
    }
}

fn unavailable(code: u16) -> HttpResponse {
    let mut answer = reply(code, &json!({"ok": false}));
    answer.headers_mut().insert(
        actix_web::http::header::RETRY_AFTER,
        actix_web::http::header::HeaderValue::from_static("1"),
    );
    answer
}
