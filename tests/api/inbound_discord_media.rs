//! Discord attachments: images inlined within the cap, every attachment described.

use serde_json::{Value, json};

use crate::helpers::eventually;
use crate::inbound_discord::{CHANNEL, pair_channel, spawn_connected};
use mux_server::testkit::discord::Say;

#[actix_web::test]
async fn images_are_inlined_within_the_cap_and_every_attachment_is_described() {
    let app = spawn_connected(&[("MUX_DISCORD_INBOUND_MEDIA_MAX_BYTES", "1000")]).await;
    pair_channel(&app).await;
    let png = vec![0x89, b'P', b'N', b'G', 1, 2, 3];
    let small = app.dc().add_attachment("small.png", png.clone());
    let big = app.dc().add_attachment("big.png", vec![0; 5000]);
    let file = |id: &str, name: &str, ct: &str, size: usize, url: &str| json!({"id": id, "filename": name, "content_type": ct, "size": size, "url": url, "proxy_url": url, "width": 1, "height": 1});
    let attachments = vec![
        file("1", "small.png", "image/png", png.len(), &small),
        file("2", "big.png", "image/png", 5000, &big),
        file("3", "doc.pdf", "application/pdf", 10, &small),
    ];
    app.dc().say(Say {
        attachments: vec![attachments[1].clone()],
        ..Say::guild(CHANNEL, 7, "")
    });
    app.dc().say(Say {
        attachments,
        ..Say::guild(CHANNEL, 7, "")
    });
    eventually("forwarded", || app.oc().accepted("tenant-a").len() == 2).await;
    // The media-only message with nothing inlined reaches the agent as a link (contract §5a).
    let only_big = &app.oc().accepted("tenant-a")[0].body;
    let big_url = &only_big["channelData"]["discord"]["media"][0]["url"];
    assert!(
        big_url
            .as_str()
            .is_some_and(|u| u.starts_with("/v1/mux/files/discord/"))
    );
    assert_eq!(
        only_big["attachments"],
        json!([{"type": "image", "mimeType": "image/png", "fileName": "big.png", "url": big_url}])
    );
    let env = &app.oc().accepted("tenant-a")[1].body;
    assert_eq!(env["body"], "");
    use base64::Engine;
    let content = base64::engine::general_purpose::STANDARD.encode(&png);
    assert_eq!(
        env["attachments"][0],
        json!({"type": "image", "mimeType": "image/png", "fileName": "small.png", "content": content})
    );
    assert_eq!(
        env["attachments"].as_array().unwrap()[1..]
            .iter()
            .map(|a| (a["fileName"].clone(), a.get("content").is_none()))
            .collect::<Vec<_>>(),
        vec![(json!("big.png"), true), (json!("doc.pdf"), true)],
        "the others as links"
    );
    let media = env["channelData"]["discord"]["media"].as_array().unwrap();
    let inlined: Vec<&Value> = media.iter().map(|m| &m["inlined"]).collect();
    assert_eq!(inlined, vec![&json!(true), &json!(false), &json!(false)]);
    assert_eq!(media[1]["skipped"], "larger than 1000 bytes");
    assert_eq!(media[2]["skipped"], "not an image");
    assert_eq!(
        media[0]["url"],
        json!(small),
        "the CDN URL, as the older service gave it"
    );
    assert!(
        media.iter().all(|m| m.get("type").is_none()),
        "older field names only"
    );
    app.stop().await;
}
