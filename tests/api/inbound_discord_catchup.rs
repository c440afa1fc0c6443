//! REST catch-up beyond outages: bootstrap-latest on a restart, and pacing over many bindings.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::json;

use mux_server::testkit::discord::{GUILD, Say, gateway};

use crate::helpers::{KEY_A, TestApp, eventually};
use crate::inbound_discord::spawn_connected;

/// A channel bound by a seeded code: no message was ever seen there, so it has no cursor.
const CODED: u64 = 504;

/// Binds CODED by code, stops mux, says something there, restarts; what reached the tenant.
async fn restart_with_a_backlog(bootstrap_latest: &str) -> Vec<String> {
    let codes = json!([{"code": "DC504", "channel": "discord", "scope": "channel",
        "routeKey": format!("discord:default:guild:{GUILD}:channel:{CODED}")}])
    .to_string();
    let app = spawn_connected(&[
        ("MUX_PAIRING_CODES_JSON", &codes),
        ("MUX_DISCORD_BOOTSTRAP_LATEST", bootstrap_latest),
    ])
    .await;
    app.dc().add_channel(CODED, None);
    app.bind(KEY_A, "DC504", None).await;
    let world = app.world.clone();
    let dir = app.stop().await;
    world.dc().say(Say::guild(CODED, 7, "said while stopped"));
    let app = world.spawn_in(dir).await;
    app.wait_channel("discord", "connected").await;
    app.dc().say(Say::guild(CODED, 7, "new"));
    eventually("the live message", || {
        app.oc().bodies("tenant-a").contains(&"new".to_owned())
    })
    .await;
    actix_web::rt::time::sleep(Duration::from_millis(400)).await;
    let bodies = app.oc().bodies("tenant-a");
    app.stop().await;
    bodies
}

#[actix_web::test]
async fn bootstrap_latest_skips_the_backlog_of_a_binding_without_a_cursor_on_start() {
    assert_eq!(restart_with_a_backlog("true").await, vec!["new"]);
}

#[actix_web::test]
async fn without_bootstrap_latest_the_backlog_since_the_binding_is_read() {
    assert_eq!(
        restart_with_a_backlog("false").await,
        vec!["said while stopped", "new"]
    );
}

#[actix_web::test]
async fn catch_up_over_many_bindings_stays_well_below_discords_global_rate_limit() {
    let n = 60;
    let codes: Vec<_> = (0..n)
        .map(|i| {
            json!({"code": format!("C{i}"), "channel": "discord", "scope": "channel",
            "routeKey": format!("discord:default:guild:{GUILD}:channel:{}", 7000 + i)})
        })
        .collect();
    let app = spawn_connected(&[("MUX_PAIRING_CODES_JSON", &json!(codes).to_string())]).await;
    for i in 0..n {
        app.bind(KEY_A, &format!("C{i}"), None).await;
    }
    app.dc().set_accepting(false);
    gateway::close(&app.dc().gw, 4000);
    app.wait_channel("discord", "retrying").await;
    let from = Instant::now();
    let read = |app: &TestApp| {
        let rest = app.dc().rest.lock().unwrap();
        let calls = rest
            .list_calls
            .iter()
            .zip(&rest.list_times)
            .filter(|(_, t)| **t >= from);
        calls
            .filter_map(|(c, _)| c.split('?').next().map(str::to_owned))
            .collect::<HashSet<_>>()
            .len()
    };
    eventually("every bound channel read while down", || read(&app) >= n).await;
    let times: Vec<Instant> = app
        .dc()
        .rest
        .lock()
        .unwrap()
        .list_times
        .iter()
        .copied()
        .filter(|t| *t >= from)
        .collect();
    let busiest = times
        .iter()
        .map(|t| {
            times
                .iter()
                .filter(|u| **u >= *t && u.duration_since(*t) < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0);
    assert!(
        busiest <= 27,
        "{busiest} catch-up requests in one second (25/s budget)"
    );
    app.stop().await;
}
