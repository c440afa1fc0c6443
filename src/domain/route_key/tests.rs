//! Route key parsing: the canonical forms, the older service's Discord forms, and properties.
#![allow(clippy::unwrap_used)] // a panic is how a test fails

use super::*;
use Channel::{Discord, Telegram, Whatsapp};
use proptest::prelude::*;

fn p(s: &str) -> RouteKey {
    RouteKey::parse(s).unwrap()
}

fn err(s: &str) -> RouteKeyError {
    RouteKey::parse(s).unwrap_err()
}

/// (canonical route key, channel, scope, derived session key), one row per shape.
#[rustfmt::skip]
const CANONICAL: [(&str, Channel, Scope, &str); 11] = [
    ("telegram:default:chat:-100123", Telegram, Scope::Chat, "tg:group:-100123"),
    ("telegram:default:chat:777", Telegram, Scope::Chat, "tg:chat:777"),
    ("telegram:default:chat:-1001:topic:7", Telegram, Scope::Topic, "tg:group:-1001:thread:7"),
    ("discord:default:dm:user:813847887657", Discord, Scope::Dm, "dc:dm:813847887657"),
    ("discord:default:guild:1:channel:2", Discord, Scope::Channel, "dc:guild:1:channel:2"),
    ("discord:default:guild:1", Discord, Scope::Guild, "dc:guild:1"),
    ("discord:work-2:guild:1", Discord, Scope::Guild, "dc:guild:1"),
    ("discord:default:guild:1:channel:2:thread:3", Discord, Scope::Channel,
        "dc:guild:1:channel:2:thread:3"),
    ("discord:default:guild:1:thread:3", Discord, Scope::Channel, "dc:guild:1:thread:3"),
    ("whatsapp:default:chat:155512@s.whatsapp.net", Whatsapp, Scope::Chat,
        "wa:chat:155512@s.whatsapp.net"),
    ("whatsapp:default:chat:120363-99@g.us", Whatsapp, Scope::Group, "wa:group:120363-99@g.us"),
];

#[test]
fn canonical_keys_round_trip_and_give_channel_scope_and_session_key() {
    for (s, channel, scope, session) in CANONICAL {
        let key = p(s);
        assert_eq!(key.to_string(), s);
        assert_eq!(s.parse::<RouteKey>(), Ok(key.clone()));
        assert_eq!((key.channel(), key.scope()), (channel, scope), "{s}");
        assert_eq!(key.derived_session_key(), session);
    }
}

#[test]
fn canonical_keys_parse_to_the_expected_variants() {
    let topic = RouteKey::TelegramTopic {
        chat_id: -1001,
        topic_id: 7,
    };
    assert_eq!(p("telegram:default:chat:-1001:topic:7"), topic);
    let guild = RouteKey::DiscordChannel {
        guild_id: 1,
        channel_id: 2,
    };
    assert_eq!(p("discord:default:guild:1:channel:2"), guild);
    let whole = RouteKey::DiscordGuild {
        account: "ops".into(),
        guild_id: 1,
    };
    assert_eq!(p("discord:ops:guild:1"), whole);
    let thread = RouteKey::DiscordThread {
        guild_id: 1,
        parent_id: Some(2),
        thread_id: 3,
    };
    assert_eq!(p("discord:default:guild:1:channel:2:thread:3"), thread);
    let bare = RouteKey::DiscordThread {
        guild_id: 1,
        parent_id: None,
        thread_id: 3,
    };
    assert_eq!(p("discord:default:guild:1:thread:3"), bare);
    let jid = "120363-99@g.us".to_owned();
    assert_eq!(
        p("whatsapp:default:chat:120363-99@g.us"),
        RouteKey::WhatsappChat { jid }
    );
}

#[test]
fn non_canonical_integers_are_rejected() {
    let tg = [
        "+5",
        "007",
        "-0",
        " 5",
        "5 ",
        "",
        "9223372036854775808",
        "1:topic:0",
    ];
    for tail in tg.iter().chain(&["1:topic:-3", "1:topic:01", "1:topic:+2"]) {
        let s = format!("telegram:default:chat:{tail}");
        assert!(matches!(err(&s), RouteKeyError::InvalidId { .. }), "{s}");
    }
    let dc = [
        "dm:user:0",
        "dm:user:-1",
        "dm:user:+1",
        "dm:user:01",
        "guild:0:channel:2",
        "guild:0",
        "guild:01",
        "guild:1:thread:0",
        "guild:1:channel:2:thread:-3",
        "guild:1:channel:0:thread:3",
    ];
    for tail in dc.iter().chain(&["guild:1:channel:18446744073709551616"]) {
        let s = format!("discord:default:{tail}");
        assert!(matches!(err(&s), RouteKeyError::InvalidId { .. }), "{s}");
    }
}

#[test]
fn other_accounts_channels_and_shapes_are_rejected() {
    assert_eq!(
        err("telegram:main:chat:1"),
        RouteKeyError::UnsupportedAccount
    );
    assert_eq!(err("slack:default:chat:1"), RouteKeyError::UnknownChannel);
    assert_eq!(
        err("Telegram:default:chat:1"),
        RouteKeyError::UnknownChannel
    );
    assert_eq!(err(""), RouteKeyError::UnknownChannel);
    for s in [
        "discord:ops:guild:1:channel:2",
        "discord:ops:dm:user:1",
        "discord:ops:guild:1:thread:3",
        "discord::guild:1",
        "discord:o p:guild:1",
        "discord:ops:guild:1:",
        "whatsapp:ops:chat:12345@s.whatsapp.net",
    ] {
        assert_eq!(err(s), RouteKeyError::UnsupportedAccount, "{s}");
    }
    for s in [
        "telegram:default:chat",
        "telegram:default:chat:1:topic",
        "telegram:default:chat:1:thread:2",
        "telegram:default:chat:1:",
        "discord:default:dm:1",
        "discord:default:guild",
        "discord:default:guild:1:thread",
        "discord:default:guild:1:channel:2:thread",
        "discord:default:guild:1:channel:2:topic:3",
        "discord:default:guild:1:thread:3:channel:2",
        "whatsapp:default:dm:15551234567@s.whatsapp.net",
    ] {
        assert!(matches!(err(s), RouteKeyError::Malformed { .. }), "{s}");
    }
}

#[test]
fn whatsapp_jids_must_be_direct_or_group_forms() {
    for jid in [
        "1234@s.whatsapp.net",
        "123456789012345678901@s.whatsapp.net",
        "+15551234567@s.whatsapp.net",
        "15551234567",
        "1555-1234@s.whatsapp.net",
        "1234@g.us",
        "12345@G.US",
        "abcde@g.us",
    ] {
        let s = format!("whatsapp:default:chat:{jid}");
        assert_eq!(err(&s), RouteKeyError::InvalidJid, "{s}");
    }
    assert!(RouteKey::parse("whatsapp:default:chat:12345@s.whatsapp.net").is_ok());
}

#[test]
fn whatsapp_jid_appends_the_direct_suffix_and_wa_id_strips_it() {
    assert_eq!(whatsapp_jid("15551234567"), "15551234567@s.whatsapp.net");
    assert_eq!(
        RouteKey::whatsapp_jid("15551234567"),
        "15551234567@s.whatsapp.net"
    );
    let key = RouteKey::WhatsappChat {
        jid: whatsapp_jid("15551234567"),
    };
    assert_eq!(key.whatsapp_wa_id(), Some("15551234567"));
    assert_eq!(
        p("whatsapp:default:chat:120363-99@g.us").whatsapp_wa_id(),
        None
    );
}

#[test]
fn a_thread_is_asked_for_in_every_spelling_then_its_parent() {
    let keys: Vec<String> = RouteKey::discord_spellings(1, 3, Some(2))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        keys,
        vec![
            "discord:default:guild:1:channel:3",
            "discord:default:guild:1:channel:2:thread:3",
            "discord:default:guild:1:thread:3",
            "discord:default:guild:1:channel:2",
        ]
    );
    assert_eq!(
        RouteKey::discord_spellings(1, 2, None),
        vec![p("discord:default:guild:1:channel:2")]
    );
    assert_eq!(RouteKey::discord_spellings(1, 2, Some(2)).len(), 1);
}

#[test]
fn only_discord_dm_is_a_discord_dm() {
    assert!(p("discord:default:dm:user:9").is_discord_dm());
    assert!(!p("discord:default:guild:1:channel:2").is_discord_dm());
    assert!(!p("telegram:default:chat:9").is_discord_dm());
}

fn any_route_key() -> impl Strategy<Value = RouteKey> {
    let id = || 1..=u64::MAX;
    prop_oneof![
        any::<i64>().prop_map(|chat_id| RouteKey::TelegramChat { chat_id }),
        (any::<i64>(), 1..=i64::MAX).prop_map(|(c, t)| RouteKey::TelegramTopic {
            chat_id: c,
            topic_id: t
        }),
        id().prop_map(|user_id| RouteKey::DiscordDm { user_id }),
        (id(), id()).prop_map(|(g, c)| RouteKey::DiscordChannel {
            guild_id: g,
            channel_id: c
        }),
        ("default|[A-Za-z0-9_-]{1,64}", id())
            .prop_map(|(account, guild_id)| { RouteKey::DiscordGuild { account, guild_id } }),
        (id(), prop::option::of(id()), id()).prop_map(|(g, p, t)| RouteKey::DiscordThread {
            guild_id: g,
            parent_id: p,
            thread_id: t
        }),
        "[0-9]{5,20}".prop_map(|id| RouteKey::WhatsappChat {
            jid: whatsapp_jid(&id)
        }),
        "[0-9-]{5,40}".prop_map(|id| RouteKey::WhatsappChat {
            jid: format!("{id}@g.us")
        }),
    ]
}

/// Arbitrary text, or pieces of route keys glued at random so that some inputs are near misses.
const ARBITRARY: &str = "\\PC{0,80}|(telegram|discord|whatsapp|default|chat|topic|dm\
                         |user|guild|channel|thread|ops|[-+0-9 ]{1,4}|[0-9]{5}@g\\.us\
                         |[0-9]{5}@s\\.whatsapp\\.net|:){0,12}";

proptest! {
    #[test]
    fn built_keys_round_trip_through_display_and_parse(key in any_route_key()) {
        prop_assert_eq!(RouteKey::parse(&key.to_string()), Ok(key));
    }

    #[test]
    fn parse_never_panics_and_accepted_input_redisplays_identically(s in ARBITRARY) {
        if let Ok(key) = RouteKey::parse(&s) {
            prop_assert_eq!(key.to_string(), s);
        }
    }

    #[test]
    fn a_key_with_one_byte_changed_is_rejected_or_still_canonical(
        key in any_route_key(), pos in any::<prop::sample::Index>(), byte in b' '..=b'~'
    ) {
        let mut bytes = key.to_string().into_bytes();
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        let s = String::from_utf8(bytes).unwrap();
        if let Ok(parsed) = RouteKey::parse(&s) {
            prop_assert_eq!(parsed.to_string(), s);
        }
    }
}
