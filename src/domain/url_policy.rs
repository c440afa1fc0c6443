//! Which `inboundUrl`s a tenant may set (`MUX_INBOUND_URL_ALLOW`, §4.2, §9).
//!
//! mux POSTs every inbound message to the tenant's URL with the tenant's token, so an unchecked URL
//! would let a tenant aim the server at internal services. The default allows any host except
//! link-local addresses, where cloud metadata endpoints (169.254.169.254) live; those need an
//! explicit CIDR/IP entry. This checks the URL as written: a hostname that *resolves* to a
//! forbidden address is not caught here.

use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net};
use url::{Host, Url};

/// The parsed allow list: CIDR/IP entries and host globs.
#[derive(Debug, Clone)]
pub struct InboundUrlAllow {
    nets: Vec<IpNet>,
    /// Lowercased, trailing dot removed.
    globs: Vec<String>,
}

/// Why an `inboundUrl` was refused. All variants map to the API code `INBOUND_URL_NOT_ALLOWED`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlPolicyError {
    #[error("inboundUrl must be an absolute http or https URL")]
    NotHttp,
    #[error("inboundUrl must not contain credentials")]
    Credentials,
    #[error("inboundUrl must have a host")]
    MissingHost,
    #[error("inboundUrl host is not allowed")]
    HostNotAllowed,
}

impl UrlPolicyError {
    /// The machine code of the `400` answer (§4.2).
    pub fn code(&self) -> &'static str {
        "INBOUND_URL_NOT_ALLOWED"
    }
}

impl Default for InboundUrlAllow {
    /// Same as an unset `MUX_INBOUND_URL_ALLOW`: `*` (minus link-local).
    fn default() -> Self {
        InboundUrlAllow {
            nets: Vec::new(),
            globs: vec!["*".to_owned()],
        }
    }
}

impl InboundUrlAllow {
    /// Parses the comma-separated list. Unset, blank, or only empty entries mean `*`. An entry is a
    /// CIDR, a bare IP (a /32 or /128; IPv6 may be bracketed) or a host glob of `[A-Za-z0-9._*-]`;
    /// anything else is an error so a typo in the operator's config fails at start instead of
    /// silently blocking or allowing.
    pub fn parse(spec: Option<&str>) -> Result<InboundUrlAllow, String> {
        let mut allow = InboundUrlAllow {
            nets: Vec::new(),
            globs: Vec::new(),
        };
        let entries = spec.unwrap_or("").split(',').map(str::trim);
        for entry in entries.filter(|e| !e.is_empty()) {
            match parse_entry(entry)? {
                Entry::Net(net) => allow.nets.push(net),
                Entry::Glob(glob) => allow.globs.push(glob),
            }
        }
        if allow.nets.is_empty() && allow.globs.is_empty() {
            return Ok(InboundUrlAllow::default());
        }
        Ok(allow)
    }

    /// Checks a tenant-supplied URL and returns it parsed.
    pub fn check(&self, raw_url: &str) -> Result<Url, UrlPolicyError> {
        let url = Url::parse(raw_url).map_err(|_| UrlPolicyError::NotHttp)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(UrlPolicyError::NotHttp);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlPolicyError::Credentials);
        }
        let allowed = match url.host() {
            None => return Err(UrlPolicyError::MissingHost),
            Some(Host::Domain(d)) => self.glob_matches(&normalize_host(d)),
            Some(Host::Ipv4(ip)) => self.ip_allowed(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => self.ip_allowed(unmap_ip(IpAddr::V6(ip))),
        };
        if allowed {
            Ok(url)
        } else {
            Err(UrlPolicyError::HostNotAllowed)
        }
    }

    /// A CIDR/IP entry always decides for an IP; a glob over its text (`*`, `10.*`) counts too,
    /// except for link-local addresses, which must be listed as a CIDR/IP on purpose.
    fn ip_allowed(&self, ip: IpAddr) -> bool {
        if self.nets.iter().any(|n| n.contains(&ip)) {
            return true;
        }
        !is_link_local(ip) && self.glob_matches(&ip.to_string())
    }

    fn glob_matches(&self, host: &str) -> bool {
        self.globs
            .iter()
            .any(|g| glob_match(g.as_bytes(), host.as_bytes()))
    }
}

enum Entry {
    Net(IpNet),
    Glob(String),
}

fn parse_entry(entry: &str) -> Result<Entry, String> {
    if entry.contains('/') {
        let net: IpNet = entry
            .parse()
            .map_err(|_| format!("MUX_INBOUND_URL_ALLOW: invalid CIDR {entry:?}"))?;
        return Ok(Entry::Net(unmap_net(net.trunc())));
    }
    let unbracketed = entry.strip_prefix('[').and_then(|e| e.strip_suffix(']'));
    if let Ok(ip) = unbracketed.unwrap_or(entry).parse::<IpAddr>() {
        return Ok(Entry::Net(IpNet::from(unmap_ip(ip))));
    }
    if entry
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._*-".contains(&b))
    {
        return Ok(Entry::Glob(normalize_host(entry)));
    }
    Err(format!(
        "MUX_INBOUND_URL_ALLOW: {entry:?} is neither a CIDR, an IP nor a host glob"
    ))
}

fn normalize_host(h: &str) -> String {
    h.strip_suffix('.').unwrap_or(h).to_ascii_lowercase()
}

/// `::ffff:a.b.c.d` is the IPv4 address a.b.c.d on the wire, so it is judged as one.
fn unmap_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// An IPv4-mapped IPv6 CIDR entry (`::ffff:10.0.0.0/104`) becomes the IPv4 CIDR it covers, to match
/// [`unmap_ip`].
fn unmap_net(net: IpNet) -> IpNet {
    if let IpNet::V6(v6) = net
        && v6.prefix_len() >= 96
        && let Some(v4) = v6.network().to_ipv4_mapped()
        && let Ok(n) = Ipv4Net::new(v4, v6.prefix_len() - 96)
    {
        return IpNet::V4(n);
    }
    net
}

fn is_link_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// `*` matches any run of bytes (including dots and nothing); everything else matches itself. Both
/// sides are lowercase already. Greedy with one backtrack point: O(pattern × host) time, no
/// recursion, fine for hostnames.
fn glob_match(pat: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match (pat.get(p), text.get(t)) {
            (Some(b'*'), _) => {
                star = Some((p, t));
                p += 1;
            }
            (Some(a), Some(b)) if a == b => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pat.get(p..)
        .is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a panic is how a test fails
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn allow(spec: &str) -> InboundUrlAllow {
        InboundUrlAllow::parse(Some(spec)).unwrap()
    }

    fn ok(a: &InboundUrlAllow, url: &str) -> bool {
        a.check(url).is_ok()
    }

    #[test]
    fn unset_or_blank_allows_any_host_but_not_link_local() {
        for a in [
            InboundUrlAllow::parse(None).unwrap(),
            allow("  "),
            allow(" , ,"),
            InboundUrlAllow::default(),
        ] {
            assert!(ok(&a, "https://openclaw.example.com/hooks/mux"));
            assert!(ok(&a, "http://10.1.2.3:8080/x"));
            assert!(ok(&a, "http://[fd00::1]/x"));
            assert!(!ok(&a, "http://169.254.169.254/latest/meta-data"));
            assert!(!ok(&a, "http://[fe80::1]/"));
            assert!(!ok(&a, "http://[febf::1]/"));
            assert!(!ok(&a, "http://[::ffff:169.254.1.1]/"));
            assert!(
                !ok(&a, "http://0xA9FEA9FE/"),
                "hex IPv4 is normalised by the url crate"
            );
        }
    }

    #[test]
    fn only_http_and_https_absolute_urls_are_accepted() {
        let a = InboundUrlAllow::default();
        for bad in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "/relative",
            "example.com",
            "",
            "javascript:alert(1)",
        ] {
            assert_eq!(a.check(bad).unwrap_err(), UrlPolicyError::NotHttp, "{bad}");
        }
        assert_eq!(
            a.check("HTTPS://Example.COM/a").unwrap().host_str(),
            Some("example.com")
        );
    }

    #[test]
    fn credentials_in_the_url_are_refused() {
        let a = InboundUrlAllow::default();
        assert_eq!(
            a.check("https://user:pw@example.com/").unwrap_err(),
            UrlPolicyError::Credentials
        );
        assert_eq!(
            a.check("https://user@example.com/").unwrap_err(),
            UrlPolicyError::Credentials
        );
        assert_eq!(
            a.check("https://:pw@example.com/").unwrap_err(),
            UrlPolicyError::Credentials
        );
    }

    #[test]
    fn host_globs_match_case_insensitively_and_ignore_a_trailing_dot() {
        let a = allow("*.example.com, openclaw-*.internal ,Exact.Host");
        assert!(ok(&a, "https://a.example.com/"));
        assert!(ok(&a, "https://a.b.EXAMPLE.com./"));
        assert!(!ok(&a, "https://example.com/"));
        assert!(!ok(&a, "https://example.com.evil.org/"));
        assert!(ok(&a, "http://openclaw-7.internal:9000/"));
        assert!(!ok(&a, "http://openclaw.internal/"));
        assert!(ok(&a, "http://exact.host/"));
        assert!(ok(&a, "http://exact.host./"));
        assert!(!ok(&a, "http://sub.exact.host/"));
        assert_eq!(
            a.check("http://10.0.0.1/").unwrap_err(),
            UrlPolicyError::HostNotAllowed
        );
    }

    #[test]
    fn cidr_and_bare_ip_entries_allow_contained_addresses() {
        let a = allow("10.0.0.0/8, 192.168.1.5, fd00::/8, [::1]");
        assert!(ok(&a, "http://10.200.3.4/"));
        assert!(!ok(&a, "http://11.0.0.1/"));
        assert!(ok(&a, "http://192.168.1.5/"));
        assert!(!ok(&a, "http://192.168.1.6/"));
        assert!(ok(&a, "http://[fd12::5]/"));
        assert!(ok(&a, "http://[::1]:3000/"));
        assert!(
            ok(&a, "http://[::ffff:10.1.1.1]/"),
            "mapped IPv6 is judged as its IPv4"
        );
        assert!(!ok(&a, "https://example.com/"));
    }

    #[test]
    fn link_local_passes_only_through_an_explicit_cidr_or_ip_entry() {
        let globbed = allow("*, 169.254.*");
        assert!(!ok(&globbed, "http://169.254.169.254/"));
        let listed = allow("*, 169.254.169.254, fe80::/10");
        assert!(ok(&listed, "http://169.254.169.254/"));
        assert!(!ok(&listed, "http://169.254.169.253/"));
        assert!(ok(&listed, "http://[fe80::1]/"));
        assert!(ok(&listed, "http://[::ffff:169.254.169.254]/"));
        assert!(ok(&allow("::ffff:169.254.0.0/112"), "http://169.254.3.3/"));
    }

    #[test]
    fn globs_over_ip_text_work_for_non_link_local_addresses() {
        let a = allow("10.*");
        assert!(ok(&a, "http://10.9.9.9/"));
        assert!(!ok(&a, "http://11.9.9.9/"));
    }

    #[test]
    fn invalid_entries_are_errors() {
        for bad in [
            "10.0.0.0/33",
            "10.0.0/8",
            "host:8080",
            "http://x",
            "a b",
            "exämple.com",
            "*/8",
            "fe80::/129",
        ] {
            assert!(InboundUrlAllow::parse(Some(bad)).is_err(), "{bad}");
        }
        assert!(InboundUrlAllow::parse(Some("under_score.host, 10.0.0.1/8")).is_ok());
    }

    #[test]
    fn every_rejection_carries_the_api_code() {
        assert_eq!(
            UrlPolicyError::HostNotAllowed.code(),
            "INBOUND_URL_NOT_ALLOWED"
        );
        assert_eq!(
            UrlPolicyError::NotHttp.to_string(),
            "inboundUrl must be an absolute http or https URL"
        );
    }

    #[test]
    fn glob_match_handles_stars_anywhere() {
        assert!(glob_match(b"*", b""));
        assert!(glob_match(b"a*b*c", b"aXXbYYc"));
        assert!(glob_match(b"**a", b"a"));
        assert!(!glob_match(b"a*b", b"aXXc"));
        assert!(!glob_match(b"", b"a"));
    }

    proptest! {
        #[test]
        fn policy_never_panics_on_arbitrary_strings(spec in "\\PC{0,40}", url in "\\PC{0,60}") {
            if let Ok(a) = InboundUrlAllow::parse(Some(&spec)) {
                let _ = a.check(&url);
            }
            let _ = InboundUrlAllow::default().check(&url);
        }

        #[test]
        fn policy_never_panics_on_url_like_strings(
            spec in "([*a-z0-9.:/\\[\\]-]{0,12},?){0,4}",
            url in "(https?|ftp)://([a-z0-9.:@\\[\\]%-]{0,25})(/[ -~]{0,10})?"
        ) {
            if let Ok(a) = InboundUrlAllow::parse(Some(&spec)) {
                let _ = a.check(&url);
            }
        }
    }
}
