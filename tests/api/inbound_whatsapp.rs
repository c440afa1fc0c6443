//! WhatsApp inbound: signed Cloud API webhooks → mux → fake OpenClaw.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use mux_server::testkit::whatsapp::{PHONE_ID, TOKEN as ACCESS_TOKEN};

use crate::helpers::{KEY_A, TestApp, eventually};

const APP_SECRET: &str = "meta-app-secret";
const VERIFY: &str = "verify-me";
pub const WA_ID: &str = "4915112345678";

pub async fn spawn_webhooks() -> TestApp {
    TestApp::builder()
        .openclaw_tenants(&[("tenant-a", KEY_A)], 15_000)
        .whatsapp()
        .vars([
            ("MUX_WHATSAPP_INBOUND_ENABLED", "true"),
            ("MUX_WHATSAPP_APP_SECRET", APP_SECRET),
            ("MUX_WHATSAPP_VERIFY_TOKEN", VERIFY),
            ("MUX_WHATSAPP_INBOUND_MEDIA_MAX_BYTES", "1000"),
        ])
        .spawn()
        .await
}

pub fn notification(messages: Value) -> String {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_ID},
                  "contacts": [{"profile": {"name": "U"}, "wa_id": WA_ID}], "messages": messages}}]}]})
    .to_string()
}

pub fn text(id: &str, body: &str) -> Value {
    json!({"from": WA_ID, "id": id, "timestamp": "1749416383", "type": "text", "text": {"body": body}})
}

pub fn sign(body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!(
        "sha256={}",
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

/// Posts a correctly signed notification carrying `messages`.
/// Tenant A's token sent from `WA_ID`: the chat is bound to A once the notice went out.
pub async fn pair_tenant_a(app: &TestApp) {
    let token = app.issue_token(KEY_A, json!({"channel": "whatsapp"})).await;
    signed(
        app,
        json!([text("wamid.T", token.body["token"].as_str().unwrap())]),
    )
    .await;
    eventually("paired", || !app.wa().texts_to(WA_ID).is_empty()).await;
}

pub async fn signed(app: &TestApp, messages: Value) -> u16 {
    let body = notification(messages);
    let sig = sign(&body);
    app.whatsapp_webhook(body, Some(sig)).await
}

#[actix_web::test]
async fn the_verify_challenge_echoes_only_for_the_right_token() {
    let app = spawn_webhooks().await;
    let ok = app.request(
        awc::http::Method::GET,
        "/v1/ingress/whatsapp?hub.mode=subscribe&hub.challenge=12345&hub.verify_token=verify-me",
        None,
    );
    let mut resp = ok.send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.body().await.unwrap(), "12345");
    let bad = app.request(
        awc::http::Method::GET,
        "/v1/ingress/whatsapp?hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope",
        None,
    );
    assert_eq!(bad.send().await.unwrap().status().as_u16(), 403);
    app.stop().await;
}

#[actix_web::test]
async fn pairing_in_a_whatsapp_chat_then_messages_are_forwarded_once() {
    let app = spawn_webhooks().await;
    let token = app.issue_token(KEY_A, json!({"channel": "whatsapp"})).await;
    let token = token.body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        signed(&app, json!([text("wamid.T", &format!("my code {token}"))])).await,
        200
    );
    eventually("success notice", || {
        app.wa().texts_to(WA_ID) == vec!["Paired successfully. You can chat now.".to_owned()]
    })
    .await;
    let items = app.list_bindings(KEY_A).await;
    assert_eq!(
        items[0]["routeKey"],
        format!("whatsapp:default:chat:{WA_ID}@s.whatsapp.net")
    );
    assert_eq!(
        items[0]["sessionKey"],
        format!("wa:chat:{WA_ID}@s.whatsapp.net")
    );

    let message = json!([text("wamid.M1", "hallo")]);
    assert_eq!(signed(&app, message.clone()).await, 200);
    assert_eq!(
        signed(&app, message).await,
        200,
        "Meta's redelivery is acknowledged"
    );
    eventually("forwarded", || app.oc().accepted("tenant-a").len() == 1).await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    let got = app.oc().accepted("tenant-a");
    assert_eq!(got.len(), 1, "the duplicate is dropped");
    let env = &got[0].body;
    assert_eq!(env["eventId"], "wa:wamid.M1");
    assert_eq!(env["channel"], "whatsapp");
    assert_eq!(env["body"], "hallo");
    assert_eq!(env["from"], format!("whatsapp:+{WA_ID}"));
    assert_eq!(env["to"], format!("whatsapp:{WA_ID}@s.whatsapp.net"));
    assert_eq!(env["chatType"], "direct");
    assert_eq!(env["messageId"], "wamid.M1");
    assert_eq!(
        env["channelData"]["chatJid"],
        format!("{WA_ID}@s.whatsapp.net")
    );
    assert_eq!(
        env["channelData"]["whatsapp"]["rawMessage"]["id"],
        "wamid.M1"
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_bad_signature_is_refused_and_nothing_is_stored() {
    let app = spawn_webhooks().await;
    let token = app.issue_token(KEY_A, json!({"channel": "whatsapp"})).await;
    let token = token.body["token"].as_str().unwrap().to_owned();
    let body = notification(json!([text("wamid.T", &token)]));
    assert_eq!(app.whatsapp_webhook(body.clone(), None).await, 401);
    assert_eq!(
        app.whatsapp_webhook(body.clone(), Some("sha256=00".into()))
            .await,
        401
    );
    let tampered = body.replace("wamid.T", "wamid.U");
    assert_eq!(app.whatsapp_webhook(tampered, Some(sign(&body))).await, 401);
    actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        app.list_bindings(KEY_A).await.is_empty(),
        "the token was not redeemed"
    );
    assert!(app.wa().texts_to(WA_ID).is_empty());
    app.stop().await;
}

#[actix_web::test]
async fn statuses_are_ignored_and_images_are_inlined_within_the_cap() {
    let app = spawn_webhooks().await;
    pair_tenant_a(&app).await;
    app.wa().add_media("IMG1", vec![9, 8, 7]);
    app.wa().add_media("BIG", vec![0; 5000]);
    let statuses = json!({"entry": [{"changes": [{"field": "messages", "value": {"statuses": [{"id": "wamid.OUT1", "status": "read"}]}}]}]}).to_string();
    assert_eq!(
        app.whatsapp_webhook(statuses.clone(), Some(sign(&statuses)))
            .await,
        200
    );
    let image = |id: &str, media: &str, caption: Option<&str>| {
        let mut img = json!({"id": media, "mime_type": "image/jpeg"});
        if let Some(c) = caption {
            img["caption"] = json!(c);
        }
        json!({"from": WA_ID, "id": id, "timestamp": "1", "type": "image", "image": img})
    };
    assert_eq!(
        signed(
            &app,
            json!([
                image("wamid.I1", "IMG1", Some("pic")),
                image("wamid.I2", "BIG", None)
            ])
        )
        .await,
        200
    );
    eventually("both images forwarded", || {
        app.oc().accepted("tenant-a").len() == 2
    })
    .await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    let got = app.oc().accepted("tenant-a");
    assert_eq!(got.len(), 2, "statuses are never forwarded");
    // The oversized media-only image reaches the agent as a link (contract §5a).
    let big = &got[1].body;
    assert_eq!(big["body"], "");
    assert_eq!(
        big["attachments"][0]["url"],
        big["channelData"]["whatsapp"]["media"][0]["url"]
    );
    assert!(big["attachments"][0].get("content").is_none());
    let env = &got[0].body;
    assert_eq!(env["body"], "pic");
    let content = env["attachments"][0]["content"].as_str().unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(content)
            .unwrap(),
        vec![9, 8, 7]
    );
    assert!(!env.to_string().contains(ACCESS_TOKEN));
    app.stop().await;
}

#[actix_web::test]
async fn a_message_for_another_phone_number_is_dropped_and_counted() {
    let app = spawn_webhooks().await;
    pair_tenant_a(&app).await;
    // Same Meta app, same (bound) sender, another business number.
    let body = notification(json!([text("wamid.OTHER", "for the other number")]))
        .replace(PHONE_ID, "999000999");
    assert_eq!(
        app.whatsapp_webhook(body.clone(), Some(sign(&body))).await,
        200
    );
    assert_eq!(
        signed(&app, json!([text("wamid.OURS", "for us")])).await,
        200
    );
    eventually("ours forwarded", || {
        app.oc().accepted("tenant-a").len() == 1
    })
    .await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    let got = app.oc().accepted("tenant-a");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body["body"], "for us");
    let (_, _, metrics) = app.metrics(None).await;
    assert!(
        metrics.contains("mux_inbound_foreign_dropped_total{channel=\"whatsapp\"} 1"),
        "{metrics}"
    );
    app.stop().await;
}

#[actix_web::test]
async fn an_oversized_notification_is_a_json_413() {
    let app = spawn_webhooks().await;
    let body = "x".repeat(4 * 1024 * 1024 + 1);
    let mut resp = app
        .request(awc::http::Method::POST, "/v1/ingress/whatsapp", None)
        .insert_header(("X-Hub-Signature-256", sign(&body)))
        .send_body(body)
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);
    let answer: Value = serde_json::from_slice(&resp.body().await.unwrap()).unwrap();
    assert_eq!(answer["ok"], json!(false));
    assert_eq!(answer["code"], "PAYLOAD_TOO_LARGE");
    app.stop().await;
}
