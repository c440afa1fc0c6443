//! The identity of the database's files on disk (issue 9.3). SQLite keeps writing to the files
//! it opened: if the WAL (or the database file) is deleted or replaced under the running
//! process, every write since the last checkpoint goes into an inode nobody can find again, and
//! is lost at the next start although it was acknowledged. The Writer compares the files'
//! identity (device and inode) with the one it opened before each commit and periodically, and
//! refuses writes once they differ.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use diesel::sqlite::SqliteConnection;

use crate::error::StoreError;

/// Device and inode of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
}

fn identity(path: &Path) -> std::io::Result<Identity> {
    let meta = std::fs::metadata(path)?;
    Ok(Identity {
        dev: meta.dev(),
        ino: meta.ino(),
    })
}

/// The database file and its WAL as the write connection opened them.
#[derive(Debug, Clone)]
pub struct StoreFiles {
    files: Vec<(PathBuf, Identity)>,
}

impl StoreFiles {
    /// Records the identity of `db` and `<db>-wal`. Call it once the write connection is open
    /// in WAL mode and migrated (the WAL exists from then on while a connection is open).
    pub fn capture(db: &Path) -> std::io::Result<StoreFiles> {
        let wal = wal_path(db);
        Ok(StoreFiles {
            files: vec![
                (db.to_owned(), identity(db)?),
                (wal.clone(), identity(&wal)?),
            ],
        })
    }

    /// `Err` names the first file that is gone or is no longer the file SQLite has open.
    pub fn check(&self) -> Result<(), String> {
        for (path, opened) in &self.files {
            match identity(path) {
                Ok(now) if now == *opened => {}
                Ok(_) => return Err(format!("{} was replaced", file_name(path))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(format!("{} was deleted", file_name(path)));
                }
                Err(e) => return Err(format!("{} cannot be checked: {e}", file_name(path))),
            }
        }
        Ok(())
    }
}

/// Whether the files the connection writes to are still the database's files.
pub struct FileGuard {
    files: Option<StoreFiles>,
    /// Set once, when a file was found gone; writes stay refused until a restart.
    lost: Option<String>,
}

impl FileGuard {
    pub fn new(files: Option<StoreFiles>) -> FileGuard {
        FileGuard { files, lost: None }
    }

    /// `Err` (and from then on always) once a file is gone or replaced; the first time, what
    /// the connection committed is checkpointed into the database file while it still can be.
    pub fn check(&mut self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        if self.lost.is_none()
            && let Some(Err(reason)) = self.files.as_ref().map(StoreFiles::check)
        {
            // What was committed since the last checkpoint lives only in the WAL this
            // connection still has open: copy it into the database file while it can.
            let rescued = diesel::RunQueryDsl::execute(
                diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)"),
                conn,
            );
            log::error!(
                "event=store_file_lost reason=\"{reason}\" checkpoint={} action=refusing_writes_until_restart",
                if rescued.is_ok() { "ok" } else { "failed" }
            );
            self.lost = Some(reason);
        }
        match &self.lost {
            Some(reason) => Err(StoreError::Unavailable(format!(
                "{reason}; restart the service"
            ))),
            None => Ok(()),
        }
    }
}

/// `<db>-wal`, where SQLite keeps the write-ahead log.
pub fn wal_path(db: &Path) -> PathBuf {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deleted_or_replaced_wal_is_noticed() {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("x.sqlite");
        std::fs::write(&db, b"db").expect("db");
        std::fs::write(wal_path(&db), b"wal").expect("wal");
        let files = StoreFiles::capture(&db).expect("capture");
        // Held open, as SQLite holds it: its inode cannot be reused by the new file.
        let _held = std::fs::File::open(wal_path(&db)).expect("open");
        assert_eq!(files.check(), Ok(()));
        std::fs::remove_file(wal_path(&db)).expect("rm");
        assert_eq!(files.check(), Err("x.sqlite-wal was deleted".to_owned()));
        std::fs::write(wal_path(&db), b"new").expect("recreate");
        assert_eq!(files.check(), Err("x.sqlite-wal was replaced".to_owned()));
    }
}
