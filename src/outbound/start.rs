//! Starting outbound with the service, and the idempotency expiry sweep.

use std::time::Duration;

use actix::Addr;

use super::Outbound;
use crate::actors::writer::Writer;
use crate::config::Config;
use crate::db::idempotency::{PruneIdempotencyKeys, ReleaseStaleReservations};
use crate::db::op::write;
use crate::time::now_ms;

/// How often expired idempotency keys are deleted. Expired keys are already ignored when read;
/// the sweep only bounds the table, so once a minute is plenty.
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Deletes expired idempotency keys every [`SWEEP_INTERVAL`] until the system stops.
///
/// It holds only a weak address: the sweep must not keep the Writer's mailbox alive past
/// shutdown (the service stops the Writer, then expects the database to be closed).
pub fn spawn_expiry_sweep(writer: Addr<Writer>) {
    let writer = writer.downgrade();
    actix_web::rt::spawn(async move {
        loop {
            tokio::time::sleep(SWEEP_INTERVAL).await;
            let Some(writer) = writer.upgrade() else {
                return;
            };
            match write(writer, PruneIdempotencyKeys { now_ms: now_ms() }).await {
                Ok(0) => {}
                Ok(n) => log::info!("event=idempotency_swept count={n}"),
                Err(e) => log::warn!("event=idempotency_sweep_failed error={e}"),
            }
        }
    });
}

/// Starts outbound: releases the durable reservations an older build's dead process left (this
/// process gets a fresh owner id), builds the senders and starts the expiry sweep. Runs inside the actix system.
pub async fn start(
    config: &Config,
    view: &crate::actors::registry::RegistryView,
    writer: &Addr<Writer>,
    reads: &crate::db::ReadPool,
) -> anyhow::Result<actix_web::web::Data<Outbound>> {
    let owner = crate::domain::secrets::new_id("proc_");
    let released = write(
        writer.clone(),
        ReleaseStaleReservations {
            owner: owner.clone(),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("releasing stale idempotency reservations: {e}"))?;
    if released > 0 {
        log::warn!("event=idempotency_reservations_released count={released}");
    }
    let outbound = Outbound::new(config, view.clone(), writer.clone(), reads.clone(), owner)?;
    // A fresh key skips the store's read only if the filter knows every entry already there.
    let now = now_ms();
    let cap = super::key_filter::DEFAULT_CAP;
    let live = crate::db::read(reads, move |c| {
        crate::db::idempotency::live_keys(c, now, cap)
    })
    .await
    .map_err(|e| anyhow::anyhow!("reading idempotency keys: {e}"))?;
    let loaded = outbound.keys.load(live, now);
    log::info!("event=idempotency_keys_loaded count={loaded}");
    spawn_expiry_sweep(writer.clone());
    Ok(actix_web::web::Data::new(outbound))
}
