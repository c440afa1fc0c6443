//! Scriptable fakes of the platforms' send APIs for the outbound tests: each a tiny actix-web
//! server on 127.0.0.1:0 that records every request and answers in the platform's own wire
//! format. A test can script the next answers for a path (status, body, headers, delay) to play
//! failures. (tests/api/fakes holds the inbound side's fakes.)

pub mod discord;
pub mod telegram;
pub mod whatsapp;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
}

/// A canned answer for the next request whose path contains `path_contains`.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub path_contains: String,
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(String, String)>,
    pub delay: Duration,
}

impl Scripted {
    pub fn new(path_contains: &str, status: u16, body: Value) -> Scripted {
        Scripted {
            path_contains: path_contains.to_owned(),
            status,
            body,
            headers: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Scripted {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn delay(mut self, delay: Duration) -> Scripted {
        self.delay = delay;
        self
    }
}

/// What a fake shares with its test.
#[derive(Clone, Default)]
pub struct Recorder {
    received: Arc<Mutex<Vec<Recorded>>>,
    script: Arc<Mutex<VecDeque<Scripted>>>,
    counter: Arc<AtomicU64>,
}

impl Recorder {
    pub fn received(&self) -> Vec<Recorded> {
        self.received.lock().unwrap().clone()
    }

    /// Requests whose path ends with `suffix` (case-insensitive, as Telegram's method names are).
    pub fn calls(&self, suffix: &str) -> Vec<Recorded> {
        let suffix = suffix.to_ascii_lowercase();
        self.received()
            .into_iter()
            .filter(|r| r.path.to_ascii_lowercase().ends_with(&suffix))
            .collect()
    }

    pub fn script(&self, answer: Scripted) {
        self.script.lock().unwrap().push_back(answer);
    }

    pub fn next_id(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::SeqCst) + 100
    }

    fn record(&self, req: &HttpRequest, body: &[u8]) -> Option<Scripted> {
        let path = req.path().to_owned();
        self.received.lock().unwrap().push(Recorded {
            path: path.clone(),
            authorization: req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
        });
        let mut script = self.script.lock().unwrap();
        let at = script
            .iter()
            .position(|s| path.contains(&s.path_contains))?;
        script.remove(at)
    }
}

pub struct FakeServer {
    pub base: String,
    pub recorder: Recorder,
    handle: ServerHandle,
}

impl FakeServer {
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

/// The platform's default answer for a request: (status, body).
pub type Answer = fn(&Recorder, &HttpRequest, &Value) -> (u16, Value);

/// Starts a fake answering with `answer` unless a scripted answer matches.
pub fn spawn(answer: Answer) -> FakeServer {
    let recorder = Recorder::default();
    let state = web::Data::new((recorder.clone(), answer));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .default_service(web::to(handle))
    })
    .workers(2)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .expect("fake binds on loopback");
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    FakeServer {
        base: format!("http://127.0.0.1:{port}"),
        recorder,
        handle,
    }
}

async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<(Recorder, Answer)>,
) -> HttpResponse {
    let (recorder, answer) = state.get_ref();
    let (status, body, headers) = match recorder.record(&req, &body) {
        Some(s) => {
            actix_web::rt::time::sleep(s.delay).await;
            (s.status, s.body, s.headers)
        }
        None => {
            let parsed = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let (status, body) = answer(recorder, &req, &parsed);
            (status, body, Vec::new())
        }
    };
    let mut response =
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("status"));
    for (name, value) in headers {
        response.insert_header((name, value));
    }
    response.json(body)
}
