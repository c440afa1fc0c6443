//! Discord gateway outages: what is said while the gateway is down arrives through REST
//! catch-up — while down (every poll interval) or after the reconnect — exactly once, whether the
//! session resumes (and Discord replays the same messages) or has to identify anew.

use std::time::Duration;

use mux_server::testkit::discord::{Say, gateway};

use crate::helpers::eventually;
use crate::inbound_discord::{CHANNEL, pair_channel, rig};

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
    let rig = rig(&[]).await;
    pair_channel(&rig).await;
    rig.dc().say(Say::guild(CHANNEL, 7, "before"));
    eventually("live message", || {
        rig.oc().bodies("tenant-a") == vec!["before"]
    })
    .await;

    rig.dc().set_accepting(false);
    cut(&rig.dc().gw);
    rig.wait_channel("discord", "retrying").await;
    rig.dc().say(Say::guild(CHANNEL, 7, "during 1"));
    rig.dc().say(Say::guild(CHANNEL, 7, "during 2"));
    eventually("caught up by REST while down", || {
        rig.oc().bodies("tenant-a").len() == 3
    })
    .await;

    rig.dc().set_accepting(true);
    eventually("session resumed (the missed dispatches replayed)", || {
        rig.dc().resumes() == 1
    })
    .await;
    rig.wait_channel("discord", "connected").await;
    rig.dc().say(Say::guild(CHANNEL, 7, "after"));
    eventually("live again", || rig.oc().bodies("tenant-a").len() >= 4).await;
    settle().await;
    assert_eq!(
        rig.oc().bodies("tenant-a"),
        vec!["before", "during 1", "during 2", "after"]
    );
    assert_eq!(rig.dc().identifies(), 1, "resumed, not identified again");
    let replayed = rig.dc().gw.lock().unwrap().replayed;
    assert!(
        replayed >= 2,
        "the resume replayed what REST had delivered ({replayed})"
    );
    rig.stop().await;
}

#[actix_web::test]
async fn an_invalidated_session_identifies_again_and_the_pass_after_ready_delivers_the_gap_once() {
    // A poll interval far beyond the test: only the pass after READY can deliver the gap.
    let rig = rig(&[("MUX_DISCORD_POLL_INTERVAL_MS", "600000")]).await;
    pair_channel(&rig).await;
    rig.dc().set_accepting(false);
    gateway::invalidate_session(&rig.dc().gw);
    rig.wait_channel("discord", "retrying").await;
    rig.dc().say(Say::guild(CHANNEL, 7, "gap 1"));
    rig.dc().say(Say::guild(CHANNEL, 7, "gap 2"));
    settle().await;
    assert!(
        rig.oc().bodies("tenant-a").is_empty(),
        "nothing replays an invalidated session"
    );

    rig.dc().set_accepting(true);
    eventually("identified again", || rig.dc().identifies() == 2).await;
    eventually("the gap, after READY", || {
        rig.oc().bodies("tenant-a").len() == 2
    })
    .await;
    rig.dc().say(Say::guild(CHANNEL, 7, "after"));
    eventually("live again", || rig.oc().bodies("tenant-a").len() >= 3).await;
    settle().await;
    assert_eq!(rig.oc().bodies("tenant-a"), vec!["gap 1", "gap 2", "after"]);
    assert_eq!(rig.dc().resumes(), 0);
    rig.stop().await;
}

#[actix_web::test]
async fn a_fatal_close_leaves_rest_polling_delivering() {
    let rig = rig(&[]).await;
    pair_channel(&rig).await;
    gateway::close(&rig.dc().gw, 4004);
    rig.wait_channel("discord", "retrying").await;
    rig.dc().say(Say::guild(CHANNEL, 7, "still heard"));
    eventually("polled in", || {
        rig.oc().bodies("tenant-a") == vec!["still heard"]
    })
    .await;
    settle().await;
    assert_eq!(rig.dc().identifies(), 1, "4004 is not retried");
    rig.stop().await;
}

#[actix_web::test]
async fn what_was_said_while_mux_was_stopped_arrives_after_the_restart() {
    let rig = rig(&[]).await;
    pair_channel(&rig).await;
    rig.dc().say(Say::guild(CHANNEL, 7, "first"));
    eventually("live", || rig.oc().bodies("tenant-a") == vec!["first"]).await;
    let world = rig.world.clone();
    let dir = rig.stop().await;
    world.dc().say(Say::guild(CHANNEL, 7, "while stopped"));
    let rig = world.spawn_in(dir).await;
    eventually("caught up at start", || {
        rig.oc().bodies("tenant-a").len() >= 2
    })
    .await;
    settle().await;
    assert_eq!(rig.oc().bodies("tenant-a"), vec!["first", "while stopped"]);
    let calls = rig.dc().rest.lock().unwrap().list_calls.clone();
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with(&format!("{CHANNEL}?after="))),
        "{calls:?}"
    );
    rig.stop().await;
}
