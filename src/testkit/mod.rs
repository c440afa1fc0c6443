//! The one test world: local fakes of the platforms (Telegram Bot API, Discord REST + gateway,
//! WhatsApp Cloud API) and of tenants' OpenClaw, shared by the integration tests (`tests/api`)
//! and the benchmark (`mux-bench`). Each fake speaks the real wire format, listens only on
//! 127.0.0.1 on a port the OS picks (bind `:0`, read the port back — never a port freed and
//! reused), keeps state a test can drive (queued updates, gateway frames, stored messages) and
//! records what it receives. Sends can be scripted (`Scripted`: the next answer for a path, with
//! status, body, headers and delay) to play rate limits and failures.
//!
//! Library code rather than a dev-only module because the benchmark binary runs the same fakes.
//! Nothing in the service depends on this module.

pub mod discord;
pub mod openclaw;
mod recorder;
pub mod telegram;
pub mod telegram_html;
pub mod whatsapp;

use std::sync::{Mutex, MutexGuard};

use actix_web::dev::ServerHandle;

pub use recorder::{Recorded, Recorder, Scripted, Tap};

/// A fake's HTTP server: its base URL (`http://127.0.0.1:<port>`) and handle.
#[derive(Clone)]
pub struct Served {
    pub base_url: String,
    pub port: u16,
    pub handle: ServerHandle,
}

/// The one way to start a fake: binds an actix-web app on 127.0.0.1:0 with `workers` worker
/// threads in the current actix system and reads the real port back.
pub fn serve<F, I, B>(workers: usize, factory: F) -> std::io::Result<Served>
where
    F: Fn() -> actix_web::App<I> + Send + Clone + 'static,
    I: actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    B: actix_web::body::MessageBody + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let server = actix_web::HttpServer::new(factory)
        .workers(workers.max(1))
        .backlog(4096)
        .disable_signals()
        .listen(listener)?
        .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    Ok(Served {
        base_url: format!("http://127.0.0.1:{port}"),
        port,
        handle,
    })
}

/// Locks a fake's state; a panicked test thread does not poison it for the others.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The `Authorization` header's value, if any.
fn authorization(req: &actix_web::HttpRequest) -> Option<&str> {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
}

/// A JSON answer with a numeric status (unknown numbers become 500).
fn reply(status: u16, body: &serde_json::Value) -> actix_web::HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    actix_web::HttpResponse::build(status).json(body)
}
