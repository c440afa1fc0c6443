//! Admin API (contract §7): statuses, key rotation, disable/enable, pairing codes, audit.

mod codes;
mod inbound;
mod tenants;

use awc::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{KEY_A, spawn_app_with, two_tenants};

pub use crate::helpers::ADMIN;

/// The two default tenants plus an admin token.
pub fn admin_vars() -> Vec<(&'static str, String)> {
    let mut vars = two_tenants();
    vars.push(("MUX_ADMIN_TOKEN", ADMIN.to_owned()));
    vars
}

/// Every admin operation, for the checks that must hold on all of them.
fn every_admin_call() -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (
            Method::POST,
            "/v1/admin/tenants",
            Some(json!({"id": "t-new"})),
        ),
        (Method::GET, "/v1/admin/tenants", None),
        (
            Method::POST,
            "/v1/admin/tenants/tenant-a/keys",
            Some(json!({})),
        ),
        (
            Method::DELETE,
            "/v1/admin/tenants/tenant-a/keys/key_x",
            None,
        ),
        (Method::POST, "/v1/admin/tenants/tenant-a/disable", None),
        (Method::POST, "/v1/admin/tenants/tenant-a/enable", None),
        (
            Method::POST,
            "/v1/admin/pairing-codes",
            Some(json!({"channel": "telegram", "routeKey": "telegram:default:chat:5"})),
        ),
        (Method::GET, "/v1/admin/audit", None),
    ]
}

#[actix_web::test]
async fn without_an_admin_token_every_admin_path_answers_404() {
    let app = spawn_app_with(two_tenants()).await;
    for (method, path, body) in every_admin_call() {
        for key in [None, Some(KEY_A), Some("anything")] {
            let reply = app.call(method.clone(), path, key, body.clone()).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}");
            assert_eq!(reply.body, json!({"ok": false, "error": "not found"}));
        }
    }
    app.stop().await;
}

#[actix_web::test]
async fn admin_paths_refuse_missing_wrong_and_tenant_credentials() {
    let app = spawn_app_with(admin_vars()).await;
    for (method, path, body) in every_admin_call() {
        for key in [
            None,
            Some(KEY_A),
            Some("admin-token-for-test"),
            Some("Bearer"),
        ] {
            let reply = app.call(method.clone(), path, key, body.clone()).await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} {key:?}"
            );
            assert_eq!(reply.body, json!({"ok": false, "error": "unauthorized"}));
        }
    }
    // Nothing was changed by the refused calls.
    assert_eq!(app.pairings(KEY_A).await.status, StatusCode::OK);
    app.stop().await;
}

#[actix_web::test]
async fn the_admin_token_never_opens_a_tenant_path() {
    let app = spawn_app_with(admin_vars()).await;
    assert_eq!(app.pairings(ADMIN).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.inbound_target(ADMIN).await.status,
        StatusCode::UNAUTHORIZED
    );
    let token = app.issue_token(ADMIN, json!({"channel": "telegram"})).await;
    assert_eq!(token.status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}
