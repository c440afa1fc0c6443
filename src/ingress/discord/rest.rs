//! The REST calls Discord ingress makes, through twilight-http (whose ratelimiter, shared with
//! the outbound sender when there is one, keeps all of the bot's calls within Discord's per-route
//! buckets and global 50/s). Answers are read as raw JSON: catch-up forwards message objects
//! unmodified.

use serde_json::Value;
use twilight_http::Client;
use twilight_http::error::ErrorType;
use twilight_model::id::Id;

/// Discord's largest page for `GET /channels/{id}/messages`.
pub const PAGE_LIMIT: u16 = 100;

/// A channel as ingress needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A text channel, announcement channel or DM.
    Plain,
    /// A thread; `parent` is the text or forum channel it belongs to.
    Thread { parent: Option<u64> },
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestError {
    /// Discord answered with an error status.
    #[error("status {status} {body}")]
    Status { status: u16, body: String },
    /// No answer. twilight's Display never includes the token (it lives in a header).
    #[error("{0}")]
    Request(String),
    #[error("reading the answer: {0}")]
    Read(String),
    #[error("answer is not JSON")]
    NotJson,
    #[error("messages answer is not a list")]
    NotAList,
}

impl RestError {
    /// The channel no longer exists or the bot may not read it.
    pub fn is_gone(&self) -> bool {
        matches!(
            self,
            RestError::Status {
                status: 403 | 404,
                ..
            }
        )
    }

    /// Discord refused the request itself (an unknown or unreachable user for a DM: 400, 403,
    /// 404); asking again soon gives the same answer and counts toward the invalid-request ban.
    pub fn is_refused(&self) -> bool {
        matches!(
            self,
            RestError::Status {
                status: 400 | 403 | 404,
                ..
            }
        )
    }
}

fn failure(e: &twilight_http::Error) -> RestError {
    match e.kind() {
        ErrorType::Response { status, body, .. } => RestError::Status {
            status: status.get(),
            body: String::from_utf8_lossy(body).into_owned(),
        },
        _ => RestError::Request(e.to_string()),
    }
}

async fn json<T>(
    request: impl std::future::IntoFuture<
        Output = Result<twilight_http::Response<T>, twilight_http::Error>,
    >,
) -> Result<Value, RestError> {
    let response = request.await.map_err(|e| failure(&e))?;
    let bytes = response
        .bytes()
        .await
        .map_err(|e| RestError::Read(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|_| RestError::NotJson)
}

/// Up to `limit` messages of a channel, after `after` when given (else the newest), in the order
/// Discord lists them (newest first).
pub async fn messages(
    http: &Client,
    channel_id: u64,
    after: Option<u64>,
    limit: u16,
) -> Result<Vec<Value>, RestError> {
    let Some(channel) = Id::new_checked(channel_id) else {
        return Ok(Vec::new());
    };
    let request = http.channel_messages(channel);
    let page = match after.and_then(Id::new_checked) {
        Some(after) => json(request.after(after).limit(limit)).await?,
        None => json(request.limit(limit)).await?,
    };
    match page {
        Value::Array(list) => Ok(list),
        _ => Err(RestError::NotAList),
    }
}

/// `POST /users/@me/channels {recipient_id}`: the DM channel with a user (Discord creates it or
/// returns the existing one).
pub async fn open_dm(http: &Client, user_id: u64) -> Result<u64, RestError> {
    let Some(user) = Id::new_checked(user_id) else {
        return Err(RestError::Status {
            status: 400,
            body: "user id 0".into(),
        });
    };
    let channel = json(http.create_private_channel(user)).await?;
    super::message::snowflake(channel.get("id")).ok_or(RestError::NotJson)
}

/// `GET /channels/{id}`: whether it is a thread, and of which channel.
pub async fn place(http: &Client, channel_id: u64) -> Result<Place, RestError> {
    let Some(channel) = Id::new_checked(channel_id) else {
        return Ok(Place::Plain);
    };
    let object = json(http.channel(channel)).await?;
    Ok(place_of(&object))
}

/// Pure reading of a channel object.
pub fn place_of(channel: &Value) -> Place {
    let kind = channel.get("type").and_then(Value::as_u64);
    if kind.is_some_and(super::message::is_thread_type) {
        Place::Thread {
            parent: super::message::snowflake(channel.get("parent_id")),
        }
    } else {
        Place::Plain
    }
}

/// The gateway URL Discord recommends (`GET /gateway/bot`); `None` leaves twilight's default.
pub async fn gateway_url(http: &Client) -> Option<String> {
    let info = json(http.gateway().authed()).await.ok()?;
    info.get("url").and_then(Value::as_str).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn threads_name_their_parent_and_other_channels_are_plain() {
        assert_eq!(
            place_of(&json!({"id": "2", "type": 11, "parent_id": "1"})),
            Place::Thread { parent: Some(1) }
        );
        assert_eq!(
            place_of(&json!({"id": "2", "type": 12})),
            Place::Thread { parent: None }
        );
        assert_eq!(
            place_of(&json!({"id": "2", "type": 0, "parent_id": "9"})),
            Place::Plain,
            "a category is no parent"
        );
        assert_eq!(place_of(&json!(null)), Place::Plain);
    }
}
