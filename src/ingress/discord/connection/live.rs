//! One message from the gateway: routed like any other, then committed — with the channel's
//! last-seen id only when the caller says the channel is in sync (see `actor`), or when the
//! message just paired its chat (nothing before it concerns the tenant).

use serde_json::Value;

use super::cursors::{dm_cursor, last_seen_cursor};
use crate::error::StoreError;
use crate::ingress::discord::DiscordInbound;
use crate::ingress::discord::message;

/// What the caller knows of the message's channel.
#[derive(Debug, Clone, Copy)]
pub struct Known {
    /// The channel is in sync and the message is newer than its cursor.
    pub advance: bool,
    /// The author's DM channel is not recorded as this channel (only DMs are recorded).
    pub learn_dm: bool,
}

/// What one live message came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Live {
    /// Not a message, or its chat is not bound: nothing stored.
    Skipped,
    /// Committed; `advanced` when the last-seen id moved to this message.
    Committed { advanced: bool, learned_dm: bool },
    /// The store failed: nothing acknowledged.
    Failed(StoreError),
}

pub async fn step(inbound: &DiscordInbound, data: &Value, edit: bool, known: Known) -> Live {
    let Some(msg) = message::parse(data) else {
        return Live::Skipped;
    };
    let processed = match inbound.process(&msg, edit).await {
        Ok(p) if p.bound => p,
        Ok(_) => return Live::Skipped,
        Err(e) => return Live::Failed(e),
    };
    let advanced = known.advance || processed.paired;
    let cursor = advanced.then(|| last_seen_cursor(msg.channel_id, msg.id));
    if let Err(e) = inbound
        .ctx
        .commit(processed.event.into_iter().collect(), cursor)
        .await
    {
        return Live::Failed(e);
    }
    let learned_dm = known.learn_dm
        && msg.is_direct()
        && inbound
            .ctx
            .commit(Vec::new(), Some(dm_cursor(msg.author_id, msg.channel_id)))
            .await
            .is_ok();
    Live::Committed {
        advanced,
        learned_dm,
    }
}
