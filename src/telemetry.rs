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
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
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
            writeln!(
                buf,
                "{} {} {}: {}",
                buf.timestamp_millis(),
                record.level(),
                record.target(),
                record.args()
            )
        }),
        LogFormat::Json => builder.format(|buf, record| {
            let line = serde_json::json!({
                "ts": buf.timestamp_millis().to_string(),
                "level": record.level().as_str(),
                "target": record.target(),
                "msg": record.args().to_string(),
            });
            writeln!(buf, "{line}")
        }),
    };
    builder
}
