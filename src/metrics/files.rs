//! File proxy counters (contract §5a): bytes streamed to tenants and
//! requests by outcome, per channel.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::slot;
use crate::domain::Channel;

/// What a file request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileOutcome {
    /// The platform's file is being streamed.
    Served,
    /// No live grant for this tenant (or no such reference): `404`.
    NotFound,
    /// The platform no longer has the file: `410`.
    Gone,
    /// The platform refuses to hand out a file this large: `413`.
    TooLarge,
    /// The platform refused or failed: `502`/`503`/`504`.
    PlatformError,
    /// mux has no credentials for the channel: `503`.
    Disabled,
}

impl FileOutcome {
    const ALL: [FileOutcome; 6] = [
        FileOutcome::Served,
        FileOutcome::NotFound,
        FileOutcome::Gone,
        FileOutcome::TooLarge,
        FileOutcome::PlatformError,
        FileOutcome::Disabled,
    ];

    fn as_str(self) -> &'static str {
        match self {
            FileOutcome::Served => "served",
            FileOutcome::NotFound => "not_found",
            FileOutcome::Gone => "gone",
            FileOutcome::TooLarge => "too_large",
            FileOutcome::PlatformError => "platform_error",
            FileOutcome::Disabled => "disabled",
        }
    }
}

#[derive(Default)]
pub struct FileProxyMetrics {
    bytes: [AtomicU64; 3],
    requests: [[AtomicU64; 6]; 3],
}

impl FileProxyMetrics {
    pub fn bytes(&self, channel: Channel, n: u64) {
        self.bytes[slot(channel)].fetch_add(n, Relaxed);
    }

    pub fn request(&self, channel: Channel, outcome: FileOutcome) {
        let i = FileOutcome::ALL
            .iter()
            .position(|o| *o == outcome)
            .unwrap_or(0);
        self.requests[slot(channel)][i].fetch_add(1, Relaxed);
    }

    pub(super) fn render(&self, out: &mut String) {
        let name = "mux_file_proxy_bytes_total";
        let _ = writeln!(
            out,
            "# HELP {name} File bytes streamed to tenants by the file proxy.\n# TYPE {name} counter"
        );
        for channel in Channel::ALL {
            let v = self.bytes[slot(channel)].load(Relaxed);
            let _ = writeln!(out, "{name}{{channel=\"{channel}\"}} {v}");
        }
        let name = "mux_file_proxy_requests_total";
        let _ = writeln!(
            out,
            "# HELP {name} File proxy requests by outcome.\n# TYPE {name} counter"
        );
        for channel in Channel::ALL {
            for (i, outcome) in FileOutcome::ALL.iter().enumerate() {
                let v = self.requests[slot(channel)][i].load(Relaxed);
                let outcome = outcome.as_str();
                let _ = writeln!(
                    out,
                    "{name}{{channel=\"{channel}\",outcome=\"{outcome}\"}} {v}"
                );
            }
        }
    }
}
