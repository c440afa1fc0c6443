use awc::http::StatusCode;
use serde_json::json;

use crate::helpers::{KEY_A, KEY_B, spawn_app, spawn_app_with, two_tenants};

#[actix_web::test]
async fn an_unset_target_reads_as_not_configured() {
    let app = spawn_app().await;
    let reply = app.inbound_target(KEY_A).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body,
        json!({"ok": true, "configured": false, "inboundUrl": null, "inboundTimeoutMs": null})
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_target_is_set_per_tenant_and_its_token_never_returned() {
    let app = spawn_app().await;
    let set = app
        .set_inbound_target(KEY_A, json!({"inboundUrl": "https://a.example.com/v1/mux/inbound", "inboundToken": "secret-a"}))
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(
        set.body,
        json!({"ok": true, "inboundUrl": "https://a.example.com/v1/mux/inbound", "inboundTimeoutMs": 15000})
    );
    let read = app.inbound_target(KEY_A).await;
    assert_eq!(
        read.body,
        json!({"ok": true, "configured": true,
               "inboundUrl": "https://a.example.com/v1/mux/inbound", "inboundTimeoutMs": 15000})
    );
    assert!(!read.body.to_string().contains("secret-a"));
    let other = app.inbound_target(KEY_B).await;
    assert_eq!(
        other.body["configured"],
        json!(false),
        "B does not see A's target"
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_custom_timeout_is_kept_and_bad_ones_refused() {
    let app = spawn_app().await;
    let url = "http://127.0.0.1:9999/in";
    let ok = app
        .set_inbound_target(
            KEY_A,
            json!({"inboundUrl": url, "inboundToken": "t", "inboundTimeoutMs": 2500}),
        )
        .await;
    assert_eq!(ok.body["inboundTimeoutMs"], json!(2500));
    for bad in [
        json!(0),
        json!(-1),
        json!("fast"),
        json!(10_000_000),
        json!(1.5),
    ] {
        let reply = app
            .set_inbound_target(
                KEY_A,
                json!({"inboundUrl": url, "inboundToken": "t", "inboundTimeoutMs": bad}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let read = app.inbound_target(KEY_A).await;
    assert_eq!(
        read.body["inboundTimeoutMs"],
        json!(2500),
        "refused changes changed nothing"
    );
    app.stop().await;
}

#[actix_web::test]
async fn url_and_token_are_both_required() {
    let app = spawn_app().await;
    for body in [
        json!({}),
        json!({"inboundUrl": "https://a.example.com"}),
        json!({"inboundToken": "t"}),
        json!({"inboundUrl": "  ", "inboundToken": "t"}),
    ] {
        let reply = app.set_inbound_target(KEY_A, body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            reply.body,
            json!({"ok": false, "error": "inboundUrl and inboundToken are required"})
        );
    }
    app.stop().await;
}

#[actix_web::test]
async fn the_url_policy_refuses_bad_schemes_credentials_link_local_and_unlisted_hosts() {
    let mut vars = two_tenants();
    vars.push((
        "MUX_INBOUND_URL_ALLOW",
        "*.tenants.example, 10.0.0.0/8, 127.0.0.1".to_owned(),
    ));
    let app = spawn_app_with(vars).await;
    for url in [
        "ftp://a.tenants.example/x",
        "https://user:pw@a.tenants.example/x",
        "https://evil.example.com/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/x",
        "not a url",
    ] {
        let reply = app
            .set_inbound_target(KEY_A, json!({"inboundUrl": url, "inboundToken": "t"}))
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{url}");
        assert_eq!(
            reply.body["code"],
            json!("INBOUND_URL_NOT_ALLOWED"),
            "{url}"
        );
    }
    for url in [
        "https://a.tenants.example/x",
        "http://10.1.2.3:8080/in",
        "http://127.0.0.1:1/in",
    ] {
        let reply = app
            .set_inbound_target(KEY_A, json!({"inboundUrl": url, "inboundToken": "t"}))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{url}: {}", reply.body);
    }
    app.stop().await;
}

#[actix_web::test]
async fn the_default_policy_refuses_only_link_local() {
    let app = spawn_app().await;
    let refused = app
        .set_inbound_target(
            KEY_A,
            json!({"inboundUrl": "http://169.254.169.254/", "inboundToken": "t"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let allowed = app
        .set_inbound_target(KEY_A, json!({"inboundUrl": "http://openclaw.internal:3000/v1/mux/inbound", "inboundToken": "t"}))
        .await;
    assert_eq!(allowed.status, StatusCode::OK);
    app.stop().await;
}
