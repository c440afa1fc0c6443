//! Tenant lifecycle through the admin API: create, list, keys, disable/enable.

use awc::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::admin_vars;
use crate::helpers::{KEY_A, spawn_app_with, spawn_in};

#[actix_web::test]
async fn a_created_tenant_gets_a_key_shown_once_and_an_existing_id_is_409() {
    let app = spawn_app_with(admin_vars()).await;
    let created = app.admin_create_tenant(json!({"id": "t-1", "name": "One", "inboundUrl": "http://127.0.0.1:9/in", "inboundToken": "in-secret"}))
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let key = created.body["apiKey"].as_str().expect("apiKey").to_owned();
    assert!(key.starts_with("mux_"));
    assert!(
        created.body["keyId"]
            .as_str()
            .expect("keyId")
            .starts_with("key_")
    );
    assert_eq!(created.body["tenant"]["id"], json!("t-1"));
    assert_eq!(created.body["tenant"]["name"], json!("One"));
    assert_eq!(
        created.body["tenant"]["inboundUrl"],
        json!("http://127.0.0.1:9/in")
    );
    assert!(
        !created.body.to_string().contains("in-secret"),
        "inbound token never returned"
    );

    // The key works at once, on the tenant's own paths.
    let target = app.inbound_target(&key).await;
    assert_eq!(target.status, StatusCode::OK);
    assert_eq!(target.body["inboundUrl"], json!("http://127.0.0.1:9/in"));

    let again = app.admin_create_tenant(json!({"id": "t-1"})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.body["ok"], json!(false));
    let seeded = app.admin_create_tenant(json!({"id": "tenant-a"})).await;
    assert_eq!(seeded.status, StatusCode::CONFLICT);

    let list = app.admin_tenants().await;
    assert_eq!(list.status, StatusCode::OK);
    let items = list.body["items"].as_array().expect("items");
    let ids: Vec<&str> = items.iter().filter_map(|t| t["id"].as_str()).collect();
    assert_eq!(ids, ["t-1", "tenant-a", "tenant-b"]);
    let t1 = &items[0];
    assert_eq!(t1["bindings"], json!(0));
    assert_eq!(t1["queueDepth"], json!(0));
    assert_eq!(t1["lastDelivery"], Value::Null);
    assert_eq!(t1["keys"].as_array().expect("keys").len(), 1);
    assert!(!list.body.to_string().contains("in-secret"));
    assert!(
        !list.body.to_string().contains(&key),
        "keys are never listed"
    );
    app.stop().await;
}

#[actix_web::test]
async fn create_validates_the_id_and_the_inbound_url() {
    let app = spawn_app_with(admin_vars()).await;
    for body in [
        json!({}),
        json!({"id": "bad id"}),
        json!({"id": "a", "inboundUrl": "http://x"}),
    ] {
        let reply = app.admin_create_tenant(body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
    }
    let link_local =
        json!({"id": "a", "inboundUrl": "http://169.254.169.254/", "inboundToken": "t"});
    let reply = app.admin_create_tenant(link_local).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["code"], json!("INBOUND_URL_NOT_ALLOWED"));
    let bad_json = app.admin(Method::POST, "/v1/admin/tenants", None).await;
    assert_eq!(
        bad_json.status,
        StatusCode::BAD_REQUEST,
        "empty body reads as {{}}: id required"
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_key_rotates_without_downtime_and_a_revoked_key_fails_at_once() {
    let app = spawn_app_with(admin_vars()).await;
    let created = app.admin_create_tenant(json!({"id": "rot"})).await;
    let old_key = created.body["apiKey"].as_str().expect("key").to_owned();
    let old_id = created.body["keyId"].as_str().expect("keyId").to_owned();

    let added = app
        .admin(
            Method::POST,
            "/v1/admin/tenants/rot/keys",
            Some(json!({"label": "v2"})),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let new_key = added.body["apiKey"].as_str().expect("key").to_owned();
    assert_ne!(new_key, old_key);
    for key in [&old_key, &new_key] {
        assert_eq!(
            app.pairings(key).await.status,
            StatusCode::OK,
            "both keys work"
        );
    }

    let path = format!("/v1/admin/tenants/rot/keys/{old_id}");
    let revoked = app.admin(Method::DELETE, &path, None).await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(revoked.body, json!({"ok": true}));
    assert_eq!(
        app.pairings(&old_key).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.pairings(&new_key).await.status, StatusCode::OK);

    let unknown_key = app
        .admin(Method::DELETE, "/v1/admin/tenants/rot/keys/key_nope", None)
        .await;
    assert_eq!(unknown_key.status, StatusCode::NOT_FOUND);
    let other_tenant = app
        .admin(
            Method::DELETE,
            &format!("/v1/admin/tenants/tenant-a/keys/{old_id}"),
            None,
        )
        .await;
    assert_eq!(
        other_tenant.status,
        StatusCode::NOT_FOUND,
        "a key is revoked only through its tenant"
    );
    let unknown_tenant = app
        .admin(Method::POST, "/v1/admin/tenants/nope/keys", None)
        .await;
    assert_eq!(unknown_tenant.status, StatusCode::NOT_FOUND);

    // The revocation is durable: still refused after a restart.
    let dir = app.stop().await;
    let app = spawn_in(dir, admin_vars()).await;
    assert_eq!(
        app.pairings(&old_key).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.pairings(&new_key).await.status, StatusCode::OK);
    app.stop().await;
}

#[actix_web::test]
async fn a_disabled_tenant_answers_401_until_enabled_also_across_a_restart() {
    let app = spawn_app_with(admin_vars()).await;
    let disabled = app
        .admin(Method::POST, "/v1/admin/tenants/tenant-a/disable", None)
        .await;
    assert_eq!(disabled.status, StatusCode::OK);
    assert_eq!(disabled.body, json!({"ok": true}));
    assert_eq!(app.pairings(KEY_A).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.pairings(crate::helpers::KEY_B).await.status,
        StatusCode::OK
    );
    let a = app.admin_tenant("tenant-a").await;
    assert_eq!(a.expect("tenant-a listed")["status"], json!("disabled"));

    let dir = app.stop().await;
    let app = spawn_in(dir, admin_vars()).await;
    assert_eq!(
        app.pairings(KEY_A).await.status,
        StatusCode::UNAUTHORIZED,
        "still disabled"
    );
    let enabled = app
        .admin(Method::POST, "/v1/admin/tenants/tenant-a/enable", None)
        .await;
    assert_eq!(enabled.status, StatusCode::OK);
    assert_eq!(app.pairings(KEY_A).await.status, StatusCode::OK);
    for path in [
        "/v1/admin/tenants/nope/disable",
        "/v1/admin/tenants/nope/enable",
    ] {
        assert_eq!(
            app.admin(Method::POST, path, None).await.status,
            StatusCode::NOT_FOUND
        );
    }
    app.stop().await;
}

#[actix_web::test]
async fn the_listing_counts_each_tenants_queue_and_last_delivery() {
    let app = spawn_app_with(admin_vars()).await;
    let conn = &mut crate::helpers::diesel_conn(&app.db_path);
    let insert = |state: &str, event: &str, attempts: i32, updated: i64| {
        format!(
            "INSERT INTO inbound_events (channel, event_id, tenant_id, session_key, envelope, state, attempts, \
             next_attempt_at_ms, last_error, created_at_ms, updated_at_ms) VALUES \
             ('telegram', '{event}', 'tenant-a', 's', '{{}}', '{state}', {attempts}, 0, 'HTTP 503', 1, {updated})"
        )
    };
    use diesel::RunQueryDsl;
    for sql in [
        insert("pending", "tg:1", 0, 1),
        insert("pending", "tg:2", 2, 5),
        insert("dead", "tg:3", 9, 3),
    ] {
        diesel::sql_query(sql).execute(conn).expect("insert event");
    }
    let list = app.admin_tenants().await;
    let items = list.body["items"].as_array().expect("items");
    let a = items
        .iter()
        .find(|t| t["id"] == "tenant-a")
        .expect("tenant-a");
    assert_eq!(a["queueDepth"], json!(2));
    assert_eq!(
        a["lastDelivery"],
        json!({"state": "retrying", "atMs": 5, "error": "HTTP 503"})
    );
    let b = items
        .iter()
        .find(|t| t["id"] == "tenant-b")
        .expect("tenant-b");
    assert_eq!(
        (b["queueDepth"].clone(), b["lastDelivery"].clone()),
        (json!(0), Value::Null)
    );
    app.stop().await;
}
