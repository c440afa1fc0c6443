//! Platform webhooks. `POST /v1/ingress/telegram` (webhook mode): the secret header is checked
//! before the body is read; the update is committed before Telegram gets its 200.

use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use crate::domain::secrets::constant_time_eq;

pub async fn telegram(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (Some(inbound), Some(secret)) = (
        &state.telegram_webhook,
        &state.config.telegram.webhook_secret,
    ) else {
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
    let update: Value =
        serde_json::from_slice(&body).map_err(|_| ApiError::bad_request("update is not JSON"))?;
    let events = inbound.process(std::slice::from_ref(&update)).await?;
    inbound.ctx.commit(events, None).await?;
    Ok(HttpResponse::Ok().json(json!({"ok": true})))
}

/// `GET /v1/ingress/whatsapp`: Meta's verify challenge.
pub async fn whatsapp_verify(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let Some(inbound) = &state.whatsapp_inbound else {
        return Err(ApiError::not_found("not found"));
    };
    let q = web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .map_err(|_| ApiError::bad_request("invalid query string"))?;
    let mode_ok = q.get("hub.mode").map(String::as_str) == Some("subscribe");
    let token_ok = q.get("hub.verify_token").is_some_and(|t| {
        constant_time_eq(
            t.as_bytes(),
            inbound.verify_token.expose_secret().as_bytes(),
        )
    });
    match (mode_ok && token_ok, q.get("hub.challenge")) {
        (true, Some(challenge)) => Ok(HttpResponse::Ok()
            .content_type("text/plain")
            .body(challenge.clone())),
        _ => Err(ApiError::new(
            actix_web::http::StatusCode::FORBIDDEN,
            "verification failed",
        )),
    }
}

/// `POST /v1/ingress/whatsapp`: signature over the raw body first; nothing is stored unless it
/// holds. Meta gets its 200 only after the messages are committed.
pub async fn whatsapp(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let Some(inbound) = &state.whatsapp_inbound else {
        return Err(ApiError::not_found("not found"));
    };
    let header = req
        .headers()
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if !crate::ingress::whatsapp::signature_valid(inbound.app_secret.expose_secret(), header, &body)
    {
        log::warn!("event=auth_failed path=/v1/ingress/whatsapp reason=bad_signature");
        return Err(ApiError::unauthorized());
    }
    let payload: Value =
        serde_json::from_slice(&body).map_err(|_| ApiError::bad_request("payload is not JSON"))?;
    let events = inbound.process(&payload).await?;
    inbound.ctx.commit(events, None).await?;
    Ok(HttpResponse::Ok().json(json!({"ok": true})))
}
