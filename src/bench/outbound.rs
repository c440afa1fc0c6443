//! `outbound` (sends through mux vs. the relay ceiling) and `memory` (idle RSS with many
//! tenants and bindings).

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use anyhow::Result;
use serde_json::json;

use super::load::{self, LoadSpec, Req};
use super::rig::{Rig, Tenant};
use super::stats::Row;
use super::{Opts, ceiling, mib};
use mux_server::testkit::telegram::TOKEN as BOT_TOKEN;

#[derive(Default)]
pub struct Outcome {
    pub rows: Vec<Row>,
    pub facts: BTreeMap<String, serde_json::Value>,
}

/// Request `n`: tenant `n % tenants`, its first chat, a unique idempotency key.
fn request_maker(url: &str, tenants: &[Tenant], run: u64) -> impl Fn(u64) -> Req + 'static {
    let url: Rc<str> = Rc::from(url);
    let targets: Vec<(Rc<str>, i64)> = tenants
        .iter()
        .map(|t| (Rc::from(&*t.bearer), t.chats.first().copied().unwrap_or(0)))
        .collect();
    move |n| {
        let i = (n % targets.len().max(1) as u64) as usize;
        let (auth, chat) = targets.get(i).cloned().unwrap_or_else(|| (Rc::from(""), 0));
        Req {
            url: url.clone(),
            auth,
            idempotency_key: format!("bench-{run}-{n}"),
            body: Bytes::from(format!(
                r#"{{"channel":"telegram","sessionKey":"tg:chat:{chat}","text":"bench reply {n}"}}"#
            )),
        }
    }
}

pub async fn outbound(o: &Opts) -> Result<Outcome> {
    let mut out = Outcome::default();
    let rig = Rig::new(&o.rig(false))?;
    let spec = LoadSpec {
        connections: o.connections,
        warmup: o.warmup,
        duration: o.duration,
    };
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());

    let server = rig.start_server().await?;
    let (tenants, took) = rig
        .provision(&server, o.tenants, 1, o.inbound_timeout_ms)
        .await?;
    out.facts.insert(
        "provisioned".into(),
        json!(format!(
            "{} tenants, {} bindings in {:.1} s",
            tenants.len(),
            tenants.len(),
            took.as_secs_f64()
        )),
    );

    // Relay ceiling first, while mux-server sits idle.
    let (ceiling_url, ceiling_handle) = ceiling::start(&rig.telegram.base_url, BOT_TOKEN, workers)?;
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let ceil = load::run(
        &spec,
        request_maker(
            &format!("{ceiling_url}/v1/mux/outbound/send"),
            &tenants,
            run,
        ),
    )
    .await;
    ceiling_handle.stop(true).await;
    out.rows.push(Row {
        scenario: "outbound".into(),
        phase: "relay ceiling".into(),
        rate: ceil.rate(),
        unit: "sends/s".into(),
        latency: ceil.latency.clone(),
        errors: ceil.errors.clone(),
        note: format!(
            "trivial actix-web + awc relay, {workers} workers, {} connections",
            o.connections
        ),
        ..Row::default()
    });

    let sent_before = rig.telegram.counters().sent.load(Ordering::Relaxed);
    server.reset_peak();
    let cpu0 = server.cpu_time();
    let w0 = rig.writer_counters(&server).await;
    let t0 = Instant::now();
    let mux = load::run(
        &spec,
        request_maker(
            &format!("{}/v1/mux/outbound/send", server.base),
            &tenants,
            run + 1,
        ),
    )
    .await;
    let wall = t0.elapsed();
    let cpu = server.cpu_time().saturating_sub(cpu0);
    let writer = w0.usage(&rig.writer_counters(&server).await, wall);
    let mem = server.mem();
    let sent = rig.telegram.counters().sent.load(Ordering::Relaxed) - sent_before;
    let ratio = mux.rate() / ceil.rate().max(1e-9);
    out.rows.push(Row {
        scenario: "outbound".into(),
        phase: format!("mux ({} tenants)", tenants.len()),
        rate: mux.rate(),
        unit: "sends/s".into(),
        latency: mux.latency.clone(),
        errors: mux.errors.clone(),
        peak_rss_mib: Some(mib(mem.hwm_kib)),
        rss_mib: Some(mib(mem.rss_kib)),
        server_cores: Some(cpu.as_secs_f64() / wall.as_secs_f64().max(1e-9)),
        writer: Some(writer),
        note: format!(
            "{ratio:.2} of the relay ceiling; {} connections, unique Idempotency-Key each",
            o.connections
        ),
        ..Row::default()
    });
    out.facts.insert(
        "ratio_to_ceiling".into(),
        json!((ratio * 1000.0).round() / 1000.0),
    );
    out.facts.insert(
        "platform_sends_vs_200s".into(),
        json!(format!(
            "{sent} sendMessage calls for {} answered 200 (warm-up included)",
            mux.ok_total
        )),
    );
    Ok(out)
}

pub async fn memory(o: &Opts) -> Result<Outcome> {
    let mut out = Outcome::default();
    let rig = Rig::new(&o.rig(true))?;
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
    server.reset_peak();
    let (tenants, took) = rig
        .provision(
            &server,
            o.tenants,
            o.bindings_per_tenant,
            o.inbound_timeout_ms,
        )
        .await?;
    let bindings: usize = tenants.iter().map(|t| t.chats.len()).sum();
    let during = server.mem();
    actix_web::rt::time::sleep(Duration::from_secs(3)).await;
    let idle = server.mem();
    out.rows.push(Row {
        scenario: "memory".into(),
        phase: format!("idle, {} tenants {} bindings", tenants.len(), bindings),
        rate: (tenants.len() + 2 * bindings) as f64 / took.as_secs_f64().max(1e-9),
        unit: "admin/s".into(),
        rss_mib: Some(mib(idle.rss_kib)),
        peak_rss_mib: Some(mib(during.hwm_kib)),
        note: "after provisioning through the API (peak = during provisioning), 3 s idle".into(),
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
