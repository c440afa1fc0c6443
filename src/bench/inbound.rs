//! `inbound` (burst throughput and steady-rate latency) and `isolation` (10 % of endpoints 503,
//! 5 % hanging); the helpers `restart` shares.
//! Latency is end to end: update made available by the fake Telegram → first 2xx delivery
//! received by the fake OpenClaw (same process, same clock).

use std::ops::Range;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;

use super::ledger::Slot;
use super::phase::{Phase, server_figures};
use super::platform::Platform;
use super::rig::{Rig, Tenant};
use super::server::ServerProc;
use super::stats::{Row, summarize};
use super::{Opts, Outcome};
use mux_server::testkit::openclaw::Mode;

/// Tenants whose endpoint fails in `isolation`: index % 20 ∈ {0, 1} → 503 (10 %), 2 → hangs (5 %).
fn failing_mode(i: usize) -> Mode {
    match i % 20 {
        0 | 1 => Mode::Status(503),
        2 => Mode::Hang,
        _ => Mode::Accept,
    }
}

/// Pushes `count` updates round-robin over the tenants' first chats, starting at event `k`.
pub(super) fn batch(tenants: &[Tenant], k: usize, count: usize) -> Vec<(u32, i64)> {
    (k..k + count)
        .filter_map(|e| {
            let t = tenants.get(e % tenants.len().max(1))?;
            Some((t.index as u32, t.chats.first().copied()?))
        })
        .collect()
}

/// Pushes `rate` events per second for `dur`; returns the ledger range pushed.
async fn steady(rig: &Rig, tenants: &[Tenant], rate: usize, dur: Duration) -> Range<usize> {
    let start = rig.ledger.len();
    let total = (rate as f64 * dur.as_secs_f64()) as usize;
    let t0 = Instant::now();
    let mut pushed = 0;
    while pushed < total {
        let due = ((t0.elapsed().as_secs_f64() * rate as f64) as usize).min(total);
        if due > pushed {
            rig.push_updates(&batch(tenants, start + pushed, due - pushed));
            pushed = due;
        }
        actix_web::rt::time::sleep(Duration::from_millis(1)).await;
    }
    start..start + total
}

/// Waits (bounded) until every event of `range` accepted by `want` is delivered.
pub(super) async fn wait_delivered(
    rig: &Rig,
    range: Range<usize>,
    want: impl Fn(&Slot) -> bool,
    timeout: Duration,
) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if rig.ledger.all_delivered(range.clone(), &want) {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
}

pub(super) struct Measured {
    pub(super) row: Row,
    pub(super) last_ok: Option<Instant>,
}

/// A row for the slots of `range` selected by `want`: rate over [from, last delivery],
/// end-to-end latency, lost (never delivered) and duplicated (delivered more than once).
pub(super) fn measure(
    rig: &Rig,
    range: Range<usize>,
    want: impl Fn(&Slot) -> bool,
    from: Instant,
    phase: String,
) -> Measured {
    let slots: Vec<Slot> = rig
        .ledger
        .snapshot(range)
        .into_iter()
        .filter(|s| want(s))
        .collect();
    let lat: Vec<u64> = slots
        .iter()
        .filter_map(|s| {
            s.first_ok
                .map(|t| t.saturating_duration_since(s.pushed).as_micros() as u64)
        })
        .collect();
    let last_ok = slots.iter().filter_map(|s| s.first_ok).max();
    let delivered = lat.len();
    let span = last_ok.map_or(Duration::ZERO, |l| l.saturating_duration_since(from));
    let mut row = Row {
        scenario: String::new(),
        phase,
        rate: delivered as f64 / span.as_secs_f64().max(1e-9),
        unit: "events/s".into(),
        latency: summarize(lat),
        lost: Some((slots.len() - delivered) as u64),
        duplicated: Some(slots.iter().filter(|s| s.ok > 1).count() as u64),
        ..Row::default()
    };
    let lost_ids: Vec<String> = slots
        .iter()
        .filter(|s| s.ok == 0)
        .take(10)
        .map(|s| format!("tg:{}@{}", s.update_id, s.tenant))
        .collect();
    row.lost_sample = lost_ids;
    let refused: u64 = slots.iter().map(|s| u64::from(s.refused)).sum();
    if refused > 0 {
        row.errors
            .insert("endpoint_refused_or_hung".into(), refused);
    }
    Measured { row, last_ok }
}

pub(super) fn add_breaches(rig: &Rig, row: &mut Row) {
    use std::sync::atomic::Ordering::Relaxed;
    for (k, v) in [
        (
            "webhook_id_mismatch",
            rig.ledger.webhook_id_mismatch.load(Relaxed),
        ),
        ("wrong_tenant", rig.ledger.wrong_tenant.load(Relaxed)),
        ("unknown_event", rig.ledger.unknown_event.load(Relaxed)),
    ] {
        if v > 0 {
            row.errors.insert(k.into(), v);
        }
    }
}

pub(super) async fn setup(o: &Opts, out: &mut Outcome) -> Result<(Rig, ServerProc, Vec<Tenant>)> {
    let rig = Rig::new(&o.rig(true, Platform::Telegram))?;
    let server = rig.start_server().await?;
    let (tenants, took) = rig
        .provision(&server, o.tenants, 1, o.inbound_timeout_ms)
        .await?;
    out.facts.insert(
        "provisioned".into(),
        json!(format!(
            "{} tenants, 1 binding each, in {:.1} s",
            tenants.len(),
            took.as_secs_f64()
        )),
    );
    // Warm-up, not measured: one event per tenant, so every forwarder has its connection open.
    let start = rig.ledger.len();
    rig.push_updates(&batch(&tenants, start, tenants.len()));
    let warm = wait_delivered(
        &rig,
        start..start + tenants.len(),
        |_| true,
        o.drain_timeout,
    )
    .await;
    out.facts.insert(
        "warm_up".into(),
        json!(format!(
            "1 event per tenant delivered first{}",
            if warm { "" } else { " (TIMED OUT)" }
        )),
    );
    Ok((rig, server, tenants))
}

pub async fn inbound(o: &Opts) -> Result<Outcome> {
    let mut out = Outcome::default();
    let (rig, server, tenants) = setup(o, &mut out).await?;

    // Burst: all events available at once, handed out as fast as they are fetched.
    server.reset_peak();
    let cpu0 = (server.cpu_time(), rig.writer_counters(&server).await);
    let t0 = Instant::now();
    let start = rig.ledger.len();
    rig.push_updates(&batch(&tenants, start, o.events));
    let range = start..start + o.events;
    // Server figures are taken when deliveries stop progressing, so a few stuck events do
    // not dilute them; the wait for the rest goes on afterwards.
    let stalled = Duration::from_millis(500);
    let deadline = Instant::now() + o.drain_timeout;
    let mut seen = (0, Instant::now());
    while Instant::now() < deadline {
        let n = rig.ledger.delivered(range.clone());
        if n >= o.events || seen.1.elapsed() > stalled {
            break;
        }
        if n > seen.0 {
            seen = (n, Instant::now());
        }
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    let mut figures = Row::default();
    server_figures(&rig, &server, &mut figures, cpu0, t0).await;
    let left = deadline.saturating_duration_since(Instant::now());
    let done = wait_delivered(&rig, range.clone(), |_| true, left).await;
    let mut m = measure(
        &rig,
        range,
        |_| true,
        t0,
        format!("burst {} events", o.events),
    );
    m.row.scenario = "inbound".into();
    m.row.peak_rss_mib = figures.peak_rss_mib;
    m.row.rss_mib = figures.rss_mib;
    m.row.server_cores = figures.server_cores;
    m.row.writer = figures.writer;
    m.row.note = format!(
        "{} tenants; rate = events / (available → last delivered); server figures until progress stopped{}",
        tenants.len(),
        if done { "" } else { "; DRAIN TIMED OUT" }
    );
    add_breaches(&rig, &mut m.row);
    out.rows.push(m.row);

    // Steady rate: end-to-end latency at `rate` events/s.
    let mut m = steady_phase(o, &rig, &server, &tenants, "inbound", "steady").await;
    add_breaches(&rig, &mut m.row);
    out.rows.push(m.row);

    // Whole run: anything still undelivered at the end is lost for good (as far as the run saw).
    let all = 0..rig.ledger.len();
    wait_delivered(&rig, all.clone(), |_| true, Duration::from_secs(5)).await;
    let whole = measure(&rig, all, |_| true, t0, "whole run (accounting)".into());
    let mut row = Row {
        scenario: "inbound".into(),
        phase: whole.row.phase,
        unit: "-".into(),
        ..Row::default()
    };
    row.lost = whole.row.lost;
    row.duplicated = whole.row.duplicated;
    row.errors = whole.row.errors;
    row.lost_sample = whole.row.lost_sample;
    row.note = format!(
        "{} events incl. warm-up; an event late in one phase may arrive in a later one",
        rig.ledger.len()
    );
    out.rows.push(row);
    Ok(out)
}

async fn steady_phase(
    o: &Opts,
    rig: &Rig,
    server: &ServerProc,
    tenants: &[Tenant],
    scenario: &str,
    label: &str,
) -> Measured {
    server.reset_peak();
    let cpu0 = (server.cpu_time(), rig.writer_counters(server).await);
    let t0 = Instant::now();
    let range = steady(rig, tenants, o.rate, o.duration).await;
    let done = wait_delivered(rig, range.clone(), |_| true, o.drain_timeout).await;
    let mut m = measure(rig, range, |_| true, t0, format!("{label} {}/s", o.rate));
    m.row.scenario = scenario.into();
    server_figures(rig, server, &mut m.row, cpu0, t0).await;
    m.row.note = format!(
        "{} tenants, {:.0} s{}",
        tenants.len(),
        o.duration.as_secs_f64(),
        if done { "" } else { "; DRAIN TIMED OUT" }
    );
    m
}

pub async fn isolation(o: &Opts) -> Result<Outcome> {
    let mut out = Outcome::default();
    let (rig, server, tenants) = setup(o, &mut out).await?;

    let healthy = steady_phase(o, &rig, &server, &tenants, "isolation", "all healthy").await;
    let base_p99 = healthy.row.latency.p99_ms;
    out.rows.push(healthy.row);

    for t in &tenants {
        rig.openclaw
            .set_mode(&t.index.to_string(), failing_mode(t.index));
    }
    server.reset_peak();
    let cpu0 = (server.cpu_time(), rig.writer_counters(&server).await);
    let t0 = Instant::now();
    let range = steady(&rig, &tenants, o.rate, o.duration).await;
    let is_healthy = |s: &Slot| failing_mode(s.tenant as usize) == Mode::Accept;
    let done = wait_delivered(&rig, range.clone(), is_healthy, o.drain_timeout).await;
    let mut m = measure(
        &rig,
        range.clone(),
        is_healthy,
        t0,
        format!("15% failing: healthy {}/s", o.rate),
    );
    m.row.scenario = "isolation".into();
    server_figures(&rig, &server, &mut m.row, cpu0, t0).await;
    let ratio = m.row.latency.p99_ms / base_p99.max(1e-9);
    m.row.note = format!(
        "healthy tenants only; p99 {ratio:.2}x the all-healthy run; failing endpoints time out after {} ms{}",
        o.inbound_timeout_ms,
        if done { "" } else { "; DRAIN TIMED OUT" }
    );
    out.facts.insert(
        "healthy_p99_ratio".into(),
        json!((ratio * 100.0).round() / 100.0),
    );
    out.rows.push(m.row);

    // Recovery: endpoints accept again; every failing tenant's events must arrive, once.
    let failing: Vec<&Tenant> = tenants
        .iter()
        .filter(|t| failing_mode(t.index) != Mode::Accept)
        .collect();
    let phase = Phase::start(&rig, &server).await;
    let t_rec = phase.t0;
    rig.openclaw.recover();
    if o.wake_on_recovery {
        wake(&rig, &server, &failing).await?;
    }
    let all = 0..rig.ledger.len();
    let done = wait_delivered(&rig, all.clone(), |_| true, o.drain_timeout).await;
    let is_failing = |s: &Slot| failing_mode(s.tenant as usize) != Mode::Accept;
    let mut m = measure(
        &rig,
        range,
        is_failing,
        t_rec,
        format!("recovery of {} tenants", failing.len()),
    );
    m.row.scenario = "isolation".into();
    phase.finish(&rig, &server, &mut m.row).await;
    let whole = measure(&rig, all, |_| true, t_rec, String::new());
    m.row.lost = whole.row.lost;
    m.row.duplicated = whole.row.duplicated;
    let drained = m
        .last_ok
        .map_or(0.0, |l| l.saturating_duration_since(t_rec).as_secs_f64());
    m.row.note = format!(
        "failing tenants' events (latency includes the outage); all drained {drained:.1} s after recovery{}; lost/dup over the whole run{}",
        if o.wake_on_recovery {
            " (targets re-posted to wake retries)"
        } else {
            ""
        },
        if done { "" } else { "; DRAIN TIMED OUT" }
    );
    add_breaches(&rig, &mut m.row);
    out.rows.push(m.row);
    Ok(out)
}

/// Re-posts each tenant's inbound target (same URL): the service retries waiting deliveries at
/// once (contract §4.2), as a control plane does when it sees its OpenClaw back.
pub(super) async fn wake(rig: &Rig, server: &ServerProc, tenants: &[&Tenant]) -> Result<()> {
    use futures_util::{StreamExt, TryStreamExt, stream};
    let url = format!("{}/v1/tenant/inbound-target", server.base);
    stream::iter(tenants.iter())
        .map(|t| {
            let body = json!({"inboundUrl": rig.openclaw.url(&t.index.to_string()), "inboundToken": format!("inbound-token-{}", t.index)});
            let url = url.clone();
            async move { rig.post(&url, &t.bearer, &body, 200).await }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}
