//! WAL checkpoints off the Writer's thread. SQLite's default runs a checkpoint inside the commit
//! that takes the WAL past 1,000 pages, so a writer in a burst stops every few megabytes to copy
//! pages into the database file and fsync it, while every caller of that batch waits (issue 12's
//! inbound profile). Here a thread with its own connection runs a PASSIVE checkpoint a few times
//! a second while there are writes: it never blocks the Writer or a reader, and the Writer keeps
//! committing while it runs. The Writer's own automatic checkpoint stays as a backstop at a much
//! larger WAL, for when this thread cannot keep up.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::Integer;

use crate::error::StoreError;

/// How often the thread looks for new writes to checkpoint.
const INTERVAL: Duration = Duration::from_millis(100);

/// The Writer's automatic checkpoint once this thread runs: 10,000 pages (~40 MB of WAL).
pub const BACKSTOP_PAGES: u32 = 10_000;

/// The checkpoint thread; stopped (and joined) by `stop` or on drop.
pub struct Checkpointer {
    wrote: Arc<AtomicBool>,
    stop: Option<mpsc::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

#[derive(QueryableByName)]
struct Checkpointed {
    #[diesel(sql_type = Integer)]
    busy: i32,
    #[diesel(sql_type = Integer)]
    log: i32,
    #[diesel(sql_type = Integer)]
    checkpointed: i32,
}

impl Checkpointer {
    /// Opens a connection to `path` (already in WAL mode) and starts the thread.
    pub fn start(path: &Path) -> Result<Checkpointer, StoreError> {
        let url = path.to_string_lossy().into_owned();
        let mut conn = SqliteConnection::establish(&url)
            .map_err(|e| StoreError::Unavailable(format!("cannot open {url}: {e}")))?;
        diesel::sql_query("PRAGMA busy_timeout = 5000").execute(&mut conn)?;
        let wrote = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel::<()>();
        let flag = wrote.clone();
        let handle = std::thread::Builder::new()
            .name("mux-checkpoint".into())
            .spawn(move || run(conn, &flag, &stopped))
            .map_err(|e| StoreError::Unavailable(format!("cannot start checkpoint thread: {e}")))?;
        Ok(Checkpointer {
            wrote,
            stop: Some(stop),
            handle: Some(handle),
        })
    }

    /// The Writer committed: there is something to checkpoint.
    pub fn wrote(&self) {
        self.wrote.store(true, Ordering::Relaxed);
    }
}

fn run(mut conn: SqliteConnection, wrote: &AtomicBool, stopped: &mpsc::Receiver<()>) {
    loop {
        match stopped.recv_timeout(INTERVAL) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        if !wrote.swap(false, Ordering::Relaxed) {
            continue;
        }
        match checkpoint(&mut conn) {
            Ok(c) if c.busy != 0 => {
                log::debug!(
                    "event=wal_checkpoint_partial log={} checkpointed={}",
                    c.log,
                    c.checkpointed
                );
            }
            Ok(_) => {}
            Err(e) => log::warn!("event=wal_checkpoint_failed error={e}"),
        }
    }
}

fn checkpoint(conn: &mut SqliteConnection) -> Result<Checkpointed, StoreError> {
    Ok(diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result::<Checkpointed>(conn)?)
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(handle) = self.handle.take()
            && handle.join().is_err()
        {
            log::error!("event=checkpoint_thread_panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::open_writer;

    #[test]
    fn the_thread_copies_the_writers_commits_into_the_database_file() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("c.sqlite");
        let mut writer = open_writer(&path).expect("db");
        diesel::sql_query("PRAGMA wal_autocheckpoint = 0")
            .execute(&mut writer)
            .expect("no automatic checkpoint");
        for i in 0..200 {
            diesel::sql_query(format!(
                "INSERT INTO tenants (id, name, status, created_at_ms, updated_at_ms) VALUES ('t{i}', '{}', 'active', 0, 0)",
                "n".repeat(500)
            ))
            .execute(&mut writer)
            .expect("insert");
        }
        let size = || std::fs::metadata(&path).expect("db file").len();
        let before = size();
        let checkpointer = Checkpointer::start(&path).expect("start");
        checkpointer.wrote();
        // Wait for the effect (the file grows by the WAL's pages), not for a time.
        let mut after = size();
        for _ in 0..200 {
            if after > before {
                break;
            }
            std::thread::sleep(INTERVAL);
            after = size();
        }
        assert!(
            after > before + 100 * 500,
            "the commits reached the database file ({before} → {after} bytes)"
        );
        drop(checkpointer);
    }
}
