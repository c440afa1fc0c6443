//! Server-side figures of one phase: peak RSS (VmHWM reset at the start), RSS at the end, cores
//! used, and what the Writer did (busy share, ops and time per commit) from `/metrics`.

use std::time::{Duration, Instant};

use super::mib;
use super::rig::{Rig, WriterCounters};
use super::server::ServerProc;
use super::stats::Row;

/// A phase under way: what was read at its start.
pub struct Phase {
    cpu0: Duration,
    writer0: WriterCounters,
    pub t0: Instant,
}

impl Phase {
    /// Resets the peak RSS and reads the counters the phase is measured from.
    pub async fn start(rig: &Rig, server: &ServerProc) -> Phase {
        server.reset_peak();
        let cpu0 = server.cpu_time();
        let writer0 = rig.writer_counters(server).await;
        Phase {
            cpu0,
            writer0,
            t0: Instant::now(),
        }
    }

    /// Fills the row's server figures over start → now.
    pub async fn finish(self, rig: &Rig, server: &ServerProc, row: &mut Row) {
        server_figures(rig, server, row, (self.cpu0, self.writer0), self.t0).await;
    }
}

/// Server-side figures of a phase: peak RSS since `reset_peak`, RSS now, cores used, Writer use.
pub async fn server_figures(
    rig: &Rig,
    server: &ServerProc,
    row: &mut Row,
    start: (Duration, WriterCounters),
    t0: Instant,
) {
    let (cpu0, w0) = start;
    row.writer = Some(w0.usage(&rig.writer_counters(server).await, t0.elapsed()));
    let mem = server.mem();
    row.peak_rss_mib = Some(mib(mem.hwm_kib));
    row.rss_mib = Some(mib(mem.rss_kib));
    row.server_cores = Some(
        server.cpu_time().saturating_sub(cpu0).as_secs_f64() / t0.elapsed().as_secs_f64().max(1e-9),
    );
}
