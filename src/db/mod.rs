//! The store: one typed boundary between the service and its SQLite file. Connection setup,
//! embedded migrations, the read pool, the write ops the Writer actor applies (`op`), and the
//! queries. Query code lives here, never in handlers or actor glue; rows become domain types
//! (`crate::domain`: `Binding`, `Tenant`, `TenantStatus`, `BindingStatus`, `EventState`, …) here,
//! and nothing in `db` imports an actor.
//!
//! # What a second backend (PostgreSQL through diesel) would implement
//! The rest of the service sees only what this module exports, so another backend is this
//! module again over another connection type:
//! - `op::WriteOp::apply` for every op (`admin`, `bindings`, `idempotency`, `inbound`, `pairing`,
//!   `prune`, `tenants`): each runs inside the caller's transaction and returns a domain type or a
//!   `StoreError` (`NotFound`/`Conflict` with their public messages, `Unavailable` otherwise). The
//!   Writer's group commit becomes ordinary transactions; per-op savepoints stay.
//! - the reads: `load::load_all` (the Registry's start-up state), `inbound::pending_after`,
//!   `inbound::tenants_with_pending`, `inbound::list_deliveries`, `inbound::cursor`,
//!   `overview::*`, `audit::list`, `idempotency` lookups — through `read` on a pool.
//! - the guarantees the ops rely on: one active binding per `(channel, route_key)` (a partial
//!   unique index here), `(channel, event_id)` unique for inbound events, single-use claims by
//!   `UPDATE … WHERE consumed_at IS NULL`, and `ON CONFLICT` upserts (both PostgreSQL has).
//! - forwarders claiming work would add `SELECT … FOR UPDATE SKIP LOCKED` once several hosts
//!   share one database; `backup` and the SQLite pragmas have no counterpart there.

pub mod admin;
pub mod audit;
pub mod backup;
pub mod bindings;
pub mod file_grants;
pub mod files;
pub mod idempotency;
pub mod inbound;
pub mod legacy;
pub mod load;
pub mod local_read;
pub mod models;
pub mod op;
pub mod overview;
pub mod pairing;
pub mod prune;
pub mod schema;
pub mod tenants;

use std::path::Path;
use std::time::Duration;

use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::StoreError;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// How long a connection waits for a lock before reporting SQLITE_BUSY. The Writer is the only
/// writer, so waits come from checkpoints and the backup command; 5 s rides those out.
const BUSY_TIMEOUT_MS: u32 = 5_000;

/// Read-only connections beside the writer (listings, audit). WAL lets them run concurrently.
const READ_POOL_SIZE: u32 = 4;

/// The read-only connections, and one permit per connection: a read waits for a permit before
/// it takes a blocking thread, so a crowd of readers (2,000 forwarders starting at once) queues
/// as tasks instead of parking hundreds of threads on the pool (issue 12: 1,011 threads and
/// ~50 MiB of their stacks during an inbound burst).
#[derive(Clone)]
pub struct ReadPool {
    pool: Pool<ConnectionManager<SqliteConnection>>,
    permits: std::sync::Arc<tokio::sync::Semaphore>,
}

/// Opens the one write connection: WAL, `synchronous=FULL` (an acknowledged write survives
/// power loss), busy timeout, foreign keys; then brings the file up to date (see [`open_and_migrate`]).
pub fn open_writer(path: &Path) -> Result<SqliteConnection, StoreError> {
    Ok(open_and_migrate(path)?.conn)
}

/// The write connection and what opening it did.
pub struct Opened {
    pub conn: SqliteConnection,
    /// Migrations applied now (0 when the file was up to date).
    pub migrations_applied: usize,
    /// Set when the file was the older service's and has just been upgraded.
    pub upgraded: Option<legacy::UpgradeReport>,
}

/// Opens the write connection and brings the file up to date: a new or empty file and one of
/// ours are migrated; one of the older service is copied beside itself and upgraded in place
/// (`legacy`); anything else is refused before a byte of it is written (also `mux-server migrate`).
pub fn open_and_migrate(path: &Path) -> Result<Opened, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
            .create(dir)
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
    }
    private_files(path)
        .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", path.display())))?;
    let url = path.to_string_lossy();
    let mut conn = SqliteConnection::establish(&url)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {url}: {e}")))?;
    // Busy timeout first: switching to WAL needs a lock that a closing connection of a previous
    // run (its checkpoint) or a backup may hold for a moment. Neither pragma writes to the file.
    apply_connection_pragmas(&mut conn)?;
    let found = legacy::detect(&mut conn)?;
    if let legacy::Found::Foreign(why) = &found {
        return Err(StoreError::Unavailable(format!(
            "{url} is neither empty, nor a mux-server database, nor the older service's ({why}); \
             refusing to use it (it was not modified)"
        )));
    }
    let now = crate::time::now_ms();
    let backup = match &found {
        legacy::Found::Legacy(tables) => {
            log::info!(
                "event=legacy_database_found path={url} tables={}",
                tables.iter().copied().collect::<Vec<_>>().join(",")
            );
            let started = std::time::Instant::now();
            let backup = legacy::write_backup(&mut conn, path, now)?;
            log::info!(
                "event=legacy_backup_written path={} elapsed_ms={}",
                backup.display(),
                started.elapsed().as_millis()
            );
            Some(backup)
        }
        _ => None,
    };
    diesel::sql_query("PRAGMA journal_mode = WAL").execute(&mut conn)?;
    diesel::sql_query("PRAGMA synchronous = FULL").execute(&mut conn)?;
    let (migrations_applied, upgraded) = match (found, backup) {
        (legacy::Found::Legacy(tables), Some(backup)) => {
            let report = legacy::upgrade(&mut conn, path, &tables, backup, now)?;
            (report.migrations_applied, Some(report))
        }
        _ => (run_migrations(&mut conn)?, None),
    };
    Ok(Opened {
        conn,
        migrations_applied,
        upgraded,
    })
}

/// The database holds inbound tokens and message text: it is created `0600` whatever the umask
/// (SQLite gives its `-wal` and `-shm` the database file's mode), and an existing database, WAL
/// or shared-memory file readable by others is narrowed to `0600`.
fn private_files(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(_) => std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            for suffix in ["", "-wal", "-shm"] {
                let mut file = path.as_os_str().to_owned();
                file.push(suffix);
                let Ok(meta) = std::fs::metadata(&file) else {
                    continue;
                };
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & 0o700))?;
                    log::warn!(
                        "event=store_permissions_narrowed file={} from={mode:o} to={:o}",
                        std::path::Path::new(&file).display(),
                        mode & 0o700
                    );
                }
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Applies every pending migration.
pub fn run_migrations(conn: &mut SqliteConnection) -> Result<usize, StoreError> {
    conn.run_pending_migrations(MIGRATIONS)
        .map(|applied| applied.len())
        .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))
}

fn apply_connection_pragmas(conn: &mut SqliteConnection) -> QueryResult<()> {
    diesel::sql_query(format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")).execute(conn)?;
    diesel::sql_query("PRAGMA foreign_keys = ON").execute(conn)?;
    Ok(())
}

#[derive(Debug)]
struct ReadOnly;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for ReadOnly {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        apply_connection_pragmas(conn).map_err(diesel::r2d2::Error::QueryError)?;
        diesel::sql_query("PRAGMA query_only = ON")
            .execute(conn)
            .map_err(diesel::r2d2::Error::QueryError)?;
        Ok(())
    }
}

/// The pool of read-only connections. Open it after `open_writer` has migrated the file.
pub fn read_pool(path: &Path) -> Result<ReadPool, StoreError> {
    let pool = Pool::builder()
        .max_size(READ_POOL_SIZE)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(5))
        .connection_customizer(Box::new(ReadOnly))
        .build(ConnectionManager::new(path.to_string_lossy()))
        .map_err(|e| StoreError::Unavailable(format!("read pool: {e}")))?;
    Ok(ReadPool {
        pool,
        permits: std::sync::Arc::new(tokio::sync::Semaphore::new(READ_POOL_SIZE as usize)),
    })
}

/// One small real write (the `/ready` probe): fails when the disk is full or read-only.
pub fn probe(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    diesel::insert_into(schema::store_probe::table)
        .values((
            schema::store_probe::id.eq(1),
            schema::store_probe::at_ms.eq(crate::time::now_ms()),
        ))
        .on_conflict(schema::store_probe::id)
        .do_update()
        .set(schema::store_probe::at_ms.eq(crate::time::now_ms()))
        .execute(conn)?;
    Ok(())
}

/// Runs a read on the pool off the async threads.
pub async fn read<T, F>(pool: &ReadPool, f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&mut SqliteConnection) -> Result<T, StoreError> + Send + 'static,
{
    let permit = pool
        .permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| StoreError::Unavailable(format!("read permits: {e}")))?;
    let pool = pool.pool.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let _permit = permit;
        let mut conn = pool
            .get()
            .map_err(|e| StoreError::Unavailable(format!("read connection: {e}")))?;
        f(&mut conn)
    })
    .await
    .map_err(|e| StoreError::Unavailable(format!("read task failed: {e}")))?
}

#[cfg(test)]
mod read_tests {
    use std::collections::HashSet;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[actix_rt::test]
    async fn a_crowd_of_reads_queues_for_the_connections_instead_of_parking_a_thread_each() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("r.sqlite");
        open_writer(&path).expect("db");
        let reads = read_pool(&path).expect("pool");
        let threads = Arc::new(Mutex::new(HashSet::new()));
        let crowd = (0..64).map(|_| {
            let threads = threads.clone();
            read(&reads, move |conn| {
                threads
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(std::thread::current().id());
                std::thread::sleep(Duration::from_millis(5));
                Ok(diesel::sql_query("SELECT 1").execute(conn)?)
            })
        });
        for r in futures_util::future::join_all(crowd).await {
            assert_eq!(r, Ok(0));
        }
        let used = threads.lock().unwrap_or_else(|e| e.into_inner()).len();
        // Without the permits each of the 64 reads takes a blocking thread of its own and waits
        // there for one of the 4 connections.
        assert!(used < 32, "{used} threads ran 64 reads");
    }
}
