//! A quick local throughput run of outbound sends against the fake Telegram (issue 3's closing
//! figures). Not a test of behaviour and never run by CI: it prints sends/s and latency
//! percentiles. Run it on a release build:
//!
//! `cargo test --release --test api outbound::bench -- --ignored --nocapture`
//!
//! Tenants each bind one chat; every request carries its own `Idempotency-Key` (so each send pays
//! the reservation and the stored answer); Telegram pacing is off, as in the `outbound` scenario
//! of targets.md. Service, fake and load generator share the machine.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::SEND;
use crate::helpers::TestApp;

const TENANTS: usize = 500;
const CONNECTIONS: usize = 64;
const SENDS: usize = 20_000;

#[actix_web::test]
#[ignore = "benchmark: run by hand with --release --ignored --nocapture"]
async fn outbound_sends_per_second_against_the_fake_telegram() {
    let tenants: Vec<Value> = (0..TENANTS)
        .map(|i| json!({"id": format!("t{i}"), "apiKey": format!("key-{i}")}))
        .collect();
    let codes: Vec<Value> = (0..TENANTS)
        .map(|i| json!({"code": format!("C{i}"), "channel": "telegram", "routeKey": format!("telegram:default:chat:{}", 1000 + i), "scope": "chat"}))
        .collect();
    let app = TestApp::builder()
        .var("MUX_TENANTS_JSON", Value::Array(tenants).to_string())
        .var("MUX_PAIRING_CODES_JSON", Value::Array(codes).to_string())
        .telegram()
        .var("MUX_TELEGRAM_PACING_ENABLED", "false")
        .spawn()
        .await;
    let tg = app.tg().clone();
    for i in 0..TENANTS {
        let key = format!("key-{i}");
        let r = app.claim(&key, &format!("C{i}"), "s").await;
        assert!(r.status.is_success(), "{}", r.body);
    }
    let client = awc::Client::builder()
        .connector(awc::Connector::new().limit(CONNECTIONS))
        .timeout(Duration::from_secs(30))
        .finish();
    let url = app.url(SEND);
    // BENCH_NO_KEYS=1 leaves the Idempotency-Key out: the difference is the cost of the two
    // durable writes (reservation, stored answer) per send.
    let with_keys = std::env::var_os("BENCH_NO_KEYS").is_none();
    let started = Instant::now();
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|w| {
            let (client, url) = (client.clone(), url.clone());
            actix_web::rt::spawn(async move {
                let mut latencies = Vec::with_capacity(SENDS / CONNECTIONS + 1);
                let mut errors = 0usize;
                for n in (w..SENDS).step_by(CONNECTIONS) {
                    let tenant = n % TENANTS;
                    let t0 = Instant::now();
                    let mut req = client
                        .post(&url)
                        .insert_header(("Authorization", format!("Bearer key-{tenant}")));
                    if with_keys {
                        req = req.insert_header(("Idempotency-Key", format!("bench-{n}")));
                    }
                    let resp = req
                        .send_json(
                            &json!({"channel": "telegram", "sessionKey": "s", "text": "bench"}),
                        )
                        .await;
                    match resp {
                        Ok(mut r) if r.status().is_success() => {
                            let _ = r.body().await;
                        }
                        _ => errors += 1,
                    }
                    latencies.push(t0.elapsed());
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(SENDS);
    let mut errors = 0;
    for worker in workers {
        let (l, e) = worker.await.expect("worker");
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "outbound bench (keys: {with_keys}): {SENDS} sends, {TENANTS} tenants, {CONNECTIONS} connections: {:.0} sends/s, \
         p50 {:?}, p90 {:?}, p99 {:?}, max {:?}, errors {errors}, platform calls {}",
        SENDS as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        latencies[latencies.len() - 1],
        tg.recorder.received().len(),
    );
    app.stop().await;
}
