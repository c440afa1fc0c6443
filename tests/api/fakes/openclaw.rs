//! Fake OpenClaw inbound endpoints, one path per tenant (`/t/<tenant>/inbound`), each set to
//! accept (202), answer a status, or hang; every request is recorded with its headers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Accept,
    Status(u16),
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

#[derive(Default)]
struct State {
    modes: HashMap<String, Mode>,
    received: Vec<Received>,
}

#[derive(Clone)]
pub struct FakeOpenClaw {
    pub base_url: String,
    state: Arc<Mutex<State>>,
}

impl FakeOpenClaw {
    pub fn start() -> FakeOpenClaw {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let (base_url, _h) = super::serve(move || {
            App::new()
                .app_data(web::Data::new(shared.clone()))
                .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
                .route("/t/{tenant}/inbound", web::post().to(inbound))
        });
        FakeOpenClaw { base_url, state }
    }

    pub fn url(&self, tenant: &str) -> String {
        format!("{}/t/{tenant}/inbound", self.base_url)
    }

    pub fn set_mode(&self, tenant: &str, mode: Mode) {
        self.state
            .lock()
            .unwrap()
            .modes
            .insert(tenant.to_owned(), mode);
    }

    /// Accepted (2xx) deliveries for `tenant`, in arrival order.
    pub fn accepted(&self, tenant: &str) -> Vec<Received> {
        let s = self.state.lock().unwrap();
        s.received
            .iter()
            .filter(|r| r.tenant == tenant && r.headers.contains_key("x-accepted"))
            .cloned()
            .collect()
    }

    /// Every attempt for `tenant`, whatever it was answered.
    pub fn attempts(&self, tenant: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .received
            .iter()
            .filter(|r| r.tenant == tenant)
            .count()
    }
}

async fn inbound(
    state: web::Data<Arc<Mutex<State>>>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let tenant = path.into_inner();
    let mode = state
        .lock()
        .unwrap()
        .modes
        .get(&tenant)
        .copied()
        .unwrap_or(Mode::Accept);
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
    if matches!(mode, Mode::Accept | Mode::Slow(_)) {
        headers.insert("x-accepted".into(), "1".into());
    }
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state.lock().unwrap().received.push(Received {
        tenant,
        headers,
        raw: body.to_vec(),
        body: parsed.clone(),
    });
    match mode {
        Mode::Accept => {
            HttpResponse::Accepted().json(json!({"ok": true, "eventId": parsed["eventId"]}))
        }
        Mode::Status(code) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap())
                .insert_header(("Retry-After", "1"))
                .json(json!({"ok": false}))
        }
        Mode::Slow(ms) => {
            actix_web::rt::time::sleep(Duration::from_millis(ms)).await;
            HttpResponse::Accepted().json(json!({"ok": true, "eventId": parsed["eventId"]}))
        }
        Mode::Hang => {
            actix_web::rt::time::sleep(Duration::from_secs(3600)).await;
            HttpResponse::Accepted().finish()
        }
    }
}
