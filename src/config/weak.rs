//! Settings that are valid but weak or that a platform would refuse (issue 9.5): reported by
//! `check-config` and logged at start, never a reason to refuse to start.

use secrecy::ExposeSecret;

use super::Config;

/// Shortest admin token not reported as weak (`openssl rand -base64 32` gives 44 characters).
pub const MIN_ADMIN_TOKEN_LEN: usize = 32;

/// One line per weakness, naming the variable (never its value).
pub fn warnings(c: &Config) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(token) = &c.admin_token
        && token.expose_secret().chars().count() < MIN_ADMIN_TOKEN_LEN
    {
        out.push(format!(
            "MUX_ADMIN_TOKEN is shorter than {MIN_ADMIN_TOKEN_LEN} characters: use a random one, e.g. `openssl rand -base64 32`"
        ));
    }
    if let Some(secret) = &c.telegram.webhook_secret
        && !telegram_secret_ok(secret.expose_secret())
    {
        out.push(
            "MUX_TELEGRAM_WEBHOOK_SECRET is not one Telegram accepts (1-256 characters A-Z a-z 0-9 _ -): setWebhook will refuse it"
                .to_owned(),
        );
    }
    out
}

/// `secret_token` of `setWebhook`: 1–256 characters, only `A-Z`, `a-z`, `0-9`, `_` and `-`.
pub fn telegram_secret_ok(secret: &str) -> bool {
    (1..=256).contains(&secret.len())
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telegram_secret_rules() {
        assert!(telegram_secret_ok("abc_DEF-123"));
        assert!(telegram_secret_ok(&"a".repeat(256)));
        assert!(!telegram_secret_ok(&"a".repeat(257)));
        assert!(!telegram_secret_ok(""));
        assert!(!telegram_secret_ok("has space"));
        assert!(!telegram_secret_ok("slash/plus+"));
    }
}
