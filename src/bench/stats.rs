//! Latency summaries, result rows, the printed table and the JSON report.

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Latency {
    pub count: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Summary of latencies given in microseconds.
pub fn summarize(mut micros: Vec<u64>) -> Latency {
    if micros.is_empty() {
        return Latency::default();
    }
    micros.sort_unstable();
    let at = |q: f64| {
        let i = ((micros.len() as f64 * q).ceil() as usize).clamp(1, micros.len()) - 1;
        micros.get(i).copied().unwrap_or(0) as f64 / 1000.0
    };
    Latency {
        count: micros.len(),
        p50_ms: at(0.50),
        p90_ms: at(0.90),
        p99_ms: at(0.99),
        max_ms: micros.last().copied().unwrap_or(0) as f64 / 1000.0,
    }
}

/// One line of the table.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Row {
    pub scenario: String,
    pub phase: String,
    pub rate: f64,
    pub unit: String,
    pub latency: Latency,
    pub errors: BTreeMap<String, u64>,
    pub lost: Option<u64>,
    pub duplicated: Option<u64>,
    /// Peak RSS of mux-server during the phase (VmHWM, reset at the phase start), MiB.
    pub peak_rss_mib: Option<f64>,
    /// RSS at the end of the phase, MiB.
    pub rss_mib: Option<f64>,
    /// mux-server CPU time during the phase / wall time (1.0 = one core busy).
    pub server_cores: Option<f64>,
    /// The Writer (group commit) during the phase, from the service's own metrics.
    pub writer: Option<WriterUse>,
    /// A few undelivered events, `tg:<update_id>@<tenant index>`.
    pub lost_sample: Vec<String>,
    pub note: String,
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct WriterUse {
    pub commits_per_s: f64,
    pub ops_per_commit: f64,
    pub ms_per_commit: f64,
    /// Fraction of the phase the Writer spent committing (1.0 = always).
    pub busy: f64,
}

#[derive(Debug, Serialize)]
pub struct Machine {
    pub nproc: usize,
    pub mem_total_mib: u64,
    pub cpu: String,
    pub kernel: String,
}

impl Machine {
    pub fn probe() -> Machine {
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_kib: u64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned())
            .unwrap_or_default();
        Machine {
            nproc: std::thread::available_parallelism().map_or(0, |n| n.get()),
            mem_total_mib: mem_kib / 1024,
            cpu,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .unwrap_or_default()
                .trim()
                .to_owned(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub scenario: String,
    pub command: String,
    pub unix_time: u64,
    pub machine: Machine,
    pub settings: serde_json::Value,
    pub rows: Vec<Row>,
    pub facts: BTreeMap<String, serde_json::Value>,
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |x| format!("{x:.digits$}"))
}

pub fn print_table(report: &Report) {
    println!(
        "\nmux-bench {} — {} cores, {} MiB, {}",
        report.scenario, report.machine.nproc, report.machine.mem_total_mib, report.machine.cpu
    );
    println!(
        "{:<17} {:<36} {:>10} {:<9} {:>8} {:>8} {:>8} {:>8} {:>6} {:>5} {:>8} {:>7} {:>6} {:>6} {:>6}  errors",
        "scenario",
        "phase",
        "rate",
        "unit",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "lost",
        "dup",
        "peakMiB",
        "rssMiB",
        "cores",
        "wBusy%",
        "ops/c"
    );
    for r in &report.rows {
        let errors = if r.errors.is_empty() {
            "-".to_owned()
        } else {
            r.errors
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        println!(
            "{:<17} {:<36} {:>10.0} {:<9} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>6} {:>5} {:>8} {:>7} {:>6} {:>6} {:>6}  {errors}",
            r.scenario,
            r.phase,
            r.rate,
            r.unit,
            r.latency.p50_ms,
            r.latency.p90_ms,
            r.latency.p99_ms,
            r.latency.max_ms,
            r.lost.map_or("-".to_owned(), |v| v.to_string()),
            r.duplicated.map_or("-".to_owned(), |v| v.to_string()),
            opt(r.peak_rss_mib, 1),
            opt(r.rss_mib, 1),
            opt(r.server_cores, 2),
            opt(r.writer.map(|w| w.busy * 100.0), 0),
            opt(r.writer.map(|w| w.ops_per_commit), 1),
        );
        if !r.note.is_empty() {
            println!("{:<17} {:<36} {}", "", "", r.note);
        }
        if !r.lost_sample.is_empty() {
            println!(
                "{:<17} {:<36} not delivered, e.g.: {}",
                "",
                "",
                r.lost_sample.join(" ")
            );
        }
        if let Some(w) = r.writer {
            println!(
                "{:<17} {:<36} writer: {:.0} commits/s, {:.1} ops/commit, {:.2} ms/commit, busy {:.0}%",
                "",
                "",
                w.commits_per_s,
                w.ops_per_commit,
                w.ms_per_commit,
                w.busy * 100.0
            );
        }
    }
    for (k, v) in &report.facts {
        println!("  {k}: {v}");
    }
}
