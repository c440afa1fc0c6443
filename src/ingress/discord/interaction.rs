//! Discord button and select presses (`INTERACTION_CREATE` of type 3, message component;
//! contract §5a): from a bound channel, thread or DM, an envelope with `event.kind = "callback"`
//! and `body` = the component's `custom_id`, committed to the queue; then — bound or not — the
//! interaction is acknowledged with a deferred update, so the user's client stops waiting.
//! Discord wants that answer within 3 s: it follows the commit, never the delivery, so a tenant
//! that is down or hangs does not hold it up. Handled in a task of its own, outside the ingress
//! actor's queue, so no catch-up page or media download delays it either.
//!
//! The interaction's `token` is left out of the envelope: it would let its holder answer and
//! post follow-ups in the channel without mux.

use serde_json::{Value, json};

use super::DiscordInbound;
use super::message::{snowflake, snowflake_ms};
use super::rest::{self, Place};
use crate::db::inbound::NewInboundEvent;
use crate::domain::{Channel, RouteKey};
use crate::error::StoreError;
use crate::ingress::envelope::{Envelope, EventKind};
use crate::outbound::press::Press;

/// Interaction type "message component" (buttons, selects).
const MESSAGE_COMPONENT: u64 = 3;

/// A component interaction, reduced to what routing and the envelope need.
#[derive(Debug, Clone, PartialEq)]
pub struct DcPress {
    pub id: u64,
    pub token: String,
    pub channel_id: u64,
    pub guild_id: Option<u64>,
    pub user_id: u64,
    pub user_is_bot: bool,
    pub custom_id: String,
    pub component_type: Option<u64>,
    pub values: Option<Value>,
    pub message_id: Option<u64>,
    /// The interaction as received, without its token.
    pub raw: Value,
}

/// The press a dispatch carries; other interaction types (commands) are none.
pub fn parse(d: &Value) -> Option<DcPress> {
    if d.get("type").and_then(Value::as_u64) != Some(MESSAGE_COMPONENT) {
        return None;
    }
    let user = d
        .get("member")
        .and_then(|m| m.get("user"))
        .or_else(|| d.get("user"))?;
    let data = d.get("data")?;
    let mut raw = d.clone();
    if let Some(obj) = raw.as_object_mut() {
        obj.remove("token");
    }
    Some(DcPress {
        id: snowflake(d.get("id"))?,
        token: d.get("token")?.as_str()?.to_owned(),
        channel_id: snowflake(d.get("channel_id"))
            .or_else(|| snowflake(d.get("channel").and_then(|c| c.get("id"))))?,
        guild_id: snowflake(d.get("guild_id")),
        user_id: snowflake(user.get("id"))?,
        user_is_bot: user.get("bot").and_then(Value::as_bool) == Some(true),
        custom_id: data.get("custom_id")?.as_str()?.to_owned(),
        component_type: data.get("component_type").and_then(Value::as_u64),
        values: data.get("values").cloned(),
        message_id: snowflake(d.get("message").and_then(|m| m.get("id"))),
        raw,
    })
}

impl DcPress {
    /// The envelope for a binding's session; `thread_id` when pressed in a thread.
    pub fn envelope(&self, session_key: &str, route_key: &str, thread_id: Option<u64>) -> Value {
        let message_id = self.message_id.map(|m| m.to_string()).unwrap_or_default();
        let mut discord = json!({
            "interactionId": self.id.to_string(),
            "customId": self.custom_id,
            "componentType": self.component_type,
            "messageId": message_id,
            "rawInteraction": self.raw,
        });
        if let Some(values) = &self.values {
            discord["values"] = values.clone();
        }
        Envelope {
            kind: EventKind::Callback,
            event_id: self.event_id(),
            channel: Channel::Discord,
            session_key,
            body: self.custom_id.clone(),
            from: format!("discord:{}", self.user_id),
            to: format!("channel:{}", self.channel_id),
            direct: self.guild_id.is_none(),
            message_id: message_id.clone(),
            timestamp_ms: snowflake_ms(self.id),
            thread_id: thread_id.map(|t| json!(t.to_string())),
            channel_data: json!({
                "accountId": "default",
                "messageId": message_id,
                "channelId": self.channel_id.to_string(),
                "guildId": self.guild_id.map(|g| g.to_string()),
                "routeKey": route_key,
                "discord": discord,
            }),
            attachments: Vec::new(),
        }
        .into_json()
    }

    pub fn event_id(&self) -> String {
        format!("dc:interaction:{}", self.id)
    }
}

/// One INTERACTION_CREATE: routed, committed when bound, then acknowledged.
pub async fn handle(inbound: DiscordInbound, d: Value) {
    let Some(press) = parse(&d) else {
        return;
    };
    match inbound.press(&press).await {
        Ok(Some(event)) => {
            if let Err(e) = inbound.ctx.commit(vec![event], None).await {
                // Not acknowledged: the user sees the press fail rather than vanish.
                log::warn!(
                    "event=callback_not_committed channel=discord interaction_id={} error={e}",
                    press.id
                );
                return;
            }
        }
        Ok(None) => log::info!(
            "event=callback_dropped channel=discord interaction_id={} reason=unbound",
            press.id
        ),
        Err(e) => {
            log::warn!(
                "event=callback_not_routed channel=discord interaction_id={} error={e}",
                press.id
            );
            return;
        }
    }
    let ack = Press::Discord {
        interaction_id: press.id,
        token: press.token.clone(),
    };
    if let Err(e) = inbound.ctx.outbound.answer_press(&ack).await {
        log::warn!(
            "event=callback_answer_failed channel=discord interaction_id={} error={e:?}",
            press.id
        );
    }
}

impl DiscordInbound {
    /// A press's queue row when its place is bound (a bot's press never is).
    pub async fn press(&self, press: &DcPress) -> Result<Option<NewInboundEvent>, StoreError> {
        let place = match (press.guild_id, press.raw.get("channel")) {
            (None, _) => Place::Plain,
            (Some(_), Some(channel)) if channel.get("type").is_some() => rest::place_of(channel),
            (Some(_), _) => rest::place(&self.http, press.channel_id)
                .await
                .unwrap_or(Place::Plain),
        };
        let (parent, thread) = match place {
            Place::Thread { parent } => (parent, Some(press.channel_id)),
            Place::Plain => (None, None),
        };
        let route_keys = match press.guild_id {
            None => vec![RouteKey::DiscordDm {
                user_id: press.user_id,
            }],
            Some(guild) => RouteKey::discord_spellings(guild, press.channel_id, parent),
        };
        let binding = self
            .ctx
            .view
            .incoming(&route_keys)
            .filter(|_| !press.user_is_bot);
        self.ctx
            .metrics
            .callback(Channel::Discord, binding.is_some());
        let Some(binding) = binding else {
            return Ok(None);
        };
        let route_key = binding.route_key.to_string();
        let envelope = press.envelope(&binding.session_key, &route_key, thread);
        Ok(Some(NewInboundEvent::for_binding(
            &binding,
            press.event_id(),
            &envelope,
        )))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_button_press_becomes_a_callback_envelope_without_its_token() {
        let d = json!({"id": "175928847299117063", "type": 3, "token": "secret-token",
            "application_id": "1", "guild_id": "500", "channel_id": "501",
            "member": {"user": {"id": "42"}}, "message": {"id": "900"},
            "data": {"custom_id": "approve", "component_type": 3, "values": ["a"]}});
        let press = parse(&d).unwrap();
        let env = press.envelope("s", "discord:default:guild:500:channel:501", None);
        assert_eq!(env["event"], json!({"kind": "callback"}));
        assert_eq!(env["body"], "approve");
        assert_eq!(env["from"], "discord:42");
        let dc = &env["channelData"]["discord"];
        assert_eq!(dc["interactionId"], "175928847299117063");
        assert_eq!(dc["customId"], "approve");
        assert_eq!(dc["values"], json!(["a"]));
        assert_eq!(dc["messageId"], "900");
        assert!(!env.to_string().contains("secret-token"));
    }

    #[test]
    fn commands_and_payloads_without_a_user_are_not_presses() {
        let command = json!({"id": "1", "type": 2, "token": "t", "channel_id": "5",
            "user": {"id": "4"}, "data": {"name": "x"}});
        assert_eq!(parse(&command), None);
        assert_eq!(parse(&json!({"type": 3})), None);
    }
}
