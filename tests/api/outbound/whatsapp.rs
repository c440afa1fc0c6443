use awc::http::StatusCode;
use serde_json::json;

use super::world;
use crate::helpers::KEY_A;
use mux_server::testkit::Scripted;
use mux_server::testkit::whatsapp::{PHONE_ID, TOKEN};

#[actix_web::test]
async fn a_text_reply_goes_to_the_bound_number_field_by_field() {
    let w = world().await;
    let reply = w.send(KEY_A,
        json!({"channel": "whatsapp", "sessionKey": "wa", "to": "+19999999999", "text": "hi _there_", "replyToId": "wamid.IN1"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let calls = w.wa().recorder.received();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].path, format!("/v21.0/{PHONE_ID}/messages"));
    assert_eq!(
        calls[0].authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(
        calls[0].body,
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+15550001111",
               "type": "text", "text": {"preview_url": false, "body": "hi _there_"},
               "context": {"message_id": "wamid.IN1"}})
    );
    let id = reply.body["messageId"].clone();
    assert!(id.as_str().is_some_and(|s| s.starts_with("wamid.")));
    assert_eq!(
        reply.body,
        json!({"ok": true, "messageId": id, "toJid": "15550001111@s.whatsapp.net", "providerMessageIds": [id]})
    );
    w.stop().await;
}

#[actix_web::test]
async fn images_carry_the_caption_on_the_first_only() {
    let w = world().await;
    let reply = w.send(KEY_A,
        json!({"channel": "whatsapp", "sessionKey": "wa", "text": "pics", "mediaUrls": ["https://i/1.jpg", "https://i/2.jpg"]}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let calls = w.wa().recorder.received();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].body["type"], "image");
    assert_eq!(
        calls[0].body["image"],
        json!({"link": "https://i/1.jpg", "caption": "pics"})
    );
    assert_eq!(calls[1].body["image"], json!({"link": "https://i/2.jpg"}));
    assert_eq!(
        reply.body["providerMessageIds"].as_array().map(Vec::len),
        Some(2)
    );
    w.stop().await;
}

#[actix_web::test]
async fn a_graph_5xx_is_a_502_with_the_graph_error() {
    let w = world().await;
    w.wa().fail_next_send(
        500,
        json!({"message": "An unknown error occurred", "type": "OAuthException", "code": 1, "fbtrace_id": "T"}),
    );
    let reply = w.send_text(KEY_A, "whatsapp", "wa", "x").await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{}", reply.body);
    assert_eq!(reply.body["error"], "whatsapp send failed");
    assert_eq!(reply.body["details"]["error"]["code"], 1);
    assert!(!String::from_utf8_lossy(&reply.raw).contains(TOKEN));
    w.stop().await;
}

#[actix_web::test]
async fn a_throughput_error_is_waited_out_and_the_message_sent() {
    let w = world().await;
    w.wa().recorder.script(Scripted::new(
        "/messages",
        400,
        json!({"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429}}),
    ).header("Retry-After", "1"));
    let reply = w.send_text(KEY_A, "whatsapp", "wa", "x").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        w.wa().recorder.received().len(),
        2,
        "refused once, then sent"
    );
    w.stop().await;
}
