//! Outbound sends (issue 3, contract §5) against fake Telegram, Discord and Graph APIs.

mod bench;
mod discord;
mod fairness;
pub mod fakes;
mod idempotency;
mod limits;
mod logs;
mod routing;
mod telegram;
mod whatsapp;

use awc::http::StatusCode;
use awc::http::header::HeaderMap;
use serde_json::{Value, json};

use crate::helpers::{KEY_A, KEY_B, TestApp, spawn_app_with, spawn_in, two_tenants};
use fakes::FakeServer;

pub const SEND: &str = "/v1/mux/outbound/send";

/// Bindings every outbound test starts with: tenant A holds one route of each kind, B one chat.
pub const CODES: &str = r#"[
  {"code":"TG-CHAT","channel":"telegram","routeKey":"telegram:default:chat:555","scope":"chat"},
  {"code":"TG-GROUP","channel":"telegram","routeKey":"telegram:default:chat:-100777","scope":"chat"},
  {"code":"TG-TOPIC","channel":"telegram","routeKey":"telegram:default:chat:-100888:topic:42","scope":"topic"},
  {"code":"DC-DM","channel":"discord","routeKey":"discord:default:dm:user:42","scope":"dm"},
  {"code":"DC-GUILD","channel":"discord","routeKey":"discord:default:guild:500:channel:501","scope":"channel"},
  {"code":"WA-CHAT","channel":"whatsapp","routeKey":"whatsapp:default:chat:15550001111@s.whatsapp.net","scope":"chat"},
  {"code":"TG-B","channel":"telegram","routeKey":"telegram:default:chat:556","scope":"chat"}
]"#;

/// (code, tenant key, session key) claimed at start.
const CLAIMS: [(&str, &str, &str); 7] = [
    ("TG-CHAT", KEY_A, "tg"),
    ("TG-GROUP", KEY_A, "tg-group"),
    ("TG-TOPIC", KEY_A, "tg-topic"),
    ("DC-DM", KEY_A, "dc-dm"),
    ("DC-GUILD", KEY_A, "dc-guild"),
    ("WA-CHAT", KEY_A, "wa"),
    ("TG-B", KEY_B, "tg-b"),
];

pub struct World {
    pub app: TestApp,
    pub tg: FakeServer,
    pub dc: FakeServer,
    pub wa: FakeServer,
    extra: Vec<(&'static str, String)>,
}

/// The service's environment pointing at the fakes. Telegram pacing is off unless a test turns
/// it on: pacing is its own test, and one message per second per chat would only slow the rest.
fn vars(
    tg: &FakeServer,
    dc: &FakeServer,
    wa: &FakeServer,
    extra: &[(&'static str, String)],
) -> Vec<(&'static str, String)> {
    let mut vars = two_tenants();
    vars.extend([
        ("MUX_PAIRING_CODES_JSON", CODES.to_owned()),
        ("TELEGRAM_BOT_TOKEN", fakes::telegram::TOKEN.to_owned()),
        ("MUX_TELEGRAM_API_BASE_URL", tg.base.clone()),
        ("MUX_TELEGRAM_PACING_ENABLED", "false".to_owned()),
        ("DISCORD_BOT_TOKEN", fakes::discord::TOKEN.to_owned()),
        ("MUX_DISCORD_API_BASE_URL", format!("{}/api/v10", dc.base)),
        (
            "MUX_WHATSAPP_PHONE_NUMBER_ID",
            fakes::whatsapp::PHONE_ID.to_owned(),
        ),
        (
            "MUX_WHATSAPP_ACCESS_TOKEN",
            fakes::whatsapp::TOKEN.to_owned(),
        ),
        ("MUX_WHATSAPP_API_BASE_URL", format!("{}/v21.0", wa.base)),
    ]);
    vars.extend(extra.iter().cloned());
    vars
}

pub async fn world() -> World {
    world_with(Vec::new()).await
}

/// Fakes, the service, and every binding of [`CLAIMS`]; `extra` overrides variables.
pub async fn world_with(extra: Vec<(&'static str, String)>) -> World {
    let (tg, dc, wa) = (
        fakes::telegram::start(),
        fakes::discord::start(),
        fakes::whatsapp::start(),
    );
    let app = spawn_app_with(vars(&tg, &dc, &wa, &extra)).await;
    for (code, key, session) in CLAIMS {
        let reply = app
            .post(
                "/v1/pairings/claim",
                Some(key),
                json!({"code": code, "sessionKey": session}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "claim {code}: {}", reply.body);
    }
    World {
        app,
        tg,
        dc,
        wa,
        extra,
    }
}

impl World {
    /// Stops the service and starts it again on the same database and fakes.
    pub async fn restart(self) -> World {
        let dir = self.app.stop().await;
        let app = spawn_in(dir, vars(&self.tg, &self.dc, &self.wa, &self.extra)).await;
        World { app, ..self }
    }

    pub async fn stop(self) {
        self.app.stop().await;
        for fake in [&self.tg, &self.dc, &self.wa] {
            fake.stop().await;
        }
    }
}

/// An answer with its exact bytes (replays must be byte-identical).
pub struct Sent {
    pub status: StatusCode,
    pub body: Value,
    pub raw: Vec<u8>,
    pub headers: HeaderMap,
}

pub async fn send(app: &TestApp, key: &str, body: Value) -> Sent {
    send_raw(app, key, None, body.to_string()).await
}

pub async fn send_idem(app: &TestApp, key: &str, idem: &str, body: Value) -> Sent {
    send_raw(app, key, Some(idem), body.to_string()).await
}

pub async fn send_raw(app: &TestApp, key: &str, idem: Option<&str>, body: String) -> Sent {
    let mut req = app
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
