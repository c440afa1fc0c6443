//! The audit log: one row per change an operator may need to account for. Rows are written in
//! the same transaction as the change they describe, so the log never claims what did not happen.

use diesel::prelude::*;
use serde_json::Value;

use super::models::{AuditInsertForm, AuditRow};
use super::schema::audit_log;
use crate::error::StoreError;

/// Who caused an audited change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Tenant,
    Admin,
    System,
    Chat,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Tenant => "tenant",
            Actor::Admin => "admin",
            Actor::System => "system",
            Actor::Chat => "chat",
        }
    }
}

/// Appends one audit row. `detail` must hold no secrets.
pub fn record(
    conn: &mut SqliteConnection,
    at_ms: i64,
    tenant_id: Option<&str>,
    actor: Actor,
    action: &str,
    detail: Value,
) -> Result<(), StoreError> {
    diesel::insert_into(audit_log::table)
        .values(AuditInsertForm {
            at_ms,
            tenant_id,
            actor: actor.as_str(),
            action,
            detail: Some(detail.to_string()),
        })
        .execute(conn)?;
    Ok(())
}

/// Newest first, optionally for one tenant.
pub fn list(
    conn: &mut SqliteConnection,
    tenant_id: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditRow>, StoreError> {
    let mut query = audit_log::table
        .select(AuditRow::as_select())
        .order(audit_log::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(t) = tenant_id {
        query = query.filter(audit_log::tenant_id.eq(t));
    }
    Ok(query.load(conn)?)
}
