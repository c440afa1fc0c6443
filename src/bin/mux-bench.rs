//! `mux-bench`: the benchmark program (shared/spec/targets.md). Starts the release `mux-server`
//! as a child on a temp database, hosts in-process fakes of the Telegram Bot API, Discord REST,
//! the WhatsApp Graph API and the tenants' OpenClaw endpoints, provisions tenants and bindings through the public API, drives
//! load over loopback and prints a table (and writes JSON). Results: `bench/RESULTS.md`.
//!
//! ```sh
//! cargo build --release --bin mux-server --bin mux-bench
//! target/release/mux-bench outbound --tenants 2000 --duration 10
//! target/release/mux-bench all --quick
//! ```

#[path = "../bench/mod.rs"]
mod bench;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};

use bench::platform::Platform;
use bench::stats::{Machine, Report, print_table};
use bench::{Opts, inbound, memory, outbound, pairing, restart};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Sends to Telegram chats.
    Outbound,
    /// Sends to Discord guild channels.
    OutboundDiscord,
    /// Sends to WhatsApp numbers.
    OutboundWhatsapp,
    /// Admin creates pairing codes, tenants claim them.
    Pairing,
    Inbound,
    Isolation,
    Restart,
    Memory,
    /// Every scenario in turn.
    All,
}

/// Benchmarks the release mux-server against in-process fakes over loopback.
#[derive(Parser, Debug)]
#[command(name = "mux-bench", version)]
struct Cli {
    /// Scenario to run.
    #[arg(value_enum)]
    scenario: Scenario,
    /// Scaled-down settings for a quick run (200 tenants, 3 s windows, 5,000 events, 10,000
    /// pending, 1,000 claims); explicit flags still win.
    #[arg(long)]
    quick: bool,
    /// mux-server binary (default: `mux-server` next to this binary).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Tenants, each with one bound chat (`memory`: `--bindings-per-tenant`; `pairing`: none
    /// before the claims).
    #[arg(long)]
    tenants: Option<usize>,
    /// `outbound*`: concurrent keep-alive connections, one request in flight on each.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Measured window (outbound load; inbound steady-rate phases), seconds.
    #[arg(long)]
    duration: Option<f64>,
    /// `outbound`: warm-up before the measured window, seconds (discarded).
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// `inbound`: updates in the burst phase.
    #[arg(long)]
    events: Option<usize>,
    /// `inbound`/`isolation`: steady rate, events per second.
    #[arg(long, default_value_t = 1000)]
    rate: usize,
    /// `restart`: events pending for down endpoints before the kill.
    #[arg(long)]
    pending: Option<usize>,
    /// `memory`: bound chats per tenant.
    #[arg(long, default_value_t = 5)]
    bindings_per_tenant: usize,
    /// `pairing`: codes created and claimed (default 10,000; 1,000 with --quick).
    #[arg(long)]
    claims: Option<usize>,
    /// `pairing`: concurrent clients (connections, one request in flight on each).
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Tenants' inboundTimeoutMs (how long a hanging endpoint holds a delivery).
    #[arg(long, default_value_t = 3000)]
    inbound_timeout_ms: u64,
    /// Longest wait for deliveries to drain, seconds (default 60; 20 with --quick).
    #[arg(long)]
    drain_timeout: Option<f64>,
    /// RUST_LOG for mux-server (its log goes to the run's temp dir).
    #[arg(long, default_value = "info")]
    server_log: String,
    /// Worker threads of each in-process fake.
    #[arg(long, default_value_t = 1)]
    fake_workers: usize,
    /// After endpoints recover, do not re-post the failing tenants' inbound targets (which wakes
    /// waiting retries at once); wait for the retry schedule instead.
    #[arg(long)]
    no_wake: bool,
    /// Write the JSON report here (default: target/mux-bench/<scenario>.json).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Keep the run's temp dir (database, mux-server log).
    #[arg(long)]
    keep: bool,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    actix_web::rt::System::new().block_on(run(cli))
}

/// The scenario's name on the command line (`outbound-discord`).
fn name(s: Scenario) -> String {
    s.to_possible_value()
        .map_or_else(|| format!("{s:?}"), |v| v.get_name().to_owned())
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.clamp(0.0, 86_400.0))
}

fn opts(cli: &Cli) -> Result<Opts> {
    let server_bin = match &cli.server_bin {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .context("current exe")?
            .with_file_name("mux-server"),
    };
    if !server_bin.is_file() {
        bail!(
            "{} not found: run `cargo build --release --bin mux-server` (or pass --server-bin)",
            server_bin.display()
        );
    }
    if !server_bin.to_string_lossy().contains("/release/") {
        eprintln!(
            "warning: {} is not a release build; figures will be meaningless",
            server_bin.display()
        );
    }
    let q = cli.quick;
    let o = Opts {
        server_bin,
        tenants: cli.tenants.unwrap_or(if q { 200 } else { 2000 }).max(1),
        connections: cli.connections.max(1),
        warmup: secs(cli.warmup),
        duration: secs(cli.duration.unwrap_or(if q { 3.0 } else { 10.0 })),
        events: cli.events.unwrap_or(if q { 5_000 } else { 20_000 }),
        rate: cli.rate.max(1),
        pending: cli.pending.unwrap_or(if q { 10_000 } else { 100_000 }),
        bindings_per_tenant: cli.bindings_per_tenant.clamp(1, 16),
        claims: cli.claims.unwrap_or(if q { 1_000 } else { 10_000 }).max(1),
        clients: cli.clients.max(1),
        inbound_timeout_ms: cli.inbound_timeout_ms.max(100),
        drain_timeout: secs(cli.drain_timeout.unwrap_or(if q { 20.0 } else { 60.0 })),
        server_log: cli.server_log.clone(),
        fake_workers: cli.fake_workers.max(1),
        wake_on_recovery: !cli.no_wake,
        keep: cli.keep,
    };
    Ok(o)
}

async fn run(cli: Cli) -> Result<()> {
    let o = opts(&cli)?;
    let scenarios = if cli.scenario == Scenario::All {
        vec![
            Scenario::Memory,
            Scenario::Outbound,
            Scenario::OutboundDiscord,
            Scenario::OutboundWhatsapp,
            Scenario::Pairing,
            Scenario::Inbound,
            Scenario::Isolation,
            Scenario::Restart,
        ]
    } else {
        vec![cli.scenario]
    };
    let mut report = Report {
        scenario: name(cli.scenario),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        unix_time: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        machine: Machine::probe(),
        settings: serde_json::to_value(&o)?,
        rows: Vec::new(),
        facts: Default::default(),
    };
    for s in &scenarios {
        eprintln!("running {s:?} …");
        let outcome = match s {
            Scenario::Outbound => outbound::outbound(&o, Platform::Telegram).await,
            Scenario::OutboundDiscord => outbound::outbound(&o, Platform::Discord).await,
            Scenario::OutboundWhatsapp => outbound::outbound(&o, Platform::WhatsApp).await,
            Scenario::Pairing => pairing::pairing(&o).await,
            Scenario::Inbound => inbound::inbound(&o).await,
            Scenario::Isolation => inbound::isolation(&o).await,
            Scenario::Restart => restart::restart(&o).await,
            Scenario::Memory | Scenario::All => memory::memory(&o).await,
        }
        .with_context(|| format!("scenario {}", name(*s)))?;
        report.rows.extend(outcome.rows);
        let name = name(*s);
        report.facts.extend(
            outcome
                .facts
                .into_iter()
                .map(|(k, v)| (format!("{name}.{k}"), v)),
        );
    }
    print_table(&report);
    let path = cli
        .json
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("target/mux-bench/{}.json", report.scenario)));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&report)?)?;
    println!("JSON: {}", path.display());
    Ok(())
}
