//! Media of a Telegram message: every item described with the older service's field names
//! (`kind`, `fileId`, `filePath` …, contract §6); images fetched (getFile, download) and inlined
//! as base64 within the size cap, typed by their own bytes. The download URL holds the bot
//! token, so it never reaches a tenant: `filePath` is the path getFile answered, nothing more.

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use super::TelegramInbound;
use super::update::TgMedia;
use crate::db::file_grants::FileGrant;
use crate::domain::Channel;
use crate::ingress::media::{
    MediaError, Stated, attachment_type, base_name, description, download_capped, real_mime,
    reference,
};

const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// Every item described (with its `fileRef`), the inlined attachments, and the grants that make
/// the items fetchable through the file proxy.
pub struct Inlined {
    pub described: Vec<Value>,
    pub attachments: Vec<Value>,
    pub grants: Vec<FileGrant>,
}

/// Describes and inlines the items of one message.
pub async fn inline(inbound: &TelegramInbound, media: &[TgMedia]) -> Inlined {
    let mut described = Vec::new();
    let mut attachments = Vec::new();
    let mut grants = Vec::new();
    if media.is_empty() {
        return Inlined {
            described,
            attachments,
            grants,
        };
    }
    let client = awc::Client::builder().timeout(DOWNLOAD_TIMEOUT).finish();
    for item in media {
        let mut desc = describe(item);
        match fetch(inbound, &client, item).await {
            Ok(file) => {
                let mime = real_mime(
                    &file.bytes,
                    Stated {
                        platform: item.mime_type.as_deref(),
                        name: item.file_name.as_deref().or(Some(file.path.as_str())),
                        served: file.served.as_deref(),
                    },
                );
                let name = item
                    .file_name
                    .clone()
                    .or_else(|| base_name(&file.path).map(str::to_owned))
                    .unwrap_or_else(|| item.file_id.clone());
                desc["filePath"] = json!(file.path);
                desc["mimeType"] = json!(mime);
                desc["inlined"] = json!(true);
                attachments.push(json!({
                    "type": attachment_type(&mime),
                    "mimeType": mime,
                    "fileName": name,
                    "content": base64::engine::general_purpose::STANDARD.encode(&file.bytes),
                }));
            }
            Err(reason) => {
                log::info!("event=inbound_media_skipped channel=telegram reason={reason}");
                desc["skipped"] = json!(reason.to_string());
            }
        }
        let inlined = desc["inlined"] == json!(true);
        grants.push(reference(
            &mut desc,
            Channel::Telegram,
            &item.file_id,
            &inbound.ctx.public_url,
            !inlined,
        ));
        described.push(desc);
    }
    Inlined {
        described,
        attachments,
        grants,
    }
}

/// `{kind, fileId, fileUniqueId?, fileName?, mimeType?, fileSize?, width?, height?,
/// durationSec?}`; `filePath` and the real `mimeType` are added once the file is fetched.
fn describe(item: &TgMedia) -> Value {
    description(vec![
        ("kind", json!(item.kind)),
        ("fileId", json!(item.file_id)),
        ("fileUniqueId", json!(item.file_unique_id)),
        ("fileName", json!(item.file_name)),
        ("mimeType", json!(item.mime_type)),
        ("fileSize", json!(item.file_size)),
        ("width", json!(item.width)),
        ("height", json!(item.height)),
        ("durationSec", json!(item.duration_sec)),
        ("inlined", json!(false)),
    ])
}

fn is_image(item: &TgMedia) -> bool {
    item.kind == "photo"
        || item
            .mime_type
            .as_deref()
            .is_some_and(|m| m.starts_with("image/"))
}

/// A fetched file: its bytes, the path getFile gave, the download's `Content-Type`.
struct Fetched {
    bytes: Vec<u8>,
    path: String,
    served: Option<String>,
}

async fn fetch(
    inbound: &TelegramInbound,
    client: &awc::Client,
    item: &TgMedia,
) -> Result<Fetched, MediaError> {
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
    let (bytes, served) = download_capped(client.get(url), cap).await?;
    Ok(Fetched {
        bytes,
        path: path.to_owned(),
        served,
    })
}
