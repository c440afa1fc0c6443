//! `GET /metrics`: Prometheus text. Behind the admin token when one is set; without one it is
//! open, and the default listen address (127.0.0.1) keeps it on loopback.

use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::admin::{AdminCheck, check_admin};
use super::error::ApiError;
use crate::db::overview::queue_stats;
use crate::metrics::AuthScope;
use crate::time::now_ms;

pub async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if check_admin(state.config.admin_token.as_ref(), req.headers()) == AdminCheck::Refused {
        state.metrics.auth_failed_in(AuthScope::Admin);
        log::warn!("event=auth_failed scope=admin path={}", req.path());
        return Err(ApiError::unauthorized());
    }
    // The queue gauges are read at scrape time, so they are right whoever changed the queue.
    match crate::db::read(&state.reads, queue_stats).await {
        Ok((depth, oldest)) => {
            let age_sec = oldest.map_or(0, |at| (now_ms() - at).max(0) / 1000);
            state.metrics.set_queue(depth.max(0) as u64, age_sec as u64);
        }
        Err(e) => log::warn!("event=metrics_queue_unavailable error={e}"),
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render()))
}
