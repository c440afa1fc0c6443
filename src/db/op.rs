//! The write-op boundary: what a state change is (`WriteOp`), how it becomes an actor message
//! (`write_message!`), and how a caller hands one to whoever applies writes (`write`).
//!
//! The Writer actor (`crate::actors::writer`) implements the applying side; nothing here knows
//! it. `write` is generic over any actor that handles the op, so the store never points back at
//! the actors that use it.

use actix::dev::ToEnvelope;
use actix::prelude::*;
use diesel::sqlite::SqliteConnection;

use crate::error::StoreError;

/// A state change applied inside a transaction (the Writer runs each in its own savepoint, so a
/// failing op rolls back alone and its batch mates commit).
pub trait WriteOp: Send + 'static {
    type Output: Send + 'static;
    /// The op's `apply` issues at most one writing statement, after any check that can fail:
    /// SQLite undoes a failed statement on its own, so the op needs no savepoint (two statements
    /// fewer, each parsed anew, for the hottest ops: a delivery outcome, a stored answer).
    const ONE_STATEMENT: bool = false;
    fn apply(self, conn: &mut SqliteConnection) -> Result<Self::Output, StoreError>;
}

/// Declares `Message` for write ops, so each is sent as its own typed message.
#[macro_export]
macro_rules! write_message {
    ($($op:ty),+ $(,)?) => {$(
        impl ::actix::Message for $op {
            type Result = Result<<$op as $crate::db::op::WriteOp>::Output, $crate::error::StoreError>;
        }
    )+};
}

/// Sends one op to the actor that applies writes and flattens the mailbox error into the store
/// error.
pub async fn write<A, M>(writer: Addr<A>, op: M) -> Result<M::Output, StoreError>
where
    A: Actor + Handler<M>,
    A::Context: ToEnvelope<A, M>,
    M: WriteOp + Message<Result = Result<<M as WriteOp>::Output, StoreError>>,
{
    writer
        .send(op)
        .await
        .map_err(|e| StoreError::Unavailable(format!("writer mailbox: {e}")))?
}
