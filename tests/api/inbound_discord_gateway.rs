//! Discord gateway outages: what is said while the gateway is down arrives through REST
//! catch-up — while down (every poll interval) or after the reconnect — exactly once, whether the
//! session resumes (and Discord replays the same messages) or has to identify anew.

use std::time::Duration;

use mux_server::testkit::discord::{Say, gateway};

use crate::helpers::eventually;
use crate::inbound_discord::{CHANNEL, pair_channel, spawn_connected};

async fn settle() {
    actix_web::rt::time::sleep(Duration::from_millis(400)).await;
}

#[actix_web::test]
async fn a_resumable_close_is_caught_up_while_down_and_the_replay_is_not_forwarded_twice() {
    resumable_outage(|gw| gateway::close(gw, 4000)).await;
}

#[actix_web::test]
async fn a_dropped_connection_is_caught_up_while_down_and_the_replay_is_not_forwarded_twice() {
    resumable_outage(gateway::drop_connection).await;
}

/// The gateway goes away (`cut`) and refuses connections for a while; the session stays
/// resumable, so on reconnect the fake replays what was said meanwhile.
async fn resumable_outage(cut: fn(&gateway::Shared)) {
    let app = spawn_connected(&[]).await;
    pair_channel(&app).await;
    app.dc().say(Say::guild(CHANNEL, 7, "before"));
    eventually("live message", || {
        app.oc().bodies("tenant-a") == vec!["before"]
    })
    .await;

    app.dc().set_accepting(false);
    cut(&app.dc().gw);
    app.wait_channel("discord", "retrying").await;
    app.dc().say(Say::guild(CHANNEL, 7, "during 1"));
    app.dc().say(Say::guild(CHANNEL, 7, "during 2"));
    eventually("caught up by REST while down", || {
        app.oc().bodies("tenant-a").len() == 3
    })
    .await;

    app.dc().set_accepting(true);
    eventually("session resumed (the missed dispatches replayed)", || {
        app.dc().resumes() == 1
    })
    .await;
    app.wait_channel("discord", "connected").await;
    app.dc().say(Say::guild(CHANNEL, 7, "after"));
    eventually("live again", || app.oc().bodies("tenant-a").len() >= 4).await;
    settle().await;
    assert_eq!(
        app.oc().bodies("tenant-a"),
        vec!["before", "during 1", "during 2", "after"]
    );
    assert_eq!(app.dc().identifies(), 1, "resumed, not identified again");
    let replayed = app.dc().gw.lock().unwrap().replayed;
    assert!(
        replayed >= 2,
        "the resume replayed what REST had delivered ({replayed})"
    );
    app.stop().await;
}

#[actix_web::test]
async fn an_invalidated_session_identifies_again_and_the_pass_after_ready_delivers_the_gap_once() {
    // A poll interval far beyond the test: only the pass after READY can deliver the gap.
    let app = spawn_connected(&[("MUX_DISCORD_POLL_INTERVAL_MS", "600000")]).await;
    pair_channel(&app).await;
    app.dc().set_accepting(false);
    gateway::invalidate_session(&app.dc().gw);
    app.wait_channel("discord", "retrying").await;
    app.dc().say(Say::guild(CHANNEL, 7, "gap 1"));
    app.dc().say(Say::guild(CHANNEL, 7, "gap 2"));
    settle().await;
    assert!(
        app.oc().bodies("tenant-a").is_empty(),
        "nothing replays an invalidated session"
    );

    app.dc().set_accepting(true);
    eventually("identified again", || app.dc().identifies() == 2).await;
    eventually("the gap, after READY", || {
        app.oc().bodies("tenant-a").len() == 2
    })
    .await;
    app.dc().say(Say::guild(CHANNEL, 7, "after"));
    eventually("live again", || app.oc().bodies("tenant-a").len() >= 3).await;
    settle().await;
    assert_eq!(app.oc().bodies("tenant-a"), vec!["gap 1", "gap 2", "after"]);
    assert_eq!(app.dc().resumes(), 0);
    app.stop().await;
}

#[actix_web::test]
async fn a_fatal_close_leaves_rest_polling_delivering() {
    let app = spawn_connected(&[]).await;
    pair_channel(&app).await;
    gateway::close(&app.dc().gw, 4004);
    app.wait_channel("discord", "retrying").await;
    app.dc().say(Say::guild(CHANNEL, 7, "still heard"));
    eventually("polled in", || {
        app.oc().bodies("tenant-a") == vec!["still heard"]
    })
    .await;
    settle().await;
    assert_eq!(app.dc().identifies(), 1, "4004 is not retried");
    app.stop().await;
}

#[actix_web::test]
async fn what_was_said_while_mux_was_stopped_arrives_after_the_restart() {
    let app = spawn_connected(&[]).await;
    pair_channel(&app).await;
    app.dc().say(Say::guild(CHANNEL, 7, "first"));
    eventually("live", || app.oc().bodies("tenant-a") == vec!["first"]).await;
    let world = app.world.clone();
    let dir = app.stop().await;
    world.dc().say(Say::guild(CHANNEL, 7, "while stopped"));
    let app = world.spawn_in(dir).await;
    eventually("caught up at start", || {
        app.oc().bodies("tenant-a").len() >= 2
    })
    .await;
    settle().await;
    assert_eq!(app.oc().bodies("tenant-a"), vec!["first", "while stopped"]);
    let calls = app.dc().rest.lock().unwrap().list_calls.clone();
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with(&format!("{CHANNEL}?after="))),
        "{calls:?}"
    );
    app.stop().await;
}
