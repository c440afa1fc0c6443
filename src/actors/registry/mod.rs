//! The Registry: the in-memory truth for hot lookups (tenant by key hash, binding by route,
//! route by session key, inbound targets), loaded from SQLite at start.
//!
//! Every change goes through the Writer first; memory is updated only after the commit, inside
//! the actor, so a lookup never sees state the database does not hold. Hot lookups read the maps
//! directly through a `RegistryView`; the lookup messages answer the same from the actor.

mod admin;
mod discord;
mod handlers;
mod state;
mod view;

pub use crate::domain::{Binding, BindingStatus, InboundTarget};
pub use admin::*;
pub use discord::ListDiscordBindings;
pub use handlers::*;
pub use state::TenantAuth;
pub use view::{RegistryView, TenantForwarding};

use actix::prelude::*;

use crate::actors::writer::Writer;
use crate::db::load::LoadedState;
use crate::db::op::{WriteOp, write};
use crate::error::StoreError;
use state::State;

pub struct Registry {
    writer: Addr<Writer>,
    state: RegistryView,
}

impl Registry {
    pub fn new(writer: Addr<Writer>, loaded: LoadedState) -> Registry {
        Registry {
            writer,
            state: RegistryView::new(State::from_loaded(loaded)),
        }
    }

    /// The maps, for lookups without a message (`view`); the actor stays their only writer.
    pub fn view(&self) -> RegistryView {
        self.state.clone()
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
