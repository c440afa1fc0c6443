//! No secret in any log line: a capturing logger (debug level, every target) watches every line
//! the test binary writes while the sends below fail in every way they can.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

use awc::http::StatusCode;
use serde_json::json;

use super::{send, vars, world};
use crate::outbound::fakes::{self, Scripted};
use crate::helpers::{KEY_A, spawn_app_with};

const SECRETS: [&str; 3] = [fakes::telegram::TOKEN, fakes::discord::TOKEN, fakes::whatsapp::TOKEN];

static LEAKS: Mutex<Vec<String>> = Mutex::new(Vec::new());
static SEND_LINES: AtomicUsize = AtomicUsize::new(0);

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let line = format!("{} {}", record.target(), record.args());
        if SECRETS.iter().any(|s| line.contains(s)) {
            LEAKS.lock().unwrap().push(line.clone());
        }
        if line.contains("event=outbound_send") {
            assert!(line.contains("tenant=") && line.contains("channel=") && line.contains("status="));
            assert!(!line.contains("secret-text"), "no message text in the send line: {line}");
            SEND_LINES.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn flush(&self) {}
}

fn capture_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        log::set_logger(&Capture).expect("no other logger in the test binary");
        log::set_max_level(log::LevelFilter::Debug);
    });
}

#[actix_web::test]
async fn no_token_appears_in_any_log_line_or_answer() {
    capture_logs();
    let w = world().await;
    let text = json!("secret-text");
    for (channel, session) in [("telegram", "tg"), ("discord", "dc-dm"), ("whatsapp", "wa")] {
        let ok = send(&w.app, KEY_A, json!({"channel": channel, "sessionKey": session, "text": text})).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    }
    w.tg.recorder.script(Scripted::new("/SendMessage", 401, json!({"ok": false, "error_code": 401, "description": "Unauthorized"})));
    w.wa.recorder.script(Scripted::new("/messages", 401, json!({"error": {"message": "bad token", "code": 190}})));
    w.dc.recorder.script(Scripted::new("/messages", 403, json!({"message": "Missing Access", "code": 50001})));
    for (channel, session) in [("telegram", "tg"), ("discord", "dc-guild"), ("whatsapp", "wa")] {
        let failed = send(&w.app, KEY_A, json!({"channel": channel, "sessionKey": session, "text": text})).await;
        assert_eq!(failed.status, StatusCode::BAD_GATEWAY, "{}", failed.body);
        assert!(SECRETS.iter().all(|s| !String::from_utf8_lossy(&failed.raw).contains(s)));
    }
    w.stop().await;

    // A Telegram that cannot be reached: reqwest's error names the URL, which holds the token.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let dead = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let (tg, dc, wa) = (fakes::telegram::start(), fakes::discord::start(), fakes::whatsapp::start());
    let mut env = vars(&tg, &dc, &wa, &[]);
    env.push(("MUX_TELEGRAM_API_BASE_URL", dead));
    let app = spawn_app_with(env).await;
    let claimed = app
        .post("/v1/pairings/claim", Some(KEY_A), json!({"code": "TG-CHAT", "sessionKey": "tg"}))
        .await;
    assert_eq!(claimed.status, StatusCode::OK);
    let unreachable = send(&app, KEY_A, json!({"channel": "telegram", "sessionKey": "tg", "text": text})).await;
    assert_eq!(unreachable.status, StatusCode::BAD_GATEWAY, "{}", unreachable.body);
    let answer = String::from_utf8_lossy(&unreachable.raw).into_owned();
    assert!(!answer.contains(fakes::telegram::TOKEN), "{answer}");
    assert!(answer.contains("connect"), "the cause is named: {answer}");
    app.stop().await;

    assert!(SEND_LINES.load(Ordering::SeqCst) >= 7, "one line per send");
    let leaks = LEAKS.lock().unwrap().clone();
    assert!(leaks.is_empty(), "secrets in logs: {leaks:#?}");
}
