//! The HTTP front end: thin handlers that parse, ask an actor, and answer. Routes are registered
//! here and only here.

pub mod auth;
pub mod body;
pub mod error;
pub mod health;
pub mod inbound_target;
pub mod pairings;

use std::sync::Arc;

use actix::Addr;
use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, web};

use crate::actors::registry::Registry;
use crate::actors::writer::Writer;
use crate::channel_status::ChannelHealth;
use crate::config::Config;
use crate::db::ReadPool;
use error::ApiError;

/// What every handler can reach.
pub struct AppState {
    pub config: Arc<Config>,
    pub registry: Addr<Registry>,
    pub writer: Addr<Writer>,
    pub reads: ReadPool,
    pub channels: Arc<ChannelHealth>,
}

/// Every route of the service.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health::health))
        .route("/ready", web::get().to(health::ready))
        .service(
            web::scope("/v1/pairings")
                .wrap(from_fn(auth::require_tenant))
                .route("/token", web::post().to(pairings::create_token))
                .route("", web::get().to(pairings::list))
                .route("/claim", web::post().to(pairings::claim))
                .route("/unbind", web::post().to(pairings::unbind)),
        )
        .service(
            web::scope("/v1/tenant")
                .wrap(from_fn(auth::require_tenant))
                .route("/inbound-target", web::get().to(inbound_target::get))
                .route("/inbound-target", web::post().to(inbound_target::set)),
        )
        .default_service(web::to(not_found));
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("not found"))
}
