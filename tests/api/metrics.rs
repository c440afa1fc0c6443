//! `GET /metrics`: Prometheus text, counters that move with traffic, no tenant labels.

use std::collections::HashMap;

use awc::http::StatusCode;
use serde_json::json;

use crate::admin::{ADMIN, admin_vars};
use crate::helpers::{KEY_A, spawn_app_with, two_tenants};

/// Parses the text exposition format strictly enough to catch mistakes: every sample belongs to
/// a family declared by `# TYPE`, names and label names are valid, values are numbers, histogram
/// buckets are cumulative and end in `_count`. Returns `series → value`.
pub fn parse_prometheus(text: &str) -> HashMap<String, f64> {
    let valid_name = |n: &str| {
        !n.is_empty()
            && n.chars().enumerate().all(|(i, c)| {
                c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
            })
    };
    let mut families: HashMap<String, String> = HashMap::new();
    let mut samples = HashMap::new();
    let mut last_bucket: Option<(String, f64)> = None;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(valid_name(name), "{line}");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(
                families.insert(name.to_owned(), kind.to_owned()).is_none(),
                "duplicate family {name}"
            );
            continue;
        }
        if line.starts_with('#') {
            assert!(line.starts_with("# HELP "), "{line}");
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("series value");
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((n, l)) => (n, l.strip_suffix('}').expect("closing brace")),
            None => (series, ""),
        };
        assert!(valid_name(name), "{line}");
        for pair in labels.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').expect("label=value");
            assert!(valid_name(k), "{line}");
            assert!(
                v.starts_with('"') && v.ends_with('"') && v.len() >= 2,
                "{line}"
            );
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|f| families.get(*f).is_some_and(|k| k == "histogram"))
            })
            .unwrap_or(name);
        assert!(
            families.contains_key(family),
            "sample {name} without # TYPE"
        );
        if name.ends_with("_bucket") {
            if let Some((prev_family, prev)) = &last_bucket
                && prev_family == family
            {
                assert!(value >= *prev, "buckets not cumulative: {line}");
            }
            last_bucket = Some((family.to_owned(), value));
        } else if name.ends_with("_count") && families.get(family).is_some_and(|k| k == "histogram")
        {
            let (_, inf) = last_bucket.clone().expect("buckets before count");
            assert_eq!(inf, value, "+Inf bucket equals count: {line}");
        }
        assert!(
            samples.insert(series.to_owned(), value).is_none(),
            "duplicate series {series}"
        );
    }
    samples
}

#[actix_web::test]
async fn metrics_parse_as_prometheus_text_and_move_with_traffic() {
    let app = spawn_app_with(admin_vars()).await;
    let (status, content_type, text) = app.metrics(Some(ADMIN)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let before = parse_prometheus(&text);
    for family in [
        "mux_inbound_events_received_total{channel=\"telegram\"}",
        "mux_inbound_events_forwarded_total{channel=\"discord\"}",
        "mux_inbound_events_dead_total{channel=\"whatsapp\"}",
        "mux_forward_latency_seconds_count",
        "mux_inbound_queue_depth",
        "mux_inbound_oldest_pending_age_seconds",
        "mux_outbound_sends_total{channel=\"telegram\",status=\"200\"}",
        "mux_platform_rate_limited_total{channel=\"telegram\"}",
        "mux_writer_commit_seconds_count",
    ] {
        assert!(before.contains_key(family), "{family} missing");
    }

    // Traffic: two refused keys, one token, one refused code claim, one admin write.
    assert_eq!(app.pairings("nope").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/v1/pairings", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.issue_token(KEY_A, json!({"channel": "telegram"}))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.claim(KEY_A, "x", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.metrics(Some("wrong")).await.0, StatusCode::UNAUTHORIZED);

    let after = parse_prometheus(&app.metrics(Some(ADMIN)).await.2);
    let moved = |series: &str| after[series] - before[series];
    assert_eq!(moved("mux_auth_failures_total{scope=\"tenant\"}"), 2.0);
    assert_eq!(moved("mux_auth_failures_total{scope=\"admin\"}"), 1.0);
    assert_eq!(
        moved("mux_pairing_outcomes_total{outcome=\"token_issued\"}"),
        1.0
    );
    assert_eq!(
        moved("mux_pairing_outcomes_total{outcome=\"code_rejected\"}"),
        1.0
    );
    assert!(
        moved("mux_writer_batch_size_count") >= 1.0,
        "the token insert was a commit"
    );
    assert!(moved("mux_writer_commit_seconds_count") >= 1.0);
    app.stop().await;
}

#[actix_web::test]
async fn metrics_carry_no_tenant_chat_or_session_labels() {
    let app = spawn_app_with(admin_vars()).await;
    app.issue_token(
        KEY_A,
        json!({"channel": "telegram", "sessionKey": "sess-secret-1"}),
    )
    .await;
    app.admin_create_tenant(json!({"id": "metrics-tenant"}))
        .await;
    app.pairings("bad-key-xyz").await;
    let (_, _, text) = app.metrics(Some(ADMIN)).await;
    for needle in [
        "tenant-a",
        "tenant-b",
        "metrics-tenant",
        "sess-secret-1",
        "bad-key-xyz",
        "/v1/",
    ] {
        assert!(!text.contains(needle), "{needle} appears in /metrics");
    }
    let allowed = ["channel", "status", "scope", "outcome", "le"];
    for series in parse_prometheus(&text).keys() {
        if let Some((_, labels)) = series.split_once('{') {
            for pair in labels.trim_end_matches('}').split(',') {
                let name = pair.split('=').next().unwrap_or_default();
                assert!(allowed.contains(&name), "label {name} in {series}");
            }
        }
    }
    app.stop().await;
}

#[actix_web::test]
async fn metrics_need_the_admin_token_when_one_is_set_and_are_open_otherwise() {
    let app = spawn_app_with(admin_vars()).await;
    assert_eq!(app.metrics(None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.metrics(Some(KEY_A)).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.metrics(Some(ADMIN)).await.0, StatusCode::OK);
    app.stop().await;

    let app = spawn_app_with(two_tenants()).await;
    let (status, _, text) = app.metrics(None).await;
    assert_eq!(status, StatusCode::OK);
    parse_prometheus(&text);
    app.stop().await;
}

#[actix_web::test]
async fn the_queue_gauges_follow_pending_events() {
    let app = spawn_app_with(admin_vars()).await;
    let conn = &mut crate::helpers::diesel_conn(&app.db_path);
    use diesel::RunQueryDsl;
    let old = mux_server::time::now_ms() - 120_000;
    diesel::sql_query(format!(
        "INSERT INTO inbound_events (channel, event_id, tenant_id, session_key, envelope, state, attempts, \
         next_attempt_at_ms, created_at_ms, updated_at_ms) VALUES \
         ('telegram', 'tg:1', 'tenant-b', 's', '{{}}', 'pending', 0, 0, {old}, {old}), \
         ('telegram', 'tg:2', 'tenant-b', 's', '{{}}', 'delivered', 1, 0, {old}, {old})"
    ))
    .execute(conn)
    .expect("insert events");
    let samples = parse_prometheus(&app.metrics(Some(ADMIN)).await.2);
    assert_eq!(samples["mux_inbound_queue_depth"], 1.0);
    let age = samples["mux_inbound_oldest_pending_age_seconds"];
    assert!((119.0..=200.0).contains(&age), "{age}");
    app.stop().await;
}

#[actix_web::test]
async fn inbound_counters_move_with_telegram_traffic() {
    let r = crate::inbound_telegram::spawn_polling(&[("MUX_ADMIN_TOKEN", ADMIN)]).await;
    let before = parse_prometheus(&r.metrics(Some(ADMIN)).await.2);
    let claimed = r.claim(KEY_A, "A1", "s").await;
    assert_eq!(claimed.status, StatusCode::OK);
    r.tg().push_text(1, 100, "hello");
    crate::helpers::eventually("delivered", || r.oc().accepted("tenant-a").len() == 1).await;

    // The forwarder counts a delivery once it is recorded, a moment after the endpoint saw it.
    let forwarded = "mux_inbound_events_forwarded_total{channel=\"telegram\"}";
    let mut after = parse_prometheus(&r.metrics(Some(ADMIN)).await.2);
    for _ in 0..500 {
        if after[forwarded] > before[forwarded] && after["mux_inbound_queue_depth"] == 0.0 {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
        after = parse_prometheus(&r.metrics(Some(ADMIN)).await.2);
    }
    let moved = |series: &str| after[series] - before[series];
    for series in [
        "mux_inbound_events_received_total{channel=\"telegram\"}",
        "mux_inbound_events_enqueued_total{channel=\"telegram\"}",
        "mux_inbound_events_forwarded_total{channel=\"telegram\"}",
        "mux_forward_latency_seconds_count",
        "mux_pairing_outcomes_total{outcome=\"code_claimed\"}",
    ] {
        assert_eq!(moved(series), 1.0, "{series}");
    }
    assert_eq!(after["mux_inbound_queue_depth"], 0.0);
    r.stop().await;
}

#[actix_web::test]
async fn outbound_answers_are_counted_per_channel_and_status() {
    let app = spawn_app_with(admin_vars()).await;
    let series = "mux_outbound_sends_total{channel=\"telegram\",status=\"403\"}";
    let before = parse_prometheus(&app.metrics(Some(ADMIN)).await.2);
    let body = json!({"channel": "telegram", "sessionKey": "nobody", "text": "hi"});
    let reply = app.post("/v1/mux/outbound/send", Some(KEY_A), body).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    let after = parse_prometheus(&app.metrics(Some(ADMIN)).await.2);
    assert_eq!(after[series] - before[series], 1.0);
    app.stop().await;
}
