//! The Registry: the in-memory truth for hot lookups (tenant by key hash, binding by route,
//! route by session key, inbound targets), loaded from SQLite at start.
//!
//! Every change goes through the Writer first; memory is updated only after the commit, inside
//! the actor, so a lookup never sees state the database does not hold.

mod admin;
mod discord;
mod handlers;
mod state;

pub use crate::domain::{Binding, BindingStatus, InboundTarget};
pub use admin::*;
pub use discord::ListDiscordBindings;
pub use handlers::*;
pub use state::TenantAuth;

use actix::prelude::*;

use crate::actors::writer::Writer;
use crate::db::load::LoadedState;
use crate::db::op::{WriteOp, write};
use crate::error::StoreError;
use state::State;

pub struct Registry {
    writer: Addr<Writer>,
    state: State,
}

impl Registry {
    pub fn new(writer: Addr<Writer>, loaded: LoadedState) -> Registry {
        Registry {
            writer,
            state: State::from_loaded(loaded),
        }
    }
}

impl Actor for Registry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Every tenant request asks the registry; let bursts queue rather than fail.
        ctx.set_mailbox_capacity(65_536);
    }
}

impl Registry {
    /// The one way the Registry changes: write through the Writer, then — in the actor, after the
    /// commit — let `apply` update memory from the result.
    fn write_then<M, R, F>(&self, op: M, apply: F) -> ResponseActFuture<Self, R>
    where
        M: WriteOp + Message<Result = Result<<M as WriteOp>::Output, StoreError>>,
        R: 'static,
        F: FnOnce(Result<M::Output, StoreError>, &mut Registry, &mut Context<Registry>) -> R
            + 'static,
    {
        Box::pin(write(self.writer.clone(), op).into_actor(self).map(apply))
    }
}
