//! The route lock's rows (`route_lock`), tried with typing (`op: "action"`) instead of a send:
//! each row's steering fields either reach A's own place or are refused, and no typing ever
//! shows in one of B's chats.

use awc::http::StatusCode;
use serde_json::json;

use super::route_lock::{B_DISCORD, B_TELEGRAM, Expect, rows, world_with};
use crate::helpers::{KEY_A, TestApp};
use mux_server::testkit::discord::dm_channel_of;

/// Where typing went: Telegram (chat, topic) of every sendChatAction.
fn telegram_typing(app: &TestApp) -> Vec<(i64, Option<i64>)> {
    app.tg()
        .recorder
        .calls("/sendchataction")
        .iter()
        .map(|c| {
            (
                c.body["chat_id"].as_i64().unwrap_or_default(),
                c.body["message_thread_id"].as_i64(),
            )
        })
        .collect()
}

/// Every Discord channel typed into, in order.
fn discord_typing(app: &TestApp) -> Vec<u64> {
    app.dc()
        .recorder
        .calls("/typing")
        .iter()
        .filter_map(|r| r.path.split('/').rev().nth(1)?.parse().ok())
        .collect()
}

/// The inbound message ids WhatsApp typing was shown on.
fn whatsapp_typing(app: &TestApp) -> Vec<String> {
    app.wa()
        .recorder
        .received()
        .into_iter()
        .filter(|r| r.body["typing_indicator"].is_object())
        .filter_map(|r| r.body["message_id"].as_str().map(str::to_owned))
        .collect()
}

#[actix_web::test]
async fn typing_with_any_rows_fields_never_reaches_a_place_bound_to_another_tenant() {
    let app = world_with(vec![
        ("MUX_WHATSAPP_INBOUND_ENABLED", "true".to_owned()),
        ("MUX_WHATSAPP_APP_SECRET", "meta-app-secret".to_owned()),
        ("MUX_WHATSAPP_VERIFY_TOKEN", "verify-me".to_owned()),
    ])
    .await;
    // A's and B's WhatsApp chats each received a message: typing could be shown on either.
    let message = |from: &str, id: &str| json!({"from": from, "id": id, "timestamp": "1749416383", "type": "text", "text": {"body": "hi"}});
    let body = crate::inbound_whatsapp::notification(json!([
        message("15550001111", "wamid.A"),
        message("15550002222", "wamid.B")
    ]));
    let signature = crate::inbound_whatsapp::sign(&body);
    assert_eq!(app.whatsapp_webhook(body, Some(signature)).await, 200);
    for (channel, session, steer, expect) in rows() {
        let mut body =
            json!({"op": "action", "action": "typing", "channel": channel, "sessionKey": session});
        for (k, v) in steer.as_object().expect("steering fields") {
            body[k] = v.clone();
        }
        let before = (
            telegram_typing(&app).len(),
            discord_typing(&app).len(),
            whatsapp_typing(&app).len(),
        );
        let reply = app.send(KEY_A, body).await;
        let row = format!("typing {session} {steer}: {} {}", reply.status, reply.body);
        match expect {
            Expect::NotBound => {
                assert_eq!(reply.status, StatusCode::FORBIDDEN, "{row}");
                assert_eq!(reply.body["code"], "ROUTE_NOT_BOUND", "{row}");
            }
            Expect::Refused(status) => assert_eq!(reply.status.as_u16(), status, "{row}"),
            Expect::Telegram(chat, topic) => {
                assert_eq!(reply.body, json!({"ok": true}), "{row}");
                assert_eq!(telegram_typing(&app)[before.0..], [(chat, topic)], "{row}");
            }
            Expect::Discord(target) => {
                assert_eq!(reply.body, json!({"ok": true}), "{row}");
                assert_eq!(discord_typing(&app)[before.1..], [target], "{row}");
            }
            Expect::Whatsapp(_) => {
                assert_eq!(reply.body, json!({"ok": true}), "{row}");
                assert_eq!(whatsapp_typing(&app)[before.2..], ["wamid.A"], "{row}");
            }
        }
        if matches!(expect, Expect::NotBound | Expect::Refused(_)) {
            let after = (
                telegram_typing(&app).len(),
                discord_typing(&app).len(),
                whatsapp_typing(&app).len(),
            );
            assert_eq!(after, before, "{row}: nothing sent");
        }
    }
    for place in telegram_typing(&app) {
        assert!(
            !B_TELEGRAM
                .iter()
                .any(|(chat, topic)| place.0 == *chat && (topic.is_none() || place.1 == *topic)),
            "telegram typing reached B: {place:?}"
        );
    }
    let b_dm = dm_channel_of(43);
    for channel in discord_typing(&app) {
        assert!(
            !B_DISCORD.contains(&channel) && channel != b_dm,
            "discord typing reached B's channel {channel}"
        );
    }
    assert!(
        !whatsapp_typing(&app).contains(&"wamid.B".to_owned()),
        "B's chat"
    );
    app.stop().await;
}
