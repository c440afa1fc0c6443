//! The HTTP front end: thin handlers that parse, ask an actor, and answer. Routes are registered
//! here and only here.

pub mod admin;
pub mod auth;
pub mod body;
pub mod client_limits;
pub mod deliveries;
pub mod error;
pub mod fallback;
pub mod fields;
pub mod files;
pub mod health;
pub mod inbound_target;
pub mod ingress;
pub mod metrics;
pub mod outbound;
pub mod outbound_action;
pub mod pairings;

use std::sync::Arc;

use actix::Addr;
use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, web};

use crate::actors::registry::{Registry, RegistryView};
use crate::actors::writer::Writer;
use crate::channel_status::ChannelHealth;
use crate::config::Config;
use crate::db::ReadPool;
use error::ApiError;

/// What every handler can reach.
pub struct AppState {
    pub config: Arc<Config>,
    pub registry: Addr<Registry>,
    /// The Registry's maps for lookups without a message (auth on every request).
    pub view: RegistryView,
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

/// Every route of the service. Each path is one `resource` holding all its methods, so a method
/// it does not serve is `405` with `Allow` (a path nothing serves is `404`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health").route(web::get().to(health::health)))
        .service(web::resource("/ready").route(web::get().to(health::ready)))
        .service(web::resource("/metrics").route(web::get().to(metrics::metrics)))
        .service(web::resource("/v1/ingress/telegram").route(web::post().to(ingress::telegram)))
        .service(
            web::resource("/v1/ingress/whatsapp")
                .route(web::get().to(ingress::whatsapp_verify))
                .route(web::post().to(ingress::whatsapp)),
        )
        .service(
            web::scope("/v1/pairings")
                .wrap(from_fn(auth::require_tenant))
                .service(web::resource("/token").route(web::post().to(pairings::create_token)))
                .service(web::resource("").route(web::get().to(pairings::list)))
                .service(web::resource("/claim").route(web::post().to(pairings::claim)))
                .service(web::resource("/unbind").route(web::post().to(pairings::unbind))),
        )
        .service(
            web::scope("/v1/tenant")
                .wrap(from_fn(auth::require_tenant))
                .service(
                    web::resource("/inbound-target")
                        .route(web::get().to(inbound_target::get))
                        .route(web::post().to(inbound_target::set)),
                )
                .service(web::resource("/deliveries").route(web::get().to(deliveries::list)))
                .service(
                    web::resource("/deliveries/{eventId}/retry")
                        .route(web::post().to(deliveries::retry)),
                ),
        )
        .service(
            web::scope("/v1/mux")
                .wrap(from_fn(auth::require_tenant))
                .service(web::resource("/outbound/send").route(web::post().to(outbound::send)))
                .service(
                    web::resource("/files/{channel}/{fileRef}").route(web::get().to(files::get)),
                ),
        )
        .service(
            web::scope("/v1/admin")
                .wrap(from_fn(admin::require_admin))
                .service(
                    web::resource("/tenants")
                        .route(web::post().to(admin::tenants::create))
                        .route(web::get().to(admin::tenants::list)),
                )
                .service(
                    web::resource("/tenants/{id}/keys")
                        .route(web::post().to(admin::tenants::add_key)),
                )
                .service(
                    web::resource("/tenants/{id}/keys/{keyId}")
                        .route(web::delete().to(admin::tenants::revoke_key)),
                )
                .service(
                    web::resource("/tenants/{id}/disable")
                        .route(web::post().to(admin::tenants::disable)),
                )
                .service(
                    web::resource("/tenants/{id}/enable")
                        .route(web::post().to(admin::tenants::enable)),
                )
                .service(
                    web::resource("/pairing-codes")
                        .route(web::post().to(admin::codes::create_code)),
                )
                .service(web::resource("/audit").route(web::get().to(admin::codes::audit))),
        )
        .default_service(web::to(not_found));
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("not found"))
}
