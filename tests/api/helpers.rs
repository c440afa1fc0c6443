//! `spawn_app()`: each test gets its own SQLite file in a temp dir, port 0, and a client with one
//! method per kind of call.

use std::collections::HashMap;
use std::path::PathBuf;

use actix_web::dev::ServerHandle;
use awc::http::StatusCode;
use mux_server::config::Config;
use mux_server::startup::Application;
use serde_json::{Value, json};
use tempfile::TempDir;

pub const KEY_A: &str = "key-tenant-a";
pub const KEY_B: &str = "key-tenant-b";

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

pub struct TestApp {
    pub address: String,
    pub dir: TempDir,
    pub db_path: PathBuf,
    handle: ServerHandle,
    running: actix_web::rt::task::JoinHandle<std::io::Result<()>>,
    client: awc::Client,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(two_tenants()).await
}

pub async fn spawn_app_with(vars: Vec<(&'static str, String)>) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    spawn_in(dir, vars).await
}

/// Starts the service on the database in `dir` (a restart passes the previous app's dir).
pub async fn spawn_in(dir: TempDir, vars: Vec<(&'static str, String)>) -> TestApp {
    // RUST_LOG=debug shows the service's log lines for a failing test.
    let _ = env_logger::builder().is_test(true).try_init();
    let db_path = dir.path().join("mux.sqlite");
    let config = test_config(&db_path, vars).expect("valid test config");
    let app = Application::build(config).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let running = actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address,
        dir,
        db_path,
        handle,
        running,
        client: awc::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .finish(),
    }
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

impl TestApp {
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

    pub async fn issue_token(&self, key: &str, body: Value) -> Reply {
        self.post("/v1/pairings/token", Some(key), body).await
    }

    pub async fn list_bindings(&self, key: &str) -> Vec<Value> {
        let reply = self.get("/v1/pairings", Some(key)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["items"]
            .as_array()
            .cloned()
            .expect("items array")
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
