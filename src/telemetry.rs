//! Logging: `key=value` lines for journald by default, one JSON object per line when
//! `MUX_LOG_FORMAT=json` or when writing to `MUX_LOG_PATH`. `RUST_LOG` filters (default `info`).

use std::io::Write;

use crate::config::{Config, LogFormat};

/// Installs the global logger. The writer is a parameter so tests can capture output.
pub fn init(config: &Config) -> anyhow::Result<()> {
    let (format, target): (LogFormat, env_logger::Target) = match &config.log_path {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            // Log lines carry tenant ids and event ids: owner-only, whatever the umask.
            let file = std::os::unix::fs::OpenOptionsExt::mode(
                std::fs::OpenOptions::new().create(true).append(true),
                0o600,
            )
            .open(path)?;
            file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
            (LogFormat::Json, env_logger::Target::Pipe(Box::new(file)))
        }
        None => (config.log_format, env_logger::Target::Stderr),
    };
    builder(format).target(target).try_init()?;
    Ok(())
}

/// A logger builder with the service's line format.
pub fn builder(format: LogFormat) -> env_logger::Builder {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    match format {
        LogFormat::Text => builder.format(|buf, record| {
            let (level, msg) = classify(record);
            writeln!(
                buf,
                "{} {} {}: {}",
                buf.timestamp_millis(),
                level,
                record.target(),
                msg
            )
        }),
        LogFormat::Json => builder.format(|buf, record| {
            let ts = buf.timestamp_millis().to_string();
            let (level, msg) = classify(record);
            let line = json_line(&ts, level.as_str(), record.target(), &msg);
            writeln!(buf, "{line}")
        }),
    };
    builder
}

/// The level and message a record is written with. actix-http reports every connection a
/// client spoils (a request it cannot parse, a head that never completes, a reset) as `ERROR
/// stream error: …`, once per connection: that is the client's fault, not the service's, so it
/// is written as one `WARN event=malformed_request` (or `client_connection_failed`) line.
fn classify(record: &log::Record<'_>) -> (log::Level, String) {
    let msg = record.args().to_string();
    if record.level() == log::Level::Error
        && record.target().starts_with("actix_http::h1")
        && let Some(cause) = msg.strip_prefix("stream error: ")
    {
        let event = if cause.contains("parse error") {
            "malformed_request"
        } else {
            "client_connection_failed"
        };
        return (log::Level::Warn, format!("event={event} error={cause}"));
    }
    (record.level(), msg)
}

/// One JSON log object. The message's leading `key=value` words (`event=auth_failed
/// scope=tenant …`) become fields of their own, so `jq 'select(.event == "forward_dead")'`
/// works; the whole message stays in `msg`. Fields never override `ts`, `level`, `target`, `msg`.
pub fn json_line(ts: &str, level: &str, target: &str, msg: &str) -> serde_json::Value {
    let mut line = serde_json::Map::new();
    for (k, v) in fields(msg) {
        line.insert(k.to_owned(), serde_json::Value::String(v.to_owned()));
    }
    line.insert("ts".into(), ts.into());
    line.insert("level".into(), level.into());
    line.insert("target".into(), target.into());
    line.insert("msg".into(), msg.into());
    serde_json::Value::Object(line)
}

/// The `key=value` fields of a log message that starts with one. Words that are not `key=value`
/// belong to the value before them, so a trailing `error=<cause chain with spaces>` stays whole.
/// Keys are `[a-z0-9_]+`; a message that does not start with a field has none.
pub fn fields(msg: &str) -> Vec<(&str, &str)> {
    let mut out: Vec<(&str, usize, usize)> = Vec::new();
    let mut offset = 0;
    for word in msg.split(' ') {
        let (start, end) = (offset, offset + word.len());
        offset = end + 1;
        let key = word.split_once('=').map(|(k, _)| k).filter(|k| {
            !k.is_empty()
                && k.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        });
        match (key, out.last_mut()) {
            (Some(k), _) => out.push((k, start + k.len() + 1, end)),
            (None, Some(last)) => last.2 = end,
            (None, None) => break,
        }
    }
    out.into_iter().map(|(k, a, b)| (k, &msg[a..b])).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn key_value_words_become_json_fields() {
        let line = json_line(
            "1",
            "WARN",
            "mux_server::api::auth",
            "event=auth_failed scope=tenant path=/v1/pairings",
        );
        assert_eq!(
            line,
            json!({"ts": "1", "level": "WARN", "target": "mux_server::api::auth", "event": "auth_failed",
                   "scope": "tenant", "path": "/v1/pairings",
                   "msg": "event=auth_failed scope=tenant path=/v1/pairings"})
        );
    }

    #[test]
    fn free_text_ends_the_fields_and_reserved_keys_stay_intact() {
        assert_eq!(
            fields("event=fatal error=cannot open: disk full x=1"),
            [
                ("event", "fatal"),
                ("error", "cannot open: disk full"),
                ("x", "1")
            ]
        );
        assert_eq!(fields("event=e a==b"), [("event", "e"), ("a", "=b")]);
        assert_eq!(fields("plain message"), []);
        assert_eq!(fields("Event=x"), []);
        let line = json_line("9", "INFO", "t", "level=bogus msg=x ts=0 event=e");
        assert_eq!(
            (
                line["level"].clone(),
                line["ts"].clone(),
                line["event"].clone()
            ),
            (json!("INFO"), json!("9"), json!("e"))
        );
    }
}
