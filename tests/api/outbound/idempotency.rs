use std::time::Duration;

use awc::http::StatusCode;
use serde_json::json;

use super::world;
use crate::helpers::{KEY_A, KEY_B};
use mux_server::testkit::Scripted;

fn hello() -> serde_json::Value {
    json!({"channel": "telegram", "sessionKey": "tg", "text": "hello"})
}

#[actix_web::test]
async fn the_same_key_and_body_replay_the_first_answer_byte_for_byte() {
    let w = world().await;
    let first = w.send_idem(KEY_A, "k-1", hello()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    // Same JSON, other whitespace and key order: still the same body.
    let again = w
        .send_raw(
            KEY_A,
            Some("k-1"),
            r#"{ "text":"hello", "sessionKey":"tg",  "channel":"telegram" }"#.to_owned(),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.raw, first.raw);
    assert_eq!(
        w.tg().recorder.calls("/sendmessage").len(),
        1,
        "one platform call"
    );

    let other = w
        .send_idem(
            KEY_A,
            "k-1",
            json!({"channel": "telegram", "sessionKey": "tg", "text": "bye"}),
        )
        .await;
    assert_eq!(other.status, StatusCode::CONFLICT);
    assert_eq!(
        other.body,
        json!({"ok": false, "error": "idempotency key reused with different payload"})
    );

    // Keys are per tenant: B's "k-1" is its own (and B's session is not bound → 403).
    let b = w.send_idem(KEY_B, "k-1", hello()).await;
    assert_eq!(b.status, StatusCode::FORBIDDEN);
    assert_eq!(w.tg().recorder.calls("/sendmessage").len(), 1);
    w.stop().await;
}

#[actix_web::test]
async fn concurrent_duplicates_wait_for_the_first_and_share_its_answer() {
    let w = world().await;
    w.tg().recorder.script(
        Scripted::new("/sendMessage", 200, json!({"ok": true, "result": {"message_id": 77, "date": 0, "chat": {"id": 555, "type": "private"}, "text": "hello"}}))
            .delay(Duration::from_millis(500)),
    );
    let sends = (0..5).map(|_| w.send_idem(KEY_A, "dup", hello()));
    let answers = futures_util::future::join_all(sends).await;
    for a in &answers {
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(a.raw, answers[0].raw);
    }
    assert_eq!(answers[0].body["messageId"], "77");
    assert_eq!(
        w.tg().recorder.calls("/sendmessage").len(),
        1,
        "one platform call for five requests"
    );
    w.stop().await;
}

#[actix_web::test]
async fn a_replay_after_restart_sends_nothing_to_the_platform() {
    let w = world().await;
    let first = w.send_idem(KEY_A, "k-restart", hello()).await;
    assert_eq!(first.status, StatusCode::OK);
    let w = w.restart().await;
    let before = w.tg().recorder.received().len();
    let replay = w.send_idem(KEY_A, "k-restart", hello()).await;
    assert_eq!(replay.status, StatusCode::OK);
    assert_eq!(replay.raw, first.raw);
    assert_eq!(
        w.tg().recorder.received().len(),
        before,
        "zero platform calls"
    );
    w.stop().await;
}

#[actix_web::test]
async fn a_403_is_stored_like_every_final_answer_also_across_a_restart() {
    let w = world().await;
    let unbound = json!({"channel": "telegram", "sessionKey": "not-bound", "text": "hello"});
    let first = w.send_idem(KEY_A, "k-403", unbound.clone()).await;
    assert_eq!(first.status, StatusCode::FORBIDDEN);
    assert_eq!(first.body["code"], "ROUTE_NOT_BOUND");
    let replay = w.send_idem(KEY_A, "k-403", unbound.clone()).await;
    assert_eq!(replay.status, StatusCode::FORBIDDEN);
    assert_eq!(replay.raw, first.raw, "replayed byte for byte");
    let other = w.send_idem(KEY_A, "k-403", hello()).await;
    assert_eq!(other.status, StatusCode::CONFLICT, "{}", other.body);
    assert_eq!(
        other.body,
        json!({"ok": false, "error": "idempotency key reused with different payload"})
    );

    let w = w.restart().await;
    let other = w.send_idem(KEY_A, "k-403", hello()).await;
    assert_eq!(other.status, StatusCode::CONFLICT, "after a restart too");
    let replay = w.send_idem(KEY_A, "k-403", unbound).await;
    assert_eq!(replay.raw, first.raw);
    assert_eq!(
        w.tg().recorder.calls("/sendmessage").len(),
        0,
        "nothing was ever sent"
    );
    w.stop().await;
}

#[actix_web::test]
async fn a_400_validation_error_is_not_stored() {
    let w = world().await;
    let invalid = json!({"channel": "telegram", "sessionKey": 12, "text": "hello"});
    let first = w.send_idem(KEY_A, "k-400", invalid).await;
    assert_eq!(first.status, StatusCode::BAD_REQUEST);
    // Had the 400 been stored, another body would now be a 409.
    let again = w.send_idem(KEY_A, "k-400", hello()).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    w.stop().await;
}

#[actix_web::test]
async fn a_durable_reservation_left_by_an_older_build_is_released_at_start() {
    let w = world().await;
    let world = w.world.clone();
    let dir = w.stop().await;
    // What a process of a build before issue 12 (durable reservations) killed between the
    // reservation and the platform call leaves behind.
    let mut conn = mux_server::db::open_writer(&dir.path().join("mux.sqlite")).expect("db");
    diesel::RunQueryDsl::execute(
        diesel::sql_query(
            "INSERT INTO idempotency_keys (tenant_id, idem_key, state, fingerprint, owner, created_at_ms, expires_at_ms) \
             VALUES ('tenant-a', 'k-crash', 'reserved', 'whatever', 'proc_dead', 0, 9999999999999)",
        ),
        &mut conn,
    )
    .expect("insert");
    drop(conn);
    let w = world.spawn_in(dir).await;
    let reply = w.send_idem(KEY_A, "k-crash", hello()).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "sent once more (at-least-once): {}",
        reply.body
    );
    assert_eq!(w.tg().recorder.calls("/sendmessage").len(), 1);
    w.stop().await;
}
