use std::collections::HashMap;

use secrecy::ExposeSecret;

use super::*;

fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_map(
        vars.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>(),
    )
}

fn err_var(vars: &[(&str, &str)]) -> String {
    match cfg(vars) {
        Ok(_) => panic!("{vars:?} should be refused"),
        Err(e) => {
            assert!(
                e.to_string().starts_with(&format!("invalid {}:", e.var)),
                "{e}"
            );
            e.var
        }
    }
}

#[test]
fn defaults_match_the_contract() {
    let c = cfg(&[]).expect("empty env is valid");
    assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 18891));
    assert_eq!(c.db_path, PathBuf::from("./data/mux-server.sqlite"));
    assert!(c.tenants.is_empty(), "no built-in default key");
    assert_eq!(c.idempotency_ttl_ms, 600_000);
    assert_eq!(
        (c.pairing.token_ttl_sec, c.pairing.token_max_ttl_sec),
        (900, 3600)
    );
    assert_eq!(
        c.pairing.success_text,
        "Paired successfully. You can chat now."
    );
    assert_eq!(c.telegram.api_base_url, "https://api.telegram.org");
    assert_eq!(c.discord.api_base_url, "https://discord.com/api/v10");
    assert_eq!(c.whatsapp.api_base_url, "https://graph.facebook.com/v21.0");
    assert_eq!(c.telegram.poll_timeout_sec, 25);
    assert!(c.telegram.bootstrap_latest && !c.telegram.inbound_enabled);
    assert_eq!(c.max_body_bytes, 1_048_576);
    assert_eq!(c.forward_max_age_sec, 86_400);
    assert_eq!(c.forward_memory_bytes, 16 * 1024 * 1024);
    assert!(c.admin_token.is_none());
}

#[test]
fn a_bad_port_names_mux_port() {
    for bad in ["abc", "-1", "65536", "80.5"] {
        assert_eq!(err_var(&[("MUX_PORT", bad)]), "MUX_PORT", "{bad}");
    }
    assert_eq!(cfg(&[("MUX_PORT", " 8080 ")]).expect("trimmed").port, 8080);
}

#[test]
fn malformed_tenants_json_names_the_variable() {
    for bad in [
        "{not json",
        "{}",
        r#"[{"id":"a"}]"#,
        r#"[{"id":"","apiKey":"k"}]"#,
        r#"[{"id":"has space","apiKey":"k"}]"#,
        r#"[{"id":"a","apiKey":"k","inboundUrl":"http://x.example"}]"#,
        r#"[{"id":"a","apiKey":"k","inboundUrl":"ftp://x","inboundToken":"t"}]"#,
    ] {
        assert_eq!(
            err_var(&[("MUX_TENANTS_JSON", bad)]),
            "MUX_TENANTS_JSON",
            "{bad}"
        );
    }
}

#[test]
fn duplicate_tenant_ids_are_refused() {
    let json = r#"[{"id":"a","apiKey":"k1"},{"id":"a","apiKey":"k2"}]"#;
    let e = cfg(&[("MUX_TENANTS_JSON", json)]).expect_err("duplicate id");
    assert_eq!(e.var, "MUX_TENANTS_JSON");
    assert!(e.reason.contains("duplicate tenant id a"), "{e}");
}

#[test]
fn duplicate_keys_are_refused_without_printing_the_key() {
    let json = r#"[{"id":"a","apiKey":"shared-secret"},{"id":"b","apiKey":"shared-secret"}]"#;
    let e = cfg(&[("MUX_TENANTS_JSON", json)]).expect_err("duplicate key");
    assert_eq!(e.var, "MUX_TENANTS_JSON");
    assert!(!e.to_string().contains("shared-secret"), "{e}");
}

#[test]
fn tenants_json_wins_over_the_legacy_key() {
    let json = r#"[{"id":"t1","name":"One","apiKey":"k1","inboundUrl":"https://one.example/in","inboundToken":"it","inboundTimeoutMs":5000}]"#;
    let c = cfg(&[("MUX_TENANTS_JSON", json), ("MUX_API_KEY", "legacy")]).expect("valid");
    assert_eq!(c.tenants.len(), 1);
    let t = &c.tenants[0];
    assert_eq!((t.id.as_str(), t.name.as_str()), ("t1", "One"));
    assert_eq!(t.api_key.expose_secret(), "k1");
    let inbound = t.inbound.as_ref().expect("inbound target");
    assert_eq!(
        (inbound.url.as_str(), inbound.timeout_ms),
        ("https://one.example/in", 5000)
    );
}

#[test]
fn the_legacy_key_seeds_tenant_default() {
    let c = cfg(&[
        ("MUX_API_KEY", "legacy"),
        (
            "MUX_OPENCLAW_INBOUND_URL",
            "http://127.0.0.1:18789/v1/mux/inbound",
        ),
        ("MUX_OPENCLAW_INBOUND_TOKEN", "tok"),
        ("MUX_OPENCLAW_INBOUND_TIMEOUT_MS", "7000"),
    ])
    .expect("valid");
    assert_eq!(c.tenants[0].id, "tenant-default");
    assert_eq!(
        c.tenants[0].inbound.as_ref().map(|t| t.timeout_ms),
        Some(7000)
    );
    assert_eq!(
        err_var(&[
            ("MUX_API_KEY", "k"),
            ("MUX_OPENCLAW_INBOUND_URL", "http://x.example")
        ]),
        "MUX_OPENCLAW_INBOUND_URL"
    );
    assert_eq!(
        err_var(&[
            ("MUX_API_KEY", "k"),
            ("MUX_OPENCLAW_INBOUND_TIMEOUT_MS", "soon")
        ]),
        "MUX_OPENCLAW_INBOUND_TIMEOUT_MS"
    );
}

#[test]
fn blank_values_count_as_unset() {
    let c = cfg(&[
        ("MUX_API_KEY", ""),
        ("MUX_PORT", "  "),
        ("TELEGRAM_BOT_TOKEN", ""),
    ])
    .expect("valid");
    assert!(c.tenants.is_empty());
    assert_eq!(c.port, 18891);
    assert!(c.telegram.bot_token.is_none());
}

#[test]
fn each_malformed_variable_is_named() {
    let cases: &[(&str, &str)] = &[
        ("MUX_IDEMPOTENCY_TTL_MS", "ten"),
        ("MUX_PAIRING_TOKEN_TTL_SEC", "0"),
        ("MUX_PAIRING_TOKEN_MAX_TTL_SEC", "-3"),
        ("MUX_TELEGRAM_INBOUND_ENABLED", "maybe"),
        ("MUX_TELEGRAM_API_BASE_URL", "api.telegram.org"),
        ("MUX_DISCORD_API_BASE_URL", "ftp://discord.com"),
        ("MUX_DISCORD_GATEWAY_URL", "https://gateway.discord.gg"),
        ("MUX_WHATSAPP_API_BASE_URL", "graph"),
        ("MUX_MAX_BODY_BYTES", "big"),
        ("MUX_INBOUND_URL_ALLOW", "bad host!"),
        ("MUX_PAIRING_CODES_JSON", "[{\"code\":\"c\"}]"),
        ("MUX_LOG_FORMAT", "xml"),
        ("MUX_DISCORD_POLL_INTERVAL_MS", "0"),
    ];
    for (var, value) in cases {
        assert_eq!(err_var(&[(var, value)]), *var, "{var}={value}");
    }
}

#[test]
fn webhook_mode_requires_its_secret() {
    let vars = [
        ("MUX_TELEGRAM_INBOUND_ENABLED", "true"),
        (
            "MUX_TELEGRAM_WEBHOOK_URL",
            "https://mux.example/v1/ingress/telegram",
        ),
    ];
    assert_eq!(err_var(&vars), "MUX_TELEGRAM_WEBHOOK_SECRET");
}

#[test]
fn the_default_ttl_never_exceeds_the_maximum() {
    let c = cfg(&[
        ("MUX_PAIRING_TOKEN_TTL_SEC", "5000"),
        ("MUX_PAIRING_TOKEN_MAX_TTL_SEC", "60"),
    ])
    .expect("valid");
    assert_eq!(c.pairing.token_ttl_sec, 60);
}

#[test]
fn pairing_codes_are_checked_against_their_route_key() {
    let ok = r#"[{"code":"c1","channel":"telegram","routeKey":"telegram:default:chat:-1001","scope":"chat"}]"#;
    assert_eq!(
        cfg(&[("MUX_PAIRING_CODES_JSON", ok)])
            .expect("valid")
            .pairing_codes
            .len(),
        1
    );
    for bad in [
        r#"[{"code":"c1","channel":"discord","routeKey":"telegram:default:chat:1","scope":"chat"}]"#,
        r#"[{"code":"c1","channel":"telegram","routeKey":"telegram:chat:1","scope":"chat"}]"#,
        r#"[{"code":"c1","channel":"telegram","routeKey":"telegram:default:chat:1","scope":"room"}]"#,
        r#"[{"code":"c1","channel":"telegram","routeKey":"telegram:default:chat:1","scope":"chat"},
            {"code":"c1","channel":"telegram","routeKey":"telegram:default:chat:2","scope":"chat"}]"#,
    ] {
        assert_eq!(
            err_var(&[("MUX_PAIRING_CODES_JSON", bad)]),
            "MUX_PAIRING_CODES_JSON",
            "{bad}"
        );
    }
}

#[test]
fn the_older_services_discord_guild_and_thread_codes_are_accepted() {
    let codes = r#"[
      {"code":"g","channel":"discord","routeKey":"discord:default:guild:500","scope":"guild"},
      {"code":"o","channel":"discord","routeKey":"discord:ops:guild:500","scope":"guild"},
      {"code":"t","channel":"discord","routeKey":"discord:default:guild:500:channel:501:thread:5011","scope":"channel"},
      {"code":"b","channel":"discord","routeKey":"discord:default:guild:500:thread:5011","scope":"guild"}
    ]"#;
    let seeded = cfg(&[("MUX_PAIRING_CODES_JSON", codes)])
        .expect("valid")
        .pairing_codes;
    let scopes: Vec<&str> = seeded.iter().map(|c| c.scope.as_str()).collect();
    assert_eq!(scopes, ["guild", "guild", "channel", "guild"], "as seeded");
    assert_eq!(
        seeded[1].route_key.to_string(),
        "discord:ops:guild:500",
        "the account is kept"
    );
}

#[test]
fn the_admin_token_cannot_also_be_a_tenant_key() {
    let vars = [
        ("MUX_API_KEY", "same-secret"),
        ("MUX_ADMIN_TOKEN", "same-secret"),
    ];
    let e = cfg(&vars).expect_err("shared credential");
    assert_eq!(e.var, "MUX_ADMIN_TOKEN");
    assert!(!e.to_string().contains("same-secret"));
}

#[test]
fn unused_mux_variables_are_reported_not_refused() {
    // Built with concat! so the deploy test, which collects MUX_ names from this folder's
    // string literals, does not take the typo for a real variable.
    let typo = concat!("MUX_", "PROT");
    let c = cfg(&[(typo, "8080"), ("MUX_PORT", "8081"), ("OTHER", "x")]).expect("valid");
    assert_eq!(c.unused_vars, vec![typo.to_owned()]);
}

#[test]
fn the_telegram_parse_mode_is_unset_html_or_markdown_v2() {
    use crate::domain::ParseMode;
    let mode = |v: &str| cfg(&[("MUX_TELEGRAM_PARSE_MODE", v)]).map(|c| c.telegram.parse_mode);
    assert_eq!(mode("").ok(), Some(None), "blank is unset");
    assert_eq!(mode("HTML").ok(), Some(Some(ParseMode::Html)));
    assert_eq!(mode("MarkdownV2").ok(), Some(Some(ParseMode::MarkdownV2)));
    assert_eq!(
        err_var(&[("MUX_TELEGRAM_PARSE_MODE", "Markdown")]),
        "MUX_TELEGRAM_PARSE_MODE"
    );
}
