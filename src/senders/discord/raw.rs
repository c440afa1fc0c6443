//! `raw.discord` calls (contract §5a): a message create or edit body the route lock already
//! confined (`route_lock::raw`), posted through twilight's client so it shares the bot's
//! buckets, global limit and 429 handling with every other send. Not split: a raw body is one
//! message (components and embeds belong to it as a whole).

use serde_json::{Map, Value};
use tokio::time::{Instant, timeout};
use twilight_http::request::Request;
use twilight_http::response::marker::EmptyBody;
use twilight_http::routing::Route;

use super::{DiscordRoute, DiscordSender, call, failure};
use crate::senders::{Delivered, SendError, remaining};

/// Interaction callback type "deferred update message": acknowledged, message unchanged.
const DEFERRED_UPDATE_MESSAGE: u8 = 6;

impl DiscordSender {
    /// The channel a route posts into (a DM's is opened once and cached).
    pub async fn channel_of(
        &self,
        route: DiscordRoute,
        deadline: Instant,
    ) -> Result<u64, SendError> {
        match route {
            DiscordRoute::Dm { user_id } => self.dm_channel(user_id, deadline).await,
            DiscordRoute::Channel { channel_id } => Ok(channel_id),
        }
    }

    /// `POST /channels/{id}/messages` with `body`, or `PATCH …/messages/{edit}`.
    pub async fn send_raw(
        &self,
        channel_id: u64,
        edit: Option<u64>,
        body: &Map<String, Value>,
        deadline: Instant,
    ) -> Result<Delivered, SendError> {
        let route = match edit {
            None => Route::CreateMessage { channel_id },
            Some(message_id) => Route::UpdateMessage {
                channel_id,
                message_id,
            },
        };
        let request =
            Request::builder(&route)
                .json(body)
                .build()
                .map_err(|e| SendError::Platform {
                    details: serde_json::json!({"error": e.to_string()}),
                })?;
        let sent = call(self.http.request::<Value>(request), deadline).await?;
        Ok(Delivered {
            destination_field: "channelId",
            destination: channel_id.to_string(),
            message_ids: vec![sent.id],
        })
    }
}

impl DiscordSender {
    /// Acknowledges a component interaction with a deferred update (callback type 6): the
    /// user's client stops waiting and the message stays as it is. Interaction callbacks need no
    /// bot token (the interaction's own token authorizes them) and are outside the global limit.
    pub async fn ack_interaction(
        &self,
        interaction_id: u64,
        token: &str,
        deadline: Instant,
    ) -> Result<(), SendError> {
        let route = Route::InteractionCallback {
            interaction_id,
            interaction_token: token,
            with_response: false,
        };
        let request = Request::builder(&route)
            .json(&serde_json::json!({"type": DEFERRED_UPDATE_MESSAGE}))
            .use_authorization_token(false)
            .build()
            .map_err(|e| SendError::Platform {
                details: serde_json::json!({"error": e.to_string()}),
            })?;
        let left = remaining(deadline).unwrap_or_default();
        match timeout(left, self.http.request::<EmptyBody>(request)).await {
            Err(_) => Err(SendError::OutcomeUnknown),
            Ok(Err(e)) => Err(failure(&e)),
            Ok(Ok(_)) => Ok(()),
        }
    }
}
