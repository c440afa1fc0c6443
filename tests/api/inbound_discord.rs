//! Discord inbound end to end: fake Discord (gateway + REST) → mux → fake OpenClaw. Pairing in a
//! DM and in a guild channel, the notices, envelopes field by field, threads, edits, bots, media.
//! Gateway outages and REST catch-up are in `inbound_discord_gateway`.

use serde_json::json;

use mux_server::testkit::discord::{GUILD, Say, dm_channel_of};

use crate::helpers::{KEY_A, KEY_B, TestApp, eventually};

pub const SUCCESS: &str = "Paired successfully. You can chat now.";
const INVALID: &str = "Pairing link is invalid or expired. Request a new link from your dashboard.";
const HINT: &str = "This chat is not paired yet. Open your dashboard and use a new pairing link.";
/// A bound text channel, a thread in it, and two unbound channels.
pub const CHANNEL: u64 = 501;
const THREAD: u64 = 5011;
const OTHER: u64 = 502;
const UNBOUND: u64 = 503;

/// The service against fresh fakes (Discord gateway and REST, two tenants at the fake OpenClaw),
/// with the gateway session established; `extra` overrides variables.
pub async fn spawn_connected(extra: &[(&'static str, &str)]) -> TestApp {
    let world = TestApp::builder()
        .openclaw_tenants(&[("tenant-a", KEY_A), ("tenant-b", KEY_B)], 300)
        .discord_gateway()
        .vars(extra.iter().copied());
    for (channel, parent) in [
        (CHANNEL, None),
        (THREAD, Some(CHANNEL)),
        (OTHER, None),
        (UNBOUND, None),
    ] {
        world.dc().add_channel(channel, parent);
    }
    let app = world.spawn().await;
    app.wait_channel("discord", "connected").await;
    app
}

/// Pairs the guild channel for tenant A by posting a token there.
pub async fn pair_channel(app: &TestApp) {
    let token = app.token(KEY_A, json!({"channel": "discord"})).await;
    app.dc()
        .say(Say::guild(CHANNEL, 7, &format!("pair {token}")));
    eventually("paired", || {
        app.dc().texts_to(CHANNEL) == vec![SUCCESS.to_owned()]
    })
    .await;
}

#[actix_web::test]
async fn a_token_in_a_dm_activates_the_pending_dm_binding_and_the_next_message_is_forwarded_in_full()
 {
    let app = spawn_connected(&[]).await;
    let token = app.token(KEY_A, json!({"channel": "discord", "routeKey": "discord:default:dm:user:42", "sessionKey": "agent:a:dm"})).await;
    app.dc().say(Say::dm(42, &format!("my code: {token}")));
    let dm = dm_channel_of(42);
    eventually("success notice in the DM", || {
        app.dc().texts_to(dm) == vec![SUCCESS.to_owned()]
    })
    .await;
    let items = app.list_bindings(KEY_A).await;
    assert_eq!(items.len(), 1);
    assert_eq!(
        (&items[0]["routeKey"], &items[0]["scope"]),
        (&json!("discord:default:dm:user:42"), &json!("dm"))
    );
    assert_eq!(items[0]["sessionKey"], "agent:a:dm");

    let sent = app.dc().say(Say::dm(42, " hello there "));
    eventually("forwarded", || app.oc().accepted("tenant-a").len() == 1).await;
    let got = &app.oc().accepted("tenant-a")[0];
    let id = sent["id"].as_str().unwrap();
    let snowflake: i64 = id.parse().unwrap();
    let env = &got.body;
    let expected = json!({
        "eventId": format!("dc:{id}"), "channel": "discord", "sessionKey": "agent:a:dm", "body": " hello there ",
        "from": "discord:42", "to": format!("channel:{dm}"), "accountId": "default", "chatType": "direct",
        "messageId": id, "timestampMs": (snowflake >> 22) + 1_420_070_400_000, "event": {"kind": "message"},
        "channelData": {"accountId": "default", "messageId": id, "channelId": dm.to_string(), "guildId": null,
            "routeKey": "discord:default:dm:user:42", "discord": {"media": [], "rawMessage": sent}},
    });
    assert_eq!(env, &expected, "the envelope, field by field");
    assert_eq!(got.headers["authorization"], "Bearer tok-tenant-a");
    assert_eq!(got.headers["webhook-id"], format!("dc:{id}"));
    assert_eq!(
        app.oc().bodies("tenant-a"),
        vec![" hello there "],
        "neither the token nor the bot's notice was forwarded"
    );
    app.stop().await;
}

#[actix_web::test]
async fn guild_channels_pair_by_token_answer_invalid_tokens_and_commands_and_route_their_threads() {
    let app = spawn_connected(&[]).await;
    let token = app.token(KEY_B, json!({"channel": "discord"})).await;
    app.dc().say(Say::guild(CHANNEL, 7, &token));
    app.dc().say(Say::guild(
        OTHER,
        8,
        "try mpt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ));
    app.dc().say(Say::guild(UNBOUND, 9, "/help"));
    app.dc().say(Say::guild(UNBOUND, 9, "just chatting"));
    eventually("three notices", || {
        app.dc().texts_to(CHANNEL).len()
            + app.dc().texts_to(OTHER).len()
            + app.dc().texts_to(UNBOUND).len()
            == 3
    })
    .await;
    assert_eq!(app.dc().texts_to(CHANNEL), vec![SUCCESS]);
    assert_eq!(app.dc().texts_to(OTHER), vec![INVALID]);
    assert_eq!(
        app.dc().texts_to(UNBOUND),
        vec![HINT],
        "a command gets the hint, plain talk nothing"
    );
    let items = app.list_bindings(KEY_B).await;
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0]["routeKey"],
        "discord:default:guild:500:channel:501"
    );
    assert_eq!(items[0]["scope"], "channel");

    app.dc()
        .say(Say::guild(CHANNEL, 7, &format!("again {token}")));
    let sent = app.dc().say(Say::guild(THREAD, 7, "in the thread"));
    eventually("thread message forwarded", || {
        app.oc().accepted("tenant-b").len() == 1
    })
    .await;
    let env = &app.oc().accepted("tenant-b")[0].body;
    let id = sent["id"].as_str().unwrap();
    assert_eq!(env["eventId"], format!("dc:{id}"));
    assert_eq!(
        env["sessionKey"], "dc:guild:500:channel:501",
        "the parent binding's session"
    );
    assert_eq!(
        (&env["from"], &env["to"]),
        (&json!("discord:7"), &json!(format!("channel:{THREAD}")))
    );
    assert_eq!(
        (&env["chatType"], &env["threadId"]),
        (&json!("group"), &json!(THREAD.to_string()))
    );
    let cd = &env["channelData"];
    assert_eq!(
        (&cd["channelId"], &cd["guildId"]),
        (&json!(THREAD.to_string()), &json!(GUILD.to_string()))
    );
    assert_eq!(cd["routeKey"], "discord:default:guild:500:channel:501");
    assert_eq!(cd["discord"]["rawMessage"], sent);

    let edited = app
        .dc()
        .edit(THREAD, id, "in the thread (edited)", Some(GUILD))
        .expect("the message to edit");
    eventually("edit forwarded", || {
        app.oc().accepted("tenant-b").len() == 2
    })
    .await;
    let env = &app.oc().accepted("tenant-b")[1].body;
    assert_eq!(
        env["eventId"],
        format!("dc:{id}:edit:2026-01-01T00:05:00.000000+00:00")
    );
    assert_eq!(
        (&env["messageId"], &env["threadId"]),
        (&json!(id), &json!(THREAD.to_string()))
    );
    assert_eq!(env["channelData"]["discord"]["rawMessage"], edited);
    assert_eq!(env["event"], json!({"kind": "edit"}));
    assert_eq!(
        app.oc().bodies("tenant-b"),
        vec!["in the thread", "in the thread (edited)"]
    );
    assert_eq!(
        app.dc().texts_to(CHANNEL),
        vec![SUCCESS],
        "a token in a bound channel is ignored"
    );
    app.stop().await;
}

#[actix_web::test]
async fn bots_and_webhooks_are_never_forwarded_or_answered() {
    // Without MUX_DISCORD_GATEWAY_URL the gateway comes from `GET /gateway/bot`: the app only gets
    // "connected" if that was asked (twilight's default host is unreachable here).
    let app = spawn_connected(&[("MUX_DISCORD_GATEWAY_URL", "")]).await;
    pair_channel(&app).await;
    let bot = |text: &str| Say {
        bot: true,
        ..Say::guild(CHANNEL, 66, text)
    };
    app.dc().say(bot("beep"));
    app.dc().say(Say {
        extra: json!({"webhook_id": "77"}),
        ..Say::guild(CHANNEL, 67, "hook")
    });
    app.dc().say(bot("/help"));
    app.dc().say(Say {
        bot: true,
        ..Say::guild(UNBOUND, 66, "/help mpt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    });
    app.dc().say(Say::guild(CHANNEL, 7, "human"));
    eventually("the human's message", || {
        app.oc().accepted("tenant-a").len() == 1
    })
    .await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.oc().bodies("tenant-a"), vec!["human"]);
    assert!(app.dc().texts_to(UNBOUND).is_empty(), "a bot gets no hint");
    assert_eq!(app.dc().texts_to(CHANNEL), vec![SUCCESS]);
    app.stop().await;
}
