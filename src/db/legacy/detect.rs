//! What kind of SQLite file `MUX_DB_PATH` names, read before anything writes to it: empty (a new
//! deployment), ours (diesel's migrations table is there), the older service's
//! (`shared/spec/legacy-schema.md`: only its tables, each with the columns the upgrade reads), or
//! something else, which is refused and never modified.

use std::collections::BTreeSet;

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::error::StoreError;

/// diesel's bookkeeping table: its presence means the file is ours.
const MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

/// The older service's tables and the columns the upgrade reads from each. A database from an
/// older deployment may lack a table (it is then empty); extra columns are ignored.
pub const LEGACY_TABLES: [(&str, &[&str]); 10] = [
    (
        "tenants",
        &[
            "id",
            "name",
            "api_key_hash",
            "status",
            "inbound_url",
            "inbound_token",
            "inbound_timeout_ms",
            "created_at_ms",
            "updated_at_ms",
        ],
    ),
    (
        "bindings",
        &[
            "binding_id",
            "tenant_id",
            "channel",
            "scope",
            "route_key",
            "status",
            "created_at_ms",
            "updated_at_ms",
        ],
    ),
    (
        "session_routes",
        &[
            "tenant_id",
            "channel",
            "session_key",
            "binding_id",
            "updated_at_ms",
        ],
    ),
    (
        "pairing_tokens",
        &[
            "token_hash",
            "tenant_id",
            "channel",
            "session_key",
            "created_at_ms",
            "expires_at_ms",
            "consumed_at_ms",
        ],
    ),
    (
        "pairing_codes",
        &[
            "code",
            "channel",
            "route_key",
            "scope",
            "expires_at_ms",
            "claimed_by_tenant_id",
            "claimed_at_ms",
        ],
    ),
    (
        "idempotency_keys",
        &[
            "tenant_id",
            "key",
            "request_fingerprint",
            "response_status",
            "response_body",
            "expires_at_ms",
            "created_at_ms",
        ],
    ),
    (
        "audit_logs",
        &[
            "id",
            "tenant_id",
            "event_type",
            "payload_json",
            "created_at_ms",
        ],
    ),
    ("telegram_offsets", &["id", "last_update_id"]),
    ("discord_offsets", &["binding_id", "last_message_id"]),
    // Only counted and kept aside, so any shape will do.
    ("whatsapp_inbound_queue", &[]),
];

/// What the file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// No tables at all (a new file, or an empty one).
    Empty,
    /// A mux-server database (migrated, perhaps not to the latest migration).
    Ours,
    /// The older service's database; the names of the legacy tables it has.
    Legacy(BTreeSet<&'static str>),
    /// Neither: why, in a few words.
    Foreign(String),
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// The tables of the file, SQLite's own (`sqlite_sequence`, …) left out.
fn tables(conn: &mut SqliteConnection) -> QueryResult<Vec<String>> {
    Ok(diesel::sql_query(
        "SELECT name FROM sqlite_master \
         WHERE type = 'table' AND substr(name, 1, 7) <> 'sqlite_' ORDER BY name",
    )
    .load::<Name>(conn)?
    .into_iter()
    .map(|n| n.name)
    .collect())
}

fn columns(conn: &mut SqliteConnection, table: &str) -> QueryResult<Vec<String>> {
    Ok(diesel::sql_query("SELECT name FROM pragma_table_info(?)")
        .bind::<Text, _>(table)
        .load::<Name>(conn)?
        .into_iter()
        .map(|n| n.name)
        .collect())
}

/// Reads the schema only; never writes.
pub fn detect(conn: &mut SqliteConnection) -> Result<Found, StoreError> {
    let tables = tables(conn)
        .map_err(|e| StoreError::Unavailable(format!("not a readable SQLite database ({e})")))?;
    if tables.is_empty() {
        return Ok(Found::Empty);
    }
    if tables.iter().any(|t| t == MIGRATIONS_TABLE) {
        return Ok(Found::Ours);
    }
    let unknown: Vec<&str> = tables
        .iter()
        .map(String::as_str)
        .filter(|t| !LEGACY_TABLES.iter().any(|(name, _)| name == t))
        .collect();
    if !unknown.is_empty() {
        return Ok(Found::Foreign(format!(
            "tables unknown to both: {}",
            unknown.join(", ")
        )));
    }
    let mut present = BTreeSet::new();
    for (table, wanted) in LEGACY_TABLES {
        if !tables.iter().any(|t| t == table) {
            continue;
        }
        let have = columns(conn, table)?;
        let missing: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|c| !have.iter().any(|h| h == c))
            .collect();
        if !missing.is_empty() {
            return Ok(Found::Foreign(format!(
                "table {table} lacks {}",
                missing.join(", ")
            )));
        }
        present.insert(table);
    }
    Ok(Found::Legacy(present))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn with(statements: &[&str]) -> Found {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        for s in statements {
            diesel::sql_query(*s).execute(&mut conn).unwrap();
        }
        detect(&mut conn).unwrap()
    }

    const OLD_TENANTS: &str = "CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT, \
        api_key_hash TEXT UNIQUE, status TEXT, inbound_url TEXT, inbound_token TEXT, \
        inbound_timeout_ms INTEGER, created_at_ms INTEGER, updated_at_ms INTEGER, extra TEXT)";

    #[test]
    fn the_kind_of_file_is_told_by_its_tables_and_columns() {
        assert_eq!(with(&[]), Found::Empty);
        let mut ours = SqliteConnection::establish(":memory:").unwrap();
        crate::db::run_migrations(&mut ours).unwrap();
        assert_eq!(detect(&mut ours).unwrap(), Found::Ours);
        assert_eq!(
            with(&[
                OLD_TENANTS,
                "CREATE TABLE audit_logs (id INTEGER PRIMARY KEY AUTOINCREMENT, \
                  tenant_id TEXT, event_type TEXT, payload_json TEXT, created_at_ms INTEGER)"
            ]),
            Found::Legacy(["audit_logs", "tenants"].into_iter().collect())
        );
        let Found::Foreign(why) = with(&[OLD_TENANTS, "CREATE TABLE users (id INTEGER)"]) else {
            panic!("an unknown table makes it foreign");
        };
        assert_eq!(why, "tables unknown to both: users");
        let Found::Foreign(why) = with(&["CREATE TABLE tenants (id TEXT, name TEXT)"]) else {
            panic!("a tenants table without the older service's columns is not its");
        };
        assert!(why.starts_with("table tenants lacks api_key_hash"), "{why}");
    }
}
