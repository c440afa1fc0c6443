//! Errors at the store boundary. Each variant is an outcome a caller treats differently.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Outcome of a write or read that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for is not there (or not the caller's).
    #[error("{0}")]
    NotFound(&'static str),
    /// The change collides with existing state; the message is the public answer.
    #[error("{0}")]
    Conflict(&'static str),
    /// The database cannot take writes right now (locked, read-only, full disk, shutting down).
    #[error("database unavailable: {0}")]
    Unavailable(String),
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => StoreError::NotFound("not found"),
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                StoreError::Conflict("already exists")
            }
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}
