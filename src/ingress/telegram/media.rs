//! Images of a Telegram message: getFile, download, inline as base64 within the size cap. The
//! download URL holds the bot token, so neither it nor `file_path` ever reaches a tenant.

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use super::TelegramInbound;
use super::update::TgMedia;
use crate::ingress::media::{MediaError, download_capped};

const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// (descriptions of every item, inlined attachments).
pub async fn inline(inbound: &TelegramInbound, media: &[TgMedia]) -> (Vec<Value>, Vec<Value>) {
    let mut described = Vec::new();
    let mut attachments = Vec::new();
    if media.is_empty() {
        return (described, attachments);
    }
    let client = awc::Client::builder().timeout(DOWNLOAD_TIMEOUT).finish();
    for item in media {
        let mut desc = json!({
            "type": item.kind, "fileId": item.file_id, "fileUniqueId": item.file_unique_id,
            "fileSize": item.file_size, "mimeType": item.mime_type, "fileName": item.file_name,
            "width": item.width, "height": item.height, "inlined": false,
        });
        match fetch(inbound, &client, item).await {
            Ok(bytes) => {
                desc["inlined"] = json!(true);
                attachments.push(json!({
                    "type": "image",
                    "mimeType": item.mime_type.clone().unwrap_or_else(|| "image/jpeg".into()),
                    "fileName": item.file_name.clone().unwrap_or_else(|| format!("{}.jpg", item.file_unique_id.as_deref().unwrap_or("photo"))),
                    "content": base64::engine::general_purpose::STANDARD.encode(&bytes),
                }));
            }
            Err(reason) => {
                log::info!("event=inbound_media_skipped channel=telegram reason={reason}");
                desc["skipped"] = json!(reason.to_string());
            }
        }
        described.push(desc);
    }
    (described, attachments)
}

fn is_image(item: &TgMedia) -> bool {
    item.kind == "photo"
        || item
            .mime_type
            .as_deref()
            .is_some_and(|m| m.starts_with("image/"))
}

async fn fetch(
    inbound: &TelegramInbound,
    client: &awc::Client,
    item: &TgMedia,
) -> Result<Vec<u8>, MediaError> {
    if !is_image(item) {
        return Err(MediaError::NotAnImage);
    }
    let cap = inbound.media_max_bytes;
    if item.file_size.is_some_and(|s| s > cap) {
        return Err(MediaError::TooLarge(cap));
    }
    let mut resp = client
        .post(inbound.method_url("getFile"))
        .send_json(&json!({"file_id": item.file_id}))
        .await
        .map_err(|_| MediaError::LookupFailed("getFile"))?;
    let body: Value = resp
        .json()
        .await
        .map_err(|_| MediaError::LookupNotJson("getFile"))?;
    let path = body["result"]["file_path"]
        .as_str()
        .ok_or(MediaError::LookupIncomplete {
            lookup: "getFile",
            field: "file_path",
        })?;
    let url = format!(
        "{}/file/bot{}/{path}",
        inbound.api_base,
        secrecy::ExposeSecret::expose_secret(&inbound.token)
    );
    download_capped(client.get(url), cap)
        .await
        .map(|(bytes, _)| bytes)
}
