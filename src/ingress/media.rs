//! The download every channel's media inlining shares: one GET, a 2xx required, the body capped.

/// Sends `request` and reads the body, refusing more than `cap` bytes. Answers the bytes and the
/// served `Content-Type`. Errors are short reasons for logs and `channelData.media` (never a URL:
/// Telegram's holds the bot token).
pub async fn download_capped(
    request: awc::ClientRequest,
    cap: u64,
) -> Result<(Vec<u8>, Option<String>), String> {
    let mut resp = request
        .send()
        .await
        .map_err(|_| "download failed".to_owned())?;
    if !resp.status().is_success() {
        return Err(format!("download answered {}", resp.status().as_u16()));
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
        .map_err(|_| format!("larger than {cap} bytes or cut short"))?;
    Ok((bytes.to_vec(), served))
}
