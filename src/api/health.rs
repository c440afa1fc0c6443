//! `/health` and `/ready` (contract §2). No auth, no secrets.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;
use crate::actors::writer::Ping;
use crate::domain::Channel;

/// How long `/ready` waits for a write transaction before calling the database not ready.
const READY_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"ok": true}))
}

pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let database = match tokio::time::timeout(READY_WRITE_TIMEOUT, state.writer.send(Ping)).await {
        Ok(Ok(Ok(()))) => "ok".to_owned(),
        Ok(Ok(Err(e))) => e.to_string(),
        Ok(Err(_)) => "writer stopped".to_owned(),
        Err(_) => "write timed out".to_owned(),
    };
    let ok = database == "ok";
    let channels: serde_json::Map<String, serde_json::Value> = Channel::ALL
        .iter()
        .map(|c| {
            (
                c.as_str().to_owned(),
                json!(state.channels.get(*c).as_str()),
            )
        })
        .collect();
    let body = json!({"ok": ok, "database": database, "channels": channels});
    if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
