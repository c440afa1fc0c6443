//! `mux-server check-config`.

use super::{run, stderr, stdout};

#[actix_web::test]
async fn check_config_rejects_each_malformed_variable_naming_it() {
    let cases = [
        ("MUX_PORT", "http"),
        ("MUX_PORT", "70000"),
        ("MUX_LOG_FORMAT", "xml"),
        ("MUX_TENANTS_JSON", "{not json"),
        (
            "MUX_TENANTS_JSON",
            r#"[{"id":"a","apiKey":"k"},{"id":"a","apiKey":"k2"}]"#,
        ),
        ("MUX_PAIRING_CODES_JSON", r#"[{"code":"c"}]"#),
        ("MUX_IDEMPOTENCY_TTL_MS", "-5"),
        ("MUX_PAIRING_TOKEN_TTL_SEC", "soon"),
        ("MUX_PAIRING_TOKEN_MAX_TTL_SEC", "0"),
        ("MUX_MAX_BODY_BYTES", "0"),
        ("MUX_FORWARD_MAX_AGE_SEC", "x"),
        ("MUX_INBOUND_URL_ALLOW", "10.0.0.0/99"),
        ("MUX_TELEGRAM_API_BASE_URL", "ftp://api.telegram.org"),
        ("MUX_TELEGRAM_INBOUND_ENABLED", "maybe"),
        ("MUX_TELEGRAM_POLL_TIMEOUT_SEC", "-1"),
        ("MUX_TELEGRAM_WEBHOOK_URL", "not a url"),
        ("MUX_DISCORD_API_BASE_URL", "discord.com"),
        ("MUX_DISCORD_GATEWAY_URL", "http://gateway.example"),
        ("MUX_DISCORD_POLL_INTERVAL_MS", "0"),
        ("MUX_WHATSAPP_API_BASE_URL", "graph"),
        ("MUX_WHATSAPP_INBOUND_ENABLED", "2"),
    ];
    for (var, value) in cases {
        let out = run(&["check-config"], vec![(var, value.to_owned())]).await;
        assert_eq!(out.status.code(), Some(2), "{var}={value}");
        let err = stderr(&out);
        assert!(
            err.contains(&format!("invalid {var}:")),
            "{var}={value}: {err}"
        );
    }
    let ok = run(
        &["check-config"],
        vec![("MUX_ADMIN_TOKEN", "adm-secret".to_owned())],
    )
    .await;
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).starts_with("configuration ok"));
    assert!(!stdout(&ok).contains("adm-secret"));
}

#[actix_web::test]
async fn check_config_warns_about_a_weak_admin_token_and_a_secret_telegram_refuses() {
    let weak = run(
        &["check-config"],
        vec![
            ("MUX_ADMIN_TOKEN", "short-admin-token".to_owned()),
            ("TELEGRAM_BOT_TOKEN", "123:abc".to_owned()),
            ("MUX_TELEGRAM_INBOUND_ENABLED", "true".to_owned()),
            (
                "MUX_TELEGRAM_WEBHOOK_URL",
                "https://mux.example/hook".to_owned(),
            ),
            ("MUX_TELEGRAM_WEBHOOK_SECRET", "not/allowed here".to_owned()),
        ],
    )
    .await;
    assert!(
        weak.status.success(),
        "warnings do not fail: {}",
        stderr(&weak)
    );
    let out = stdout(&weak);
    assert!(
        out.contains("warning: MUX_ADMIN_TOKEN is shorter than 32 characters"),
        "{out}"
    );
    assert!(
        out.contains("warning: MUX_TELEGRAM_WEBHOOK_SECRET is not one Telegram accepts"),
        "{out}"
    );
    assert!(!out.contains("short-admin-token") && !out.contains("not/allowed"));

    let strong = run(
        &["check-config"],
        vec![
            ("MUX_ADMIN_TOKEN", "x".repeat(32)),
            ("TELEGRAM_BOT_TOKEN", "123:abc".to_owned()),
            ("MUX_TELEGRAM_INBOUND_ENABLED", "true".to_owned()),
            (
                "MUX_TELEGRAM_WEBHOOK_URL",
                "https://mux.example/hook".to_owned(),
            ),
            ("MUX_TELEGRAM_WEBHOOK_SECRET", "Abc_def-123".to_owned()),
        ],
    )
    .await;
    assert!(strong.status.success());
    assert!(!stdout(&strong).contains("warning:"), "{}", stdout(&strong));
}

#[actix_web::test]
async fn db_path_pins_the_database_and_refuses_an_environment_naming_another_one() {
    let pinned = "/var/lib/mux-server/mux-server.sqlite";
    let flag = ["--db-path", pinned, "check-config"];
    let alone = run(&flag, vec![]).await;
    assert!(alone.status.success(), "{}", stderr(&alone));
    assert!(stdout(&alone).contains(pinned), "{}", stdout(&alone));
    let same = run(&flag, vec![("MUX_DB_PATH", pinned.to_owned())]).await;
    assert!(same.status.success(), "{}", stderr(&same));
    // An env file kept from the older service, still naming its old file.
    let old = run(
        &flag,
        vec![("MUX_DB_PATH", "/opt/old-mux/mux.sqlite".to_owned())],
    )
    .await;
    assert_eq!(old.status.code(), Some(2));
    let err = stderr(&old);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("MUX_DB_PATH=/opt/old-mux/mux.sqlite"), "{err}");
    assert!(err.contains("Upgrading from the older service"), "{err}");
}
