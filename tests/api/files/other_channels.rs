//! The file proxy for Discord attachments (from their CDN URL) and WhatsApp media (Graph media
//! endpoint, then the short-lived URL with the access token).

use serde_json::json;

use super::fetch;
use crate::helpers::{KEY_A, KEY_B, eventually};
use crate::inbound_discord::{CHANNEL, pair_channel, spawn_connected};
use crate::inbound_whatsapp::{WA_ID, pair_tenant_a, signed, spawn_webhooks};
use mux_server::testkit::discord::Say;
use mux_server::testkit::whatsapp::TOKEN as ACCESS_TOKEN;

#[actix_web::test]
async fn discord_attachments_carry_a_file_ref_and_are_served_to_their_tenant_only() {
    let app = spawn_connected(&[("MUX_DISCORD_INBOUND_MEDIA_MAX_BYTES", "1000")]).await;
    pair_channel(&app).await;
    let pdf = b"%PDF-discord".to_vec();
    let pdf_url = app.dc().add_attachment("doc.pdf", pdf.clone());
    let big = vec![7u8; 5000];
    let big_url = app.dc().add_attachment("big.png", big.clone());
    let file = |id: &str, name: &str, ct: &str, size: usize, url: &str| {
        json!({"id": id, "filename": name,
        "content_type": ct, "size": size, "url": url, "proxy_url": url})
    };
    app.dc().say(Say {
        attachments: vec![
            file("1", "doc.pdf", "application/pdf", pdf.len(), &pdf_url),
            file("2", "big.png", "image/png", big.len(), &big_url),
        ],
        ..Say::guild(CHANNEL, 7, "files")
    });
    eventually("forwarded", || app.oc().accepted("tenant-a").len() == 1).await;
    let media = app.oc().accepted("tenant-a")[0].body["channelData"]["discord"]["media"].clone();
    assert_eq!(
        media[0]["url"],
        json!(pdf_url),
        "not left out for size: the CDN URL"
    );
    let doc_ref = media[0]["fileRef"].as_str().unwrap();
    let big_ref = media[1]["fileRef"].as_str().unwrap();
    let big_proxy = format!("/v1/mux/files/discord/{big_ref}");
    assert_eq!(
        media[1]["url"],
        json!(big_proxy),
        "left out for size: the proxy"
    );

    let doc = fetch(&app, &format!("/v1/mux/files/discord/{doc_ref}"), "", KEY_A).await;
    assert_eq!((doc.status, doc.body), (200, pdf));
    let got = fetch(&app, &big_proxy, "", KEY_A).await;
    assert_eq!((got.status, got.body), (200, big));
    assert_eq!(fetch(&app, &big_proxy, "", KEY_B).await.status, 404);
    app.stop().await;
}

#[actix_web::test]
async fn whatsapp_media_of_every_kind_is_served_through_the_graph_media_endpoint() {
    let app = spawn_webhooks().await;
    pair_tenant_a(&app).await;
    let clip: Vec<u8> = (0..4000u32).map(|i| (i % 253) as u8).collect();
    app.wa().add_media("VID1", clip.clone());
    let msg = |id: &str, kind: &str, media: serde_json::Value| {
        let mut m = json!({"from": WA_ID, "id": id, "timestamp": "1", "type": kind});
        m[kind] = media;
        m
    };
    let messages = json!([
        msg(
            "wamid.V",
            "video",
            json!({"id": "VID1", "mime_type": "video/mp4", "caption": "clip"})
        ),
        // Never added to the fake: the Graph API no longer knows the id (expired after 7 days).
        msg(
            "wamid.D",
            "document",
            json!({"id": "GONE", "mime_type": "application/pdf", "caption": "old", "filename": "o.pdf"})
        ),
        msg(
            "wamid.A",
            "audio",
            json!({"id": "AUD1", "mime_type": "audio/ogg", "voice": true})
        ),
        msg(
            "wamid.S",
            "sticker",
            json!({"id": "STK1", "mime_type": "image/webp"})
        ),
    ]);
    assert_eq!(signed(&app, messages).await, 200);
    // Media-only messages too: what is not inlined arrives as a link (contract §5a).
    eventually("forwarded", || app.oc().accepted("tenant-a").len() == 4).await;
    let got = app.oc().accepted("tenant-a");
    let voice = &got[2].body;
    assert_eq!(voice["body"], "");
    assert_eq!(
        voice["attachments"][0]["url"],
        voice["channelData"]["whatsapp"]["media"][0]["url"]
    );
    assert!(voice["attachments"][0].get("content").is_none());
    let video = &got[0].body["channelData"]["whatsapp"]["media"][0];
    assert_eq!(
        (&video["kind"], &video["inlined"]),
        (&json!("video"), &json!(false))
    );
    let url = video["url"].as_str().unwrap();
    assert_eq!(
        url,
        format!(
            "/v1/mux/files/whatsapp/{}",
            video["fileRef"].as_str().unwrap()
        )
    );
    let served = fetch(&app, url, "", KEY_A).await;
    assert_eq!((served.status, &served.body), (200, &clip));
    let old = &got[1].body["channelData"]["whatsapp"]["media"][0];
    let gone = fetch(&app, old["url"].as_str().unwrap(), "", KEY_A).await;
    assert_eq!(gone.status, 410);
    assert!(!String::from_utf8_lossy(&gone.body).contains(ACCESS_TOKEN));
    app.stop().await;
}
