//! Building and running the service as a value: it binds its own listener and reports the real
//! port, so tests and the benchmark run it in-process on port 0.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, Addr};
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;

use crate::actors::forwarder::{ForwarderDeps, Forwarders, MemoryBudget, StopAll, Wake};
use crate::actors::registry::{Registry, RegistryView};
use crate::actors::writer::{CloseWriter, Writer, WriterThread};
use crate::api::{self, AppState};
use crate::channel_status::ChannelHealth;
use crate::config::Config;
use crate::db::op::WriteOp;
use crate::db::{self, load::LoadedState, pairing::SeedPairingCodes, tenants::SeedTenants};
use crate::ingress::IngressCtx;
use crate::ingress::discord::connection::{DiscordIngress, StopGateway};
use crate::ingress::telegram::TelegramInbound;
use crate::ingress::telegram::connection::Started;
use crate::ingress::telegram::connection::poller::PollerHandle;
use crate::time::now_ms;

/// How long in-flight requests get to finish after SIGTERM.
const SHUTDOWN_TIMEOUT_SEC: u64 = 30;

pub struct Application {
    port: u16,
    server: Server,
    writer: Addr<Writer>,
    writer_thread: WriterThread,
    forwarders: Addr<Forwarders>,
    telegram_poller: Option<PollerHandle>,
    discord_ingress: Option<Addr<DiscordIngress>>,
}

impl Application {
    /// Opens and migrates the database, seeds tenants and codes from the configuration, loads the
    /// registry, starts the actors and binds the listener. Must run inside an actix system.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let config = Arc::new(config);
        let (conn, loaded) = {
            let config = config.clone();
            web::block(move || prepare_database(&config)).await??
        };
        let reads = db::read_pool(&config.db_path)?;
        let metrics = Arc::new(crate::metrics::Metrics::new());
        let files = db::files::StoreFiles::capture(&config.db_path)
            .map_err(|e| log::warn!("event=store_files_unwatched error={e}"))
            .ok();
        let (writer, writer_thread) = Writer::spawn_with_metrics(conn, metrics.clone(), files)?;
        let writer = writer.start();
        let registry = Registry::new(writer.clone(), loaded);
        let view = registry.view();
        let registry = registry.start();
        spawn_prune(writer.clone());
        // Outbound's start-up read goes first: the forwarders' first reads (one per tenant with
        // events waiting, 2,000 after an outage) would queue ahead of it for ~250 ms.
        let outbound = crate::outbound::start(&config, &view, &writer, &reads).await?;
        let forwarders = start_forwarders(&config, &view, &writer, &reads, &metrics).await?;
        let channels = Arc::new(ChannelHealth::default());
        let ingress = IngressCtx {
            registry: registry.clone(),
            view: view.clone(),
            writer: writer.clone(),
            forwarders: forwarders.clone(),
            pairing: config.pairing.clone(),
            outbound: outbound.clone(),
            metrics: metrics.clone(),
            answered: Arc::default(),
            public_url: Arc::from(config.public_url.as_deref().unwrap_or("")),
        };
        let whatsapp_webhook = config
            .whatsapp
            .inbound_enabled
            .then(|| {
                crate::ingress::whatsapp::WhatsappWebhook::new(ingress.clone(), &config.whatsapp)
            })
            .flatten();
        if whatsapp_webhook.is_some() {
            channels.set(
                crate::domain::Channel::Whatsapp,
                crate::channel_status::ChannelState::Connected,
            );
        }
        let discord_ingress =
            start_discord(&config, ingress.clone(), &outbound, &reads, &channels).await?;
        let (telegram_webhook, telegram_poller) =
            match start_telegram(&config, ingress, &reads, &channels).await {
                Some(Started::Webhook(inbound)) => (Some(*inbound), None),
                Some(Started::Polling(poller)) => (None, Some(poller)),
                None => (None, None),
            };
        let state = web::Data::new(AppState {
            config: config.clone(),
            registry,
            view,
            writer: writer.clone(),
            reads,
            channels,
            telegram_webhook,
            whatsapp_webhook,
            forwarders: forwarders.clone(),
            metrics,
        });
        let listener = TcpListener::bind(config.listen_addr())
            .with_context(|| format!("cannot listen on {}:{}", config.host, config.port))?;
        let port = listener.local_addr()?.port();
        let peers = api::client_limits::PeerConnections::new(&config.http);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(outbound.clone())
                .configure(api::fallback::extractor_errors)
                .configure(api::routes)
                .wrap(from_fn(api::client_limits::guard))
                .wrap(api::fallback::json_error_bodies())
        })
        .on_connect(move |conn, data| peers.on_connect(conn, data))
        .client_request_timeout(Duration::from_millis(config.http.client_timeout_ms))
        .client_disconnect_timeout(Duration::from_secs(1))
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SEC)
        .listen(listener)?
        .run();
        for name in &config.unused_vars {
            log::warn!("event=config_variable_unused name={name}");
        }
        for warning in crate::config::weak::warnings(&config) {
            log::warn!("event=config_weak detail=\"{warning}\"");
        }
        log::info!("event=listening host={} port={port}", config.host);
        Ok(Application {
            port,
            server,
            writer,
            writer_thread,
            forwarders: forwarders.clone(),
            telegram_poller,
            discord_ingress,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server from outside (tests; the signal handlers do the same on SIGTERM).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (SIGTERM, SIGINT or `handle().stop(true)`), then lets the Writer
    /// commit what it holds before returning.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        // Ingress first (no new platform acks; an open long poll is abandoned, not waited
        // out), then the forwarders, then the Writer commits what it holds.
        if let Some(poller) = &self.telegram_poller {
            poller.stop().await;
        }
        if let Some(discord) = &self.discord_ingress {
            let _ = discord.send(StopGateway).await;
        }
        let _ = self.forwarders.send(StopAll).await;
        let _ = self.writer.send(CloseWriter).await;
        let thread = self.writer_thread;
        let _ = web::block(move || thread.join()).await;
        log::info!("event=stopped");
        served
    }
}

/// Discord ingress when enabled (gateway + REST catch-up), sharing the sender's REST ratelimiter.
async fn start_discord(
    config: &Config,
    ctx: IngressCtx,
    outbound: &web::Data<crate::outbound::Outbound>,
    reads: &db::ReadPool,
    channels: &Arc<ChannelHealth>,
) -> anyhow::Result<Option<Addr<DiscordIngress>>> {
    if !config.discord.inbound_enabled {
        return Ok(None);
    }
    let limiter = outbound.discord.as_ref().and_then(|d| d.rate_limiter());
    crate::ingress::discord::connection::start::start(
        ctx,
        &config.discord,
        limiter,
        reads.clone(),
        channels.clone(),
    )
    .await
}

/// Telegram ingress when enabled: polling starts here; webhook mode returns the route's receiver.
async fn start_telegram(
    config: &Config,
    ctx: IngressCtx,
    reads: &db::ReadPool,
    channels: &Arc<ChannelHealth>,
) -> Option<Started> {
    if !config.telegram.inbound_enabled {
        return None;
    }
    let inbound = TelegramInbound::new(ctx, &config.telegram)?;
    Some(
        crate::ingress::telegram::connection::start(
            inbound,
            &config.telegram,
            reads.clone(),
            channels.clone(),
        )
        .await,
    )
}

/// How often the sweep runs; it only deletes what is days old, so once in a while is enough.
const PRUNE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(600);

/// Deletes old delivered events and tokens every [`PRUNE_INTERVAL`] until the system stops.
fn spawn_prune(writer: Addr<Writer>) {
    actix_web::rt::spawn(async move {
        loop {
            tokio::time::sleep(PRUNE_INTERVAL).await;
            let op = crate::db::prune::Prune { now_ms: now_ms() };
            match crate::db::op::write(writer.clone(), op).await {
                Ok(p) if p == Default::default() => {}
                Ok(p) => log::info!(
                    "event=pruned events={} tokens={} pending_bindings={}",
                    p.events,
                    p.tokens,
                    p.pending_bindings
                ),
                Err(e) => log::warn!("event=prune_failed error={e}"),
            }
        }
    });
}

/// Threads that carry the forwarders' HTTP clients; two keep one core for the API on a 2-core host.
const FORWARDER_THREADS: usize = 2;

/// Starts the forwarder manager and wakes every tenant that has events waiting from before.
async fn start_forwarders(
    config: &Config,
    registry: &RegistryView,
    writer: &Addr<Writer>,
    reads: &db::ReadPool,
    metrics: &Arc<crate::metrics::Metrics>,
) -> anyhow::Result<Addr<Forwarders>> {
    let deps = ForwarderDeps {
        registry: registry.clone(),
        writer: writer.clone(),
        reads: reads.clone(),
        max_age: std::time::Duration::from_secs(config.forward_max_age_sec),
        metrics: metrics.clone(),
        budget: Arc::new(MemoryBudget::new(config.forward_memory_bytes)),
    };
    let forwarders = Forwarders::new(deps, FORWARDER_THREADS).start();
    let waiting = db::read(reads, db::inbound::tenants_with_pending).await?;
    log::info!(
        "event=forwarders_started tenants_with_pending={}",
        waiting.len()
    );
    for tenant in waiting {
        forwarders.do_send(Wake {
            tenant_id: Arc::from(tenant.as_str()),
            now: false,
        });
    }
    Ok(forwarders)
}

/// Everything that must hold before anything is served: migrated schema, seeds, loaded state.
fn prepare_database(config: &Config) -> anyhow::Result<(diesel::SqliteConnection, LoadedState)> {
    let mut conn = db::open_writer(&config.db_path)
        .with_context(|| format!("database {}", config.db_path.display()))?;
    let now = now_ms();
    let seeds = SeedTenants {
        seeds: config.tenants.clone(),
        now_ms: now,
    };
    let codes = SeedPairingCodes {
        seeds: config.pairing_codes.clone(),
        now_ms: now,
    };
    conn.immediate_transaction(|c| {
        seeds.apply(c)?;
        codes.apply(c)
    })
    .map_err(|e| anyhow::anyhow!("seeding tenants and pairing codes: {e}"))?;
    let loaded = db::load::load_all(&mut conn).context("loading state")?;
    Ok((conn, loaded))
}
