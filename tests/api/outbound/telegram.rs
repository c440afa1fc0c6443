use awc::http::StatusCode;
use serde_json::json;

use super::world;
use crate::helpers::KEY_A;
use mux_server::testkit::telegram::TOKEN;

#[actix_web::test]
async fn a_text_goes_to_the_bound_chat_field_by_field_whatever_to_says() {
    let w = world().await;
    let reply = w.send(KEY_A,
        json!({"requestId": "r1", "channel": "telegram", "sessionKey": "tg", "accountId": "default",
               "to": "telegram:999", "text": "  hello *world* <b>x</b>\n", "channelData": {"a": 1}}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let calls = w.tg().recorder.calls("/sendmessage");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].path, format!("/bot{TOKEN}/sendMessage"));
    assert_eq!(
        calls[0].body,
        json!({"chat_id": 555, "text": "  hello *world* <b>x</b>\n"})
    );
    let id = reply.body["messageId"]
        .as_str()
        .expect("string id")
        .to_owned();
    assert_eq!(
        reply.body,
        json!({"ok": true, "messageId": id, "chatId": "555", "providerMessageIds": [id]})
    );
    w.stop().await;
}

#[actix_web::test]
async fn media_go_as_photos_with_the_caption_on_the_first_in_the_bound_topic_replying() {
    let w = world().await;
    let reply = w.send(KEY_A,
        json!({"channel": "telegram", "sessionKey": "tg-topic", "text": "look",
               "mediaUrls": ["https://img.example/1.jpg", "https://img.example/2.jpg"], "replyToId": "7"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let calls = w.tg().recorder.calls("/sendphoto");
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[0].body,
        json!({"chat_id": -100888, "photo": "https://img.example/1.jpg", "caption": "look",
               "message_thread_id": 42, "reply_parameters": {"message_id": 7, "allow_sending_without_reply": true}})
    );
    assert_eq!(
        calls[1].body,
        json!({"chat_id": -100888, "photo": "https://img.example/2.jpg", "message_thread_id": 42})
    );
    assert!(w.tg().recorder.calls("/sendmessage").is_empty());
    assert_eq!(
        reply.body["providerMessageIds"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(reply.body["chatId"], "-100888");
    assert_eq!(reply.body["messageId"], reply.body["providerMessageIds"][0]);
    w.stop().await;
}

#[actix_web::test]
async fn a_topic_route_keeps_its_topic_and_bad_thread_ids_are_ignored() {
    let w = world().await;
    let ok = w
        .send(
            KEY_A,
            json!({"channel": "telegram", "sessionKey": "tg-topic", "text": "a", "threadId": 9}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let fallback = w.send(KEY_A,
        json!({"channel": "telegram", "sessionKey": "tg-group", "text": "b", "threadId": "x", "replyToId": -4}),
    )
    .await;
    assert_eq!(fallback.status, StatusCode::OK, "{}", fallback.body);
    let calls = w.tg().recorder.calls("/sendmessage");
    assert_eq!(
        calls[0].body,
        json!({"chat_id": -100888, "text": "a", "message_thread_id": 42}),
        "topic-bound: always the bound topic (contract §5)"
    );
    assert_eq!(calls[1].body, json!({"chat_id": -100777, "text": "b"}));
    w.stop().await;
}

#[actix_web::test]
async fn text_over_4096_characters_is_split_at_lines_and_every_id_returned() {
    let w = world().await;
    let line = format!("{}\n", "word ".repeat(99));
    let text = line.repeat(10);
    assert!(text.len() > 4096);
    let reply = w.send_text(KEY_A, "telegram", "tg", &text).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let parts: Vec<String> = w
        .tg()
        .recorder
        .calls("/sendmessage")
        .iter()
        .map(|c| c.body["text"].as_str().expect("text").to_owned())
        .collect();
    assert_eq!(parts.len(), 2);
    assert!(
        parts
            .iter()
            .all(|p| p.encode_utf16().count() <= 4096 && p.ends_with('\n'))
    );
    assert_eq!(parts.concat(), text, "the parts are the text, unchanged");
    assert_eq!(
        reply.body["providerMessageIds"].as_array().map(Vec::len),
        Some(2)
    );
    w.stop().await;
}

#[actix_web::test]
async fn a_telegram_error_is_a_502_with_its_description_and_no_token() {
    let w = world().await;
    w.tg().fail_next_send(400, "Bad Request: chat not found");
    let reply = w.send_text(KEY_A, "telegram", "tg", "hi").await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    assert_eq!(reply.body["ok"], false);
    assert_eq!(reply.body["error"], "telegram send failed");
    assert!(
        reply.body["details"].to_string().contains("chat not found"),
        "{}",
        reply.body
    );
    assert!(!String::from_utf8_lossy(&reply.raw).contains(TOKEN));
    w.stop().await;
}

#[actix_web::test]
async fn a_telegram_5xx_is_a_502_at_once() {
    let w = world().await;
    w.tg().fail_next_send(502, "Bad Gateway");
    let reply = w.send_text(KEY_A, "telegram", "tg", "hi").await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{}", reply.body);
    assert_eq!(
        reply.body,
        json!({"ok": false, "error": "telegram send failed",
               "details": {"status": 502, "error_code": 502, "description": "Bad Gateway"}})
    );
    assert_eq!(
        w.tg().recorder.calls("/sendmessage").len(),
        1,
        "not retried: it may have been sent"
    );
    w.stop().await;
}

#[actix_web::test]
async fn media_urls_are_passed_on_as_given_duplicates_included() {
    let w = world().await;
    let again = "https://img.example/same.jpg";
    let reply = w
        .send(
            KEY_A,
            json!({"channel": "telegram", "sessionKey": "tg", "mediaUrl": again,
                   "mediaUrls": [again, "https://img.example/other.jpg", again]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let photos: Vec<_> = w
        .tg()
        .recorder
        .calls("/sendphoto")
        .into_iter()
        .map(|c| c.body["photo"].clone())
        .collect();
    assert_eq!(
        photos,
        vec![
            json!(again),
            json!(again),
            json!("https://img.example/other.jpg"),
            json!(again)
        ]
    );
    assert_eq!(
        reply.body["providerMessageIds"].as_array().map(Vec::len),
        Some(4)
    );
    w.stop().await;
}
