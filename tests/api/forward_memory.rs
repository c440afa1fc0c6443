//! A backlog far larger than the forwarders' memory budget (`MUX_FORWARD_MEMORY_BYTES`) waits in
//! SQLite and is read as deliveries make room: once the endpoint recovers every event arrives
//! exactly once, in order per session, and a healthy tenant is never held back by it.

use serde_json::json;

use mux_server::testkit::openclaw::Mode;

use crate::helpers::{KEY_A, KEY_B, eventually};
use crate::inbound_telegram::world;

/// Events per session: well past what one session or one forwarder holds in memory.
const PER_CHAT: usize = 40;

fn bodies_of(all: &[String], prefix: &str) -> Vec<String> {
    all.iter()
        .filter(|b| b.starts_with(prefix))
        .cloned()
        .collect()
}

async fn backlog_is_delivered_once_in_order_under_a_budget_of(budget: &str) {
    let codes = json!([
        {"code": "A1", "channel": "telegram", "routeKey": "telegram:default:chat:1", "scope": "chat"},
        {"code": "A4", "channel": "telegram", "routeKey": "telegram:default:chat:4", "scope": "chat"},
        {"code": "B2", "channel": "telegram", "routeKey": "telegram:default:chat:2", "scope": "chat"},
    ])
    .to_string();
    let app = world(&[
        ("MUX_PAIRING_CODES_JSON", &codes),
        ("MUX_FORWARD_MEMORY_BYTES", budget),
    ])
    .spawn()
    .await;
    app.bind(KEY_A, "A1", "sa").await;
    app.bind(KEY_A, "A4", "sd").await;
    app.bind(KEY_B, "B2", "sb").await;
    app.oc().set_mode("tenant-a", Mode::Status(503));
    for i in 0..PER_CHAT {
        app.tg().push_text(1, 11, &format!("a{i:02}"));
        app.tg().push_text(4, 44, &format!("d{i:02}"));
        app.tg().push_text(2, 22, &format!("b{i:02}"));
    }
    eventually("all confirmed to Telegram", || {
        app.tg().pending_updates() == 0
    })
    .await;
    eventually("the healthy tenant gets its backlog", || {
        app.oc().accepted("tenant-b").len() >= PER_CHAT
    })
    .await;
    eventually("A was tried", || app.oc().attempts("tenant-a") > 0).await;
    assert!(app.oc().accepted("tenant-a").is_empty());

    app.oc().set_mode("tenant-a", Mode::Accept);
    eventually("A's backlog is delivered", || {
        app.oc().accepted("tenant-a").len() >= 2 * PER_CHAT
    })
    .await;
    let expected = |p: &str| {
        (0..PER_CHAT)
            .map(|i| format!("{p}{i:02}"))
            .collect::<Vec<_>>()
    };
    let a = app.oc().bodies("tenant-a");
    assert_eq!(a.len(), 2 * PER_CHAT, "each exactly once: {a:?}");
    assert_eq!(bodies_of(&a, "a"), expected("a"), "session sa in order");
    assert_eq!(bodies_of(&a, "d"), expected("d"), "session sd in order");
    assert_eq!(app.oc().bodies("tenant-b"), expected("b"));
    app.stop().await;
}

#[actix_web::test]
async fn a_backlog_past_a_tiny_memory_budget_is_delivered_once_and_in_order() {
    // About one envelope: every forwarder holds one event at a time.
    backlog_is_delivered_once_in_order_under_a_budget_of("1").await;
}

#[actix_web::test]
async fn a_backlog_past_a_small_memory_budget_is_delivered_once_and_in_order() {
    // A few envelopes: sessions fill up, overflow to SQLite and are refilled as they drain.
    backlog_is_delivered_once_in_order_under_a_budget_of("20000").await;
}
