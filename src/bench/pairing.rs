//! `pairing`: `claims` pairing codes created by the admin (`POST /v1/admin/pairing-codes`), then
//! claimed by the tenants with their own keys (`POST /v1/pairings/claim`), `clients` requests in
//! flight; each step's rate, latency and errors, and whether every claim left a binding.

use std::rc::Rc;
use std::time::Duration;

use actix_web::web::Bytes;
use anyhow::Result;
use serde_json::{Value, json};

use super::load::{self, LoadResult, LoadSpec, Req};
use super::phase::Phase;
use super::platform::Platform;
use super::rig::{ADMIN_TOKEN, Rig, Tenant};
use super::server::ServerProc;
use super::stats::Row;
use super::{Opts, Outcome};

/// Bench chat of claim `n` (private Telegram chats, none shared with other scenarios' numbering).
fn chat_of(n: u64) -> i64 {
    3_000_000_000 + n as i64
}

fn code_of(run: u64, n: u64) -> String {
    format!("bench-pair-{run}-{n}")
}

pub async fn pairing(o: &Opts) -> Result<Outcome> {
    let mut out = Outcome::default();
    let platform = Platform::Telegram;
    let rig = Rig::new(&o.rig(false, platform))?;
    let server = rig.start_server().await?;
    let (tenants, took) = rig
        .provision(&server, o.tenants, 0, o.inbound_timeout_ms)
        .await?;
    out.facts.insert(
        "provisioned".into(),
        json!(format!(
            "{} tenants without bindings in {:.1} s",
            tenants.len(),
            took.as_secs_f64()
        )),
    );
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());

    let admin: Rc<str> = Rc::from(format!("Bearer {ADMIN_TOKEN}"));
    let create = move |n| {
        let (route, scope) = platform.route(chat_of(n));
        let body = json!({"code": code_of(run, n), "channel": platform.channel(), "routeKey": route, "scope": scope});
        (admin.clone(), body)
    };
    let (row, _) = step(
        &rig,
        &server,
        o,
        "/v1/admin/pairing-codes",
        "admin creates codes",
        create,
    )
    .await;
    out.rows.push(row);

    let bearers: Vec<Rc<str>> = tenants.iter().map(|t| Rc::from(&*t.bearer)).collect();
    let claim = move |n| {
        let auth = bearers
            .get((n % bearers.len().max(1) as u64) as usize)
            .cloned()
            .unwrap_or_else(|| Rc::from(""));
        let body = json!({"code": code_of(run, n), "sessionKey": platform.session_key(chat_of(n))});
        (auth, body)
    };
    let (row, claimed) = step(
        &rig,
        &server,
        o,
        "/v1/pairings/claim",
        "tenants claim codes",
        claim,
    )
    .await;
    out.rows.push(row);

    let bound = count_bindings(&rig, &server.base, &tenants).await?;
    out.facts.insert(
        "bindings_after_claims".into(),
        json!(format!(
            "{bound} bindings listed by the tenants for {} claims answered 200",
            claimed.ok_total
        )),
    );
    Ok(out)
}

/// `o.claims` requests to `path`, `o.clients` in flight; `make(n)` = bearer and body of request
/// `n`. Its row, with the server's figures over the step.
async fn step(
    rig: &Rig,
    server: &ServerProc,
    o: &Opts,
    path: &str,
    label: &str,
    make: impl Fn(u64) -> (Rc<str>, Value) + 'static,
) -> (Row, LoadResult) {
    let spec = LoadSpec {
        connections: o.clients,
        warmup: Duration::ZERO,
        // Only a bound: the step ends after `claims` requests.
        duration: Duration::from_secs(600),
        limit: Some(o.claims as u64),
    };
    let url: Rc<str> = Rc::from(format!("{}{path}", server.base));
    let phase = Phase::start(rig, server).await;
    let r = load::run(&spec, move |n| {
        let (auth, body) = make(n);
        Req {
            url: url.clone(),
            auth,
            idempotency_key: None,
            body: Bytes::from(body.to_string()),
        }
    })
    .await;
    let mut row = step_row(&r, label, o);
    phase.finish(rig, server, &mut row).await;
    (row, r)
}

fn step_row(r: &LoadResult, phase: &str, o: &Opts) -> Row {
    Row {
        scenario: "pairing".into(),
        phase: format!("{phase} ({})", o.claims),
        rate: r.rate(),
        unit: "req/s".into(),
        latency: r.latency.clone(),
        errors: r.errors.clone(),
        note: format!(
            "{} clients, {} tenants; {} of {} answered 2xx in {:.2} s",
            o.clients,
            o.tenants,
            r.ok_total,
            o.claims,
            r.elapsed.as_secs_f64()
        ),
        ..Row::default()
    }
}

/// Bindings the tenants list (`GET /v1/pairings`), all tenants together.
async fn count_bindings(rig: &Rig, base: &str, tenants: &[Tenant]) -> Result<usize> {
    let mut n = 0;
    for t in tenants {
        let mut resp = rig
            .client
            .get(format!("{base}/v1/pairings"))
            .insert_header(("Authorization", &*t.bearer))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("GET /v1/pairings: {e}"))?;
        let v: serde_json::Value = resp
            .json()
            .limit(16 << 20)
            .await
            .map_err(|e| anyhow::anyhow!("GET /v1/pairings: {e}"))?;
        n += v["items"].as_array().map_or(0, Vec::len);
    }
    Ok(n)
}
