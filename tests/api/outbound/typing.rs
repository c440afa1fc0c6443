//! Typing (`op: "action"`, contract §5a) on all three channels: into the bound chat (the route
//! lock's choice), best effort — skipped at once when the rate budget has nothing free — and
//! counted in `mux_outbound_actions_total`.

use awc::http::StatusCode;
use serde_json::{Value, json};

use super::{CHANNEL, THREAD_IN_GUILD, world, world_with};
use crate::helpers::{KEY_A, TestApp};
use crate::inbound_whatsapp::{notification, sign};
use mux_server::testkit::Scripted;
use mux_server::testkit::discord::dm_channel_of;

fn typing(channel: &str, session: &str) -> Value {
    json!({"op": "action", "action": "typing", "channel": channel, "sessionKey": session})
}

fn with(mut body: Value, field: &str, value: Value) -> Value {
    body[field] = value;
    body
}

/// Every `POST /channels/{id}/typing` the fake Discord got, by channel.
fn discord_typing(app: &TestApp) -> Vec<u64> {
    app.dc()
        .recorder
        .calls("/typing")
        .iter()
        .filter_map(|r| r.path.split('/').rev().nth(1)?.parse().ok())
        .collect()
}

#[actix_web::test]
async fn telegram_typing_goes_to_the_bound_chat_and_topic() {
    let w = world().await;
    let topic = w
        .send(
            KEY_A,
            with(typing("telegram", "tg-topic"), "threadId", json!(9)),
        )
        .await;
    assert_eq!(topic.status, StatusCode::OK, "{}", topic.body);
    assert_eq!(topic.body, json!({"ok": true}));
    let group = w
        .send(
            KEY_A,
            with(typing("telegram", "tg-group"), "threadId", json!(8)),
        )
        .await;
    assert_eq!(group.body, json!({"ok": true}));
    let plain = w
        .send(
            KEY_A,
            with(typing("telegram", "tg"), "to", json!("telegram:556")),
        )
        .await;
    assert_eq!(plain.body, json!({"ok": true}));
    let bodies: Vec<Value> = w
        .tg()
        .recorder
        .calls("/sendchataction")
        .into_iter()
        .map(|c| c.body)
        .collect();
    assert_eq!(
        bodies,
        [
            json!({"chat_id": -100888, "action": "typing", "message_thread_id": 42}),
            json!({"chat_id": -100777, "action": "typing", "message_thread_id": 8}),
            json!({"chat_id": 555, "action": "typing"}),
        ],
        "the bound topic; a topic of the bound chat; never the chat `to` names"
    );
    assert!(
        w.tg().recorder.calls("/sendmessage").is_empty(),
        "no message"
    );
    w.stop().await;
}

#[actix_web::test]
async fn discord_typing_goes_to_the_channel_the_route_lock_resolves() {
    let w = world().await;
    for (session, steer) in [
        ("dc-guild", json!({})),
        ("dc-guild", json!({"threadId": THREAD_IN_GUILD.to_string()})),
        ("dc-guild", json!({"to": "channel:503"})),
        ("dc-dm", json!({"to": "user:43"})),
    ] {
        let mut body = typing("discord", session);
        for (k, v) in steer.as_object().expect("fields") {
            body[k] = v.clone();
        }
        let reply = w.send(KEY_A, body).await;
        assert_eq!(reply.body, json!({"ok": true}), "{session} {steer}");
    }
    assert_eq!(
        discord_typing(&w),
        [CHANNEL, THREAD_IN_GUILD, CHANNEL, dm_channel_of(42)],
        "a sibling channel is not followed; a DM stays the bound DM"
    );
    assert!(w.dc().recorder.calls("/messages").is_empty(), "no message");
    w.stop().await;
}

#[actix_web::test]
async fn whatsapp_typing_shows_on_the_chats_last_inbound_message() {
    let w = world_with(vec![
        ("MUX_WHATSAPP_INBOUND_ENABLED", "true".to_owned()),
        ("MUX_WHATSAPP_APP_SECRET", "meta-app-secret".to_owned()),
        ("MUX_WHATSAPP_VERIFY_TOKEN", "verify-me".to_owned()),
    ])
    .await;
    // Nothing received in this chat yet: nothing to show typing on.
    let before = w.send(KEY_A, typing("whatsapp", "wa")).await;
    assert_eq!(before.body, json!({"ok": true, "skipped": true}));
    let message = |id: &str| json!({"from": "15550001111", "id": id, "timestamp": "1749416383", "type": "text", "text": {"body": "hi"}});
    let body = notification(json!([message("wamid.IN1"), message("wamid.IN2")]));
    assert_eq!(
        w.whatsapp_webhook(body.clone(), Some(sign(&body))).await,
        200
    );
    let reply = w
        .send(
            KEY_A,
            with(typing("whatsapp", "wa"), "to", json!("+15550002222")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, json!({"ok": true}));
    let calls: Vec<Value> = w
        .wa()
        .recorder
        .received()
        .into_iter()
        .map(|r| r.body)
        .filter(|b| b.is_object())
        .collect();
    assert_eq!(
        calls,
        [
            json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN2",
                "typing_indicator": {"type": "text"}})
        ],
        "read + typing on the newest inbound message, nothing sent to `to`"
    );
    // A throughput refusal is not waited out: skipped at once.
    w.wa().fail_next_send(
        400,
        json!({"message": "(#130429) Rate limit hit", "code": 130429}),
    );
    let throttled = w.send(KEY_A, typing("whatsapp", "wa")).await;
    assert_eq!(throttled.body, json!({"ok": true, "skipped": true}));
    w.stop().await;
}

#[actix_web::test]
async fn typing_is_skipped_at_once_when_the_rate_budget_has_nothing_free() {
    let w = world_with(vec![("MUX_TELEGRAM_PACING_ENABLED", "true".to_owned())]).await;
    // Telegram holds the bot off for 30 s: sends wait (or answer 429), typing does not queue.
    w.tg().rate_limit_next_send(30);
    let send = w.send_text(KEY_A, "telegram", "tg", "hi").await;
    assert_eq!(send.status, StatusCode::TOO_MANY_REQUESTS, "{}", send.body);
    let reply = w.send(KEY_A, typing("telegram", "tg-group")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, json!({"ok": true, "skipped": true}));
    assert!(
        w.tg().recorder.calls("/sendchataction").is_empty(),
        "nothing sent"
    );
    let (_, _, metrics) = w.metrics(None).await;
    assert!(
        metrics.contains("mux_outbound_actions_total{channel=\"telegram\",outcome=\"skipped\"} 1"),
        "{metrics}"
    );
    w.stop().await;
}

#[actix_web::test]
async fn typing_answers_are_counted_and_never_stored_under_a_key() {
    let w = world().await;
    let body = typing("telegram", "tg");
    for _ in 0..2 {
        let reply = w.send_idem(KEY_A, "same-key", body.clone()).await;
        assert_eq!(reply.body, json!({"ok": true}));
    }
    assert_eq!(
        w.tg().recorder.calls("/sendchataction").len(),
        2,
        "the key is ignored"
    );
    // The key was not taken by the action: a send may use it.
    let send = w
        .send_idem(
            KEY_A,
            "same-key",
            json!({"channel": "telegram", "sessionKey": "tg", "text": "hi"}),
        )
        .await;
    assert_eq!(send.status, StatusCode::OK, "{}", send.body);
    let unbound = w.send(KEY_A, typing("telegram", "nope")).await;
    assert_eq!(unbound.status, StatusCode::FORBIDDEN);
    assert_eq!(unbound.body["code"], "ROUTE_NOT_BOUND");
    let (_, _, metrics) = w.metrics(None).await;
    for line in [
        "mux_outbound_actions_total{channel=\"telegram\",outcome=\"sent\"} 2",
        "mux_outbound_actions_total{channel=\"telegram\",outcome=\"refused\"} 1",
        "mux_outbound_actions_total{channel=\"discord\",outcome=\"sent\"} 0",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    w.stop().await;
}

#[actix_web::test]
async fn an_unknown_op_or_action_is_a_400() {
    let w = world().await;
    for (body, error) in [
        (
            with(typing("telegram", "tg"), "op", json!("poll")),
            "unsupported op",
        ),
        (
            with(typing("telegram", "tg"), "action", json!("dance")),
            "unsupported action",
        ),
        (
            with(typing("telegram", "tg"), "action", json!(null)),
            "action required",
        ),
        (
            with(typing("telegram", "tg"), "op", json!(7)),
            "op must be a string",
        ),
    ] {
        let reply = w.send(KEY_A, body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.body, json!({"ok": false, "error": error}), "{body}");
    }
    assert!(w.tg().recorder.calls("/sendchataction").is_empty());
    w.stop().await;
}

#[actix_web::test]
async fn discord_typing_is_skipped_while_the_channels_bucket_is_empty() {
    let w = world().await;
    // Discord says the channel's typing bucket is spent for 30 s.
    w.dc().recorder.script(
        Scripted::new("/typing", 200, json!({}))
            .header("x-ratelimit-scope", "user")
            .header("x-ratelimit-bucket", "typing-501")
            .header("x-ratelimit-limit", "5")
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset-after", "30"),
    );
    let first = w.send(KEY_A, typing("discord", "dc-guild")).await;
    assert_eq!(first.body, json!({"ok": true}));
    let second = w.send(KEY_A, typing("discord", "dc-guild")).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(
        second.body,
        json!({"ok": true, "skipped": true}),
        "answered at once, not queued"
    );
    assert_eq!(discord_typing(&w), [CHANNEL], "the second never went out");
    w.stop().await;
}
