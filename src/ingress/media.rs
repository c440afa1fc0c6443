//! The download every channel's media inlining shares: one GET, a 2xx required, the body capped;
//! and why an attachment was not inlined.

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
