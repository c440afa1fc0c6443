//! The older service's words for what a binding is, read as this version's: statuses, scopes and
//! the session key a route key derives (contract §6).

use crate::domain::{BindingStatus, RouteKey, Scope};

/// `inactive` is our `unbound`; a word the older service never wrote is not a live binding.
pub(super) fn binding_status(word: Option<&str>) -> BindingStatus {
    match word {
        Some("active") => BindingStatus::Active,
        Some("pending") => BindingStatus::Pending,
        _ => BindingStatus::Unbound,
    }
}

/// The scope as stored when this version reads it; else the scope the route key implies (the
/// older service called a guild channel's binding `guild`), else verbatim.
pub(super) fn scope(word: Option<&str>, route_key: &str) -> String {
    let word = word.unwrap_or_default();
    match (Scope::parse(word), RouteKey::parse(route_key)) {
        (Some(s), _) => s.as_str().to_owned(),
        (None, Ok(rk)) => rk.scope().as_str().to_owned(),
        (None, Err(_)) => word.to_owned(),
    }
}

/// The session key the contract derives from a route key (§6), also for the forms this version
/// cannot parse yet (other accounts, Discord threads and whole guilds).
pub(super) fn derived_session_key(route_key: &str) -> String {
    if let Ok(rk) = RouteKey::parse(route_key) {
        return rk.derived_session_key();
    }
    let parts: Vec<&str> = route_key.split(':').collect();
    match parts.as_slice() {
        ["discord", _, "guild", g, "channel", _, "thread", t]
        | ["discord", _, "guild", g, "thread", t] => {
            format!("dc:guild:{g}:thread:{t}")
        }
        ["discord", _, "guild", g] => format!("dc:guild:{g}"),
        [channel, _, rest @ ..] => {
            let as_default = format!("{channel}:default:{}", rest.join(":"));
            RouteKey::parse(&as_default)
                .map_or_else(|_| route_key.to_owned(), |rk| rk.derived_session_key())
        }
        _ => route_key.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_keys_are_derived_as_the_contract_says_for_every_legacy_form() {
        for (rk, key) in [
            ("telegram:default:chat:-100", "tg:group:-100"),
            ("telegram:default:chat:5:topic:7", "tg:chat:5:thread:7"),
            ("discord:default:dm:user:42", "dc:dm:42"),
            ("discord:default:guild:1:channel:2", "dc:guild:1:channel:2"),
            ("discord:work:dm:user:42", "dc:dm:42"),
            ("whatsapp:default:chat:123456@g.us", "wa:group:123456@g.us"),
            ("nonsense", "nonsense"),
        ] {
            assert_eq!(derived_session_key(rk), key, "{rk}");
        }
        // The guild forms this version cannot parse yet still get a guild session key.
        for rk in [
            "discord:default:guild:1:channel:2:thread:3",
            "discord:default:guild:1:thread:3",
            "discord:work:guild:1",
        ] {
            assert!(derived_session_key(rk).starts_with("dc:guild:1"), "{rk}");
        }
    }

    #[test]
    fn statuses_and_scopes_map_to_words_this_version_reads() {
        assert_eq!(binding_status(Some("inactive")), BindingStatus::Unbound);
        assert_eq!(binding_status(Some("pending")), BindingStatus::Pending);
        assert_eq!(binding_status(Some("active")), BindingStatus::Active);
        assert_eq!(scope(Some("chat"), "telegram:default:chat:1"), "chat");
        // `guild` for a guild channel reads as `channel` until this version knows `guild`.
        let channel = scope(Some("guild"), "discord:default:guild:1:channel:2");
        assert!(Scope::parse(&channel).is_some(), "{channel}");
        assert_eq!(scope(Some("guild"), "discord:default:guild:1"), "guild");
    }
}
