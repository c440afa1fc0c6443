//! `file_grants`: which platform file (by its opaque `fileRef`) was forwarded to which tenant
//! (contract §5a). `GET /v1/mux/files/<channel>/<fileRef>` serves a tenant only a file it holds
//! a live grant for. Grants are written with the events that carry them (`EnqueueInbound`), in
//! the same transaction, and pruned once expired (`expire`).

use diesel::prelude::*;
use diesel::upsert::excluded;

use super::schema::file_grants;
use crate::error::StoreError;

/// A file a queued event describes: its opaque reference and what fetches it from the platform
/// (Telegram `file_id`, WhatsApp media id, Discord CDN URL). The locator never leaves mux.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileGrant {
    pub file_ref: String,
    pub locator: String,
    pub expires_at_ms: i64,
}

/// Records (or renews) `tenant_id`'s grants on `channel`'s files.
pub fn save(
    conn: &mut SqliteConnection,
    channel: &str,
    tenant_id: &str,
    grants: &[FileGrant],
) -> Result<(), StoreError> {
    for g in grants {
        diesel::insert_into(file_grants::table)
            .values((
                file_grants::channel.eq(channel),
                file_grants::file_ref.eq(&g.file_ref),
                file_grants::tenant_id.eq(tenant_id),
                file_grants::locator.eq(&g.locator),
                file_grants::expires_at_ms.eq(g.expires_at_ms),
            ))
            .on_conflict((
                file_grants::channel,
                file_grants::file_ref,
                file_grants::tenant_id,
            ))
            .do_update()
            .set((
                file_grants::locator.eq(excluded(file_grants::locator)),
                file_grants::expires_at_ms.eq(excluded(file_grants::expires_at_ms)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The locator of a file `tenant_id` may fetch, if its grant is live.
pub fn locator(
    conn: &mut SqliteConnection,
    channel: &str,
    file_ref: &str,
    tenant_id: &str,
    now_ms: i64,
) -> Result<Option<String>, StoreError> {
    Ok(file_grants::table
        .find((channel, file_ref, tenant_id))
        .filter(file_grants::expires_at_ms.gt(now_ms))
        .select(file_grants::locator)
        .first(conn)
        .optional()?)
}

/// Deletes expired grants (part of the periodic prune); answers how many.
pub fn expire(conn: &mut SqliteConnection, now_ms: i64) -> Result<usize, StoreError> {
    Ok(
        diesel::delete(file_grants::table.filter(file_grants::expires_at_ms.le(now_ms)))
            .execute(conn)?,
    )
}
