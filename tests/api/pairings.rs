use awc::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{KEY_A, KEY_B, TestApp, spawn_app_with, two_tenants};
use mux_server::time::now_ms;

const CODES: &str = r#"[
  {"code":"CODE-TG","channel":"telegram","routeKey":"telegram:default:chat:-100123","scope":"chat"},
  {"code":"CODE-TG2","channel":"telegram","routeKey":"telegram:default:chat:555","scope":"chat"},
  {"code":"CODE-DM","channel":"discord","routeKey":"discord:default:dm:user:42","scope":"dm"},
  {"code":"CODE-OLD","channel":"telegram","routeKey":"telegram:default:chat:777","scope":"chat","expiresAtMs":1000},
  {"code":"CODE-SAME","channel":"telegram","routeKey":"telegram:default:chat:-100123","scope":"chat"}
]"#;

async fn app_with_codes() -> TestApp {
    let mut vars = two_tenants();
    vars.push(("MUX_PAIRING_CODES_JSON", CODES.to_owned()));
    vars.push(("MUX_TELEGRAM_BOT_USERNAME", "mux_test_bot".to_owned()));
    spawn_app_with(vars).await
}

async fn claim(app: &TestApp, key: &str, body: Value) -> crate::helpers::Reply {
    app.post("/v1/pairings/claim", Some(key), body).await
}

#[actix_web::test]
async fn every_tenant_path_answers_401_for_missing_malformed_or_unknown_keys() {
    let app = app_with_codes().await;
    let paths = [
        (Method::POST, "/v1/pairings/token"),
        (Method::GET, "/v1/pairings"),
        (Method::POST, "/v1/pairings/claim"),
        (Method::POST, "/v1/pairings/unbind"),
        (Method::GET, "/v1/tenant/inbound-target"),
        (Method::POST, "/v1/tenant/inbound-target"),
    ];
    let headers = [
        None,
        Some(format!("Basic {KEY_A}")),
        Some(KEY_A.to_owned()),
        Some("Bearer".to_owned()),
        Some("Bearer    ".to_owned()),
        Some("Bearer not-a-key".to_owned()),
        Some(format!("Bearer {KEY_A}x")),
    ];
    for (method, path) in &paths {
        for header in &headers {
            let mut req = app.request(method.clone(), path, None);
            if let Some(h) = header {
                req = req.insert_header(("Authorization", h.as_str()));
            }
            // A malformed body must not matter: auth comes first.
            let mut resp = req.send_body("{not json").await.expect("reaches server");
            let body: Value = resp.json().await.expect("json body");
            assert_eq!(
                resp.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {path} {header:?}"
            );
            assert_eq!(body, json!({"ok": false, "error": "unauthorized"}));
        }
    }
    app.stop().await;
}

#[actix_web::test]
async fn the_bearer_scheme_is_case_insensitive_and_the_key_is_trimmed() {
    let app = app_with_codes().await;
    for header in [format!("bearer {KEY_A}"), format!("BEARER   {KEY_A}  ")] {
        let mut resp = app
            .request(Method::GET, "/v1/pairings", None)
            .insert_header(("Authorization", header.as_str()))
            .send()
            .await
            .expect("reaches server");
        assert_eq!(resp.status(), StatusCode::OK, "{header}");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body, json!({"items": []}));
    }
    app.stop().await;
}

#[actix_web::test]
async fn a_telegram_token_comes_with_start_command_and_deep_link() {
    let app = app_with_codes().await;
    let reply = app
        .issue_token(
            KEY_A,
            json!({"channel": "telegram", "sessionKey": "agent:main"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let token = reply.body["token"].as_str().expect("token");
    assert!(token.starts_with("mpt_") && token.len() == 36, "{token}");
    assert!(
        token[4..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(reply.body["ok"], json!(true));
    assert_eq!(reply.body["channel"], json!("telegram"));
    assert_eq!(reply.body["startCommand"], json!(format!("/start {token}")));
    assert_eq!(
        reply.body["deepLink"],
        json!(format!("https://t.me/mux_test_bot?start={token}"))
    );
    app.stop().await;
}

#[actix_web::test]
async fn tokens_of_other_channels_have_no_start_command_or_deep_link() {
    let app = app_with_codes().await;
    for channel in ["whatsapp", "discord"] {
        let reply = app.issue_token(KEY_A, json!({"channel": channel})).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["channel"], json!(channel));
        assert_eq!(reply.body["startCommand"], Value::Null);
        assert_eq!(reply.body["deepLink"], Value::Null);
    }
    let second = app.issue_token(KEY_A, json!({"channel": "whatsapp"})).await;
    let third = app.issue_token(KEY_A, json!({"channel": "whatsapp"})).await;
    assert_ne!(
        second.body["token"], third.body["token"],
        "tokens are random"
    );
    app.stop().await;
}

#[actix_web::test]
async fn token_requests_are_validated_in_the_contracts_order() {
    let app = app_with_codes().await;
    let cases = [
        (json!({}), "channel required"),
        (json!({"channel": ""}), "channel required"),
        (
            json!({"channel": "sms", "ttlSec": "soon"}),
            "unsupported channel for token pairing",
        ),
        (
            json!({"channel": "telegram", "ttlSec": "soon"}),
            "ttlSec must be a positive integer",
        ),
        (
            json!({"channel": "telegram", "ttlSec": {"a": 1}}),
            "ttlSec must be a positive integer",
        ),
        (
            json!({"channel": "telegram", "ttlSec": true}),
            "ttlSec must be a positive integer",
        ),
        (
            json!({"channel": "discord", "routeKey": "discord:default:guild:1:channel:2"}),
            "discord token pairing currently supports dm routeKey only",
        ),
        (
            json!({"channel": "discord", "routeKey": "nonsense"}),
            "discord token pairing currently supports dm routeKey only",
        ),
    ];
    for (body, error) in cases {
        let reply = app.issue_token(KEY_A, body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.body, json!({"ok": false, "error": error}), "{body}");
    }
    app.stop().await;
}

#[actix_web::test]
async fn ttl_defaults_and_is_clamped_to_the_maximum() {
    let app = app_with_codes().await;
    // (requested ttlSec, expected lifetime in seconds)
    let cases = [
        (json!(null), 900),
        (json!(0), 900),
        (json!(-5), 900),
        (json!(60), 60),
        (json!("120"), 120),
        (json!(999_999), 3600),
        (json!(1e300), 3600),
    ];
    for (ttl, expected) in cases {
        let before = now_ms();
        let reply = app
            .issue_token(KEY_A, json!({"channel": "telegram", "ttlSec": ttl}))
            .await;
        let after = now_ms();
        assert_eq!(reply.status, StatusCode::OK, "{ttl}: {}", reply.body);
        let expires = reply.body["expiresAtMs"].as_i64().expect("expiresAtMs");
        assert!(
            expires >= before + expected * 1000 && expires <= after + expected * 1000,
            "ttl {ttl}: expires {expires} not {expected}s after {before}..{after}"
        );
    }
    app.stop().await;
}

#[actix_web::test]
async fn claiming_a_code_binds_its_route_once() {
    let app = app_with_codes().await;
    let reply = claim(
        &app,
        KEY_A,
        json!({"code": "CODE-TG", "sessionKey": "agent:main:tg"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let binding_id = reply.body["bindingId"]
        .as_str()
        .expect("bindingId")
        .to_owned();
    assert!(binding_id.starts_with("bind_"));
    assert_eq!(
        reply.body,
        json!({"bindingId": binding_id, "channel": "telegram", "scope": "chat",
               "routeKey": "telegram:default:chat:-100123", "sessionKey": "agent:main:tg"})
    );
    let again = claim(&app, KEY_A, json!({"code": "CODE-TG"})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        again.body,
        json!({"ok": false, "error": "pairing code already claimed"})
    );
    let by_b = claim(&app, KEY_B, json!({"code": "CODE-TG"})).await;
    assert_eq!(by_b.status, StatusCode::CONFLICT);
    let items = app.list_bindings(KEY_A).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["bindingId"], json!(binding_id));
    assert_eq!(items[0]["routeKey"], json!("telegram:default:chat:-100123"));
    assert!(
        app.list_bindings(KEY_B).await.is_empty(),
        "B sees nothing of A's"
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_claim_without_session_key_answers_without_one() {
    let app = app_with_codes().await;
    let reply = claim(&app, KEY_A, json!({"code": "CODE-TG2"})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.get("sessionKey").is_none(), "{}", reply.body);
    // The derived session key (contract §6) is what the binding carries.
    let items = app.list_bindings(KEY_A).await;
    assert_eq!(items[0]["sessionKey"], json!("tg:chat:555"));
    app.stop().await;
}

#[actix_web::test]
async fn claim_answers_400_404_and_409_as_the_contract_says() {
    let app = app_with_codes().await;
    let missing = claim(&app, KEY_A, json!({})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.body, json!({"ok": false, "error": "code required"}));
    for code in ["NOPE", "CODE-OLD"] {
        let reply = claim(&app, KEY_A, json!({"code": code})).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{code}");
        assert_eq!(
            reply.body,
            json!({"ok": false, "error": "pairing code not found or expired"})
        );
    }
    // A second code for a route that is already actively bound cannot bind it again.
    assert_eq!(
        claim(&app, KEY_A, json!({"code": "CODE-TG"})).await.status,
        StatusCode::OK
    );
    let same_route = claim(&app, KEY_B, json!({"code": "CODE-SAME"})).await;
    assert_eq!(same_route.status, StatusCode::CONFLICT);
    assert!(app.list_bindings(KEY_B).await.is_empty());
    app.stop().await;
}

#[actix_web::test]
async fn two_racing_claims_of_one_code_give_exactly_one_200() {
    let app = app_with_codes().await;
    let (a, b) = futures_util::join!(
        claim(&app, KEY_A, json!({"code": "CODE-TG"})),
        claim(&app, KEY_B, json!({"code": "CODE-TG"})),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let bound = app.list_bindings(KEY_A).await.len() + app.list_bindings(KEY_B).await.len();
    assert_eq!(bound, 1);
    app.stop().await;
}

#[actix_web::test]
async fn discord_dm_tokens_conflict_with_the_tenants_own_active_binding() {
    let app = app_with_codes().await;
    let dm = json!({"channel": "discord", "routeKey": "discord:default:dm:user:42"});
    assert_eq!(
        app.issue_token(KEY_A, dm.clone()).await.status,
        StatusCode::OK
    );
    assert_eq!(
        claim(&app, KEY_A, json!({"code": "CODE-DM"})).await.status,
        StatusCode::OK
    );
    let reply = app.issue_token(KEY_A, dm.clone()).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(
        reply.body,
        json!({"ok": false, "error": "route already bound"})
    );
    // Another tenant learns nothing about A's binding from the answer.
    assert_eq!(app.issue_token(KEY_B, dm).await.status, StatusCode::OK);
    app.stop().await;
}

#[actix_web::test]
async fn bindings_are_listed_newest_first() {
    let app = app_with_codes().await;
    let first = claim(&app, KEY_A, json!({"code": "CODE-TG"})).await;
    let second = claim(&app, KEY_A, json!({"code": "CODE-TG2"})).await;
    let items = app.list_bindings(KEY_A).await;
    let ids: Vec<&Value> = items.iter().map(|i| &i["bindingId"]).collect();
    assert_eq!(
        ids,
        vec![&second.body["bindingId"], &first.body["bindingId"]]
    );
    for item in &items {
        for field in ["bindingId", "channel", "scope", "routeKey"] {
            assert!(item[field].is_string(), "{field} in {item}");
        }
    }
    app.stop().await;
}

#[actix_web::test]
async fn unbind_removes_only_the_callers_binding_and_hides_others() {
    let app = app_with_codes().await;
    let bound = claim(&app, KEY_A, json!({"code": "CODE-TG"})).await;
    let binding_id = bound.body["bindingId"].clone();

    let missing = app
        .post("/v1/pairings/unbind", Some(KEY_A), json!({}))
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        missing.body,
        json!({"ok": false, "error": "bindingId required"})
    );

    let by_b = app.unbind(KEY_B, &binding_id).await;
    let unknown = app.unbind(KEY_B, "bind_nope").await;
    assert_eq!(by_b.status, StatusCode::NOT_FOUND);
    assert_eq!(by_b.body, unknown.body, "same answer: no existence leak");
    assert_eq!(
        by_b.body,
        json!({"ok": false, "error": "binding not found"})
    );
    assert_eq!(app.list_bindings(KEY_A).await.len(), 1, "still bound for A");

    let ok = app.unbind(KEY_A, &binding_id).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body, json!({"ok": true}));
    assert!(app.list_bindings(KEY_A).await.is_empty());
    let twice = app.unbind(KEY_A, &binding_id).await;
    assert_eq!(twice.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[actix_web::test]
async fn bad_bodies_get_a_json_4xx_never_a_5xx() {
    let mut vars = two_tenants();
    vars.push(("MUX_MAX_BODY_BYTES", "2048".to_owned()));
    let app = spawn_app_with(vars).await;
    let bodies: Vec<Vec<u8>> = vec![
        b"{not json".to_vec(),
        b"[1,2,3]".to_vec(),
        b"\"telegram\"".to_vec(),
        br#"{"channel": 5}"#.to_vec(),
        br#"{"channel": ["telegram"]}"#.to_vec(),
        vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}'],
        format!(r#"{{"channel":"{}"}}"#, "x".repeat(1500)).into_bytes(),
        br#"{"channel":"telegram","ttlSec":1e999}"#.to_vec(),
    ];
    for path in [
        "/v1/pairings/token",
        "/v1/pairings/claim",
        "/v1/pairings/unbind",
        "/v1/tenant/inbound-target",
    ] {
        for body in &bodies {
            let mut resp = app
                .request(Method::POST, path, Some(KEY_A))
                .send_body(body.clone())
                .await
                .expect("reaches server");
            let status = resp.status();
            let json: Value = resp.json().await.expect("json error body");
            assert!(
                status.is_client_error(),
                "{path} {:?} → {status}",
                String::from_utf8_lossy(body)
            );
            assert_eq!(json["ok"], json!(false));
            assert!(json["error"].is_string());
        }
    }
    let huge = format!(
        r#"{{"channel":"telegram","sessionKey":"{}"}}"#,
        "x".repeat(4096)
    );
    let reply = app.post_raw("/v1/pairings/token", Some(KEY_A), huge).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.body["ok"], json!(false));
    app.stop().await;
}
