//! `raw.discord` calls (contract §5a): a message create or edit body the route lock already
//! confined (`route_lock::raw`), posted through twilight's client so it shares the bot's
//! buckets, global limit and 429 handling with every other send. Not split: a raw body is one
//! message (components and embeds belong to it as a whole).

use serde_json::{Map, Value};
use tokio::time::Instant;
use twilight_http::request::Request;
use twilight_http::routing::Route;

use super::{DiscordRoute, DiscordSender, call};
use crate::senders::{Delivered, SendError};

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
