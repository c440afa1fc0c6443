//! Closing note of issue 9: the default URL policy lets a tenant aim its inbound target at
//! private addresses. What it learns back through `lastError` is a coarse class only.

use mux_server::testkit::openclaw::Mode;
use serde_json::{Value, json};

use crate::helpers::{KEY_A, KEY_B, TestApp};

const KEY_C: &str = "key-tenant-c";
use crate::inbound_telegram::spawn_polling;

/// The caller's one pending delivery's `lastError`, once it has one.
async fn last_error(app: &TestApp, key: &str) -> String {
    for _ in 0..500 {
        let r = app
            .get("/v1/tenant/deliveries?status=pending", Some(key))
            .await;
        let items = r.body["items"].as_array().cloned().unwrap_or_default();
        if let Some(Value::String(e)) = items.first().map(|i| i["lastError"].clone()) {
            return e;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no failed attempt recorded");
}

#[actix_web::test]
async fn a_tenant_sees_only_the_class_of_a_failed_delivery() {
    let app = spawn_polling(&[]).await;
    app.bind(KEY_A, "A1", "sa").await;
    app.bind(KEY_B, "B2", "sb").await;
    app.bind(KEY_C, "C3", "sc").await;
    // A: a closed port on a private address (here loopback).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let set = app
        .set_inbound_target(
            KEY_A,
            json!({"inboundUrl": format!("http://127.0.0.1:{port}/probe"), "inboundToken": "t"}),
        )
        .await;
    assert_eq!(set.status.as_u16(), 200, "{}", set.body);
    // B: an endpoint that never answers; C: one that answers 503.
    app.oc().set_mode("tenant-b", Mode::Hang);
    app.oc().set_mode("tenant-c", Mode::Status(503));
    app.tg().push_text(1, 11, "to a");
    app.tg().push_text(2, 12, "to b");
    app.tg().push_text(3, 13, "to c");
    assert_eq!(last_error(&app, KEY_A).await, "connect_failed");
    assert_eq!(last_error(&app, KEY_B).await, "timeout");
    assert_eq!(last_error(&app, KEY_C).await, "HTTP 503");
    app.oc().recover();
    app.stop().await;
}
