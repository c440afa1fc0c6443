//! Issue 9.4: slow and stalled clients, unauthenticated webhook bodies, connections per peer.
//! These speak raw HTTP/1.1 over TCP: an HTTP client cannot stall its own body.

use std::time::Duration;

use actix_web::rt::net::TcpStream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{KEY_A, SEND, TestApp, two_tenants};

/// Bound on how long a test waits for the server (a broken build must not hang CI).
const PATIENCE: Duration = Duration::from_secs(20);

async fn connect(app: &TestApp) -> TcpStream {
    let addr = app.address.trim_start_matches("http://");
    TcpStream::connect(addr).await.expect("connects")
}

/// Everything the server sends until it closes the connection; panics if it never does.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut got)).await;
    match read {
        Ok(Ok(_)) => {}
        // A reset after the answer also closes it.
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Ok(Err(e)) => panic!("read failed: {e}"),
        Err(_) => panic!(
            "the server kept the connection open; got so far: {}",
            String::from_utf8_lossy(&got)
        ),
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Headers announcing a body of 100 bytes, and then no body.
fn stalled_post(path: &str, extra: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: mux\r\nContent-Type: application/json\r\n{extra}Content-Length: 100\r\n\r\n"
    )
}

async fn app_with(vars: &[(&'static str, &str)]) -> TestApp {
    TestApp::builder()
        .vars(two_tenants())
        .vars(vars.iter().map(|(k, v)| (*k, (*v).to_owned())))
        .spawn()
        .await
}

#[actix_web::test]
async fn a_stalled_body_is_answered_408_and_the_connection_closed() {
    let app = app_with(&[("MUX_CLIENT_TIMEOUT_MS", "300")]).await;
    let mut s = connect(&app).await;
    let head = stalled_post(SEND, &format!("Authorization: Bearer {KEY_A}\r\n"));
    s.write_all(head.as_bytes()).await.expect("write");
    let answer = read_until_closed(&mut s).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"REQUEST_TIMEOUT""#), "{answer}");
    assert!(answer.contains(r#""ok":false"#), "{answer}");
    app.stop().await;
}

#[actix_web::test]
async fn a_stalled_request_head_is_closed() {
    let app = app_with(&[("MUX_CLIENT_TIMEOUT_MS", "300")]).await;
    let mut s = connect(&app).await;
    s.write_all(b"GET /health HTTP/1.1\r\nHost: mux\r\n")
        .await
        .expect("write");
    let answer = read_until_closed(&mut s).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    app.stop().await;
}

#[actix_web::test]
async fn an_unauthenticated_webhook_body_is_refused_before_it_is_read() {
    // A client timeout far beyond the test's patience: only an early answer passes.
    let app = TestApp::builder()
        .vars(two_tenants())
        .telegram_polling()
        .vars([
            (
                "MUX_TELEGRAM_WEBHOOK_URL",
                "https://mux.example/v1/ingress/telegram",
            ),
            ("MUX_TELEGRAM_WEBHOOK_SECRET", "hook-secret"),
            ("MUX_CLIENT_TIMEOUT_MS", "60000"),
        ])
        .spawn()
        .await;
    for secret in ["", "X-Telegram-Bot-Api-Secret-Token: wrong\r\n"] {
        let mut s = connect(&app).await;
        s.write_all(stalled_post("/v1/ingress/telegram", secret).as_bytes())
            .await
            .expect("write");
        let answer = read_until_closed(&mut s).await;
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    }
    // The same for a tenant path without a key.
    let mut s = connect(&app).await;
    s.write_all(stalled_post(SEND, "").as_bytes())
        .await
        .expect("write");
    assert!(read_until_closed(&mut s).await.starts_with("HTTP/1.1 401"));
    app.stop().await;
}

#[actix_web::test]
async fn in_polling_mode_the_webhook_route_answers_at_once() {
    let app = TestApp::builder()
        .vars(two_tenants())
        .telegram_polling()
        .var("MUX_CLIENT_TIMEOUT_MS", "60000")
        .spawn()
        .await;
    let mut s = connect(&app).await;
    s.write_all(stalled_post("/v1/ingress/telegram", "").as_bytes())
        .await
        .expect("write");
    let answer = read_until_closed(&mut s).await;
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    app.stop().await;
}

/// A keep-alive `GET /health` on `s`; the status line of the answer.
async fn health_on(s: &mut TcpStream) -> String {
    s.write_all(b"GET /health HTTP/1.1\r\nHost: mux\r\n\r\n")
        .await
        .expect("write");
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(PATIENCE, s.read(&mut buf))
        .await
        .expect("answered")
        .expect("read");
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    text.lines().next().unwrap_or_default().to_owned()
}

#[actix_web::test]
async fn connections_beyond_the_per_peer_cap_are_refused_and_closed() {
    let app = app_with(&[
        ("MUX_MAX_CONNECTIONS_PER_PEER", "2"),
        ("MUX_CONNECTION_CAP_EXEMPT", "none"),
    ])
    .await;
    let (mut a, mut b) = (connect(&app).await, connect(&app).await);
    assert_eq!(health_on(&mut a).await, "HTTP/1.1 200 OK");
    assert_eq!(health_on(&mut b).await, "HTTP/1.1 200 OK");
    let mut c = connect(&app).await;
    c.write_all(b"GET /health HTTP/1.1\r\nHost: mux\r\n\r\n")
        .await
        .expect("write");
    let answer = read_until_closed(&mut c).await;
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(answer.contains("TOO_MANY_CONNECTIONS"), "{answer}");
    // Closing one frees its slot.
    drop(a);
    let mut freed = false;
    for _ in 0..100 {
        let mut d = connect(&app).await;
        if health_on(&mut d).await == "HTTP/1.1 200 OK" {
            freed = true;
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(freed, "a closed connection no longer counts");
    drop(b);
    app.stop().await;
}
