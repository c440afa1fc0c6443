//! Request bodies (contract §5 step 1): a known field of the wrong JSON type is
//! `400 <field> must be <type>` — never coerced or ignored — on the outbound send and the other
//! tenant endpoints; a body that is not valid UTF-8 is a `400` on every endpoint that reads one.

use awc::http::StatusCode;
use serde_json::{Value, json};

use crate::admin::{ADMIN, admin_vars};
use crate::helpers::{KEY_A, SEND, TestApp, spawn_app_with};

async fn answer(app: &TestApp, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
    let reply = app.post(path, Some(key), body).await;
    (reply.status, reply.body)
}

fn bad(error: &str) -> (StatusCode, Value) {
    (
        StatusCode::BAD_REQUEST,
        json!({"ok": false, "error": error}),
    )
}

#[actix_web::test]
async fn an_outbound_field_of_the_wrong_type_is_a_400_naming_field_and_type() {
    let app = spawn_app_with(admin_vars()).await;
    let base = json!({"channel": "telegram", "sessionKey": "s", "text": "hi"});
    let cases = [
        ("channel", json!(7), "channel must be a string"),
        ("sessionKey", json!(12), "sessionKey must be a string"),
        ("text", json!({}), "text must be a string"),
        ("mediaUrl", json!(1), "mediaUrl must be a string"),
        (
            "mediaUrls",
            json!("x"),
            "mediaUrls must be an array of strings",
        ),
        (
            "mediaUrls",
            json!(["x", 2]),
            "mediaUrls must be an array of strings",
        ),
        (
            "threadId",
            json!(true),
            "threadId must be a string or integer",
        ),
        (
            "replyToId",
            json!([1]),
            "replyToId must be a string or integer",
        ),
        ("to", json!(1.5), "to must be a string or integer"),
    ];
    for (field, value, error) in cases {
        let mut body = base.clone();
        body[field] = value;
        assert_eq!(answer(&app, SEND, KEY_A, body).await, bad(error), "{field}");
    }
    app.stop().await;
}

#[actix_web::test]
async fn the_other_tenant_endpoints_name_the_wrong_type_too() {
    let app = spawn_app_with(admin_vars()).await;
    let cases = [
        (
            "/v1/pairings/token",
            json!({"channel": 1}),
            "channel must be a string",
        ),
        (
            "/v1/pairings/token",
            json!({"channel": "telegram", "sessionKey": 5}),
            "sessionKey must be a string",
        ),
        (
            "/v1/pairings/token",
            json!({"channel": "discord", "routeKey": ["x"]}),
            "routeKey must be a string",
        ),
        (
            "/v1/pairings/claim",
            json!({"code": 123}),
            "code must be a string",
        ),
        (
            "/v1/pairings/claim",
            json!({"code": "C", "sessionKey": {}}),
            "sessionKey must be a string",
        ),
        (
            "/v1/pairings/unbind",
            json!({"bindingId": 9}),
            "bindingId must be a string",
        ),
        (
            "/v1/tenant/inbound-target",
            json!({"inboundUrl": 1, "inboundToken": "t"}),
            "inboundUrl must be a string",
        ),
        (
            "/v1/tenant/inbound-target",
            json!({"inboundUrl": "http://x.example", "inboundToken": false}),
            "inboundToken must be a string",
        ),
    ];
    for (path, body, error) in cases {
        assert_eq!(answer(&app, path, KEY_A, body).await, bad(error), "{path}");
    }
    app.stop().await;
}

#[actix_web::test]
async fn a_body_that_is_not_utf8_is_a_400_on_every_endpoint_that_reads_one() {
    let app = spawn_app_with(admin_vars()).await;
    // Valid JSON structure, one string holding a byte that is never UTF-8.
    let mut bytes = br#"{"channel":"telegram","sessionKey":"s","text":"caf"#.to_vec();
    bytes.extend_from_slice(&[0xff, b'"', b'}']);
    let tenant = [
        SEND,
        "/v1/pairings/token",
        "/v1/pairings/claim",
        "/v1/pairings/unbind",
        "/v1/tenant/inbound-target",
    ];
    let admin = [
        "/v1/admin/tenants",
        "/v1/admin/tenants/tenant-a/keys",
        "/v1/admin/pairing-codes",
    ];
    let calls = tenant
        .iter()
        .map(|p| (*p, KEY_A))
        .chain(admin.iter().map(|p| (*p, ADMIN)));
    for (path, key) in calls {
        let reply = app.post_bytes(path, Some(key), bytes.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            reply.body
        );
        assert_eq!(reply.body["ok"], json!(false), "{path}");
        assert!(reply.body["error"].is_string(), "{path}");
    }
    app.stop().await;
}

#[actix_web::test]
async fn a_platform_webhook_body_that_is_not_utf8_is_a_400_and_stores_nothing() {
    use hmac::{Hmac, Mac};
    const APP_SECRET: &str = "meta-app-secret";
    let app = TestApp::builder()
        .telegram_polling()
        .whatsapp()
        .vars([
            (
                "MUX_TELEGRAM_WEBHOOK_URL",
                "https://mux.example/v1/ingress/telegram",
            ),
            ("MUX_TELEGRAM_WEBHOOK_SECRET", "hook-secret"),
            ("MUX_WHATSAPP_INBOUND_ENABLED", "true"),
            ("MUX_WHATSAPP_APP_SECRET", APP_SECRET),
            ("MUX_WHATSAPP_VERIFY_TOKEN", "verify"),
        ])
        .spawn()
        .await;
    let mut bytes = br#"{"update_id":1,"message":{"text":"caf"#.to_vec();
    bytes.extend_from_slice(&[0xc3, b'"', b'}', b'}']);
    let telegram = app
        .request(awc::http::Method::POST, "/v1/ingress/telegram", None)
        .insert_header(("X-Telegram-Bot-Api-Secret-Token", "hook-secret"))
        .send_body(bytes.clone())
        .await
        .expect("answer");
    assert_eq!(telegram.status(), StatusCode::BAD_REQUEST);

    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(APP_SECRET.as_bytes()).expect("key");
    mac.update(&bytes);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let whatsapp = app
        .request(awc::http::Method::POST, "/v1/ingress/whatsapp", None)
        .insert_header(("X-Hub-Signature-256", format!("sha256={hex}")))
        .send_body(bytes)
        .await
        .expect("answer");
    assert_eq!(
        whatsapp.status(),
        StatusCode::BAD_REQUEST,
        "correctly signed, but not UTF-8"
    );
    let dir = app.stop().await;
    assert_eq!(
        crate::helpers::count(&dir.path().join("mux.sqlite"), "inbound_events"),
        0
    );
}
