//! Configuration: read once from the environment at start, typed and validated, then passed down.
//!
//! Every name here is from contract §9. A malformed value stops the start with one line naming the
//! variable (`ConfigError`'s Display); the service never starts half-configured.

mod env;
mod http;
mod outbound;
pub mod seeds;
pub mod weak;

use std::collections::HashMap;
use std::path::PathBuf;

use secrecy::SecretString;

use crate::domain::ParseMode;
use crate::domain::url_policy::InboundUrlAllow;
pub use env::ConfigError;
use env::Env;
pub use http::HttpConfig;
pub use outbound::OutboundConfig;
pub use seeds::{InboundTargetSeed, PairingCodeSeed, TenantSeed};

/// The whole configuration tree.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address (`MUX_HOST`).
    pub host: String,
    /// Listen port (`MUX_PORT`); 0 picks a free port (tests, benchmark).
    pub port: u16,
    /// SQLite file (`MUX_DB_PATH`); created and migrated at start.
    pub db_path: PathBuf,
    /// Optional log file (`MUX_LOG_PATH`), written as JSON lines.
    pub log_path: Option<PathBuf>,
    /// `MUX_LOG_FORMAT`: `text` (journald) or `json`.
    pub log_format: LogFormat,
    /// Tenants upserted at start (`MUX_TENANTS_JSON`, or the legacy `MUX_API_KEY` tenant).
    pub tenants: Vec<TenantSeed>,
    /// Pairing codes seeded at start (`MUX_PAIRING_CODES_JSON`).
    pub pairing_codes: Vec<PairingCodeSeed>,
    /// How long an idempotency entry is kept (`MUX_IDEMPOTENCY_TTL_MS`).
    pub idempotency_ttl_ms: u64,
    /// Pairing token lifetimes and the notices sent in chats.
    pub pairing: PairingConfig,
    /// Telegram bot credentials and ingress settings.
    pub telegram: TelegramConfig,
    /// Discord bot credentials and ingress settings.
    pub discord: DiscordConfig,
    /// WhatsApp Cloud API credentials and webhook settings.
    pub whatsapp: WhatsappConfig,
    /// The service's address as tenants reach it (`MUX_PUBLIC_URL`, no trailing `/`): the base
    /// of the file proxy URLs in inbound envelopes. Unset → the URLs are paths (`/v1/mux/files/…`).
    pub public_url: Option<String>,
    /// Enables the admin API (`MUX_ADMIN_TOKEN`); unset → admin paths answer 404.
    pub admin_token: Option<SecretString>,
    /// Which inbound URLs a tenant may set (`MUX_INBOUND_URL_ALLOW`).
    pub inbound_url_allow: InboundUrlAllow,
    /// Request bodies larger than this answer 413 (`MUX_MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// Inbound events older than this are given up as dead (`MUX_FORWARD_MAX_AGE_SEC`).
    pub forward_max_age_sec: u64,
    /// What all forwarders together may hold of waiting events in memory
    /// (`MUX_FORWARD_MEMORY_BYTES`); the rest waits in SQLite until there is room.
    pub forward_memory_bytes: usize,
    /// `MUX_*` variables set but not used (a typo, or `MUX_API_KEY` beside `MUX_TENANTS_JSON`); logged
    /// as a warning at start rather than refused, so an older service's env file still works.
    pub unused_vars: Vec<String>,
    /// Outbound request deadline and Telegram pacing (`MUX_OUTBOUND_DEADLINE_MS`, `MUX_TELEGRAM_*`).
    pub outbound: OutboundConfig,
    /// Slow and greedy HTTP clients (`MUX_CLIENT_TIMEOUT_MS`, `MUX_MAX_CONNECTIONS_PER_PEER`, …).
    pub http: HttpConfig,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `key=value` lines for journald.
    Text,
    /// One JSON object per line.
    Json,
}

/// Pairing token lifetimes and chat notices (contract §3).
#[derive(Debug, Clone)]
pub struct PairingConfig {
    /// Default token lifetime (`MUX_PAIRING_TOKEN_TTL_SEC`).
    pub token_ttl_sec: u64,
    /// Upper bound for a requested lifetime (`MUX_PAIRING_TOKEN_MAX_TTL_SEC`).
    pub token_max_ttl_sec: u64,
    /// Sent when a token pairs a chat (`MUX_PAIRING_SUCCESS_TEXT`).
    pub success_text: String,
    /// Sent for an invalid, used or expired token (`MUX_PAIRING_INVALID_TEXT`).
    pub invalid_text: String,
    /// Sent for a command in an unpaired chat (`MUX_UNPAIRED_HINT_TEXT`).
    pub unpaired_hint_text: String,
}

/// Telegram Bot API settings.
#[derive(Debug, Clone)]
pub struct TelegramConfig {
    /// `TELEGRAM_BOT_TOKEN`; unset → the channel is disabled.
    pub bot_token: Option<SecretString>,
    /// `MUX_TELEGRAM_API_BASE_URL`.
    pub api_base_url: String,
    /// `MUX_TELEGRAM_BOT_USERNAME`, for deep links.
    pub bot_username: Option<String>,
    /// `MUX_TELEGRAM_INBOUND_ENABLED`.
    pub inbound_enabled: bool,
    /// `MUX_TELEGRAM_POLL_TIMEOUT_SEC`.
    pub poll_timeout_sec: u64,
    /// `MUX_TELEGRAM_POLL_RETRY_MS`.
    pub poll_retry_ms: u64,
    /// `MUX_TELEGRAM_BOOTSTRAP_LATEST`.
    pub bootstrap_latest: bool,
    /// `MUX_TELEGRAM_INBOUND_MEDIA_MAX_BYTES`.
    pub media_max_bytes: u64,
    /// `MUX_TELEGRAM_WEBHOOK_URL`: webhook mode instead of polling.
    pub webhook_url: Option<String>,
    /// `MUX_TELEGRAM_WEBHOOK_SECRET`, required in webhook mode.
    pub webhook_secret: Option<SecretString>,
    /// `MUX_TELEGRAM_PARSE_MODE` (unset): `parse_mode` of tenant sends without a `parseMode`.
    pub parse_mode: Option<ParseMode>,
}

/// Discord settings.
#[derive(Debug, Clone)]
pub struct DiscordConfig {
    /// `DISCORD_BOT_TOKEN`; unset → the channel is disabled.
    pub bot_token: Option<SecretString>,
    /// `MUX_DISCORD_API_BASE_URL`.
    pub api_base_url: String,
    /// `MUX_DISCORD_INBOUND_ENABLED`.
    pub inbound_enabled: bool,
    /// `MUX_DISCORD_POLL_INTERVAL_MS`.
    pub poll_interval_ms: u64,
    /// `MUX_DISCORD_BOOTSTRAP_LATEST`.
    pub bootstrap_latest: bool,
    /// `MUX_DISCORD_INBOUND_MEDIA_MAX_BYTES`.
    pub media_max_bytes: u64,
    /// `MUX_DISCORD_GATEWAY_URL`; unset → from `GET /gateway/bot`.
    pub gateway_url: Option<String>,
}

/// WhatsApp Cloud API settings.
#[derive(Debug, Clone)]
pub struct WhatsappConfig {
    /// `MUX_WHATSAPP_PHONE_NUMBER_ID`.
    pub phone_number_id: Option<String>,
    /// `MUX_WHATSAPP_ACCESS_TOKEN`.
    pub access_token: Option<SecretString>,
    /// `MUX_WHATSAPP_APP_SECRET`, for `X-Hub-Signature-256`.
    pub app_secret: Option<SecretString>,
    /// `MUX_WHATSAPP_VERIFY_TOKEN`, for the webhook challenge.
    pub verify_token: Option<SecretString>,
    /// `MUX_WHATSAPP_API_BASE_URL`.
    pub api_base_url: String,
    /// `MUX_WHATSAPP_INBOUND_ENABLED`.
    pub inbound_enabled: bool,
    /// `MUX_WHATSAPP_INBOUND_MEDIA_MAX_BYTES`.
    pub media_max_bytes: u64,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_map(std::env::vars().collect())
    }

    /// Reads a given set of variables (tests pass their own map; nothing global).
    pub fn from_map(vars: HashMap<String, String>) -> Result<Config, ConfigError> {
        let env = Env::new(vars);
        let inbound_url_allow = InboundUrlAllow::parse(env.get("MUX_INBOUND_URL_ALLOW"))
            .map_err(|reason| ConfigError::new("MUX_INBOUND_URL_ALLOW", reason))?;
        let token_max_ttl_sec = env.u64_min("MUX_PAIRING_TOKEN_MAX_TTL_SEC", 3600, 1)?;
        let tenants = seeds::tenants(&env, &inbound_url_allow)?;
        // One credential must never open both the admin and a tenant's paths.
        if let Some(admin) = env.get("MUX_ADMIN_TOKEN")
            && tenants
                .iter()
                .any(|t| secrecy::ExposeSecret::expose_secret(&t.api_key) == admin)
        {
            return Err(ConfigError::new(
                "MUX_ADMIN_TOKEN",
                "must differ from every tenant apiKey",
            ));
        }
        let config = Config {
            host: env.string("MUX_HOST", "127.0.0.1"),
            port: env.port("MUX_PORT", 18891)?,
            db_path: PathBuf::from(env.string("MUX_DB_PATH", "./data/mux-server.sqlite")),
            log_path: env.get("MUX_LOG_PATH").map(PathBuf::from),
            log_format: log_format(&env)?,
            tenants,
            pairing_codes: seeds::pairing_codes(&env)?,
            idempotency_ttl_ms: env.u64_min("MUX_IDEMPOTENCY_TTL_MS", 600_000, 1)?,
            pairing: PairingConfig {
                token_ttl_sec: env
                    .u64_min("MUX_PAIRING_TOKEN_TTL_SEC", 900, 1)?
                    .min(token_max_ttl_sec),
                token_max_ttl_sec,
                success_text: env.string(
                    "MUX_PAIRING_SUCCESS_TEXT",
                    "Paired successfully. You can chat now.",
                ),
                invalid_text: env.string(
                    "MUX_PAIRING_INVALID_TEXT",
                    "Pairing link is invalid or expired. Request a new link from your dashboard.",
                ),
                unpaired_hint_text: env.string(
                    "MUX_UNPAIRED_HINT_TEXT",
                    "This chat is not paired yet. Open your dashboard and use a new pairing link.",
                ),
            },
            telegram: telegram(&env)?,
            discord: discord(&env)?,
            whatsapp: whatsapp(&env)?,
            public_url: env
                .url_opt("MUX_PUBLIC_URL")?
                .map(|u| u.trim_end_matches('/').to_owned()),
            admin_token: env.secret("MUX_ADMIN_TOKEN"),
            inbound_url_allow,
            max_body_bytes: usize::try_from(env.u64_min("MUX_MAX_BODY_BYTES", 1_048_576, 1)?)
                .map_err(|_| ConfigError::new("MUX_MAX_BODY_BYTES", "too large"))?,
            forward_max_age_sec: env.u64_min("MUX_FORWARD_MAX_AGE_SEC", 86_400, 1)?,
            forward_memory_bytes: usize::try_from(env.u64_min(
                "MUX_FORWARD_MEMORY_BYTES",
                16_777_216,
                1,
            )?)
            .map_err(|_| ConfigError::new("MUX_FORWARD_MEMORY_BYTES", "too large"))?,
            outbound: outbound::outbound(&env)?,
            http: http::http(&env)?,
            unused_vars: Vec::new(),
        };
        Ok(Config {
            unused_vars: env.unread_mux_vars(),
            ..config
        })
    }

    /// `host:port` to bind.
    pub fn listen_addr(&self) -> (String, u16) {
        (self.host.clone(), self.port)
    }
}

fn log_format(env: &Env) -> Result<LogFormat, ConfigError> {
    match env
        .get("MUX_LOG_FORMAT")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("text") => Ok(LogFormat::Text),
        Some("json") => Ok(LogFormat::Json),
        Some(_) => Err(ConfigError::new("MUX_LOG_FORMAT", "must be text or json")),
    }
}

fn telegram(env: &Env) -> Result<TelegramConfig, ConfigError> {
    let inbound_enabled = env.bool("MUX_TELEGRAM_INBOUND_ENABLED", false)?;
    let webhook_url = env.url_opt("MUX_TELEGRAM_WEBHOOK_URL")?;
    let webhook_secret = env.secret("MUX_TELEGRAM_WEBHOOK_SECRET");
    if inbound_enabled && webhook_url.is_some() && webhook_secret.is_none() {
        return Err(ConfigError::new(
            "MUX_TELEGRAM_WEBHOOK_SECRET",
            "required when MUX_TELEGRAM_WEBHOOK_URL is set",
        ));
    }
    let bot_token = env.secret("TELEGRAM_BOT_TOKEN");
    if inbound_enabled && bot_token.is_none() {
        return Err(ConfigError::new(
            "TELEGRAM_BOT_TOKEN",
            "required when MUX_TELEGRAM_INBOUND_ENABLED is true",
        ));
    }
    Ok(TelegramConfig {
        bot_token,
        api_base_url: env.url("MUX_TELEGRAM_API_BASE_URL", "https://api.telegram.org")?,
        bot_username: env.get("MUX_TELEGRAM_BOT_USERNAME").map(str::to_owned),
        inbound_enabled,
        poll_timeout_sec: env.u64_min("MUX_TELEGRAM_POLL_TIMEOUT_SEC", 25, 0)?,
        poll_retry_ms: env.u64_min("MUX_TELEGRAM_POLL_RETRY_MS", 1000, 0)?,
        bootstrap_latest: env.bool("MUX_TELEGRAM_BOOTSTRAP_LATEST", true)?,
        media_max_bytes: env.u64_min("MUX_TELEGRAM_INBOUND_MEDIA_MAX_BYTES", 5_000_000, 0)?,
        webhook_url,
        webhook_secret,
        parse_mode: parse_mode(env)?,
    })
}

/// `MUX_TELEGRAM_PARSE_MODE`: unset, `HTML` or `MarkdownV2`.
fn parse_mode(env: &Env) -> Result<Option<ParseMode>, ConfigError> {
    let name = "MUX_TELEGRAM_PARSE_MODE";
    env.get(name)
        .map(|raw| {
            ParseMode::parse(raw.trim())
                .ok_or_else(|| ConfigError::new(name, "must be HTML or MarkdownV2"))
        })
        .transpose()
}

fn discord(env: &Env) -> Result<DiscordConfig, ConfigError> {
    Ok(DiscordConfig {
        bot_token: env.secret("DISCORD_BOT_TOKEN"),
        api_base_url: env.url("MUX_DISCORD_API_BASE_URL", "https://discord.com/api/v10")?,
        inbound_enabled: env.bool("MUX_DISCORD_INBOUND_ENABLED", false)?,
        poll_interval_ms: env.u64_min("MUX_DISCORD_POLL_INTERVAL_MS", 2000, 1)?,
        bootstrap_latest: env.bool("MUX_DISCORD_BOOTSTRAP_LATEST", true)?,
        media_max_bytes: env.u64_min("MUX_DISCORD_INBOUND_MEDIA_MAX_BYTES", 5_000_000, 0)?,
        gateway_url: env.ws_url_opt("MUX_DISCORD_GATEWAY_URL")?,
    })
}

fn whatsapp(env: &Env) -> Result<WhatsappConfig, ConfigError> {
    let inbound_enabled = env.bool("MUX_WHATSAPP_INBOUND_ENABLED", false)?;
    for var in ["MUX_WHATSAPP_APP_SECRET", "MUX_WHATSAPP_VERIFY_TOKEN"] {
        if inbound_enabled && env.get(var).is_none() {
            return Err(ConfigError::new(
                var,
                "required when MUX_WHATSAPP_INBOUND_ENABLED is true",
            ));
        }
    }
    Ok(WhatsappConfig {
        phone_number_id: env.get("MUX_WHATSAPP_PHONE_NUMBER_ID").map(str::to_owned),
        access_token: env.secret("MUX_WHATSAPP_ACCESS_TOKEN"),
        app_secret: env.secret("MUX_WHATSAPP_APP_SECRET"),
        verify_token: env.secret("MUX_WHATSAPP_VERIFY_TOKEN"),
        api_base_url: env.url(
            "MUX_WHATSAPP_API_BASE_URL",
            "https://graph.facebook.com/v21.0",
        )?,
        inbound_enabled,
        media_max_bytes: env.u64_min("MUX_WHATSAPP_INBOUND_MEDIA_MAX_BYTES", 5_000_000, 0)?,
    })
}

#[cfg(test)]
mod tests;
