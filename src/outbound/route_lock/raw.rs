//! The route lock for `raw` calls (contract §5a): the target comes from the lock like any send's
//! (`threadId`/`to` may narrow it as for plain sends); every field of a raw body that could name
//! another place is overwritten from it or removed before a sender sees the body.
//!
//! - Telegram: `chat_id` and `message_thread_id` are the target's (no topic → none);
//!   `inline_message_id` and `business_connection_id` (messages outside the chat) are removed,
//!   and so is `reply_parameters.chat_id` (quoting a message of another chat would copy it here).
//!   `answerCallbackQuery` names no chat at all.
//! - Discord: only `content`, `embeds`, `components`, `allowed_mentions`, `message_reference`,
//!   `flags` are kept (edits: the same without `message_reference`); a reference keeps only
//!   `message_id` and `fail_if_not_exists`, so it is a reply inside the target channel and never
//!   a forward of another channel's message.
//! - WhatsApp: `messaging_product`, `recipient_type` and `to` are the bound chat's.

use serde_json::{Map, Value, json};

use super::Target;
use crate::domain::Channel;
use crate::outbound::owned::Owned;
use crate::outbound::raw::RawCall;
use crate::senders::SendError;
use crate::senders::whatsapp::Recipient;

const DISCORD_CREATE_FIELDS: [&str; 6] = [
    "content",
    "embeds",
    "components",
    "allowed_mentions",
    "message_reference",
    "flags",
];

/// Telegram fields that can point outside the bound chat or topic.
const TELEGRAM_PLACE_FIELDS: [&str; 5] = [
    "chat_id",
    "message_thread_id",
    "inline_message_id",
    "business_connection_id",
    "direct_messages_topic_id",
];

/// The raw call confined to `target`.
pub fn confine(target: &Target, raw: &RawCall) -> Result<RawCall, SendError> {
    match (target, raw) {
        (Target::Telegram(t), RawCall::Telegram { method, body }) => {
            let mut body = body.clone();
            for field in TELEGRAM_PLACE_FIELDS {
                body.remove(field);
            }
            if let Some(Value::Object(reply)) = body.get_mut("reply_parameters") {
                reply.remove("chat_id");
            }
            if *method != "answerCallbackQuery" {
                body.insert("chat_id".into(), json!(t.chat_id));
            }
            let in_topic = method.starts_with("send");
            if let (true, Some(topic)) = (in_topic, t.topic_id) {
                body.insert("message_thread_id".into(), json!(topic));
            }
            Ok(RawCall::Telegram { method, body })
        }
        (
            Target::DiscordDm { .. } | Target::DiscordChannel { .. },
            RawCall::DiscordCreate { body },
        ) => Ok(RawCall::DiscordCreate {
            body: discord_body(body, &DISCORD_CREATE_FIELDS),
        }),
        (
            Target::DiscordDm { .. } | Target::DiscordChannel { .. },
            RawCall::DiscordEdit { message_id, body },
        ) => Ok(RawCall::DiscordEdit {
            message_id: *message_id,
            body: discord_body(body, &DISCORD_CREATE_FIELDS[..4]),
        }),
        (Target::Whatsapp { jid }, RawCall::Whatsapp { body }) => {
            let recipient = Recipient::from_jid(jid);
            let mut body = body.clone();
            body.insert("messaging_product".into(), json!("whatsapp"));
            body.insert("recipient_type".into(), json!(recipient.kind));
            body.insert("to".into(), json!(recipient.to));
            Ok(RawCall::Whatsapp { body })
        }
        _ => Err(SendError::Rejected {
            status: 400,
            message: "raw call does not match the channel",
        }),
    }
}

/// Refuses a raw call that acts on a message or a button press that is not the tenant's: an
/// edit or delete of a message this service did not send for `tenant` into `place` (the target
/// chat or channel), an `answerCallbackQuery` for a press not forwarded to `tenant`. Message ids
/// are per chat (Telegram) or channel (Discord), and the place is always the bound one; this
/// check keeps a tenant bound to one topic of a shared forum — or to a channel that another
/// tenant held before — off the other tenant's messages.
pub fn check_owner(
    owned: &Owned,
    tenant: &str,
    place: &str,
    raw: &RawCall,
) -> Result<(), SendError> {
    let id_of = |v: Option<&Value>| match v {
        Some(Value::String(s)) => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let not_owned = SendError::Rejected {
        status: 403,
        message: "message was not sent for this tenant",
    };
    match raw {
        RawCall::Telegram { method, body } if *method == "answerCallbackQuery" => {
            let id = id_of(body.get("callback_query_id"));
            if !id.is_some_and(|id| owned.callback_of(tenant, &id)) {
                return Err(SendError::Rejected {
                    status: 403,
                    message: "callback query was not received by this tenant",
                });
            }
        }
        RawCall::Telegram { method, body } if RawCall::edits_message(method) => {
            let id = id_of(body.get("message_id"));
            if !id.is_some_and(|id| owned.sent_by(tenant, Channel::Telegram, place, &id)) {
                return Err(not_owned);
            }
        }
        RawCall::DiscordEdit { message_id, .. } => {
            let id = message_id.to_string();
            if !owned.sent_by(tenant, Channel::Discord, place, &id) {
                return Err(not_owned);
            }
        }
        _ => {}
    }
    Ok(())
}

fn discord_body(body: &Map<String, Value>, fields: &[&str]) -> Map<String, Value> {
    let mut out: Map<String, Value> = body
        .iter()
        .filter(|(k, _)| fields.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(reference) = out.get_mut("message_reference") {
        let mut reply = Map::new();
        for key in ["message_id", "fail_if_not_exists"] {
            if let Some(v) = reference.get(key) {
                reply.insert(key.into(), v.clone());
            }
        }
        *reference = Value::Object(reply);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::senders::telegram::TelegramTarget;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn telegram_place_fields_come_from_the_target_only() {
        let target = Target::Telegram(TelegramTarget {
            chat_id: -100,
            topic_id: Some(5),
        });
        let raw = RawCall::Telegram {
            method: "sendMessage",
            body: body(json!({"chat_id": 777, "message_thread_id": 6, "text": "x",
                "business_connection_id": "b", "reply_parameters": {"message_id": 1, "chat_id": 777}})),
        };
        let RawCall::Telegram { body: out, .. } = confine(&target, &raw).unwrap() else {
            panic!("telegram")
        };
        assert_eq!(
            Value::Object(out),
            json!({"chat_id": -100, "message_thread_id": 5, "text": "x",
                "reply_parameters": {"message_id": 1}})
        );
        let edit = RawCall::Telegram {
            method: "editMessageText",
            body: body(json!({"inline_message_id": "i", "message_id": 3, "text": "y"})),
        };
        let RawCall::Telegram { body: out, .. } = confine(&target, &edit).unwrap() else {
            panic!("telegram")
        };
        assert_eq!(
            Value::Object(out),
            json!({"chat_id": -100, "message_id": 3, "text": "y"})
        );
    }

    #[test]
    fn a_discord_body_keeps_its_message_fields_and_a_reference_stays_a_reply() {
        let raw = RawCall::DiscordCreate {
            body: body(
                json!({"content": "x", "components": [], "channel_id": "512",
                "message_reference": {"message_id": "9", "channel_id": "512", "guild_id": "600", "type": 1},
                "sticker_ids": ["1"]}),
            ),
        };
        let out = confine(&Target::DiscordChannel { channel_id: 511 }, &raw).unwrap();
        assert_eq!(
            out,
            RawCall::DiscordCreate {
                body: body(
                    json!({"content": "x", "components": [], "message_reference": {"message_id": "9"}})
                )
            }
        );
    }

    #[test]
    fn a_whatsapp_message_goes_to_the_bound_number() {
        let raw = RawCall::Whatsapp {
            body: body(
                json!({"to": "+15550002222", "recipient_type": "group", "type": "interactive"}),
            ),
        };
        let out = confine(
            &Target::Whatsapp {
                jid: "15550001111@s.whatsapp.net".into(),
            },
            &raw,
        )
        .unwrap();
        assert_eq!(
            out,
            RawCall::Whatsapp {
                body: body(json!({"to": "+15550001111", "recipient_type": "individual",
                    "messaging_product": "whatsapp", "type": "interactive"}))
            }
        );
    }
}
