//! In-process fake OpenClaw inbound endpoints, one path per tenant (`/t/<index>/inbound`). Each
//! tenant's endpoint accepts (202), answers 503 (with `Retry-After: 1`, as a real overloaded
//! receiver would), or never answers (held until `recover()` or a bounded cap, then 503).
//! Every attempt is recorded in the ledger.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use actix_web::web::{self, Bytes};
use actix_web::{App, HttpRequest, HttpResponse};
use serde::Deserialize;
use tokio::sync::Notify;

use super::ledger::Ledger;

/// Longest a "never answers" endpoint holds a request (keeps the run bounded).
const HANG_CAP: Duration = Duration::from_secs(300);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    Accept = 0,
    Unavailable = 1,
    Hang = 2,
}

#[derive(Clone)]
struct Shared {
    modes: Arc<Vec<AtomicU8>>,
    ledger: Arc<Ledger>,
    recovered: Arc<Notify>,
}

#[derive(Clone)]
pub struct FakeOpenClaw {
    pub base_url: String,
    shared: Shared,
    _server: actix_web::dev::ServerHandle,
}

impl FakeOpenClaw {
    pub fn start(
        tenants: usize,
        ledger: Arc<Ledger>,
        workers: usize,
    ) -> anyhow::Result<FakeOpenClaw> {
        let shared = Shared {
            modes: Arc::new(
                (0..tenants)
                    .map(|_| AtomicU8::new(Mode::Accept as u8))
                    .collect(),
            ),
            ledger,
            recovered: Arc::new(Notify::new()),
        };
        let s = shared.clone();
        let (base_url, server) = super::serve(workers, move || {
            App::new()
                .app_data(web::Data::new(s.clone()))
                .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                .route("/t/{tenant}/inbound", web::post().to(inbound))
        })?;
        Ok(FakeOpenClaw {
            base_url,
            shared,
            _server: server,
        })
    }

    pub fn url(&self, tenant: usize) -> String {
        format!("{}/t/{tenant}/inbound", self.base_url)
    }

    pub fn set_mode(&self, tenant: usize, mode: Mode) {
        if let Some(m) = self.shared.modes.get(tenant) {
            m.store(mode as u8, Ordering::Relaxed);
        }
    }

    /// All endpoints accept from now on; requests being held are released (answered 503).
    pub fn recover(&self) {
        for m in self.shared.modes.iter() {
            m.store(Mode::Accept as u8, Ordering::Relaxed);
        }
        self.shared.recovered.notify_waiters();
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "eventId")]
    event_id: String,
}

async fn inbound(
    state: web::Data<Shared>,
    req: HttpRequest,
    path: web::Path<u32>,
    body: Bytes,
) -> HttpResponse {
    let at = Instant::now();
    let tenant = path.into_inner();
    let mode = state
        .modes
        .get(tenant as usize)
        .map_or(Mode::Accept as u8, |m| m.load(Ordering::Relaxed));
    let event_id = serde_json::from_slice::<Envelope>(&body)
        .map(|e| e.event_id)
        .unwrap_or_default();
    let header_id = req
        .headers()
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if header_id != event_id {
        state
            .ledger
            .webhook_id_mismatch
            .fetch_add(1, Ordering::Relaxed);
    }
    let update_id = event_id
        .strip_prefix("tg:")
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(-1);
    let accept = mode == Mode::Accept as u8;
    state.ledger.record(update_id, tenant, accept, at);
    if accept {
        return HttpResponse::Accepted()
            .content_type("application/json")
            .body(format!(r#"{{"ok":true,"eventId":"{event_id}"}}"#));
    }
    if mode == Mode::Hang as u8 {
        let released = state.recovered.notified();
        let _ = actix_web::rt::time::timeout(HANG_CAP, released).await;
    }
    HttpResponse::ServiceUnavailable()
        .insert_header(("Retry-After", "1"))
        .content_type("application/json")
        .body(r#"{"ok":false,"error":"unavailable"}"#)
}
