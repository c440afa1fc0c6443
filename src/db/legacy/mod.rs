//! Upgrading, in place, a database written by the older TypeScript service
//! (`shared/spec/legacy-schema.md`; issue 10 §1). `db::open_writer` and `mux-server migrate` call
//! it before the migrations: such a file has the older service's tables and no diesel
//! migrations table, so the migrations alone would stop at `table tenants already exists`.
//!
//! - `detect`: empty, ours, the older service's, or something else (refused, never modified).
//! - `upgrade`: a consistent copy beside the file first (`<file>.pre-upgrade-<unix ms>.bak`), then
//!   one transaction: the old tables set aside, the migrations, every row moved into the current
//!   schema (`tenants`: tenants, keys, bindings, session routes; `pairing`: tokens and codes;
//!   `rows`: audit log and idempotent answers; `offsets`: where ingress resumes), the old
//!   tables dropped (a WhatsApp Web queue with rows is kept as `legacy_whatsapp_inbound_queue`). A crash
//!   at any point leaves the file as it was or fully upgraded.
//!
//! What is carried over and how (hashes, statuses, cursors) is written beside each move.

pub mod detect;
mod offsets;
mod pairing;
mod rows;
mod tenants;
pub mod upgrade;
mod words;

pub use detect::{Found, detect};
pub use offsets::DM_CURSOR_PREFIX;
pub use upgrade::{Moved, UpgradeReport, fail_next_upgrade_of, upgrade, write_backup};

/// The name an old table has while its rows are moved (and, for the WhatsApp Web queue, after).
fn set_aside(table: &str) -> String {
    format!("legacy_{table}")
}
