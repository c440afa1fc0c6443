//! The lifecycle states the store keeps as words: a tenant's status, a binding's status and an
//! inbound event's delivery state. The words are the database's (and, for events, the
//! deliveries API's) spelling; nothing outside `db` spells them by hand.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every state, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored word, e.g. `"active"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }

            /// Exact lowercase match only.
            pub fn parse(s: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

word_enum!(
    /// Whether a tenant's keys are accepted and its events forwarded.
    TenantStatus {
        Active => "active",
        /// Keys refused, events held (not dropped) until the tenant is enabled again.
        Disabled => "disabled",
    }
);

word_enum!(
    /// Where a binding is in its life.
    BindingStatus {
        /// Routes inbound messages and outbound sends.
        Active => "active",
        /// A Discord DM binding waiting for its pairing token.
        Pending => "pending",
        /// Ended by the tenant (`POST /v1/pairings/unbind`); kept for the record.
        Unbound => "unbound",
        /// A pending binding whose token expired unredeemed.
        Expired => "expired",
    }
);

word_enum!(
    /// An inbound event's delivery state.
    EventState {
        /// Waiting for (another) delivery attempt.
        Pending => "pending",
        /// Accepted by the tenant's OpenClaw.
        Delivered => "delivered",
        /// Given up; queryable and retryable through the API.
        Dead => "dead",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_parses_back_to_its_state() {
        for s in TenantStatus::ALL {
            assert_eq!(TenantStatus::parse(s.as_str()), Some(*s));
        }
        for s in BindingStatus::ALL {
            assert_eq!(BindingStatus::parse(s.as_str()), Some(*s));
        }
        for s in EventState::ALL {
            assert_eq!(EventState::parse(s.as_str()), Some(*s));
        }
        assert_eq!(EventState::parse("Pending"), None);
    }
}
