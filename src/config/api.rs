//! `[api]`: who may reach the local API and how the back-office session
//! behaves (see README, "Security").

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, in_range};

/// How long a back-office session lasts without a request, by default.
pub const DEFAULT_SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
const MIN_SESSION_IDLE_SECS: i64 = 60;
const MAX_SESSION_IDLE_SECS: i64 = 24 * 3600;

/// Local API security settings.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Host names (without port) accepted in `Host` besides the listen
    /// address, `localhost`, `127.0.0.1` and `[::1]`: the till's own name
    /// when the API is reached by it, or the public name webhooks come to.
    pub allowed_hosts: Vec<String>,
    /// Whether every route but `/healthz` and the login page needs a token
    /// (product lookups included). Required when listening beyond loopback.
    pub require_tokens: bool,
    /// A back-office session ends after this long without a request.
    pub session_idle: Duration,
    /// Marks the session cookie `Secure`: set it when the page is reached
    /// over TLS (a terminating proxy in front of the agent).
    pub secure_cookies: bool,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            allowed_hosts: Vec::new(),
            require_tokens: false,
            session_idle: DEFAULT_SESSION_IDLE,
            secure_cookies: false,
        }
    }
}

impl ApiConfig {
    /// Refuses a listen address beyond loopback unless tokens are required:
    /// product lookups are open on loopback only.
    pub fn check_listen(&self, listen: SocketAddr) -> Result<(), ConfigError> {
        if listen.ip().is_loopback() || self.require_tokens {
            return Ok(());
        }
        Err(ConfigError::invalid(
            "listen",
            format!(
                "{listen} is beyond loopback: set api.require_tokens = true (and give each till a token with `possync tokens create`)"
            ),
        ))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApi {
    allowed_hosts: Option<Vec<String>>,
    require_tokens: Option<bool>,
    session_idle_secs: Option<i64>,
    secure_cookies: Option<bool>,
}

impl RawApi {
    pub(super) fn validate(self) -> Result<ApiConfig, ConfigError> {
        let mut allowed_hosts = Vec::new();
        for host in self.allowed_hosts.unwrap_or_default() {
            let host = host.trim().to_ascii_lowercase();
            let valid = !host.is_empty()
                && host.len() <= 253
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
            if !valid {
                return Err(ConfigError::invalid(
                    "api.allowed_hosts",
                    format!(
                        "{host:?} is not a host name (write it without scheme or port, e.g. till-3.shop.lan)"
                    ),
                ));
            }
            allowed_hosts.push(host);
        }
        let idle = in_range(
            "api.session_idle_secs",
            self.session_idle_secs,
            MIN_SESSION_IDLE_SECS,
            MAX_SESSION_IDLE_SECS,
            DEFAULT_SESSION_IDLE.as_secs() as i64,
        )?;
        Ok(ApiConfig {
            allowed_hosts,
            require_tokens: self.require_tokens.unwrap_or(false),
            session_idle: Duration::from_secs(idle as u64),
            secure_cookies: self.secure_cookies.unwrap_or(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;

    fn load(text: &str) -> Result<Config, super::ConfigError> {
        crate::config::tests::load(text, &[])
    }

    #[test]
    fn a_lan_listen_needs_tokens_required() {
        let e = load("listen = \"0.0.0.0:8420\"\n").unwrap_err().to_string();
        assert!(
            e.contains("beyond loopback: set api.require_tokens = true"),
            "{e}"
        );
        let c = load("listen = \"0.0.0.0:8420\"\n[api]\nrequire_tokens = true\n").unwrap();
        assert!(c.api.require_tokens);
    }

    #[test]
    fn allowed_hosts_are_names_without_port_or_scheme() {
        let c = load("[api]\nallowed_hosts = [\"Till-3.Shop.lan\"]\n").unwrap();
        assert_eq!(c.api.allowed_hosts, vec!["till-3.shop.lan"]);
        let e = load("[api]\nallowed_hosts = [\"http://x/\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("api.allowed_hosts "), "{e}");
    }

    #[test]
    fn session_idle_is_bounded() {
        let e = load("[api]\nsession_idle_secs = 5\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("api.session_idle_secs must be between 60"),
            "{e}"
        );
    }
}
