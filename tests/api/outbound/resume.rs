//! Issue 9.2: a long text cut short by the rate limit is resumable under its Idempotency-Key.

use awc::http::StatusCode;
use serde_json::{Value, json};

use super::world_with;
use crate::helpers::{KEY_A, Sent};
use mux_server::testkit::Scripted;

/// 15 Telegram messages' worth of words (Telegram's limit is 4096 characters).
fn long_text() -> String {
    let text: String = (0..10_000)
        .map(|i| format!("w{:04} ", i % 10_000))
        .collect();
    assert!(text.len() > 14 * 4096 && text.len() <= 15 * 4096);
    text
}

fn ids(reply: &Sent, field: &str) -> Vec<String> {
    reply.body[field]
        .as_array()
        .unwrap_or_else(|| panic!("{field} in {}", reply.body))
        .iter()
        .map(|v| v.as_str().expect("string id").to_owned())
        .collect()
}

fn retry_after(reply: &Sent) -> Option<u64> {
    reply
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

#[actix_web::test]
async fn a_long_text_cut_short_by_pacing_answers_429_and_the_same_key_sends_only_the_rest() {
    // One message per 150 ms into a chat and a 600 ms deadline: a 15-part text cannot go out
    // in one request, as on the real Bot API (1/s per chat, 10 s deadline).
    let w = world_with(vec![
        ("MUX_TELEGRAM_PACING_ENABLED", "true".to_owned()),
        ("MUX_TELEGRAM_CHAT_INTERVAL_MS", "150".to_owned()),
        ("MUX_OUTBOUND_DEADLINE_MS", "600".to_owned()),
    ])
    .await;
    let text = long_text();
    let body = json!({"channel": "telegram", "sessionKey": "tg", "text": text});
    let first = w.send_idem(KEY_A, "long-1", body.clone()).await;
    assert_eq!(
        first.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        first.body
    );
    assert_eq!(first.body["code"], "RATE_LIMITED");
    assert!(retry_after(&first).is_some_and(|s| s >= 1));
    let mut sent = ids(&first, "sentMessageIds");
    assert!(!sent.is_empty() && sent.len() < 15, "{}", first.body);

    // Retries with the same key continue where the last one stopped, until it is complete.
    let mut last = first;
    for _ in 0..15 {
        last = w.send_idem(KEY_A, "long-1", body.clone()).await;
        if last.status != StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        let now = ids(&last, "sentMessageIds");
        assert_eq!(now[..sent.len()], sent[..], "earlier parts keep their ids");
        sent = now;
    }
    assert_eq!(last.status, StatusCode::OK, "{}", last.body);
    let all = ids(&last, "providerMessageIds");
    assert_eq!(all.len(), 15);
    assert_eq!(
        all[..sent.len()],
        sent[..],
        "one complete send: every id, in order"
    );
    assert_eq!(last.body["messageId"], json!(all[0]));

    // Each part went out exactly once, and together they are the text, byte for byte.
    let delivered = w.tg().texts_to(555);
    assert_eq!(delivered.len(), 15);
    assert_eq!(delivered.concat(), text);

    // The complete answer is what the key replays now.
    let replay = w.send_idem(KEY_A, "long-1", body).await;
    assert_eq!(replay.raw, last.raw);
    assert_eq!(w.tg().texts_to(555).len(), 15);
    w.stop().await;
}

#[actix_web::test]
async fn a_platform_429_mid_split_is_resumed_with_the_remaining_parts_only() {
    let w = world_with(vec![("MUX_OUTBOUND_DEADLINE_MS", "1000".to_owned())]).await;
    // Four parts go out, then Telegram asks for 30 s: longer than the deadline.
    for id in 9001..9005 {
        w.tg().recorder.script(Scripted::new(
            "/sendMessage",
            200,
            json!({"ok": true, "result": {"message_id": id, "date": 0, "chat": {"id": 555, "type": "private"}}}),
        ));
    }
    w.tg().rate_limit_next_send(30);
    let text = long_text();
    let body = json!({"channel": "telegram", "sessionKey": "tg", "text": text});
    let first = w.send_idem(KEY_A, "long-2", body.clone()).await;
    assert_eq!(
        first.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        first.body
    );
    assert_eq!(retry_after(&first), Some(30));
    assert_eq!(first.body["retryAfter"], json!(30));
    assert_eq!(
        ids(&first, "sentMessageIds"),
        vec!["9001", "9002", "9003", "9004"]
    );

    // A different body under the key is still a conflict, and sends nothing.
    let other = json!({"channel": "telegram", "sessionKey": "tg", "text": "other"});
    assert_eq!(
        w.send_idem(KEY_A, "long-2", other).await.status,
        StatusCode::CONFLICT
    );

    let done = w.send_idem(KEY_A, "long-2", body).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let all = ids(&done, "providerMessageIds");
    assert_eq!(all.len(), 15);
    assert_eq!(all[..4], ["9001", "9002", "9003", "9004"]);

    // 4 scripted + 1 refused + 11 answered by the fake: no part twice, none missing.
    let calls = w.tg().recorder.calls("/sendmessage");
    assert_eq!(calls.len(), 16);
    let accepted: Vec<&Value> = calls
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 4)
        .map(|(_, c)| &c.body["text"])
        .collect();
    let joined: String = accepted.iter().map(|t| t.as_str().expect("text")).collect();
    assert_eq!(joined, text);
    assert_eq!(
        calls[4].body, calls[5].body,
        "the refused part is the next sent"
    );
    w.stop().await;
}

#[actix_web::test]
async fn without_a_key_the_429_still_lists_what_went_out() {
    let w = world_with(vec![("MUX_OUTBOUND_DEADLINE_MS", "1000".to_owned())]).await;
    w.tg().recorder.script(Scripted::new(
        "/sendMessage",
        200,
        json!({"ok": true, "result": {"message_id": 7001, "date": 0, "chat": {"id": 555, "type": "private"}}}),
    ));
    w.tg().rate_limit_next_send(30);
    let reply = w.send_text(KEY_A, "telegram", "tg", long_text()).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.body
    );
    assert_eq!(reply.body["code"], "RATE_LIMITED");
    assert_eq!(ids(&reply, "sentMessageIds"), vec!["7001"]);
    w.stop().await;
}
