//! Closed-loop HTTP load generator on awc. `connections` tasks run on the bench's actix system
//! thread; each owns an awc client whose connector is limited to one connection, so there are
//! exactly `connections` keep-alive connections and each has one request in flight at a time.
//! A warm-up is run and discarded, then every request of the measured window is timed.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;

use super::stats::{Latency, summarize};

/// One request: full URL, bearer value, idempotency key, JSON body.
pub struct Req {
    pub url: Rc<str>,
    pub auth: Rc<str>,
    pub idempotency_key: String,
    pub body: Bytes,
}

pub struct LoadSpec {
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

pub struct LoadResult {
    pub ok: u64,
    /// Successful requests including warm-up and stragglers.
    pub ok_total: u64,
    pub elapsed: Duration,
    pub latency: Latency,
    pub errors: BTreeMap<String, u64>,
}

impl LoadResult {
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

pub async fn run<F>(spec: &LoadSpec, make: F) -> LoadResult
where
    F: Fn(u64) -> Req + 'static,
{
    let make = Rc::new(make);
    let counter = Rc::new(Cell::new(0u64));
    let start = Instant::now();
    let measure_from = start + spec.warmup;
    let end = measure_from + spec.duration;
    let mut tasks = Vec::with_capacity(spec.connections);
    for _ in 0..spec.connections {
        let make = make.clone();
        let counter = counter.clone();
        tasks.push(actix_web::rt::spawn(async move {
            let client = awc::Client::builder()
                .connector(awc::Connector::new().limit(1))
                .timeout(Duration::from_secs(30))
                .finish();
            let mut lat = Vec::with_capacity(1 << 16);
            let mut ok = 0u64;
            let mut ok_all = 0u64;
            let mut errors: BTreeMap<String, u64> = BTreeMap::new();
            loop {
                let now = Instant::now();
                if now >= end {
                    break;
                }
                let n = counter.get();
                counter.set(n + 1);
                let req = make(n);
                let t = Instant::now();
                let sent = client
                    .post(&*req.url)
                    .insert_header(("Authorization", &*req.auth))
                    .insert_header(("Idempotency-Key", req.idempotency_key.as_str()))
                    .insert_header(("Content-Type", "application/json"))
                    .send_body(req.body)
                    .await;
                let outcome = match sent {
                    Ok(mut resp) => {
                        let status = resp.status();
                        match resp.body().limit(1 << 20).await {
                            Ok(_) if status.is_success() => Ok(()),
                            Ok(_) => Err(format!("http_{}", status.as_u16())),
                            Err(_) => Err("body_error".to_owned()),
                        }
                    }
                    Err(awc::error::SendRequestError::Timeout) => Err("timeout".to_owned()),
                    Err(awc::error::SendRequestError::Connect(_)) => Err("connect".to_owned()),
                    Err(_) => Err("send_error".to_owned()),
                };
                let done = Instant::now();
                if outcome.is_ok() {
                    ok_all += 1;
                }
                if t < measure_from || done > end {
                    continue;
                }
                match outcome {
                    Ok(()) => {
                        ok += 1;
                        lat.push((done - t).as_micros() as u64);
                    }
                    Err(kind) => *errors.entry(kind).or_default() += 1,
                }
            }
            (ok, ok_all, lat, errors)
        }));
    }
    let mut ok = 0;
    let mut ok_total = 0;
    let mut lat = Vec::new();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for t in tasks {
        match t.await {
            Ok((o, all, l, e)) => {
                ok += o;
                ok_total += all;
                lat.extend(l);
                for (k, v) in e {
                    *errors.entry(k).or_default() += v;
                }
            }
            Err(_) => *errors.entry("task_panicked".to_owned()).or_default() += 1,
        }
    }
    LoadResult {
        ok,
        ok_total,
        elapsed: spec.duration,
        latency: summarize(lat),
        errors,
    }
}
