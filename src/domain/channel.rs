//! Messaging platforms and binding scopes.
//!
//! Both enums travel on the wire (JSON bodies, route keys, the database) as lowercase words, so the
//! string forms here are part of the compat contract (§3) and must not change.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A chat platform mux bridges. The lowercase names are the `channel` values of the wire contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Telegram,
    Discord,
    Whatsapp,
}

impl Channel {
    /// Every channel, in a stable order (handy for `/ready` and metrics, which list all three).
    pub const ALL: [Channel; 3] = [Channel::Telegram, Channel::Discord, Channel::Whatsapp];

    /// The wire name, e.g. `"telegram"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Telegram => "telegram",
            Channel::Discord => "discord",
            Channel::Whatsapp => "whatsapp",
        }
    }

    /// Exact lowercase match only: the older service compared strings exactly, so `"Telegram"` is
    /// unsupported there too and accepting it here would make the two disagree.
    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What part of a platform a binding covers. Stored and returned as the `scope` field of bindings
/// (§3.3, §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// A Telegram chat (private or group) or a WhatsApp direct chat.
    Chat,
    /// A Telegram forum topic inside a supergroup.
    Topic,
    /// A Discord direct message with one user.
    Dm,
    /// A Discord guild channel, or one thread of it.
    Channel,
    /// A WhatsApp group.
    Group,
    /// A whole Discord guild (the older service's operator-seeded form): outbound only, each
    /// send names its channel or thread in the guild.
    Guild,
}

impl Scope {
    /// Every scope, in declaration order.
    pub const ALL: [Scope; 6] = [
        Scope::Chat,
        Scope::Topic,
        Scope::Dm,
        Scope::Channel,
        Scope::Group,
        Scope::Guild,
    ];

    /// The wire name, e.g. `"topic"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Chat => "chat",
            Scope::Topic => "topic",
            Scope::Dm => "dm",
            Scope::Channel => "channel",
            Scope::Group => "group",
            Scope::Guild => "guild",
        }
    }

    /// Exact lowercase match only, like [`Channel::parse`].
    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a panic is how a test fails
mod tests {
    use super::*;

    #[test]
    fn channel_names_round_trip_through_parse_and_display() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
            assert_eq!(c.to_string(), c.as_str());
        }
        assert_eq!(Channel::Whatsapp.as_str(), "whatsapp");
    }

    #[test]
    fn channel_parse_is_exact_and_case_sensitive() {
        for bad in [
            "Telegram",
            "TELEGRAM",
            " telegram",
            "telegram ",
            "",
            "slack",
            "whats_app",
        ] {
            assert_eq!(Channel::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn channel_serializes_as_lowercase_json_string() {
        assert_eq!(
            serde_json::to_string(&Channel::Discord).unwrap(),
            "\"discord\""
        );
        let c: Channel = serde_json::from_str("\"whatsapp\"").unwrap();
        assert_eq!(c, Channel::Whatsapp);
        assert!(serde_json::from_str::<Channel>("\"Discord\"").is_err());
    }

    #[test]
    fn scope_names_round_trip_through_parse_display_and_serde() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
            assert_eq!(s.to_string(), s.as_str());
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(Scope::parse("Topic"), None);
        assert_eq!(Scope::parse("thread"), None);
    }
}
