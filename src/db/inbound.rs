//! The durable inbound queue (`inbound_events`) and the ingress cursors (`ingress_offsets`).
//!
//! An ingress acknowledges its platform only after `EnqueueInbound` has committed: the events
//! and the new cursor are written in one transaction, so a crash either keeps both or neither.

use diesel::prelude::*;
use diesel::upsert::excluded;

use super::file_grants::FileGrant;
use super::op::WriteOp;
use super::schema::{inbound_events, ingress_offsets};
use crate::domain::{Binding, Channel, EventState};
use crate::error::StoreError;

const PENDING: &str = EventState::Pending.as_str();

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = inbound_events)]
pub struct InboundEventRow {
    pub id: i32,
    pub channel: String,
    pub event_id: String,
    pub tenant_id: String,
    pub session_key: String,
    pub envelope: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at_ms: i64,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// A queued event in its domain form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEvent {
    pub id: i32,
    pub channel: Channel,
    pub event_id: String,
    pub tenant_id: String,
    pub session_key: String,
    /// The envelope JSON exactly as it is POSTed.
    pub envelope: String,
    pub state: EventState,
    pub attempts: i32,
    pub next_attempt_at_ms: i64,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
}

impl InboundEventRow {
    /// The domain form; fails on a channel or state this version cannot read.
    pub fn into_domain(self) -> Result<QueuedEvent, StoreError> {
        let unreadable =
            |field: &str| StoreError::Unavailable(format!("event {}: unreadable {field}", self.id));
        Ok(QueuedEvent {
            channel: Channel::parse(&self.channel).ok_or_else(|| unreadable("channel"))?,
            state: EventState::parse(&self.state).ok_or_else(|| unreadable("state"))?,
            id: self.id,
            event_id: self.event_id,
            tenant_id: self.tenant_id,
            session_key: self.session_key,
            envelope: self.envelope,
            attempts: self.attempts,
            next_attempt_at_ms: self.next_attempt_at_ms,
            last_error: self.last_error,
            created_at_ms: self.created_at_ms,
        })
    }
}

/// The events this version can read; an unreadable row (hand-edited, or from a newer version)
/// is left in place and reported, never guessed at.
fn readable(rows: Vec<InboundEventRow>) -> Vec<QueuedEvent> {
    rows.into_iter()
        .filter_map(|r| match r.into_domain() {
            Ok(e) => Some(e),
            Err(e) => {
                log::error!("event=inbound_event_skipped reason=unreadable error={e}");
                None
            }
        })
        .collect()
}

/// One event to queue for a tenant.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = inbound_events)]
pub struct NewInboundEvent {
    pub channel: String,
    pub event_id: String,
    pub tenant_id: String,
    pub session_key: String,
    /// The envelope JSON exactly as it will be POSTed.
    pub envelope: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at_ms: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// The files the envelope describes, granted to `tenant_id` with the event (contract §5a).
    #[diesel(skip_insertion)]
    pub files: Vec<FileGrant>,
}

impl NewInboundEvent {
    /// The event with the grants of the files its envelope describes.
    pub fn with_files(mut self, files: Vec<FileGrant>) -> NewInboundEvent {
        self.files = files;
        self
    }

    /// A bound chat's message, queued now for the binding's tenant and session.
    pub fn for_binding(binding: &Binding, event_id: String, envelope: &serde_json::Value) -> Self {
        NewInboundEvent::pending(
            binding.channel,
            event_id,
            &binding.tenant_id,
            &binding.session_key,
            envelope.to_string(),
            crate::time::now_ms(),
        )
    }

    pub fn pending(
        channel: Channel,
        event_id: String,
        tenant_id: &str,
        session_key: &str,
        envelope: String,
        now_ms: i64,
    ) -> NewInboundEvent {
        NewInboundEvent {
            channel: channel.as_str().to_owned(),
            event_id,
            tenant_id: tenant_id.to_owned(),
            session_key: session_key.to_owned(),
            envelope,
            state: PENDING.to_owned(),
            attempts: 0,
            next_attempt_at_ms: now_ms,
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
            files: Vec::new(),
        }
    }
}

/// A platform cursor to store with the events it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub channel: String,
    /// '' for a channel-wide cursor (Telegram offset), else e.g. a Discord channel id.
    pub scope_key: String,
    pub value: String,
}

/// Queues events (dropping duplicates by `(channel, event_id)`) and advances a cursor, in one
/// transaction. Answers the tenants that got new events, to wake their forwarders.
pub struct EnqueueInbound {
    pub events: Vec<NewInboundEvent>,
    pub cursor: Option<Cursor>,
    pub now_ms: i64,
}

impl WriteOp for EnqueueInbound {
    type Output = Vec<String>;

    fn apply(self, conn: &mut SqliteConnection) -> Result<Vec<String>, StoreError> {
        let mut woken = Vec::new();
        for event in &self.events {
            let inserted = diesel::insert_into(inbound_events::table)
                .values(event)
                .on_conflict_do_nothing()
                .execute(conn)?;
            // A redelivery renews the grants (a Discord URL refreshed) even when the event
            // itself is a duplicate.
            super::file_grants::save(conn, &event.channel, &event.tenant_id, &event.files)?;
            if inserted == 1 && !woken.contains(&event.tenant_id) {
                woken.push(event.tenant_id.clone());
            }
        }
        if let Some(c) = &self.cursor {
            save_cursor(conn, c, self.now_ms)?;
        }
        Ok(woken)
    }
}

fn save_cursor(conn: &mut SqliteConnection, c: &Cursor, now_ms: i64) -> Result<(), StoreError> {
    diesel::insert_into(ingress_offsets::table)
        .values((
            ingress_offsets::channel.eq(&c.channel),
            ingress_offsets::scope_key.eq(&c.scope_key),
            ingress_offsets::cursor.eq(&c.value),
            ingress_offsets::updated_at_ms.eq(now_ms),
        ))
        .on_conflict((ingress_offsets::channel, ingress_offsets::scope_key))
        .do_update()
        .set((
            ingress_offsets::cursor.eq(excluded(ingress_offsets::cursor)),
            ingress_offsets::updated_at_ms.eq(excluded(ingress_offsets::updated_at_ms)),
        ))
        .execute(conn)?;
    Ok(())
}

/// What one delivery attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Try again at `next_attempt_at_ms`.
    Retry {
        next_attempt_at_ms: i64,
        error: String,
    },
    /// Given up; kept for inspection and manual retry.
    Dead {
        error: String,
    },
}

/// Records the outcome of an attempt on event `id`.
pub struct RecordAttempt {
    pub id: i32,
    pub outcome: Outcome,
    pub now_ms: i64,
}

impl WriteOp for RecordAttempt {
    type Output = ();
    const ONE_STATEMENT: bool = true;

    fn apply(self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        let row = inbound_events::table.find(self.id);
        let now = inbound_events::updated_at_ms.eq(self.now_ms);
        let attempts = inbound_events::attempts.eq(inbound_events::attempts + 1);
        match self.outcome {
            Outcome::Delivered => diesel::update(row)
                .set((
                    inbound_events::state.eq(EventState::Delivered.as_str()),
                    attempts,
                    now,
                    inbound_events::last_error.eq(None::<String>),
                ))
                .execute(conn)?,
            Outcome::Retry {
                next_attempt_at_ms,
                error,
            } => diesel::update(row)
                .set((
                    inbound_events::next_attempt_at_ms.eq(next_attempt_at_ms),
                    inbound_events::last_error.eq(error),
                    attempts,
                    now,
                ))
                .execute(conn)?,
            Outcome::Dead { error } => diesel::update(row)
                .set((
                    inbound_events::state.eq(EventState::Dead.as_str()),
                    inbound_events::last_error.eq(error),
                    attempts,
                    now,
                ))
                .execute(conn)?,
        };
        Ok(())
    }
}

/// `POST /v1/tenant/deliveries/{eventId}/retry`: a dead event of this tenant goes back in line.
pub struct RequeueDead {
    pub tenant_id: String,
    pub event_id: String,
    pub now_ms: i64,
}

impl WriteOp for RequeueDead {
    type Output = ();

    fn apply(self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        let changed = diesel::update(
            inbound_events::table
                .filter(inbound_events::tenant_id.eq(&self.tenant_id))
                .filter(inbound_events::event_id.eq(&self.event_id))
                .filter(inbound_events::state.eq(EventState::Dead.as_str())),
        )
        .set((
            inbound_events::state.eq(PENDING),
            inbound_events::next_attempt_at_ms.eq(self.now_ms),
            // The age limit counts from here: a manual retry gets a full new window.
            inbound_events::created_at_ms.eq(self.now_ms),
            inbound_events::updated_at_ms.eq(self.now_ms),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Err(StoreError::NotFound("delivery not found"));
        }
        Ok(())
    }
}

/// A tenant's pending events after `after_id`, oldest first.
pub fn pending_after(
    conn: &mut SqliteConnection,
    tenant_id: &str,
    after_id: i32,
    limit: i64,
) -> Result<Vec<QueuedEvent>, StoreError> {
    pending(conn, tenant_id, None, after_id, limit)
}

/// One session's pending events after `after_id`, oldest first: a forwarder reads a session's
/// backlog a few events at a time.
pub fn pending_in_session_after(
    conn: &mut SqliteConnection,
    tenant_id: &str,
    session_key: &str,
    after_id: i32,
    limit: i64,
) -> Result<Vec<QueuedEvent>, StoreError> {
    pending(conn, tenant_id, Some(session_key), after_id, limit)
}

fn pending(
    conn: &mut SqliteConnection,
    tenant_id: &str,
    session_key: Option<&str>,
    after_id: i32,
    limit: i64,
) -> Result<Vec<QueuedEvent>, StoreError> {
    let mut query = inbound_events::table
        .filter(inbound_events::tenant_id.eq(tenant_id))
        .filter(inbound_events::state.eq(PENDING))
        .filter(inbound_events::id.gt(after_id))
        .into_boxed();
    if let Some(session_key) = session_key {
        query = query.filter(inbound_events::session_key.eq(session_key));
    }
    let rows = query
        .order(inbound_events::id)
        .limit(limit)
        .select(InboundEventRow::as_select())
        .load(conn)?;
    Ok(readable(rows))
}

/// Tenants that have pending events (their forwarders start at boot).
pub fn tenants_with_pending(conn: &mut SqliteConnection) -> Result<Vec<String>, StoreError> {
    Ok(inbound_events::table
        .filter(inbound_events::state.eq(PENDING))
        .select(inbound_events::tenant_id)
        .distinct()
        .load(conn)?)
}

/// `GET /v1/tenant/deliveries`: waiting or given-up events, oldest first.
pub fn list_deliveries(
    conn: &mut SqliteConnection,
    tenant_id: &str,
    states: &[EventState],
    limit: i64,
) -> Result<Vec<QueuedEvent>, StoreError> {
    let states: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
    let rows = inbound_events::table
        .filter(inbound_events::tenant_id.eq(tenant_id))
        .filter(inbound_events::state.eq_any(states))
        .order(inbound_events::id)
        .limit(limit)
        .select(InboundEventRow::as_select())
        .load(conn)?;
    Ok(readable(rows))
}

/// A stored cursor.
pub fn cursor(
    conn: &mut SqliteConnection,
    channel: &str,
    scope_key: &str,
) -> Result<Option<String>, StoreError> {
    Ok(ingress_offsets::table
        .find((channel, scope_key))
        .select(ingress_offsets::cursor)
        .first(conn)
        .optional()?)
}

crate::write_message!(EnqueueInbound, RecordAttempt, RequeueDead);
