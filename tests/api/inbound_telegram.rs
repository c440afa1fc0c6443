//! Telegram inbound end to end: fake Telegram (getUpdates offsets) → mux → fake OpenClaw.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use mux_server::testkit::openclaw::Mode;
use mux_server::testkit::telegram::TOKEN;

use crate::helpers::{KEY_A, KEY_B, TestApp, TestAppBuilder, eventually};

const KEY_C: &str = "key-tenant-c";
const SUCCESS: &str = "Paired successfully. You can chat now.";
const INVALID: &str = "Pairing link is invalid or expired. Request a new link from your dashboard.";
const HINT: &str = "This chat is not paired yet. Open your dashboard and use a new pairing link.";

const TENANTS: [(&str, &str); 3] = [
    ("tenant-a", KEY_A),
    ("tenant-b", KEY_B),
    ("tenant-c", KEY_C),
];

/// Telegram long polling into the fake, three tenants at the fake OpenClaw, one seeded code per
/// tenant (chats 1, 2, 3); `extra` overrides variables.
pub fn world(extra: &[(&'static str, &str)]) -> TestAppBuilder {
    let codes = json!([
        {"code": "A1", "channel": "telegram", "routeKey": "telegram:default:chat:1", "scope": "chat"},
        {"code": "B2", "channel": "telegram", "routeKey": "telegram:default:chat:2", "scope": "chat"},
        {"code": "C3", "channel": "telegram", "routeKey": "telegram:default:chat:3", "scope": "chat"},
    ]);
    TestApp::builder()
        .openclaw_tenants(&TENANTS, 300)
        .telegram_polling()
        .var("MUX_PAIRING_CODES_JSON", codes.to_string())
        .vars(extra.iter().copied())
}

pub async fn spawn_polling(extra: &[(&'static str, &str)]) -> TestApp {
    world(extra).spawn().await
}

fn verify_signature(
    token: &str,
    headers: &std::collections::HashMap<String, String>,
    raw: &[u8],
) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(
        format!(
            "{}.{}.",
            headers["webhook-id"], headers["webhook-timestamp"]
        )
        .as_bytes(),
    );
    mac.update(raw);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    headers["webhook-signature"] == format!("v1,{expected}")
}

#[actix_web::test]
async fn a_token_sent_in_a_chat_pairs_it_and_the_next_message_is_forwarded_in_full() {
    let app = spawn_polling(&[]).await;
    let token = app
        .issue_token(
            KEY_A,
            json!({"channel": "telegram", "sessionKey": "agent:a:main"}),
        )
        .await;
    let token = token.body["token"].as_str().unwrap().to_owned();
    app.tg().push_text(555, 42, &format!("/start {token}"));
    eventually("success notice", || {
        app.tg().texts_to(555) == vec![SUCCESS.to_owned()]
    })
    .await;
    let items = app.list_bindings(KEY_A).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["routeKey"], "telegram:default:chat:555");
    assert_eq!(items[0]["sessionKey"], "agent:a:main");

    let update_id = app.tg().push_text(555, 42, "hello there ");
    eventually("forwarded", || app.oc().accepted("tenant-a").len() == 1).await;
    let got = &app.oc().accepted("tenant-a")[0];
    let env = &got.body;
    let event_id = format!("tg:{update_id}");
    assert_eq!(env["eventId"], json!(event_id));
    assert_eq!(env["channel"], "telegram");
    assert_eq!(env["sessionKey"], "agent:a:main");
    assert_eq!(env["body"], "hello there ", "text verbatim");
    assert_eq!(env["from"], "telegram:42");
    assert_eq!(env["to"], "telegram:555");
    assert_eq!(env["accountId"], "default");
    assert_eq!(env["chatType"], "direct");
    assert_eq!(env["messageId"], json!((update_id * 10).to_string()));
    assert_eq!(
        env["timestampMs"],
        json!((1_700_000_000 + update_id) * 1000)
    );
    assert!(env.get("threadId").is_none() && env.get("attachments").is_none());
    let cd = &env["channelData"];
    assert_eq!(cd["chatId"], "555");
    assert_eq!(cd["topicId"], Value::Null);
    assert_eq!(cd["routeKey"], "telegram:default:chat:555");
    assert_eq!(cd["updateId"], json!(update_id));
    assert_eq!(cd["telegram"]["rawUpdate"]["update_id"], json!(update_id));
    assert_eq!(cd["telegram"]["rawMessage"]["text"], "hello there ");
    assert_eq!(got.headers["authorization"], "Bearer tok-tenant-a");
    assert_eq!(
        got.headers["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(got.headers["webhook-id"], event_id);
    assert!(
        verify_signature("tok-tenant-a", &got.headers, &got.raw),
        "signature verifies"
    );
    assert_eq!(
        app.oc().accepted("tenant-a").len(),
        1,
        "the token message itself was never forwarded"
    );
    app.stop().await;
}

#[actix_web::test]
async fn unpaired_chats_get_the_invalid_notice_the_hint_or_nothing() {
    let app = spawn_polling(&[]).await;
    app.tg()
        .push_text(600, 7, "/start mpt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    app.tg().push_text(601, 8, "/help");
    app.tg().push_text(602, 9, "just chatting");
    eventually("notices", || {
        app.tg().texts_to(600).len() == 1 && app.tg().texts_to(601).len() == 1
    })
    .await;
    eventually("all updates confirmed", || app.tg().pending_updates() == 0).await;
    assert_eq!(app.tg().texts_to(600), vec![INVALID.to_owned()]);
    assert_eq!(app.tg().texts_to(601), vec![HINT.to_owned()]);
    assert!(app.tg().texts_to(602).is_empty());
    assert!(app.list_bindings(KEY_A).await.is_empty());
    app.stop().await;
}

#[actix_web::test]
async fn a_forum_topic_is_bound_on_its_own_and_its_messages_carry_the_thread() {
    let app = spawn_polling(&[]).await;
    let token = app.issue_token(KEY_B, json!({"channel": "telegram"})).await;
    let token = token.body["token"].as_str().unwrap().to_owned();
    let topic = |text: &str| {
        json!({"chat": {"id": -1009, "type": "supergroup", "is_forum": true},
        "from": {"id": 5, "is_bot": false}, "message_thread_id": 4, "is_topic_message": true, "text": text})
    };
    app.tg()
        .push_message(topic(&format!("/start@mux_bot {token}")));
    eventually("paired", || app.tg().sent().len() == 1).await;
    assert_eq!(
        app.tg().sent()[0].1["message_thread_id"],
        4,
        "the notice goes into the topic"
    );
    let items = app.list_bindings(KEY_B).await;
    assert_eq!(items[0]["scope"], "topic");
    assert_eq!(items[0]["routeKey"], "telegram:default:chat:-1009:topic:4");
    app.tg().push_text(-1009, 5, "in general");
    app.tg().push_message(topic("in topic"));
    eventually("topic message forwarded", || {
        app.oc().accepted("tenant-b").len() == 1
    })
    .await;
    eventually("all confirmed", || app.tg().pending_updates() == 0).await;
    let env = &app.oc().accepted("tenant-b")[0].body;
    assert_eq!(env["body"], "in topic");
    assert_eq!(env["threadId"], 4);
    assert_eq!(env["chatType"], "group");
    assert_eq!(env["sessionKey"], "tg:group:-1009:thread:4");
    assert_eq!(
        app.oc().bodies("tenant-b"),
        vec!["in topic"],
        "the unbound general chat is not forwarded"
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_failing_or_hanging_tenant_never_delays_another_and_catches_up_in_order() {
    let app = spawn_polling(&[]).await;
    app.bind(KEY_A, "A1", "sa").await;
    app.bind(KEY_B, "B2", "sb").await;
    app.bind(KEY_C, "C3", "sc").await;
    app.oc().set_mode("tenant-a", Mode::Status(503));
    app.oc().set_mode("tenant-c", Mode::Hang);
    for i in 0..5 {
        app.tg().push_text(1, 11, &format!("a{i}"));
        app.tg().push_text(3, 33, &format!("c{i}"));
        app.tg().push_text(2, 22, &format!("b{i}"));
    }
    eventually("B gets all five", || {
        app.oc().accepted("tenant-b").len() == 5
    })
    .await;
    assert_eq!(
        app.oc().bodies("tenant-b"),
        vec!["b0", "b1", "b2", "b3", "b4"]
    );
    assert!(app.oc().accepted("tenant-a").is_empty() && app.oc().accepted("tenant-c").is_empty());
    eventually("A was tried", || app.oc().attempts("tenant-a") > 0).await;

    let waiting = app
        .get("/v1/tenant/deliveries?status=pending", Some(KEY_A))
        .await;
    assert_eq!(
        waiting.body["items"].as_array().unwrap().len(),
        5,
        "{}",
        waiting.body
    );
    // B's own events may still be listed for a moment (the fake OpenClaw records a delivery
    // before the service has marked it delivered), but never one of A's.
    let b_view = app.get("/v1/tenant/deliveries", Some(KEY_B)).await;
    assert!(
        b_view.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|item| item["sessionKey"] == "sb"),
        "B sees none of A's: {}",
        b_view.body
    );

    app.oc().set_mode("tenant-a", Mode::Accept);
    app.oc().set_mode("tenant-c", Mode::Accept);
    eventually("A and C catch up", || {
        app.oc().accepted("tenant-a").len() >= 5 && app.oc().accepted("tenant-c").len() >= 5
    })
    .await;
    let dedup = |v: Vec<String>| {
        let mut out: Vec<String> = Vec::new();
        for b in v {
            if out.last() != Some(&b) {
                out.push(b);
            }
        }
        out
    };
    assert_eq!(
        dedup(app.oc().bodies("tenant-a")),
        vec!["a0", "a1", "a2", "a3", "a4"]
    );
    assert_eq!(
        dedup(app.oc().bodies("tenant-c")),
        vec!["c0", "c1", "c2", "c3", "c4"]
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_400_is_given_up_at_once_listed_as_dead_and_can_be_retried() {
    let app = spawn_polling(&[]).await;
    app.bind(KEY_A, "A1", "sa").await;
    app.oc().set_mode("tenant-a", Mode::Status(400));
    let update_id = app.tg().push_text(1, 11, "bad one");
    let event_id = format!("tg:{update_id}");
    let dead = || async {
        let r = app
            .get("/v1/tenant/deliveries?status=dead", Some(KEY_A))
            .await;
        r.body["items"].as_array().cloned().unwrap_or_default()
    };
    for _ in 0..500 {
        if !dead().await.is_empty() {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let items = dead().await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["eventId"], json!(event_id));
    assert_eq!(items[0]["state"], "dead");
    assert_eq!(items[0]["attempts"], 1);
    assert_eq!(items[0]["sessionKey"], "sa");
    assert!(items[0]["lastError"].as_str().unwrap().contains("400"));
    assert_eq!(app.oc().attempts("tenant-a"), 1, "not retried");

    let other = app
        .post(
            &format!("/v1/tenant/deliveries/{event_id}/retry"),
            Some(KEY_B),
            json!({}),
        )
        .await;
    assert_eq!(other.status.as_u16(), 404, "not B's to retry");
    app.oc().set_mode("tenant-a", Mode::Accept);
    let retry = app
        .post(
            &format!("/v1/tenant/deliveries/{event_id}/retry"),
            Some(KEY_A),
            json!({}),
        )
        .await;
    assert_eq!(retry.status.as_u16(), 200, "{}", retry.body);
    eventually("delivered after retry", || {
        app.oc().accepted("tenant-a").len() == 1
    })
    .await;
    assert!(dead().await.is_empty());
    app.stop().await;
}

#[actix_web::test]
async fn changing_the_target_sends_waiting_events_there_at_once() {
    let app = spawn_polling(&[]).await;
    app.bind(KEY_A, "A1", "sa").await;
    app.oc().set_mode("tenant-a", Mode::Status(503));
    app.tg().push_text(1, 11, "wait for me");
    eventually("first attempt failed", || {
        app.oc().attempts("tenant-a") >= 1
    })
    .await;
    let new_target = json!({"inboundUrl": app.oc().url("tenant-a-new"), "inboundToken": "new-tok"});
    let r = app.set_inbound_target(KEY_A, new_target).await;
    assert_eq!(r.status.as_u16(), 200);
    eventually("delivered to the new target", || {
        app.oc().accepted("tenant-a-new").len() == 1
    })
    .await;
    let got = &app.oc().accepted("tenant-a-new")[0];
    assert_eq!(got.headers["authorization"], "Bearer new-tok");
    assert!(verify_signature("new-tok", &got.headers, &got.raw));
    app.stop().await;
}

#[actix_web::test]
async fn waiting_events_survive_a_restart_and_are_delivered_after_it() {
    let world = world(&[]);
    let (tg, oc) = (world.tg(), world.oc());
    let app = world.spawn().await;
    let r = app.claim(KEY_A, "A1", None).await;
    assert_eq!(r.status.as_u16(), 200);
    oc.set_mode("tenant-a", Mode::Status(503));
    for i in 0..3 {
        tg.push_text(1, 11, &format!("m{i}"));
    }
    eventually("all confirmed to Telegram", || tg.pending_updates() == 0).await;
    let dir = app.stop().await;
    oc.set_mode("tenant-a", Mode::Accept);
    let app = world.spawn_in(dir).await;
    eventually("delivered after restart", || {
        oc.accepted("tenant-a").len() >= 3
    })
    .await;
    let bodies: Vec<_> = oc
        .accepted("tenant-a")
        .iter()
        .map(|r| r.body["body"].clone())
        .collect();
    assert_eq!(bodies[..3], [json!("m0"), json!("m1"), json!("m2")]);
    app.stop().await;
}

#[actix_web::test]
async fn bootstrap_latest_skips_the_backlog_on_the_first_start_only() {
    let world = world(&[
        ("MUX_TELEGRAM_BOOTSTRAP_LATEST", "true"),
        ("MUX_PAIRING_CODES_JSON", ""),
    ]);
    let (tg, oc) = (world.tg(), world.oc());
    tg.push_text(1, 11, "old news");
    let app = world.spawn().await;
    eventually("backlog confirmed", || tg.pending_updates() == 0).await;
    let token = app.issue_token(KEY_A, json!({"channel": "telegram"})).await;
    tg.push_text(
        1,
        11,
        &format!("/start {}", token.body["token"].as_str().unwrap()),
    );
    eventually("paired", || tg.texts_to(1).len() == 1).await;
    let dir = app.stop().await;
    tg.push_text(1, 11, "while down");
    let app = world.spawn_in(dir).await;
    eventually("message sent while down is delivered", || {
        oc.accepted("tenant-a").len() == 1
    })
    .await;
    assert_eq!(oc.accepted("tenant-a")[0].body["body"], "while down");
    app.stop().await;
}

#[actix_web::test]
async fn photos_are_inlined_within_the_cap_and_described_always() {
    let app = spawn_polling(&[("MUX_TELEGRAM_INBOUND_MEDIA_MAX_BYTES", "1000")]).await;
    app.bind(KEY_A, "A1", "sa").await;
    app.tg().add_file("small", vec![1, 2, 3, 4]);
    app.tg().add_file("huge", vec![0; 5000]);
    let photo = |id: &str, caption: Option<&str>| {
        let mut m = json!({"chat": {"id": 1, "type": "private"}, "from": {"id": 11},
            "photo": [{"file_id": "thumb", "width": 10, "height": 10}, {"file_id": id, "file_unique_id": id, "width": 800, "height": 600}]});
        if let Some(c) = caption {
            m["caption"] = json!(c);
        }
        m
    };
    app.tg().push_message(photo("small", Some("look")));
    app.tg().push_message(photo("huge", None));
    app.tg().push_message(photo("huge", Some("too big")));
    eventually("three forwarded", || {
        app.oc().accepted("tenant-a").len() == 3
    })
    .await;
    eventually("all confirmed", || app.tg().pending_updates() == 0).await;
    let got = app.oc().accepted("tenant-a");
    let first = &got[0].body;
    assert_eq!(first["body"], "look");
    let att = &first["attachments"][0];
    assert_eq!(att["type"], "image");
    assert_eq!(att["mimeType"], "image/jpeg");
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(att["content"].as_str().unwrap())
            .unwrap(),
        vec![1, 2, 3, 4]
    );
    assert_eq!(
        first["channelData"]["telegram"]["media"][0]["inlined"],
        true
    );
    // Over the cap: not inlined, but it reaches the agent as a link to the file proxy
    // (contract §5a), the media-only one too.
    for (env, body) in [(&got[1].body, ""), (&got[2].body, "too big")] {
        assert_eq!(env["body"], body);
        let desc = &env["channelData"]["telegram"]["media"][0];
        assert_eq!(desc["inlined"], false);
        assert_eq!(
            env["attachments"],
            json!([{"type": "image", "url": desc["url"]}]),
            "{env}"
        );
        assert!(
            !env.to_string().contains(TOKEN),
            "no bot token in what tenants get"
        );
    }
    app.stop().await;
}

#[actix_web::test]
async fn webhook_mode_checks_the_secret_and_drops_duplicate_deliveries() {
    let app = spawn_polling(&[
        (
            "MUX_TELEGRAM_WEBHOOK_URL",
            "https://mux.example/v1/ingress/telegram",
        ),
        ("MUX_TELEGRAM_WEBHOOK_SECRET", "hook-secret"),
    ])
    .await;
    assert!(app.tg().calls().contains(&"setWebhook".to_owned()));
    let registered = app.tg().recorder.calls("/setwebhook");
    assert_eq!(
        registered[0].body["allowed_updates"],
        json!(["message", "edited_message", "callback_query"]),
        "button presses are asked for in webhook mode too"
    );
    app.bind(KEY_A, "A1", "sa").await;
    let update = json!({"update_id": 9001, "message": {"message_id": 1, "date": 1,
        "chat": {"id": 1, "type": "private"}, "from": {"id": 11}, "text": "via webhook"}});
    let post = |secret: Option<&'static str>| {
        let mut req = app.request(awc::http::Method::POST, "/v1/ingress/telegram", None);
        if let Some(s) = secret {
            req = req.insert_header(("X-Telegram-Bot-Api-Secret-Token", s));
        }
        req.send_body(update.to_string())
    };
    assert_eq!(post(None).await.unwrap().status().as_u16(), 401);
    assert_eq!(post(Some("wrong")).await.unwrap().status().as_u16(), 401);
    assert_eq!(
        post(Some("hook-secret")).await.unwrap().status().as_u16(),
        200
    );
    assert_eq!(
        post(Some("hook-secret")).await.unwrap().status().as_u16(),
        200,
        "a redelivery is acknowledged"
    );
    eventually("forwarded", || app.oc().accepted("tenant-a").len() == 1).await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        app.oc().accepted("tenant-a").len(),
        1,
        "the duplicate was dropped"
    );
    assert!(
        !app.tg().calls().contains(&"getUpdates".to_owned()),
        "no polling in webhook mode"
    );
    app.stop().await;
}

#[actix_web::test]
async fn ready_reports_retrying_while_telegram_refuses_polls_and_recovers() {
    let app = spawn_polling(&[]).await;
    app.wait_channel("telegram", "connected").await;
    app.tg().set_conflict(true);
    app.wait_channel("telegram", "retrying").await;
    let token = app.issue_token(KEY_A, json!({"channel": "telegram"})).await;
    app.tg().push_text(
        777,
        1,
        &format!("/start {}", token.body["token"].as_str().unwrap()),
    );
    app.tg().set_conflict(false);
    app.wait_channel("telegram", "connected").await;
    eventually("the update waiting meanwhile is handled", || {
        app.tg().texts_to(777).len() == 1
    })
    .await;
    app.stop().await;
}

#[actix_web::test]
async fn a_graceful_stop_lets_a_delivery_in_flight_finish_and_be_recorded() {
    let world = world(&[]).openclaw_tenants(&TENANTS, 5000);
    let (tg, oc) = (world.tg(), world.oc());
    let app = world.spawn().await;
    let r = app.claim(KEY_A, "A1", None).await;
    assert_eq!(r.status.as_u16(), 200);
    oc.set_mode("tenant-a", Mode::Slow(800));
    tg.push_text(1, 11, "in flight at shutdown");
    eventually("the delivery has started", || oc.attempts("tenant-a") == 1).await;
    let dir = app.stop().await;

    oc.set_mode("tenant-a", Mode::Accept);
    let app = world.spawn_in(dir).await;
    let pending = app.get("/v1/tenant/deliveries", Some(KEY_A)).await;
    assert_eq!(
        pending.body["items"],
        json!([]),
        "recorded as delivered before the stop"
    );
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        oc.attempts("tenant-a"),
        1,
        "not sent again after the restart"
    );
    app.stop().await;
}
