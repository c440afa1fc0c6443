//! Outbound sends (issue 3, contract §5) against fake Telegram, Discord and Graph APIs.

mod bench;
mod discord;
mod fairness;
mod formatted;
mod idempotency;
mod limits;
mod logs;
mod raw;
mod resume;
mod route_lock;
mod route_lock_typing;
mod routing;
mod telegram;
mod typing;
mod whatsapp;

use mux_server::testkit::discord::OTHER_GUILD;

use crate::helpers::{KEY_A, KEY_B, TestApp, TestAppBuilder, two_tenants};

pub use crate::helpers::SEND;

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

/// Discord channels the fake knows: 501 (bound) with its thread 502, the sibling channel 503 in
/// the bound guild, 601 in another guild.
pub const CHANNEL: u64 = 501;
pub const THREAD_IN_GUILD: u64 = 502;
pub const SIBLING_CHANNEL: u64 = 503;
pub const CHANNEL_IN_OTHER_GUILD: u64 = 601;

/// The fakes and the service's environment pointing at them. Telegram pacing is off unless a
/// test turns it on: pacing is its own test, and one message per second per chat would only
/// slow the rest.
pub fn outbound_world() -> TestAppBuilder {
    let world = senders_world(CODES);
    world.dc().add_channel(CHANNEL, None);
    world.dc().add_channel(THREAD_IN_GUILD, Some(CHANNEL));
    world.dc().add_channel(SIBLING_CHANNEL, None);
    world
        .dc()
        .add_channel_in(OTHER_GUILD, CHANNEL_IN_OTHER_GUILD, None);
    world
}

/// Tenants A and B, the seeded `codes`, and the three platform fakes (Telegram unpaced).
pub fn senders_world(codes: &str) -> TestAppBuilder {
    TestApp::builder()
        .vars(two_tenants())
        .var("MUX_PAIRING_CODES_JSON", codes)
        .telegram()
        .var("MUX_TELEGRAM_PACING_ENABLED", "false")
        .discord()
        .whatsapp()
}

/// Claims every `(code, tenant key, session key)`.
pub async fn claim_all(app: &TestApp, claims: &[(&str, &str, &str)]) {
    for (code, key, session) in claims {
        app.bind(key, code, *session).await;
    }
}

pub async fn world() -> TestApp {
    world_with(Vec::new()).await
}

/// Fakes, the service, and every binding of [`CLAIMS`]; `extra` overrides variables.
pub async fn world_with(extra: Vec<(&'static str, String)>) -> TestApp {
    let app = outbound_world().vars(extra).spawn().await;
    claim_all(&app, &CLAIMS).await;
    app
}
