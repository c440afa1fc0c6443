//! The older service's Discord guild forms (issue 10 §2, contract §3.2, §5): a whole guild
//! (`discord:<account>:guild:<g>`, scope `guild`) and the thread forms, accepted as seeded codes
//! and through the admin API; guild-bound sends steered by `threadId`/`to` inside the bound guild
//! only and never into another tenant's channel or thread; thread-bound sends always into the
//! thread; and a reply to a thread message of a bound channel going into that thread.

use awc::http::StatusCode;
use serde_json::{Value, json};

use mux_server::testkit::discord::{GUILD, OTHER_GUILD, Say, dm_channel_of};

use crate::helpers::{ADMIN, KEY_A, KEY_B, TestApp, eventually, two_tenants};
use crate::inbound_discord::{CHANNEL, pair_channel, spawn_connected};

/// Guild 500: 501 with its threads 5011 and 5012, 502, 503 with its thread 5031 (503 is tenant
/// B's). Guild 600: 601.
const THREAD: u64 = 5011;
const B_THREAD: u64 = 5012;
const SIBLING: u64 = 502;
const B_CHANNEL: u64 = 503;
const B_CHANNEL_THREAD: u64 = 5031;
const ELSEWHERE: u64 = 601;

const CODES: &str = r#"[
  {"code":"GUILD-A","channel":"discord","routeKey":"discord:default:guild:500","scope":"guild"},
  {"code":"CH-B","channel":"discord","routeKey":"discord:default:guild:500:channel:503","scope":"channel"},
  {"code":"TH-B","channel":"discord","routeKey":"discord:default:guild:500:thread:5012","scope":"channel"},
  {"code":"TH-FULL","channel":"discord","routeKey":"discord:default:guild:500:channel:501:thread:5011","scope":"channel"},
  {"code":"OPS","channel":"discord","routeKey":"discord:ops:guild:700","scope":"guild"}
]"#;

/// The service (Discord REST only) with the seeded codes; A holds the whole guild 500 as
/// session `g`, B channel 503 (`b-ch`) and thread 5012 (`b-th`).
async fn guild_world() -> TestApp {
    let world = TestApp::builder()
        .vars(two_tenants())
        .var("MUX_ADMIN_TOKEN", ADMIN)
        .var("MUX_PAIRING_CODES_JSON", CODES)
        .discord();
    let dc = world.dc();
    dc.add_channel(CHANNEL, None);
    dc.add_channel(THREAD, Some(CHANNEL));
    dc.add_channel(B_THREAD, Some(CHANNEL));
    dc.add_channel(SIBLING, None);
    dc.add_channel(B_CHANNEL, None);
    dc.add_channel(B_CHANNEL_THREAD, Some(B_CHANNEL));
    dc.add_channel_in(OTHER_GUILD, ELSEWHERE, None);
    let app = world.spawn().await;
    for (key, code, session) in [
        (KEY_A, "GUILD-A", "g"),
        (KEY_B, "CH-B", "b-ch"),
        (KEY_B, "TH-B", "b-th"),
    ] {
        app.bind(key, code, session).await;
    }
    app
}

const OTHER_GUILD_ERR: &str = "discord channel not allowed for this bound guild";
const DM_ERR: &str = "discord route is guild-bound and cannot target DMs";
const NO_TARGET_ERR: &str = "discord target channel required";

/// What a row expects: posted into a channel, or refused with a status and body.
enum Expect {
    Posted(u64),
    Refused(u16, Value),
}

fn refused(status: u16, error: &str) -> Expect {
    Expect::Refused(status, json!({"ok": false, "error": error}))
}

fn not_bound() -> Expect {
    Expect::Refused(
        403,
        json!({"ok": false, "error": "route not bound", "code": "ROUTE_NOT_BOUND"}),
    )
}

/// Tenant A's guild-bound sends: (threadId, to) → what happens.
fn guild_rows() -> Vec<(Option<String>, Option<&'static str>, Expect)> {
    let id = |n: u64| Some(n.to_string());
    vec![
        (id(THREAD), None, Expect::Posted(THREAD)),
        (None, Some("channel:502"), Expect::Posted(SIBLING)),
        (None, Some("discord:channel:502"), Expect::Posted(SIBLING)),
        (None, Some("<#501>"), Expect::Posted(CHANNEL)),
        (None, Some("501"), Expect::Posted(CHANNEL)),
        (id(THREAD), Some("channel:502"), Expect::Posted(THREAD)),
        (id(ELSEWHERE), None, refused(403, OTHER_GUILD_ERR)),
        (None, Some("channel:601"), refused(403, OTHER_GUILD_ERR)),
        (Some("999999".into()), None, refused(403, OTHER_GUILD_ERR)),
        (id(dm_channel_of(42)), None, refused(403, OTHER_GUILD_ERR)),
        (None, Some("user:42"), refused(403, DM_ERR)),
        (None, Some("<@42>"), refused(403, DM_ERR)),
        (id(THREAD), Some("user:42"), refused(403, DM_ERR)),
        (None, None, refused(400, NO_TARGET_ERR)),
        (None, Some("general"), refused(400, NO_TARGET_ERR)),
        (id(B_CHANNEL), None, not_bound()),
        (None, Some("channel:5031"), not_bound()),
        (id(B_THREAD), None, not_bound()),
    ]
}

#[actix_web::test]
async fn guild_scope_codes_are_accepted_at_start_and_through_the_admin_api() {
    let app = guild_world().await;
    let items = app.list_bindings(KEY_A).await;
    assert_eq!(
        (&items[0]["routeKey"], &items[0]["scope"]),
        (&json!("discord:default:guild:500"), &json!("guild"))
    );
    let full = app.claim(KEY_A, "TH-FULL", None).await;
    assert_eq!(full.status, StatusCode::OK, "{}", full.body);
    assert_eq!(
        full.body["routeKey"],
        "discord:default:guild:500:channel:501:thread:5011"
    );
    assert_eq!(full.body["scope"], "channel");
    let ops = app.claim(KEY_A, "OPS", None).await;
    assert_eq!(ops.status, StatusCode::OK, "{}", ops.body);
    assert_eq!(
        (&ops.body["routeKey"], &ops.body["scope"]),
        (&json!("discord:ops:guild:700"), &json!("guild"))
    );

    let seeded = app
        .admin_create_code(
            json!({"code": "ADM-G", "channel": "discord", "routeKey": "discord:default:guild:800"}),
        )
        .await;
    assert_eq!(seeded.status, StatusCode::CREATED, "{}", seeded.body);
    let claimed = app.claim(KEY_B, "ADM-G", None).await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    assert_eq!(
        claimed.body["scope"], "guild",
        "the scope defaults to the route's"
    );
    let thread = app
        .admin_create_code(json!({"code": "ADM-T", "channel": "discord", "routeKey": "discord:default:guild:800:thread:9"}))
        .await;
    assert_eq!(thread.status, StatusCode::CREATED, "{}", thread.body);
    let bad = app
        .admin_create_code(
            json!({"channel": "discord", "routeKey": "discord:ops:guild:1:channel:2"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);

    // Still there after a restart: the stored keys read back.
    let app = app.restart().await;
    let listed: Vec<Value> = app
        .list_bindings(KEY_A)
        .await
        .into_iter()
        .map(|b| b["routeKey"].clone())
        .collect();
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert!(listed.contains(&json!("discord:ops:guild:700")));
    app.stop().await;
}

#[actix_web::test]
async fn a_guild_bound_send_reaches_only_unheld_channels_and_threads_of_the_bound_guild() {
    let app = guild_world().await;
    for (thread_id, to, expect) in guild_rows() {
        let mut body = json!({"channel": "discord", "sessionKey": "g", "text": "x"});
        if let Some(t) = &thread_id {
            body["threadId"] = json!(t);
        }
        if let Some(to) = to {
            body["to"] = json!(to);
        }
        let sent = app.send(KEY_A, body).await;
        let row = format!("threadId={thread_id:?} to={to:?}: {}", sent.body);
        match expect {
            Expect::Posted(channel) => {
                assert_eq!(sent.status, StatusCode::OK, "{row}");
                assert_eq!(sent.body["channelId"], channel.to_string(), "{row}");
            }
            Expect::Refused(status, body) => {
                assert_eq!(sent.status.as_u16(), status, "{row}");
                assert_eq!(sent.body, body, "{row}");
            }
        }
    }
    for channel in [
        ELSEWHERE,
        B_CHANNEL,
        B_CHANNEL_THREAD,
        B_THREAD,
        dm_channel_of(42),
    ] {
        assert!(
            app.dc().texts_to(channel).is_empty(),
            "nothing reached {channel}"
        );
    }
    app.stop().await;
}

#[actix_web::test]
async fn a_thread_bound_send_always_goes_into_the_bound_thread() {
    let app = guild_world().await;
    for steer in [
        json!({}),
        json!({"threadId": SIBLING.to_string()}),
        json!({"to": "channel:501"}),
        json!({"to": "user:42"}),
    ] {
        let mut body = json!({"channel": "discord", "sessionKey": "b-th", "text": "t"});
        for (k, v) in steer.as_object().unwrap() {
            body[k] = v.clone();
        }
        let sent = app.send(KEY_B, body).await;
        assert_eq!(sent.status, StatusCode::OK, "{steer}: {}", sent.body);
        assert_eq!(sent.body["channelId"], B_THREAD.to_string(), "{steer}");
    }
    assert_eq!(app.dc().texts_to(B_THREAD).len(), 4);
    app.stop().await;
}

#[actix_web::test]
async fn a_reply_to_a_thread_message_of_a_bound_channel_goes_into_the_thread() {
    let app = spawn_connected(&[]).await;
    pair_channel(&app).await;
    app.dc().add_channel(THREAD, Some(CHANNEL));
    app.dc().say(Say::guild(THREAD, 7, "asked in the thread"));
    eventually("forwarded", || app.oc().accepted("tenant-a").len() == 1).await;
    let env = app.oc().accepted("tenant-a")[0].body.clone();
    assert_eq!(env["to"], format!("channel:{THREAD}"));

    // OpenClaw answers to the `to` it got, without threadId.
    let reply = app
        .send(
            KEY_A,
            json!({"channel": "discord", "sessionKey": env["sessionKey"], "to": env["to"], "text": "answered"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["channelId"], THREAD.to_string());
    assert_eq!(app.dc().texts_to(THREAD), vec!["answered"]);
    assert!(
        !app.dc().texts_to(CHANNEL).contains(&"answered".to_owned()),
        "not into the parent channel"
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_thread_bound_by_its_thread_form_receives_its_messages() {
    let codes = json!([{"code": "TH", "channel": "discord", "scope": "channel",
        "routeKey": format!("discord:default:guild:{GUILD}:channel:{CHANNEL}:thread:{THREAD}")}])
    .to_string();
    let app = spawn_connected(&[("MUX_PAIRING_CODES_JSON", &codes)]).await;
    app.dc().add_channel(THREAD, Some(CHANNEL));
    app.bind(KEY_B, "TH", "b-thread").await;
    app.dc().say(Say::guild(THREAD, 7, "in the bound thread"));
    app.dc()
        .say(Say::guild(CHANNEL, 7, "in the parent, unbound"));
    eventually("forwarded", || !app.oc().accepted("tenant-b").is_empty()).await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    let got = app.oc().accepted("tenant-b");
    assert_eq!(app.oc().bodies("tenant-b"), vec!["in the bound thread"]);
    assert_eq!(got[0].body["sessionKey"], "b-thread");
    assert_eq!(
        got[0].body["channelData"]["routeKey"],
        "discord:default:guild:500:channel:501:thread:5011"
    );
    app.stop().await;
}
