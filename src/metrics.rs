//! Service metrics: a small lock-free registry rendered as Prometheus text at `GET /metrics`.
//!
//! Labels are low-cardinality on purpose (channel, a fixed set of statuses and outcomes): with
//! 1000–2000 tenants a tenant label would multiply every series; per-tenant detail lives in the
//! admin tenant listing instead. Every update is one relaxed atomic add, so hot paths (auth,
//! writer commits, forwards) can count without locks.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::domain::Channel;

/// Outbound statuses counted by their own label; anything else is counted as `other`.
const OUTBOUND_STATUSES: [u16; 11] = [200, 400, 403, 404, 409, 413, 429, 500, 502, 503, 504];

/// Forward latency buckets in milliseconds (rendered in seconds). The targets put the inbound p99
/// at 50 ms, so the fine buckets sit below that and the coarse ones catch slow tenants.
const FORWARD_MS: [u64; 12] = [
    5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000,
];
/// Writer batch sizes: powers of two up to the Writer's `MAX_BATCH` (1024).
const BATCH_SIZES: [u64; 11] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
/// Commit latency buckets in microseconds (rendered in seconds); one fsync is ~0.1–10 ms.
const COMMIT_US: [u64; 11] = [
    250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000,
];

/// Who refused a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScope {
    Tenant,
    Admin,
}

impl AuthScope {
    const ALL: [AuthScope; 2] = [AuthScope::Tenant, AuthScope::Admin];

    fn as_str(self) -> &'static str {
        match self {
            AuthScope::Tenant => "tenant",
            AuthScope::Admin => "admin",
        }
    }
}

/// What a pairing attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairingOutcome {
    /// `POST /v1/pairings/token` issued a token.
    TokenIssued,
    /// A token sent in a chat bound it.
    TokenRedeemed,
    /// A token sent in a chat was unknown, expired, used or of another channel.
    TokenInvalid,
    /// A token sent in a chat that is already bound.
    AlreadyBound,
    /// `POST /v1/pairings/claim` bound a route.
    CodeClaimed,
    /// A code claim was refused (unknown, expired, claimed, route taken).
    CodeRejected,
}

impl PairingOutcome {
    const ALL: [PairingOutcome; 6] = [
        PairingOutcome::TokenIssued,
        PairingOutcome::TokenRedeemed,
        PairingOutcome::TokenInvalid,
        PairingOutcome::AlreadyBound,
        PairingOutcome::CodeClaimed,
        PairingOutcome::CodeRejected,
    ];

    fn as_str(self) -> &'static str {
        match self {
            PairingOutcome::TokenIssued => "token_issued",
            PairingOutcome::TokenRedeemed => "token_redeemed",
            PairingOutcome::TokenInvalid => "token_invalid",
            PairingOutcome::AlreadyBound => "already_bound",
            PairingOutcome::CodeClaimed => "code_claimed",
            PairingOutcome::CodeRejected => "code_rejected",
        }
    }
}

fn slot(channel: Channel) -> usize {
    match channel {
        Channel::Telegram => 0,
        Channel::Discord => 1,
        Channel::Whatsapp => 2,
    }
}

fn counters<const N: usize>() -> [AtomicU64; N] {
    std::array::from_fn(|_| AtomicU64::new(0))
}

/// A histogram with fixed upper bounds; values are in `unit`s, rendered divided by `scale`.
struct Histogram<const N: usize> {
    bounds: [u64; N],
    /// Per-bucket counts (not cumulative); the last slot is `+Inf`.
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    sum: AtomicU64,
    scale: f64,
}

impl<const N: usize> Histogram<N> {
    fn new(bounds: [u64; N], scale: f64) -> Self {
        Histogram {
            bounds,
            buckets: (0..=N).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0),
            scale,
        }
    }

    fn observe(&self, value: u64) {
        let i = self.bounds.iter().position(|b| value <= *b).unwrap_or(N);
        self.buckets[i].fetch_add(1, Relaxed);
        self.count.fetch_add(1, Relaxed);
        self.sum.fetch_add(value, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        header(out, name, help, "histogram");
        let mut cumulative = 0;
        for (i, bound) in self.bounds.iter().enumerate() {
            cumulative += self.buckets[i].load(Relaxed);
            let le = *bound as f64 / self.scale;
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        cumulative += self.buckets[N].load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
        let sum = self.sum.load(Relaxed) as f64 / self.scale;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {cumulative}");
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn per_channel(out: &mut String, name: &str, help: &str, values: &[AtomicU64; 3]) {
    header(out, name, help, "counter");
    for channel in Channel::ALL {
        let v = values[slot(channel)].load(Relaxed);
        let _ = writeln!(out, "{name}{{channel=\"{channel}\"}} {v}");
    }
}

/// The registry. One per process, shared as `Arc<Metrics>` by the API, the Writer thread and
/// (later) the ingress and forwarder actors.
pub struct Metrics {
    inbound_received: [AtomicU64; 3],
    inbound_enqueued: [AtomicU64; 3],
    inbound_forwarded: [AtomicU64; 3],
    inbound_retried: [AtomicU64; 3],
    inbound_dead: [AtomicU64; 3],
    forward_latency: Histogram<12>,
    queue_depth: AtomicU64,
    oldest_pending_age_sec: AtomicU64,
    /// Per channel: one slot per `OUTBOUND_STATUSES` entry, then `other`.
    outbound: [[AtomicU64; 12]; 3],
    platform_429: [AtomicU64; 3],
    auth_failed: [AtomicU64; 2],
    pairing: [AtomicU64; 6],
    writer_batch_size: Histogram<11>,
    writer_commit: Histogram<11>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics {
            inbound_received: counters(),
            inbound_enqueued: counters(),
            inbound_forwarded: counters(),
            inbound_retried: counters(),
            inbound_dead: counters(),
            forward_latency: Histogram::new(FORWARD_MS, 1_000.0),
            queue_depth: AtomicU64::new(0),
            oldest_pending_age_sec: AtomicU64::new(0),
            outbound: std::array::from_fn(|_| counters()),
            platform_429: counters(),
            auth_failed: counters(),
            pairing: counters(),
            writer_batch_size: Histogram::new(BATCH_SIZES, 1.0),
            writer_commit: Histogram::new(COMMIT_US, 1_000_000.0),
        }
    }

    /// A tenant credential was refused (401 on a tenant path).
    pub fn auth_failed(&self) {
        self.auth_failed_in(AuthScope::Tenant);
    }

    /// A credential was refused in `scope`.
    pub fn auth_failed_in(&self, scope: AuthScope) {
        let i = AuthScope::ALL.iter().position(|s| *s == scope).unwrap_or(0);
        self.auth_failed[i].fetch_add(1, Relaxed);
    }

    pub fn pairing(&self, outcome: PairingOutcome) {
        let i = PairingOutcome::ALL
            .iter()
            .position(|o| *o == outcome)
            .unwrap_or(0);
        self.pairing[i].fetch_add(1, Relaxed);
    }

    /// One outbound send answered with `status` (the status the caller got).
    pub fn outbound_sent(&self, channel: Channel, status: u16) {
        let i = OUTBOUND_STATUSES
            .iter()
            .position(|s| *s == status)
            .unwrap_or(OUTBOUND_STATUSES.len());
        self.outbound[slot(channel)][i].fetch_add(1, Relaxed);
    }

    /// The platform answered 429 (whether or not the caller saw it).
    pub fn platform_429(&self, channel: Channel) {
        self.platform_429[slot(channel)].fetch_add(1, Relaxed);
    }

    pub fn inbound_received(&self, channel: Channel) {
        self.inbound_received[slot(channel)].fetch_add(1, Relaxed);
    }

    pub fn inbound_enqueued(&self, channel: Channel) {
        self.inbound_enqueued[slot(channel)].fetch_add(1, Relaxed);
    }

    pub fn inbound_forwarded(&self, channel: Channel) {
        self.inbound_forwarded[slot(channel)].fetch_add(1, Relaxed);
    }

    pub fn inbound_retried(&self, channel: Channel) {
        self.inbound_retried[slot(channel)].fetch_add(1, Relaxed);
    }

    pub fn inbound_dead(&self, channel: Channel) {
        self.inbound_dead[slot(channel)].fetch_add(1, Relaxed);
    }

    /// Time from an event being enqueued to its tenant's 2xx.
    pub fn forward_latency(&self, ms: u64) {
        self.forward_latency.observe(ms);
    }

    /// One group commit of `size` ops that took `commit` (BEGIN to COMMIT).
    pub fn writer_batch(&self, size: usize, commit: Duration) {
        self.writer_batch_size.observe(size as u64);
        self.writer_commit
            .observe(u64::try_from(commit.as_micros()).unwrap_or(u64::MAX));
    }

    /// Pending inbound events and the age of the oldest one (refreshed on every scrape).
    pub fn set_queue(&self, depth: u64, oldest_pending_age_sec: u64) {
        self.queue_depth.store(depth, Relaxed);
        self.oldest_pending_age_sec
            .store(oldest_pending_age_sec, Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        per_channel(
            &mut out,
            "mux_inbound_events_received_total",
            "Inbound platform messages seen.",
            &self.inbound_received,
        );
        per_channel(
            &mut out,
            "mux_inbound_events_enqueued_total",
            "Inbound events committed to a tenant queue.",
            &self.inbound_enqueued,
        );
        per_channel(
            &mut out,
            "mux_inbound_events_forwarded_total",
            "Inbound events a tenant accepted (2xx).",
            &self.inbound_forwarded,
        );
        per_channel(
            &mut out,
            "mux_inbound_events_retried_total",
            "Inbound delivery attempts that will be retried.",
            &self.inbound_retried,
        );
        per_channel(
            &mut out,
            "mux_inbound_events_dead_total",
            "Inbound events given up.",
            &self.inbound_dead,
        );
        self.forward_latency.render(
            &mut out,
            "mux_forward_latency_seconds",
            "Enqueue to tenant 2xx.",
        );
        header(
            &mut out,
            "mux_inbound_queue_depth",
            "Pending inbound events, all tenants.",
            "gauge",
        );
        let _ = writeln!(
            out,
            "mux_inbound_queue_depth {}",
            self.queue_depth.load(Relaxed)
        );
        header(
            &mut out,
            "mux_inbound_oldest_pending_age_seconds",
            "Age of the oldest pending inbound event.",
            "gauge",
        );
        let age = self.oldest_pending_age_sec.load(Relaxed);
        let _ = writeln!(out, "mux_inbound_oldest_pending_age_seconds {age}");
        self.render_outbound(&mut out);
        per_channel(
            &mut out,
            "mux_platform_rate_limited_total",
            "Platform 429 answers.",
            &self.platform_429,
        );
        header(
            &mut out,
            "mux_auth_failures_total",
            "Refused credentials (401).",
            "counter",
        );
        for scope in AuthScope::ALL {
            let v = self.auth_failed[scope as usize].load(Relaxed);
            let _ = writeln!(
                out,
                "mux_auth_failures_total{{scope=\"{}\"}} {v}",
                scope.as_str()
            );
        }
        header(
            &mut out,
            "mux_pairing_outcomes_total",
            "Pairing attempts by outcome.",
            "counter",
        );
        for (i, outcome) in PairingOutcome::ALL.iter().enumerate() {
            let v = self.pairing[i].load(Relaxed);
            let _ = writeln!(
                out,
                "mux_pairing_outcomes_total{{outcome=\"{}\"}} {v}",
                outcome.as_str()
            );
        }
        self.writer_batch_size
            .render(&mut out, "mux_writer_batch_size", "Ops per group commit.");
        self.writer_commit.render(
            &mut out,
            "mux_writer_commit_seconds",
            "Group commit duration.",
        );
        out
    }

    fn render_outbound(&self, out: &mut String) {
        let name = "mux_outbound_sends_total";
        header(
            out,
            name,
            "Outbound sends by channel and answered status.",
            "counter",
        );
        for channel in Channel::ALL {
            let row = &self.outbound[slot(channel)];
            for (i, v) in row.iter().enumerate() {
                let status = OUTBOUND_STATUSES
                    .get(i)
                    .map_or_else(|| "other".to_owned(), u16::to_string);
                let v = v.load(Relaxed);
                let _ = writeln!(
                    out,
                    "{name}{{channel=\"{channel}\",status=\"{status}\"}} {v}"
                );
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample(text: &str, series: &str) -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("{series} missing"))
            .parse()
            .unwrap()
    }

    #[test]
    fn counters_move_under_their_labels() {
        let m = Metrics::new();
        m.auth_failed();
        m.auth_failed_in(AuthScope::Admin);
        m.auth_failed_in(AuthScope::Admin);
        m.outbound_sent(Channel::Telegram, 200);
        m.outbound_sent(Channel::Discord, 418);
        m.platform_429(Channel::Whatsapp);
        m.pairing(PairingOutcome::CodeClaimed);
        m.inbound_dead(Channel::Discord);
        let text = m.render();
        assert_eq!(
            sample(&text, "mux_auth_failures_total{scope=\"tenant\"}"),
            1.0
        );
        assert_eq!(
            sample(&text, "mux_auth_failures_total{scope=\"admin\"}"),
            2.0
        );
        assert_eq!(
            sample(
                &text,
                "mux_outbound_sends_total{channel=\"telegram\",status=\"200\"}"
            ),
            1.0
        );
        assert_eq!(
            sample(
                &text,
                "mux_outbound_sends_total{channel=\"discord\",status=\"other\"}"
            ),
            1.0
        );
        assert_eq!(
            sample(
                &text,
                "mux_platform_rate_limited_total{channel=\"whatsapp\"}"
            ),
            1.0
        );
        assert_eq!(
            sample(
                &text,
                "mux_pairing_outcomes_total{outcome=\"code_claimed\"}"
            ),
            1.0
        );
        assert_eq!(
            sample(&text, "mux_inbound_events_dead_total{channel=\"discord\"}"),
            1.0
        );
    }

    #[test]
    fn histograms_are_cumulative_and_end_in_the_count() {
        let m = Metrics::new();
        m.forward_latency(3);
        m.forward_latency(40);
        m.forward_latency(60_000);
        m.writer_batch(3, Duration::from_millis(2));
        let text = m.render();
        assert_eq!(
            sample(&text, "mux_forward_latency_seconds_bucket{le=\"0.005\"}"),
            1.0
        );
        assert_eq!(
            sample(&text, "mux_forward_latency_seconds_bucket{le=\"0.05\"}"),
            2.0
        );
        assert_eq!(
            sample(&text, "mux_forward_latency_seconds_bucket{le=\"30\"}"),
            2.0
        );
        assert_eq!(
            sample(&text, "mux_forward_latency_seconds_bucket{le=\"+Inf\"}"),
            3.0
        );
        assert_eq!(sample(&text, "mux_forward_latency_seconds_count"), 3.0);
        assert_eq!(sample(&text, "mux_forward_latency_seconds_sum"), 60.043);
        assert_eq!(sample(&text, "mux_writer_batch_size_bucket{le=\"4\"}"), 1.0);
        assert_eq!(sample(&text, "mux_writer_batch_size_bucket{le=\"2\"}"), 0.0);
        assert_eq!(
            sample(&text, "mux_writer_commit_seconds_bucket{le=\"0.0025\"}"),
            1.0
        );
        assert_eq!(sample(&text, "mux_writer_commit_seconds_sum"), 0.002);
    }

    #[test]
    fn gauges_hold_the_last_value_set() {
        let m = Metrics::new();
        m.set_queue(7, 42);
        m.set_queue(5, 9);
        let text = m.render();
        assert_eq!(sample(&text, "mux_inbound_queue_depth"), 5.0);
        assert_eq!(sample(&text, "mux_inbound_oldest_pending_age_seconds"), 9.0);
    }

    #[test]
    fn every_sample_follows_its_type_line() {
        let text = Metrics::new().render();
        let mut typed: Vec<String> = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                typed.push(rest.split(' ').next().unwrap().to_owned());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                let base = typed.last().unwrap();
                assert!(name.starts_with(base.as_str()), "{name} outside {base}");
            }
        }
    }
}
