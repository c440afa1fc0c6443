//! The one test world. `spawn_app()` (or `TestApp::builder()…spawn()`) gives each test its own
//! SQLite file in a temp dir, the service in-process on port 0, whichever fakes it asks for
//! (`mux_server::testkit`, each on its own 127.0.0.1:0 port, the service configured to use them),
//! and a `TestApp` with one method per endpoint.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use awc::http::StatusCode;
use awc::http::header::HeaderMap;
use mux_server::config::Config;
use mux_server::startup::Application;
use mux_server::testkit::discord::FakeDiscord;
use mux_server::testkit::openclaw::FakeOpenClaw;
use mux_server::testkit::telegram::FakeTelegram;
use mux_server::testkit::whatsapp::FakeWhatsApp;
use mux_server::testkit::{discord, telegram, whatsapp};
use serde_json::{Value, json};
use tempfile::TempDir;

pub const KEY_A: &str = "key-tenant-a";
pub const KEY_B: &str = "key-tenant-b";
pub const SEND: &str = "/v1/mux/outbound/send";
/// The admin token of the tests that enable the admin API.
pub const ADMIN: &str = "admin-token-for-tests";
/// HTTP worker threads per fake.
const FAKE_WORKERS: usize = 2;

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

/// The fakes a test asked for, started when asked (so a test can queue platform traffic before
/// the service starts) and kept across restarts.
#[derive(Clone, Default)]
pub struct Fakes {
    pub telegram: Option<FakeTelegram>,
    pub discord: Option<FakeDiscord>,
    pub whatsapp: Option<FakeWhatsApp>,
    pub openclaw: Option<FakeOpenClaw>,
}

impl Fakes {
    pub fn tg(&self) -> &FakeTelegram {
        self.telegram
            .as_ref()
            .expect("ask TestApp::builder() for .telegram()")
    }

    pub fn dc(&self) -> &FakeDiscord {
        self.discord
            .as_ref()
            .expect("ask TestApp::builder() for .discord()")
    }

    pub fn wa(&self) -> &FakeWhatsApp {
        self.whatsapp
            .as_ref()
            .expect("ask TestApp::builder() for .whatsapp()")
    }

    pub fn oc(&self) -> &FakeOpenClaw {
        self.openclaw
            .as_ref()
            .expect("ask TestApp::builder() for .openclaw()")
    }
}

/// The service's environment and fakes; spawns the service (again, for a restart) on demand.
#[derive(Clone, Default)]
pub struct TestAppBuilder {
    pub fakes: Fakes,
    /// Variables in the order given: a later one replaces an earlier one of the same name.
    vars: Vec<(&'static str, String)>,
}

impl TestAppBuilder {
    pub fn var(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.vars.push((name, value.into()));
        self
    }

    pub fn vars<V: Into<String>>(
        mut self,
        vars: impl IntoIterator<Item = (&'static str, V)>,
    ) -> Self {
        self.vars
            .extend(vars.into_iter().map(|(k, v)| (k, v.into())));
        self
    }

    /// Drops every variable whose name `unset` picks (a channel left without credentials).
    pub fn without(mut self, unset: impl Fn(&str) -> bool) -> Self {
        self.vars.retain(|(k, _)| !unset(k));
        self
    }

    /// The fake Telegram Bot API, and the bot token and base URL that point the service at it.
    pub fn telegram(mut self) -> Self {
        let tg = FakeTelegram::start(FAKE_WORKERS).expect("fake telegram starts");
        self = self.vars([
            ("TELEGRAM_BOT_TOKEN", telegram::TOKEN.to_owned()),
            ("MUX_TELEGRAM_API_BASE_URL", tg.base_url.clone()),
        ]);
        self.fakes.telegram = Some(tg);
        self
    }

    /// `telegram()` with ingress by long polling (short poll timeout and retry, no bootstrap).
    pub fn telegram_polling(self) -> Self {
        self.telegram().vars([
            ("MUX_TELEGRAM_INBOUND_ENABLED", "true"),
            ("MUX_TELEGRAM_POLL_TIMEOUT_SEC", "1"),
            ("MUX_TELEGRAM_POLL_RETRY_MS", "50"),
            ("MUX_TELEGRAM_BOOTSTRAP_LATEST", "false"),
        ])
    }

    /// The fake Discord REST API (and gateway, unused unless `discord_gateway()`).
    pub fn discord(mut self) -> Self {
        let dc = FakeDiscord::start(FAKE_WORKERS).expect("fake discord starts");
        self = self.vars([
            ("DISCORD_BOT_TOKEN", discord::TOKEN.to_owned()),
            ("MUX_DISCORD_API_BASE_URL", dc.api_url()),
        ]);
        self.fakes.discord = Some(dc);
        self
    }

    /// `discord()` with ingress through the fake gateway (and REST catch-up every 100 ms).
    pub fn discord_gateway(self) -> Self {
        let this = self.discord();
        let url = this.fakes.dc().gateway_url.clone();
        this.vars([
            ("MUX_DISCORD_GATEWAY_URL", url),
            ("MUX_DISCORD_INBOUND_ENABLED", "true".to_owned()),
            ("MUX_DISCORD_POLL_INTERVAL_MS", "100".to_owned()),
        ])
    }

    /// The fake Graph API for WhatsApp, with the phone number id and access token.
    pub fn whatsapp(mut self) -> Self {
        let wa = FakeWhatsApp::start(FAKE_WORKERS).expect("fake graph starts");
        self = self.vars([
            (
                "MUX_WHATSAPP_PHONE_NUMBER_ID",
                whatsapp::PHONE_ID.to_owned(),
            ),
            ("MUX_WHATSAPP_ACCESS_TOKEN", whatsapp::TOKEN.to_owned()),
            ("MUX_WHATSAPP_API_BASE_URL", wa.api_url()),
        ]);
        self.fakes.whatsapp = Some(wa);
        self
    }

    /// The fake OpenClaw endpoints of the tenants.
    pub fn openclaw(mut self) -> Self {
        if self.fakes.openclaw.is_none() {
            self.fakes.openclaw =
                Some(FakeOpenClaw::start(FAKE_WORKERS).expect("fake openclaw starts"));
        }
        self
    }

    /// Tenants `(id, key)` whose inbound target is their fake OpenClaw endpoint, with inbound
    /// token `tok-<id>` and the given timeout.
    pub fn openclaw_tenants(self, tenants: &[(&str, &str)], timeout_ms: u64) -> Self {
        let this = self.openclaw();
        let oc = this.fakes.oc();
        let tenants: Vec<Value> = tenants
            .iter()
            .map(|(id, key)| json!({"id": id, "apiKey": key, "inboundUrl": oc.url(id), "inboundToken": format!("tok-{id}"), "inboundTimeoutMs": timeout_ms}))
            .collect();
        this.var("MUX_TENANTS_JSON", Value::Array(tenants).to_string())
    }

    /// The service's environment as given (a later variable replaces an earlier one).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        self.vars.clone()
    }

    pub fn tg(&self) -> &FakeTelegram {
        self.fakes.tg()
    }

    pub fn dc(&self) -> &FakeDiscord {
        self.fakes.dc()
    }

    pub fn oc(&self) -> &FakeOpenClaw {
        self.fakes.oc()
    }

    /// Starts the service on a fresh database.
    pub async fn spawn(&self) -> TestApp {
        self.spawn_in(tempfile::tempdir().expect("temp dir")).await
    }

    /// Starts the service on the database in `dir` (a restart passes the previous app's dir).
    pub async fn spawn_in(&self, dir: TempDir) -> TestApp {
        // RUST_LOG=debug shows the service's log lines for a failing test.
        let _ = env_logger::builder().is_test(true).try_init();
        let db_path = dir.path().join("mux.sqlite");
        let config = test_config(&db_path, self.vars.clone()).expect("valid test config");
        let app = Application::build(config).await.expect("app builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        let running = actix_web::rt::spawn(app.run_until_stopped());
        TestApp {
            address,
            dir,
            db_path,
            world: self.clone(),
            handle,
            running,
            client: awc::Client::builder()
                .timeout(Duration::from_secs(30))
                .finish(),
        }
    }
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

/// A connection of its own to the service's database (for what no endpoint shows).
pub fn diesel_conn(path: &Path) -> diesel::SqliteConnection {
    use diesel::Connection;
    use diesel::RunQueryDsl;
    let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy()).expect("open db");
    // The service's last connection may still be checkpointing the WAL as it closes.
    diesel::sql_query("PRAGMA busy_timeout = 5000")
        .execute(&mut conn)
        .expect("busy timeout");
    conn
}

/// Rows of `table` (may carry a WHERE clause) in the database at `path`.
pub fn count(path: &Path, table: &str) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<N> = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .load(&mut diesel_conn(path))
        .expect("count");
    rows[0].n
}

/// Starts the real binary (`serve`) on port 0 with only `vars` (plus listener, database and
/// logging settings) and returns it with the port it logged in its `event=listening` line.
pub fn start_binary(db: &Path, vars: &[(&'static str, String)]) -> (Child, u16) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mux-server"));
    cmd.arg("serve")
        .env_clear()
        .env("MUX_HOST", "127.0.0.1")
        .env("MUX_PORT", "0")
        .env("MUX_DB_PATH", db)
        .env("RUST_LOG", "info");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mux-server");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let port = loop {
        let line = lines.next().expect("logs until listening").expect("line");
        if let Some(p) = line.split("event=listening").nth(1) {
            let port = p.split("port=").nth(1).expect("port=").trim();
            break port.parse().expect("port number");
        }
    };
    // Keep draining the logs so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, port)
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

    pub async fn issue_token(&self, key: &str, body: Value) -> Reply {
        self.post("/v1/pairings/token", Some(key), body).await
    }

    /// A pairing token (asserting it was issued).
    pub async fn token(&self, key: &str, body: Value) -> String {
        let reply = self.issue_token(key, body).await;
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
        reply.body["token"].as_str().expect("token").to_owned()
    }

    /// `POST /v1/pairings/claim`: claims a seeded pairing code, for `session` if given.
    pub async fn claim<'a>(
        &self,
        key: &str,
        code: &str,
        session: impl Into<Option<&'a str>>,
    ) -> Reply {
        let body = match session.into() {
            Some(session) => json!({"code": code, "sessionKey": session}),
            None => json!({"code": code}),
        };
        self.post("/v1/pairings/claim", Some(key), body).await
    }

    /// Set-up: claims a seeded code and insists it worked.
    pub async fn bind<'a>(&self, key: &str, code: &str, session: impl Into<Option<&'a str>>) {
        let reply = self.claim(key, code, session).await;
        assert_eq!(reply.status.as_u16(), 200, "claim {code}: {}", reply.body);
    }

    /// `POST /v1/pairings/unbind`.
    pub async fn unbind(&self, key: &str, binding_id: impl serde::Serialize) -> Reply {
        self.post(
            "/v1/pairings/unbind",
            Some(key),
            json!({"bindingId": binding_id}),
        )
        .await
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

    /// An admin API call with the admin token.
    pub async fn admin(&self, method: awc::http::Method, path: &str, body: Option<Value>) -> Reply {
        self.call(method, path, Some(ADMIN), body).await
    }

    /// `POST /v1/admin/tenants`.
    pub async fn admin_create_tenant(&self, body: Value) -> Reply {
        self.admin(awc::http::Method::POST, "/v1/admin/tenants", Some(body))
            .await
    }

    /// `GET /v1/admin/tenants`.
    pub async fn admin_tenants(&self) -> Reply {
        self.admin(awc::http::Method::GET, "/v1/admin/tenants", None)
            .await
    }

    /// One tenant's row in `GET /v1/admin/tenants`, if listed.
    pub async fn admin_tenant(&self, id: &str) -> Option<Value> {
        let list = self.admin_tenants().await;
        list.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|t| t["id"] == id)
            .cloned()
    }

    /// `POST /v1/admin/pairing-codes`.
    pub async fn admin_create_code(&self, body: Value) -> Reply {
        self.admin(
            awc::http::Method::POST,
            "/v1/admin/pairing-codes",
            Some(body),
        )
        .await
    }

    /// `GET /ready`.
    pub async fn ready(&self) -> Reply {
        self.get("/ready", None).await
    }

    /// `GET /ready`'s state of `channel`.
    pub async fn channel_state(&self, channel: &str) -> Value {
        self.ready().await.body["channels"][channel].clone()
    }

    /// `GET /v1/tenant/inbound-target`.
    pub async fn inbound_target(&self, key: &str) -> Reply {
        self.get("/v1/tenant/inbound-target", Some(key)).await
    }

    /// `POST /v1/tenant/inbound-target`.
    pub async fn set_inbound_target(&self, key: &str, body: Value) -> Reply {
        self.post("/v1/tenant/inbound-target", Some(key), body)
            .await
    }

    /// Waits (bounded) until `/ready` reports `channel` in `state`.
    pub async fn wait_channel(&self, channel: &str, state: &str) {
        for _ in 0..500 {
            if self.channel_state(channel).await == state {
                return;
            }
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{channel} never became {state}");
    }

    /// `POST /v1/ingress/whatsapp` (a Cloud API webhook delivery); the answer's status.
    pub async fn whatsapp_webhook(&self, body: String, signature: Option<String>) -> u16 {
        let mut req = self
            .request(awc::http::Method::POST, "/v1/ingress/whatsapp", None)
            .insert_header(("Content-Type", "application/json"));
        if let Some(s) = signature {
            req = req.insert_header(("X-Hub-Signature-256", s));
        }
        req.send_body(body)
            .await
            .expect("reaches the service")
            .status()
            .as_u16()
    }

    /// `POST /v1/mux/outbound/send`.
    pub async fn send(&self, key: &str, body: Value) -> Sent {
        self.send_raw(key, None, body.to_string()).await
    }

    /// `GET /metrics`: status, content type and text.
    pub async fn metrics(&self, key: Option<&str>) -> (StatusCode, String, String) {
        let mut resp = self
            .request(awc::http::Method::GET, "/metrics", key)
            .send()
            .await
            .expect("scrape");
        let body = resp.body().await.expect("body");
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (
            resp.status(),
            content_type,
            String::from_utf8(body.to_vec()).expect("utf-8"),
        )
    }

    /// `POST /v1/mux/outbound/send` of a plain text.
    pub async fn send_text(
        &self,
        key: &str,
        channel: &str,
        session: &str,
        text: impl serde::Serialize,
    ) -> Sent {
        self.send(
            key,
            json!({"channel": channel, "sessionKey": session, "text": text}),
        )
        .await
    }

    /// `POST /v1/mux/outbound/send` with an `Idempotency-Key`.
    pub async fn send_idem(&self, key: &str, idem: &str, body: Value) -> Sent {
        self.send_raw(key, Some(idem), body.to_string()).await
    }

    pub async fn send_raw(&self, key: &str, idem: Option<&str>, body: String) -> Sent {
        let mut req = self
            .request(awc::http::Method::POST, SEND, Some(key))
            .insert_header(("Content-Type", "application/json"));
        if let Some(idem) = idem {
            req = req.insert_header(("Idempotency-Key", idem));
        }
        let mut resp = req.send_body(body).await.expect("reaches the service");
        let raw = resp.body().limit(1 << 20).await.expect("body").to_vec();
        Sent {
            status: resp.status(),
            body: serde_json::from_slice(&raw).expect("JSON answer"),
            raw,
            headers: resp.headers().clone(),
        }
    }

    /// `GET /v1/pairings`.
    pub async fn pairings(&self, key: &str) -> Reply {
        self.get("/v1/pairings", Some(key)).await
    }

    /// The caller's bindings (insisting the listing worked).
    pub async fn list_bindings(&self, key: &str) -> Vec<Value> {
        let reply = self.pairings(key).await;
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
