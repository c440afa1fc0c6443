//! Discord's messages → queue rows (`DiscordInbound::process`), the same for a gateway dispatch
//! and a REST catch-up page: filtered (bots, system messages, unfurl-only edits), placed (thread
//! or not, `rest::place`), routed (`IngressCtx::route`), images inlined (`media`) and the envelope
//! built (`envelope`). Role: the translator, a plain value the connection actor calls; it keeps
//! only caches (the bot's own id, thread parents), never progress.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use twilight_http::Client;

use super::envelope::Placement;
use super::message::{DcMessage, is_thread_type};
use super::rest::{self, Place};
use super::{envelope, media};
use crate::db::inbound::NewInboundEvent;
use crate::domain::Channel;
use crate::error::StoreError;
use crate::ingress::media::linked_attachments;
use crate::ingress::{IngressCtx, Routed, Seen};

/// Threads remembered; past this the cache starts over (a lookup costs one REST call).
const MAX_PLACES: usize = 100_000;

/// Turns Discord messages into queue rows (pairing and notices on the way).
#[derive(Clone)]
pub struct DiscordInbound {
    pub ctx: IngressCtx,
    pub http: Arc<Client>,
    pub media_max_bytes: u64,
    /// The bot's own user id from READY (0 until then): its messages are never forwarded.
    own_user_id: Arc<AtomicU64>,
    places: Arc<Mutex<HashMap<u64, Place>>>,
}

/// What handling one message came to.
#[derive(Debug)]
pub struct Processed {
    /// The queue row, when the message is forwarded.
    pub event: Option<NewInboundEvent>,
    /// The message's chat is bound (or was just paired by it).
    pub bound: bool,
    /// This message paired its chat: the chat's history starts here.
    pub paired: bool,
}

impl Processed {
    fn skipped() -> Processed {
        Processed {
            event: None,
            bound: false,
            paired: false,
        }
    }
}

impl DiscordInbound {
    pub fn new(ctx: IngressCtx, http: Arc<Client>, media_max_bytes: u64) -> DiscordInbound {
        DiscordInbound {
            ctx,
            http,
            media_max_bytes,
            own_user_id: Arc::new(AtomicU64::new(0)),
            places: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub fn set_own_user_id(&self, id: u64) {
        self.own_user_id.store(id, Ordering::Relaxed);
    }

    /// Routes one message: pairs, answers, drops, or builds its queue row. `edit` marks a
    /// MESSAGE_UPDATE, forwarded only when a person edited the message (`edited_timestamp`);
    /// embed unfurls also arrive as updates and are not news to the tenant.
    pub async fn process(&self, msg: &DcMessage, edit: bool) -> Result<Processed, StoreError> {
        let from_bot = msg.from_bot || msg.author_id == self.own_user_id.load(Ordering::Relaxed);
        if from_bot || !msg.is_user_message() || (edit && msg.edited_timestamp.is_none()) {
            return Ok(Processed::skipped());
        }
        let place = self.place(msg).await;
        let parent = match place {
            Place::Thread { parent } => parent,
            Place::Plain => None,
        };
        let route_keys = msg.route_keys(parent);
        let event_id = msg.event_id(edit);
        let seen = Seen {
            channel: Channel::Discord,
            route_keys: &route_keys,
            text: msg.text(),
            from_bot,
            event_id: &event_id,
        };
        let binding = match self.ctx.route(seen).await? {
            Routed::Forwarded(binding) => binding,
            other => {
                return Ok(Processed {
                    event: None,
                    bound: other.chat_bound(),
                    paired: matches!(other, Routed::Paired),
                });
            }
        };
        let (described, mut attachments, grants) =
            media::inline(&msg.attachments, self.media_max_bytes, &self.ctx.public_url).await;
        attachments.extend(linked_attachments(&described));
        if msg.text().is_none() && attachments.is_empty() {
            log::warn!(
                "event=inbound_dropped channel=discord event_id={event_id} reason=no_text_and_no_inlined_media"
            );
            return Ok(Processed {
                event: None,
                bound: true,
                paired: false,
            });
        }
        let route_key = binding.route_key.to_string();
        let at = Placement {
            session_key: &binding.session_key,
            route_key: &route_key,
            thread_id: matches!(place, Place::Thread { .. }).then_some(msg.channel_id),
            edit,
        };
        let envelope = envelope::build(msg, &at, described, attachments);
        let event = NewInboundEvent::for_binding(&binding, event_id, &envelope).with_files(grants);
        Ok(Processed {
            event: Some(event),
            bound: true,
            paired: false,
        })
    }

    /// Whether the message's channel is a thread, and its parent. DMs and channels the gateway
    /// typed as non-threads need no call; otherwise the answer is cached per channel.
    async fn place(&self, msg: &DcMessage) -> Place {
        if msg.is_direct() || msg.channel_type.is_some_and(|t| !is_thread_type(t)) {
            return Place::Plain;
        }
        if let Some(place) = self.lock_places().get(&msg.channel_id) {
            return *place;
        }
        let (place, keep) = match rest::place(&self.http, msg.channel_id).await {
            Ok(place) => (place, true),
            Err(e) => {
                log::warn!(
                    "event=discord_channel_lookup_failed channel_id={} error={e}",
                    msg.channel_id
                );
                let guess = match msg.channel_type {
                    Some(_) => Place::Thread { parent: None },
                    None => Place::Plain,
                };
                // A 403/404 will not change soon, and asking again counts toward Discord's
                // invalid-request limit: remember the guess. Other failures are asked again.
                (guess, e.is_gone())
            }
        };
        if keep {
            let mut places = self.lock_places();
            if places.len() >= MAX_PLACES {
                places.clear();
            }
            places.insert(msg.channel_id, place);
        }
        place
    }

    fn lock_places(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Place>> {
        self.places.lock().unwrap_or_else(|e| e.into_inner())
    }
}
