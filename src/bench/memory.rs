//! `memory`: idle RSS with an empty database, with many tenants and bindings, and after a
//! restart on that database.

use std::time::Duration;

use anyhow::Result;

use super::phase::Phase;
use super::platform::Platform;
use super::rig::Rig;
use super::stats::Row;
use super::{Opts, Outcome, mib};

pub async fn memory(o: &Opts) -> Result<Outcome> {
    let mut out = Outcome::default();
    let rig = Rig::new(&o.rig(true, Platform::Telegram))?;
    let mut server = rig.start_server().await?;
    actix_web::rt::time::sleep(Duration::from_secs(1)).await;
    let empty = server.mem();
    out.rows.push(Row {
        scenario: "memory".into(),
        phase: "idle, empty database".into(),
        unit: "-".into(),
        rss_mib: Some(mib(empty.rss_kib)),
        peak_rss_mib: Some(mib(empty.hwm_kib)),
        note: format!(
            "ready {:.0} ms after spawn",
            server.ready_after.as_secs_f64() * 1000.0
        ),
        ..Row::default()
    });
    let phase = Phase::start(&rig, &server).await;
    let (tenants, took) = rig
        .provision(
            &server,
            o.tenants,
            o.bindings_per_tenant,
            o.inbound_timeout_ms,
        )
        .await?;
    let bindings: usize = tenants.iter().map(|t| t.chats.len()).sum();
    let mut row = Row::default();
    phase.finish(&rig, &server, &mut row).await;
    actix_web::rt::time::sleep(Duration::from_secs(3)).await;
    let idle = server.mem();
    out.rows.push(Row {
        scenario: "memory".into(),
        phase: format!("idle, {} tenants {} bindings", tenants.len(), bindings),
        rate: (tenants.len() + 2 * bindings) as f64 / took.as_secs_f64().max(1e-9),
        unit: "admin/s".into(),
        rss_mib: Some(mib(idle.rss_kib)),
        peak_rss_mib: row.peak_rss_mib,
        server_cores: row.server_cores,
        writer: row.writer,
        note: "after provisioning through the API (peak, cores, writer = during provisioning), 3 s idle".into(),
        ..Row::default()
    });
    server.kill9();
    let server = rig.start_server().await?;
    actix_web::rt::time::sleep(Duration::from_secs(3)).await;
    let fresh = server.mem();
    out.rows.push(Row {
        scenario: "memory".into(),
        phase: "idle after restart".into(),
        unit: "-".into(),
        rss_mib: Some(mib(fresh.rss_kib)),
        peak_rss_mib: Some(mib(fresh.hwm_kib)),
        note: format!(
            "same database, fresh process, ready {:.0} ms after spawn",
            server.ready_after.as_secs_f64() * 1000.0
        ),
        ..Row::default()
    });
    Ok(out)
}
