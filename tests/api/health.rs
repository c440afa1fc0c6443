use awc::http::StatusCode;
use serde_json::json;

use crate::helpers::{KEY_A, spawn_app};

#[actix_web::test]
async fn health_answers_ok_without_auth() {
    let app = spawn_app().await;
    let reply = app.get("/health", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({"ok": true}));
    app.stop().await;
}

#[actix_web::test]
async fn ready_reports_a_writable_database_and_disabled_channels() {
    let app = spawn_app().await;
    let reply = app.ready().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body,
        json!({"ok": true, "database": "ok", "channels": {
            "telegram": "disabled", "discord": "disabled", "whatsapp": "disabled"}})
    );
    app.stop().await;
}

#[actix_web::test]
async fn ready_answers_503_when_the_database_cannot_take_writes() {
    let app = spawn_app().await;
    // Another connection holds the write lock, as a stuck backup or a hand-run sqlite3 would.
    let mut blocker = rusqlite_like_lock(&app.db_path);
    let reply = app.ready().await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert_eq!(reply.body["ok"], json!(false));
    assert_ne!(reply.body["database"], json!("ok"));
    blocker.release();
    // The service recovers by itself once the lock is gone.
    let reply = app.ready().await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    app.stop().await;
}

#[actix_web::test]
async fn unknown_paths_answer_a_json_404() {
    let app = spawn_app().await;
    let reply = app.get("/v2/nothing", None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body, json!({"ok": false, "error": "not found"}));
    let reply = app.get("/v1/pairings/nothing", Some(KEY_A)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body["ok"], json!(false));
    app.stop().await;
}

/// Holds SQLite's write lock from a second connection until released.
struct WriteLock {
    tx: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WriteLock {
    fn release(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            t.join().expect("lock thread");
        }
    }
}

fn rusqlite_like_lock(path: &std::path::Path) -> WriteLock {
    use diesel::{Connection, RunQueryDsl, SqliteConnection};
    let url = path.to_string_lossy().into_owned();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (locked_tx, locked_rx) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let mut conn = SqliteConnection::establish(&url).expect("second connection");
        diesel::sql_query("BEGIN IMMEDIATE")
            .execute(&mut conn)
            .expect("take write lock");
        locked_tx.send(()).expect("signal");
        let _ = rx.recv();
        diesel::sql_query("ROLLBACK")
            .execute(&mut conn)
            .expect("release");
    });
    locked_rx.recv().expect("lock taken");
    WriteLock {
        tx: Some(tx),
        thread: Some(thread),
    }
}

#[actix_web::test]
async fn writes_answer_503_while_the_database_is_locked_and_work_again_after() {
    let app = spawn_app().await;
    let mut blocker = rusqlite_like_lock(&app.db_path);
    let reply = app.issue_token(KEY_A, json!({"channel": "telegram"})).await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert_eq!(
        reply.body,
        json!({"ok": false, "error": "database unavailable", "code": "DB_UNAVAILABLE"})
    );
    blocker.release();
    let reply = app.issue_token(KEY_A, json!({"channel": "telegram"})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    app.stop().await;
}

#[actix_web::test]
async fn ready_reads_telegram_connected_while_the_first_long_poll_is_still_open() {
    let world = crate::helpers::TestApp::builder()
        .telegram_polling()
        .var("MUX_TELEGRAM_POLL_TIMEOUT_SEC", "60");
    world
        .tg()
        .set_max_poll_wait(std::time::Duration::from_secs(120));
    let app = world.spawn().await;
    crate::helpers::eventually("a long poll is open", || app.tg().polls().0 == 1).await;
    assert_eq!(app.channel_state("telegram").await, json!("connected"));
    let (open, answered, _) = app.tg().polls();
    assert_eq!(
        (open, answered),
        (1, 0),
        "connected before any long poll returned"
    );
    let tg = world.tg().clone();
    app.stop().await;
    crate::helpers::eventually("the poll was abandoned at stop", || tg.polls().2 == 1).await;
}

#[actix_web::test]
async fn ready_reads_telegram_retrying_when_telegram_refuses_the_token() {
    let world = crate::helpers::TestApp::builder()
        .telegram_polling()
        .var("TELEGRAM_BOT_TOKEN", "999:not-the-token");
    let app = world.spawn().await;
    assert_eq!(app.channel_state("telegram").await, json!("retrying"));
    app.stop().await;
}
