//! The release `mux-server` as a child process: started on a database in the run's temp dir with
//! `MUX_PORT=0` (the port is read from its `event=listening` log line), waited on until `/ready`
//! answers 200, measured through `/proc/<pid>/status`, and killed when dropped.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

/// How the child is started (kept so a restart uses the same database and settings).
#[derive(Clone)]
pub struct ServerSpec {
    pub bin: PathBuf,
    pub dir: PathBuf,
    pub vars: Vec<(String, String)>,
}

pub struct ServerProc {
    child: Child,
    pub pid: u32,
    pub base: String,
    /// Spawn → `event=listening` in the log.
    pub listening_after: Duration,
    /// Spawn → first `GET /ready` answered 200.
    pub ready_after: Duration,
}

impl ServerSpec {
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("mux-server.log")
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.join("mux.sqlite")
    }

    pub async fn start(&self, client: &awc::Client) -> Result<ServerProc> {
        let log_path = self.log_path();
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .context("open server log")?;
        let from = log.metadata().map(|m| m.len()).unwrap_or(0);
        let mut cmd = Command::new(&self.bin);
        for (k, _) in std::env::vars() {
            if k.starts_with("MUX_") || k.starts_with("TELEGRAM_") || k.starts_with("DISCORD_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("MUX_HOST", "127.0.0.1")
            .env("MUX_PORT", "0")
            .env("MUX_DB_PATH", self.db_path())
            .envs(self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log));
        let t0 = Instant::now();
        let child = cmd
            .spawn()
            .with_context(|| format!("spawn {}", self.bin.display()))?;
        let pid = child.id();
        let mut proc = ServerProc {
            child,
            pid,
            base: String::new(),
            listening_after: Duration::ZERO,
            ready_after: Duration::ZERO,
        };
        let port = loop {
            if let Some(port) = listening_port(&log_path, from)? {
                break port;
            }
            if let Ok(Some(status)) = proc.child.try_wait() {
                bail!(
                    "mux-server exited with {status} before listening; see {}",
                    log_path.display()
                );
            }
            if t0.elapsed() > Duration::from_secs(60) {
                bail!(
                    "mux-server did not listen within 60 s; see {}",
                    log_path.display()
                );
            }
            actix_web::rt::time::sleep(Duration::from_millis(2)).await;
        };
        proc.listening_after = t0.elapsed();
        proc.base = format!("http://127.0.0.1:{port}");
        let ready = format!("{}/ready", proc.base);
        loop {
            if let Ok(resp) = client
                .get(&ready)
                .timeout(Duration::from_secs(2))
                .send()
                .await
                && resp.status().is_success()
            {
                break;
            }
            if t0.elapsed() > Duration::from_secs(60) {
                bail!("mux-server not ready within 60 s");
            }
            actix_web::rt::time::sleep(Duration::from_millis(2)).await;
        }
        proc.ready_after = t0.elapsed();
        Ok(proc)
    }
}

/// The port of the first `event=listening … port=N` line written after byte `from`.
fn listening_port(path: &Path, from: u64) -> Result<Option<u16>> {
    let mut f = File::open(path)?;
    f.seek(SeekFrom::Start(from))?;
    let mut text = String::new();
    f.take(1 << 20).read_to_string(&mut text).ok();
    for line in text.lines().filter(|l| l.contains("event=listening")) {
        if let Some(p) = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("port="))
        {
            let p = p.trim_matches(|c: char| !c.is_ascii_digit());
            return p
                .parse()
                .map(Some)
                .map_err(|_| anyhow!("bad port in log line: {line}"));
        }
    }
    Ok(None)
}

/// Memory of a process from `/proc/<pid>/status`, in KiB.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Mem {
    pub rss_kib: u64,
    pub hwm_kib: u64,
}

impl ServerProc {
    pub fn mem(&self) -> Mem {
        let text =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        Mem {
            rss_kib: field("VmRSS:"),
            hwm_kib: field("VmHWM:"),
        }
    }

    /// Resets the peak RSS (VmHWM) to the current RSS, so a phase's peak can be read on its own.
    pub fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5");
    }

    /// CPU time (user + system) the process has used, from `/proc/<pid>/stat`.
    pub fn cpu_time(&self) -> Duration {
        let text = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
        let after = text.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        // Fields after the command: state is 0, utime 11, stime 12 (man 5 proc, minus 3).
        let total = ticks(11) + ticks(12);
        Duration::from_millis(total * 10)
    }

    /// SIGKILL, then reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        self.kill9();
    }
}
