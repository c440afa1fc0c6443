//! The platforms an outbound scenario sends to: how a tenant's chat is bound (route key and
//! session key of its pairing code), the send request mux gets, and the platform call the relay
//! ceiling makes for it against the same fake.

use serde_json::{Value, json};

use mux_server::testkit::{discord, telegram, whatsapp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Platform {
    Telegram,
    Discord,
    WhatsApp,
}

/// One platform call of the relay ceiling: URL, `Authorization` value, JSON body.
pub struct PlatformCall {
    pub url: String,
    pub auth: Option<String>,
    pub body: Value,
}

impl Platform {
    /// The `channel` of a send and of a pairing code.
    pub fn channel(self) -> &'static str {
        match self {
            Platform::Telegram => "telegram",
            Platform::Discord => "discord",
            Platform::WhatsApp => "whatsapp",
        }
    }

    /// The scenario that sends to this platform.
    pub fn scenario(self) -> &'static str {
        match self {
            Platform::Telegram => "outbound",
            Platform::Discord => "outbound-discord",
            Platform::WhatsApp => "outbound-whatsapp",
        }
    }

    /// WhatsApp number (wa_id) of bench chat `chat`.
    fn wa_id(chat: i64) -> i64 {
        15_500_000_000 + chat
    }

    /// Session key of bench chat `chat`; its last `:` segment is what the ceiling addresses.
    pub fn session_key(self, chat: i64) -> String {
        match self {
            Platform::Telegram => format!("tg:chat:{chat}"),
            Platform::Discord => format!("dc:channel:{chat}"),
            Platform::WhatsApp => format!("wa:chat:{}", Self::wa_id(chat)),
        }
    }

    /// `(routeKey, scope)` of the pairing code that binds bench chat `chat`: a private
    /// Telegram chat, a guild text channel, a WhatsApp number.
    pub fn route(self, chat: i64) -> (String, &'static str) {
        match self {
            Platform::Telegram => (format!("telegram:default:chat:{chat}"), "chat"),
            Platform::Discord => (
                format!("discord:default:guild:{}:channel:{chat}", discord::GUILD),
                "channel",
            ),
            Platform::WhatsApp => (
                format!("whatsapp:default:chat:{}@s.whatsapp.net", Self::wa_id(chat)),
                "chat",
            ),
        }
    }

    /// What the relay ceiling sends to the fake at `base` for a text into `target` (the session
    /// key's last segment), shaped as mux shapes it.
    pub fn call(self, base: &str, target: &str, text: &str) -> PlatformCall {
        match self {
            Platform::Telegram => PlatformCall {
                url: format!("{base}/bot{}/sendMessage", telegram::TOKEN),
                auth: None,
                body: json!({"chat_id": target.parse::<i64>().unwrap_or(0), "text": text}),
            },
            Platform::Discord => PlatformCall {
                url: format!("{base}/api/v10/channels/{target}/messages"),
                auth: Some(format!("Bot {}", discord::TOKEN)),
                body: json!({"content": text}),
            },
            Platform::WhatsApp => PlatformCall {
                url: format!(
                    "{base}/{}/{}/messages",
                    whatsapp::VERSION,
                    whatsapp::PHONE_ID
                ),
                auth: Some(format!("Bearer {}", whatsapp::TOKEN)),
                body: json!({"messaging_product": "whatsapp", "recipient_type": "individual",
                             "to": format!("+{target}"), "type": "text",
                             "text": {"preview_url": false, "body": text}}),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys_parse_as_the_service_parses_them() {
        for p in [Platform::Telegram, Platform::Discord, Platform::WhatsApp] {
            let (key, _) = p.route(1_000_016);
            assert!(
                mux_server::domain::route_key::RouteKey::parse(&key).is_ok(),
                "{key}"
            );
            let session = p.session_key(1_000_016);
            let target = session.rsplit(':').next().unwrap_or_default();
            assert!(p.call("http://x", target, "t").url.starts_with("http://x/"));
        }
    }
}
