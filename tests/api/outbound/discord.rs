use awc::http::StatusCode;
use serde_json::json;

use super::world;
use super::{CHANNEL_IN_OTHER_GUILD, SIBLING_CHANNEL, THREAD_IN_GUILD};
use crate::helpers::KEY_A;
use mux_server::testkit::discord::{TOKEN, dm_channel_of};

#[actix_web::test]
async fn a_dm_route_opens_the_dm_channel_once_and_posts_there() {
    let w = world().await;
    let first = w.send(KEY_A,
        json!({"channel": "discord", "sessionKey": "dc-dm", "to": "user:7", "text": "hi **there**",
               "mediaUrl": "https://img.example/a.png", "replyToId": "1234567890"}),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let second = w.send_text(KEY_A, "discord", "dc-dm", "again").await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);

    let opened = w.dc().recorder.calls("/users/@me/channels");
    assert_eq!(opened.len(), 1, "the DM channel is cached");
    assert_eq!(opened[0].body, json!({"recipient_id": "42"}));
    assert_eq!(
        opened[0].authorization.as_deref(),
        Some(format!("Bot {TOKEN}").as_str())
    );
    let dm = dm_channel_of(42);
    let posts = w
        .dc()
        .recorder
        .calls(&format!("/api/v10/channels/{dm}/messages"));
    assert_eq!(posts.len(), 2);
    let body = &posts[0].body;
    assert_eq!(body["content"], "hi **there**");
    assert_eq!(
        body["embeds"][0]["image"]["url"],
        "https://img.example/a.png"
    );
    assert_eq!(body["message_reference"]["message_id"], "1234567890");
    assert_eq!(body["message_reference"]["fail_if_not_exists"], false);
    assert_eq!(posts[1].body["content"], "again");
    assert!(posts[1].body.get("message_reference").is_none());
    let id = first.body["messageId"].clone();
    assert_eq!(
        first.body,
        json!({"ok": true, "messageId": id, "channelId": dm.to_string(), "providerMessageIds": [id]})
    );
    w.stop().await;
}

#[actix_web::test]
async fn a_channel_route_posts_into_the_bound_channel_or_a_thread_of_it() {
    let w = world().await;
    let bound = w.send_text(KEY_A, "discord", "dc-guild", "one").await;
    assert_eq!(bound.status, StatusCode::OK, "{}", bound.body);
    assert_eq!(bound.body["channelId"], "501");
    assert!(
        w.dc().recorder.calls("/channels/501").is_empty(),
        "the bound channel needs no lookup"
    );

    let thread = w.send(KEY_A,
        json!({"channel": "discord", "sessionKey": "dc-guild", "text": "two", "threadId": THREAD_IN_GUILD.to_string()}),
    )
    .await;
    assert_eq!(thread.status, StatusCode::OK, "{}", thread.body);
    assert_eq!(thread.body["channelId"], THREAD_IN_GUILD.to_string());
    assert_eq!(
        w.dc()
            .recorder
            .calls(&format!("/channels/{THREAD_IN_GUILD}"))
            .len(),
        1
    );
    assert_eq!(
        w.dc()
            .recorder
            .calls(&format!("/channels/{THREAD_IN_GUILD}/messages"))
            .len(),
        1
    );
    assert_eq!(
        w.dc().recorder.calls("/channels/501/messages")[0].body,
        json!({"content": "one"})
    );
    w.stop().await;
}

/// Contract §5, channel-bound: a `threadId`/`to` naming anything but a thread of the bound
/// channel (a sibling channel, another guild's channel, an unknown id, a user) is not followed.
#[actix_web::test]
async fn steering_outside_the_bound_channel_posts_into_the_bound_channel() {
    let w = world().await;
    let elsewhere = [
        json!({"threadId": SIBLING_CHANNEL.to_string()}),
        json!({"threadId": CHANNEL_IN_OTHER_GUILD.to_string()}),
        json!({"threadId": "999999"}),
        json!({"to": format!("channel:{SIBLING_CHANNEL}")}),
        json!({"to": "user:42"}),
    ];
    for steer in &elsewhere {
        let mut body = json!({"channel": "discord", "sessionKey": "dc-guild", "text": "x"});
        for (k, v) in steer.as_object().unwrap() {
            body[k] = v.clone();
        }
        let reply = w.send(KEY_A, body).await;
        assert_eq!(reply.status, StatusCode::OK, "{steer}: {}", reply.body);
        assert_eq!(reply.body["channelId"], "501", "{steer}");
    }
    let posted: Vec<String> = w
        .dc()
        .recorder
        .received()
        .into_iter()
        .filter(|r| r.path.ends_with("/messages"))
        .map(|r| r.path)
        .collect();
    assert_eq!(posted.len(), elsewhere.len());
    assert!(
        posted.iter().all(|p| p.ends_with("/channels/501/messages")),
        "{posted:?}"
    );
    w.stop().await;
}

#[actix_web::test]
async fn a_discord_5xx_is_a_502_with_the_platform_error() {
    let w = world().await;
    w.dc().fail_next_send(500, "Internal Server Error", 0);
    let reply = w.send_text(KEY_A, "discord", "dc-guild", "x").await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{}", reply.body);
    assert_eq!(reply.body["error"], "discord send failed");
    assert_eq!(reply.body["details"]["status"], 500);
    assert_eq!(
        reply.body["details"]["error"]["message"],
        "Internal Server Error"
    );
    assert!(!String::from_utf8_lossy(&reply.raw).contains(TOKEN));
    w.stop().await;
}

#[actix_web::test]
async fn discord_media_urls_are_passed_on_as_given_duplicates_included() {
    let w = world().await;
    let same = "https://img.example/same.png";
    let reply = w
        .send(
            KEY_A,
            json!({"channel": "discord", "sessionKey": "dc-dm", "mediaUrls": [same, same]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let posts = w
        .dc()
        .recorder
        .calls(&format!("/api/v10/channels/{}/messages", dm_channel_of(42)));
    let urls: Vec<_> = posts[0].body["embeds"]
        .as_array()
        .expect("embeds")
        .iter()
        .map(|e| e["image"]["url"].clone())
        .collect();
    assert_eq!(urls, vec![json!(same), json!(same)]);
    w.stop().await;
}
