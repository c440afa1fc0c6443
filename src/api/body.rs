//! `ApiJson<T>`: the JSON body extractor every handler uses. It enforces `MUX_MAX_BODY_BYTES`
//! (413) and turns every decoding problem into a 400 JSON error. The Content-Type is not
//! checked: the older service's clients do not all send one. An empty body reads as `{}` so that
//! missing fields get their own messages ("channel required").

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::ApiError;

/// Fallback when the app was built without state (unit tests of handlers).
const DEFAULT_LIMIT: usize = 1_048_576;

pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.config.max_body_bytes)
            .unwrap_or(DEFAULT_LIMIT);
        let declared = req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let payload = payload.take();
        Box::pin(async move {
            if declared.is_some_and(|n| n > limit as u64) {
                return Err(ApiError::payload_too_large(limit));
            }
            let buf = read_limited(payload, limit).await?;
            parse(&buf).map(ApiJson)
        })
    }
}

/// Reads a whole body of at most `limit` bytes (`413` beyond it). Handlers that must check a
/// credential first take the raw `web::Payload` and call this once it passed.
pub async fn read_limited(
    mut payload: impl futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>>
    + Unpin,
    limit: usize,
) -> Result<web::BytesMut, ApiError> {
    let mut buf = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::bad_request("could not read request body"))?;
        if buf.len() + chunk.len() > limit {
            return Err(ApiError::payload_too_large(limit));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// Decodes a body; whitespace-only reads as `{}`.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let body: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}
