//! The one test world. `spawn_app()` (or `TestApp::builder()…spawn()`) gives each test its own
//! SQLite file in a temp dir, the service in-process on port 0, whichever fakes it asks for
//! (`mux_server::testkit`, each on its own 127.0.0.1:0 port, the service configured to use them),
//! and a `TestApp` with one method per endpoint.

mod builder;
mod endpoints;
mod process;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use awc::http::StatusCode;
use awc::http::header::HeaderMap;
use mux_server::config::Config;
use mux_server::testkit::discord::FakeDiscord;
use mux_server::testkit::openclaw::FakeOpenClaw;
use mux_server::testkit::telegram::FakeTelegram;
use mux_server::testkit::whatsapp::FakeWhatsApp;
use serde_json::{Value, json};
use tempfile::TempDir;

pub use builder::TestAppBuilder;
pub use process::{count, diesel_conn, start_binary, start_command};

pub const KEY_A: &str = "key-tenant-a";
pub const KEY_B: &str = "key-tenant-b";
pub const SEND: &str = "/v1/mux/outbound/send";
/// The admin token of the tests that enable the admin API.
pub const ADMIN: &str = "admin-token-for-tests";

/// The default test tenants: `tenant-a` and `tenant-b`, one key each.
pub fn two_tenants() -> Vec<(&'static str, String)> {
    vec![(
        "MUX_TENANTS_JSON",
        json!([
            {"id": "tenant-a", "name": "A", "apiKey": KEY_A},
            {"id": "tenant-b", "name": "B", "apiKey": KEY_B},
        ])
        .to_string(),
    )]
}

/// Waits (bounded) until `cond` holds; panics with `what` if it never does. Not a timing
/// assertion: the bound only keeps a broken build from hanging CI.
pub async fn eventually<F: FnMut() -> bool>(what: &str, mut cond: F) {
    for _ in 0..1000 {
        if cond() {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}

pub struct TestApp {
    pub address: String,
    pub dir: TempDir,
    pub db_path: PathBuf,
    /// What started it: its fakes and environment (for a restart).
    pub world: TestAppBuilder,
    handle: ServerHandle,
    running: actix_web::rt::task::JoinHandle<std::io::Result<()>>,
    client: awc::Client,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(two_tenants()).await
}

pub async fn spawn_app_with(vars: Vec<(&'static str, String)>) -> TestApp {
    TestApp::builder().vars(vars).spawn().await
}

/// Starts the service on the database in `dir` (a restart passes the previous app's dir).
pub async fn spawn_in(dir: TempDir, vars: Vec<(&'static str, String)>) -> TestApp {
    TestApp::builder().vars(vars).spawn_in(dir).await
}

pub fn test_config(
    db_path: &std::path::Path,
    vars: Vec<(&'static str, String)>,
) -> Result<Config, mux_server::config::ConfigError> {
    let mut map: HashMap<String, String> = HashMap::new();
    map.insert("MUX_HOST".into(), "127.0.0.1".into());
    map.insert("MUX_PORT".into(), "0".into());
    map.insert("MUX_DB_PATH".into(), db_path.to_string_lossy().into_owned());
    for (k, v) in vars {
        map.insert(k.to_owned(), v);
    }
    Config::from_map(map)
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    #[allow(dead_code)]
    pub headers: awc::http::header::HeaderMap,
}

/// An answer with its exact bytes (replays must be byte-identical).
pub struct Sent {
    pub status: StatusCode,
    pub body: Value,
    pub raw: Vec<u8>,
    pub headers: HeaderMap,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    pub fn tg(&self) -> &FakeTelegram {
        self.world.fakes.tg()
    }

    pub fn dc(&self) -> &FakeDiscord {
        self.world.fakes.dc()
    }

    pub fn wa(&self) -> &FakeWhatsApp {
        self.world.fakes.wa()
    }

    pub fn oc(&self) -> &FakeOpenClaw {
        self.world.fakes.oc()
    }

    /// Stops the service and starts it again on the same database, fakes and environment.
    pub async fn restart(self) -> TestApp {
        let world = self.world.clone();
        let dir = self.stop().await;
        world.spawn_in(dir).await
    }

    /// Stops the server gracefully and hands back the data dir (for a restart).
    pub async fn stop(self) -> TempDir {
        self.handle.stop(true).await;
        self.running
            .await
            .expect("server task")
            .expect("server ran");
        self.dir
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A request with an optional `Authorization: Bearer <key>`.
    pub fn request(
        &self,
        method: awc::http::Method,
        path: &str,
        key: Option<&str>,
    ) -> awc::ClientRequest {
        let req = self.client.request(method, self.url(path));
        match key {
            Some(k) => req.insert_header(("Authorization", format!("Bearer {k}"))),
            None => req,
        }
    }

    pub async fn get(&self, path: &str, key: Option<&str>) -> Reply {
        let resp = self.request(awc::http::Method::GET, path, key).send().await;
        read(resp).await
    }

    pub async fn post(&self, path: &str, key: Option<&str>, body: Value) -> Reply {
        self.post_raw(path, key, body.to_string()).await
    }

    pub async fn post_raw(&self, path: &str, key: Option<&str>, body: impl Into<String>) -> Reply {
        let resp = self
            .request(awc::http::Method::POST, path, key)
            .insert_header(("Content-Type", "application/json"))
            .send_body(body.into())
            .await;
        read(resp).await
    }

    /// A POST whose body is exactly `bytes` (not necessarily UTF-8).
    pub async fn post_bytes(&self, path: &str, key: Option<&str>, bytes: Vec<u8>) -> Reply {
        let resp = self
            .request(awc::http::Method::POST, path, key)
            .insert_header(("Content-Type", "application/json"))
            .send_body(bytes)
            .await;
        read(resp).await
    }

    /// Any request with a JSON body (or none) and a bearer credential; an answer that is not
    /// JSON comes back as a string.
    pub async fn call(
        &self,
        method: awc::http::Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let req = self.request(method, path, key);
        let resp = match body {
            Some(b) => {
                req.insert_header(("Content-Type", "application/json"))
                    .send_body(b.to_string())
                    .await
            }
            None => req.send().await,
        };
        let mut resp = resp.expect("request reaches the server");
        let bytes = resp.body().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply {
            status: resp.status(),
            body,
            headers: resp.headers().clone(),
        }
    }
}

async fn read(
    resp: Result<
        awc::ClientResponse<
            impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
            + Unpin,
        >,
        awc::error::SendRequestError,
    >,
) -> Reply {
    let mut resp = resp.expect("request reaches the server");
    let bytes = resp.body().limit(16 * 1024 * 1024).await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("body is not JSON: {}", String::from_utf8_lossy(&bytes)))
    };
    Reply {
        status: resp.status(),
        body,
        headers: resp.headers().clone(),
    }
}
