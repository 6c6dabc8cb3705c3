//! The settings of a Shopify shop (`kind = "shopify"`): its myshopify.com
//! host, how the agent signs in (an Admin API access token, or an app's
//! client id and secret exchanged for tokens), the pinned Admin API version
//! and the location whose stock the till sells.

use secrecy::SecretString;
use url::Url;

use super::{ConfigError, optional_secret};

/// A Shopify shop.
#[derive(Debug, Clone)]
pub struct ShopifySettings {
    /// The shop's myshopify.com host, e.g. `name.myshopify.com` (lower case).
    pub shop: String,
    pub credentials: ShopifyCredentials,
    /// The Admin API version every request is pinned to.
    pub api_version: ApiVersion,
    /// The location whose stock is mirrored and taken; `None` = the shop's
    /// primary location.
    pub location: Option<LocationRef>,
    /// Where the Admin API is reached instead of `https://{shop}` (a test
    /// shop, the simulated store of the demo): `None` = the shop's host.
    pub admin_url: Option<Url>,
}

impl ShopifySettings {
    /// The base the Admin API paths hang from: `admin_url`, or
    /// `https://{shop}`.
    pub fn admin_base(&self) -> Url {
        match &self.admin_url {
            Some(u) => u.clone(),
            None => Url::parse(&format!("https://{}", self.shop))
                .expect("a validated myshopify.com host makes a URL"),
        }
    }
}

/// How the agent signs in to a Shopify shop.
#[derive(Debug, Clone)]
pub enum ShopifyCredentials {
    /// An Admin API access token (`access_token`), used as it is.
    AccessToken(SecretString),
    /// An app's `client_id` and `client_secret`, exchanged for an access
    /// token with the client-credentials grant (and again before it expires).
    ClientCredentials {
        client_id: SecretString,
        client_secret: SecretString,
    },
}

/// The Admin API versions this build speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ApiVersion {
    V2026_01,
    V2026_04,
    V2026_07,
}

impl ApiVersion {
    /// Every supported version, oldest first.
    pub const SUPPORTED: [ApiVersion; 3] = [
        ApiVersion::V2026_01,
        ApiVersion::V2026_04,
        ApiVersion::V2026_07,
    ];
    /// The version used when none is configured.
    pub const DEFAULT: ApiVersion = ApiVersion::V2026_04;

    /// The version as Shopify names it, e.g. `2026-04`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V2026_01 => "2026-01",
            ApiVersion::V2026_04 => "2026-04",
            ApiVersion::V2026_07 => "2026-07",
        }
    }

    pub fn parse(s: &str) -> Option<ApiVersion> {
        ApiVersion::SUPPORTED
            .into_iter()
            .find(|v| v.as_str() == s.trim())
    }
}

/// Which location the till's stock is at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocationRef {
    /// By its numeric id (given as a number, digits or a
    /// `gid://shopify/Location/…` id).
    Id(u64),
    /// By its name, as shown in the Shopify admin.
    Name(String),
}

const LOCATION_GID: &str = "gid://shopify/Location/";

/// The Shopify keys of a `[store]` section.
pub(super) struct RawShopify {
    pub(super) shop: Option<String>,
    pub(super) access_token: Option<toml::Value>,
    pub(super) client_id: Option<toml::Value>,
    pub(super) client_secret: Option<toml::Value>,
    pub(super) api_version: Option<String>,
    pub(super) location: Option<toml::Value>,
    pub(super) admin_url: Option<String>,
}

impl RawShopify {
    pub(super) fn validate(self, section: &str) -> Result<ShopifySettings, ConfigError> {
        let f = |name: &str| format!("{section}.{name}");
        let shop_text = self.shop.ok_or_else(|| ConfigError::Missing {
            field: f("shop"),
            hint: "set it to the shop's myshopify.com host, e.g. shop = \"name.myshopify.com\""
                .to_owned(),
        })?;
        let shop = parse_shop(&f("shop"), &shop_text)?;
        let token = optional_secret(&f("access_token"), self.access_token)?;
        let client_id = optional_secret(&f("client_id"), self.client_id)?;
        let client_secret = optional_secret(&f("client_secret"), self.client_secret)?;
        let credentials = match (token, client_id, client_secret) {
            (Some(token), None, None) => ShopifyCredentials::AccessToken(token),
            (None, Some(client_id), Some(client_secret)) => ShopifyCredentials::ClientCredentials {
                client_id,
                client_secret,
            },
            (Some(_), _, _) => {
                return Err(ConfigError::invalid(
                    &f("access_token"),
                    format!(
                        "and {} are two ways to sign in: set either an access token or the app's client_id and client_secret, not both",
                        f("client_id/client_secret")
                    ),
                ));
            }
            (None, Some(_), None) => {
                return Err(ConfigError::Missing {
                    field: f("client_secret"),
                    hint: format!(
                        "{} needs the app's client secret beside it (Dev Dashboard > the app > Settings)",
                        f("client_id")
                    ),
                });
            }
            (None, None, Some(_)) => {
                return Err(ConfigError::Missing {
                    field: f("client_id"),
                    hint: format!(
                        "{} needs the app's client id beside it (Dev Dashboard > the app > Settings)",
                        f("client_secret")
                    ),
                });
            }
            (None, None, None) => {
                return Err(ConfigError::Missing {
                    field: f("access_token"),
                    hint: format!(
                        "set an Admin API access token, or the app's {} and {} (the client-credentials grant)",
                        f("client_id"),
                        f("client_secret")
                    ),
                });
            }
        };
        let api_version = match self.api_version.as_deref() {
            None => ApiVersion::DEFAULT,
            Some(v) => ApiVersion::parse(v).ok_or_else(|| {
                ConfigError::invalid(
                    &f("api_version"),
                    format!(
                        "must be one of the Admin API versions this build speaks: {} (got {v:?})",
                        ApiVersion::SUPPORTED.map(ApiVersion::as_str).join(", ")
                    ),
                )
            })?,
        };
        let location = self
            .location
            .map(|v| parse_location(&f("location"), v))
            .transpose()?;
        let admin_url = self
            .admin_url
            .map(|u| parse_admin_url(&f("admin_url"), &u))
            .transpose()?;
        Ok(ShopifySettings {
            shop,
            credentials,
            api_version,
            location,
            admin_url,
        })
    }
}

/// A myshopify.com host, as the Admin API is reached at it: no scheme, no
/// path, no port; lower case.
fn parse_shop(field: &str, text: &str) -> Result<String, ConfigError> {
    let shop = text.trim().to_ascii_lowercase();
    if shop.contains("://") {
        return Err(ConfigError::invalid(
            field,
            format!(
                "must be the shop's host without a scheme, e.g. name.myshopify.com (got {text:?})"
            ),
        ));
    }
    if shop.contains(['/', '?', '#']) {
        return Err(ConfigError::invalid(
            field,
            format!(
                "must be the shop's host without a path, e.g. name.myshopify.com (got {text:?})"
            ),
        ));
    }
    let name = shop.strip_suffix(".myshopify.com").unwrap_or_default();
    let valid_name = !name.is_empty()
        && !name.starts_with('-')
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid_name {
        return Err(ConfigError::invalid(
            field,
            format!(
                "must be the shop's myshopify.com host, e.g. name.myshopify.com, not a custom domain (got {text:?})"
            ),
        ));
    }
    Ok(shop)
}

/// An address the Admin API answers at: http(s), a host, no path, query
/// or credentials (the API's own paths are appended to it).
fn parse_admin_url(field: &str, text: &str) -> Result<Url, ConfigError> {
    let bad = |why: &str| {
        ConfigError::invalid(
            field,
            format!(
                "must be an http(s) address with no path, e.g. http://127.0.0.1:8080: {why} (got {text:?})"
            ),
        )
    };
    let url = Url::parse(text.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("the scheme is not http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(bad("it has a path, query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("it carries credentials"));
    }
    Ok(url)
}

fn parse_location(field: &str, value: toml::Value) -> Result<LocationRef, ConfigError> {
    let bad_id = || {
        ConfigError::invalid(
            field,
            "must be a location's name, its numeric id or its gid://shopify/Location/… id",
        )
    };
    match value {
        toml::Value::Integer(n) if n > 0 => Ok(LocationRef::Id(n as u64)),
        toml::Value::Integer(_) => Err(bad_id()),
        toml::Value::String(s) => {
            let s = s.trim();
            if s.is_empty() {
                return Err(ConfigError::invalid(field, "must not be empty"));
            }
            if let Some(id) = s.strip_prefix(LOCATION_GID) {
                return match id.parse::<u64>() {
                    Ok(n) if n > 0 => Ok(LocationRef::Id(n)),
                    _ => Err(bad_id()),
                };
            }
            if s.starts_with("gid://") {
                return Err(bad_id());
            }
            match s.parse::<u64>() {
                Ok(n) if n > 0 => Ok(LocationRef::Id(n)),
                Ok(_) => Err(bad_id()),
                Err(_) => Ok(LocationRef::Name(s.to_owned())),
            }
        }
        _ => Err(bad_id()),
    }
}
