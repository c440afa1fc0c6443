use awc::http::StatusCode;
use serde_json::json;

use super::outbound_world;
use super::world;
use crate::helpers::{KEY_A, KEY_B};

fn not_bound() -> serde_json::Value {
    json!({"ok": false, "error": "route not bound", "code": "ROUTE_NOT_BOUND"})
}

#[actix_web::test]
async fn validation_answers_400_in_the_contract_order() {
    let w = world().await;
    let cases = [
        (json!({}), "channel required"),
        (json!({"channel": "telegram"}), "sessionKey required"),
        (
            json!({"channel": "telegram", "sessionKey": "tg", "text": " \n"}),
            "text or mediaUrl(s) required",
        ),
        (
            json!({"channel": "sms", "sessionKey": "tg", "text": "x"}),
            "unsupported channel",
        ),
    ];
    for (body, error) in cases {
        let reply = w.send(KEY_A, body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.body, json!({"ok": false, "error": error}));
    }
    let garbage = w.send_raw(KEY_A, None, "{not json".to_owned()).await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    let unauthorized = w.send_text("nope", "telegram", "tg", "x").await;
    assert_eq!(unauthorized.status, StatusCode::UNAUTHORIZED);
    assert!(w.tg().recorder.received().is_empty());
    w.stop().await;
}

#[actix_web::test]
async fn an_unknown_session_is_route_not_bound() {
    let w = world().await;
    let reply = w.send_text(KEY_A, "telegram", "nobody", "x").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.body, not_bound());
    // The session key is per channel too.
    let cross = w.send_text(KEY_A, "discord", "tg", "x").await;
    assert_eq!(cross.body, not_bound());
    w.stop().await;
}

#[actix_web::test]
async fn tenant_b_cannot_send_into_tenant_a_s_binding() {
    let w = world().await;
    for (channel, session) in [("telegram", "tg"), ("discord", "dc-dm"), ("whatsapp", "wa")] {
        let reply = w.send(KEY_B,
            json!({"channel": channel, "sessionKey": session, "text": "x", "to": "telegram:555"}),
        )
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert_eq!(reply.body, not_bound());
    }
    assert!(w.tg().recorder.received().is_empty());
    assert!(w.dc().recorder.received().is_empty());
    assert!(w.wa().recorder.received().is_empty());
    w.stop().await;
}

#[actix_web::test]
async fn after_unbind_the_route_answers_403() {
    let w = world().await;
    let body = json!({"channel": "telegram", "sessionKey": "tg", "text": "x"});
    assert_eq!(w.send(KEY_A, body.clone()).await.status, StatusCode::OK);
    let binding = w
        .list_bindings(KEY_A)
        .await
        .into_iter()
        .find(|b| b["routeKey"] == "telegram:default:chat:555")
        .expect("bound");
    let unbound = w.unbind(KEY_A, &binding["bindingId"]).await;
    assert_eq!(unbound.status, StatusCode::OK, "{}", unbound.body);
    let reply = w.send(KEY_A, body).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.body, not_bound());
    assert_eq!(w.tg().recorder.calls("/sendmessage").len(), 1);
    w.stop().await;
}

#[actix_web::test]
async fn a_channel_without_credentials_is_503_channel_disabled() {
    let app = outbound_world()
        .without(|k| k.starts_with("MUX_WHATSAPP") || k == "DISCORD_BOT_TOKEN")
        .spawn()
        .await;
    let (dc, wa) = (app.dc(), app.wa());
    for (code, session) in [("WA-CHAT", "wa"), ("DC-DM", "dc-dm")] {
        let claimed = app.claim(KEY_A, code, session).await;
        assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    }
    for (channel, session) in [("whatsapp", "wa"), ("discord", "dc-dm")] {
        let reply = app.send_text(KEY_A, channel, session, "x").await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{channel}");
        assert_eq!(reply.body["code"], "CHANNEL_DISABLED");
        assert_eq!(reply.body["ok"], false);
    }
    assert!(wa.recorder.received().is_empty() && dc.recorder.received().is_empty());
    app.stop().await;
}
