//! Media in the envelope (contract §6): descriptions in `channelData.<channel>.media` keep the
//! older service's field names, and an inlined attachment's `mimeType` and `fileName` come from
//! the real file — its bytes first, then the platform's word — never a fixed guess.

use base64::Engine;
use serde_json::{Value, json};

use crate::helpers::{KEY_A, eventually};
use crate::inbound_discord::{CHANNEL, pair_channel, spawn_connected};
use crate::inbound_telegram::spawn_polling;
use crate::inbound_whatsapp::{WA_ID, pair_tenant_a, signed, spawn_webhooks};
use mux_server::testkit::discord::Say;

/// A PNG: signature, then an IHDR chunk's start (enough for any sniffer).
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01";
const GIF: &[u8] = b"GIF89a\x01\0\x01\0\0\0\0;";

/// The descriptions without `fileRef` and the proxy `url` (tests/api/files covers those),
/// after checking every item has a reference and only items not inlined a proxy URL.
fn older_fields(media: &Value) -> Value {
    let mut media = media.clone();
    for m in media.as_array_mut().expect("media array") {
        let r = m["fileRef"].as_str().expect("fileRef").to_owned();
        assert_eq!(r.len(), 32);
        let proxy = "/v1/mux/files/";
        let o = m.as_object_mut().unwrap();
        o.remove("fileRef");
        if o.get("url")
            .and_then(Value::as_str)
            .is_some_and(|u| u.starts_with(proxy) && u.ends_with(&r))
        {
            assert_eq!(o["inlined"], json!(false));
            o.remove("url");
        }
    }
    media
}

fn decoded(att: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(att["content"].as_str().expect("content"))
        .expect("base64")
}

#[actix_web::test]
async fn a_telegram_png_photo_is_image_png_and_described_with_the_older_field_names() {
    let app = spawn_polling(&[]).await;
    app.bind(KEY_A, "A1", "sa").await;
    // The fake serves every file as image/jpeg: the bytes must win.
    app.tg()
        .add_file_at("png-big", "photos/file_7.png", PNG.to_vec());
    app.tg().push_message(json!({"chat": {"id": 1, "type": "private"}, "from": {"id": 11},
        "caption": "a png",
        "photo": [{"file_id": "png-small", "file_unique_id": "u-s", "width": 90, "height": 90, "file_size": 10},
                  {"file_id": "png-big", "file_unique_id": "u-b", "width": 800, "height": 600, "file_size": PNG.len()}]}));
    app.tg().push_message(json!({"chat": {"id": 1, "type": "private"}, "from": {"id": 11},
        "caption": "hear this",
        "voice": {"file_id": "v1", "file_unique_id": "u-v", "duration": 4, "mime_type": "audio/ogg", "file_size": 999}}));
    eventually("forwarded", || app.oc().accepted("tenant-a").len() == 2).await;
    let got = app.oc().accepted("tenant-a");

    let photo = &got[0].body;
    let att = &photo["attachments"][0];
    assert_eq!(att["type"], "image");
    assert_eq!(att["mimeType"], "image/png");
    assert_eq!(att["fileName"], "file_7.png", "the path's base name");
    assert_eq!(decoded(att), PNG);
    assert_eq!(
        older_fields(&photo["channelData"]["telegram"]["media"]),
        json!([{"kind": "photo", "fileId": "png-big", "fileUniqueId": "u-b", "fileSize": PNG.len(),
                "width": 800, "height": 600, "filePath": "photos/file_7.png", "mimeType": "image/png",
                "inlined": true}])
    );

    let voice = &got[1].body;
    assert_eq!(voice["body"], "hear this");
    assert_eq!(
        older_fields(&voice["channelData"]["telegram"]["media"]),
        json!([{"kind": "voice", "fileId": "v1", "fileUniqueId": "u-v", "mimeType": "audio/ogg",
                "fileSize": 999, "durationSec": 4, "inlined": false, "skipped": "not an image"}])
    );
    // Not inlined, so it reaches the agent as a link to the file proxy (contract §5a).
    let url = &voice["channelData"]["telegram"]["media"][0]["url"];
    assert!(
        url.as_str()
            .is_some_and(|u| u.starts_with("/v1/mux/files/telegram/"))
    );
    assert_eq!(
        voice["attachments"],
        json!([{"type": "document", "mimeType": "audio/ogg", "url": url}])
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_discord_attachment_is_typed_by_its_bytes_and_described_with_its_cdn_url() {
    let app = spawn_connected(&[]).await;
    pair_channel(&app).await;
    let url = app.dc().add_attachment("anim.gif", GIF.to_vec());
    // Discord said image/png; the file is a GIF.
    let file = json!({"id": "9", "filename": "anim.gif", "content_type": "image/png", "size": GIF.len(),
                      "url": url, "proxy_url": url, "width": 1, "height": 1});
    app.dc().say(Say {
        attachments: vec![file],
        ..Say::guild(CHANNEL, 7, "look")
    });
    eventually("forwarded", || app.oc().accepted("tenant-a").len() == 1).await;
    let env = &app.oc().accepted("tenant-a")[0].body;
    let att = &env["attachments"][0];
    assert_eq!(
        (&att["type"], &att["mimeType"], &att["fileName"]),
        (&json!("image"), &json!("image/gif"), &json!("anim.gif"))
    );
    assert_eq!(decoded(att), GIF);
    assert_eq!(
        older_fields(&env["channelData"]["discord"]["media"]),
        json!([{"id": "9", "fileName": "anim.gif", "mimeType": "image/png", "size": GIF.len(),
                "url": url, "width": 1, "height": 1, "inlined": true}])
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_whatsapp_document_keeps_its_name_and_type_and_the_older_field_names() {
    let app = spawn_webhooks().await;
    pair_tenant_a(&app).await;
    let pdf = b"%PDF-1.7\n%fake".to_vec();
    app.wa().add_media("DOC1", pdf.clone());
    app.wa().add_media("IMG1", PNG.to_vec());
    let doc = json!({"from": WA_ID, "id": "wamid.D", "timestamp": "1", "type": "document",
        "document": {"id": "DOC1", "mime_type": "application/pdf", "sha256": "abc=", "filename": "report.pdf", "caption": "q3"}});
    let img = json!({"from": WA_ID, "id": "wamid.I", "timestamp": "2", "type": "image",
        "image": {"id": "IMG1", "mime_type": "image/jpeg", "sha256": "def="}});
    assert_eq!(signed(&app, json!([doc, img])).await, 200);
    eventually("forwarded", || app.oc().accepted("tenant-a").len() == 2).await;
    let got = app.oc().accepted("tenant-a");

    let doc = &got[0].body;
    assert_eq!(doc["body"], "q3");
    assert_eq!(
        older_fields(&doc["channelData"]["whatsapp"]["media"]),
        json!([{"id": "DOC1", "kind": "document", "mimeType": "application/pdf", "sha256": "abc=",
                "fileName": "report.pdf", "caption": "q3", "inlined": true}])
    );
    let att = &doc["attachments"][0];
    assert_eq!(
        (&att["type"], &att["mimeType"], &att["fileName"]),
        (
            &json!("document"),
            &json!("application/pdf"),
            &json!("report.pdf")
        )
    );
    assert_eq!(decoded(att), pdf);

    let img = &got[1].body;
    assert_eq!(
        img["attachments"][0]["mimeType"], "image/png",
        "the bytes win"
    );
    assert_eq!(img["channelData"]["whatsapp"]["media"][0]["kind"], "image");
    app.stop().await;
}
