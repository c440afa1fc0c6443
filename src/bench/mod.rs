//! The benchmark program's modules (compiled into the `mux-bench` binary only; the library
//! holds no bench code; the fakes it drives are the library's `testkit`, the same the tests use).
//! See `bench/RESULTS.md` and shared/spec/targets.md.

pub mod ceiling;
pub mod inbound;
pub mod ledger;
pub mod load;
pub mod memory;
pub mod outbound;
pub mod pairing;
pub mod phase;
pub mod platform;
pub mod restart;
pub mod rig;
pub mod sends;
pub mod server;
pub mod stats;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Settings of a run (from the command line).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Opts {
    pub server_bin: PathBuf,
    pub tenants: usize,
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub events: usize,
    pub rate: usize,
    pub pending: usize,
    pub bindings_per_tenant: usize,
    /// `pairing`: codes created and claimed.
    pub claims: usize,
    /// `pairing`: concurrent clients.
    pub clients: usize,
    pub inbound_timeout_ms: u64,
    pub drain_timeout: Duration,
    pub server_log: String,
    pub fake_workers: usize,
    pub wake_on_recovery: bool,
    pub keep: bool,
}

impl Opts {
    /// A rig with Telegram inbound on or off, binding chats on (and sending to) `platform`.
    pub fn rig(&self, inbound: bool, platform: platform::Platform) -> rig::RigOptions {
        rig::RigOptions {
            server_bin: self.server_bin.clone(),
            inbound,
            platform,
            server_log: self.server_log.clone(),
            fake_workers: self.fake_workers,
            keep: self.keep,
        }
    }
}

/// What a scenario found: table rows and named facts.
#[derive(Default)]
pub struct Outcome {
    pub rows: Vec<stats::Row>,
    pub facts: BTreeMap<String, serde_json::Value>,
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
