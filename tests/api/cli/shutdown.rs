//! SIGTERM to the real binary: exit 0, nothing acknowledged lost, the restart continues.

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};

use awc::http::StatusCode;
use serde_json::json;

use mux_server::testkit::openclaw::Mode;

use super::mux;
use crate::helpers::count;
use crate::helpers::{KEY_A, TestApp, TestAppBuilder, eventually, spawn_in, start_binary};

fn tenant_a() -> Vec<(&'static str, String)> {
    vec![(
        "MUX_TENANTS_JSON",
        json!([{"id": "tenant-a", "apiKey": KEY_A}]).to_string(),
    )]
}

/// Sends SIGTERM and waits (off the actix thread) for the exit status.
pub async fn terminate(child: Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    let term = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(term.success());
    actix_web::rt::task::spawn_blocking(move || {
        let mut child = child;
        child.wait().expect("wait")
    })
    .await
    .expect("join")
}

#[actix_web::test]
async fn sigterm_during_traffic_exits_0_and_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("mux.sqlite");
    let (child, port) = start_binary(&db, &tenant_a());
    let client = awc::Client::default();
    let url = format!("http://127.0.0.1:{port}/v1/pairings/token");
    let issue = || {
        client
            .post(&url)
            .insert_header(("Authorization", format!("Bearer {KEY_A}")))
            .send_body(json!({"channel": "telegram"}).to_string())
    };
    let mut acked = 0i64;
    for _ in 0..30 {
        assert_eq!(issue().await.expect("served").status(), StatusCode::OK);
        acked += 1;
    }
    // SIGTERM while requests are in flight.
    let in_flight: Vec<_> = (0..20)
        .map(|_| {
            let request = issue();
            actix_web::rt::spawn(async move {
                request.await.is_ok_and(|r| r.status() == StatusCode::OK)
            })
        })
        .collect();
    actix_web::rt::time::sleep(std::time::Duration::from_millis(2)).await;
    let status = terminate(child).await;
    for answered in futures_util::future::join_all(in_flight).await {
        if answered.expect("task") {
            acked += 1;
        }
    }
    assert_eq!(status.code(), Some(0), "graceful stop exits 0");
    assert!(
        count(&db, "pairing_tokens") >= acked,
        "every acknowledged write is on disk"
    );

    // The restart continues on the same database.
    let app = spawn_in(dir, tenant_a()).await;
    assert_eq!(app.ready().await.status, StatusCode::OK);
    assert_eq!(
        app.issue_token(KEY_A, json!({"channel": "telegram"}))
            .await
            .status,
        StatusCode::OK
    );
    app.stop().await;
}

/// The service with Telegram long polling into a fake, tenant-a's chat 1 paired, and
/// tenant-a's OpenClaw answering 503 so every event stays queued.
fn inbound_world() -> TestAppBuilder {
    let code = json!([{"code": "A1", "channel": "telegram", "routeKey": "telegram:default:chat:1", "scope": "chat"}]);
    TestApp::builder()
        .openclaw_tenants(&[("tenant-a", KEY_A)], 300)
        .var("MUX_PAIRING_CODES_JSON", code.to_string())
        .telegram_polling()
}

#[actix_web::test]
async fn sigterm_during_inbound_traffic_exits_0_and_every_acknowledged_update_is_delivered_after_restart()
 {
    let world = inbound_world();
    let (tg, oc) = (world.tg(), world.oc());
    oc.set_mode("tenant-a", Mode::Status(503));
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("mux.sqlite");
    let vars = world.env();
    let (child, port) = {
        let (db, vars) = (db.clone(), vars.clone());
        actix_web::rt::task::spawn_blocking(move || start_binary(&db, &vars))
            .await
            .expect("start")
    };
    let claimed = awc::Client::default()
        .post(format!("http://127.0.0.1:{port}/v1/pairings/claim"))
        .insert_header(("Authorization", format!("Bearer {KEY_A}")))
        .send_body(json!({"code": "A1", "sessionKey": "s-a"}).to_string())
        .await
        .expect("claim");
    assert_eq!(claimed.status(), StatusCode::OK);

    const UPDATES: usize = 200;
    let ids: Vec<i64> = (0..UPDATES)
        .map(|i| tg.push_text(1, 100, &format!("m{i}")))
        .collect();
    eventually("the service starts taking updates", || {
        tg.pending_updates() < UPDATES
    })
    .await;
    let status = terminate(child).await;
    assert_eq!(status.code(), Some(0), "graceful stop exits 0");

    // Acknowledged = confirmed by offset, so Telegram would never hand them out again.
    let pending: Vec<i64> = tg.pending_update_ids();
    let acked: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| !pending.contains(id))
        .collect();
    assert!(!acked.is_empty());
    let stored = count(&db, "inbound_events WHERE tenant_id = 'tenant-a'");
    assert!(
        stored >= acked.len() as i64,
        "{stored} stored < {} acknowledged",
        acked.len()
    );

    // The restart takes the rest from Telegram and delivers everything once OpenClaw is back.
    oc.set_mode("tenant-a", Mode::Accept);
    let app = world.spawn_in(dir).await;
    eventually("all updates are delivered", || {
        let got: BTreeSet<String> = oc
            .accepted("tenant-a")
            .iter()
            .filter_map(|r| r.body["eventId"].as_str().map(str::to_owned))
            .collect();
        ids.iter().all(|id| got.contains(&format!("tg:{id}")))
    })
    .await;
    app.stop().await;
}

#[actix_web::test]
async fn with_a_log_path_the_service_writes_json_lines_with_event_fields_there() {
    let dir = tempfile::tempdir().expect("dir");
    let log = dir.path().join("logs/mux.log");
    let vars = vec![
        ("MUX_HOST", "127.0.0.1".to_owned()),
        ("MUX_PORT", "0".to_owned()),
        (
            "MUX_DB_PATH",
            dir.path().join("mux.sqlite").to_string_lossy().into_owned(),
        ),
        ("MUX_LOG_PATH", log.to_string_lossy().into_owned()),
        ("MUX_ADMIN_TOKEN", "adm-secret-in-env".to_owned()),
        ("RUST_LOG", "info".to_owned()),
    ];
    let child = mux(&["serve"], &vars)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let lines = || -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        // Only finished lines: the service may be writing the next one.
        text.split_inclusive('\n')
            .filter(|l| l.ends_with('\n'))
            .map(|l| serde_json::from_str(l).expect("every line is JSON"))
            .collect()
    };
    eventually("the listening line", || {
        lines().iter().any(|l| l["event"] == "listening")
    })
    .await;
    assert_eq!(terminate(child).await.code(), Some(0));
    let lines = lines();
    let listening = lines
        .iter()
        .find(|l| l["event"] == "listening")
        .expect("listening");
    assert!(
        listening["port"]
            .as_str()
            .is_some_and(|p| p.parse::<u16>().is_ok())
    );
    assert!(
        ["ts", "level", "target", "msg"]
            .iter()
            .all(|k| listening.get(*k).is_some())
    );
    assert!(
        lines.iter().any(|l| l["event"] == "stopped"),
        "the stop is logged"
    );
    let all = std::fs::read_to_string(&log).expect("log");
    assert!(!all.contains("adm-secret-in-env"), "no secrets in the log");
}
