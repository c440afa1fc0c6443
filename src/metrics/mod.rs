//! Service metrics: a small lock-free registry rendered as Prometheus text at `GET /metrics`.
//!
//! Labels are low-cardinality on purpose (channel, a fixed set of statuses and outcomes): with
//! 1000–2000 tenants a tenant label would multiply every series; per-tenant detail lives in the
//! admin tenant listing instead. Every update is one relaxed atomic add, so hot paths (auth,
//! writer commits, forwards) can count without locks.

mod actions;
pub mod files;
mod render;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::domain::Channel;
pub use actions::ActionOutcome;
use render::Histogram;

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

/// The registry. One per process, shared as `Arc<Metrics>` by the API, the Writer thread, the
/// ingress and the forwarders.
pub struct Metrics {
    inbound_received: [AtomicU64; 3],
    inbound_enqueued: [AtomicU64; 3],
    inbound_forwarded: [AtomicU64; 3],
    inbound_retried: [AtomicU64; 3],
    inbound_dead: [AtomicU64; 3],
    inbound_foreign: [AtomicU64; 3],
    forward_latency: Histogram<12>,
    queue_depth: AtomicU64,
    oldest_pending_age_sec: AtomicU64,
    /// Per channel: one slot per `OUTBOUND_STATUSES` entry, then `other`.
    outbound: [[AtomicU64; 12]; 3],
    platform_429: [AtomicU64; 3],
    /// Per channel: one slot per `ActionOutcome`.
    actions: [[AtomicU64; 4]; 3],
    auth_failed: [AtomicU64; 2],
    pairing: [AtomicU64; 6],
    /// Per channel: button presses forwarded, and pressed in unbound chats (answered, dropped).
    callbacks: [[AtomicU64; 2]; 3],
    writer_batch_size: Histogram<11>,
    writer_commit: Histogram<11>,
    /// `GET /v1/mux/files/…`: bytes streamed and requests by outcome.
    pub files: files::FileProxyMetrics,
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
            inbound_foreign: counters(),
            forward_latency: Histogram::new(FORWARD_MS, 1_000.0),
            queue_depth: AtomicU64::new(0),
            oldest_pending_age_sec: AtomicU64::new(0),
            outbound: std::array::from_fn(|_| counters()),
            platform_429: counters(),
            actions: std::array::from_fn(|_| counters()),
            auth_failed: counters(),
            pairing: counters(),
            callbacks: std::array::from_fn(|_| counters()),
            writer_batch_size: Histogram::new(BATCH_SIZES, 1.0),
            writer_commit: Histogram::new(COMMIT_US, 1_000_000.0),
            files: files::FileProxyMetrics::default(),
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

    /// A platform rate limit outlasted a send's deadline (the caller got `429 RATE_LIMITED`).
    /// 429s that the senders wait out within the deadline are not counted here yet.
    pub fn platform_429(&self, channel: Channel) {
        self.platform_429[slot(channel)].fetch_add(1, Relaxed);
    }

    /// A button press: `forwarded` from a bound chat, else answered and dropped.
    pub fn callback(&self, channel: Channel, forwarded: bool) {
        self.callbacks[slot(channel)][usize::from(!forwarded)].fetch_add(1, Relaxed);
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

    /// A webhook message addressed to another account than the configured one (dropped).
    pub fn inbound_foreign(&self, channel: Channel) {
        self.inbound_foreign[slot(channel)].fetch_add(1, Relaxed);
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
}
