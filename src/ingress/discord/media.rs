//! Attachments of a Discord message: images are downloaded from their (signed, expiring) CDN
//! URL right away and inlined as base64 within `MUX_DISCORD_INBOUND_MEDIA_MAX_BYTES`, typed by
//! their own bytes; every attachment is described in `channelData.discord.media` with the older
//! service's fields `{id, fileName, mimeType, size, url}` (contract §6), inlined or not.

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use super::message::DcAttachment;
use crate::db::file_grants::FileGrant;
use crate::domain::Channel;
use crate::ingress::media::{
    MediaError, Stated, attachment_type, description, download_capped, real_mime, reference,
};

const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// (descriptions of every attachment, inlined attachments, grants for the file proxy).
/// `public_base` is `MUX_PUBLIC_URL` (or empty): an attachment left out for size gets `url`
/// pointing at the proxy instead of the CDN (contract §5a); every other keeps its CDN `url`.
pub async fn inline(
    items: &[DcAttachment],
    cap: u64,
    public_base: &str,
) -> (Vec<Value>, Vec<Value>, Vec<FileGrant>) {
    let mut described = Vec::new();
    let mut attachments = Vec::new();
    let mut grants = Vec::new();
    if items.is_empty() {
        return (described, attachments, grants);
    }
    let client = awc::Client::builder().timeout(DOWNLOAD_TIMEOUT).finish();
    for item in items {
        let mut desc = describe(item);
        match fetch(&client, item, cap).await {
            Ok((bytes, served)) => {
                let mime = real_mime(
                    &bytes,
                    Stated {
                        platform: item.content_type.as_deref(),
                        name: Some(&item.filename),
                        served: served.as_deref(),
                    },
                );
                desc["inlined"] = json!(true);
                attachments.push(json!({
                    "type": attachment_type(&mime),
                    "mimeType": mime,
                    "fileName": item.filename,
                    "content": base64::engine::general_purpose::STANDARD.encode(&bytes),
                }));
            }
            Err(reason) => {
                log::info!(
                    "event=inbound_media_skipped channel=discord attachment={} reason={reason}",
                    item.id
                );
                let for_size = matches!(reason, MediaError::TooLarge(_) | MediaError::CutShort(_));
                desc["skipped"] = json!(reason.to_string());
                if let Some(cdn) = item.url.as_deref() {
                    grants.push(reference(
                        &mut desc,
                        Channel::Discord,
                        cdn,
                        public_base,
                        for_size,
                    ));
                }
                described.push(desc);
                continue;
            }
        }
        if let Some(cdn) = item.url.as_deref() {
            grants.push(reference(
                &mut desc,
                Channel::Discord,
                cdn,
                public_base,
                false,
            ));
        }
        described.push(desc);
    }
    (described, attachments, grants)
}

/// What the tenant learns of an attachment: the older service's fields, `url` being the CDN URL
/// Discord gave (signed and expiring; it holds no credential of this service).
pub fn describe(item: &DcAttachment) -> Value {
    description(vec![
        ("id", json!(item.id)),
        ("fileName", json!(item.filename)),
        ("mimeType", json!(item.content_type)),
        ("size", json!(item.size)),
        ("url", json!(item.url)),
        ("width", json!(item.width)),
        ("height", json!(item.height)),
        ("inlined", json!(false)),
    ])
}

fn is_image(item: &DcAttachment) -> bool {
    item.content_type
        .as_deref()
        .is_some_and(|m| m.starts_with("image/"))
}

async fn fetch(
    client: &awc::Client,
    item: &DcAttachment,
    cap: u64,
) -> Result<(Vec<u8>, Option<String>), MediaError> {
    if !is_image(item) {
        return Err(MediaError::NotAnImage);
    }
    if item.size.is_some_and(|s| s > cap) {
        return Err(MediaError::TooLarge(cap));
    }
    let url = item.url.as_deref().ok_or(MediaError::NoUrl)?;
    download_capped(client.get(url), cap).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(content_type: Option<&str>, size: Option<u64>) -> DcAttachment {
        DcAttachment {
            id: "1".into(),
            filename: "f".into(),
            content_type: content_type.map(str::to_owned),
            size,
            url: None,
            width: None,
            height: None,
        }
    }

    #[actix_web::test]
    async fn only_images_within_the_cap_are_fetched() {
        let client = awc::Client::default();
        let reason = |r: Result<(Vec<u8>, Option<String>), MediaError>| {
            r.map(|(bytes, _)| bytes).map_err(|e| e.to_string())
        };
        let not_image = reason(fetch(&client, &item(Some("application/pdf"), Some(1)), 10).await);
        assert_eq!(not_image, Err("not an image".to_owned()));
        let too_big = reason(fetch(&client, &item(Some("image/png"), Some(11)), 10).await);
        assert_eq!(too_big, Err("larger than 10 bytes".to_owned()));
        let no_url = reason(fetch(&client, &item(Some("image/png"), Some(1)), 10).await);
        assert_eq!(no_url, Err("no url".to_owned()));
    }
}
