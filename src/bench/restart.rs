//! `restart`: `pending` events committed for endpoints that are down, `kill -9`, start again on
//! the same database, endpoints recover; time to ready, drain rate, lost and duplicated.

use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;

use super::inbound::{add_breaches, batch, measure, setup, wait_delivered, wake};
use super::ledger::BASE_UPDATE_ID;
use super::phase::server_figures;
use super::rig::Tenant;
use super::stats::{Row, summarize};
use super::{Opts, Outcome};
use mux_server::testkit::openclaw::Mode;

pub async fn restart(o: &Opts) -> Result<Outcome> {
    let mut out = Outcome::default();
    let (rig, mut server, tenants) = setup(o, &mut out).await?;
    for t in &tenants {
        rig.openclaw
            .set_mode(&t.index.to_string(), Mode::Status(503));
    }

    // Backlog: `pending` events committed for endpoints that are down.
    server.reset_peak();
    let cpu0 = (server.cpu_time(), rig.writer_counters(&server).await);
    let t0 = Instant::now();
    let start = rig.ledger.len();
    for k in (0..o.pending).step_by(10_000) {
        rig.push_updates(&batch(&tenants, start + k, 10_000.min(o.pending - k)));
    }
    let last_id = BASE_UPDATE_ID + (start + o.pending) as i64 - 1;
    let deadline = Instant::now() + o.drain_timeout;
    while rig.telegram.confirmed() <= last_id && Instant::now() < deadline {
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    }
    let ingested = rig.telegram.confirmed() > last_id;
    let took = t0.elapsed();
    let mut row = Row {
        scenario: "restart".into(),
        phase: format!("ingest {} (endpoints down)", o.pending),
        rate: o.pending as f64 / took.as_secs_f64().max(1e-9),
        unit: "events/s".into(),
        note: format!(
            "getUpdates → committed (offset confirmed){}",
            if ingested { "" } else { "; TIMED OUT" }
        ),
        ..Row::default()
    };
    server_figures(&rig, &server, &mut row, cpu0, t0).await;
    out.rows.push(row);

    let before = rig.ledger.delivered(start..start + o.pending);
    server.kill9();
    drop(server);
    let server = rig.start_server().await?;
    out.rows.push(Row {
        scenario: "restart".into(),
        phase: "kill -9, start again".into(),
        unit: "-".into(),
        latency: summarize(vec![server.ready_after.as_micros() as u64]),
        note: format!(
            "spawn → /ready 200 in {:.0} ms (listening after {:.0} ms); {} events delivered before the kill",
            server.ready_after.as_secs_f64() * 1000.0,
            server.listening_after.as_secs_f64() * 1000.0,
            before
        ),
        ..Row::default()
    });
    out.facts.insert(
        "ready_ms".into(),
        json!((server.ready_after.as_secs_f64() * 1000.0).round()),
    );

    server.reset_peak();
    let cpu0 = (server.cpu_time(), rig.writer_counters(&server).await);
    let t_rec = Instant::now();
    rig.openclaw.recover();
    if o.wake_on_recovery {
        let all: Vec<&Tenant> = tenants.iter().collect();
        wake(&rig, &server, &all).await?;
    }
    let range = start..start + o.pending;
    let done = wait_delivered(&rig, range.clone(), |_| true, o.drain_timeout).await;
    let mut m = measure(
        &rig,
        range,
        |_| true,
        t_rec,
        format!("drain {} after recovery", o.pending),
    );
    m.row.scenario = "restart".into();
    server_figures(&rig, &server, &mut m.row, cpu0, t_rec).await;
    m.row.note = format!(
        "rate = events / (recovery → last delivered){}{}; latency includes the outage",
        if o.wake_on_recovery {
            "; targets re-posted to wake retries"
        } else {
            ""
        },
        if done { "" } else { "; DRAIN TIMED OUT" }
    );
    add_breaches(&rig, &mut m.row);
    out.rows.push(m.row);
    Ok(out)
}
