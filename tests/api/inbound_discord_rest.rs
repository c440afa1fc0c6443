//! Discord inbound without a gateway (issue 10 §2): while the gateway cannot be reached, every
//! bound channel and DM is polled over REST; a DM binding's channel is opened with
//! `POST /users/@me/channels`; DM pairing works over REST alone; and across the switch-overs
//! between polling and the gateway no message is lost or forwarded twice.

use std::time::Duration;

use serde_json::json;

use mux_server::testkit::discord::{GUILD, Say, dm_channel_of, gateway};

use crate::helpers::{KEY_A, KEY_B, TestApp, eventually};
use crate::inbound_discord::{CHANNEL, SUCCESS};

const USER: u64 = 42;

/// The service with the fake gateway refusing every connection (as a blocked egress or a
/// gateway incident would), two tenants, and CHANNEL and USER's DM bindable by code.
async fn spawn_without_gateway() -> TestApp {
    let codes = json!([
        {"code": "DC-CH", "channel": "discord", "scope": "channel",
         "routeKey": format!("discord:default:guild:{GUILD}:channel:{CHANNEL}")},
        {"code": "DC-DM", "channel": "discord", "scope": "dm",
         "routeKey": format!("discord:default:dm:user:{USER}")},
    ]);
    let world = TestApp::builder()
        .openclaw_tenants(&[("tenant-a", KEY_A), ("tenant-b", KEY_B)], 300)
        .discord_gateway()
        .var("MUX_PAIRING_CODES_JSON", codes.to_string());
    world.dc().add_channel(CHANNEL, None);
    world.dc().set_accepting(false);
    world.spawn().await
}

async fn settle() {
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
}

#[actix_web::test]
async fn with_the_gateway_unreachable_dms_and_channel_messages_still_arrive_once() {
    let app = spawn_without_gateway().await;
    app.bind(KEY_A, "DC-CH", None).await;
    app.bind(KEY_A, "DC-DM", None).await;
    app.dc().say(Say::guild(CHANNEL, 7, "in the channel"));
    app.dc().say(Say::dm(USER, "in the dm"));
    eventually("both polled in", || app.oc().bodies("tenant-a").len() == 2).await;
    app.dc().say(Say::dm(USER, "second dm"));
    eventually("the next poll", || app.oc().bodies("tenant-a").len() == 3).await;
    settle().await;

    let mut bodies = app.oc().bodies("tenant-a");
    bodies.sort();
    assert_eq!(bodies, vec!["in the channel", "in the dm", "second dm"]);
    assert_eq!(app.dc().identifies(), 0, "the gateway never came up");
    assert_eq!(app.channel_state("discord").await, "retrying");
    let opened = app.dc().recorder.calls("/users/@me/channels");
    assert_eq!(opened.len(), 1, "the DM channel is opened once, then known");
    assert_eq!(opened[0].body, json!({"recipient_id": USER.to_string()}));
    let dm = app
        .oc()
        .accepted("tenant-a")
        .into_iter()
        .find(|d| d.body["body"] == "in the dm")
        .unwrap();
    assert_eq!(dm.body["chatType"], "direct");
    assert_eq!(
        dm.body["to"],
        format!("channel:{}", dm_channel_of(USER)),
        "the DM read over REST looks as it does from the gateway"
    );
    assert_eq!(
        dm.body["channelData"]["routeKey"],
        "discord:default:dm:user:42"
    );
    app.stop().await;
}

#[actix_web::test]
async fn the_opened_dm_channel_is_stored_and_not_opened_again_after_a_restart() {
    let app = spawn_without_gateway().await;
    app.bind(KEY_A, "DC-DM", None).await;
    app.dc().say(Say::dm(USER, "before"));
    eventually("polled in", || app.oc().bodies("tenant-a").len() == 1).await;
    let world = app.world.clone();
    let dir = app.stop().await;
    world.dc().say(Say::dm(USER, "while stopped"));
    let app = world.spawn_in(dir).await;
    eventually("caught up", || app.oc().bodies("tenant-a").len() == 2).await;
    settle().await;
    assert_eq!(app.oc().bodies("tenant-a"), vec!["before", "while stopped"]);
    assert_eq!(app.dc().recorder.calls("/users/@me/channels").len(), 1);
    app.stop().await;
}

#[actix_web::test]
async fn a_dm_pairing_token_is_redeemed_over_rest_alone() {
    let app = spawn_without_gateway().await;
    let route = format!("discord:default:dm:user:{USER}");
    let token = app
        .token(
            KEY_B,
            json!({"channel": "discord", "routeKey": route, "sessionKey": "b:dm"}),
        )
        .await;
    app.dc().say(Say::dm(USER, &format!("here it is {token}")));
    let dm = dm_channel_of(USER);
    eventually("the success notice in the DM", || {
        app.dc().texts_to(dm) == vec![SUCCESS.to_owned()]
    })
    .await;
    let items = app.list_bindings(KEY_B).await;
    assert_eq!(items.len(), 1);
    assert_eq!(
        (&items[0]["routeKey"], &items[0]["scope"]),
        (&json!(route), &json!("dm"))
    );

    app.dc().say(Say::dm(USER, "now paired"));
    eventually("forwarded", || !app.oc().bodies("tenant-b").is_empty()).await;
    settle().await;
    assert_eq!(
        app.oc().bodies("tenant-b"),
        vec!["now paired"],
        "neither the token nor the notice is forwarded"
    );
    assert_eq!(app.oc().accepted("tenant-b")[0].body["sessionKey"], "b:dm");
    assert_eq!(app.dc().identifies(), 0);
    app.stop().await;
}

/// How many message listings the fake has answered so far.
fn listings(app: &TestApp) -> usize {
    app.dc().list_calls().len()
}

#[actix_web::test]
async fn gateway_loss_and_recovery_lose_nothing_and_forward_nothing_twice() {
    let app = spawn_without_gateway().await;
    app.bind(KEY_A, "DC-CH", None).await;
    app.bind(KEY_A, "DC-DM", None).await;
    let said = |app: &TestApp, n: usize| {
        let (ch, dm) = (format!("ch {n}"), format!("dm {n}"));
        app.dc().say(Say::guild(CHANNEL, 7, &ch));
        app.dc().say(Say::dm(USER, &dm));
    };
    let arrived = |app: &TestApp, n: usize| app.oc().bodies("tenant-a").len() == 2 * n;

    // 1: never connected, polled.
    said(&app, 1);
    eventually("polled while never connected", || arrived(&app, 1)).await;

    // 2: the gateway comes up; after its catch-up pass polling stops and messages come live.
    app.dc().set_accepting(true);
    app.wait_channel("discord", "connected").await;
    settle().await;
    let polled = listings(&app);
    said(&app, 2);
    eventually("live", || arrived(&app, 2)).await;
    settle().await;
    assert_eq!(listings(&app), polled, "no polling while the gateway is up");

    // 3: the session is lost and the gateway refuses: polled again (nothing is replayed later).
    app.dc().set_accepting(false);
    gateway::invalidate_session(&app.dc().gw);
    app.wait_channel("discord", "retrying").await;
    said(&app, 3);
    eventually("polled while down", || arrived(&app, 3)).await;

    // 4: back up, a new session: the pass after READY finds nothing new; live again.
    app.dc().set_accepting(true);
    eventually("identified again", || app.dc().identifies() == 2).await;
    app.wait_channel("discord", "connected").await;
    said(&app, 4);
    eventually("live again", || arrived(&app, 4)).await;
    settle().await;

    let bodies = app.oc().bodies("tenant-a");
    let mut sorted = bodies.clone();
    sorted.sort();
    let mut expected: Vec<String> = (1..=4)
        .flat_map(|n| [format!("ch {n}"), format!("dm {n}")])
        .collect();
    expected.sort();
    assert_eq!(sorted, expected, "each message once: {bodies:?}");
    for kind in ["ch", "dm"] {
        let order: Vec<&String> = bodies.iter().filter(|b| b.starts_with(kind)).collect();
        let want: Vec<String> = (1..=4).map(|n| format!("{kind} {n}")).collect();
        assert_eq!(order, want.iter().collect::<Vec<_>>(), "in order per chat");
    }
    app.stop().await;
}
