//! Admin-seeded pairing codes and the audit log.

use awc::http::{Method, StatusCode};
use serde_json::json;

use super::admin_vars;
use crate::helpers::{KEY_A, spawn_app_with};

#[actix_web::test]
async fn an_admin_seeded_pairing_code_can_be_claimed_once() {
    let app = spawn_app_with(admin_vars()).await;
    let body = json!({"code": "OPS-1", "channel": "telegram", "routeKey": "telegram:default:chat:-1001", "scope": "chat", "ttlSec": 600});
    let seeded = app.admin_create_code(body.clone()).await;
    assert_eq!(seeded.status, StatusCode::CREATED, "{}", seeded.body);
    assert_eq!(seeded.body["code"], json!("OPS-1"));
    assert!(seeded.body["expiresAtMs"].as_i64().is_some());
    let dup = app.admin_create_code(body).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let bad = app.admin_create_code(json!({"channel": "telegram"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let claimed = app.claim(KEY_A, "OPS-1", None).await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    assert_eq!(
        claimed.body["routeKey"],
        json!("telegram:default:chat:-1001")
    );
    let a = app.admin_tenant("tenant-a").await;
    assert_eq!(a.expect("tenant-a")["bindings"], json!(1));
    app.stop().await;
}

#[actix_web::test]
async fn every_admin_action_leaves_an_audit_row_without_secrets() {
    let app = spawn_app_with(admin_vars()).await;
    let created = app
        .admin_create_tenant(
            json!({"id": "aud", "inboundUrl": "http://127.0.0.1:9/", "inboundToken": "tok-secret"}),
        )
        .await;
    let first_key = created.body["apiKey"].as_str().expect("key").to_owned();
    let added = app
        .admin(Method::POST, "/v1/admin/tenants/aud/keys", None)
        .await;
    let second_key = added.body["apiKey"].as_str().expect("key").to_owned();
    let key_id = added.body["keyId"].as_str().expect("keyId").to_owned();
    app.admin(
        Method::DELETE,
        &format!("/v1/admin/tenants/aud/keys/{key_id}"),
        None,
    )
    .await;
    app.admin(Method::POST, "/v1/admin/tenants/aud/disable", None)
        .await;
    app.admin(Method::POST, "/v1/admin/tenants/aud/enable", None)
        .await;
    let code = json!({"code": "SECRET-CODE", "channel": "telegram", "routeKey": "telegram:default:chat:77"});
    app.admin_create_code(code).await;

    let audit = app
        .admin(Method::GET, "/v1/admin/audit?tenantId=aud&limit=10", None)
        .await;
    assert_eq!(audit.status, StatusCode::OK);
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "tenant_enabled",
            "tenant_disabled",
            "api_key_revoked",
            "api_key_added",
            "tenant_created"
        ],
        "newest first, this tenant only"
    );
    assert!(
        audit.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["actor"] == "admin")
    );
    let limited = app
        .admin(Method::GET, "/v1/admin/audit?limit=1", None)
        .await;
    let items = limited.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["action"], json!("pairing_code_seeded"));
    let all = app
        .admin(Method::GET, "/v1/admin/audit?limit=1000", None)
        .await
        .body
        .to_string();
    for secret in [
        first_key.as_str(),
        second_key.as_str(),
        "tok-secret",
        "SECRET-CODE",
    ] {
        assert!(!all.contains(secret), "audit holds {secret}");
    }
    let bad = app
        .admin(Method::GET, "/v1/admin/audit?limit=0", None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    app.stop().await;
}
