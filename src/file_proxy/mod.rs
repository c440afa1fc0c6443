//! The file proxy behind `GET /v1/mux/files/<channel>/<fileRef>` (contract §5a): a granted
//! file's locator is resolved at its platform server-side (Telegram `getFile`, the Graph media
//! endpoint, a Discord CDN URL) and the platform's body is piped to the tenant as it arrives —
//! never collected, so a 50 MB file costs a few socket buffers, not 50 MB. The download URLs
//! (Telegram's holds the bot token, WhatsApp's needs the access token) never leave this module:
//! not in the answer, not in a log line.

mod upstream;

use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpResponse;
use actix_web::body::SizedStream;
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use futures_util::StreamExt;

use crate::config::Config;
use crate::domain::Channel;
use crate::metrics::Metrics;
use crate::metrics::files::FileOutcome;

/// Why a granted file could not be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyError {
    /// mux has no credentials for the channel.
    Disabled,
    /// The platform no longer has the file (expired media id or CDN link, deleted file).
    Gone,
    /// The platform will not hand out a file this large (Telegram's cloud Bot API: 20 MB).
    TooLarge,
    /// The platform answered this status, or (None) could not be reached.
    Platform(Option<u16>),
    /// The platform did not answer in time.
    Timeout,
}

impl ProxyError {
    pub fn outcome(&self) -> FileOutcome {
        match self {
            ProxyError::Disabled => FileOutcome::Disabled,
            ProxyError::Gone => FileOutcome::Gone,
            ProxyError::TooLarge => FileOutcome::TooLarge,
            ProxyError::Platform(_) | ProxyError::Timeout => FileOutcome::PlatformError,
        }
    }

    /// The tenant's answer (status, message, code): clear, never the platform's URL.
    pub fn answer(&self, channel: Channel) -> (StatusCode, String, &'static str) {
        let (status, error, code) = match self {
            ProxyError::Disabled => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{channel} is not configured"),
                "CHANNEL_DISABLED",
            ),
            ProxyError::Gone => (
                StatusCode::GONE,
                format!("file no longer available from {channel}"),
                "FILE_GONE",
            ),
            ProxyError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("{channel} does not hand out files this large"),
                "FILE_TOO_LARGE",
            ),
            ProxyError::Platform(Some(429)) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{channel} rate-limited the file download; try again later"),
                "PLATFORM_RATE_LIMITED",
            ),
            ProxyError::Platform(_) => (
                StatusCode::BAD_GATEWAY,
                format!("{channel} file download failed"),
                "PLATFORM_ERROR",
            ),
            ProxyError::Timeout => (
                StatusCode::GATEWAY_TIMEOUT,
                format!("{channel} did not answer in time"),
                "PLATFORM_TIMEOUT",
            ),
        };
        (status, error, code)
    }
}

/// Streams the file `locator` names on `channel`: status 200, the platform's `Content-Type`
/// and `Content-Length`, the body piped through as it arrives (counted in
/// `mux_file_proxy_bytes_total`).
pub async fn serve(
    config: &Config,
    metrics: &Arc<Metrics>,
    channel: Channel,
    locator: &str,
) -> Result<HttpResponse, ProxyError> {
    let resp = upstream::open(config, channel, locator).await?;
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let length = resp
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let body = piped(resp, metrics.clone(), channel);
    let mut answer = HttpResponse::Ok();
    answer
        .content_type(content_type)
        .insert_header(("Cache-Control", "private, no-store"));
    Ok(match length {
        Some(len) => answer.body(SizedStream::new(len, body)),
        None => answer.streaming(body),
    })
}

/// Longest the platform may pause mid-body before the download is cut (the tenant sees the
/// connection end short of `Content-Length`), so a stalled platform never holds a connection.
const IDLE: Duration = Duration::from_secs(60);

/// The platform's body as it arrives, counted; an error or a stall ends it.
fn piped(
    resp: upstream::Upstream,
    metrics: Arc<Metrics>,
    channel: Channel,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + 'static {
    futures_util::stream::unfold(Some(resp), move |resp| {
        let metrics = metrics.clone();
        async move {
            let mut resp = resp?;
            match actix_web::rt::time::timeout(IDLE, resp.next()).await {
                Ok(Some(Ok(bytes))) => {
                    metrics.files.bytes(channel, bytes.len() as u64);
                    Some((Ok(bytes), Some(resp)))
                }
                Ok(None) => None,
                Ok(Some(Err(e))) => {
                    log::warn!(
                        "event=file_proxy_cut channel={channel} reason=platform_body error={e}"
                    );
                    Some((Err(std::io::Error::other("platform body failed")), None))
                }
                Err(_) => {
                    log::warn!("event=file_proxy_cut channel={channel} reason=platform_stalled");
                    Some((Err(std::io::Error::other("platform stalled")), None))
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_errors_map_to_clear_statuses_without_detail() {
        let cases = [
            (ProxyError::Disabled, 503, "CHANNEL_DISABLED"),
            (ProxyError::Gone, 410, "FILE_GONE"),
            (ProxyError::TooLarge, 413, "FILE_TOO_LARGE"),
            (
                ProxyError::Platform(Some(429)),
                503,
                "PLATFORM_RATE_LIMITED",
            ),
            (ProxyError::Platform(Some(500)), 502, "PLATFORM_ERROR"),
            (ProxyError::Platform(None), 502, "PLATFORM_ERROR"),
            (ProxyError::Timeout, 504, "PLATFORM_TIMEOUT"),
        ];
        for (e, status, code) in cases {
            let (s, message, c) = e.answer(Channel::Whatsapp);
            assert_eq!((s.as_u16(), c), (status, code));
            assert!(message.contains("whatsapp") && !message.contains("http"));
        }
    }
}
