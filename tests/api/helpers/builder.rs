//! `TestApp::builder()`: which fakes a test starts and the environment that points the service
//! at them. The builder keeps both, so it can start the service again on the same database.

use std::time::Duration;

use mux_server::testkit::discord::FakeDiscord;
use mux_server::testkit::openclaw::FakeOpenClaw;
use mux_server::testkit::telegram::FakeTelegram;
use mux_server::testkit::whatsapp::FakeWhatsApp;
use mux_server::testkit::{discord, telegram, whatsapp};
use serde_json::{Value, json};
use tempfile::TempDir;

use mux_server::startup::Application;

use super::{TestApp, test_config};

/// HTTP worker threads per fake.
const FAKE_WORKERS: usize = 2;

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
        // The service's own line format, so tests see what operators see.
        let _ = mux_server::telemetry::builder(mux_server::config::LogFormat::Text)
            .is_test(true)
            .try_init();
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
