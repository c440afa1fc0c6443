//! Platform webhooks: each handler reads what the channel's webhook connection needs from the
//! request and hands it over (`crate::ingress::*::connection`), which checks the secret or
//! signature, commits, and only then lets the platform have its 200.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::AppState;
use super::error::ApiError;

/// `POST /v1/ingress/telegram` (webhook mode).
pub async fn telegram(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let Some(webhook) = &state.telegram_webhook else {
        return Err(ApiError::not_found("not found"));
    };
    let secret = req
        .headers()
        .get("x-telegram-bot-api-secret-token")
        .map(|v| v.as_bytes());
    webhook.receive(secret, &body).await?;
    Ok(HttpResponse::Ok().json(json!({"ok": true})))
}

/// `GET /v1/ingress/whatsapp`: Meta's verify challenge.
pub async fn whatsapp_verify(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let Some(webhook) = &state.whatsapp_webhook else {
        return Err(ApiError::not_found("not found"));
    };
    let q = web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .map_err(|_| ApiError::bad_request("invalid query string"))?;
    let param = |name: &str| q.get(name).map(String::as_str);
    match webhook.verify(
        param("hub.mode"),
        param("hub.verify_token"),
        param("hub.challenge"),
    ) {
        Some(challenge) => Ok(HttpResponse::Ok()
            .content_type("text/plain")
            .body(challenge.to_owned())),
        None => Err(ApiError::new(
            actix_web::http::StatusCode::FORBIDDEN,
            "verification failed",
        )),
    }
}

/// `POST /v1/ingress/whatsapp`: Meta's notifications, signed over the raw body.
pub async fn whatsapp(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let Some(webhook) = &state.whatsapp_webhook else {
        return Err(ApiError::not_found("not found"));
    };
    let signature = req
        .headers()
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    webhook.receive(signature, &body).await?;
    Ok(HttpResponse::Ok().json(json!({"ok": true})))
}
