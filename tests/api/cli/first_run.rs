//! The README's first command on a fresh clone: `mux-server` with no arguments, no env file and
//! no `MUX_DB_PATH` serves on its embedded SQLite default `./data/mux-server.sqlite` (created
//! under the working directory) and stops cleanly on SIGTERM. (`.ci/readme-first-command` runs
//! the same through `cargo run --release`.)

use awc::http::StatusCode;
use serde_json::json;

use super::mux;
use super::shutdown::terminate;
use crate::helpers::start_command;

#[actix_web::test]
async fn with_no_arguments_and_no_configuration_it_serves_on_the_default_database() {
    let fresh = tempfile::tempdir().expect("dir");
    // Only a free port: everything else is the newcomer's nothing.
    let mut cmd = mux(&[], &[("MUX_PORT", "0".to_owned())]);
    cmd.current_dir(fresh.path());
    let (child, port) = actix_web::rt::task::spawn_blocking(move || start_command(cmd))
        .await
        .expect("start");
    let mut resp = awc::Client::default()
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await
        .expect("health answers");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.json::<serde_json::Value>().await.expect("json"),
        json!({"ok": true})
    );
    assert!(
        fresh.path().join("data/mux-server.sqlite").is_file(),
        "the default database ./data/mux-server.sqlite was created"
    );
    assert_eq!(terminate(child).await.code(), Some(0), "SIGTERM exits 0");
}
