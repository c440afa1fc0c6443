use std::time::Duration;

use awc::http::StatusCode;
use serde_json::json;

use super::{world, world_with};
use crate::helpers::KEY_A;
use mux_server::testkit::Scripted;

#[actix_web::test]
async fn a_429_within_the_deadline_is_waited_out_and_retried() {
    let w = world().await;
    w.tg().rate_limit_next_send(1);
    let reply = w.send_text(KEY_A, "telegram", "tg", "hi").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let calls = w.tg().recorder.calls("/sendmessage");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].body, calls[1].body, "the same request is repeated");
    w.stop().await;
}

#[actix_web::test]
async fn a_429_beyond_the_deadline_answers_429_with_retry_after_and_keeps_the_key_free() {
    let w = world().await;
    w.tg().rate_limit_next_send(30);
    let body = json!({"channel": "telegram", "sessionKey": "tg", "text": "hi"});
    let reply = w.send_idem(KEY_A, "k-429", body.clone()).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.body
    );
    assert_eq!(reply.body["code"], "RATE_LIMITED");
    assert_eq!(
        reply
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("30")
    );
    assert_eq!(w.tg().recorder.calls("/sendmessage").len(), 1);
    // Nothing was delivered, so the same key tries again (and now succeeds).
    let again = w.send_idem(KEY_A, "k-429", body).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    w.stop().await;
}

#[actix_web::test]
async fn a_platform_that_hangs_past_the_deadline_is_504_outcome_unknown_and_replayed_without_resending()
 {
    let w = world_with(vec![("MUX_OUTBOUND_DEADLINE_MS", "1000".to_owned())]).await;
    w.tg().recorder.script(
        Scripted::new("/sendMessage", 200, json!({"ok": true, "result": {"message_id": 1, "date": 0, "chat": {"id": 555, "type": "private"}}}))
            .delay(Duration::from_secs(5)),
    );
    let body = json!({"channel": "telegram", "sessionKey": "tg", "text": "hi"});
    let reply = w.send_idem(KEY_A, "k-hang", body.clone()).await;
    assert_eq!(reply.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        reply.body,
        json!({"ok": false, "error": "platform outcome unknown", "code": "OUTCOME_UNKNOWN"})
    );
    let again = w.send_idem(KEY_A, "k-hang", body).await;
    assert_eq!(again.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(again.raw, reply.raw);
    assert_eq!(
        w.tg().recorder.calls("/sendmessage").len(),
        1,
        "never re-sent by mux"
    );
    w.stop().await;
}
