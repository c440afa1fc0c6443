//! The benchmark program's modules (compiled into the `mux-bench` binary only; the library
//! holds no bench code). See `bench/RESULTS.md` and shared/spec/targets.md.

pub mod ceiling;
pub mod fake_openclaw;
pub mod fake_telegram;
pub mod inbound;
pub mod ledger;
pub mod load;
pub mod outbound;
pub mod restart;
pub mod rig;
pub mod server;
pub mod stats;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

/// Settings of a run (from the command line).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Opts {
    pub server_bin: PathBuf,
    pub tenants: usize,
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub events: usize,
    pub rate: usize,
    pub pending: usize,
    pub bindings_per_tenant: usize,
    pub inbound_timeout_ms: u64,
    pub drain_timeout: Duration,
    pub server_log: String,
    pub fake_workers: usize,
    pub wake_on_recovery: bool,
    pub keep: bool,
}

impl Opts {
    pub fn rig(&self, inbound: bool) -> rig::RigOptions {
        rig::RigOptions {
            server_bin: self.server_bin.clone(),
            tenants: self.tenants,
            inbound,
            server_log: self.server_log.clone(),
            fake_workers: self.fake_workers,
            keep: self.keep,
        }
    }
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Binds an actix-web app on 127.0.0.1:0 with `workers` worker threads, in the current actix
/// system; returns its base URL and handle.
pub fn serve<F, I, B>(workers: usize, factory: F) -> Result<(String, actix_web::dev::ServerHandle)>
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
    Ok((format!("http://127.0.0.1:{port}"), handle))
}
