//! `raw` platform calls (contract §5a): the request's `raw.<channel>` read into a [`RawCall`].
//! Its destination fields are not trusted here: the route lock (`route_lock::raw`) overwrites
//! them from the binding before any sender sees the body.

use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::time::Instant;

use super::Outbound;
use super::route_lock::Target;
use super::route_lock::raw::{check_owner, confine};
use crate::domain::Channel;
use crate::senders::discord::DiscordRoute;
use crate::senders::discord_target::snowflake;
use crate::senders::{Delivered, SendError};

/// The Telegram methods `raw.telegram` may call: sending into the chat, editing and deleting
/// what mux sent there, answering a button press, reacting. Each acts on the one bound chat;
/// methods that act on other chats, on the bot itself, on members or on the webhook are not
/// offered.
pub const TELEGRAM_METHODS: [&str; 9] = [
    "sendMessage",
    "sendPhoto",
    "sendDocument",
    "sendChatAction",
    "editMessageText",
    "editMessageReplyMarkup",
    "deleteMessage",
    "answerCallbackQuery",
    "setMessageReaction",
];

/// A validated raw call.
#[derive(Debug, Clone, PartialEq)]
pub enum RawCall {
    Telegram {
        method: &'static str,
        body: Map<String, Value>,
    },
    /// `POST /channels/{id}/messages`.
    DiscordCreate {
        body: Map<String, Value>,
    },
    /// `PATCH /channels/{id}/messages/{message}` of a message mux sent for the tenant.
    DiscordEdit {
        message_id: u64,
        body: Map<String, Value>,
    },
    Whatsapp {
        body: Map<String, Value>,
    },
}

impl RawCall {
    /// The Telegram methods that change an existing message: only one mux sent for the tenant.
    pub fn edits_message(method: &str) -> bool {
        matches!(
            method,
            "editMessageText" | "editMessageReplyMarkup" | "deleteMessage"
        )
    }
}

/// Reads `raw` for the request's channel. Errors are the `400` messages.
pub fn parse(channel: Channel, raw: &Value) -> Result<RawCall, String> {
    let name = channel.as_str();
    let Some(call) = raw.get(name).filter(|v| !v.is_null()) else {
        return Err(format!("raw.{name} required"));
    };
    if !call.is_object() {
        return Err(format!("raw.{name} must be an object"));
    }
    let body = match call.get("body") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(body)) => body.clone(),
        Some(_) => return Err(format!("raw.{name}.body must be an object")),
    };
    let method = match call.get("method") {
        None | Some(Value::Null) => None,
        Some(Value::String(m)) => Some(m.as_str()),
        Some(_) => return Err(format!("raw.{name}.method must be a string")),
    };
    match channel {
        Channel::Telegram => {
            let method = method.ok_or("raw.telegram.method required")?;
            let method = TELEGRAM_METHODS
                .iter()
                .find(|m| m.eq_ignore_ascii_case(method))
                .ok_or("unsupported telegram raw method")?;
            Ok(RawCall::Telegram { method, body })
        }
        Channel::Discord => match method {
            None | Some("create") => Ok(RawCall::DiscordCreate { body }),
            Some("edit") => {
                let id = match call.get("messageId") {
                    Some(Value::String(s)) => snowflake(s),
                    Some(Value::Number(n)) => n.as_u64(),
                    _ => None,
                };
                let message_id = id.ok_or("raw.discord.messageId required")?;
                Ok(RawCall::DiscordEdit { message_id, body })
            }
            Some(_) => Err("unsupported discord raw method".to_owned()),
        },
        Channel::Whatsapp => Ok(RawCall::Whatsapp { body }),
    }
}

impl Outbound {
    /// A raw call into the target the route lock chose, confined to it first.
    pub(super) async fn dispatch_raw(
        &self,
        tenant: &Arc<str>,
        target: Target,
        raw: &RawCall,
        deadline: Instant,
    ) -> Result<Delivered, SendError> {
        let raw = confine(&target, raw)?;
        match (target, raw) {
            (Target::Telegram(t), raw @ RawCall::Telegram { .. }) => {
                let sender = self.telegram.as_ref().ok_or(SendError::Disabled)?;
                check_owner(&self.owned, tenant, &t.chat_id.to_string(), &raw)?;
                let RawCall::Telegram { method, body } = raw else {
                    return Err(SendError::Unavailable);
                };
                sender
                    .send_raw(tenant, t.chat_id, method, &body, deadline)
                    .await
            }
            (Target::DiscordDm { user_id }, raw) => {
                self.discord_raw(tenant, DiscordRoute::Dm { user_id }, raw, deadline)
                    .await
            }
            (Target::DiscordChannel { channel_id }, raw) => {
                let route = DiscordRoute::Channel { channel_id };
                self.discord_raw(tenant, route, raw, deadline).await
            }
            (Target::Whatsapp { jid }, RawCall::Whatsapp { body }) => {
                let sender = self.whatsapp.as_ref().ok_or(SendError::Disabled)?;
                sender.send_raw(&jid, &Value::Object(body), deadline).await
            }
            _ => Err(SendError::Rejected {
                status: 400,
                message: "raw call does not match the channel",
            }),
        }
    }

    async fn discord_raw(
        &self,
        tenant: &Arc<str>,
        route: DiscordRoute,
        raw: RawCall,
        deadline: Instant,
    ) -> Result<Delivered, SendError> {
        let sender = self.discord.as_ref().ok_or(SendError::Disabled)?;
        let channel_id = sender.channel_of(route, deadline).await?;
        check_owner(&self.owned, tenant, &channel_id.to_string(), &raw)?;
        let (edit, body) = match raw {
            RawCall::DiscordCreate { body } => (None, body),
            RawCall::DiscordEdit { message_id, body } => (Some(message_id), body),
            _ => {
                return Err(SendError::Rejected {
                    status: 400,
                    message: "raw call does not match the channel",
                });
            }
        };
        sender.send_raw(channel_id, edit, &body, deadline).await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_the_listed_telegram_methods_are_accepted() {
        for method in TELEGRAM_METHODS {
            let raw = json!({"telegram": {"method": method, "body": {}}});
            assert!(parse(Channel::Telegram, &raw).is_ok(), "{method}");
        }
        for method in [
            "forwardMessage",
            "copyMessage",
            "banChatMember",
            "setWebhook",
            "getUpdates",
        ] {
            let raw = json!({"telegram": {"method": method}});
            assert_eq!(
                parse(Channel::Telegram, &raw).err().as_deref(),
                Some("unsupported telegram raw method"),
                "{method}"
            );
        }
    }

    #[test]
    fn discord_edits_name_their_message_and_the_channel_must_match() {
        let edit =
            json!({"discord": {"method": "edit", "messageId": "123", "body": {"content": "x"}}});
        assert!(matches!(
            parse(Channel::Discord, &edit),
            Ok(RawCall::DiscordEdit {
                message_id: 123,
                ..
            })
        ));
        let no_id = json!({"discord": {"method": "edit"}});
        assert_eq!(
            parse(Channel::Discord, &no_id).err().as_deref(),
            Some("raw.discord.messageId required")
        );
        let other = json!({"telegram": {"method": "sendMessage"}});
        assert_eq!(
            parse(Channel::Whatsapp, &other).err().as_deref(),
            Some("raw.whatsapp required")
        );
        let bad_body = json!({"whatsapp": {"body": []}});
        assert_eq!(
            parse(Channel::Whatsapp, &bad_body).err().as_deref(),
            Some("raw.whatsapp.body must be an object")
        );
    }
}
