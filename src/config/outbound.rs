//! Outbound send settings (issue 3): the request deadline and Telegram pacing. None of these
//! names existed in the older service; all have defaults, so an old env file keeps working.

use super::ConfigError;
use super::env::Env;

/// How outbound sends are paced and how long one request may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundConfig {
    /// `MUX_OUTBOUND_DEADLINE_MS` (10000): the longest one `POST /v1/mux/outbound/send` may take,
    /// rate-limit waits included. A platform `retry_after` that ends later is answered with
    /// `429 RATE_LIMITED`; a platform call still running at the deadline is `504 OUTCOME_UNKNOWN`.
    pub deadline_ms: u64,
    /// `MUX_TELEGRAM_PACING_ENABLED` (true): pace Telegram sends below the Bot API limits. Switch
    /// it off only against a fake Telegram (benchmarks): the real API answers 429 without it.
    pub telegram_pacing: bool,
    /// `MUX_TELEGRAM_GLOBAL_PER_SEC` (30): sends per second for the whole bot, shared round-robin
    /// between the tenants that are waiting.
    pub telegram_global_per_sec: u32,
    /// `MUX_TELEGRAM_CHAT_INTERVAL_MS` (1000): least time between two sends into one chat.
    pub telegram_chat_interval_ms: u64,
    /// `MUX_TELEGRAM_GROUP_PER_MIN` (20): most sends into one group chat per minute.
    pub telegram_group_per_min: u32,
    /// `MUX_DISCORD_RATELIMIT_ENABLED` (true): keep Discord's buckets and its global limit (50
    /// requests/s per bot) before each request (twilight's rate limiter). Switch it off only
    /// against a fake Discord (benchmarks): the real API answers 429 and, when that repeats,
    /// bans the bot's token for a while.
    pub discord_ratelimit: bool,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        OutboundConfig {
            deadline_ms: 10_000,
            telegram_pacing: true,
            telegram_global_per_sec: 30,
            telegram_chat_interval_ms: 1_000,
            telegram_group_per_min: 20,
            discord_ratelimit: true,
        }
    }
}

pub(super) fn outbound(env: &Env) -> Result<OutboundConfig, ConfigError> {
    let d = OutboundConfig::default();
    Ok(OutboundConfig {
        deadline_ms: env.u64_min("MUX_OUTBOUND_DEADLINE_MS", d.deadline_ms, 1)?,
        telegram_pacing: env.bool("MUX_TELEGRAM_PACING_ENABLED", d.telegram_pacing)?,
        telegram_global_per_sec: u32_min(
            env,
            "MUX_TELEGRAM_GLOBAL_PER_SEC",
            d.telegram_global_per_sec,
        )?,
        telegram_chat_interval_ms: env.u64_min(
            "MUX_TELEGRAM_CHAT_INTERVAL_MS",
            d.telegram_chat_interval_ms,
            0,
        )?,
        telegram_group_per_min: u32_min(
            env,
            "MUX_TELEGRAM_GROUP_PER_MIN",
            d.telegram_group_per_min,
        )?,
        discord_ratelimit: env.bool("MUX_DISCORD_RATELIMIT_ENABLED", d.discord_ratelimit)?,
    })
}

fn u32_min(env: &Env, name: &str, default: u32) -> Result<u32, ConfigError> {
    let v = env.u64_min(name, u64::from(default), 1)?;
    u32::try_from(v).map_err(|_| ConfigError::new(name, "too large"))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn parse(vars: &[(&str, &str)]) -> Result<OutboundConfig, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        outbound(&Env::new(map))
    }

    #[test]
    fn defaults_follow_the_telegram_faq_limits() {
        assert_eq!(parse(&[]), Ok(OutboundConfig::default()));
    }

    #[test]
    fn pacing_can_be_switched_off_and_tuned() {
        let cfg = parse(&[
            ("MUX_TELEGRAM_PACING_ENABLED", "false"),
            ("MUX_TELEGRAM_GLOBAL_PER_SEC", "5"),
            ("MUX_TELEGRAM_CHAT_INTERVAL_MS", "0"),
            ("MUX_OUTBOUND_DEADLINE_MS", "2500"),
            ("MUX_DISCORD_RATELIMIT_ENABLED", "false"),
        ])
        .expect("valid");
        assert!(!cfg.telegram_pacing);
        assert!(!cfg.discord_ratelimit);
        assert!(
            OutboundConfig::default().discord_ratelimit,
            "on unless switched off"
        );
        assert_eq!(cfg.telegram_global_per_sec, 5);
        assert_eq!(cfg.telegram_chat_interval_ms, 0);
        assert_eq!(cfg.deadline_ms, 2500);
    }

    #[test]
    fn a_zero_rate_or_deadline_stops_the_start_naming_the_variable() {
        for var in [
            "MUX_TELEGRAM_GLOBAL_PER_SEC",
            "MUX_OUTBOUND_DEADLINE_MS",
            "MUX_TELEGRAM_GROUP_PER_MIN",
        ] {
            let err = parse(&[(var, "0")]).expect_err("rejected");
            assert_eq!(err.var, var);
        }
    }
}
