//! Platform webhooks. `POST /v1/ingress/telegram` (webhook mode): the secret header is checked
//! before the body is read; the update is committed before Telegram gets its 200.

use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;

/// Compares without an early exit, so the time taken does not tell how much of a guess was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn telegram(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let (Some(inbound), Some(secret)) = (&state.telegram_webhook, &state.config.telegram.webhook_secret) else {
        return Err(ApiError::not_found("not found"));
    };
    let given = req
        .headers()
        .get("x-telegram-bot-api-secret-token")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !constant_time_eq(given, secret.expose_secret().as_bytes()) {
        log::warn!("event=auth_failed path=/v1/ingress/telegram");
        return Err(ApiError::unauthorized());
    }
    let update: Value = serde_json::from_slice(&body).map_err(|_| ApiError::bad_request("update is not JSON"))?;
    let events = inbound.process(std::slice::from_ref(&update)).await?;
    inbound.ctx.commit(events, None).await?;
    Ok(HttpResponse::Ok().json(json!({"ok": true})))
}
