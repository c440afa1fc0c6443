//! What every channel's media inlining shares: the download (one GET, a 2xx required, the body
//! capped), why an attachment was not inlined, and what an inlined file really is — its MIME type
//! from its own bytes first, then from what the platform says, never a fixed guess (contract §6).

use serde_json::{Map, Value, json};

/// Why an attachment was not inlined. Its text goes into the log and into `channelData.*.media`
/// as `skipped`, so it never holds a URL (Telegram's holds the bot token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("not an image")]
    NotAnImage,
    /// The platform's declared size is over the cap.
    #[error("larger than {0} bytes")]
    TooLarge(u64),
    #[error("no url")]
    NoUrl,
    #[error("no access token")]
    NoAccessToken,
    /// The platform's file lookup (`getFile`, the Graph media endpoint) did not answer.
    #[error("{0} failed")]
    LookupFailed(&'static str),
    #[error("{0} answered no JSON")]
    LookupNotJson(&'static str),
    /// The lookup answered without the field that leads to the bytes.
    #[error("{lookup} gave no {field}")]
    LookupIncomplete {
        lookup: &'static str,
        field: &'static str,
    },
    #[error("download failed")]
    DownloadFailed,
    #[error("download answered {0}")]
    DownloadStatus(u16),
    /// The body went over the cap while reading (no size was declared), or broke off.
    #[error("larger than {0} bytes or cut short")]
    CutShort(u64),
}

/// Sends `request` and reads the body, refusing more than `cap` bytes. Answers the bytes and the
/// served `Content-Type`.
pub async fn download_capped(
    request: awc::ClientRequest,
    cap: u64,
) -> Result<(Vec<u8>, Option<String>), MediaError> {
    let mut resp = request
        .send()
        .await
        .map_err(|_| MediaError::DownloadFailed)?;
    if !resp.status().is_success() {
        return Err(MediaError::DownloadStatus(resp.status().as_u16()));
    }
    let served = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let limit = usize::try_from(cap).unwrap_or(usize::MAX);
    let bytes = resp
        .body()
        .limit(limit)
        .await
        .map_err(|_| MediaError::CutShort(cap))?;
    Ok((bytes.to_vec(), served))
}

/// The type a file's first bytes prove, for the formats whose signature is unambiguous.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: [(&[u8], &str); 5] = [
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-", "application/pdf"),
    ];
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    SIGNATURES
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|(_, mime)| *mime)
}

/// The MIME type a file name's extension names, for the kinds chats carry.
pub fn mime_of_name(name: &str) -> Option<&'static str> {
    let (_, ext) = name.rsplit_once('.')?;
    let mime = match ext.to_ascii_lowercase().as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "ogg" | "oga" => "audio/ogg",
        "txt" => "text/plain",
        _ => return None,
    };
    Some(mime)
}

/// What the sources say about a downloaded file, most trusted after the bytes first.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stated<'a> {
    /// The platform's metadata (`mime_type`, `content_type`).
    pub platform: Option<&'a str>,
    /// The file's path or name (its extension).
    pub name: Option<&'a str>,
    /// The download's `Content-Type`.
    pub served: Option<&'a str>,
}

/// An inlined file's real MIME type: its signature when the bytes have a known one, else the
/// platform's word, the name's extension, the served type — `application/octet-stream` (the
/// honest "unknown") only when none of them says anything.
pub fn real_mime(bytes: &[u8], stated: Stated<'_>) -> String {
    let given = |m: Option<&str>| {
        m.map(|m| m.split(';').next().unwrap_or(m).trim().to_ascii_lowercase())
            .filter(|m| m.contains('/') && m != "application/octet-stream")
    };
    sniff(bytes)
        .map(str::to_owned)
        .or_else(|| given(stated.platform))
        .or_else(|| stated.name.and_then(mime_of_name).map(str::to_owned))
        .or_else(|| given(stated.served))
        .unwrap_or_else(|| "application/octet-stream".to_owned())
}

/// The last segment of a file path (`photos/file_7.png` → `file_7.png`), if it has one.
pub fn base_name(path: &str) -> Option<&str> {
    path.rsplit('/').next().filter(|n| !n.is_empty())
}

/// `attachments[].type`: `image` for images, `document` for anything else.
pub fn attachment_type(mime: &str) -> &'static str {
    if mime.starts_with("image/") {
        "image"
    } else {
        "document"
    }
}

/// The attachments of the items that were not inlined but can be fetched (contract §5a: "attachments
/// left out for size carry `url`"): `{type, mimeType?, fileName?, url}`, so that a voice note, a
/// video or a photo over the cap reaches the agent as a link instead of not at all.
pub fn linked_attachments(described: &[Value]) -> Vec<Value> {
    described
        .iter()
        .filter(|d| d["inlined"] != Value::Bool(true))
        .filter_map(|d| {
            let url = d["url"].as_str()?;
            let mime = d["mimeType"].as_str();
            // Without a stated type (a Telegram photo), the kind says what it is.
            let kind = match (mime, d["kind"].as_str()) {
                (Some(mime), _) => attachment_type(mime),
                (None, Some("photo" | "image" | "sticker")) => "image",
                (None, _) => "document",
            };
            Some(description(vec![
                ("type", json!(kind)),
                ("mimeType", json!(mime)),
                ("fileName", d["fileName"].clone()),
                ("url", json!(url)),
            ]))
        })
        .collect()
}

/// A media description without the fields that are absent (`fileName?`, `mimeType?` …).
pub fn description(fields: Vec<(&str, Value)>) -> Value {
    let map: Map<String, Value> = fields
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    Value::Object(map)
}

/// Makes a described file fetchable through the proxy: adds its opaque `fileRef` to `desc`,
/// and `url` (the proxy URL under `public_base`) when `with_url`; answers the grant to store
/// with the event. The locator itself never goes into the description.
pub fn reference(
    desc: &mut Value,
    channel: crate::domain::Channel,
    locator: &str,
    public_base: &str,
    with_url: bool,
) -> crate::db::file_grants::FileGrant {
    use crate::domain::file_ref;
    let file_ref = file_ref::file_ref(channel, locator);
    desc["fileRef"] = Value::String(file_ref.clone());
    if with_url {
        desc["url"] = Value::String(file_ref::proxy_url(public_base, channel, &file_ref));
    }
    crate::db::file_grants::FileGrant {
        file_ref,
        locator: locator.to_owned(),
        expires_at_ms: crate::time::now_ms().saturating_add(file_ref::grant_ttl_ms(channel)),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn the_bytes_win_over_every_stated_type() {
        let all_jpeg = Stated {
            platform: Some("image/jpeg"),
            name: Some("photos/file_1.jpg"),
            served: Some("image/jpeg"),
        };
        assert_eq!(real_mime(PNG, all_jpeg), "image/png");
        assert_eq!(real_mime(b"GIF89a..", Stated::default()), "image/gif");
        assert_eq!(
            real_mime(b"RIFF\0\0\0\0WEBPVP8 ", Stated::default()),
            "image/webp"
        );
        assert_eq!(
            real_mime(b"\xff\xd8\xff\xe0", Stated::default()),
            "image/jpeg"
        );
    }

    #[test]
    fn unknown_bytes_take_the_platform_then_the_name_then_the_served_type() {
        let raw = b"\x01\x02";
        let name = Stated {
            name: Some("voice/file_3.OGA"),
            served: Some("application/octet-stream"),
            ..Stated::default()
        };
        assert_eq!(real_mime(raw, name), "audio/ogg");
        let platform = Stated {
            platform: Some("Video/MP4; codecs=avc1"),
            ..name
        };
        assert_eq!(real_mime(raw, platform), "video/mp4");
        let served = Stated {
            served: Some("image/heic"),
            ..Stated::default()
        };
        assert_eq!(real_mime(raw, served), "image/heic");
        assert_eq!(
            real_mime(raw, Stated::default()),
            "application/octet-stream"
        );
    }

    #[test]
    fn base_names_and_descriptions() {
        assert_eq!(base_name("photos/file_7.png"), Some("file_7.png"));
        assert_eq!(base_name("plain"), Some("plain"));
        assert_eq!(base_name("dir/"), None);
        assert_eq!(
            description(vec![("kind", "photo".into()), ("fileName", Value::Null)]),
            serde_json::json!({"kind": "photo"})
        );
    }

    proptest! {
        #[test]
        fn any_bytes_and_names_give_a_type_without_panic(
            bytes in prop::collection::vec(any::<u8>(), 0..32), name in ".{0,20}", mime in ".{0,20}") {
            let stated = Stated { platform: Some(&mime), name: Some(&name), served: Some(&mime) };
            prop_assert!(real_mime(&bytes, stated).contains('/'));
        }
    }
}
