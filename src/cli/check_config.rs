//! `mux-server check-config`: what the service would run with. Secrets are only ever reported
//! as set or not set.

use std::fmt::Write as _;

use secrecy::SecretString;

use crate::config::{Config, LogFormat};

fn set(secret: Option<&SecretString>) -> &'static str {
    if secret.is_some() { "set" } else { "not set" }
}

fn on(flag: bool) -> &'static str {
    if flag { "enabled" } else { "disabled" }
}

/// The report printed for a valid configuration.
pub fn summary(c: &Config) -> String {
    let mut out = String::from("configuration ok\n");
    let mut line = |k: &str, v: String| {
        let _ = writeln!(out, "  {k:<22} {v}");
    };
    line("listen", format!("{}:{}", c.host, c.port));
    line("database", c.db_path.display().to_string());
    let log = match (&c.log_path, c.log_format) {
        (Some(p), _) => format!("json lines to {}", p.display()),
        (None, LogFormat::Json) => "json lines to stderr".to_owned(),
        (None, LogFormat::Text) => "text to stderr".to_owned(),
    };
    line("log", log);
    let ids: Vec<&str> = c.tenants.iter().map(|t| t.id.as_str()).collect();
    line("seeded tenants", format!("{} {ids:?}", ids.len()));
    line("seeded pairing codes", c.pairing_codes.len().to_string());
    line(
        "admin API",
        format!(
            "{} (MUX_ADMIN_TOKEN {})",
            on(c.admin_token.is_some()),
            set(c.admin_token.as_ref())
        ),
    );
    let metrics = if c.admin_token.is_some() {
        "behind the admin token"
    } else {
        "open: keep MUX_HOST on loopback"
    };
    line("/metrics", metrics.to_owned());
    let tg = &c.telegram;
    let tg_mode = match (tg.inbound_enabled, tg.webhook_url.is_some()) {
        (false, _) => "inbound disabled",
        (true, false) => "inbound by long polling",
        (true, true) => "inbound by webhook",
    };
    line(
        "telegram",
        format!(
            "bot token {}, {tg_mode}, api {}",
            set(tg.bot_token.as_ref()),
            tg.api_base_url
        ),
    );
    let dc = &c.discord;
    line(
        "discord",
        format!(
            "bot token {}, inbound {}, api {}",
            set(dc.bot_token.as_ref()),
            on(dc.inbound_enabled),
            dc.api_base_url
        ),
    );
    let wa = &c.whatsapp;
    line(
        "whatsapp",
        format!(
            "access token {}, app secret {}, verify token {}, inbound {}, api {}",
            set(wa.access_token.as_ref()),
            set(wa.app_secret.as_ref()),
            set(wa.verify_token.as_ref()),
            on(wa.inbound_enabled),
            wa.api_base_url
        ),
    );
    let ob = &c.outbound;
    line(
        "outbound",
        format!(
            "deadline {} ms, telegram pacing {}",
            ob.deadline_ms,
            on(ob.telegram_pacing)
        ),
    );
    line("max body bytes", c.max_body_bytes.to_string());
    line("forward max age", format!("{} s", c.forward_max_age_sec));
    line(
        "forward memory",
        format!("{} bytes", c.forward_memory_bytes),
    );
    line("idempotency ttl", format!("{} ms", c.idempotency_ttl_ms));
    for warning in crate::config::weak::warnings(c) {
        let _ = writeln!(out, "warning: {warning}");
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn the_summary_says_what_is_set_and_never_the_secrets() {
        let secrets = [
            ("MUX_ADMIN_TOKEN", "adm-secret-1"),
            ("TELEGRAM_BOT_TOKEN", "tg-secret-2"),
            ("DISCORD_BOT_TOKEN", "dc-secret-3"),
            ("MUX_WHATSAPP_ACCESS_TOKEN", "wa-secret-4"),
            ("MUX_WHATSAPP_APP_SECRET", "wa-secret-5"),
            (
                "MUX_TENANTS_JSON",
                r#"[{"id":"t-1","apiKey":"key-secret-6","inboundUrl":"http://127.0.0.1:1/","inboundToken":"in-secret-7"}]"#,
            ),
            (
                "MUX_PAIRING_CODES_JSON",
                r#"[{"code":"code-secret-8","channel":"telegram","routeKey":"telegram:default:chat:1","scope":"chat"}]"#,
            ),
        ];
        let vars: HashMap<String, String> = secrets
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let text = summary(&Config::from_map(vars).unwrap());
        for (_, v) in &secrets[..5] {
            assert!(!text.contains(v), "{v} printed");
        }
        for v in ["key-secret-6", "in-secret-7", "code-secret-8"] {
            assert!(!text.contains(v), "{v} printed");
        }
        assert!(text.contains("admin API              enabled"), "{text}");
        assert!(text.contains("[\"t-1\"]"), "{text}");
        assert!(text.contains("seeded pairing codes   1"), "{text}");
    }
}
