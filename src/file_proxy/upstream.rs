//! Opening a granted file at its platform: the lookup (where one is needed) and the download
//! request, answered as the still unread response. Credentials go in URLs and headers built
//! here and dropped here; errors carry statuses only.

use std::time::Duration;

use awc::error::SendRequestError;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::ProxyError;
use crate::config::Config;
use crate::domain::Channel;

/// Longest wait for a platform's answer head (the body then streams as long as it takes).
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

pub type Upstream = awc::ClientResponse;

fn client() -> awc::Client {
    awc::Client::builder().timeout(HEAD_TIMEOUT).finish()
}

fn send_failed(e: &SendRequestError) -> ProxyError {
    match e {
        SendRequestError::Timeout => ProxyError::Timeout,
        _ => ProxyError::Platform(None),
    }
}

/// A download answer: 2xx is the file; 403/404/410 mean the link or file is gone.
fn download_status(resp: Upstream) -> Result<Upstream, ProxyError> {
    match resp.status().as_u16() {
        200..=299 => Ok(resp),
        403 | 404 | 410 => Err(ProxyError::Gone),
        other => Err(ProxyError::Platform(Some(other))),
    }
}

pub async fn open(
    config: &Config,
    channel: Channel,
    locator: &str,
) -> Result<Upstream, ProxyError> {
    match channel {
        Channel::Telegram => telegram(config, locator).await,
        Channel::Whatsapp => whatsapp(config, locator).await,
        Channel::Discord => discord(locator).await,
    }
}

/// `getFile` for the path, then `<base>/file/bot<token>/<path>`.
async fn telegram(config: &Config, file_id: &str) -> Result<Upstream, ProxyError> {
    let cfg = &config.telegram;
    let token = cfg.bot_token.as_ref().ok_or(ProxyError::Disabled)?;
    let client = client();
    let mut resp = client
        .post(format!(
            "{}/bot{}/getFile",
            cfg.api_base_url,
            token.expose_secret()
        ))
        .send_json(&json!({"file_id": file_id}))
        .await
        .map_err(|e| send_failed(&e))?;
    let status = resp.status().as_u16();
    let body: Value = resp
        .json()
        .await
        .map_err(|_| ProxyError::Platform(Some(status)))?;
    if body["ok"] != json!(true) {
        let description = body["description"].as_str().unwrap_or_default();
        let code = body["error_code"]
            .as_u64()
            .and_then(|c| u16::try_from(c).ok());
        return Err(match code.unwrap_or(status) {
            _ if description.contains("too big") => ProxyError::TooLarge,
            400 | 404 => ProxyError::Gone,
            other => ProxyError::Platform(Some(other)),
        });
    }
    let path = body["result"]["file_path"]
        .as_str()
        .ok_or(ProxyError::Platform(Some(status)))?;
    let resp = client
        .get(format!(
            "{}/file/bot{}/{path}",
            cfg.api_base_url,
            token.expose_secret()
        ))
        .send()
        .await
        .map_err(|e| send_failed(&e))?;
    download_status(resp)
}

/// `GET /<media id>` for the short-lived URL, then that URL, both with the bearer token.
async fn whatsapp(config: &Config, media_id: &str) -> Result<Upstream, ProxyError> {
    let cfg = &config.whatsapp;
    let token = cfg.access_token.as_ref().ok_or(ProxyError::Disabled)?;
    let bearer = format!("Bearer {}", token.expose_secret());
    let client = client();
    let mut resp = client
        .get(format!("{}/{media_id}", cfg.api_base_url))
        .insert_header(("Authorization", bearer.as_str()))
        .send()
        .await
        .map_err(|e| send_failed(&e))?;
    let status = resp.status().as_u16();
    match status {
        200..=299 => {}
        // Graph answers 400 (code 100) for an unknown or expired media id.
        400 | 404 | 410 => return Err(ProxyError::Gone),
        other => return Err(ProxyError::Platform(Some(other))),
    }
    let meta: Value = resp
        .json()
        .await
        .map_err(|_| ProxyError::Platform(Some(status)))?;
    let url = meta["url"]
        .as_str()
        .ok_or(ProxyError::Platform(Some(status)))?;
    let resp = client
        .get(url)
        .insert_header(("Authorization", bearer.as_str()))
        .send()
        .await
        .map_err(|e| send_failed(&e))?;
    download_status(resp)
}

/// The CDN URL Discord gave with the message (signed; no credential of mux).
async fn discord(url: &str) -> Result<Upstream, ProxyError> {
    let resp = client()
        .get(url)
        .send()
        .await
        .map_err(|e| send_failed(&e))?;
    download_status(resp)
}
