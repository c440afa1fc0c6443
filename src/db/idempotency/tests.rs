use diesel::prelude::*;

use super::*;
use crate::db::open_writer;

fn conn() -> (tempfile::TempDir, SqliteConnection) {
    let dir = tempfile::tempdir().expect("dir");
    let mut conn = open_writer(&dir.path().join("t.sqlite")).expect("db");
    diesel::sql_query(
        "INSERT INTO tenants (id, name, status, created_at_ms, updated_at_ms) VALUES ('t', 't', 'active', 0, 0)",
    )
    .execute(&mut conn)
    .expect("tenant");
    (dir, conn)
}

fn reserve(fp: &str, owner: &str, now: i64) -> ReserveIdempotencyKey {
    ReserveIdempotencyKey {
        tenant_id: "t".into(),
        key: "k".into(),
        fingerprint: fp.into(),
        owner: owner.into(),
        now_ms: now,
        expires_at_ms: now + 1000,
    }
}

fn complete(owner: &str) -> CompleteIdempotencyKey {
    CompleteIdempotencyKey {
        tenant_id: "t".into(),
        key: "k".into(),
        owner: owner.into(),
        status: 200,
        body: r#"{"ok":true}"#.into(),
        expires_at_ms: 1000,
    }
}

#[test]
fn a_key_is_reserved_once_then_replayed_or_refused() {
    let (_dir, mut c) = conn();
    assert_eq!(
        reserve("f", "p1", 0).apply(&mut c),
        Ok(Reservation::Reserved)
    );
    assert_eq!(
        reserve("f", "p1", 1).apply(&mut c),
        Ok(Reservation::InFlight)
    );
    complete("p1").apply(&mut c).expect("complete");
    assert_eq!(
        reserve("f", "p1", 2).apply(&mut c),
        Ok(Reservation::Replay {
            status: 200,
            body: r#"{"ok":true}"#.into()
        })
    );
    assert_eq!(
        reserve("other", "p1", 3).apply(&mut c),
        Ok(Reservation::Mismatch)
    );
}

#[test]
fn a_released_key_can_be_reserved_again() {
    let (_dir, mut c) = conn();
    reserve("f", "p1", 0).apply(&mut c).expect("reserve");
    ReleaseIdempotencyKey {
        tenant_id: "t".into(),
        key: "k".into(),
        owner: "p1".into(),
    }
    .apply(&mut c)
    .expect("release");
    assert_eq!(
        reserve("g", "p1", 1).apply(&mut c),
        Ok(Reservation::Reserved)
    );
}

#[test]
fn reservations_of_a_dead_process_are_released_at_start_but_answers_stay() {
    let (_dir, mut c) = conn();
    reserve("f", "dead", 0).apply(&mut c).expect("reserve");
    assert_eq!(
        ReleaseStaleReservations { owner: "p2".into() }.apply(&mut c),
        Ok(1)
    );
    assert_eq!(
        reserve("f", "p2", 1).apply(&mut c),
        Ok(Reservation::Reserved)
    );
    complete("p2").apply(&mut c).expect("complete");
    assert_eq!(
        ReleaseStaleReservations { owner: "p3".into() }.apply(&mut c),
        Ok(0)
    );
}

#[test]
fn expired_entries_are_swept_and_no_longer_replayed() {
    let (_dir, mut c) = conn();
    reserve("f", "p1", 0).apply(&mut c).expect("reserve");
    complete("p1").apply(&mut c).expect("complete");
    assert_eq!(
        reserve("other", "p1", 1000).apply(&mut c),
        Ok(Reservation::Reserved)
    );
    assert_eq!(PruneIdempotencyKeys { now_ms: 5000 }.apply(&mut c), Ok(1));
    assert_eq!(PruneIdempotencyKeys { now_ms: 5000 }.apply(&mut c), Ok(0));
}

fn progress(owner: &str, sent: &[&str]) -> RecordSendProgress {
    RecordSendProgress {
        tenant_id: "t".into(),
        key: "k".into(),
        owner: owner.into(),
        sent_ids: sent.iter().map(|s| (*s).to_owned()).collect(),
        expires_at_ms: 1000,
    }
}

#[test]
fn a_partial_send_is_resumed_once_by_the_next_request_with_the_same_body() {
    let (_dir, mut c) = conn();
    reserve("f", "p1", 0).apply(&mut c).expect("reserve");
    progress("p1", &["1", "2"]).apply(&mut c).expect("progress");
    assert_eq!(
        reserve("g", "p1", 1).apply(&mut c),
        Ok(Reservation::Mismatch)
    );
    assert_eq!(
        reserve("f", "p1", 1).apply(&mut c),
        Ok(Reservation::Resume {
            sent: vec!["1".into(), "2".into()]
        })
    );
    // Held now: a concurrent request does not resume it a second time.
    assert_eq!(
        reserve("f", "p1", 2).apply(&mut c),
        Ok(Reservation::InFlight)
    );
    complete("p1").apply(&mut c).expect("complete");
    assert!(matches!(
        reserve("f", "p1", 3).apply(&mut c),
        Ok(Reservation::Replay { status: 200, .. })
    ));
}

#[test]
fn a_resumed_key_keeps_its_progress_when_released_or_its_process_dies() {
    let (_dir, mut c) = conn();
    reserve("f", "p1", 0).apply(&mut c).expect("reserve");
    progress("p1", &["1"]).apply(&mut c).expect("progress");
    reserve("f", "p1", 1).apply(&mut c).expect("resume");
    ReleaseIdempotencyKey {
        tenant_id: "t".into(),
        key: "k".into(),
        owner: "p1".into(),
    }
    .apply(&mut c)
    .expect("release");
    assert_eq!(
        reserve("f", "dead", 2).apply(&mut c),
        Ok(Reservation::Resume {
            sent: vec!["1".into()]
        })
    );
    ReleaseStaleReservations { owner: "p2".into() }
        .apply(&mut c)
        .expect("start");
    assert_eq!(
        reserve("f", "p2", 3).apply(&mut c),
        Ok(Reservation::Resume {
            sent: vec!["1".into()]
        })
    );
}
