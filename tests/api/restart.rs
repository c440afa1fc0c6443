use awc::http::StatusCode;
use serde_json::json;

use crate::helpers::{KEY_A, KEY_B, diesel_conn, spawn_app_with, spawn_in, two_tenants};

fn vars() -> Vec<(&'static str, String)> {
    let mut vars = two_tenants();
    vars.push((
        "MUX_PAIRING_CODES_JSON",
        r#"[{"code":"C1","channel":"telegram","routeKey":"telegram:default:chat:1","scope":"chat"},
            {"code":"C2","channel":"whatsapp","routeKey":"whatsapp:default:chat:4915112345678@s.whatsapp.net","scope":"chat"}]"#
            .to_owned(),
    ));
    vars
}

#[actix_web::test]
async fn bindings_targets_and_claimed_codes_survive_a_restart() {
    let app = spawn_app_with(vars()).await;
    let c1 = app.claim(KEY_A, "C1", "s1").await;
    let c2 = app.claim(KEY_A, "C2", None).await;
    assert_eq!(c1.status, StatusCode::OK);
    assert_eq!(c2.status, StatusCode::OK);
    let unbound = app.unbind(KEY_A, &c2.body["bindingId"]).await;
    assert_eq!(unbound.status, StatusCode::OK);
    let target = json!({"inboundUrl": "http://127.0.0.1:4000/in", "inboundToken": "tok", "inboundTimeoutMs": 3000});
    assert_eq!(
        app.set_inbound_target(KEY_B, target).await.status,
        StatusCode::OK
    );
    let before = app.list_bindings(KEY_A).await;
    let dir = app.stop().await;

    let app = spawn_in(dir, vars()).await;
    assert_eq!(
        app.list_bindings(KEY_A).await,
        before,
        "same active bindings, unbound one gone"
    );
    assert_eq!(before.len(), 1);
    let again = app.claim(KEY_B, "C1", None).await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "seeding again does not re-open a claimed code"
    );
    let read = app.inbound_target(KEY_B).await;
    assert_eq!(
        read.body,
        json!({"ok": true, "configured": true, "inboundUrl": "http://127.0.0.1:4000/in", "inboundTimeoutMs": 3000})
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_seeded_target_never_overwrites_one_set_at_runtime() {
    let seeded = |url: &str| {
        vec![(
            "MUX_TENANTS_JSON",
            json!([
                {"id": "tenant-a", "apiKey": KEY_A, "inboundUrl": url, "inboundToken": "seed"},
                {"id": "tenant-b", "apiKey": KEY_B, "inboundUrl": url, "inboundToken": "seed"},
            ])
            .to_string(),
        )]
    };
    let app = spawn_app_with(seeded("http://127.0.0.1:1/seed-1")).await;
    let runtime = json!({"inboundUrl": "http://127.0.0.1:2/runtime", "inboundToken": "rt"});
    assert_eq!(
        app.set_inbound_target(KEY_A, runtime).await.status,
        StatusCode::OK
    );
    let dir = app.stop().await;

    let app = spawn_in(dir, seeded("http://127.0.0.1:1/seed-2")).await;
    let a = app.inbound_target(KEY_A).await;
    let b = app.inbound_target(KEY_B).await;
    assert_eq!(a.body["inboundUrl"], json!("http://127.0.0.1:2/runtime"));
    assert_eq!(
        b.body["inboundUrl"],
        json!("http://127.0.0.1:1/seed-2"),
        "seed follows the env"
    );
    app.stop().await;
}

#[actix_web::test]
async fn changing_a_seeded_key_in_the_environment_rotates_it() {
    let app = spawn_app_with(two_tenants()).await;
    assert_eq!(app.pairings(KEY_A).await.status, StatusCode::OK);
    let dir = app.stop().await;
    let rotated = vec![(
        "MUX_TENANTS_JSON",
        json!([{"id": "tenant-a", "apiKey": "key-a-2"}, {"id": "tenant-b", "apiKey": KEY_B}])
            .to_string(),
    )];
    let app = spawn_in(dir, rotated).await;
    assert_eq!(app.pairings(KEY_A).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.pairings("key-a-2").await.status, StatusCode::OK);
    app.stop().await;
}

#[actix_web::test]
async fn the_legacy_api_key_seeds_tenant_default_with_its_inbound_target() {
    let app = spawn_app_with(vec![
        ("MUX_API_KEY", "legacy-key".to_owned()),
        (
            "MUX_OPENCLAW_INBOUND_URL",
            "http://127.0.0.1:18789/v1/mux/inbound".to_owned(),
        ),
        ("MUX_OPENCLAW_INBOUND_TOKEN", "legacy-inbound".to_owned()),
    ])
    .await;
    let read = app.inbound_target("legacy-key").await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(
        read.body,
        json!({"ok": true, "configured": true,
               "inboundUrl": "http://127.0.0.1:18789/v1/mux/inbound", "inboundTimeoutMs": 15000})
    );
    let conn = &mut diesel_conn(&app.db_path);
    let tenants = mux_server::db::load::load_all(conn).expect("load").tenants;
    assert_eq!(tenants.len(), 1);
    assert_eq!(tenants[0].id, "tenant-default");
    app.stop().await;
}

#[actix_web::test]
async fn no_tenant_exists_without_a_configured_key() {
    let app = spawn_app_with(vec![]).await;
    assert_eq!(app.pairings("").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.pairings("changeme").await.status,
        StatusCode::UNAUTHORIZED
    );
    app.stop().await;
}

#[actix_web::test]
async fn changes_leave_audit_rows_without_secrets() {
    let app = spawn_app_with(vars()).await;
    let token = app.issue_token(KEY_A, json!({"channel": "telegram"})).await;
    let token = token.body["token"].as_str().expect("token").to_owned();
    let claimed = app.claim(KEY_A, "C1", None).await;
    app.unbind(KEY_A, &claimed.body["bindingId"]).await;
    app.set_inbound_target(
        KEY_A,
        json!({"inboundUrl": "http://127.0.0.1:5/in", "inboundToken": "very-secret-inbound"}),
    )
    .await;
    let db_path = app.db_path.clone();
    let dir = app.stop().await;
    let rows = mux_server::db::audit::list(&mut diesel_conn(&db_path), Some("tenant-a"), 100)
        .expect("audit rows");
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    for expected in [
        "pairing_token_issued",
        "pairing_code_claimed",
        "binding_unbound",
        "inbound_target_changed",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing in {actions:?}"
        );
    }
    assert_eq!(actions[0], "inbound_target_changed", "newest first");
    for row in &rows {
        let detail = row.detail.clone().unwrap_or_default();
        assert!(
            !detail.contains(&token) && !detail.contains("very-secret-inbound"),
            "{detail}"
        );
    }
    drop(dir);
}
