//! Buttons end to end (contract §5a): a press in a bound chat reaches the tenant as an
//! `event.kind = "callback"` envelope through the durable queue; a press in an unbound chat is
//! answered (the spinner stops) and dropped; Discord presses are acknowledged within Discord's
//! 3 s whether the tenant is up or not; only the tenant a Telegram press was forwarded to may
//! answer it.

use serde_json::json;

use mux_server::testkit::discord::{GUILD, dm_channel_of};
use mux_server::testkit::openclaw::Mode;

use crate::helpers::{ADMIN, KEY_A, KEY_B, TestApp, eventually};

const CODES: &str = r#"[
  {"code":"TG-A","channel":"telegram","routeKey":"telegram:default:chat:1","scope":"chat"},
  {"code":"TG-B","channel":"telegram","routeKey":"telegram:default:chat:2","scope":"chat"},
  {"code":"DC-A","channel":"discord","routeKey":"discord:default:guild:500:channel:501","scope":"channel"},
  {"code":"DC-B-DM","channel":"discord","routeKey":"discord:default:dm:user:43","scope":"dm"}
]"#;

/// Telegram polling and the Discord gateway into the fakes; tenants A and B at the fake OpenClaw
/// (`timeout_ms` each); A bound to Telegram chat 1 and Discord channel 501, B to chat 2.
async fn spawn(timeout_ms: u64) -> TestApp {
    let world = TestApp::builder()
        .openclaw_tenants(&[("tenant-a", KEY_A), ("tenant-b", KEY_B)], timeout_ms)
        .telegram_polling()
        .var("MUX_TELEGRAM_PACING_ENABLED", "false")
        .discord_gateway()
        .var("MUX_PAIRING_CODES_JSON", CODES)
        .var("MUX_ADMIN_TOKEN", ADMIN);
    for channel in [501, 503] {
        world.dc().add_channel(channel, None);
    }
    let app = world.spawn().await;
    app.bind(KEY_A, "TG-A", "tg-a").await;
    app.bind(KEY_B, "TG-B", "tg-b").await;
    app.bind(KEY_A, "DC-A", "dc-a").await;
    app.bind(KEY_B, "DC-B-DM", "dc-b-dm").await;
    app.wait_channel("discord", "connected").await;
    app
}

fn answer(session: &str, query_id: &str) -> serde_json::Value {
    json!({"channel": "telegram", "sessionKey": session, "raw": {"telegram": {
        "method": "answerCallbackQuery", "body": {"callback_query_id": query_id, "text": "Got it"}}}})
}

#[actix_web::test]
async fn a_telegram_press_is_forwarded_as_a_callback_and_only_its_tenant_may_answer_it() {
    let app = spawn(5_000).await;
    app.tg().push_text(1, 42, "hello");
    let query = app.tg().push_callback(1, None, 42, 10, "yes");
    eventually("message and press forwarded", || {
        app.oc().accepted("tenant-a").len() == 2
    })
    .await;
    let got = app.oc().accepted("tenant-a");
    assert_eq!(got[0].body["event"], json!({"kind": "message"}));
    let env = &got[1].body;
    assert_eq!(env["event"], json!({"kind": "callback"}));
    assert_eq!(env["body"], "yes");
    assert_eq!(env["sessionKey"], "tg-a");
    assert_eq!(env["from"], "telegram:42");
    assert_eq!(env["messageId"], "10");
    let tg = &env["channelData"]["telegram"];
    assert_eq!(tg["callbackQueryId"], query);
    assert_eq!(tg["callbackData"], "yes");
    assert_eq!(tg["callbackMessageId"], "10");
    assert_eq!(tg["rawUpdate"]["callback_query"]["id"], query);
    assert!(
        app.tg().sent_of("answerCallbackQuery").is_empty(),
        "a bound chat's press is the tenant's to answer"
    );

    // B was not forwarded this press: it cannot answer it, even from its own chat.
    let theirs = app.send(KEY_B, answer("tg-b", &query)).await;
    assert_eq!(theirs.status.as_u16(), 403, "{}", theirs.body);
    assert!(app.tg().sent_of("answerCallbackQuery").is_empty());
    let mine = app.send(KEY_A, answer("tg-a", &query)).await;
    assert_eq!(mine.status.as_u16(), 200, "{}", mine.body);
    let answered = app.tg().sent_of("answerCallbackQuery");
    assert_eq!(
        answered,
        vec![json!({"callback_query_id": query, "text": "Got it"})]
    );

    // An edit is told apart by its kind.
    let edit = json!({"update_id": 5000, "edited_message": {"message_id": 3, "date": 1, "edit_date": 2,
        "chat": {"id": 1, "type": "private"}, "from": {"id": 42}, "text": "hello!"}});
    app.tg()
        .push_raw([(5000, actix_web::web::Bytes::from(edit.to_string()))]);
    eventually("edit forwarded", || {
        app.oc().accepted("tenant-a").len() == 3
    })
    .await;
    assert_eq!(
        app.oc().accepted("tenant-a")[2].body["event"],
        json!({"kind": "edit"})
    );

    // Polling asks Telegram for presses.
    let polls = app.tg().recorder.calls("/getupdates");
    assert!(polls.iter().all(
        |p| p.body["allowed_updates"] == json!(["message", "edited_message", "callback_query"])
    ));
    app.stop().await;
}

#[actix_web::test]
async fn a_press_in_an_unbound_chat_is_answered_and_dropped() {
    let app = spawn(5_000).await;
    let tg_query = app.tg().push_callback(99, None, 42, 10, "yes");
    let dc_press = app.dc().press(503, Some(GUILD), 42, "900", "go");
    eventually("telegram press answered", || {
        app.tg().sent_of("answerCallbackQuery") == vec![json!({"callback_query_id": tg_query})]
    })
    .await;
    eventually("discord press acknowledged", || {
        app.dc().acks().iter().any(|(id, _, _)| *id == dc_press)
    })
    .await;
    // Something forwarded after them arrives; the presses never do.
    app.tg().push_text(1, 42, "after");
    eventually("later message forwarded", || {
        app.oc().accepted("tenant-a").len() == 1
    })
    .await;
    assert_eq!(app.oc().bodies("tenant-a"), ["after"]);
    assert!(app.oc().accepted("tenant-b").is_empty());
    let (_, _, metrics) = app.metrics(Some(ADMIN)).await;
    assert!(
        metrics.contains(r#"mux_inbound_callbacks_total{channel="telegram",outcome="unbound"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"mux_inbound_callbacks_total{channel="discord",outcome="unbound"} 1"#)
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_discord_press_is_acknowledged_while_the_tenant_hangs_and_delivered_once_it_is_back() {
    let app = spawn(60_000).await;
    app.oc().set_mode("tenant-a", Mode::Hang);
    let press = app.dc().press(501, Some(GUILD), 42, "900", "approve");
    eventually("delivery attempt held by the tenant", || {
        app.oc().attempts("tenant-a") >= 1
    })
    .await;
    eventually("interaction acknowledged", || {
        app.dc().acks().iter().any(|(id, _, _)| *id == press)
    })
    .await;
    let acks = app.dc().acks();
    let (_, token, body) = acks.iter().find(|(id, _, _)| *id == press).unwrap();
    assert_eq!(body, &json!({"type": 6}), "a deferred update");
    assert_eq!(token, &format!("itoken-{press}"));
    assert!(
        app.oc().accepted("tenant-a").is_empty(),
        "not delivered yet"
    );

    app.oc().recover();
    eventually("delivered after the tenant is back", || {
        !app.oc().accepted("tenant-a").is_empty()
    })
    .await;
    let env = &app.oc().accepted("tenant-a")[0].body;
    assert_eq!(env["event"], json!({"kind": "callback"}));
    assert_eq!(env["body"], "approve");
    assert_eq!(env["eventId"], format!("dc:interaction:{press}"));
    let dc = &env["channelData"]["discord"];
    assert_eq!(
        (&dc["interactionId"], &dc["customId"], &dc["messageId"]),
        (&json!(press), &json!("approve"), &json!("900"))
    );
    assert!(
        !env.to_string().contains(&format!("itoken-{press}")),
        "the interaction token never reaches the tenant"
    );
    let (_, _, metrics) = app.metrics(Some(ADMIN)).await;
    assert!(
        metrics.contains(r#"mux_inbound_callbacks_total{channel="discord",outcome="forwarded"} 1"#)
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_discord_press_in_a_bound_dm_reaches_the_dms_tenant() {
    let app = spawn(5_000).await;
    let press = app.dc().press(dm_channel_of(43), None, 43, "901", "menu");
    eventually("forwarded to B", || {
        app.oc().accepted("tenant-b").len() == 1
    })
    .await;
    let env = &app.oc().accepted("tenant-b")[0].body;
    assert_eq!(
        (&env["sessionKey"], &env["chatType"], &env["body"]),
        (&json!("dc-b-dm"), &json!("direct"), &json!("menu"))
    );
    assert_eq!(env["channelData"]["discord"]["interactionId"], press);
    eventually("acknowledged", || {
        app.dc().acks().iter().any(|(id, _, _)| *id == press)
    })
    .await;
    assert!(app.oc().accepted("tenant-a").is_empty());
    app.stop().await;
}
