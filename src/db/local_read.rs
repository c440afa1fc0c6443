//! Point reads on the calling thread, for the one lookup on the hot send path (an outbound
//! request's idempotency key): a primary-key read takes microseconds, while handing it to the
//! read pool's blocking threads costs two thread wake-ups per send (issue 12's profile). Each
//! thread keeps its own read-only connection, opened on first use.
//!
//! In WAL mode a reader never waits for the Writer; the short busy timeout bounds the rare wait
//! (a WAL being recovered) so an HTTP worker thread is never held long. A caller falls back to
//! the pool (`super::read`) when this fails.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use diesel::prelude::*;

use crate::error::StoreError;

/// Longest a thread-local read waits for a lock before it gives up (and its caller falls back).
const LOCAL_BUSY_TIMEOUT_MS: u32 = 50;

thread_local! {
    static CONN: RefCell<Option<(Arc<PathBuf>, SqliteConnection)>> = const { RefCell::new(None) };
}

/// Runs reads of one database file on the calling thread's own connection.
#[derive(Clone)]
pub struct LocalReads {
    path: Arc<PathBuf>,
}

impl LocalReads {
    pub fn new(path: &Path) -> LocalReads {
        LocalReads {
            path: Arc::new(path.to_path_buf()),
        }
    }

    /// Runs `f` on this thread's connection to the file (opening it if this thread has none, or
    /// one to another file — tests run several services in one process).
    pub fn run<T>(
        &self,
        f: impl FnOnce(&mut SqliteConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        CONN.with(|cell| {
            let mut slot = cell.try_borrow_mut().map_err(|_| {
                StoreError::Unavailable("thread-local read connection in use".into())
            })?;
            match &mut *slot {
                Some((path, conn)) if **path == *self.path => f(conn),
                _ => {
                    let (_, conn) = slot.insert((self.path.clone(), open(&self.path)?));
                    f(conn)
                }
            }
        })
    }
}

fn open(path: &Path) -> Result<SqliteConnection, StoreError> {
    let url = path.to_string_lossy();
    let mut conn = SqliteConnection::establish(&url)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {url}: {e}")))?;
    diesel::sql_query(format!("PRAGMA busy_timeout = {LOCAL_BUSY_TIMEOUT_MS}"))
        .execute(&mut conn)?;
    diesel::sql_query("PRAGMA query_only = ON").execute(&mut conn)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{idempotency, open_writer};

    #[test]
    fn reads_what_the_writer_committed_and_follows_the_path_it_is_given() {
        let dir = tempfile::tempdir().expect("dir");
        let (a, b) = (dir.path().join("a.sqlite"), dir.path().join("b.sqlite"));
        let mut writer = open_writer(&a).expect("a");
        open_writer(&b).expect("b");
        diesel::sql_query(
            "INSERT INTO tenants (id, name, status, created_at_ms, updated_at_ms) VALUES ('t', 't', 'active', 0, 0)",
        )
        .execute(&mut writer)
        .expect("tenant");
        let count = |reads: &LocalReads| {
            reads.run(|c| {
                Ok(crate::db::schema::tenants::table
                    .count()
                    .get_result::<i64>(c)?)
            })
        };
        assert_eq!(count(&LocalReads::new(&a)), Ok(1));
        assert_eq!(
            count(&LocalReads::new(&b)),
            Ok(0),
            "another file, another connection"
        );
        assert_eq!(count(&LocalReads::new(&a)), Ok(1));
        // Read-only: a write through it fails instead of bypassing the Writer.
        let wrote = LocalReads::new(&a).run(|c| {
            diesel::sql_query("DELETE FROM tenants").execute(c)?;
            Ok(())
        });
        assert!(wrote.is_err());
        assert_eq!(
            LocalReads::new(&a).run(|c| idempotency::lookup(c, "t", "k", "f", 0)),
            Ok(idempotency::Reservation::Free)
        );
    }
}
