//! Online backup (`mux-server backup <file>`): a consistent copy while the service runs.
//!
//! `VACUUM INTO` reads one snapshot inside a read transaction, which WAL lets run beside the
//! Writer, and writes a compact, self-contained database (no `-wal` file to carry along). It runs
//! on its own connection with the usual busy timeout, so a checkpoint in progress only delays it.
//! The copy is written to `<file>.partial`, checked with `PRAGMA integrity_check`, and renamed
//! into place, so a failed backup never leaves a plausible-looking file behind.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::error::StoreError;

/// What a finished backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub tenants: i64,
}

#[derive(QueryableByName)]
struct IntegrityRow {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("{what}: {e}"))
}

/// Copies the database at `db_path` to `dest` (which must not exist yet).
pub fn backup(db_path: &Path, dest: &Path) -> Result<BackupReport, StoreError> {
    if !db_path.is_file() {
        return Err(unavailable("no database at", db_path.display()));
    }
    if dest.exists() {
        return Err(unavailable("refusing to overwrite", dest.display()));
    }
    let mut partial = dest.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    // The copy holds tenants' inbound tokens in clear: owner-only from the first byte. VACUUM
    // INTO accepts an existing empty file.
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .map_err(|e| unavailable(&format!("cannot create {}", partial.display()), e))?;
    let tenants = match copy_and_check(db_path, &partial) {
        Ok(tenants) => tenants,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, dest).map_err(|e| unavailable("cannot rename the copy", e))?;
    let bytes = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
    Ok(BackupReport {
        path: dest.to_owned(),
        bytes,
        tenants,
    })
}

/// `VACUUM INTO` then verify; returns the copy's tenant count.
fn copy_and_check(db_path: &Path, partial: &Path) -> Result<i64, StoreError> {
    let mut source = SqliteConnection::establish(&db_path.to_string_lossy())
        .map_err(|e| unavailable("cannot open the database", e))?;
    diesel::sql_query(format!("PRAGMA busy_timeout = {}", super::BUSY_TIMEOUT_MS))
        .execute(&mut source)?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(partial.to_string_lossy().into_owned())
        .execute(&mut source)?;
    drop(source);
    let mut copy = SqliteConnection::establish(&partial.to_string_lossy())
        .map_err(|e| unavailable("cannot open the copy", e))?;
    integrity_check(&mut copy)?;
    Ok(super::schema::tenants::table
        .count()
        .get_result(&mut copy)?)
}

/// `PRAGMA integrity_check` must answer exactly one row, `ok`.
pub fn integrity_check(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    let rows: Vec<IntegrityRow> = diesel::sql_query("PRAGMA integrity_check").load(conn)?;
    match rows.as_slice() {
        [row] if row.integrity_check == "ok" => Ok(()),
        _ => Err(StoreError::Unavailable(format!(
            "integrity check failed: {}",
            rows.iter()
                .map(|r| r.integrity_check.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::db::open_writer;

    #[test]
    fn a_backup_is_a_checked_owner_only_copy_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("mux.sqlite");
        let mut conn = open_writer(&db).unwrap();
        diesel::sql_query(
            "INSERT INTO tenants (id, name, status, created_at_ms, updated_at_ms) \
             VALUES ('t', 't', 'active', 1, 1)",
        )
        .execute(&mut conn)
        .unwrap();
        let dest = dir.path().join("copy.sqlite");
        let report = backup(&db, &dest).unwrap();
        assert_eq!(report.tenants, 1);
        assert!(report.bytes > 0);
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&dest).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        assert!(
            backup(&db, &dest).is_err(),
            "an existing file is never overwritten"
        );
        assert!(backup(&dir.path().join("missing.sqlite"), &dir.path().join("x")).is_err());
        assert!(!dir.path().join("x.partial").exists());
    }
}
