//! `outbound`, `outbound-discord`, `outbound-whatsapp`: sends through mux to one platform's fake
//! vs. the relay ceiling against the same fake. Every 200 is matched to the messages the fake
//! received (lost: answered 200, never sent; duplicated: sent more than once).

use std::rc::Rc;

use actix_web::web::Bytes;
use anyhow::Result;
use serde_json::json;

use super::load::{self, LoadResult, LoadSpec, Req};
use super::phase::Phase;
use super::platform::Platform;
use super::rig::{Rig, Tenant};
use super::sends;
use super::stats::Row;
use super::{Opts, Outcome, ceiling};

/// Request `n`: tenant `n % tenants`, its first chat, a unique idempotency key; `text` numbers
/// the message.
fn request_maker(
    url: &str,
    platform: Platform,
    tenants: &[Tenant],
    run: u64,
    text: fn(u64) -> String,
) -> impl Fn(u64) -> Req + 'static {
    let url: Rc<str> = Rc::from(url);
    let targets: Vec<(Rc<str>, String)> = tenants
        .iter()
        .map(|t| {
            let chat = t.chats.first().copied().unwrap_or(0);
            (Rc::from(&*t.bearer), platform.session_key(chat))
        })
        .collect();
    let channel = platform.channel();
    move |n| {
        let i = (n % targets.len().max(1) as u64) as usize;
        let (auth, session) = targets
            .get(i)
            .cloned()
            .unwrap_or_else(|| (Rc::from(""), String::new()));
        // Session keys and texts need no JSON escaping.
        let body = format!(
            r#"{{"channel":"{channel}","sessionKey":"{session}","text":"{}"}}"#,
            text(n)
        );
        Req {
            url: url.clone(),
            auth,
            idempotency_key: Some(format!("bench-{run}-{n}")),
            body: Bytes::from(body),
        }
    }
}

fn ceiling_text(n: u64) -> String {
    format!("bench ceiling {n}")
}

pub async fn outbound(o: &Opts, platform: Platform) -> Result<Outcome> {
    let scenario = platform.scenario();
    let mut out = Outcome::default();
    let rig = Rig::new(&o.rig(false, platform))?;
    let spec = LoadSpec {
        connections: o.connections,
        warmup: o.warmup,
        duration: o.duration,
        limit: None,
    };
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());

    let server = rig.start_server().await?;
    let phase = Phase::start(&rig, &server).await;
    let (tenants, took) = rig
        .provision(&server, o.tenants, 1, o.inbound_timeout_ms)
        .await?;
    let mut row = Row {
        scenario: scenario.into(),
        phase: format!("provision {} tenants", tenants.len()),
        rate: (tenants.len() * 3) as f64 / took.as_secs_f64().max(1e-9),
        unit: "admin/s".into(),
        note: format!(
            "create tenant, pairing code ({} route), claim: {} calls in {:.1} s",
            platform.channel(),
            tenants.len() * 3,
            took.as_secs_f64()
        ),
        ..Row::default()
    };
    phase.finish(&rig, &server, &mut row).await;
    out.rows.push(row);

    // Relay ceiling first, while mux-server sits idle.
    let (ceiling_url, ceiling_handle) = ceiling::start(platform, rig.platform_base(), workers)?;
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let send_path = "/v1/mux/outbound/send";
    let ceil = load::run(
        &spec,
        request_maker(
            &format!("{ceiling_url}{send_path}"),
            platform,
            &tenants,
            run,
            ceiling_text,
        ),
    )
    .await;
    ceiling_handle.stop(true).await;
    out.rows.push(Row {
        scenario: scenario.into(),
        phase: "relay ceiling".into(),
        rate: ceil.rate(),
        unit: "sends/s".into(),
        latency: ceil.latency.clone(),
        errors: ceil.errors.clone(),
        note: format!(
            "trivial actix-web + awc relay to the fake {}, {workers} workers, {} connections",
            platform.channel(),
            o.connections
        ),
        ..Row::default()
    });

    let phase = Phase::start(&rig, &server).await;
    let mux = load::run(
        &spec,
        request_maker(
            &format!("{}{send_path}", server.base),
            platform,
            &tenants,
            run + 1,
            sends::text,
        ),
    )
    .await;
    let ratio = mux.rate() / ceil.rate().max(1e-9);
    let mut row = mux_row(&rig, scenario, &tenants, &mux, ratio, o);
    phase.finish(&rig, &server, &mut row).await;
    out.rows.push(row);
    out.facts.insert(
        "ratio_to_ceiling".into(),
        json!((ratio * 1000.0).round() / 1000.0),
    );
    let matched = rig.sends.matched(&mux.ok_ids);
    out.facts.insert(
        "platform_sends_vs_200s".into(),
        json!(format!(
            "{} messages reached the fake {} for {} requests answered 200 (warm-up included); {} sent but not answered 200",
            matched.received,
            platform.channel(),
            mux.ok_total,
            matched.sent_not_ok
        )),
    );
    Ok(out)
}

/// The mux row: rate, latency, errors, lost and duplicated against the fake's count.
fn mux_row(
    rig: &Rig,
    scenario: &str,
    tenants: &[Tenant],
    mux: &LoadResult,
    ratio: f64,
    o: &Opts,
) -> Row {
    let matched = rig.sends.matched(&mux.ok_ids);
    Row {
        scenario: scenario.into(),
        phase: format!("mux ({} tenants)", tenants.len()),
        rate: mux.rate(),
        unit: "sends/s".into(),
        latency: mux.latency.clone(),
        errors: mux.errors.clone(),
        lost: Some(matched.lost),
        duplicated: Some(matched.duplicated),
        note: format!(
            "{ratio:.2} of the relay ceiling; {} connections, unique Idempotency-Key each; \
             server figures include the {:.0} s warm-up",
            o.connections,
            o.warmup.as_secs_f64()
        ),
        ..Row::default()
    }
}
