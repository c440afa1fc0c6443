//! The file proxy (contract §5a): every media kind described with an opaque `fileRef`, files of
//! the tenant's own chats served byte-identical through `GET /v1/mux/files/<channel>/<fileRef>`,
//! anything else `404`, platform errors mapped, no token ever in what the tenant sees.

mod big;
mod other_channels;

use serde_json::{Value, json};

use crate::helpers::{KEY_A, KEY_B, TestApp, eventually};
use crate::inbound_telegram::world;
use mux_server::testkit::telegram::TOKEN;

/// What a file GET answered: status, headers, the whole body (small files only).
pub struct Fetched {
    pub status: u16,
    pub content_type: String,
    pub content_length: Option<String>,
    pub body: Vec<u8>,
}

/// `GET` of a proxy URL (a path, or a full URL under `public`) with `key`.
pub async fn fetch(app: &TestApp, url: &str, public: &str, key: &str) -> Fetched {
    let path = url.strip_prefix(public).unwrap_or(url);
    let mut resp = app
        .request(awc::http::Method::GET, path, Some(key))
        .send()
        .await
        .expect("request reaches the server");
    let header = |n: &str| {
        resp.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header("content-type").unwrap_or_default();
    let content_length = header("content-length");
    let body = resp.body().limit(1 << 20).await.expect("body").to_vec();
    Fetched {
        status: resp.status().as_u16(),
        content_type,
        content_length,
        body,
    }
}

fn json_of(f: &Fetched) -> Value {
    serde_json::from_slice(&f.body).unwrap_or(Value::Null)
}

/// The media descriptions of the `i`th envelope tenant-a got.
fn media_of(app: &TestApp, i: usize) -> Vec<Value> {
    app.oc().accepted("tenant-a")[i].body["channelData"]["telegram"]["media"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn is_ref(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|r| r.len() == 32 && r.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[actix_web::test]
async fn every_telegram_media_kind_is_described_with_a_file_ref_and_a_proxy_url() {
    let public = "https://mux.example.com/relay";
    let app = world(&[("MUX_PUBLIC_URL", "https://mux.example.com/relay/")])
        .spawn()
        .await;
    app.bind(KEY_A, "A1", "sa").await;
    let f = |id: &str| json!({"file_id": id, "file_unique_id": format!("u-{id}"), "file_size": 6_000_000});
    app.tg().push_message(
        json!({"chat": {"id": 1, "type": "private"}, "from": {"id": 11},
        "caption": "all kinds",
        "photo": [{"file_id": "p", "width": 9, "height": 9, "file_size": 6_000_000}],
        "video": f("vid"), "animation": f("anim"), "voice": f("voi"), "audio": f("aud"),
        "video_note": f("vn"), "sticker": f("st")}),
    );
    app.tg().push_message(
        json!({"chat": {"id": 1, "type": "private"}, "from": {"id": 11},
        "caption": "a document", "document": f("doc")}),
    );
    eventually("forwarded", || app.oc().accepted("tenant-a").len() == 2).await;
    let mut media = media_of(&app, 0);
    media.extend(media_of(&app, 1));
    let kinds: Vec<&str> = media.iter().filter_map(|m| m["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "photo",
            "video",
            "animation",
            "voice",
            "audio",
            "video_note",
            "sticker",
            "document"
        ]
    );
    for m in &media {
        assert!(is_ref(&m["fileRef"]), "{m}");
        let want = format!(
            "{public}/v1/mux/files/telegram/{}",
            m["fileRef"].as_str().unwrap()
        );
        assert_eq!(m["url"], json!(want), "left out for size: {m}");
        assert!(!m.to_string().contains(TOKEN));
    }
    app.stop().await;
}

#[actix_web::test]
async fn a_file_of_the_tenants_own_chat_is_served_and_no_one_elses() {
    let app = world(&[]).spawn().await;
    app.bind(KEY_A, "A1", "sa").await;
    app.bind(KEY_B, "B2", "sb").await;
    let pdf: Vec<u8> = b"%PDF-1.7\n".iter().copied().chain(0..=255u8).collect();
    app.tg()
        .add_file_at("doc-a", "documents/file_1.pdf", pdf.clone());
    app.tg()
        .add_file_at("doc-b", "documents/file_2.pdf", b"%PDF-b".to_vec());
    let doc = |chat: i64, id: &str| {
        json!({"chat": {"id": chat, "type": "private"}, "from": {"id": chat},
        "caption": "see", "document": {"file_id": id, "mime_type": "application/pdf", "file_size": 300}})
    };
    app.tg().push_message(doc(1, "doc-a"));
    app.tg().push_message(doc(2, "doc-b"));
    eventually("forwarded", || {
        app.oc().accepted("tenant-a").len() == 1 && app.oc().accepted("tenant-b").len() == 1
    })
    .await;
    let url_a = media_of(&app, 0)[0]["url"].as_str().unwrap().to_owned();
    let url_b = app.oc().accepted("tenant-b")[0].body["channelData"]["telegram"]["media"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        url_a.starts_with("/v1/mux/files/telegram/"),
        "a path without MUX_PUBLIC_URL"
    );

    let own = fetch(&app, &url_a, "", KEY_A).await;
    assert_eq!(own.status, 200);
    assert_eq!(own.body, pdf, "byte-identical");
    assert_eq!(own.content_type, "application/pdf", "the platform's type");
    assert_eq!(own.content_length, Some(pdf.len().to_string()));

    for (url, key) in [(&url_a, KEY_B), (&url_b, KEY_A)] {
        let other = fetch(&app, url, "", key).await;
        assert_eq!(other.status, 404, "another tenant's file");
        assert_eq!(json_of(&other)["code"], "FILE_NOT_FOUND");
    }
    for path in [
        "/v1/mux/files/telegram/00000000000000000000000000000000",
        "/v1/mux/files/telegram/..%2F..%2Fetc",
        "/v1/mux/files/sms/00000000000000000000000000000000",
    ] {
        assert_eq!(fetch(&app, path, "", KEY_A).await.status, 404, "{path}");
    }
    assert_eq!(app.get(&url_a, None).await.status.as_u16(), 401);

    let (_, _, metrics) = app.metrics(None).await;
    let line = format!(
        "mux_file_proxy_bytes_total{{channel=\"telegram\"}} {}",
        pdf.len()
    );
    assert!(metrics.contains(&line), "{metrics}");
    assert!(
        metrics.contains(
            "mux_file_proxy_requests_total{channel=\"telegram\",outcome=\"not_found\"} 4"
        )
    );
    app.stop().await;
}

#[actix_web::test]
async fn grants_survive_a_restart() {
    let app = world(&[]).spawn().await;
    app.bind(KEY_A, "A1", "sa").await;
    app.tg()
        .add_file_at("doc-r", "documents/file_9.pdf", b"%PDF-restart".to_vec());
    app.tg().push_message(
        json!({"chat": {"id": 1, "type": "private"}, "from": {"id": 11},
        "caption": "x", "document": {"file_id": "doc-r", "file_size": 12}}),
    );
    eventually("forwarded", || app.oc().accepted("tenant-a").len() == 1).await;
    let url = media_of(&app, 0)[0]["url"].as_str().unwrap().to_owned();
    let app = app.restart().await;
    let got = fetch(&app, &url, "", KEY_A).await;
    assert_eq!((got.status, got.body), (200, b"%PDF-restart".to_vec()));
    app.stop().await;
}

#[actix_web::test]
async fn platform_refusals_are_mapped_and_never_show_the_token() {
    let app = world(&[]).spawn().await;
    app.bind(KEY_A, "A1", "sa").await;
    app.tg().add_file_too_big("huge");
    let doc = |id: &str| {
        json!({"chat": {"id": 1, "type": "private"}, "from": {"id": 11},
        "caption": id, "document": {"file_id": id, "file_size": 30_000_000}})
    };
    app.tg().push_message(doc("huge"));
    // Never added to the fake: getFile answers 400 "invalid file_id", as for a deleted file.
    app.tg().push_message(doc("vanished"));
    eventually("forwarded", || app.oc().accepted("tenant-a").len() == 2).await;
    let url = |i: usize| media_of(&app, i)[0]["url"].as_str().unwrap().to_owned();

    let huge = fetch(&app, &url(0), "", KEY_A).await;
    assert_eq!(huge.status, 413);
    assert_eq!(json_of(&huge)["code"], "FILE_TOO_LARGE");
    let gone = fetch(&app, &url(1), "", KEY_A).await;
    assert_eq!(gone.status, 410);
    assert_eq!(
        json_of(&gone),
        json!({"ok": false, "error": "file no longer available from telegram", "code": "FILE_GONE"})
    );
    for f in [&huge, &gone] {
        assert!(!String::from_utf8_lossy(&f.body).contains(TOKEN));
    }
    app.stop().await;
}
