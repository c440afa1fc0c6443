//! The `mux-server` binary: tenant commands against a running service, `backup` during writes,
//! SIGTERM, `check-config`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use awc::http::StatusCode;
use diesel::RunQueryDsl;
use serde_json::{Value, json};

use crate::admin::{ADMIN, admin_vars};
use crate::helpers::{KEY_A, TestApp, spawn_app_with, spawn_in};
use crate::restart::diesel_conn;

const BIN: &str = env!("CARGO_BIN_EXE_mux-server");

/// The binary with only the given environment (nothing leaks in from the test's own).
fn mux(args: &[&str], vars: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_clear();
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

/// Runs the binary off the actix thread (the in-process server's actors live on it).
async fn run(args: &[&str], vars: Vec<(&str, String)>) -> Output {
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
fn env_of(app: &TestApp) -> Vec<(&'static str, String)> {
    let port = app.address.rsplit(':').next().expect("port").to_owned();
    vec![
        ("MUX_HOST", "127.0.0.1".to_owned()),
        ("MUX_PORT", port),
        ("MUX_ADMIN_TOKEN", ADMIN.to_owned()),
        ("MUX_DB_PATH", app.db_path.to_string_lossy().into_owned()),
    ]
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
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
    assert_eq!(
        app.get("/v1/pairings", Some(&first_key)).await.status,
        StatusCode::OK
    );

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
        app.get("/v1/pairings", Some(&first_key)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/v1/pairings", Some(&second_key)).await.status,
        StatusCode::OK
    );

    let disabled = run(&["tenant", "disable", "cli-t"], env.clone()).await;
    assert!(disabled.status.success());
    assert_eq!(
        app.get("/v1/pairings", Some(&second_key)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let enabled = run(&["tenant", "enable", "cli-t"], env.clone()).await;
    assert!(enabled.status.success());
    assert_eq!(
        app.get("/v1/pairings", Some(&second_key)).await.status,
        StatusCode::OK
    );

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

/// Issues `n` pairing tokens (each one committed write), returning how many were acknowledged.
async fn write_tokens(app: &TestApp, n: usize) -> usize {
    let mut acked = 0;
    for _ in 0..n {
        let reply = app.issue_token(KEY_A, json!({"channel": "telegram"})).await;
        if reply.status == StatusCode::OK {
            acked += 1;
        }
    }
    acked
}

fn count(path: &Path, table: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<N> = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .load(&mut diesel_conn(path))
        .expect("count");
    rows[0].n
}

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
    assert_eq!(
        restored.get("/v1/pairings", Some(KEY_A)).await.status,
        StatusCode::OK
    );
    restored.stop().await;
}

/// Starts the binary on port 0 and returns it with the port it logged.
fn start_binary(db: &Path) -> (Child, u16) {
    let vars = vec![
        ("MUX_HOST", "127.0.0.1".to_owned()),
        ("MUX_PORT", "0".to_owned()),
        ("MUX_DB_PATH", db.to_string_lossy().into_owned()),
        (
            "MUX_TENANTS_JSON",
            json!([{"id": "tenant-a", "apiKey": KEY_A}]).to_string(),
        ),
        ("RUST_LOG", "info".to_owned()),
    ];
    let mut child = mux(&["serve"], &vars)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let port = loop {
        let line = lines.next().expect("logs until listening").expect("line");
        if let Some(p) = line.split("event=listening").nth(1) {
            let port = p.split("port=").nth(1).expect("port=").trim();
            break port.parse().expect("port number");
        }
    };
    // Keep draining the logs so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, port)
}

#[actix_web::test]
async fn sigterm_during_traffic_exits_0_and_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("mux.sqlite");
    let (child, port) = start_binary(&db);
    let client = awc::Client::default();
    let url = format!("http://127.0.0.1:{port}/v1/pairings/token");
    let issue = || {
        client
            .post(&url)
            .insert_header(("Authorization", format!("Bearer {KEY_A}")))
            .send_body(json!({"channel": "telegram"}).to_string())
    };
    let mut acked = 0i64;
    for _ in 0..30 {
        assert_eq!(issue().await.expect("served").status(), StatusCode::OK);
        acked += 1;
    }
    // SIGTERM while requests are in flight.
    let pid = child.id().to_string();
    let in_flight: Vec<_> = (0..20)
        .map(|_| {
            let request = issue();
            actix_web::rt::spawn(async move {
                request.await.is_ok_and(|r| r.status() == StatusCode::OK)
            })
        })
        .collect();
    actix_web::rt::time::sleep(std::time::Duration::from_millis(2)).await;
    let term = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(term.success());
    for answered in futures_util::future::join_all(in_flight).await {
        if answered.expect("task") {
            acked += 1;
        }
    }
    let status = actix_web::rt::task::spawn_blocking(move || {
        let mut child = child;
        child.wait().expect("wait")
    })
    .await
    .expect("join");
    assert_eq!(status.code(), Some(0), "graceful stop exits 0");
    assert!(
        count(&db, "pairing_tokens") >= acked,
        "every acknowledged write is on disk"
    );

    // The restart continues on the same database.
    let app = spawn_in(
        dir,
        vec![(
            "MUX_TENANTS_JSON",
            json!([{"id": "tenant-a", "apiKey": KEY_A}]).to_string(),
        )],
    )
    .await;
    assert_eq!(app.get("/ready", None).await.status, StatusCode::OK);
    assert_eq!(
        app.issue_token(KEY_A, json!({"channel": "telegram"}))
            .await
            .status,
        StatusCode::OK
    );
    app.stop().await;
}

#[actix_web::test]
async fn check_config_rejects_each_malformed_variable_naming_it() {
    let cases = [
        ("MUX_PORT", "http"),
        ("MUX_PORT", "70000"),
        ("MUX_LOG_FORMAT", "xml"),
        ("MUX_TENANTS_JSON", "{not json"),
        (
            "MUX_TENANTS_JSON",
            r#"[{"id":"a","apiKey":"k"},{"id":"a","apiKey":"k2"}]"#,
        ),
        ("MUX_PAIRING_CODES_JSON", r#"[{"code":"c"}]"#),
        ("MUX_IDEMPOTENCY_TTL_MS", "-5"),
        ("MUX_PAIRING_TOKEN_TTL_SEC", "soon"),
        ("MUX_PAIRING_TOKEN_MAX_TTL_SEC", "0"),
        ("MUX_MAX_BODY_BYTES", "0"),
        ("MUX_FORWARD_MAX_AGE_SEC", "x"),
        ("MUX_INBOUND_URL_ALLOW", "10.0.0.0/99"),
        ("MUX_TELEGRAM_API_BASE_URL", "ftp://api.telegram.org"),
        ("MUX_TELEGRAM_INBOUND_ENABLED", "maybe"),
        ("MUX_TELEGRAM_POLL_TIMEOUT_SEC", "-1"),
        ("MUX_TELEGRAM_WEBHOOK_URL", "not a url"),
        ("MUX_DISCORD_API_BASE_URL", "discord.com"),
        ("MUX_DISCORD_GATEWAY_URL", "http://gateway.example"),
        ("MUX_DISCORD_POLL_INTERVAL_MS", "0"),
        ("MUX_WHATSAPP_API_BASE_URL", "graph"),
        ("MUX_WHATSAPP_INBOUND_ENABLED", "2"),
    ];
    for (var, value) in cases {
        let out = run(&["check-config"], vec![(var, value.to_owned())]).await;
        assert_eq!(out.status.code(), Some(2), "{var}={value}");
        let err = stderr(&out);
        assert!(
            err.contains(&format!("invalid {var}:")),
            "{var}={value}: {err}"
        );
    }
    let ok = run(
        &["check-config"],
        vec![("MUX_ADMIN_TOKEN", "adm-secret".to_owned())],
    )
    .await;
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).starts_with("configuration ok"));
    assert!(!stdout(&ok).contains("adm-secret"));
}

#[actix_web::test]
async fn the_units_env_file_configures_the_commands_and_the_process_env_wins() {
    let app = spawn_app_with(admin_vars()).await;
    let file = app.dir.path().join("mux-server.env");
    let mut text: String = env_of(&app)
        .iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    text.push_str("# JSON in single quotes, as systemd needs\nMUX_PAIRING_CODES_JSON='[]'\n");
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
