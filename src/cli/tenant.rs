//! `mux-server tenant …`: thin client of the running service's admin API (see `cli` for why).

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::config::Config;

/// How long one admin call may take; they are small and local.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Args)]
pub struct TenantArgs {
    /// Base URL of the running service (default: from MUX_HOST and MUX_PORT).
    #[arg(long, global = true)]
    url: Option<String>,
    /// Print the admin API's JSON answer instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: TenantCommand,
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant and its first API key (printed once).
    Create {
        /// Tenant id: 1 to 128 of A-Z a-z 0-9 - _ . :
        id: String,
        /// Display name (default: the id).
        #[arg(long)]
        name: Option<String>,
        /// Where its inbound messages go (with --inbound-token).
        #[arg(long, requires = "inbound_token")]
        inbound_url: Option<String>,
        /// Bearer token mux sends to the inbound URL. Visible in the process list while the
        /// command runs; the tenant can also set it later through its own API.
        #[arg(long, requires = "inbound_url")]
        inbound_token: Option<String>,
        /// Inbound request timeout (default 15000).
        #[arg(long, requires = "inbound_url")]
        inbound_timeout_ms: Option<u64>,
    },
    /// List tenants with binding counts, queue depth and last delivery.
    List,
    /// Add an API key (printed once); the tenant's other keys keep working.
    AddKey {
        id: String,
        #[arg(long)]
        label: Option<String>,
    },
    /// Revoke one API key; it fails on the very next request.
    RevokeKey { id: String, key_id: String },
    /// Disable a tenant: its keys answer 401, its inbound is held.
    Disable { id: String },
    /// Enable a disabled tenant.
    Enable { id: String },
}

/// The service's base URL as a local client reaches it: a wildcard listen address means
/// "this host", so it is dialled on loopback.
pub fn base_url(config: &Config) -> String {
    let host = match config.host.as_str() {
        "0.0.0.0" | "" => "127.0.0.1".to_owned(),
        "::" | "[::]" => "[::1]".to_owned(),
        h if h.contains(':') && !h.starts_with('[') => format!("[{h}]"),
        h => h.to_owned(),
    };
    format!("http://{host}:{}", config.port)
}

/// The admin call a command makes: method, path, body.
fn request_of(command: TenantCommand) -> (&'static str, String, Option<Value>) {
    match command {
        TenantCommand::Create {
            id,
            name,
            inbound_url,
            inbound_token,
            inbound_timeout_ms,
        } => {
            let body = json!({"id": id, "name": name, "inboundUrl": inbound_url,
                              "inboundToken": inbound_token, "inboundTimeoutMs": inbound_timeout_ms});
            ("POST", "/v1/admin/tenants".to_owned(), Some(body))
        }
        TenantCommand::List => ("GET", "/v1/admin/tenants".to_owned(), None),
        TenantCommand::AddKey { id, label } => {
            let path = format!("/v1/admin/tenants/{}/keys", segment(&id));
            ("POST", path, Some(json!({"label": label})))
        }
        TenantCommand::RevokeKey { id, key_id } => {
            let path = format!(
                "/v1/admin/tenants/{}/keys/{}",
                segment(&id),
                segment(&key_id)
            );
            ("DELETE", path, None)
        }
        TenantCommand::Disable { id } => {
            let path = format!("/v1/admin/tenants/{}/disable", segment(&id));
            ("POST", path, None)
        }
        TenantCommand::Enable { id } => {
            let path = format!("/v1/admin/tenants/{}/enable", segment(&id));
            ("POST", path, None)
        }
    }
}

/// Percent-encodes a path segment (ids are validated by the service; this keeps odd input from
/// changing the path).
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn run(config: &Config, args: TenantArgs) -> anyhow::Result<()> {
    let token = config
        .admin_token
        .as_ref()
        .ok_or_else(|| {
            anyhow!(
                "MUX_ADMIN_TOKEN is not set: tenant commands use the running service's admin API"
            )
        })?
        .expose_secret()
        .to_owned();
    let base = args.url.unwrap_or_else(|| base_url(config));
    let as_json = args.json;
    let is_list = matches!(args.command, TenantCommand::List);
    let (method, path, body) = request_of(args.command);
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let (status, answer) =
        actix_web::rt::System::new().block_on(call(method, &url, &token, body))?;
    if !(200..300).contains(&status) {
        let error = answer["error"].as_str().unwrap_or("request failed");
        bail!("{method} {path}: {status} {error}");
    }
    if as_json {
        println!("{answer}");
    } else if is_list {
        print!("{}", list_text(&answer));
    } else {
        print!("{}", change_text(&answer));
    }
    Ok(())
}

async fn call(
    method: &str,
    url: &str,
    token: &str,
    body: Option<Value>,
) -> anyhow::Result<(u16, Value)> {
    let client = awc::Client::builder().timeout(REQUEST_TIMEOUT).finish();
    let method = awc::http::Method::from_bytes(method.as_bytes())?;
    let req = client
        .request(method, url)
        .insert_header(("Authorization", format!("Bearer {token}")));
    let sent = match body {
        Some(b) => {
            req.insert_header(("Content-Type", "application/json"))
                .send_body(b.to_string())
                .await
        }
        None => req.send().await,
    };
    let mut resp = sent.map_err(|e| anyhow!("{e}")).with_context(|| {
        format!("cannot reach mux-server at {url} (is it running? --url overrides the address)")
    })?;
    let bytes = resp
        .body()
        .await
        .map_err(|e| anyhow!("reading the answer: {e}"))?;
    let answer = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok((resp.status().as_u16(), answer))
}

/// Text for create / add-key / revoke / disable / enable.
fn change_text(answer: &Value) -> String {
    let mut out = String::new();
    if let Some(id) = answer["tenant"]["id"].as_str() {
        out.push_str(&format!("tenant {id} created\n"));
    }
    if let (Some(key), Some(key_id)) = (answer["apiKey"].as_str(), answer["keyId"].as_str()) {
        out.push_str(&format!("key id:  {key_id}\napi key: {key}\n"));
        out.push_str("(the key is shown only now: store it in the tenant's control plane)\n");
    }
    if out.is_empty() {
        out.push_str("ok\n");
    }
    out
}

/// A table of `tenant list`.
pub fn list_text(answer: &Value) -> String {
    let mut out = format!(
        "{:<32} {:<9} {:>8} {:>6} {:>5}  {}\n",
        "ID", "STATUS", "BINDINGS", "QUEUE", "KEYS", "LAST DELIVERY"
    );
    for t in answer["items"].as_array().into_iter().flatten() {
        let last = match t["lastDelivery"]["state"].as_str() {
            Some(state) => format!("{state} at {}", t["lastDelivery"]["atMs"]),
            None => "-".to_owned(),
        };
        out.push_str(&format!(
            "{:<32} {:<9} {:>8} {:>6} {:>5}  {last}\n",
            t["id"].as_str().unwrap_or("?"),
            t["status"].as_str().unwrap_or("?"),
            t["bindings"],
            t["queueDepth"],
            t["keys"].as_array().map_or(0, Vec::len),
        ));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(host: &str) -> Config {
        let vars = HashMap::from([("MUX_HOST".to_owned(), host.to_owned())]);
        Config::from_map(vars).unwrap()
    }

    #[test]
    fn wildcard_listen_addresses_are_dialled_on_loopback() {
        assert_eq!(base_url(&config("0.0.0.0")), "http://127.0.0.1:18891");
        assert_eq!(base_url(&config("::")), "http://[::1]:18891");
        assert_eq!(base_url(&config("::1")), "http://[::1]:18891");
        assert_eq!(base_url(&config("10.0.0.5")), "http://10.0.0.5:18891");
    }

    #[test]
    fn path_segments_cannot_escape_their_place() {
        let (_, path, _) = request_of(TenantCommand::Disable {
            id: "../x y".into(),
        });
        assert_eq!(path, "/v1/admin/tenants/..%2Fx%20y/disable");
    }

    #[test]
    fn the_list_table_has_one_line_per_tenant() {
        let answer = json!({"items": [
            {"id": "t-1", "status": "active", "bindings": 2, "queueDepth": 0, "keys": [{}], "lastDelivery": null},
            {"id": "t-2", "status": "disabled", "bindings": 0, "queueDepth": 5, "keys": [],
             "lastDelivery": {"state": "dead", "atMs": 7}},
        ]});
        let text = list_text(&answer);
        assert_eq!(text.lines().count(), 3);
        assert!(text.contains("t-2") && text.contains("dead at 7"));
    }
}
