//! The upgrade itself: the copy beside the file, then one transaction around everything else.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use diesel_migrations::MigrationHarness;
use serde_json::json;

use super::{offsets, pairing, rows, set_aside, tenants};
use crate::db::audit::{self, Actor};
use crate::db::backup::integrity_check;
use crate::error::StoreError;

/// The WhatsApp Web (Baileys) queue: this service has no such transport, so its rows (if any)
/// are kept as `legacy_whatsapp_inbound_queue` for the operator, never delivered.
pub const WHATSAPP_QUEUE: &str = "whatsapp_inbound_queue";

/// What the upgrade carried over.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Moved {
    pub tenants: usize,
    /// Tenant keys, kept as their SHA-256 hashes.
    pub keys: usize,
    pub bindings: usize,
    /// Active bindings unbound because an older binding of another (or the same) tenant held
    /// the same route.
    pub route_conflicts: usize,
    pub session_routes: usize,
    /// Unconsumed, unexpired pairing tokens.
    pub pairing_tokens: usize,
    pub pairing_codes: usize,
    /// Finished, unexpired idempotent answers.
    pub idempotency_keys: usize,
    pub audit_rows: usize,
    /// Where Telegram polling resumes (`last_update_id + 1`).
    pub telegram_offset: Option<i64>,
    /// Discord catch-up cursors (one per channel or thread).
    pub discord_cursors: usize,
    /// Rows left in `legacy_whatsapp_inbound_queue` (None: no such table, or unreadable).
    pub whatsapp_queue: Option<i64>,
    /// Rows not carried over, by reason (`tokens_used_or_expired`, …).
    pub skipped: BTreeMap<&'static str, usize>,
}

impl Moved {
    pub(super) fn skip(&mut self, reason: &'static str, n: usize) {
        if n > 0 {
            *self.skipped.entry(reason).or_default() += n;
        }
    }
}

/// What an upgrade did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeReport {
    /// The copy of the file as the older service left it.
    pub backup: PathBuf,
    pub moved: Moved,
    pub migrations_applied: usize,
    pub elapsed_ms: u128,
}

/// Files whose next upgrade fails half-way (see [`fail_next_upgrade_of`]).
static FAIL_NEXT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Test hook: the next upgrade of the file at `path` fails inside its transaction, after the
/// migrations and the tenants and bindings have been written, as a crash there would. Used by
/// the crash-during-upgrade test; nothing else calls it.
#[doc(hidden)]
pub fn fail_next_upgrade_of(path: &Path) {
    FAIL_NEXT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(path.to_owned());
}

fn take_failure(path: &Path) -> bool {
    let mut paths = FAIL_NEXT.lock().unwrap_or_else(|e| e.into_inner());
    let before = paths.len();
    paths.retain(|p| p != path);
    paths.len() != before
}

/// Writes a consistent copy of the file, as the older service left it, to
/// `<file>.pre-upgrade-<unix ms>.bak` (owner-only: it holds inbound tokens) and checks it.
pub fn write_backup(
    conn: &mut SqliteConnection,
    path: &Path,
    now_ms: i64,
) -> Result<PathBuf, StoreError> {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".pre-upgrade-{now_ms}.bak"));
    let backup = PathBuf::from(name);
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        StoreError::Unavailable(format!("{what} {}: {e}", backup.display()))
    };
    // VACUUM INTO accepts an existing empty file; creating it first sets its mode.
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&backup)
        .map_err(|e| fail("cannot create the pre-upgrade copy", &e))?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(backup.to_string_lossy().into_owned())
        .execute(conn)
        .map_err(|e| fail("cannot write the pre-upgrade copy", &e))?;
    let mut copy = SqliteConnection::establish(&backup.to_string_lossy())
        .map_err(|e| fail("cannot open the pre-upgrade copy", &e))?;
    integrity_check(&mut copy).map_err(|e| fail("pre-upgrade copy", &e))?;
    Ok(backup)
}

/// Moves everything into the current schema in one transaction (the migrations included), with
/// foreign keys checked once at the end rather than row by row.
pub fn upgrade(
    conn: &mut SqliteConnection,
    path: &Path,
    tables: &BTreeSet<&'static str>,
    backup: PathBuf,
    now_ms: i64,
) -> Result<UpgradeReport, StoreError> {
    let started = Instant::now();
    // Cannot change inside a transaction; the old tables' own references must not cascade as
    // they are dropped. `foreign_key_check` below checks the new rows instead.
    diesel::sql_query("PRAGMA foreign_keys = OFF").execute(conn)?;
    let result = conn.immediate_transaction(|c| move_all(c, path, tables, now_ms));
    let restored = diesel::sql_query("PRAGMA foreign_keys = ON").execute(conn);
    let (moved, migrations_applied) = result?;
    restored?;
    let report = UpgradeReport {
        backup,
        moved,
        migrations_applied,
        elapsed_ms: started.elapsed().as_millis(),
    };
    log_report(&report);
    Ok(report)
}

fn move_all(
    c: &mut SqliteConnection,
    path: &Path,
    tables: &BTreeSet<&'static str>,
    now_ms: i64,
) -> Result<(Moved, usize), StoreError> {
    for table in tables {
        set_table_aside(c, table)?;
    }
    let applied = c
        .run_pending_migrations(crate::db::MIGRATIONS)
        .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))?
        .len();
    let has = |t: &str| tables.contains(t);
    let mut moved = Moved::default();
    // Audit rows keep their ids, so they go first: the upgrade's own rows come after them.
    rows::audit(c, &has, &mut moved)?;
    let known = tenants::tenants(c, &has, &mut moved)?;
    let bindings = tenants::bindings(c, &has, &known, now_ms, &mut moved)?;
    if take_failure(path) {
        return Err(StoreError::Unavailable(
            "upgrade interrupted half-way (test hook)".into(),
        ));
    }
    pairing::pairing_tokens(c, &has, &known, &bindings, now_ms, &mut moved)?;
    pairing::pairing_codes(c, &has, now_ms, &mut moved)?;
    rows::idempotency_keys(c, &has, &known, now_ms, &mut moved)?;
    offsets::offsets(c, &has, now_ms, &mut moved)?;
    moved.whatsapp_queue = has(WHATSAPP_QUEUE)
        .then(|| rows::count(c, &set_aside(WHATSAPP_QUEUE)))
        .flatten();
    // An empty queue has nothing to keep.
    let keep_queue = moved.whatsapp_queue != Some(0);
    for table in tables
        .iter()
        .filter(|t| **t != WHATSAPP_QUEUE || !keep_queue)
    {
        diesel::sql_query(format!("DROP TABLE {}", set_aside(table))).execute(c)?;
    }
    check_foreign_keys(c)?;
    audit::record(
        c,
        now_ms,
        None,
        Actor::System,
        "legacy_database_upgraded",
        json!({
            "tenants": moved.tenants,
            "bindings": moved.bindings,
            "routeConflicts": moved.route_conflicts,
            "whatsappQueueKept": moved.whatsapp_queue,
            "skipped": moved.skipped,
        }),
    )?;
    Ok((moved, applied))
}

#[derive(QueryableByName)]
struct SchemaObject {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    r#type: String,
}

/// Renames an old table out of the way of the new one of the same name, after dropping its
/// indexes and triggers (their names could clash with the new schema's; the table goes anyway).
fn set_table_aside(c: &mut SqliteConnection, table: &str) -> Result<(), StoreError> {
    let objects: Vec<SchemaObject> = diesel::sql_query(
        "SELECT name, type FROM sqlite_master \
         WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL",
    )
    .bind::<Text, _>(table)
    .load(c)?;
    for o in objects {
        let kind = if o.r#type == "index" {
            "INDEX"
        } else {
            "TRIGGER"
        };
        diesel::sql_query(format!("DROP {kind} \"{}\"", o.name.replace('"', "\"\""))).execute(c)?;
    }
    diesel::sql_query(format!(
        "ALTER TABLE {table} RENAME TO {}",
        set_aside(table)
    ))
    .execute(c)?;
    Ok(())
}

#[derive(QueryableByName)]
struct ForeignKeyViolation {
    #[diesel(sql_type = Text)]
    table: String,
    #[diesel(sql_type = Nullable<Text>)]
    parent: Option<String>,
}

/// Every moved row must point at rows that exist (the moves skip orphans; this proves it).
fn check_foreign_keys(c: &mut SqliteConnection) -> Result<(), StoreError> {
    let bad: Vec<ForeignKeyViolation> = diesel::sql_query("PRAGMA foreign_key_check").load(c)?;
    match bad.first() {
        None => Ok(()),
        Some(v) => Err(StoreError::Unavailable(format!(
            "upgrade left {} rows without their parent (first: {} → {})",
            bad.len(),
            v.table,
            v.parent.as_deref().unwrap_or("?")
        ))),
    }
}

fn log_report(r: &UpgradeReport) {
    let m = &r.moved;
    let skipped: Vec<String> = m.skipped.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    log::info!(
        "event=legacy_database_upgraded tenants={} keys={} bindings={} route_conflicts={} \
         session_routes={} pairing_tokens={} pairing_codes={} idempotency_keys={} audit_rows={} \
         telegram_offset={} discord_cursors={} skipped={} elapsed_ms={} backup={}",
        m.tenants,
        m.keys,
        m.bindings,
        m.route_conflicts,
        m.session_routes,
        m.pairing_tokens,
        m.pairing_codes,
        m.idempotency_keys,
        m.audit_rows,
        m.telegram_offset
            .map_or_else(|| "none".to_owned(), |o| o.to_string()),
        m.discord_cursors,
        if skipped.is_empty() {
            "none".to_owned()
        } else {
            skipped.join(",")
        },
        r.elapsed_ms,
        r.backup.display(),
    );
    if let Some(rows) = m.whatsapp_queue.filter(|n| *n > 0) {
        log::warn!(
            "event=legacy_whatsapp_queue_kept rows={rows} table={} reason=\"WhatsApp Web is not a \
             transport of this service; the rows are kept, not delivered\"",
            set_aside(WHATSAPP_QUEUE)
        );
    }
}
