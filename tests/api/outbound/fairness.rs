//! The global Telegram budget is shared round-robin between tenants: one tenant's burst into
//! many chats does not hold back another tenant's single send.

use awc::http::StatusCode;
use serde_json::{Value, json};

use super::{CODES, SEND, world_with};
use crate::helpers::{KEY_A, KEY_B};

const BURST: usize = 200;

fn codes_with_burst_chats() -> String {
    let mut codes: Vec<Value> = serde_json::from_str(CODES).expect("codes");
    for i in 0..BURST {
        codes.push(json!({"code": format!("FAN-{i}"), "channel": "telegram",
                          "routeKey": format!("telegram:default:chat:{}", 10_000 + i), "scope": "chat"}));
    }
    Value::Array(codes).to_string()
}

#[actix_web::test]
async fn a_burst_of_200_sends_does_not_hold_back_another_tenant_s_one_send() {
    let w = world_with(vec![
        ("MUX_PAIRING_CODES_JSON", codes_with_burst_chats()),
        ("MUX_TELEGRAM_PACING_ENABLED", "true".to_owned()),
        ("MUX_TELEGRAM_GLOBAL_PER_SEC", "50".to_owned()),
        ("MUX_TELEGRAM_CHAT_INTERVAL_MS", "0".to_owned()),
        ("MUX_OUTBOUND_DEADLINE_MS", "60000".to_owned()),
    ])
    .await;
    for i in 0..BURST {
        let reply = w
            .claim(KEY_A, &format!("FAN-{i}"), format!("fan-{i}").as_str())
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    // A's burst on a client of its own without a connection limit, so all 200 are in flight.
    let burst_client = awc::Client::builder()
        .connector(awc::Connector::new().limit(0))
        .timeout(std::time::Duration::from_secs(120))
        .finish();
    let burst: Vec<_> = (0..BURST)
        .map(|i| {
            let req = burst_client
                .post(w.url(SEND))
                .insert_header(("Authorization", format!("Bearer {KEY_A}")));
            let body =
                json!({"channel": "telegram", "sessionKey": format!("fan-{i}"), "text": "burst"});
            actix_web::rt::spawn(async move { req.send_json(&body).await.map(|r| r.status()) })
        })
        .collect();
    crate::helpers::eventually("the burst has started", || {
        w.tg().recorder.calls("/sendmessage").len() >= 5
    })
    .await;

    let b = w.send_text(KEY_B, "telegram", "tg-b", "single").await;
    assert_eq!(b.status, StatusCode::OK, "{}", b.body);
    let calls = w.tg().recorder.calls("/sendmessage");
    let position = calls
        .iter()
        .position(|c| c.body["chat_id"] == 556)
        .expect("B's message reached Telegram");
    assert!(
        position < BURST / 2,
        "B's send went out as #{position} of A's burst of {BURST}"
    );

    for task in burst {
        assert_eq!(task.await.expect("task").expect("answer"), StatusCode::OK);
    }
    assert_eq!(w.tg().recorder.calls("/sendmessage").len(), BURST + 1);
    w.stop().await;
}
