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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::db::inbound::{EnqueueInbound, NewInboundEvent};
    use crate::db::op::WriteOp;
    use crate::db::prune::Prune;
    use crate::domain::Channel;

    fn grant(file_ref: &str, locator: &str, expires_at_ms: i64) -> FileGrant {
        FileGrant {
            file_ref: file_ref.into(),
            locator: locator.into(),
            expires_at_ms,
        }
    }

    #[test]
    fn grants_come_with_their_event_are_per_tenant_renewed_and_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let conn = &mut crate::db::open_writer(&dir.path().join("g.sqlite")).unwrap();
        let seed = |id: &str| crate::config::TenantSeed {
            id: id.into(),
            name: id.into(),
            api_key: format!("key-{id}").into(),
            inbound: None,
        };
        crate::db::tenants::SeedTenants {
            seeds: vec![seed("a"), seed("b")],
            now_ms: 0,
        }
        .apply(conn)
        .unwrap();
        let ev = |id: &str, tenant: &str, files| {
            NewInboundEvent::pending(Channel::Telegram, id.into(), tenant, "s", "{}".into(), 0)
                .with_files(files)
        };
        EnqueueInbound {
            events: vec![
                ev("1", "a", vec![grant("r1", "file-1", 100)]),
                ev("2", "b", vec![grant("r2", "file-2", 100)]),
            ],
            cursor: None,
            now_ms: 0,
        }
        .apply(conn)
        .unwrap();
        let get = |conn: &mut SqliteConnection, r: &str, t: &str, now| {
            locator(conn, "telegram", r, t, now).unwrap()
        };
        assert_eq!(get(conn, "r1", "a", 50), Some("file-1".into()));
        assert_eq!(get(conn, "r1", "b", 50), None, "another tenant's file");
        assert_eq!(get(conn, "r1", "a", 100), None, "expired");
        // A redelivery of the same event renews the grant (a Discord URL may have changed).
        EnqueueInbound {
            events: vec![ev("1", "a", vec![grant("r1", "file-1b", 500)])],
            cursor: None,
            now_ms: 0,
        }
        .apply(conn)
        .unwrap();
        assert_eq!(get(conn, "r1", "a", 200), Some("file-1b".into()));
        let pruned = Prune { now_ms: 200 }.apply(conn).unwrap();
        assert_eq!(pruned.file_grants, 1);
        assert_eq!(get(conn, "r1", "a", 200), Some("file-1b".into()));
    }
}
