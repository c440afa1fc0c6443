//! Closed-loop HTTP load generator on awc. `connections` tasks run on the bench's actix system
//! thread; each owns an awc client whose connector is limited to one connection, so there are
//! exactly `connections` keep-alive connections and each has one request in flight at a time.
//! A warm-up is run and discarded, then every request answered within the measured window is
//! counted and timed (so the rate holds even when latency is a large part of the window); or,
//! with a request limit, exactly that many requests are made and all of them timed.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;

use super::stats::{Latency, summarize};

/// One request: full URL, bearer value, idempotency key (if any), JSON body.
pub struct Req {
    pub url: Rc<str>,
    pub auth: Rc<str>,
    pub idempotency_key: Option<String>,
    pub body: Bytes,
}

pub struct LoadSpec {
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// Stop after this many requests (numbered 0..limit); the run is then timed start → last
    /// answer, and `duration` only bounds it.
    pub limit: Option<u64>,
}

pub struct LoadResult {
    pub ok: u64,
    /// Successful requests including warm-up and stragglers.
    pub ok_total: u64,
    pub elapsed: Duration,
    pub latency: Latency,
    pub errors: BTreeMap<String, u64>,
    /// Numbers of the requests answered 2xx (warm-up and stragglers included).
    pub ok_ids: Vec<u64>,
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
    let limit = spec.limit.unwrap_or(u64::MAX);
    let last_done = Rc::new(Cell::new(start));
    let mut tasks = Vec::with_capacity(spec.connections);
    for _ in 0..spec.connections {
        let make = make.clone();
        let counter = counter.clone();
        let last_done = last_done.clone();
        tasks.push(actix_web::rt::spawn(async move {
            let client = awc::Client::builder()
                .connector(awc::Connector::new().limit(1))
                .timeout(Duration::from_secs(30))
                .finish();
            let mut lat = Vec::with_capacity(1 << 16);
            let mut ok = 0u64;
            let mut ok_ids = Vec::new();
            let mut errors: BTreeMap<String, u64> = BTreeMap::new();
            loop {
                let now = Instant::now();
                if now >= end {
                    break;
                }
                let n = counter.get();
                if n >= limit {
                    break;
                }
                counter.set(n + 1);
                let req = make(n);
                let t = Instant::now();
                let mut post = client
                    .post(&*req.url)
                    .insert_header(("Authorization", &*req.auth))
                    .insert_header(("Content-Type", "application/json"));
                if let Some(key) = &req.idempotency_key {
                    post = post.insert_header(("Idempotency-Key", key.as_str()));
                }
                let sent = post.send_body(req.body).await;
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
                last_done.set(last_done.get().max(done));
                if outcome.is_ok() {
                    ok_ids.push(n);
                }
                if done < measure_from || done > end {
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
            (ok, ok_ids, lat, errors)
        }));
    }
    let mut ok = 0;
    let mut ok_ids = Vec::new();
    let mut lat = Vec::new();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for t in tasks {
        match t.await {
            Ok((o, all, l, e)) => {
                ok += o;
                ok_ids.extend(all);
                lat.extend(l);
                for (k, v) in e {
                    *errors.entry(k).or_default() += v;
                }
            }
            Err(_) => *errors.entry("task_panicked".to_owned()).or_default() += 1,
        }
    }
    let elapsed = match spec.limit {
        Some(_) => last_done.get().saturating_duration_since(measure_from),
        None => spec.duration,
    };
    LoadResult {
        ok,
        ok_total: ok_ids.len() as u64,
        elapsed,
        latency: summarize(lat),
        errors,
        ok_ids,
    }
}
