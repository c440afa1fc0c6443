//! Platform webhooks: each handler reads what the channel's webhook connection needs from the
//! request and hands it over (`crate::ingress::*::connection`), which checks the secret or
//! signature, commits, and only then lets the platform have its 200. What can be refused without
//! the body is refused before it is read (issue 9.4): a route whose webhook is off, a wrong or
//! missing Telegram secret, a missing WhatsApp signature.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::AppState;
use super::body::read_limited;
use super::error::ApiError;

/// Meta batches up to 3 MB of notifications in one POST.
pub const WHATSAPP_MAX_PAYLOAD: usize = 4 * 1024 * 1024;

/// `POST /v1/ingress/telegram` (webhook mode).
pub async fn telegram(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let Some(webhook) = &state.telegram_webhook else {
        return Err(ApiError::not_found("not found"));
    };
    let secret = req
        .headers()
        .get("x-telegram-bot-api-secret-token")
        .map(|v| v.as_bytes());
    webhook.authorize(secret)?;
    let body = read_limited(body, state.config.max_body_bytes).await?;
    webhook.receive(&body).await?;
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
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let Some(webhook) = &state.whatsapp_webhook else {
        return Err(ApiError::not_found("not found"));
    };
    let signature = req
        .headers()
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if !crate::ingress::whatsapp::signature_present(signature) {
        log::warn!("event=auth_failed path=/v1/ingress/whatsapp reason=no_signature");
        return Err(ApiError::unauthorized());
    }
    let body = read_limited(body, WHATSAPP_MAX_PAYLOAD).await?;
    webhook.receive(signature, &body).await?;
    Ok(HttpResponse::Ok().json(json!({"ok": true})))
}
