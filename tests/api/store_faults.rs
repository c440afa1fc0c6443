//! Issue 9.3: `/ready` tells the truth when the disk is full or the WAL is deleted under the
//! running service, and writes are refused with 503 rather than acknowledged and lost.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use awc::http::StatusCode;
use serde_json::json;

use crate::helpers::{KEY_A, TestApp, spawn_app, two_tenants};

/// A write answers `503 DB_UNAVAILABLE` and `/ready` answers 503; its answer is returned.
async fn writes_refused_and_unready(app: &TestApp) -> crate::helpers::Reply {
    let refused = app.issue_token(KEY_A, json!({"channel": "telegram"})).await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.body
    );
    assert_eq!(refused.body["code"], "DB_UNAVAILABLE");
    let ready = app.ready().await;
    assert_eq!(
        ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        ready.body
    );
    ready
}

#[actix_web::test]
async fn a_deleted_wal_refuses_writes_with_503_and_ready_reports_it() {
    let app = spawn_app().await;
    let token = app.issue_token(KEY_A, json!({"channel": "telegram"})).await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.body);
    let wal = PathBuf::from(format!("{}-wal", app.db_path.display()));
    std::fs::remove_file(&wal).expect("the WAL exists while the service runs");

    let ready = writes_refused_and_unready(&app).await;
    assert_eq!(ready.body["ok"], json!(false));
    let problem = ready.body["database"].as_str().expect("database text");
    assert!(problem.contains("mux.sqlite-wal was deleted"), "{problem}");
    // Still refused later: nothing is acknowledged into a file that is gone.
    let again = app.issue_token(KEY_A, json!({"channel": "telegram"})).await;
    assert_eq!(again.status, StatusCode::SERVICE_UNAVAILABLE);
    app.stop().await;
}

#[actix_web::test]
async fn a_replaced_wal_is_noticed_too() {
    let app = spawn_app().await;
    let wal = PathBuf::from(format!("{}-wal", app.db_path.display()));
    let copy = app.dir.path().join("copy");
    std::fs::copy(&wal, &copy).expect("copy");
    std::fs::rename(&copy, &wal).expect("replace");
    let ready = app.ready().await;
    assert_eq!(
        ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        ready.body
    );
    assert!(
        ready.body["database"]
            .as_str()
            .is_some_and(|d| d.contains("was replaced")),
        "{}",
        ready.body
    );
    app.stop().await;
}

/// A small tmpfs mounted over a temp dir, unmounted on drop.
struct SmallDisk {
    dir: Option<tempfile::TempDir>,
    mount: PathBuf,
}

impl SmallDisk {
    /// None (with the reason printed) where this process may not mount.
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().expect("temp dir");
        let mount = dir.path().to_owned();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(&mount)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(SmallDisk {
                dir: Some(dir),
                mount,
            }),
            Ok(o) => {
                eprintln!(
                    "SKIPPED: cannot mount a tmpfs here ({}): the full-disk test needs root or CAP_SYS_ADMIN",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIPPED: cannot run mount ({e}): the full-disk test needs it");
                None
            }
        }
    }

    fn take_dir(&mut self) -> tempfile::TempDir {
        self.dir.take().expect("dir given once")
    }

    /// Writes a file until the disk is full.
    fn fill(&self) -> PathBuf {
        let path = self.mount.join("filler");
        let mut f = std::fs::File::create(&path).expect("filler");
        let chunk = vec![0u8; 64 * 1024];
        loop {
            if let Err(e) = f.write_all(&chunk).and_then(|()| f.sync_all()) {
                assert_eq!(e.raw_os_error(), Some(28), "ENOSPC, got {e}");
                break;
            }
        }
        // Fill what remains to the last byte.
        while f.write_all(&[0u8; 512]).is_ok() {}
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.mount).status();
    }
}

#[actix_web::test]
async fn a_full_disk_makes_ready_unhealthy_and_it_recovers_with_the_writes() {
    let Some(mut disk) = SmallDisk::mount("8m") else {
        return;
    };
    let app = TestApp::builder()
        .vars(two_tenants())
        .spawn_in(disk.take_dir())
        .await;
    assert_eq!(app.ready().await.status, StatusCode::OK);
    let filler = disk.fill();

    let ready = writes_refused_and_unready(&app).await;
    assert_ne!(ready.body["database"], json!("ok"));

    std::fs::remove_file(&filler).expect("free the disk");
    let ready = app.ready().await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    let token = app.issue_token(KEY_A, json!({"channel": "telegram"})).await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.body);
    let dir = app.stop().await;
    drop(disk);
    drop(dir);
}

/// The real binary on `db` with tenant A and one seeded code; its port.
async fn start_server(db: &std::path::Path) -> (std::process::Child, u16) {
    let mut vars = two_tenants();
    vars.push((
        "MUX_PAIRING_CODES_JSON",
        json!([{"code": "W1", "channel": "telegram", "routeKey": "telegram:default:chat:41", "scope": "chat"}])
            .to_string(),
    ));
    let db = db.to_owned();
    actix_web::rt::task::spawn_blocking(move || crate::helpers::start_binary(&db, &vars))
        .await
        .expect("start mux-server")
}

#[actix_web::test]
async fn what_was_acknowledged_before_the_wal_was_deleted_survives_a_kill() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("mux.sqlite");
    let (mut server, port) = start_server(&db).await;
    let client = awc::Client::default();
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let claimed = client
        .post(url("/v1/pairings/claim"))
        .insert_header(("Authorization", format!("Bearer {KEY_A}")))
        .send_json(&json!({"code": "W1"}))
        .await
        .expect("claim");
    assert_eq!(claimed.status(), StatusCode::OK);
    std::fs::remove_file(PathBuf::from(format!("{}-wal", db.display()))).expect("rm wal");
    let refused = client
        .post(url("/v1/pairings/token"))
        .insert_header(("Authorization", format!("Bearer {KEY_A}")))
        .send_json(&json!({"channel": "telegram"}))
        .await
        .expect("token");
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    server.kill().expect("SIGKILL");
    server.wait().expect("reaped");

    let (mut server, port) = start_server(&db).await;
    let mut listed = awc::Client::default()
        .get(format!("http://127.0.0.1:{port}/v1/pairings"))
        .insert_header(("Authorization", format!("Bearer {KEY_A}")))
        .send()
        .await
        .expect("list");
    let body: serde_json::Value = listed.json().await.expect("json");
    assert_eq!(
        body["items"][0]["routeKey"], "telegram:default:chat:41",
        "the acknowledged binding is still there: {body}"
    );
    server.kill().expect("kill");
    server.wait().expect("reaped");
}
