//! Upgrade in place from the older service (issue 10 §1): a database built here from
//! shared/spec/legacy-schema.md, upgraded by starting the service on it, then driven through the
//! public API; the refusal of anything else, a second start, and a failure half-way.

mod crash;
mod fixture;

use std::path::{Path, PathBuf};

use awc::http::{Method, StatusCode};
use mux_server::testkit::discord::{GUILD, Say};
use mux_server::testkit::openclaw::FakeOpenClaw;
use mux_server::time::now_ms;
use serde_json::{Value, json};

use crate::cli::{run, stdout};
use crate::helpers::{ADMIN, TestApp, count, diesel_conn, eventually, test_config};
use fixture::{LegacyDb, lit};

/// The older service's tenants' keys (only their SHA-256 is in the file).
pub const OLD_KEY_A: &str = "legacy-key-alpha-0123456789";
pub const OLD_KEY_B: &str = "legacy-key-beta-0123456789";
pub const OLD_KEY_C: &str = "legacy-key-gamma-0123456789";
/// Bindings, with the older service's ids.
const B_A_CHAT: &str = "bind_0b6f3f5e-7d6c-4b7a-9a51-0c2f1d8e9a01";
const B_A_OLD: &str = "bind_0b6f3f5e-7d6c-4b7a-9a51-0c2f1d8e9a02";
const B_B_GROUP: &str = "bind_0b6f3f5e-7d6c-4b7a-9a51-0c2f1d8e9a03";
const B_C_GROUP: &str = "bind_0b6f3f5e-7d6c-4b7a-9a51-0c2f1d8e9a04";
const B_A_DISCORD: &str = "bind_0b6f3f5e-7d6c-4b7a-9a51-0c2f1d8e9a05";
const B_B_GUILD: &str = "bind_0b6f3f5e-7d6c-4b7a-9a51-0c2f1d8e9a06";
const B_B_DM: &str = "bind_0b6f3f5e-7d6c-4b7a-9a51-0c2f1d8e9a07";
const B_A_WHATSAPP: &str = "bind_0b6f3f5e-7d6c-4b7a-9a51-0c2f1d8e9a08";
/// An unconsumed token the older service issued to tenant A for Telegram.
const TOKEN: &str = "mpt_LegacyTokenForChat777-abcdefghij_";
/// The Discord channel tenant A's guild binding reads.
const DISCORD_CHANNEL: u64 = 901;
/// The Telegram update the older service handled last (the fake numbers its first update 1000).
const LAST_UPDATE_ID: i64 = 1000;
/// A reply the older service stored for an idempotency key, and the request it answered (as
/// that service kept it: the body re-serialised compactly, in the order the client wrote it).
const IDEM_REQUEST: &str =
    r#"{"channel":"telegram","sessionKey":"agent:a:tg555","text":"hello from before"}"#;
const IDEM_ANSWER: &str =
    r#"{"ok":true,"messageId":"4242","chatId":"555","providerMessageIds":["4242"]}"#;
const SUCCESS: &str = "Paired successfully. You can chat now.";

/// Builds the older service's database at `path`: three tenants (A and B with inbound targets
/// at `oc`), bindings of every kind and status (B and C both hold group -100777, B first),
/// session routes, pairing tokens and codes, a stored answer, audit rows, the Telegram offset,
/// a Discord offset (`discord_last`, if any) and three WhatsApp Web queue rows.
pub fn older_services_database(path: &Path, oc: Option<&FakeOpenClaw>, discord_last: Option<u64>) {
    let now = now_ms();
    let mut db = LegacyDb::create(path);
    let target = |id: &str| oc.map(|oc| (oc.url(id), format!("tok-{id}")));
    let (ta, tb) = (target("tenant-a"), target("tenant-b"));
    db.tenant(
        "tenant-a",
        "Alpha",
        OLD_KEY_A,
        ta.as_ref().map(|(u, t)| (u.as_str(), t.as_str())),
    );
    db.tenant(
        "tenant-b",
        "Beta",
        OLD_KEY_B,
        tb.as_ref().map(|(u, t)| (u.as_str(), t.as_str())),
    );
    db.tenant("tenant-c", "Gamma", OLD_KEY_C, None);
    let dc_route = format!("discord:default:guild:{GUILD}:channel:{DISCORD_CHANNEL}");
    let wa_route = "whatsapp:default:chat:4915112345678@s.whatsapp.net";
    db.binding(
        B_A_CHAT,
        "tenant-a",
        "chat",
        "telegram:default:chat:555",
        "active",
        10_000,
    );
    db.binding(
        B_A_OLD,
        "tenant-a",
        "chat",
        "telegram:default:chat:556",
        "inactive",
        11_000,
    );
    db.binding(
        B_B_GROUP,
        "tenant-b",
        "chat",
        "telegram:default:chat:-100777",
        "active",
        20_000,
    );
    db.binding(
        B_C_GROUP,
        "tenant-c",
        "chat",
        "telegram:default:chat:-100777",
        "active",
        30_000,
    );
    db.binding(
        B_A_DISCORD,
        "tenant-a",
        "guild",
        &dc_route,
        "active",
        40_000,
    );
    db.binding(
        B_B_GUILD,
        "tenant-b",
        "guild",
        &format!("discord:default:guild:{GUILD}"),
        "active",
        41_000,
    );
    db.binding(
        B_B_DM,
        "tenant-b",
        "dm",
        "discord:default:dm:user:4242",
        "pending",
        now - 1_000,
    );
    db.binding(B_A_WHATSAPP, "tenant-a", "chat", wa_route, "active", 50_000);
    db.route(
        "tenant-a",
        "agent:a:tg555",
        B_A_CHAT,
        "telegram:default:chat:555",
    );
    db.route(
        "tenant-b",
        "agent:b:group",
        B_B_GROUP,
        "telegram:default:chat:-100777",
    );
    db.route(
        "tenant-c",
        "agent:c:group",
        B_C_GROUP,
        "telegram:default:chat:-100777",
    );
    db.route("tenant-a", "agent:a:discord", B_A_DISCORD, &dc_route);
    db.route("tenant-a", "agent:a:wa", B_A_WHATSAPP, wa_route);
    let hour = 3_600_000;
    let a_tg = ("tenant-a", "telegram", None);
    db.pairing_token(
        TOKEN,
        ("tenant-a", "telegram", Some("agent:a:paired-later")),
        (now - 60_000, now + hour, None),
    );
    db.pairing_token(
        "mpt_UsedLegacyToken-0123456789abcd",
        a_tg,
        (1, now + hour, Some(5)),
    );
    db.pairing_token(
        "mpt_ExpiredLegacyToken-0123456789ab",
        a_tg,
        (1, now - 1, None),
    );
    db.pairing_token(
        "mpt_DiscordDmLegacyToken-0123456789",
        ("tenant-b", "discord", None),
        (now - 1_000, now + hour, None),
    );
    db.exec(
        "INSERT INTO pairing_codes VALUES \
         ('CODE-FREE', 'telegram', 'telegram:default:chat:888', 'chat', NULL, NULL, NULL), \
         ('CODE-USED', 'telegram', 'telegram:default:chat:889', 'chat', NULL, 'tenant-a', 7000)",
    );
    db.exec(&format!(
        "INSERT INTO idempotency_keys VALUES \
         ('tenant-a', 'idem-before', {}, 200, {}, {}, {}), \
         ('tenant-a', 'idem-expired', '{{}}', 200, '{{}}', 1, 1)",
        lit(IDEM_REQUEST),
        lit(IDEM_ANSWER),
        now + 600_000,
        now - 1_000,
    ));
    db.exec(&format!(
        "INSERT INTO audit_logs VALUES \
         (1, 'tenant-a', 'pairing_claimed', {}, 7000), (2, NULL, 'service_started', NULL, 8000)",
        lit(&json!({"bindingId": B_A_CHAT, "code": "CODE-USED", "routeKey": "telegram:default:chat:889"}).to_string()),
    ));
    db.exec(&format!(
        "INSERT INTO telegram_offsets VALUES (1, {LAST_UPDATE_ID}, 9000)"
    ));
    if let Some(last) = discord_last {
        db.exec(&format!(
            "INSERT INTO discord_offsets VALUES ({}, '{last}', 9000)",
            lit(B_A_DISCORD)
        ));
    }
    for i in 0..3 {
        db.exec(&format!(
            "INSERT INTO whatsapp_inbound_queue VALUES ('q{i}', 'd{i}', '{{}}', 1, 0, NULL, 1, 1)"
        ));
    }
}

/// The `.pre-upgrade-*.bak` copies beside the database.
pub fn backups(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("mux.sqlite.pre-upgrade-") && name.ends_with(".bak")
        })
        .collect();
    found.sort();
    found
}

fn ids(items: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = items
        .iter()
        .map(|b| b["bindingId"].as_str().expect("bindingId").to_owned())
        .collect();
    ids.sort();
    ids
}

/// The older service's file in a fresh dir, upgraded by starting the service on it.
/// Tenant A gets the message sent while the services were swapped, and only that one (what the
/// older service handled is not read again).
async fn only_the_message_sent_during_the_switch(app: &TestApp) {
    eventually("the message sent during the switch", || {
        app.oc().bodies("tenant-a") == vec!["sent during the switch".to_owned()]
    })
    .await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.oc().bodies("tenant-a"), vec!["sent during the switch"]);
}

async fn upgraded(world: crate::helpers::TestAppBuilder, discord_last: Option<u64>) -> TestApp {
    let dir = tempfile::tempdir().expect("dir");
    let oc = world.fakes.openclaw.as_ref();
    older_services_database(&dir.path().join("mux.sqlite"), oc, discord_last);
    world.spawn_in(dir).await
}

#[actix_web::test]
async fn an_older_services_database_is_upgraded_in_place_and_every_tenant_keeps_working() {
    let world = TestApp::builder()
        .telegram_polling()
        .openclaw()
        .var("MUX_ADMIN_TOKEN", ADMIN);
    // The older service handled update 1000; 1001 arrived while it was being replaced.
    world.tg().push_text(555, 7, "handled by the older service");
    world.tg().push_text(555, 7, "sent during the switch");
    let app = upgraded(world, None).await;

    // The copy as it was, beside the file, openable.
    let copies = backups(app.dir.path());
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert_eq!(
        count(&copies[0], "tenants WHERE api_key_hash IS NOT NULL"),
        3
    );
    // Every tenant, with its name, through the admin API.
    for (id, name) in [
        ("tenant-a", "Alpha"),
        ("tenant-b", "Beta"),
        ("tenant-c", "Gamma"),
    ] {
        let t = app
            .admin_tenant(id)
            .await
            .unwrap_or_else(|| panic!("{id} listed"));
        assert_eq!(t["name"], name, "{t}");
    }
    // The old key works before any environment seeds it; bindings keep their ids.
    assert_eq!(
        ids(&app.list_bindings(OLD_KEY_A).await),
        [B_A_CHAT, B_A_DISCORD, B_A_WHATSAPP]
    );
    let target = app.inbound_target(OLD_KEY_A).await;
    assert_eq!(target.body["inboundUrl"], app.oc().url("tenant-a"));
    assert_eq!(target.body["inboundTimeoutMs"], 3000);
    // Outbound by a session key of the older service.
    let sent = app
        .send_text(OLD_KEY_A, "telegram", "agent:a:tg555", "after the upgrade")
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert!(
        app.tg()
            .texts_to(555)
            .contains(&"after the upgrade".to_owned())
    );
    // Polling resumes at last_update_id + 1: nothing handled twice, nothing skipped.
    eventually("the update sent during the switch is forwarded", || {
        app.oc()
            .bodies("tenant-a")
            .contains(&"sent during the switch".to_owned())
    })
    .await;
    assert!(app.tg().confirmed() > LAST_UPDATE_ID);
    assert!(
        !app.oc()
            .bodies("tenant-a")
            .contains(&"handled by the older service".to_owned())
    );
    // A token the older service issued redeems in a chat, with its session key.
    app.tg().push_text(777, 8, &format!("/start {TOKEN}"));
    eventually("the old token pairs chat 777", || {
        app.tg().texts_to(777) == vec![SUCCESS.to_owned()]
    })
    .await;
    let sent = app
        .send_text(
            OLD_KEY_A,
            "telegram",
            "agent:a:paired-later",
            "to the new chat",
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert!(
        app.tg()
            .texts_to(777)
            .contains(&"to the new chat".to_owned())
    );
    // The operator's check, as the README says.
    let list = run(&["tenant", "list"], crate::cli::env_of(&app)).await;
    assert!(list.status.success(), "{list:?}");
    for id in ["tenant-a", "tenant-b", "tenant-c"] {
        assert!(stdout(&list).contains(id), "{}", stdout(&list));
    }
    assert_eq!(app.ready().await.status, StatusCode::OK);
    app.stop().await;
}

#[actix_web::test]
async fn a_stored_answer_replays_byte_for_byte_and_a_used_key_with_another_body_is_refused() {
    let app = upgraded(TestApp::builder().telegram(), None).await;
    // Same JSON, other key order and whitespace.
    let same = r#"{ "text": "hello from before",
                    "sessionKey": "agent:a:tg555", "channel": "telegram" }"#;
    let replay = app
        .send_raw(OLD_KEY_A, Some("idem-before"), same.to_owned())
        .await;
    assert_eq!(replay.status, StatusCode::OK);
    assert_eq!(String::from_utf8(replay.raw).unwrap(), IDEM_ANSWER);
    assert!(app.tg().sent().is_empty(), "a replay sends nothing");
    let other = json!({"channel": "telegram", "sessionKey": "agent:a:tg555", "text": "other"});
    let refused = app.send_idem(OLD_KEY_A, "idem-before", other).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    app.stop().await;
}

#[actix_web::test]
async fn of_two_tenants_holding_one_route_the_oldest_binding_stays_and_the_other_is_unbound_and_audited()
 {
    let app = upgraded(
        TestApp::builder().telegram().var("MUX_ADMIN_TOKEN", ADMIN),
        None,
    )
    .await;
    let kept = app
        .send_text(OLD_KEY_B, "telegram", "agent:b:group", "B still here")
        .await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);
    let lost = app
        .send_text(OLD_KEY_C, "telegram", "agent:c:group", "C is not")
        .await;
    assert_eq!(lost.status, StatusCode::FORBIDDEN);
    assert_eq!(lost.body["code"], "ROUTE_NOT_BOUND");
    assert!(app.list_bindings(OLD_KEY_C).await.is_empty());
    let audit = app
        .admin(Method::GET, "/v1/admin/audit?tenantId=tenant-c", None)
        .await;
    let conflicts: Vec<&Value> = audit.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["action"] == "legacy_route_conflict_unbound")
        .collect();
    assert_eq!(conflicts.len(), 1, "{}", audit.body);
    let d = &conflicts[0]["detail"];
    assert_eq!(d["keptTenantId"], "tenant-b");
    assert_eq!(d["keptBindingId"], B_B_GROUP);
    assert_eq!(d["unboundTenantId"], "tenant-c");
    assert_eq!(d["routeKey"], "telegram:default:chat:-100777");
    // The older service's audit rows are kept, their secrets redacted.
    let audit = app
        .admin(Method::GET, "/v1/admin/audit?tenantId=tenant-a", None)
        .await;
    let claimed = audit.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["action"] == "pairing_claimed")
        .cloned()
        .expect("the older service's audit row");
    assert_eq!(claimed["atMs"], 7000);
    assert_eq!(claimed["detail"]["bindingId"], B_A_CHAT);
    assert_eq!(claimed["detail"]["code"], "[redacted]");
    app.stop().await;
}

#[actix_web::test]
async fn codes_stay_claimed_or_claimable_tokens_keep_their_dm_and_the_whatsapp_web_queue_is_kept() {
    let app = upgraded(TestApp::builder(), None).await;
    let used = app.claim(OLD_KEY_B, "CODE-USED", None).await;
    assert_eq!(used.status, StatusCode::CONFLICT, "{}", used.body);
    let free = app.claim(OLD_KEY_B, "CODE-FREE", None).await;
    assert_eq!(free.status, StatusCode::OK, "{}", free.body);
    let path = app.db_path.clone();
    // The Discord DM token is tied to its pending binding, as tokens issued here are.
    assert_eq!(
        count(
            &path,
            &format!("pairing_tokens WHERE pending_binding_id = {}", lit(B_B_DM))
        ),
        1
    );
    assert_eq!(
        count(&path, "pairing_tokens"),
        2,
        "used and expired tokens are not kept"
    );
    assert_eq!(count(&path, "legacy_whatsapp_inbound_queue"), 3);
    assert_eq!(
        count(
            &path,
            "sqlite_master WHERE type = 'table' AND name IN \
                       ('audit_logs', 'telegram_offsets', 'discord_offsets', 'legacy_tenants')"
        ),
        0,
        "the other old tables are gone"
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_discord_bindings_offset_becomes_its_channels_catch_up_cursor() {
    let world = TestApp::builder().openclaw().discord_gateway();
    world.dc().add_channel(DISCORD_CHANNEL, None);
    let handled = world.dc().say(Say::guild(
        DISCORD_CHANNEL,
        7,
        "handled by the older service",
    ));
    world
        .dc()
        .say(Say::guild(DISCORD_CHANNEL, 7, "sent during the switch"));
    let last = handled["id"].as_str().unwrap().parse().unwrap();
    let app = upgraded(world, Some(last)).await;
    app.wait_channel("discord", "connected").await;
    only_the_message_sent_during_the_switch(&app).await;
    app.stop().await;
}

#[actix_web::test]
async fn a_discord_dm_bindings_offset_is_where_its_catch_up_starts_once_the_dm_is_opened() {
    // The older service kept a DM's last message per binding, never the DM channel: the
    // channel is opened over REST after the upgrade and read from that message on.
    const USER: u64 = 4343;
    let world = TestApp::builder().openclaw().discord_gateway();
    let handled = world
        .dc()
        .say(Say::dm(USER, "handled by the older service"));
    world.dc().say(Say::dm(USER, "sent during the switch"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mux.sqlite");
    older_services_database(&path, world.fakes.openclaw.as_ref(), None);
    let mut db = LegacyDb::create(&path);
    let binding = "bind_0b6f3f5e-7d6c-4b7a-9a51-0c2f1d8e9a99";
    let route = format!("discord:default:dm:user:{USER}");
    db.binding(binding, "tenant-a", "dm", &route, "active", 60_000);
    db.route("tenant-a", "agent:a:dm", binding, &route);
    db.exec(&format!(
        "INSERT INTO discord_offsets VALUES ({}, {}, 9000)",
        lit(binding),
        lit(handled["id"].as_str().unwrap())
    ));
    drop(db);
    let app = world.spawn_in(dir).await;
    only_the_message_sent_during_the_switch(&app).await;
    app.stop().await;
}

#[actix_web::test]
async fn copied_with_backup_migrate_upgrades_it_and_a_second_start_finds_nothing_to_do() {
    // As the README has it: a consistent copy of the old file where the service keeps its own.
    let old_dir = tempfile::tempdir().unwrap();
    let old = old_dir.path().join("old.sqlite");
    older_services_database(&old, None, None);
    let old_rows = dump(&old);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mux.sqlite");
    let copy = run(
        &["backup", &db.to_string_lossy()],
        vec![("MUX_DB_PATH", old.to_string_lossy().into_owned())],
    )
    .await;
    assert!(copy.status.success(), "{copy:?}");
    assert!(
        stdout(&copy).contains("3 tenants, integrity ok"),
        "{}",
        stdout(&copy)
    );
    let env = vec![("MUX_DB_PATH", db.to_string_lossy().into_owned())];
    let first = run(&["migrate"], env.clone()).await;
    assert!(first.status.success(), "{first:?}");
    assert!(
        stdout(&first).contains("upgraded from the older service"),
        "{}",
        stdout(&first)
    );
    let app = TestApp::builder().spawn_in(dir).await;
    assert_eq!(backups(app.dir.path()).len(), 1, "no second copy");
    assert_eq!(
        count(
            &app.db_path,
            "audit_log WHERE action = 'legacy_database_upgraded'"
        ),
        1
    );
    assert_eq!(count(&app.db_path, "bindings"), 8);
    assert_eq!(app.list_bindings(OLD_KEY_A).await.len(), 3);
    let app = app.restart().await;
    assert_eq!(backups(app.dir.path()).len(), 1);
    assert_eq!(
        count(
            &app.db_path,
            "audit_log WHERE action = 'legacy_database_upgraded'"
        ),
        1
    );
    assert_eq!(app.list_bindings(OLD_KEY_A).await.len(), 3);
    let again = run(&["migrate"], env).await;
    assert!(
        stdout(&again).contains("(0 migrations applied now)"),
        "{}",
        stdout(&again)
    );
    assert!(!stdout(&again).contains("upgraded"));
    app.stop().await;
    assert_eq!(
        dump(&old),
        old_rows,
        "the older service's own file is untouched"
    );
}

#[actix_web::test]
async fn an_old_key_is_retired_once_the_environment_seeds_the_tenant_again() {
    let dir = tempfile::tempdir().unwrap();
    older_services_database(&dir.path().join("mux.sqlite"), None, None);
    // The operator keeps the env file: the same key is seeded, now stored as BLAKE3.
    let tenants = json!([{"id": "tenant-a", "name": "Alpha", "apiKey": OLD_KEY_A},
                         {"id": "tenant-b", "name": "Beta", "apiKey": "a-rotated-key-for-b"}]);
    let app = TestApp::builder()
        .var("MUX_TENANTS_JSON", tenants.to_string())
        .spawn_in(dir)
        .await;
    assert_eq!(app.pairings(OLD_KEY_A).await.status, StatusCode::OK);
    assert_eq!(
        app.pairings("a-rotated-key-for-b").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.pairings(OLD_KEY_B).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.pairings(OLD_KEY_C).await.status,
        StatusCode::OK,
        "not in the env: kept"
    );
    assert_eq!(
        count(
            &app.db_path,
            "tenant_api_keys WHERE key_hash LIKE 'sha256:%' AND revoked_at_ms IS NULL"
        ),
        1
    );
    app.stop().await;
}

/// Every table's rows, in a stable text form (what "unchanged" compares).
pub fn dump(path: &Path) -> Vec<String> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        line: String,
    }
    let mut conn = diesel_conn(path);
    let mut lines = |sql: String| -> Vec<String> {
        diesel::sql_query(&sql)
            .load::<Line>(&mut conn)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .into_iter()
            .map(|l| l.line)
            .collect()
    };
    let mut out = Vec::new();
    for table in
        lines("SELECT sql AS line FROM sqlite_master WHERE sql IS NOT NULL ORDER BY 1".into())
    {
        out.push(table);
    }
    for table in
        lines("SELECT name AS line FROM sqlite_master WHERE type = 'table' ORDER BY 1".into())
    {
        let columns = lines(format!(
            "SELECT name AS line FROM pragma_table_info('{table}')"
        ));
        let row = columns
            .iter()
            .map(|c| format!("quote(\"{c}\")"))
            .collect::<Vec<_>>()
            .join(" || ',' || ");
        out.push(format!("rows of {table}"));
        out.extend(lines(format!(
            "SELECT {row} AS line FROM \"{table}\" ORDER BY 1"
        )));
    }
    out
}

#[actix_web::test]
async fn a_database_neither_empty_nor_ours_nor_the_older_services_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mux.sqlite");
    {
        let mut other = LegacyDb::create(&db);
        other.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)");
        other.exec("INSERT INTO users VALUES (1, 'someone@example.com')");
    }
    let before = std::fs::read(&db).unwrap();
    let err = match mux_server::startup::Application::build(test_config(&db, vec![]).unwrap()).await
    {
        Ok(_) => panic!("the service started on a foreign database"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("refusing to use it"), "{err}");
    assert!(err.contains("users"), "{err}");
    assert!(!err.contains('\n'), "one line: {err}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "byte for byte");
    assert!(backups(dir.path()).is_empty());
    // The binary says so and stops; not SQLite at all is refused the same way.
    let env = vec![("MUX_DB_PATH", db.to_string_lossy().into_owned())];
    let out = run(&["migrate"], env).await;
    assert!(!out.status.success());
    assert!(crate::cli::stderr(&out).contains("refusing to use it"));
    assert_eq!(std::fs::read(&db).unwrap(), before);
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database, just some notes\n".repeat(200)).unwrap();
    let before = std::fs::read(&text).unwrap();
    let out = run(
        &["migrate"],
        vec![("MUX_DB_PATH", text.to_string_lossy().into_owned())],
    )
    .await;
    assert!(!out.status.success());
    assert_eq!(std::fs::read(&text).unwrap(), before);
}

#[actix_web::test]
async fn a_failure_half_way_through_the_upgrade_leaves_the_file_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mux.sqlite");
    older_services_database(&db, None, None);
    let (bytes, rows) = (std::fs::read(&db).unwrap(), dump(&db));
    mux_server::db::legacy::fail_next_upgrade_of(&db);
    let err = match mux_server::startup::Application::build(test_config(&db, vec![]).unwrap()).await
    {
        Ok(_) => panic!("the upgrade should have failed"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("interrupted"), "{err}");
    assert_eq!(dump(&db), rows, "every old row and table as it was");
    assert_eq!(std::fs::read(&db).unwrap(), bytes, "byte for byte");
    // The next start upgrades it in full.
    let app = TestApp::builder().spawn_in(dir).await;
    assert_eq!(count(&app.db_path, "bindings"), 8);
    assert_eq!(app.list_bindings(OLD_KEY_A).await.len(), 3);
    app.stop().await;
}
