//! A database as the older service writes it (shared/spec/legacy-schema.md), built row by row:
//! its `CREATE TABLE IF NOT EXISTS` statements, WAL, keys and tokens as real SHA-256 hex.

use std::path::Path;

use diesel::{Connection, RunQueryDsl, SqliteConnection};
use sha2::{Digest, Sha256};

/// The older service's schema. Its own index names (one clashes with ours on purpose) and
/// references between its tables are part of what an upgrade must cope with.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tenants (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, api_key_hash TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL DEFAULT 'active', inbound_url TEXT, inbound_token TEXT,
  inbound_timeout_ms INTEGER, created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bindings (
  binding_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  channel TEXT NOT NULL, scope TEXT NOT NULL, route_key TEXT NOT NULL, status TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS bindings_tenant ON bindings(tenant_id);
CREATE INDEX IF NOT EXISTS idx_bindings_route ON bindings(channel, route_key, status);
CREATE TABLE IF NOT EXISTS session_routes (
  tenant_id TEXT NOT NULL, channel TEXT NOT NULL, session_key TEXT NOT NULL,
  binding_id TEXT NOT NULL REFERENCES bindings(binding_id) ON DELETE CASCADE,
  channel_context_json TEXT, updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, channel, session_key));
CREATE TABLE IF NOT EXISTS pairing_tokens (
  token_hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, channel TEXT NOT NULL, session_key TEXT,
  created_at_ms INTEGER NOT NULL, expires_at_ms INTEGER NOT NULL, consumed_at_ms INTEGER,
  consumed_binding_id TEXT, consumed_route_key TEXT);
CREATE TABLE IF NOT EXISTS pairing_codes (
  code TEXT PRIMARY KEY, channel TEXT NOT NULL, route_key TEXT NOT NULL, scope TEXT NOT NULL,
  expires_at_ms INTEGER, claimed_by_tenant_id TEXT, claimed_at_ms INTEGER);
CREATE TABLE IF NOT EXISTS idempotency_keys (
  tenant_id TEXT NOT NULL, key TEXT NOT NULL, request_fingerprint TEXT NOT NULL,
  response_status INTEGER NOT NULL, response_body TEXT NOT NULL, expires_at_ms INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL, PRIMARY KEY (tenant_id, key));
CREATE TABLE IF NOT EXISTS audit_logs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id TEXT, event_type TEXT NOT NULL,
  payload_json TEXT, created_at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS telegram_offsets (
  id INTEGER PRIMARY KEY CHECK (id = 1), last_update_id INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS discord_offsets (
  binding_id TEXT PRIMARY KEY, last_message_id TEXT NOT NULL, updated_at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS whatsapp_inbound_queue (
  id TEXT PRIMARY KEY, dedupe_key TEXT UNIQUE, payload_json TEXT NOT NULL,
  next_attempt_at_ms INTEGER NOT NULL, attempt_count INTEGER NOT NULL DEFAULT 0, last_error TEXT,
  created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL);
";

/// Lowercase hex SHA-256 of the UTF-8 bytes, as the older service hashed keys and tokens.
pub fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A SQL string literal.
pub fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `NULL` or a literal.
pub fn opt(s: Option<&str>) -> String {
    s.map_or_else(|| "NULL".to_owned(), lit)
}

/// The older service's file, open for writing rows; closing it (drop) checkpoints the WAL.
pub struct LegacyDb {
    pub conn: SqliteConnection,
}

impl LegacyDb {
    pub fn create(path: &Path) -> LegacyDb {
        let mut conn = SqliteConnection::establish(&path.to_string_lossy()).expect("create");
        diesel::sql_query("PRAGMA journal_mode = WAL")
            .execute(&mut conn)
            .expect("wal");
        let mut db = LegacyDb { conn };
        for statement in SCHEMA.split(';').filter(|s| !s.trim().is_empty()) {
            db.exec(statement);
        }
        db
    }

    pub fn exec(&mut self, sql: &str) {
        diesel::sql_query(sql)
            .execute(&mut self.conn)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// A tenant with its key (stored as the SHA-256 hex) and, optionally, its inbound target.
    pub fn tenant(&mut self, id: &str, name: &str, key: &str, inbound: Option<(&str, &str)>) {
        self.exec(&format!(
            "INSERT INTO tenants (id, name, api_key_hash, status, inbound_url, inbound_token, \
             inbound_timeout_ms, created_at_ms, updated_at_ms) \
             VALUES ({}, {}, {}, 'active', {}, {}, {}, 1000, 2000)",
            lit(id),
            lit(name),
            lit(&sha256_hex(key)),
            opt(inbound.map(|i| i.0)),
            opt(inbound.map(|i| i.1)),
            if inbound.is_some() { "3000" } else { "NULL" },
        ));
    }

    pub fn binding(
        &mut self,
        id: &str,
        tenant: &str,
        scope: &str,
        route_key: &str,
        status: &str,
        created: i64,
    ) {
        let channel = route_key.split(':').next().expect("channel");
        self.exec(&format!(
            "INSERT INTO bindings VALUES ({}, {}, {}, {}, {}, {}, {created}, {created})",
            lit(id),
            lit(tenant),
            lit(channel),
            lit(scope),
            lit(route_key),
            lit(status),
        ));
    }

    pub fn route(&mut self, tenant: &str, session_key: &str, binding: &str, route_key: &str) {
        let channel = route_key.split(':').next().expect("channel");
        self.exec(&format!(
            "INSERT INTO session_routes VALUES ({}, {}, {}, {}, {}, 5000)",
            lit(tenant),
            lit(channel),
            lit(session_key),
            lit(binding),
            lit(&format!("{{\"routeKey\":\"{route_key}\"}}")),
        ));
    }

    /// A pairing token (its SHA-256 hex), created, expiring and (if given) consumed at these
    /// times.
    pub fn pairing_token(
        &mut self,
        token: &str,
        (tenant, channel, session_key): (&str, &str, Option<&str>),
        (created, expires, consumed): (i64, i64, Option<i64>),
    ) {
        self.exec(&format!(
            "INSERT INTO pairing_tokens (token_hash, tenant_id, channel, session_key, created_at_ms, \
             expires_at_ms, consumed_at_ms) VALUES ({}, {}, {}, {}, {created}, {expires}, {})",
            lit(&sha256_hex(token)),
            lit(tenant),
            lit(channel),
            opt(session_key),
            consumed.map_or_else(|| "NULL".to_owned(), |c| c.to_string()),
        ));
    }
}
