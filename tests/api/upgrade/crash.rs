//! The real binary SIGKILLed while it upgrades a file of realistic size (2000 tenants, 10,000
//! bindings): afterwards the file is as it was or fully upgraded, never half, and the next start
//! upgrades it in full. The time the upgrade takes is printed (`--nocapture`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use mux_server::time::now_ms;

use super::dump;
use super::fixture::{LegacyDb, lit, sha256_hex};
use crate::cli::BIN;
use crate::helpers::count;

const TENANTS: usize = 2_000;
const BINDINGS: usize = 10_000;

/// Tenants `t<i>` (key `key-<i>`), each with five active chat bindings and a session route per
/// binding, a token each, an idempotent answer each, and ten audit rows per binding.
fn realistic_database(path: &Path) {
    let mut db = LegacyDb::create(path);
    let now = now_ms();
    db.exec("BEGIN");
    for i in 0..TENANTS {
        db.tenant(
            &format!("t{i}"),
            &format!("Tenant {i}"),
            &format!("key-{i}"),
            Some((&format!("https://openclaw.example/t{i}"), "inbound-token")),
        );
        db.pairing_token(
            &format!("mpt_RealisticLegacyToken{i:08}"),
            (&format!("t{i}"), "telegram", None),
            (now, now + 3_600_000, None),
        );
        db.exec(&format!(
            "INSERT INTO idempotency_keys VALUES ('t{i}', 'k', {}, 200, '{{\\\"ok\\\":true}}', {}, {now})",
            lit(r#"{"channel":"telegram","sessionKey":"s","text":"hi"}"#),
            now + 600_000
        ));
    }
    let tenants = TENANTS;
    db.exec(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {BINDINGS} - 1) \
         INSERT INTO bindings SELECT 'bind_' || i, 't' || (i % {tenants}), 'telegram', 'chat', \
         'telegram:default:chat:' || (100000 + i), 'active', 1000 + i, 1000 + i FROM n"
    ));
    db.exec(
        "INSERT INTO session_routes SELECT tenant_id, 'telegram', 'tg:chat:' || substr(route_key, 23), \
         binding_id, NULL, created_at_ms FROM bindings",
    );
    db.exec(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999) \
         INSERT INTO audit_logs (tenant_id, event_type, payload_json, created_at_ms) \
         SELECT 't' || (i % 2000), 'message_forwarded', '{\"n\":' || i || '}', i FROM n",
    );
    db.exec("INSERT INTO telegram_offsets VALUES (1, 5000, 1)");
    db.exec("COMMIT");
    assert_eq!(sha256_hex("key-0").len(), 64);
}

/// The state of the file: the older service's or ours, with nothing in between.
fn state(path: &Path) -> &'static str {
    let ours = count(
        path,
        "sqlite_master WHERE name = '__diesel_schema_migrations'",
    ) == 1;
    let old = count(
        path,
        "pragma_table_info('tenants') WHERE name = 'api_key_hash'",
    ) == 1;
    match (ours, old) {
        (false, true) => "as it was",
        (true, false) => "upgraded",
        other => panic!("half upgraded: {other:?}"),
    }
}

/// Runs `mux-server serve` on `db`; returns the child and a reader of its log lines.
fn serve(
    db: &Path,
) -> (
    std::process::Child,
    std::io::Lines<BufReader<std::process::ChildStderr>>,
) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .env_clear()
        .env("MUX_HOST", "127.0.0.1")
        .env("MUX_PORT", "0")
        .env("MUX_DB_PATH", db)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    (child, lines)
}

#[actix_web::test]
async fn a_sigkill_during_the_upgrade_leaves_the_file_as_it_was_or_fully_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mux.sqlite");
    realistic_database(&db);
    let before = dump(&db);
    let db2 = db.clone();
    let (after_kill, unchanged, elapsed) = actix_web::rt::task::spawn_blocking(move || {
        // Killed a moment after the copy is written: inside the transaction (which takes some
        // 400 ms in a debug build), or at worst just past it.
        let (mut child, mut lines) = serve(&db2);
        for line in lines.by_ref() {
            if line.expect("line").contains("event=legacy_backup_written") {
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        let after_kill = state(&db2);
        let unchanged = dump(&db2) == before;
        // The next start upgrades it (again, if it was rolled back) and serves.
        let started = std::time::Instant::now();
        let (mut child, lines) = serve(&db2);
        let mut times = Vec::new();
        for line in lines {
            let line = line.expect("line");
            let ms = line
                .split("elapsed_ms=")
                .nth(1)
                .and_then(|ms| ms.split_whitespace().next());
            if let (Some(ms), Some(event)) = (ms, line.split("event=").nth(1)) {
                let event = event.split_whitespace().next().unwrap_or_default();
                times.push(format!("{event} {ms} ms"));
            }
            if line.contains("event=listening") {
                times.push(format!(
                    "listening after {} ms",
                    started.elapsed().as_millis()
                ));
                break;
            }
        }
        let elapsed = (times.len() > 1).then(|| times.join(", "));
        child.kill().expect("stop");
        child.wait().expect("reaped");
        (after_kill, unchanged, elapsed)
    })
    .await
    .unwrap();
    if after_kill == "as it was" {
        assert!(unchanged, "every old row and table as it was");
        let times = elapsed.expect("the second start upgraded and logged its times");
        eprintln!("{TENANTS} tenants / {BINDINGS} bindings / 100000 audit rows: {times}");
    } else {
        eprintln!("the kill came after the commit");
    }
    assert_eq!(state(&db), "upgraded");
    assert_eq!(count(&db, "tenants"), TENANTS as i64);
    assert_eq!(
        count(&db, "bindings WHERE status = 'active'"),
        BINDINGS as i64
    );
    assert_eq!(count(&db, "session_routes"), BINDINGS as i64);
    assert_eq!(count(&db, "tenant_api_keys"), TENANTS as i64);
    assert_eq!(count(&db, "pairing_tokens"), TENANTS as i64);
    assert_eq!(count(&db, "idempotency_keys"), TENANTS as i64);
    assert_eq!(count(&db, "audit_log"), 100_001);
}
