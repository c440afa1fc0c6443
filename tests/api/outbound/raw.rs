//! `raw` platform calls (contract §5a) through the public API: the platform's own call with its
//! extra fields (keyboards, components, interactive messages), always into the bound chat, edits
//! and deletes only of the tenant's own messages, and the same answers, idempotency and error
//! mapping as plain sends. Attempts to steer raw calls elsewhere are rows of `route_lock`.

use awc::http::StatusCode;
use serde_json::json;

use super::{CHANNEL, world};
use crate::helpers::{KEY_A, KEY_B};

fn keyboard() -> serde_json::Value {
    json!({"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}, {"text": "No", "callback_data": "no"}]]})
}

#[actix_web::test]
async fn a_telegram_keyboard_goes_out_through_raw_into_the_bound_chat_without_text_fields() {
    let app = world().await;
    let reply = app
        .send(
            KEY_A,
            json!({"channel": "telegram", "sessionKey": "tg", "raw": {"telegram": {
                "method": "sendMessage",
                "body": {"chat_id": 556, "text": "Pick one", "reply_markup": keyboard()}}}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["chatId"], "555");
    let id = reply.body["messageId"]
        .as_str()
        .expect("message id")
        .to_owned();
    assert_eq!(reply.body["providerMessageIds"], json!([id]));
    let sent = app.tg().sent_of("sendMessage");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["chat_id"], 555, "chat_id comes from the binding");
    assert_eq!(sent[0]["reply_markup"], keyboard());
    assert!(app.tg().texts_to(556).is_empty());

    // The topic-bound route: the bound topic, whatever the body says.
    let topic = app
        .send(
            KEY_A,
            json!({"channel": "telegram", "sessionKey": "tg-topic", "raw": {"telegram": {
                "method": "sendChatAction", "body": {"action": "typing", "message_thread_id": 1}}}}),
        )
        .await;
    assert_eq!(topic.status, StatusCode::OK, "{}", topic.body);
    let action = app.tg().sent_of("sendChatAction");
    assert_eq!(
        (&action[0]["chat_id"], &action[0]["message_thread_id"]),
        (&json!(-100888), &json!(42))
    );
    assert_eq!(topic.body["providerMessageIds"], json!([]));
    app.stop().await;
}

#[actix_web::test]
async fn raw_requests_are_validated_before_anything_is_sent() {
    let app = world().await;
    let cases = [
        (
            json!({"channel": "telegram", "sessionKey": "tg", "raw": {"telegram": {"method": "forwardMessage", "body": {}}}}),
            "unsupported telegram raw method",
        ),
        (
            json!({"channel": "telegram", "sessionKey": "tg", "raw": {"discord": {"body": {}}}}),
            "raw.telegram required",
        ),
        (
            json!({"channel": "telegram", "sessionKey": "tg", "raw": "sendMessage"}),
            "raw must be an object",
        ),
        (
            json!({"channel": "discord", "sessionKey": "dc-guild", "raw": {"discord": {"method": "delete", "messageId": "1"}}}),
            "unsupported discord raw method",
        ),
        (
            json!({"channel": "whatsapp", "sessionKey": "wa", "raw": {"whatsapp": {"body": ["x"]}}}),
            "raw.whatsapp.body must be an object",
        ),
    ];
    for (body, error) in cases {
        let reply = app.send(KEY_A, body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.body["error"], error, "{body}");
    }
    assert!(app.tg().sent().is_empty());
    assert!(app.wa().sent().is_empty());
    app.stop().await;
}

#[actix_web::test]
async fn telegram_edits_and_deletes_reach_only_messages_sent_for_the_tenant() {
    let app = world().await;
    let sent = app
        .send(
            KEY_A,
            json!({"channel": "telegram", "sessionKey": "tg", "text": "draft"}),
        )
        .await;
    let id: i64 = sent.body["messageId"].as_str().unwrap().parse().unwrap();
    let edit = |method: &str, message_id: i64| {
        json!({"channel": "telegram", "sessionKey": "tg", "raw": {"telegram": {"method": method,
            "body": {"message_id": message_id, "text": "final", "reply_markup": keyboard()}}}})
    };
    let ok = app.send(KEY_A, edit("editMessageText", id)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["messageId"], id.to_string());
    let edits = app.tg().sent_of("editMessageText");
    assert_eq!(
        (&edits[0]["chat_id"], &edits[0]["text"]),
        (&json!(555), &json!("final"))
    );

    // A message mux never sent for A (a user's, or one it sent for another tenant): refused.
    let foreign = app.send(KEY_A, edit("deleteMessage", id + 1000)).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN, "{}", foreign.body);
    assert_eq!(
        foreign.body["error"],
        "message was not sent for this tenant"
    );
    let theirs = app
        .send(
            KEY_B,
            json!({"channel": "telegram", "sessionKey": "tg-b", "raw": {"telegram": {
            "method": "editMessageReplyMarkup", "body": {"message_id": id, "chat_id": 555}}}}),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN, "{}", theirs.body);
    assert!(app.tg().sent_of("deleteMessage").is_empty());
    assert!(app.tg().sent_of("editMessageReplyMarkup").is_empty());

    let delete = app.send(KEY_A, edit("deleteMessage", id)).await;
    assert_eq!(delete.status, StatusCode::OK, "{}", delete.body);
    assert_eq!(app.tg().sent_of("deleteMessage")[0]["chat_id"], 555);
    app.stop().await;
}

#[actix_web::test]
async fn discord_components_go_to_the_bound_channel_and_edits_only_to_its_own_messages() {
    let app = world().await;
    let components = json!([{"type": 1, "components": [{"type": 2, "style": 1, "label": "Go", "custom_id": "go"}]}]);
    let reply = app
        .send(
            KEY_A,
            json!({"channel": "discord", "sessionKey": "dc-guild", "raw": {"discord": {"body": {
                "content": "Ready?", "components": components, "channel_id": "503",
                "message_reference": {"message_id": "77", "channel_id": "601", "type": 1}}}}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["channelId"], CHANNEL.to_string());
    let posted = app.dc().posts_to(CHANNEL);
    assert_eq!(
        posted[0],
        json!({"content": "Ready?", "components": components, "message_reference": {"message_id": "77"}}),
        "only message fields; the reference stays a reply in the bound channel"
    );
    let id = reply.body["messageId"].as_str().unwrap().to_owned();

    let edit = app
        .send(
            KEY_A,
            json!({"channel": "discord", "sessionKey": "dc-guild", "raw": {"discord": {
                "method": "edit", "messageId": id, "body": {"content": "Done", "components": []}}}}),
        )
        .await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.body);
    assert_eq!(
        app.dc().edits(),
        vec![(
            CHANNEL,
            id.clone(),
            json!({"content": "Done", "components": []})
        )]
    );

    let foreign = app
        .send(
            KEY_A,
            json!({"channel": "discord", "sessionKey": "dc-guild", "raw": {"discord": {
                "method": "edit", "messageId": "1234567890", "body": {"content": "x"}}}}),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN, "{}", foreign.body);
    assert_eq!(app.dc().edits().len(), 1, "nothing edited");
    app.stop().await;
}

#[actix_web::test]
async fn a_whatsapp_interactive_message_goes_to_the_bound_number() {
    let app = world().await;
    let interactive = json!({"type": "button", "body": {"text": "Pick"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}}]}});
    let reply = app
        .send(
            KEY_A,
            json!({"channel": "whatsapp", "sessionKey": "wa", "raw": {"whatsapp": {"body": {
                "to": "+15550002222", "recipient_type": "group", "messaging_product": "other",
                "type": "interactive", "interactive": interactive}}}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply.body["messageId"]
            .as_str()
            .unwrap()
            .starts_with("wamid.")
    );
    let sent = app.wa().sent();
    assert_eq!(
        sent,
        vec![
            json!({"to": "+15550001111", "recipient_type": "individual", "messaging_product": "whatsapp",
            "type": "interactive", "interactive": interactive})
        ]
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_refused_raw_call_is_a_502_with_the_platforms_description_and_replays_by_key() {
    let app = world().await;
    app.tg()
        .fail_next_send(400, "Bad Request: BUTTON_DATA_INVALID");
    let body = json!({"channel": "telegram", "sessionKey": "tg", "raw": {"telegram": {
        "method": "sendMessage", "body": {"text": "x", "reply_markup": keyboard()}}}});
    let first = app.send_idem(KEY_A, "raw-1", body.clone()).await;
    assert_eq!(first.status, StatusCode::BAD_GATEWAY, "{}", first.body);
    assert_eq!(first.body["error"], "telegram send failed");
    assert_eq!(
        first.body["details"]["description"],
        "Bad Request: BUTTON_DATA_INVALID"
    );
    let again = app.send_idem(KEY_A, "raw-1", body).await;
    assert_eq!(again.raw, first.raw, "the stored answer, byte for byte");
    assert_eq!(
        app.tg().recorder.calls("/sendmessage").len(),
        1,
        "sent once"
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_raw_call_waits_out_telegrams_rate_limit_within_the_deadline_and_answers_429_beyond_it() {
    let app = world().await;
    let body = json!({"channel": "telegram", "sessionKey": "tg", "raw": {"telegram": {
        "method": "sendMessage", "body": {"text": "x", "reply_markup": keyboard()}}}});
    app.tg().rate_limit_next_send(1);
    let waited = app.send(KEY_A, body.clone()).await;
    assert_eq!(waited.status, StatusCode::OK, "{}", waited.body);
    let calls = app.tg().recorder.calls("/sendmessage");
    assert_eq!(calls.len(), 2, "the same call repeated after retry_after");
    assert_eq!(calls[0].body, calls[1].body);

    app.tg().rate_limit_next_send(30);
    let limited = app.send_idem(KEY_A, "raw-429", body).await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.body
    );
    assert_eq!(limited.body["code"], "RATE_LIMITED");
    assert_eq!(
        limited
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("30")
    );
    app.stop().await;
}
