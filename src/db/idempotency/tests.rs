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

fn look(c: &mut SqliteConnection, fp: &str, now: i64) -> Result<Reservation, StoreError> {
    lookup(c, "t", "k", fp, now)
}

fn store(fp: &str, now: i64, outcome: Outcome) -> StoreOutcome {
    StoreOutcome {
        tenant_id: "t".into(),
        key: "k".into(),
        fingerprint: fp.into(),
        owner: "p1".into(),
        now_ms: now,
        expires_at_ms: now + 1000,
        outcome,
    }
}

fn answered(fp: &str, now: i64) -> StoreOutcome {
    store(
        fp,
        now,
        Outcome::Answered {
            status: 200,
            body: r#"{"ok":true}"#.into(),
        },
    )
}

fn partial(now: i64, sent: &[&str]) -> StoreOutcome {
    let sent_ids = sent.iter().map(|s| (*s).to_owned()).collect();
    store("f", now, Outcome::Partial { sent_ids })
}

#[test]
fn a_stored_answer_is_replayed_for_the_same_body_and_refused_for_another() {
    let (_dir, mut c) = conn();
    assert_eq!(look(&mut c, "f", 0), Ok(Reservation::Free));
    answered("f", 0).apply(&mut c).expect("store");
    assert_eq!(
        look(&mut c, "f", 2),
        Ok(Reservation::Replay {
            status: 200,
            body: r#"{"ok":true}"#.into()
        })
    );
    assert_eq!(look(&mut c, "other", 3), Ok(Reservation::Mismatch));
}

#[test]
fn durable_reservations_of_an_older_build_are_released_at_start_but_answers_stay() {
    let (_dir, mut c) = conn();
    diesel::sql_query(
        "INSERT INTO idempotency_keys (tenant_id, idem_key, state, fingerprint, owner, created_at_ms, expires_at_ms) \
         VALUES ('t', 'k', 'reserved', 'f', 'dead', 0, 1000), ('t', 'k2', 'reserved', 'f', 'dead', 0, 1000)",
    )
    .execute(&mut c)
    .expect("old rows");
    assert_eq!(look(&mut c, "f", 1), Ok(Reservation::InFlight));
    assert_eq!(
        ReleaseStaleReservations { owner: "p2".into() }.apply(&mut c),
        Ok(2)
    );
    assert_eq!(look(&mut c, "f", 1), Ok(Reservation::Free));
    answered("f", 1).apply(&mut c).expect("store");
    assert_eq!(
        ReleaseStaleReservations { owner: "p3".into() }.apply(&mut c),
        Ok(0)
    );
    assert!(matches!(
        look(&mut c, "f", 2),
        Ok(Reservation::Replay { .. })
    ));
}

#[test]
fn expired_entries_are_free_overwritten_and_swept() {
    let (_dir, mut c) = conn();
    answered("f", 0).apply(&mut c).expect("store");
    assert_eq!(look(&mut c, "other", 1000), Ok(Reservation::Free));
    answered("other", 1000).apply(&mut c).expect("overwrite");
    assert!(matches!(
        look(&mut c, "other", 1001),
        Ok(Reservation::Replay { .. })
    ));
    assert_eq!(PruneIdempotencyKeys { now_ms: 5000 }.apply(&mut c), Ok(1));
    assert_eq!(PruneIdempotencyKeys { now_ms: 5000 }.apply(&mut c), Ok(0));
    assert_eq!(look(&mut c, "other", 5000), Ok(Reservation::Free));
}

#[test]
fn a_partial_send_is_resumed_by_the_next_request_with_the_same_body_then_answered() {
    let (_dir, mut c) = conn();
    partial(0, &["1", "2"]).apply(&mut c).expect("progress");
    assert_eq!(look(&mut c, "g", 1), Ok(Reservation::Mismatch));
    assert_eq!(
        look(&mut c, "f", 1),
        Ok(Reservation::Resume {
            sent: vec!["1".into(), "2".into()]
        })
    );
    // A resumed send cut short again records how far it got now.
    partial(2, &["1", "2", "3"]).apply(&mut c).expect("more");
    assert_eq!(
        look(&mut c, "f", 3),
        Ok(Reservation::Resume {
            sent: vec!["1".into(), "2".into(), "3".into()]
        })
    );
    answered("f", 4).apply(&mut c).expect("done");
    assert!(matches!(
        look(&mut c, "f", 5),
        Ok(Reservation::Replay { status: 200, .. })
    ));
}
