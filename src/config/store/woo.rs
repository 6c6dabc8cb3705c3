//! The settings of a WooCommerce store (`kind = "woocommerce"`, the default).

use secrecy::SecretString;
use url::Url;

use super::{ConfigError, secret};

/// How the agent presents its API key to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// HTTP Basic with key and secret (HTTPS only).
    Basic,
    /// `consumer_key` and `consumer_secret` query parameters (HTTPS only), for
    /// servers that strip the Authorization header.
    Query,
    /// OAuth 1.0a one-legged, HMAC-SHA256 (plain HTTP only).
    OAuth1,
}

/// A WooCommerce store: its address and REST API key.
#[derive(Debug, Clone)]
pub struct WooSettings {
    /// The shop's address, e.g. `https://shop.example.com` (no trailing slash).
    pub url: Url,
    /// The home URL WordPress has, when the agent reaches the store through
    /// another address (proxy, alias); OAuth signatures are made for it.
    pub home_url: Option<Url>,
    pub consumer_key: SecretString,
    pub consumer_secret: SecretString,
    /// The resolved authentication mode.
    pub auth: AuthMode,
}

/// Whether `path` points into WordPress's REST API rather than at the shop
/// (a common mistake when copying the store address). WordPress serves its
/// REST API below `/wp-json` whatever the plugin; the client appends its own
/// namespace to the shop's address.
fn is_rest_path(path: &str) -> bool {
    path.contains("/wp-json")
}

const KEY_HINT: &str = "create a REST API key in WooCommerce (Settings > Advanced > REST API, read/write) and put it in possync.toml";

/// The WooCommerce keys of a `[store]` section.
pub(super) struct RawWoo {
    pub(super) url: Option<String>,
    pub(super) home_url: Option<String>,
    pub(super) consumer_key: Option<toml::Value>,
    pub(super) consumer_secret: Option<toml::Value>,
    pub(super) auth: Option<String>,
}

impl RawWoo {
    pub(super) fn validate(self, section: &str) -> Result<WooSettings, ConfigError> {
        let f = |name: &str| format!("{section}.{name}");
        let url_text = self.url.ok_or_else(|| ConfigError::Missing {
            field: f("url"),
            hint: "set it to the shop's address, e.g. url = \"https://shop.example.com\""
                .to_owned(),
        })?;
        let url = parse_store_url(&f("url"), &url_text)?;
        let home_url = match self.home_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(h) => Some(parse_store_url(&f("home_url"), h)?),
        };
        let consumer_key = secret(&f("consumer_key"), self.consumer_key, KEY_HINT)?;
        let consumer_secret = secret(&f("consumer_secret"), self.consumer_secret, KEY_HINT)?;
        let https = url.scheme() == "https";
        let auth = match self.auth.as_deref().unwrap_or("auto") {
            "auto" if https => AuthMode::Basic,
            "auto" => AuthMode::OAuth1,
            "basic" | "query" if !https => {
                return Err(ConfigError::invalid(
                    &f("auth"),
                    "basic and query need an https:// store.url: WooCommerce ignores them over plain HTTP (use auto or oauth1)",
                ));
            }
            "basic" => AuthMode::Basic,
            "query" => AuthMode::Query,
            "oauth1" if https => {
                return Err(ConfigError::invalid(
                    &f("auth"),
                    "oauth1 needs an http:// store.url: over HTTPS WooCommerce checks only Basic or query-string keys (use auto, basic or query)",
                ));
            }
            "oauth1" => AuthMode::OAuth1,
            other => {
                return Err(ConfigError::invalid(
                    &f("auth"),
                    format!("must be one of auto, basic, query, oauth1 (got {other:?})"),
                ));
            }
        };
        Ok(WooSettings {
            url,
            home_url,
            consumer_key,
            consumer_secret,
            auth,
        })
    }
}

fn parse_store_url(field: &str, text: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text.trim()).map_err(|e| {
        ConfigError::invalid(
            field,
            format!("must be a URL such as https://shop.example.com ({e})"),
        )
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(ConfigError::invalid(
            field,
            format!(
                "must start with https:// or http:// (got {:?})",
                url.scheme()
            ),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ConfigError::invalid(field, "must name a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::invalid(
            field,
            "must not carry a query or fragment",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::invalid(
            field,
            "must not carry credentials; use store.consumer_key and store.consumer_secret",
        ));
    }
    if is_rest_path(url.path()) {
        return Err(ConfigError::invalid(
            field,
            "should be the shop's address (e.g. https://shop.example.com), not its REST endpoint",
        ));
    }
    // Keep the path without a trailing slash so REST paths join cleanly.
    let mut url = url;
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    Ok(url)
}
