//! Typed reads of environment variables. An empty value counts as unset, as env files write
//! `MUX_API_KEY=` to mean "none".

use std::collections::HashMap;

use secrecy::SecretString;

/// A variable that stops the start. Display is the one line the operator sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {var}: {reason}")]
pub struct ConfigError {
    /// The variable's name.
    pub var: String,
    /// What is wrong with it (never its value: it may be a secret).
    pub reason: String,
}

impl ConfigError {
    pub fn new(var: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError {
            var: var.to_owned(),
            reason: reason.into(),
        }
    }
}

pub struct Env {
    vars: HashMap<String, String>,
    /// Every name asked for, to find `MUX_*` variables nothing reads (typos).
    read: std::cell::RefCell<std::collections::HashSet<String>>,
}

impl Env {
    pub fn new(vars: HashMap<String, String>) -> Env {
        Env {
            vars,
            read: Default::default(),
        }
    }

    /// `MUX_*` variables that are set but that no setting reads, sorted.
    pub fn unread_mux_vars(&self) -> Vec<String> {
        let read = self.read.borrow();
        let mut names: Vec<String> = self
            .vars
            .keys()
            .filter(|k| k.starts_with("MUX_") && !read.contains(*k))
            .cloned()
            .collect();
        names.sort();
        names
    }

    /// The trimmed value, or None when unset or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.read.borrow_mut().insert(name.to_owned());
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn string(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or(default).to_owned()
    }

    pub fn secret(&self, name: &str) -> Option<SecretString> {
        self.get(name).map(SecretString::from)
    }

    /// An unsigned integer of at least `min`.
    pub fn u64_min(&self, name: &str, default: u64, min: u64) -> Result<u64, ConfigError> {
        let Some(raw) = self.get(name) else {
            return Ok(default);
        };
        match raw.parse::<u64>() {
            Ok(v) if v >= min => Ok(v),
            _ => Err(ConfigError::new(
                name,
                format!("must be a whole number of at least {min}"),
            )),
        }
    }

    pub fn port(&self, name: &str, default: u16) -> Result<u16, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .parse::<u16>()
                .map_err(|_| ConfigError::new(name, "must be a port number from 0 to 65535")),
        }
    }

    pub fn bool(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some(_) => Err(ConfigError::new(name, "must be true or false")),
        }
    }

    /// An http(s) base URL, without a trailing slash.
    pub fn url(&self, name: &str, default: &str) -> Result<String, ConfigError> {
        Ok(self.url_opt(name)?.unwrap_or_else(|| default.to_owned()))
    }

    pub fn url_opt(&self, name: &str) -> Result<Option<String>, ConfigError> {
        self.url_with_schemes(name, &["http", "https"])
    }

    pub fn ws_url_opt(&self, name: &str) -> Result<Option<String>, ConfigError> {
        self.url_with_schemes(name, &["ws", "wss"])
    }

    fn url_with_schemes(
        &self,
        name: &str,
        schemes: &[&str],
    ) -> Result<Option<String>, ConfigError> {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        match url::Url::parse(raw) {
            Ok(u) if schemes.contains(&u.scheme()) && u.host().is_some() => {
                Ok(Some(raw.trim_end_matches('/').to_owned()))
            }
            _ => Err(ConfigError::new(
                name,
                format!("must be an absolute {} URL", schemes.join(" or ")),
            )),
        }
    }
}
