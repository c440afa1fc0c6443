//! Reading Discord targets out of a request: snowflakes, `to` in its channel forms, DM-style
//! `to`. The route lock (`crate::outbound::route_lock`) uses them: `channel_from_to` for
//! channel-bound routes, `guild_target` for whole-guild bindings (scope `guild`, contract §5: the
//! requested thread, else `to`; a DM-style `to` refused outright). The guild lock and the
//! other-tenant check are the route lock's.

use super::SendError;

pub const DM_ON_GUILD: &str = "discord route is guild-bound and cannot target DMs";
pub const OTHER_GUILD: &str = "discord channel not allowed for this bound guild";
pub const NO_TARGET: &str = "discord target channel required";

/// A snowflake: canonical decimal digits, not zero.
pub fn snowflake(raw: &str) -> Option<u64> {
    let raw = raw.trim();
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse::<u64>().ok().filter(|n| *n > 0)
}

/// `user:<id>`, `discord:user:<id>`, `dm:<id>`, `discord:dm:<id>`, `<@id>`, `<@!id>`.
pub fn is_dm_style(to: &str) -> bool {
    let to = to.trim();
    ["user:", "discord:user:", "dm:", "discord:dm:", "<@"]
        .iter()
        .any(|prefix| to.starts_with(prefix))
}

/// `channel:<id>`, `discord:channel:<id>`, `<#id>` or bare digits.
pub fn channel_from_to(to: &str) -> Option<u64> {
    let to = to.trim();
    let raw = to
        .strip_prefix("discord:channel:")
        .or_else(|| to.strip_prefix("channel:"))
        .or_else(|| to.strip_prefix("<#").and_then(|r| r.strip_suffix('>')))
        .unwrap_or(to);
    snowflake(raw)
}

/// The channel a guild-bound send targets, before the guild lock is checked.
pub fn guild_target(
    bound_channel: Option<u64>,
    thread_id: Option<&str>,
    to: Option<&str>,
) -> Result<u64, SendError> {
    if to.is_some_and(is_dm_style) {
        return Err(SendError::Rejected {
            status: 403,
            message: DM_ON_GUILD,
        });
    }
    thread_id
        .and_then(snowflake)
        .or(bound_channel)
        .or_else(|| to.and_then(channel_from_to))
        .ok_or(SendError::Rejected {
            status: 400,
            message: NO_TARGET,
        })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_requested_thread_wins_over_the_bound_channel() {
        assert_eq!(
            guild_target(Some(10), Some("77"), Some("channel:5")),
            Ok(77)
        );
        assert_eq!(guild_target(Some(10), None, Some("channel:5")), Ok(10));
    }

    #[test]
    fn without_a_bound_channel_every_to_form_is_understood() {
        for to in ["channel:5", "discord:channel:5", "<#5>", "5"] {
            assert_eq!(guild_target(None, None, Some(to)), Ok(5), "{to}");
        }
    }

    #[test]
    fn dm_style_targets_are_refused_on_a_guild_route() {
        for to in ["user:9", "discord:user:9", "<@9>", "<@!9>", "dm:9"] {
            assert_eq!(
                guild_target(Some(10), None, Some(to)),
                Err(SendError::Rejected {
                    status: 403,
                    message: DM_ON_GUILD
                })
            );
        }
    }

    #[test]
    fn no_target_at_all_is_a_400() {
        assert_eq!(
            guild_target(None, Some("not-a-snowflake"), Some("general")),
            Err(SendError::Rejected {
                status: 400,
                message: NO_TARGET
            })
        );
    }

    proptest! {
        #[test]
        fn snowflake_parsing_never_panics_and_round_trips(s in "\\PC{0,30}", n in 1u64..u64::MAX) {
            let _ = snowflake(&s);
            let _ = channel_from_to(&s);
            prop_assert_eq!(snowflake(&n.to_string()), Some(n));
        }
    }
}
