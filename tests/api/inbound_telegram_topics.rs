//! Which Telegram messages are in a forum topic (contract §3.2): `is_topic_message`, or a forum
//! chat and a `message_thread_id`. A reply thread in a plain group is not a topic: it binds and
//! routes as the chat, and nothing sent back into it carries `message_thread_id`.

use serde_json::{Value, json};

use crate::helpers::{KEY_A, KEY_B, eventually};
use crate::inbound_telegram::spawn_polling;

fn in_thread(chat: Value, text: &str) -> Value {
    json!({"chat": chat, "from": {"id": 5, "is_bot": false}, "message_thread_id": 4,
           "reply_to_message": {"message_id": 4, "chat": chat, "date": 1}, "text": text})
}

#[actix_web::test]
async fn a_thread_of_a_forum_chat_is_a_topic_without_is_topic_message() {
    let app = spawn_polling(&[]).await;
    let token = app.token(KEY_B, json!({"channel": "telegram"})).await;
    let forum = json!({"id": -1007, "type": "supergroup", "is_forum": true});
    app.tg()
        .push_message(in_thread(forum.clone(), &format!("/start {token}")));
    eventually("paired", || app.tg().sent().len() == 1).await;
    assert_eq!(app.tg().sent()[0].1["message_thread_id"], 4);
    let items = app.list_bindings(KEY_B).await;
    assert_eq!(items[0]["scope"], "topic");
    assert_eq!(items[0]["routeKey"], "telegram:default:chat:-1007:topic:4");
    app.tg().push_message(in_thread(forum, "in the topic"));
    eventually("forwarded", || app.oc().accepted("tenant-b").len() == 1).await;
    let env = &app.oc().accepted("tenant-b")[0].body;
    assert_eq!(env["threadId"], 4);
    assert_eq!(env["channelData"]["topicId"], 4);
    assert_eq!(env["sessionKey"], "tg:group:-1007:thread:4");
    app.stop().await;
}

#[actix_web::test]
async fn a_reply_thread_in_a_plain_group_is_the_chat_and_replies_carry_no_thread() {
    let app = spawn_polling(&[]).await;
    let token = app.token(KEY_A, json!({"channel": "telegram"})).await;
    let group = json!({"id": -1008, "type": "supergroup"});
    app.tg()
        .push_message(in_thread(group.clone(), &format!("/start {token}")));
    eventually("paired", || app.tg().sent().len() == 1).await;
    let notice = &app.tg().sent()[0].1;
    assert_eq!(notice["chat_id"], -1008);
    assert!(
        notice.get("message_thread_id").is_none(),
        "the notice carries no thread: {notice}"
    );
    let items = app.list_bindings(KEY_A).await;
    assert_eq!(items[0]["scope"], "chat");
    assert_eq!(items[0]["routeKey"], "telegram:default:chat:-1008");

    app.tg().push_message(in_thread(group, "a reply"));
    eventually("forwarded", || app.oc().accepted("tenant-a").len() == 1).await;
    let env = app.oc().accepted("tenant-a")[0].body.clone();
    assert_eq!(env["body"], "a reply");
    assert!(env.get("threadId").is_none(), "no threadId: {env}");
    assert_eq!(env["channelData"]["topicId"], Value::Null);
    assert_eq!(env["sessionKey"], "tg:group:-1008");

    // OpenClaw answers with what the envelope gave it: no thread reaches Telegram.
    let mut reply = json!({"channel": "telegram", "sessionKey": env["sessionKey"], "to": env["to"],
                           "text": "answer"});
    if let Some(thread) = env.get("threadId") {
        reply["threadId"] = thread.clone();
    }
    let sent = app.send(KEY_A, reply).await;
    assert_eq!(sent.status, awc::http::StatusCode::OK, "{}", sent.body);
    let (_, body) = app.tg().sent().last().cloned().expect("sent");
    assert_eq!(body, json!({"chat_id": -1008, "text": "answer"}));
    app.stop().await;
}
