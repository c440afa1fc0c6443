//! The route lock (contract §5), tried as an attacker would: tenant A, with one binding of every
//! scope, sends with every field that could steer a message (`threadId`, `to`, `replyToId`,
//! `channelData`) aimed at a chat, topic, channel, thread or DM that tenant B holds. Each row
//! says what A must get: its own place, or `403 ROUTE_NOT_BOUND`. Nothing may ever arrive at one
//! of B's places.
//!
//! **Every new send feature adds its rows here** (and B's places to `B_*` if it adds some).
//! Typing (`op: "action"`) is tried with every row's steering fields too (`route_lock_typing`),
//! and `parseMode` rides along on rows of its own.

use awc::http::StatusCode;
use serde_json::{Value, json};

use super::{claim_all, senders_world};
use crate::helpers::{KEY_A, KEY_B, TestApp};
use mux_server::testkit::discord::{GUILD, OTHER_GUILD, dm_channel_of};

/// A's and B's bindings. Telegram: a forum -100900 where A holds topic 5 and B topic 6; a group
/// -100901 A holds whole, with B holding its topic 7; B's private chat 777. Discord guild 500:
/// A's channel 511, B's channel 512 and B's thread 513 under it, thread 514 under A's channel
/// but bound to B on its own, thread 516 under A's channel that A holds as a thread route; DMs
/// with users 42 (A) and 43 (B). WhatsApp: one number each.
const CODES: &str = r#"[
  {"code":"A-TOPIC","channel":"telegram","routeKey":"telegram:default:chat:-100900:topic:5","scope":"topic"},
  {"code":"B-TOPIC","channel":"telegram","routeKey":"telegram:default:chat:-100900:topic:6","scope":"topic"},
  {"code":"A-GROUP","channel":"telegram","routeKey":"telegram:default:chat:-100901","scope":"chat"},
  {"code":"B-TOPIC7","channel":"telegram","routeKey":"telegram:default:chat:-100901:topic:7","scope":"topic"},
  {"code":"B-PRIVATE","channel":"telegram","routeKey":"telegram:default:chat:777","scope":"chat"},
  {"code":"A-CHAN","channel":"discord","routeKey":"discord:default:guild:500:channel:511","scope":"channel"},
  {"code":"B-CHAN","channel":"discord","routeKey":"discord:default:guild:500:channel:512","scope":"channel"},
  {"code":"B-THREAD","channel":"discord","routeKey":"discord:default:guild:500:channel:513","scope":"channel"},
  {"code":"B-A-THREAD","channel":"discord","routeKey":"discord:default:guild:500:channel:514","scope":"channel"},
  {"code":"A-THREAD","channel":"discord","routeKey":"discord:default:guild:500:channel:511:thread:516","scope":"channel"},
  {"code":"A-GUILD","channel":"discord","routeKey":"discord:default:guild:500","scope":"guild"},
  {"code":"A-DM","channel":"discord","routeKey":"discord:default:dm:user:42","scope":"dm"},
  {"code":"B-DM","channel":"discord","routeKey":"discord:default:dm:user:43","scope":"dm"},
  {"code":"A-WA","channel":"whatsapp","routeKey":"whatsapp:default:chat:15550001111@s.whatsapp.net","scope":"chat"},
  {"code":"B-WA","channel":"whatsapp","routeKey":"whatsapp:default:chat:15550002222@s.whatsapp.net","scope":"chat"}
]"#;

const CLAIMS: [(&str, &str, &str); 15] = [
    ("A-TOPIC", KEY_A, "a-topic"),
    ("B-TOPIC", KEY_B, "b-topic"),
    ("A-GROUP", KEY_A, "a-group"),
    ("B-TOPIC7", KEY_B, "b-topic7"),
    ("B-PRIVATE", KEY_B, "b-private"),
    ("A-CHAN", KEY_A, "a-chan"),
    ("B-CHAN", KEY_B, "b-chan"),
    ("B-THREAD", KEY_B, "b-thread"),
    ("B-A-THREAD", KEY_B, "b-a-thread"),
    ("A-THREAD", KEY_A, "a-thread"),
    ("A-GUILD", KEY_A, "a-guild"),
    ("A-DM", KEY_A, "a-dm"),
    ("B-DM", KEY_B, "b-dm"),
    ("A-WA", KEY_A, "a-wa"),
    ("B-WA", KEY_B, "b-wa"),
];

/// B's Telegram places: (chat, topic); `None` = the whole chat.
pub(super) const B_TELEGRAM: [(i64, Option<i64>); 3] =
    [(-100900, Some(6)), (-100901, Some(7)), (777, None)];
/// B's Discord channels and threads (B's DM channel is added at run time).
pub(super) const B_DISCORD: [u64; 3] = [512, 513, 514];
const B_WHATSAPP: &str = "+15550002222";

/// What A must get.
#[derive(Debug, Clone, Copy)]
pub(super) enum Expect {
    /// 200, delivered to A's place: Telegram (chat, topic).
    Telegram(i64, Option<i64>),
    /// 200, delivered to A's Discord channel.
    Discord(u64),
    /// 200, delivered to A's WhatsApp number.
    Whatsapp(&'static str),
    /// `403 ROUTE_NOT_BOUND`, nothing sent.
    NotBound,
    /// Refused with this status (a target the scope never allows), nothing sent.
    Refused(u16),
}

/// (A's session, steering fields, expectation).
pub(super) fn rows() -> Vec<(&'static str, &'static str, Value, Expect)> {
    use Expect::*;
    let a_dm = dm_channel_of(42);
    vec![
        // Telegram, topic-bound: always the bound topic.
        (
            "telegram",
            "a-topic",
            json!({"threadId": 6}),
            Telegram(-100900, Some(5)),
        ),
        (
            "telegram",
            "a-topic",
            json!({"threadId": "6"}),
            Telegram(-100900, Some(5)),
        ),
        (
            "telegram",
            "a-topic",
            json!({"to": "telegram:777"}),
            Telegram(-100900, Some(5)),
        ),
        (
            "telegram",
            "a-topic",
            json!({"to": "-100901", "threadId": 7}),
            Telegram(-100900, Some(5)),
        ),
        (
            "telegram",
            "a-topic",
            json!({"replyToId": 123}),
            Telegram(-100900, Some(5)),
        ),
        (
            "telegram",
            "a-topic",
            json!({"channelData": {"chat_id": 777, "message_thread_id": 6}}),
            Telegram(-100900, Some(5)),
        ),
        (
            "telegram",
            "a-topic",
            json!({"parseMode": "HTML", "threadId": 6, "to": "777"}),
            Telegram(-100900, Some(5)),
        ),
        // Telegram, chat-bound: a topic of the chat, never one another tenant holds.
        ("telegram", "a-group", json!({"threadId": 7}), NotBound),
        (
            "telegram",
            "a-group",
            json!({"threadId": 7, "parseMode": "MarkdownV2"}),
            NotBound,
        ),
        ("telegram", "a-group", json!({"threadId": "7"}), NotBound),
        (
            "telegram",
            "a-group",
            json!({"threadId": 8}),
            Telegram(-100901, Some(8)),
        ),
        (
            "telegram",
            "a-group",
            json!({"threadId": 6}),
            Telegram(-100901, Some(6)),
        ),
        (
            "telegram",
            "a-group",
            json!({"to": "777"}),
            Telegram(-100901, None),
        ),
        (
            "telegram",
            "a-group",
            json!({"to": "-100900", "replyToId": 9}),
            Telegram(-100901, None),
        ),
        (
            "telegram",
            "a-group",
            json!({"channelData": {"message_thread_id": 7}}),
            Telegram(-100901, None),
        ),
        // Discord, channel-bound: only a thread of the bound channel that nobody else holds.
        (
            "discord",
            "a-chan",
            json!({"threadId": "512"}),
            Discord(511),
        ),
        (
            "discord",
            "a-chan",
            json!({"threadId": "513"}),
            Discord(511),
        ),
        (
            "discord",
            "a-chan",
            json!({"threadId": "514"}),
            Discord(511),
        ),
        (
            "discord",
            "a-chan",
            json!({"threadId": "515"}),
            Discord(515),
        ),
        (
            "discord",
            "a-chan",
            json!({"to": "channel:512"}),
            Discord(511),
        ),
        ("discord", "a-chan", json!({"to": "<#513>"}), Discord(511)),
        (
            "discord",
            "a-chan",
            json!({"to": "discord:channel:514"}),
            Discord(511),
        ),
        ("discord", "a-chan", json!({"to": "user:43"}), Discord(511)),
        (
            "discord",
            "a-chan",
            json!({"to": "channel:515"}),
            Discord(515),
        ),
        (
            "discord",
            "a-chan",
            json!({"threadId": "601"}),
            Discord(511),
        ),
        (
            "discord",
            "a-chan",
            json!({"replyToId": "9000", "threadId": "512"}),
            Discord(511),
        ),
        (
            "discord",
            "a-chan",
            json!({"channelData": {"channel_id": "512"}}),
            Discord(511),
        ),
        // Discord, guild-bound: a channel or thread of the bound guild that nobody else holds.
        ("discord", "a-guild", json!({"threadId": "512"}), NotBound),
        ("discord", "a-guild", json!({"threadId": "513"}), NotBound),
        ("discord", "a-guild", json!({"to": "channel:513"}), NotBound),
        ("discord", "a-guild", json!({"threadId": "514"}), NotBound),
        (
            "discord",
            "a-guild",
            json!({"to": "<#512>", "replyToId": "9000"}),
            NotBound,
        ),
        ("discord", "a-guild", json!({"to": "user:43"}), Refused(403)),
        (
            "discord",
            "a-guild",
            json!({"threadId": "601"}),
            Refused(403),
        ),
        (
            "discord",
            "a-guild",
            json!({"channelData": {"channel_id": "512"}}),
            Refused(400),
        ),
        (
            "discord",
            "a-guild",
            json!({"to": "channel:511"}),
            Discord(511),
        ),
        (
            "discord",
            "a-guild",
            json!({"threadId": "515"}),
            Discord(515),
        ),
        (
            "discord",
            "a-guild",
            json!({"threadId": "513", "parseMode": "HTML"}),
            NotBound,
        ),
        // Discord, thread-bound (`…:channel:<c>:thread:<t>`): always the bound thread.
        (
            "discord",
            "a-thread",
            json!({"threadId": "513"}),
            Discord(516),
        ),
        (
            "discord",
            "a-thread",
            json!({"threadId": "515"}),
            Discord(516),
        ),
        (
            "discord",
            "a-thread",
            json!({"to": "channel:512"}),
            Discord(516),
        ),
        (
            "discord",
            "a-thread",
            json!({"to": "user:43"}),
            Discord(516),
        ),
        (
            "discord",
            "a-thread",
            json!({"raw": {"discord": {"body": {"content": "x", "channel_id": "512"}}}}),
            Discord(516),
        ),
        // Discord, DM-bound: the DM, whatever else is named.
        ("discord", "a-dm", json!({"to": "user:43"}), Discord(a_dm)),
        ("discord", "a-dm", json!({"threadId": "512"}), Discord(a_dm)),
        (
            "discord",
            "a-dm",
            json!({"to": "channel:512"}),
            Discord(a_dm),
        ),
        // WhatsApp: the bound number.
        (
            "whatsapp",
            "a-wa",
            json!({"to": B_WHATSAPP}),
            Whatsapp("+15550001111"),
        ),
        (
            "whatsapp",
            "a-wa",
            json!({"to": "15550002222@s.whatsapp.net"}),
            Whatsapp("+15550001111"),
        ),
        (
            "whatsapp",
            "a-wa",
            json!({"channelData": {"to": "15550002222"}}),
            Whatsapp("+15550001111"),
        ),
        (
            "whatsapp",
            "a-wa",
            json!({"replyToId": "wamid.B1"}),
            Whatsapp("+15550001111"),
        ),
        // Raw platform calls (contract §5a): the body's place fields are overwritten from the
        // binding, and the lock still decides the target.
        (
            "telegram",
            "a-topic",
            raw_tg(json!({"chat_id": 777, "message_thread_id": 6})),
            Telegram(-100900, Some(5)),
        ),
        (
            "telegram",
            "a-topic",
            raw_tg(
                json!({"chat_id": "@b_channel", "reply_parameters": {"message_id": 1, "chat_id": 777}}),
            ),
            Telegram(-100900, Some(5)),
        ),
        (
            "telegram",
            "a-group",
            raw_tg(json!({"chat_id": -100900, "message_thread_id": 7})),
            Telegram(-100901, None),
        ),
        (
            "telegram",
            "a-group",
            json!({"threadId": 7, "raw": {"telegram": {"method": "sendMessage", "body": {"text": "x"}}}}),
            NotBound,
        ),
        (
            "discord",
            "a-chan",
            raw_dc(json!({"channel_id": "512"})),
            Discord(511),
        ),
        (
            "discord",
            "a-chan",
            json!({"threadId": "513", "raw": {"discord": {"body": {"content": "x"}}}}),
            Discord(511),
        ),
        (
            "discord",
            "a-guild",
            json!({"to": "channel:512", "raw": {"discord": {"body": {"content": "x"}}}}),
            NotBound,
        ),
        (
            "discord",
            "a-guild",
            json!({"threadId": "601", "raw": {"discord": {"body": {"content": "x", "guild_id": "600"}}}}),
            Refused(403),
        ),
        (
            "discord",
            "a-dm",
            raw_dc(json!({"channel_id": "512", "recipient_id": "43"})),
            Discord(a_dm),
        ),
        (
            "whatsapp",
            "a-wa",
            json!({"raw": {"whatsapp": {"body": {"to": B_WHATSAPP, "type": "text", "text": {"body": "x"}}}}}),
            Whatsapp("+15550001111"),
        ),
        (
            "whatsapp",
            "a-wa",
            json!({"raw": {"whatsapp": {"body": {"to": "120363000@g.us", "recipient_type": "group",
                "type": "reaction", "reaction": {"message_id": "wamid.B1", "emoji": "👍"}}}}}),
            Whatsapp("+15550001111"),
        ),
    ]
}

/// A raw Telegram `sendMessage` with these extra body fields.
fn raw_tg(extra: Value) -> Value {
    let mut body = json!({"text": "attempt"});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        body[k] = v;
    }
    json!({"raw": {"telegram": {"method": "sendMessage", "body": body}}})
}

/// A raw Discord message create with these extra body fields.
fn raw_dc(extra: Value) -> Value {
    let mut body = json!({"content": "attempt"});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        body[k] = v;
    }
    json!({"raw": {"discord": {"body": body}}})
}

async fn world() -> TestApp {
    world_with(Vec::new()).await
}

pub(super) async fn world_with(vars: Vec<(&'static str, String)>) -> TestApp {
    let world = senders_world(CODES).vars(vars);
    for channel in [511, 512] {
        world.dc().add_channel(channel, None);
    }
    world.dc().add_channel(513, Some(512));
    world.dc().add_channel(514, Some(511));
    world.dc().add_channel(515, Some(511));
    world.dc().add_channel(516, Some(511));
    world.dc().add_channel_in(OTHER_GUILD, 601, None);
    let app = world.spawn().await;
    claim_all(&app, &CLAIMS).await;
    app
}

/// Where the last Telegram send went: (chat, topic).
fn last_telegram(app: &TestApp) -> Option<(i64, Option<i64>)> {
    let call = app.tg().recorder.calls("/sendmessage").pop()?;
    Some((
        call.body["chat_id"].as_i64()?,
        call.body["message_thread_id"].as_i64(),
    ))
}

/// Every Discord channel posted into, in order.
fn discord_posts(app: &TestApp) -> Vec<u64> {
    app.dc()
        .recorder
        .received()
        .into_iter()
        .filter(|r| r.path.ends_with("/messages") && r.body.is_object())
        .filter_map(|r| {
            let rest = r.path.split("/channels/").nth(1)?;
            rest.split('/').next()?.parse().ok()
        })
        .collect()
}

fn whatsapp_recipients(app: &TestApp) -> Vec<String> {
    app.wa()
        .recorder
        .received()
        .into_iter()
        .filter_map(|r| r.body["to"].as_str().map(str::to_owned))
        .collect()
}

#[actix_web::test]
async fn no_field_of_a_request_reaches_a_place_bound_to_another_tenant() {
    let app = world().await;
    assert_eq!(GUILD, 500, "the codes above name the fake's guild");
    for (channel, session, steer, expect) in rows() {
        let mut body = json!({"channel": channel, "sessionKey": session, "text": "attempt"});
        for (k, v) in steer.as_object().expect("steering fields") {
            body[k] = v.clone();
        }
        let (tg_before, dc_before, wa_before) = (
            app.tg().recorder.calls("/sendmessage").len(),
            discord_posts(&app).len(),
            whatsapp_recipients(&app).len(),
        );
        let reply = app.send(KEY_A, body.clone()).await;
        let row = format!("{session} {steer}: {} {}", reply.status, reply.body);
        match expect {
            Expect::NotBound | Expect::Refused(_) => {
                let status = match expect {
                    Expect::Refused(status) => status,
                    _ => 403,
                };
                assert_eq!(reply.status.as_u16(), status, "{row}");
                if let Expect::NotBound = expect {
                    assert_eq!(reply.body["code"], "ROUTE_NOT_BOUND", "{row}");
                }
                assert_eq!(
                    app.tg().recorder.calls("/sendmessage").len(),
                    tg_before,
                    "{row}: nothing sent"
                );
                assert_eq!(discord_posts(&app).len(), dc_before, "{row}: nothing sent");
            }
            Expect::Telegram(chat, topic) => {
                assert_eq!(reply.status, StatusCode::OK, "{row}");
                assert_eq!(last_telegram(&app), Some((chat, topic)), "{row}");
            }
            Expect::Discord(target) => {
                assert_eq!(reply.status, StatusCode::OK, "{row}");
                assert_eq!(discord_posts(&app)[dc_before..], [target], "{row}");
            }
            Expect::Whatsapp(number) => {
                assert_eq!(reply.status, StatusCode::OK, "{row}");
                assert_eq!(
                    whatsapp_recipients(&app)[wa_before..],
                    [number.to_owned()],
                    "{row}"
                );
            }
        }
    }

    // Nothing arrived at any of B's places, whatever the rows above expected.
    for call in app.tg().recorder.calls("/sendmessage") {
        let place = (
            call.body["chat_id"].as_i64().unwrap_or_default(),
            call.body["message_thread_id"].as_i64(),
        );
        assert!(
            !B_TELEGRAM
                .iter()
                .any(|(chat, topic)| place.0 == *chat && (topic.is_none() || place.1 == *topic)),
            "telegram send reached B: {}",
            call.body
        );
    }
    let b_dm = dm_channel_of(43);
    for posted in discord_posts(&app) {
        assert!(
            !B_DISCORD.contains(&posted) && posted != b_dm,
            "discord send reached B's channel {posted}"
        );
    }
    assert!(
        app.dc()
            .recorder
            .calls("/users/@me/channels")
            .iter()
            .all(|c| c.body["recipient_id"] != "43"),
        "B's DM was never opened"
    );
    assert!(!whatsapp_recipients(&app).contains(&B_WHATSAPP.to_owned()));
    app.stop().await;
}

#[actix_web::test]
async fn a_raw_edit_or_delete_of_a_message_another_tenant_sent_is_refused() {
    // A and B share the forum -100900 (topics 5 and 6): message ids are per chat, so A can name
    // B's messages. Discord: B's message in its channel 512, named from A's channel and guild.
    let app = world().await;
    let b_tg = app
        .send(
            KEY_B,
            json!({"channel": "telegram", "sessionKey": "b-topic", "text": "B's"}),
        )
        .await;
    let b_tg_id: i64 = b_tg.body["messageId"].as_str().unwrap().parse().unwrap();
    let b_dc = app
        .send(
            KEY_B,
            json!({"channel": "discord", "sessionKey": "b-chan", "text": "B's"}),
        )
        .await;
    let b_dc_id = b_dc.body["messageId"].as_str().unwrap().to_owned();
    for method in ["editMessageText", "editMessageReplyMarkup", "deleteMessage"] {
        let reply = app
            .send(
                KEY_A,
                json!({"channel": "telegram", "sessionKey": "a-topic", "raw": {"telegram": {
                    "method": method, "body": {"chat_id": -100900, "message_id": b_tg_id, "text": "A was here"}}}}),
            )
            .await;
        assert_eq!(reply.status.as_u16(), 403, "{method}: {}", reply.body);
    }
    for steer in [
        json!({"sessionKey": "a-chan", "threadId": "512"}),
        json!({"sessionKey": "a-guild", "to": "channel:512"}),
        json!({"sessionKey": "a-guild", "to": "channel:511"}),
    ] {
        let mut body = json!({"channel": "discord", "raw": {"discord": {"method": "edit",
            "messageId": b_dc_id, "body": {"content": "A was here"}}}});
        for (k, v) in steer.as_object().unwrap() {
            body[k] = v.clone();
        }
        let reply = app.send(KEY_A, body).await;
        assert_eq!(reply.status.as_u16(), 403, "{steer}: {}", reply.body);
    }
    let tg_changes: Vec<String> = app
        .tg()
        .sent()
        .into_iter()
        .map(|(m, _)| m)
        .filter(|m| m.starts_with("edit") || m == "deleteMessage")
        .collect();
    assert!(tg_changes.is_empty(), "{tg_changes:?}");
    assert!(app.dc().edits().is_empty());
    app.stop().await;
}

#[actix_web::test]
async fn b_still_reaches_its_own_places_with_the_same_fields() {
    // The lock is not a blanket refusal: B's own topic 7 of A's group is B's to use.
    let app = world().await;
    let reply = app
        .send(
            KEY_B,
            json!({"channel": "telegram", "sessionKey": "b-topic7", "text": "mine", "threadId": 5}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(last_telegram(&app), Some((-100901, Some(7))));
    let thread = app
        .send(
            KEY_B,
            json!({"channel": "discord", "sessionKey": "b-chan", "text": "mine", "threadId": "513"}),
        )
        .await;
    assert_eq!(thread.status, StatusCode::OK, "{}", thread.body);
    assert_eq!(discord_posts(&app), [513]);
    app.stop().await;
}
