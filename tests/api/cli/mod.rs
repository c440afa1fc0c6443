//! The `mux-server` binary: tenant commands against a running service, `backup` during writes,
//! SIGTERM, `check-config`, `--env-file`.

mod backup;
mod check_config;
mod file_modes;
mod first_run;
mod shutdown;
mod sigterm_open_connections;

use std::process::{Command, Output};

use awc::http::StatusCode;
use serde_json::{Value, json};

use crate::admin::{ADMIN, admin_vars};
use crate::helpers::diesel_conn;
use crate::helpers::{KEY_A, TestApp, spawn_app_with};

pub const BIN: &str = env!("CARGO_BIN_EXE_mux-server");

/// The binary with only the given environment (nothing leaks in from the test's own).
pub fn mux(args: &[&str], vars: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_clear();
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

/// Runs the binary off the actix thread (the in-process server's actors live on it).
pub async fn run(args: &[&str], vars: Vec<(&str, String)>) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let vars: Vec<(String, String)> = vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    actix_web::rt::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let vars: Vec<(&str, String)> = vars.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        mux(&args, &vars).output().expect("binary runs")
    })
    .await
    .expect("join")
}

/// The environment an operator's shell would have for the running test app.
pub fn env_of(app: &TestApp) -> Vec<(&'static str, String)> {
    let port = app.address.rsplit(':').next().expect("port").to_owned();
    vec![
        ("MUX_HOST", "127.0.0.1".to_owned()),
        ("MUX_PORT", port),
        ("MUX_ADMIN_TOKEN", ADMIN.to_owned()),
        ("MUX_DB_PATH", app.db_path.to_string_lossy().into_owned()),
    ]
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Issues `n` pairing tokens (each one committed write), returning how many were acknowledged.
pub async fn write_tokens(app: &TestApp, n: usize) -> usize {
    let mut acked = 0;
    for _ in 0..n {
        let reply = app.issue_token(KEY_A, json!({"channel": "telegram"})).await;
        if reply.status == StatusCode::OK {
            acked += 1;
        }
    }
    acked
}

#[actix_web::test]
async fn tenant_commands_create_list_rotate_and_disable_through_the_running_service() {
    let app = spawn_app_with(admin_vars()).await;
    let env = env_of(&app);

    let created = run(
        &["tenant", "create", "cli-t", "--name", "From CLI", "--json"],
        env.clone(),
    )
    .await;
    assert!(created.status.success(), "{}", stderr(&created));
    let created: Value = serde_json::from_slice(&created.stdout).expect("json answer");
    let first_key = created["apiKey"].as_str().expect("apiKey").to_owned();
    let first_id = created["keyId"].as_str().expect("keyId").to_owned();
    assert_eq!(app.pairings(&first_key).await.status, StatusCode::OK);

    let text = run(
        &["tenant", "add-key", "cli-t", "--label", "v2"],
        env.clone(),
    )
    .await;
    assert!(text.status.success(), "{}", stderr(&text));
    let out = stdout(&text);
    let second_key = out
        .lines()
        .find_map(|l| l.strip_prefix("api key: "))
        .expect("key line")
        .to_owned();
    assert!(out.contains("shown only now"));

    let list = run(&["tenant", "list"], env.clone()).await;
    assert!(list.status.success());
    let table = stdout(&list);
    let row = table
        .lines()
        .find(|l| l.starts_with("cli-t "))
        .expect("cli-t listed");
    assert!(row.contains("active"), "{row}");
    assert!(table.contains("tenant-a") && table.contains("tenant-b"));
    assert!(!table.contains(&first_key) && !table.contains(&second_key));

    let revoked = run(&["tenant", "revoke-key", "cli-t", &first_id], env.clone()).await;
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert_eq!(
        app.pairings(&first_key).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.pairings(&second_key).await.status, StatusCode::OK);

    let disabled = run(&["tenant", "disable", "cli-t"], env.clone()).await;
    assert!(disabled.status.success());
    assert_eq!(
        app.pairings(&second_key).await.status,
        StatusCode::UNAUTHORIZED
    );
    let enabled = run(&["tenant", "enable", "cli-t"], env.clone()).await;
    assert!(enabled.status.success());
    assert_eq!(app.pairings(&second_key).await.status, StatusCode::OK);

    // The changes are in the service's database, with their audit rows.
    let conn = &mut diesel_conn(&app.db_path);
    let rows = mux_server::db::audit::list(conn, Some("cli-t"), 100).expect("audit");
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "tenant_enabled",
            "tenant_disabled",
            "api_key_revoked",
            "api_key_added",
            "tenant_created"
        ]
    );
    app.stop().await;
}

#[actix_web::test]
async fn tenant_commands_report_refusals_and_an_unreachable_service() {
    let app = spawn_app_with(admin_vars()).await;
    let env = env_of(&app);
    let dup = run(&["tenant", "create", "tenant-a"], env.clone()).await;
    assert_eq!(dup.status.code(), Some(1));
    assert!(stderr(&dup).contains("409"), "{}", stderr(&dup));
    let unknown = run(
        &["tenant", "revoke-key", "tenant-a", "key_nope"],
        env.clone(),
    )
    .await;
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("404"));

    let mut no_token = env.clone();
    no_token.retain(|(k, _)| *k != "MUX_ADMIN_TOKEN");
    let refused = run(&["tenant", "list"], no_token).await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("MUX_ADMIN_TOKEN"));

    let mut wrong = env.clone();
    wrong.retain(|(k, _)| *k != "MUX_ADMIN_TOKEN");
    wrong.push(("MUX_ADMIN_TOKEN", "not-the-token".to_owned()));
    let denied = run(&["tenant", "list"], wrong).await;
    assert!(stderr(&denied).contains("401"), "{}", stderr(&denied));
    app.stop().await;

    let down = run(&["tenant", "list", "--url", "http://127.0.0.1:1"], env).await;
    assert_eq!(down.status.code(), Some(1));
    assert!(
        stderr(&down).contains("cannot reach mux-server"),
        "{}",
        stderr(&down)
    );
}

#[actix_web::test]
async fn the_units_env_file_configures_the_commands_and_the_process_env_wins() {
    let app = spawn_app_with(admin_vars()).await;
    let file = app.dir.path().join("mux-server.env");
    let mut text: String = env_of(&app)
        .iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    text.push_str("# JSON in single quotes reads as under systemd\nMUX_PAIRING_CODES_JSON='[]'\n");
    std::fs::write(&file, text).expect("env file");
    let file = file.to_string_lossy().into_owned();

    let list = run(&["--env-file", &file, "tenant", "list"], vec![]).await;
    assert!(list.status.success(), "{}", stderr(&list));
    assert!(stdout(&list).contains("tenant-a"));
    let overridden = run(
        &["--env-file", &file, "check-config"],
        vec![("MUX_PORT", "nope".to_owned())],
    )
    .await;
    assert_eq!(overridden.status.code(), Some(2));
    assert!(stderr(&overridden).contains("invalid MUX_PORT"));
    let missing = run(
        &["--env-file", "/nonexistent/mux.env", "check-config"],
        vec![],
    )
    .await;
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/mux.env"));
    app.stop().await;
}
