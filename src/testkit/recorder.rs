//! What every platform fake shares: the log of requests it received and the scripted answers a
//! test queued for it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;

use super::lock;

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

    /// Waits out the delay, then answers.
    pub(super) async fn answer(self) -> HttpResponse {
        actix_web::rt::time::sleep(self.delay).await;
        let status = actix_web::http::StatusCode::from_u16(self.status)
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
        let mut builder = HttpResponse::build(status);
        for (name, value) in self.headers {
            builder.insert_header((name, value));
        }
        builder.json(self.body)
    }
}

/// Sees the path and raw body of every request a fake records, recording on or off (the
/// benchmark counts what reached the platform without keeping it).
pub type Tap = Arc<dyn Fn(&str, &[u8]) + Send + Sync>;

/// The request log and script of one fake, shared with its test.
#[derive(Clone)]
pub struct Recorder {
    received: Arc<Mutex<Vec<Recorded>>>,
    script: Arc<Mutex<VecDeque<Scripted>>>,
    counter: Arc<AtomicU64>,
    recording: Arc<AtomicBool>,
    tap: Arc<OnceLock<Tap>>,
}

impl Default for Recorder {
    fn default() -> Recorder {
        Recorder {
            received: Arc::default(),
            script: Arc::default(),
            counter: Arc::default(),
            recording: Arc::new(AtomicBool::new(true)),
            tap: Arc::default(),
        }
    }
}

impl Recorder {
    pub fn received(&self) -> Vec<Recorded> {
        lock(&self.received).clone()
    }

    /// Requests whose path ends with `suffix` (case-insensitive, as Telegram's method names are).
    pub fn calls(&self, suffix: &str) -> Vec<Recorded> {
        let suffix = suffix.to_ascii_lowercase();
        self.received()
            .into_iter()
            .filter(|r| r.path.to_ascii_lowercase().ends_with(&suffix))
            .collect()
    }

    /// Queues an answer for the next request matching its path.
    pub fn script(&self, answer: Scripted) {
        lock(&self.script).push_back(answer);
    }

    /// Stops keeping requests (the benchmark sends too many to keep); scripts still apply.
    pub fn set_recording(&self, on: bool) {
        self.recording.store(on, Ordering::Relaxed);
    }

    pub fn is_recording(&self) -> bool {
        self.recording.load(Ordering::Relaxed)
    }

    /// Calls `tap` with every request recorded from now on; one tap per fake (a second is
    /// refused: `false`).
    pub fn set_tap(&self, tap: Tap) -> bool {
        self.tap.set(tap).is_ok()
    }

    /// A fresh id for a message the fake creates.
    pub fn next_id(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::SeqCst) + 100
    }

    /// Logs the request; returns the scripted answer it consumes, if one matches.
    pub(super) fn record(&self, req: &HttpRequest, body: &[u8]) -> Option<Scripted> {
        let path = req.path();
        if let Some(tap) = self.tap.get() {
            tap(path, body);
        }
        if self.recording.load(Ordering::Relaxed) {
            lock(&self.received).push(Recorded {
                path: path.to_owned(),
                authorization: super::authorization(req).map(str::to_owned),
                body: serde_json::from_slice(body).unwrap_or(Value::Null),
            });
        }
        let mut script = lock(&self.script);
        if script.is_empty() {
            return None;
        }
        let at = script
            .iter()
            .position(|s| path.contains(&s.path_contains))?;
        script.remove(at)
    }
}
