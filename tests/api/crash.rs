//! No loss on crash (targets.md): the real binary is SIGKILLed in the middle of inbound traffic
//! and restarted on the same database; every update the fake Telegram handed out reaches the
//! fake OpenClaw at least once, and duplicates carry the same eventId.

use std::collections::{HashMap, HashSet};
use std::process::Child;

use mux_server::testkit::openclaw::Mode;
use serde_json::json;

use crate::helpers::{TestApp, TestAppBuilder, eventually, start_binary};

const TENANTS: usize = 8;

/// The real binary on `db` (port 0; the port it bound is read from its log), polling the fake
/// Telegram; tenant `t<i>` has code `C<i>` for chat `100 + i` and its inbound at the fake OpenClaw.
async fn spawn_server(db: &std::path::Path, world: &TestAppBuilder) -> (Child, u16) {
    let tenants: Vec<_> = (0..TENANTS)
        .map(|i| json!({"id": format!("t{i}"), "apiKey": format!("key-{i}"), "inboundUrl": world.oc().url(&format!("t{i}")), "inboundToken": "tok"}))
        .collect();
    let codes: Vec<_> = (0..TENANTS)
        .map(|i| json!({"code": format!("C{i}"), "channel": "telegram", "routeKey": format!("telegram:default:chat:{}", 100 + i), "scope": "chat"}))
        .collect();
    let vars = world
        .clone()
        .var("MUX_TENANTS_JSON", json!(tenants).to_string())
        .var("MUX_PAIRING_CODES_JSON", json!(codes).to_string())
        .var("RUST_LOG", "warn,mux_server::startup=info")
        .env();
    // Off the actix thread: reading the log blocks until the child listens.
    let db = db.to_owned();
    actix_web::rt::task::spawn_blocking(move || start_binary(&db, &vars))
        .await
        .expect("start mux-server")
}

async fn wait_healthy(port: u16) {
    let client = awc::Client::default();
    for _ in 0..500 {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/health"))
            .send()
            .await
            && r.status().is_success()
        {
            return;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("server did not come up");
}

#[actix_web::test]
async fn a_sigkill_during_a_burst_loses_no_update() {
    let world = TestApp::builder().telegram_polling().openclaw();
    let (tg, oc) = (world.tg(), world.oc());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mux.sqlite");
    let (mut server, port) = spawn_server(&db, &world).await;
    wait_healthy(port).await;
    let client = awc::Client::default();
    for i in 0..TENANTS {
        let resp = client
            .post(format!("http://127.0.0.1:{port}/v1/pairings/claim"))
            .insert_header(("Authorization", format!("Bearer key-{i}")))
            .send_json(&json!({"code": format!("C{i}")}))
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
    }
    let mut expected = Vec::new();
    let mut push = |n: usize| {
        for _ in 0..n {
            let k = expected.len();
            let chat = 100 + (k % TENANTS) as i64;
            let text = format!("msg-{k}");
            tg.push_text(chat, 7, &text);
            expected.push((format!("t{}", k % TENANTS), text));
        }
    };
    // Two tenants are down during the crash: their events must wait in the queue across it.
    oc.set_mode("t0", Mode::Status(503));
    oc.set_mode("t1", Mode::Status(503));
    push(400);
    let total_accepted = || {
        (0..TENANTS)
            .map(|i| oc.accepted(&format!("t{i}")).len())
            .sum::<usize>()
    };
    eventually("some traffic forwarded", || total_accepted() >= 40).await;
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    push(100);

    let (mut server, port) = spawn_server(&db, &world).await;
    wait_healthy(port).await;
    oc.set_mode("t0", Mode::Accept);
    oc.set_mode("t1", Mode::Accept);
    let all_arrived = || {
        expected.iter().all(|(tenant, text)| {
            oc.accepted(tenant)
                .iter()
                .any(|r| r.body["body"] == json!(text))
        })
    };
    eventually("every update delivered after the restart", all_arrived).await;
    server.kill().unwrap();
    server.wait().unwrap();

    let mut ids_by_text: HashMap<String, HashSet<String>> = HashMap::new();
    for i in 0..TENANTS {
        for r in oc.accepted(&format!("t{i}")) {
            let text = r.body["body"].as_str().unwrap().to_owned();
            ids_by_text
                .entry(text)
                .or_default()
                .insert(r.body["eventId"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(
        ids_by_text.len(),
        expected.len(),
        "nothing extra, nothing missing"
    );
    assert!(
        ids_by_text.values().all(|ids| ids.len() == 1),
        "duplicates share one eventId"
    );
}
