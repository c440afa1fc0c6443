//! Issue 9.5: a replayed Telegram webhook update (same `update_id`) is not answered twice.

use serde_json::json;

use crate::helpers::{TestApp, eventually};
use crate::inbound_telegram::world;

const HINT: &str = "This chat is not paired yet. Open your dashboard and use a new pairing link.";
const INVALID: &str = "Pairing link is invalid or expired. Request a new link from your dashboard.";

async fn post_update(app: &TestApp, update: &serde_json::Value) -> u16 {
    app.request(awc::http::Method::POST, "/v1/ingress/telegram", None)
        .insert_header(("X-Telegram-Bot-Api-Secret-Token", "hook-secret"))
        .send_body(update.to_string())
        .await
        .expect("reaches the service")
        .status()
        .as_u16()
}

fn command(update_id: i64, chat: i64, text: &str) -> serde_json::Value {
    json!({"update_id": update_id, "message": {"message_id": update_id, "date": 1,
        "chat": {"id": chat, "type": "private"}, "from": {"id": chat}, "text": text}})
}

#[actix_web::test]
async fn a_replayed_update_does_not_repeat_the_not_paired_hint() {
    let app = world(&[
        (
            "MUX_TELEGRAM_WEBHOOK_URL",
            "https://mux.example/v1/ingress/telegram",
        ),
        ("MUX_TELEGRAM_WEBHOOK_SECRET", "hook-secret"),
        ("MUX_TELEGRAM_PACING_ENABLED", "false"),
    ])
    .spawn()
    .await;
    let hint = command(7001, 77, "/help");
    assert_eq!(post_update(&app, &hint).await, 200);
    eventually("the hint", || app.tg().texts_to(77).len() == 1).await;
    assert_eq!(
        post_update(&app, &hint).await,
        200,
        "a replay is acknowledged"
    );
    let bad_token = command(7002, 77, "/start mpt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(post_update(&app, &bad_token).await, 200);
    assert_eq!(post_update(&app, &bad_token).await, 200);
    // A new update is answered again: only repeats are suppressed.
    assert_eq!(post_update(&app, &command(7003, 77, "/help")).await, 200);
    eventually("three answers", || app.tg().texts_to(77).len() >= 3).await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.tg().texts_to(77), vec![HINT, INVALID, HINT]);
    app.stop().await;
}
