//! SIGTERM while a Telegram long poll or the Discord gateway is open: the real binary abandons
//! the poll (nothing in it was acknowledged) or closes the gateway, and exits at once instead of
//! waiting the poll out, so a restart is no outage. The fake Telegram grants the full long-poll
//! wait here and counts polls the client closed before they were answered.

use std::time::{Duration, Instant};

use awc::http::StatusCode;
use serde_json::json;

use super::shutdown::terminate;
use crate::helpers::{KEY_A, TestApp, TestAppBuilder, eventually, start_binary};

/// Telegram long polling into a fake that holds each poll as long as asked (up to 120 s), and
/// no bootstrap: the service's first call after start is a long poll.
fn polling(poll_timeout_sec: Option<&str>) -> TestAppBuilder {
    let mut world = TestApp::builder()
        .openclaw_tenants(&[("tenant-a", KEY_A)], 300)
        .telegram_polling()
        .without(|k| k == "MUX_TELEGRAM_POLL_TIMEOUT_SEC");
    if let Some(secs) = poll_timeout_sec {
        world = world.var("MUX_TELEGRAM_POLL_TIMEOUT_SEC", secs);
    }
    world.tg().set_max_poll_wait(Duration::from_secs(120));
    world
}

/// Starts the binary and waits until `/ready` reads `channel` connected. Answers the child, its
/// port, and the time from start to ready.
async fn start_connected(
    world: &TestAppBuilder,
    db: &std::path::Path,
    channel: &str,
) -> (std::process::Child, u16, Duration) {
    let started = Instant::now();
    let (db, vars) = (db.to_owned(), world.env());
    let (child, port) = actix_web::rt::task::spawn_blocking(move || start_binary(&db, &vars))
        .await
        .expect("start");
    let client = awc::Client::default();
    let ready = format!("http://127.0.0.1:{port}/ready");
    loop {
        let mut resp = client.get(&ready).send().await.expect("ready answers");
        let body: serde_json::Value = resp.json().await.expect("json");
        if resp.status() == StatusCode::OK && body["channels"][channel] == json!("connected") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never ready: {body}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    (child, port, started.elapsed())
}

/// [`start_connected`] for Telegram, then waits until a long poll is open.
async fn start_polling(
    world: &TestAppBuilder,
    db: &std::path::Path,
) -> (std::process::Child, u16, Duration) {
    let started = start_connected(world, db, "telegram").await;
    let tg = world.tg();
    eventually("a long poll is open", || tg.polls().0 == 1).await;
    started
}

#[actix_web::test]
async fn sigterm_abandons_an_open_60_s_long_poll_and_exits_long_before_it_would_end() {
    let world = polling(Some("60"));
    let tg = world.tg().clone();
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("mux.sqlite");
    let (child, _, first_start) = start_polling(&world, &db).await;
    let poll_open_since = Instant::now();

    let status = terminate(child).await;
    let sigterm_to_exit = poll_open_since.elapsed();
    assert_eq!(status.code(), Some(0), "graceful stop exits 0");
    eventually("the fake sees the poll connection closed", || {
        tg.polls().2 == 1
    })
    .await;
    let (open, answered, abandoned) = tg.polls();
    assert_eq!(
        (open, answered, abandoned),
        (0, 0, 1),
        "the poll was abandoned, never answered: the exit did not wait for it"
    );
    assert!(
        sigterm_to_exit < Duration::from_secs(30),
        "exited well within the poll's 60 s: {sigterm_to_exit:?}"
    );

    // The restart is ready at once and polls from where it was.
    let (child, _, restart_to_ready) = start_polling(&world, &db).await;
    let again = Instant::now();
    assert_eq!(terminate(child).await.code(), Some(0));
    let second_exit = again.elapsed();
    eprintln!(
        "measured: first_start_to_ready_ms={} sigterm_to_exit_ms={} restart_to_ready_ms={} second_sigterm_to_exit_ms={}",
        first_start.as_millis(),
        sigterm_to_exit.as_millis(),
        restart_to_ready.as_millis(),
        second_exit.as_millis()
    );
}

#[actix_web::test]
async fn with_the_default_25_s_poll_timeout_the_exit_does_not_wait_for_the_poll() {
    let world = polling(None);
    let tg = world.tg().clone();
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("mux.sqlite");
    let (child, _, _) = start_polling(&world, &db).await;
    let sigterm = Instant::now();
    let status = terminate(child).await;
    let sigterm_to_exit = sigterm.elapsed();
    assert_eq!(status.code(), Some(0));
    eventually("the fake sees the poll connection closed", || {
        tg.polls().2 == 1
    })
    .await;
    assert_eq!(
        tg.polls().1,
        0,
        "no poll was answered: the process exited without waiting the 25 s poll out"
    );
    eprintln!(
        "measured: default_poll sigterm_to_exit_ms={}",
        sigterm_to_exit.as_millis()
    );
}

#[actix_web::test]
async fn sigterm_with_the_discord_gateway_open_closes_it_and_exits_at_once() {
    let world = TestApp::builder()
        .openclaw_tenants(&[("tenant-a", KEY_A)], 300)
        .discord_gateway();
    let dc = world.dc().clone();
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("mux.sqlite");
    let (child, _, start_to_ready) = start_connected(&world, &db, "discord").await;
    eventually("the gateway connection is open", || dc.gateway_open()).await;
    let sigterm = Instant::now();
    let status = terminate(child).await;
    let sigterm_to_exit = sigterm.elapsed();
    assert_eq!(status.code(), Some(0));
    eventually("the gateway connection is closed", || !dc.gateway_open()).await;
    assert!(
        sigterm_to_exit < Duration::from_secs(30),
        "exited at once: {sigterm_to_exit:?}"
    );
    eprintln!(
        "measured: discord start_to_ready_ms={} sigterm_to_exit_ms={}",
        start_to_ready.as_millis(),
        sigterm_to_exit.as_millis()
    );
}
