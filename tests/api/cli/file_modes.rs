//! Issue 9.5: the database and the log file hold inbound tokens and message text; they are
//! created owner-only whatever the umask.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use super::BIN;
use crate::helpers::spawn_app;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[actix_web::test]
async fn the_database_and_log_file_are_0600_even_with_umask_000() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("data/mux.sqlite");
    let log = dir.path().join("mux.log");
    let out = actix_web::rt::task::spawn_blocking({
        let (db, log) = (db.clone(), log.clone());
        move || {
            Command::new("sh")
                .args(["-c", "umask 000 && exec \"$0\" migrate", BIN])
                .env_clear()
                .env("MUX_DB_PATH", &db)
                .env("MUX_LOG_PATH", &log)
                .output()
                .expect("runs")
        }
    })
    .await
    .expect("join");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&db), 0o600, "database");
    assert_eq!(mode(&log), 0o600, "log file");
    assert_eq!(mode(db.parent().expect("dir")), 0o700, "its new directory");
}

#[actix_web::test]
async fn the_wal_of_the_running_service_is_0600_and_a_loose_database_is_narrowed() {
    let app = spawn_app().await;
    let wal = format!("{}-wal", app.db_path.display());
    assert_eq!(
        mode(Path::new(&wal)),
        0o600,
        "SQLite gives the WAL the database's mode"
    );
    assert_eq!(mode(&app.db_path), 0o600);
    let db = app.db_path.clone();
    let dir = app.stop().await;
    // A database from before (or restored with a loose mode) is narrowed at the next start.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let app = crate::helpers::spawn_in(dir, crate::helpers::two_tenants()).await;
    assert_eq!(mode(&app.db_path), 0o600);
    app.stop().await;
}
