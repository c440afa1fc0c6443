//! SIGTERM to the real binary: exit 0, nothing acknowledged lost, the restart continues.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use awc::http::StatusCode;
use serde_json::json;

use super::{count, mux};
use crate::helpers::{KEY_A, spawn_in};

/// Starts the binary on port 0 and returns it with the port it logged.
fn start_binary(db: &Path) -> (Child, u16) {
    let vars = vec![
        ("MUX_HOST", "127.0.0.1".to_owned()),
        ("MUX_PORT", "0".to_owned()),
        ("MUX_DB_PATH", db.to_string_lossy().into_owned()),
        (
            "MUX_TENANTS_JSON",
            json!([{"id": "tenant-a", "apiKey": KEY_A}]).to_string(),
        ),
        ("RUST_LOG", "info".to_owned()),
    ];
    let mut child = mux(&["serve"], &vars)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
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

#[actix_web::test]
async fn sigterm_during_traffic_exits_0_and_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("mux.sqlite");
    let (child, port) = start_binary(&db);
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
    let pid = child.id().to_string();
    let in_flight: Vec<_> = (0..20)
        .map(|_| {
            let request = issue();
            actix_web::rt::spawn(async move {
                request.await.is_ok_and(|r| r.status() == StatusCode::OK)
            })
        })
        .collect();
    actix_web::rt::time::sleep(std::time::Duration::from_millis(2)).await;
    let term = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(term.success());
    for answered in futures_util::future::join_all(in_flight).await {
        if answered.expect("task") {
            acked += 1;
        }
    }
    let status = actix_web::rt::task::spawn_blocking(move || {
        let mut child = child;
        child.wait().expect("wait")
    })
    .await
    .expect("join");
    assert_eq!(status.code(), Some(0), "graceful stop exits 0");
    assert!(
        count(&db, "pairing_tokens") >= acked,
        "every acknowledged write is on disk"
    );

    // The restart continues on the same database.
    let app = spawn_in(
        dir,
        vec![(
            "MUX_TENANTS_JSON",
            json!([{"id": "tenant-a", "apiKey": KEY_A}]).to_string(),
        )],
    )
    .await;
    assert_eq!(app.get("/ready", None).await.status, StatusCode::OK);
    assert_eq!(
        app.issue_token(KEY_A, json!({"channel": "telegram"}))
            .await
            .status,
        StatusCode::OK
    );
    app.stop().await;
}
