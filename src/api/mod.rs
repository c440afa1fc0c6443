//! The HTTP front end: thin handlers that parse, ask an actor, and answer. Routes are registered
//! here and only here.

pub mod admin;
pub mod auth;
pub mod body;
pub mod deliveries;
pub mod error;
pub mod fallback;
pub mod fields;
pub mod health;
pub mod inbound_target;
pub mod ingress;
pub mod metrics;
pub mod outbound;
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
    /// Per-tenant inbound forwarders (woken when a target changes or events are queued).
    pub forwarders: Addr<crate::actors::forwarder::Forwarders>,
    /// Telegram in webhook mode: the connection behind `POST /v1/ingress/telegram`.
    pub telegram_webhook: Option<crate::ingress::telegram::connection::webhook::TelegramWebhook>,
    /// WhatsApp Cloud API webhook, when its inbound is enabled.
    pub whatsapp_webhook: Option<crate::ingress::whatsapp::WhatsappWebhook>,
    /// Counters and histograms for `GET /metrics`, shared with the Writer thread.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// Meta batches up to 3 MB of notifications in one POST.
const WHATSAPP_MAX_PAYLOAD: usize = 4 * 1024 * 1024;

/// Every route of the service.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health::health))
        .route("/ready", web::get().to(health::ready))
        .route("/metrics", web::get().to(metrics::metrics))
        .route("/v1/ingress/telegram", web::post().to(ingress::telegram))
        .service(
            web::resource("/v1/ingress/whatsapp")
                .app_data(web::PayloadConfig::new(WHATSAPP_MAX_PAYLOAD))
                .route(web::get().to(ingress::whatsapp_verify))
                .route(web::post().to(ingress::whatsapp)),
        )
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
                .route("/inbound-target", web::post().to(inbound_target::set))
                .route("/deliveries", web::get().to(deliveries::list))
                .route(
                    "/deliveries/{eventId}/retry",
                    web::post().to(deliveries::retry),
                ),
        )
        .service(
            web::scope("/v1/mux")
                .wrap(from_fn(auth::require_tenant))
                .route("/outbound/send", web::post().to(outbound::send)),
        )
        .service(
            web::scope("/v1/admin")
                .wrap(from_fn(admin::require_admin))
                .route("/tenants", web::post().to(admin::tenants::create))
                .route("/tenants", web::get().to(admin::tenants::list))
                .route(
                    "/tenants/{id}/keys",
                    web::post().to(admin::tenants::add_key),
                )
                .route(
                    "/tenants/{id}/keys/{keyId}",
                    web::delete().to(admin::tenants::revoke_key),
                )
                .route(
                    "/tenants/{id}/disable",
                    web::post().to(admin::tenants::disable),
                )
                .route(
                    "/tenants/{id}/enable",
                    web::post().to(admin::tenants::enable),
                )
                .route("/pairing-codes", web::post().to(admin::codes::create_code))
                .route("/audit", web::get().to(admin::codes::audit)),
        )
        .default_service(web::to(not_found));
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("not found"))
}
