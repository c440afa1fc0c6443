//! Limits on HTTP clients (issue 9.4): how long one may take to send a request, and how many
//! connections one address may hold at once.

use ipnet::IpNet;

use super::ConfigError;
use super::env::Env;

/// Slow and greedy clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// `MUX_CLIENT_TIMEOUT_MS` (5000): the longest a client may take to send a request's head,
    /// and again its body. Past it the request is answered `408` and the connection closed.
    pub client_timeout_ms: u64,
    /// `MUX_MAX_CONNECTIONS_PER_PEER` (64): open connections one IP address may hold; a
    /// connection beyond it is answered `429 TOO_MANY_CONNECTIONS` and closed. 0 = no cap.
    pub max_connections_per_peer: usize,
    /// `MUX_CONNECTION_CAP_EXEMPT` (`127.0.0.0/8,::1/128`): peers the cap does not apply to —
    /// the host's own OpenClaw instances and a reverse proxy in front of mux (cap clients there).
    pub connection_cap_exempt: Vec<IpNet>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            client_timeout_ms: 5_000,
            max_connections_per_peer: 64,
            connection_cap_exempt: default_exempt(),
        }
    }
}

fn default_exempt() -> Vec<IpNet> {
    ["127.0.0.0/8", "::1/128"]
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect()
}

pub(super) fn http(env: &Env) -> Result<HttpConfig, ConfigError> {
    let d = HttpConfig::default();
    let max = env.u64_min(
        "MUX_MAX_CONNECTIONS_PER_PEER",
        d.max_connections_per_peer as u64,
        0,
    )?;
    Ok(HttpConfig {
        client_timeout_ms: env.u64_min("MUX_CLIENT_TIMEOUT_MS", d.client_timeout_ms, 1)?,
        max_connections_per_peer: usize::try_from(max)
            .map_err(|_| ConfigError::new("MUX_MAX_CONNECTIONS_PER_PEER", "too large"))?,
        connection_cap_exempt: match env.get("MUX_CONNECTION_CAP_EXEMPT") {
            None => d.connection_cap_exempt,
            // "none" is the explicit empty list (a blank value means "the default").
            Some("none") => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<IpNet>()
                        .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                        .map_err(|_| {
                            ConfigError::new(
                                "MUX_CONNECTION_CAP_EXEMPT",
                                "must be a comma list of CIDRs or addresses, or none",
                            )
                        })
                })
                .collect::<Result<_, _>>()?,
        },
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn parse(vars: &[(&str, &str)]) -> Result<HttpConfig, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        http(&Env::new(map))
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(parse(&[]), Ok(HttpConfig::default()));
        let cfg = parse(&[
            ("MUX_CLIENT_TIMEOUT_MS", "500"),
            ("MUX_MAX_CONNECTIONS_PER_PEER", "0"),
            ("MUX_CONNECTION_CAP_EXEMPT", "none"),
        ])
        .expect("valid");
        assert_eq!(cfg.client_timeout_ms, 500);
        assert_eq!(cfg.max_connections_per_peer, 0);
        assert!(cfg.connection_cap_exempt.is_empty());
        let cfg = parse(&[("MUX_CONNECTION_CAP_EXEMPT", "10.0.0.0/8, 192.168.1.1")]).expect("ok");
        assert_eq!(cfg.connection_cap_exempt.len(), 2);
        for (var, bad) in [
            ("MUX_CLIENT_TIMEOUT_MS", "0"),
            ("MUX_CONNECTION_CAP_EXEMPT", "10.0.0.0/33"),
        ] {
            assert_eq!(parse(&[(var, bad)]).expect_err("refused").var, var);
        }
    }
}
