//! `mux-server backup` while the service writes.

use awc::http::StatusCode;

use super::{env_of, run, stderr, stdout, write_tokens};
use crate::admin::admin_vars;
use crate::helpers::count;
use crate::helpers::diesel_conn;
use crate::helpers::{KEY_A, spawn_app_with, spawn_in};

#[actix_web::test]
async fn a_backup_taken_while_the_server_writes_is_consistent_and_holds_committed_rows() {
    let app = spawn_app_with(admin_vars()).await;
    let committed_before = write_tokens(&app, 50).await as i64;
    let dest = app.dir.path().join("backup.sqlite");
    let env = env_of(&app);
    let dest_arg = dest.to_string_lossy().into_owned();

    // Writes keep coming while the backup runs.
    let backup_args = ["backup", dest_arg.as_str()];
    let (acked_during, backup) =
        futures_util::join!(write_tokens(&app, 200), run(&backup_args, env.clone()));
    assert!(backup.status.success(), "{}", stderr(&backup));
    assert!(
        stdout(&backup).contains("integrity ok"),
        "{}",
        stdout(&backup)
    );
    assert_eq!(acked_during, 200);

    let mut copy = diesel_conn(&dest);
    mux_server::db::backup::integrity_check(&mut copy).expect("PRAGMA integrity_check = ok");
    let in_copy = count(&dest, "pairing_tokens");
    assert!(
        in_copy >= committed_before,
        "{in_copy} < {committed_before}"
    );
    assert!(in_copy <= committed_before + 200);
    assert_eq!(count(&dest, "tenants"), 2);
    // A snapshot: every token row has its audit row (same transaction).
    let audited = count(&dest, "audit_log WHERE action = 'pairing_token_issued'");
    assert_eq!(audited, in_copy);

    let again = run(&["backup", &dest_arg], env).await;
    assert_eq!(again.status.code(), Some(1), "never overwrites");

    // The copy is a working database: the service starts on it and knows the tenants.
    let _dir = app.stop().await;
    let restore = tempfile::tempdir().expect("dir");
    std::fs::copy(&dest, restore.path().join("mux.sqlite")).expect("restore");
    let restored = spawn_in(restore, admin_vars()).await;
    assert_eq!(restored.pairings(KEY_A).await.status, StatusCode::OK);
    restored.stop().await;
}
