//! Prometheus text exposition of the registry (format 0.0.4).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::{AuthScope, Metrics, OUTBOUND_STATUSES, PairingOutcome, slot};
use crate::domain::Channel;

/// A histogram with fixed upper bounds; values are in `unit`s, rendered divided by `scale`.
pub(super) struct Histogram<const N: usize> {
    bounds: [u64; N],
    /// Per-bucket counts (not cumulative); the last slot is `+Inf`.
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    sum: AtomicU64,
    scale: f64,
}

impl<const N: usize> Histogram<N> {
    pub(super) fn new(bounds: [u64; N], scale: f64) -> Self {
        Histogram {
            bounds,
            buckets: (0..=N).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0),
            scale,
        }
    }

    pub(super) fn observe(&self, value: u64) {
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

impl Metrics {
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
        per_channel(
            &mut out,
            "mux_inbound_foreign_dropped_total",
            "Webhook messages for another account (a WhatsApp phone number id other than MUX_WHATSAPP_PHONE_NUMBER_ID), dropped.",
            &self.inbound_foreign,
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
        self.render_actions(&mut out);
        per_channel(
            &mut out,
            "mux_platform_rate_limited_total",
            "Sends answered 429 RATE_LIMITED: a platform rate limit outlasted the deadline.",
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
        self.render_callbacks(&mut out);
        self.writer_batch_size
            .render(&mut out, "mux_writer_batch_size", "Ops per group commit.");
        self.writer_commit.render(
            &mut out,
            "mux_writer_commit_seconds",
            "Group commit duration.",
        );
        self.files.render(&mut out);
        out
    }

    fn render_callbacks(&self, out: &mut String) {
        let name = "mux_inbound_callbacks_total";
        header(
            out,
            name,
            "Button presses (Telegram callback queries, Discord component interactions): forwarded, or from an unbound chat (answered and dropped).",
            "counter",
        );
        for channel in Channel::ALL {
            for (i, outcome) in ["forwarded", "unbound"].iter().enumerate() {
                let v = self.callbacks[slot(channel)][i].load(Relaxed);
                let _ = writeln!(
                    out,
                    "{name}{{channel=\"{channel}\",outcome=\"{outcome}\"}} {v}"
                );
            }
        }
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
