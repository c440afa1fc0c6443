//! What Discord ingress asks the Registry: the bound Discord places, for the REST catch-up that
//! covers gateway outages. Answered from memory, so a pass over thousands of bindings costs one
//! mailbox round trip.

use actix::prelude::*;

use super::Registry;
use crate::domain::Channel;
use crate::domain::{Binding, BindingStatus};

/// Every active Discord binding (DM and guild channel), and every pending DM binding (its pairing
/// token is read from the DM by REST too when the gateway is away), oldest first so that a long
/// catch-up pass serves long-standing bindings in a stable order.
#[derive(Message)]
#[rtype(result = "Vec<Binding>")]
pub struct ListDiscordBindings;

impl Handler<ListDiscordBindings> for Registry {
    type Result = Vec<Binding>;

    fn handle(&mut self, _: ListDiscordBindings, _: &mut Self::Context) -> Self::Result {
        let mut list: Vec<Binding> = self
            .state
            .read()
            .bindings
            .values()
            .filter(|b| {
                b.channel == Channel::Discord
                    && (b.status == BindingStatus::Active
                        || (b.status == BindingStatus::Pending && b.route_key.is_discord_dm()))
            })
            .cloned()
            .collect();
        list.sort_by(|a, b| {
            a.created_at_ms
                .cmp(&b.created_at_ms)
                .then_with(|| a.binding_id.cmp(&b.binding_id))
        });
        list
    }
}
