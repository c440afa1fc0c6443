//! Formatted text (contract §5a): `parseMode` and `MUX_TELEGRAM_PARSE_MODE` → Telegram
//! `parse_mode`; refused entities resent once as plain text; long HTML split into parts that
//! each parse. Discord and WhatsApp ignore `parseMode`.

use awc::http::StatusCode;
use serde_json::json;

use super::{world, world_with};
use crate::helpers::KEY_A;
use mux_server::testkit::telegram_html::parse_html;

#[actix_web::test]
async fn parse_mode_reaches_telegram_and_the_other_platforms_ignore_it() {
    let w = world().await;
    for (session, mode) in [("tg", "HTML"), ("tg-topic", "MarkdownV2")] {
        let reply = w
            .send(KEY_A, json!({"channel": "telegram", "sessionKey": session, "text": "<b>Done</b> &amp; saved", "parseMode": mode}))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let photo = w
        .send(
            KEY_A,
            json!({"channel": "telegram", "sessionKey": "tg", "text": "<i>look</i>",
                            "mediaUrl": "https://img.example/1.jpg", "parseMode": "HTML"}),
        )
        .await;
    assert_eq!(photo.status, StatusCode::OK, "{}", photo.body);
    let calls = w.tg().recorder.calls("/sendmessage");
    assert_eq!(
        calls[0].body,
        json!({"chat_id": 555, "text": "<b>Done</b> &amp; saved", "parse_mode": "HTML"})
    );
    assert_eq!(calls[1].body["parse_mode"], "MarkdownV2");
    assert_eq!(
        w.tg().recorder.calls("/sendphoto")[0].body["parse_mode"],
        "HTML"
    );
    for (channel, session) in [("discord", "dc-guild"), ("whatsapp", "wa")] {
        let reply = w
            .send(KEY_A, json!({"channel": channel, "sessionKey": session, "text": "<b>x</b>", "parseMode": "HTML"}))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let dc = w
        .dc()
        .recorder
        .calls("/messages")
        .pop()
        .expect("discord post");
    assert_eq!(dc.body["content"], "<b>x</b>");
    assert!(dc.body.get("parse_mode").is_none());
    let wa = w.wa().recorder.received().pop().expect("whatsapp post");
    assert_eq!(wa.body["text"]["body"], "<b>x</b>");
    w.stop().await;
}

#[actix_web::test]
async fn the_operator_default_applies_to_sends_that_name_no_parse_mode() {
    let w = world_with(vec![("MUX_TELEGRAM_PARSE_MODE", "HTML".to_owned())]).await;
    w.send_text(KEY_A, "telegram", "tg", "<b>a</b>").await;
    let own = w
        .send(KEY_A, json!({"channel": "telegram", "sessionKey": "tg", "text": "*b*", "parseMode": "MarkdownV2"}))
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let modes: Vec<_> = w
        .tg()
        .recorder
        .calls("/sendmessage")
        .iter()
        .map(|c| c.body["parse_mode"].clone())
        .collect();
    assert_eq!(modes, [json!("HTML"), json!("MarkdownV2")]);
    w.stop().await;
}

#[actix_web::test]
async fn formatting_telegram_cannot_parse_is_sent_once_more_as_plain_text() {
    let w = world().await;
    let text = "<b>Done & saved";
    let reply = w
        .send(
            KEY_A,
            json!({"channel": "telegram", "sessionKey": "tg", "text": text, "parseMode": "HTML"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let calls = w.tg().recorder.calls("/sendmessage");
    assert_eq!(calls.len(), 2, "refused, then resent once");
    assert_eq!(calls[0].body["parse_mode"], "HTML");
    assert_eq!(
        calls[1].body,
        json!({"chat_id": 555, "text": text}),
        "the same text, plain"
    );
    assert_eq!(w.tg().texts_to(555), [text], "delivered once");
    assert_eq!(
        reply.body["providerMessageIds"].as_array().map(Vec::len),
        Some(1)
    );

    // MarkdownV2 too (the fake does not parse it: Telegram's refusal is scripted).
    w.tg().fail_next_send(
        400,
        "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 0",
    );
    let md = w
        .send(KEY_A, json!({"channel": "telegram", "sessionKey": "tg", "text": "*bold", "parseMode": "MarkdownV2"}))
        .await;
    assert_eq!(md.status, StatusCode::OK, "{}", md.body);
    let calls = w.tg().recorder.calls("/sendmessage");
    assert_eq!(calls.len(), 4);
    assert_eq!(calls[3].body, json!({"chat_id": 555, "text": "*bold"}));

    // Any other refusal is not a formatting problem: no second try.
    w.tg().fail_next_send(400, "Bad Request: chat not found");
    let other = w
        .send(KEY_A, json!({"channel": "telegram", "sessionKey": "tg", "text": "<b>x</b>", "parseMode": "HTML"}))
        .await;
    assert_eq!(other.status, StatusCode::BAD_GATEWAY, "{}", other.body);
    assert_eq!(w.tg().recorder.calls("/sendmessage").len(), 5);
    w.stop().await;
}

/// About 10,000 characters of the HTML OpenClaw's Telegram adapter renders: nested tags, links
/// with entities in their URLs, code blocks, escaped text, emoji.
fn long_html() -> String {
    let mut html = String::new();
    let mut i = 0;
    while html.chars().count() < 10_000 {
        html.push_str(&format!(
            "<b>Step {i}</b>: <i>read <u>the &lt;config&gt;</u> &amp; check</i> \
             <a href=\"https://docs.example/p?a={i}&amp;b=2\">docs {i}</a> 😀\n\
             <pre><code class=\"language-sh\">echo \"{i}\" &gt; out.txt &amp;&amp; cat out.txt</code></pre>\n\
             <blockquote>quoted <s>old</s> text, long enough to matter for the split</blockquote>\n"
        ));
        i += 1;
    }
    html
}

#[actix_web::test]
async fn a_10000_character_html_reply_arrives_in_parts_that_each_parse_and_keep_the_text() {
    let w = world().await;
    let html = long_html();
    let reply = w
        .send(
            KEY_A,
            json!({"channel": "telegram", "sessionKey": "tg", "text": html, "parseMode": "HTML"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let calls = w.tg().recorder.calls("/sendmessage");
    assert!(calls.len() >= 3, "{} parts", calls.len());
    assert!(
        calls.iter().all(|c| c.body["parse_mode"] == "HTML"),
        "no part fell back to plain text"
    );
    let mut seen = String::new();
    for call in &calls {
        let part = call.body["text"].as_str().expect("text");
        assert!(part.encode_utf16().count() <= 4096);
        seen.push_str(
            &parse_html(part).unwrap_or_else(|e| panic!("part does not parse ({e}): {part}")),
        );
    }
    let original = parse_html(&html).expect("the original parses");
    assert_eq!(seen, original, "the parts' text is the original's");
    assert_eq!(
        reply.body["providerMessageIds"].as_array().map(Vec::len),
        Some(calls.len())
    );
    w.stop().await;
}

#[actix_web::test]
async fn a_parse_mode_of_the_wrong_type_or_value_is_a_400() {
    let w = world().await;
    for mode in [json!("html"), json!("Markdown"), json!(1), json!(["HTML"])] {
        let reply = w
            .send(
                KEY_A,
                json!({"channel": "telegram", "sessionKey": "tg", "text": "x", "parseMode": mode}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{mode}");
        assert_eq!(
            reply.body,
            json!({"ok": false, "error": "parseMode must be \"HTML\" or \"MarkdownV2\""}),
            "{mode}"
        );
    }
    assert!(w.tg().recorder.calls("/sendmessage").is_empty());
    w.stop().await;
}
