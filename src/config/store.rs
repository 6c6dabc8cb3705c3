//! `[store]` and `[test_store]`: which shop a profile points at.
//!
//! Each kind of shop has its settings in a type of its own
//! ([`WooSettings`], [`ShopifySettings`]); a profile's [`StoreConfig`] holds
//! one of them beside what every kind shares (TLS, timeout, mode). The
//! clients take their settings from here; nothing in this module knows how a
//! client talks to its shop.

mod shopify;
mod woo;

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use super::ConfigError;
pub use shopify::{ApiVersion, LocationRef, ShopifyCredentials, ShopifySettings};
pub use woo::{AuthMode, WooSettings};

pub(super) const DEFAULT_TIMEOUT_SECS: u64 = 30;
const MAX_TIMEOUT_SECS: u64 = 600;

/// How to reach the online store of one profile.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// What kind of shop it is, with that kind's own settings.
    pub settings: StoreSettings,
    pub verify_tls: bool,
    pub timeout: Duration,
    /// Whether the shop is a production shop or a test/staging copy: only
    /// a staging profile lets `possync check --writes` write test objects.
    pub mode: StoreMode,
}

/// The settings of one kind of shop (`store.kind`).
#[derive(Debug, Clone)]
pub enum StoreSettings {
    /// `kind = "woocommerce"` (the default).
    WooCommerce(WooSettings),
    /// `kind = "shopify"`.
    Shopify(ShopifySettings),
}

/// The kinds of shop, as `store.kind` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    WooCommerce,
    Shopify,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::WooCommerce => "woocommerce",
            StoreKind::Shopify => "shopify",
        }
    }
}

/// What kind of shop the profile points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreMode {
    /// The live shop (the default): nothing but the till's own changes is
    /// ever written to it.
    #[default]
    Production,
    /// A test or staging copy of the shop, where the agent may create and
    /// remove clearly named test objects to check its writes.
    Staging,
}

impl StoreMode {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreMode::Production => "production",
            StoreMode::Staging => "staging",
        }
    }
}

impl StoreConfig {
    /// A WooCommerce store reached over plain HTTP with OAuth 1.0a (the
    /// simulated store, a shop on the LAN), with the default timeout.
    pub fn oauth1(url: url::Url, consumer_key: &str, consumer_secret: &str) -> StoreConfig {
        StoreConfig::woocommerce(WooSettings {
            url,
            home_url: None,
            consumer_key: SecretString::from(consumer_key.to_owned()),
            consumer_secret: SecretString::from(consumer_secret.to_owned()),
            auth: AuthMode::OAuth1,
        })
    }

    /// A WooCommerce store with the shared settings at their defaults.
    pub fn woocommerce(settings: WooSettings) -> StoreConfig {
        StoreConfig {
            settings: StoreSettings::WooCommerce(settings),
            verify_tls: true,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            mode: StoreMode::Production,
        }
    }

    /// A Shopify store with the shared settings at their defaults.
    pub fn shopify_store(settings: ShopifySettings) -> StoreConfig {
        StoreConfig {
            settings: StoreSettings::Shopify(settings),
            verify_tls: true,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            mode: StoreMode::Production,
        }
    }

    pub fn kind(&self) -> StoreKind {
        match self.settings {
            StoreSettings::WooCommerce(_) => StoreKind::WooCommerce,
            StoreSettings::Shopify(_) => StoreKind::Shopify,
        }
    }

    /// The WooCommerce settings, when the shop is a WooCommerce one.
    pub fn woo(&self) -> Option<&WooSettings> {
        match &self.settings {
            StoreSettings::WooCommerce(w) => Some(w),
            StoreSettings::Shopify(_) => None,
        }
    }

    /// The WooCommerce settings to change, when the shop is a WooCommerce one.
    pub fn woo_mut(&mut self) -> Option<&mut WooSettings> {
        match &mut self.settings {
            StoreSettings::WooCommerce(w) => Some(w),
            StoreSettings::Shopify(_) => None,
        }
    }

    /// The Shopify settings, when the shop is a Shopify one.
    pub fn shopify(&self) -> Option<&ShopifySettings> {
        match &self.settings {
            StoreSettings::Shopify(s) => Some(s),
            StoreSettings::WooCommerce(_) => None,
        }
    }

    /// The shop's address, for people: the WooCommerce store URL, or
    /// `https://` and the Shopify shop's myshopify.com host (its
    /// `admin_url` where one is set).
    pub fn address(&self) -> String {
        match &self.settings {
            StoreSettings::WooCommerce(w) => w.url.to_string(),
            StoreSettings::Shopify(s) => s.admin_base().as_str().trim_end_matches('/').to_owned(),
        }
    }
}

/// The raw `[store]` section: every kind's keys, checked against the kind.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStore {
    kind: Option<String>,
    // WooCommerce
    url: Option<String>,
    home_url: Option<String>,
    /// Raw values, so a wrongly typed secret is never quoted in an error.
    consumer_key: Option<toml::Value>,
    consumer_secret: Option<toml::Value>,
    auth: Option<String>,
    // Shopify
    shop: Option<String>,
    access_token: Option<toml::Value>,
    client_id: Option<toml::Value>,
    client_secret: Option<toml::Value>,
    api_version: Option<String>,
    /// A name, a number or a `gid://shopify/Location/…`.
    location: Option<toml::Value>,
    admin_url: Option<String>,
    // Every kind
    verify_tls: Option<bool>,
    timeout_secs: Option<i64>,
    mode: Option<String>,
}

impl RawStore {
    pub(super) fn validate(
        self,
        section: &str,
        default_mode: StoreMode,
    ) -> Result<StoreConfig, ConfigError> {
        let f = |name: &str| format!("{section}.{name}");
        let kind = match self.kind.as_deref().map(str::trim) {
            None | Some("woocommerce") => StoreKind::WooCommerce,
            Some("shopify") => StoreKind::Shopify,
            Some(other) => {
                return Err(ConfigError::invalid(
                    &f("kind"),
                    format!("must be woocommerce or shopify (got {other:?})"),
                ));
            }
        };
        let settings = match kind {
            StoreKind::WooCommerce => {
                refuse_other_kind(
                    section,
                    kind,
                    &[
                        ("shop", self.shop.is_some()),
                        ("access_token", self.access_token.is_some()),
                        ("client_id", self.client_id.is_some()),
                        ("client_secret", self.client_secret.is_some()),
                        ("api_version", self.api_version.is_some()),
                        ("location", self.location.is_some()),
                        ("admin_url", self.admin_url.is_some()),
                    ],
                )?;
                StoreSettings::WooCommerce(
                    woo::RawWoo {
                        url: self.url,
                        home_url: self.home_url,
                        consumer_key: self.consumer_key,
                        consumer_secret: self.consumer_secret,
                        auth: self.auth,
                    }
                    .validate(section)?,
                )
            }
            StoreKind::Shopify => {
                refuse_other_kind(
                    section,
                    kind,
                    &[
                        ("url", self.url.is_some()),
                        ("home_url", self.home_url.is_some()),
                        ("consumer_key", self.consumer_key.is_some()),
                        ("consumer_secret", self.consumer_secret.is_some()),
                        ("auth", self.auth.is_some()),
                    ],
                )?;
                StoreSettings::Shopify(
                    shopify::RawShopify {
                        shop: self.shop,
                        access_token: self.access_token,
                        client_id: self.client_id,
                        client_secret: self.client_secret,
                        api_version: self.api_version,
                        location: self.location,
                        admin_url: self.admin_url,
                    }
                    .validate(section)?,
                )
            }
        };
        let timeout_secs = self.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS as i64);
        if !(1..=MAX_TIMEOUT_SECS as i64).contains(&timeout_secs) {
            return Err(ConfigError::invalid(
                &f("timeout_secs"),
                format!("must be between 1 and {MAX_TIMEOUT_SECS} (got {timeout_secs})"),
            ));
        }
        let mode = match self.mode.as_deref().map(str::trim) {
            None => default_mode,
            Some("production") => StoreMode::Production,
            Some("staging") => StoreMode::Staging,
            Some(other) => {
                return Err(ConfigError::invalid(
                    &f("mode"),
                    format!("must be production or staging (got {other:?})"),
                ));
            }
        };
        Ok(StoreConfig {
            settings,
            verify_tls: self.verify_tls.unwrap_or(true),
            timeout: Duration::from_secs(timeout_secs as u64),
            mode,
        })
    }
}

/// Refuses a key of another kind of shop: set by mistake, it would be
/// silently ignored.
fn refuse_other_kind(
    section: &str,
    kind: StoreKind,
    keys: &[(&str, bool)],
) -> Result<(), ConfigError> {
    match keys.iter().find(|(_, set)| *set) {
        None => Ok(()),
        Some((key, _)) => Err(ConfigError::invalid(
            &format!("{section}.{key}"),
            format!(
                "is not used by a {} store ({section}.kind = {:?}): remove it, or set the kind it belongs to",
                kind.as_str(),
                kind.as_str()
            ),
        )),
    }
}

/// A required secret: present, a string, not blank. `hint` says where to
/// get it when it is missing.
pub(super) fn secret(
    field: &str,
    value: Option<toml::Value>,
    hint: &str,
) -> Result<SecretString, ConfigError> {
    match optional_secret(field, value)? {
        Some(s) => Ok(s),
        None => Err(ConfigError::Missing {
            field: field.to_owned(),
            hint: hint.to_owned(),
        }),
    }
}

/// A secret that may be absent; a present one is a non-blank string.
fn optional_secret(
    field: &str,
    value: Option<toml::Value>,
) -> Result<Option<SecretString>, ConfigError> {
    match value {
        None => Ok(None),
        Some(toml::Value::String(s)) if !s.trim().is_empty() => {
            Ok(Some(SecretString::from(s.trim().to_owned())))
        }
        Some(toml::Value::String(_)) => Err(ConfigError::invalid(field, "must not be empty")),
        Some(_) => Err(ConfigError::invalid(field, "must be a string")),
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::super::tests::load;
    use super::*;

    const TOKEN: &str = "shpat_0123456789abcdef0123456789abcdef";
    const CLIENT_SECRET: &str = "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";

    fn shopify(extra: &str) -> String {
        format!("[store]\nkind = \"shopify\"\nshop = \"corner-shop.myshopify.com\"\n{extra}")
    }

    fn err(text: &str) -> String {
        load(text, &[]).unwrap_err().to_string()
    }

    #[test]
    fn a_shopify_store_with_a_token_loads_with_the_default_version() {
        let c = load(&shopify(&format!("access_token = \"{TOKEN}\"\n")), &[]).unwrap();
        let store = c.store().unwrap();
        assert_eq!(store.kind(), StoreKind::Shopify);
        assert!(store.woo().is_none());
        let s = store.shopify().unwrap();
        assert_eq!(s.shop, "corner-shop.myshopify.com");
        assert_eq!(s.api_version, ApiVersion::V2026_04);
        assert_eq!(s.api_version.as_str(), "2026-04");
        assert_eq!(s.location, None);
        match &s.credentials {
            ShopifyCredentials::AccessToken(t) => assert_eq!(t.expose_secret(), TOKEN),
            other => panic!("{other:?}"),
        }
        assert_eq!(store.address(), "https://corner-shop.myshopify.com");
        assert_eq!(store.mode, StoreMode::Production);
    }

    #[test]
    fn client_credentials_a_version_and_a_location_come_from_the_environment() {
        let c = load(
            "",
            &[
                ("POSSYNC_STORE_KIND", "shopify"),
                ("POSSYNC_STORE_SHOP", "Corner-Shop.myshopify.com"),
                ("POSSYNC_STORE_CLIENT_ID", "client-0001"),
                ("POSSYNC_STORE_CLIENT_SECRET", CLIENT_SECRET),
                ("POSSYNC_STORE_API_VERSION", "2026-07"),
                ("POSSYNC_STORE_LOCATION", "Main street"),
            ],
        )
        .unwrap();
        let s = c.store().unwrap().shopify().unwrap();
        assert_eq!(s.shop, "corner-shop.myshopify.com");
        assert_eq!(s.api_version, ApiVersion::V2026_07);
        assert_eq!(
            s.location,
            Some(LocationRef::Name("Main street".to_owned()))
        );
        match &s.credentials {
            ShopifyCredentials::ClientCredentials {
                client_id,
                client_secret,
            } => {
                assert_eq!(client_id.expose_secret(), "client-0001");
                assert_eq!(client_secret.expose_secret(), CLIENT_SECRET);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_location_is_a_name_a_number_or_a_location_gid() {
        let token = format!("access_token = \"{TOKEN}\"\n");
        for (given, want) in [
            ("location = 655441491", LocationRef::Id(655441491)),
            ("location = \"655441491\"", LocationRef::Id(655441491)),
            (
                "location = \"gid://shopify/Location/655441491\"",
                LocationRef::Id(655441491),
            ),
            (
                "location = \"Back room\"",
                LocationRef::Name("Back room".to_owned()),
            ),
        ] {
            let c = load(&shopify(&format!("{token}{given}\n")), &[]).unwrap();
            assert_eq!(
                c.store().unwrap().shopify().unwrap().location,
                Some(want),
                "{given}"
            );
        }
        let c = load(&shopify(&token), &[("POSSYNC_STORE_LOCATION", "42")]).unwrap();
        assert_eq!(
            c.store().unwrap().shopify().unwrap().location,
            Some(LocationRef::Id(42))
        );
    }

    #[rstest::rstest]
    #[case::unknown_kind(
        "[store]\nkind = \"magento\"\n",
        "store.kind must be woocommerce or shopify (got \"magento\")"
    )]
    #[case::no_shop(
        "[store]\nkind = \"shopify\"\naccess_token = \"t\"\n",
        "store.shop is not set: set it to the shop's myshopify.com host, e.g. shop = \"name.myshopify.com\""
    )]
    #[case::shop_with_scheme(
        "[store]\nkind = \"shopify\"\nshop = \"https://corner-shop.myshopify.com\"\naccess_token = \"t\"\n",
        "store.shop must be the shop's host without a scheme, e.g. name.myshopify.com (got \"https://corner-shop.myshopify.com\")"
    )]
    #[case::shop_with_path(
        "[store]\nkind = \"shopify\"\nshop = \"corner-shop.myshopify.com/admin\"\naccess_token = \"t\"\n",
        "store.shop must be the shop's host without a path, e.g. name.myshopify.com (got \"corner-shop.myshopify.com/admin\")"
    )]
    #[case::custom_domain(
        "[store]\nkind = \"shopify\"\nshop = \"shop.example.com\"\naccess_token = \"t\"\n",
        "store.shop must be the shop's myshopify.com host, e.g. name.myshopify.com, not a custom domain (got \"shop.example.com\")"
    )]
    #[case::bare_suffix(
        "[store]\nkind = \"shopify\"\nshop = \".myshopify.com\"\naccess_token = \"t\"\n",
        "store.shop must be the shop's myshopify.com host"
    )]
    #[case::with_port(
        "[store]\nkind = \"shopify\"\nshop = \"corner-shop.myshopify.com:443\"\naccess_token = \"t\"\n",
        "store.shop must be the shop's myshopify.com host"
    )]
    #[case::no_credentials(
        &shopify(""),
        "store.access_token is not set: set an Admin API access token, or the app's store.client_id and store.client_secret (the client-credentials grant)"
    )]
    #[case::both_ways(
        &shopify("access_token = \"t\"\nclient_id = \"id\"\nclient_secret = \"s\"\n"),
        "store.access_token and store.client_id/client_secret are two ways to sign in: set either an access token or the app's client_id and client_secret, not both"
    )]
    #[case::token_and_id(
        &shopify("access_token = \"t\"\nclient_id = \"id\"\n"),
        "store.access_token and store.client_id/client_secret are two ways to sign in"
    )]
    #[case::id_without_secret(
        &shopify("client_id = \"id\"\n"),
        "store.client_secret is not set: store.client_id needs the app's client secret beside it"
    )]
    #[case::secret_without_id(
        &shopify("client_secret = \"s\"\n"),
        "store.client_id is not set: store.client_secret needs the app's client id beside it"
    )]
    #[case::empty_token(&shopify("access_token = \" \"\n"), "store.access_token must not be empty")]
    #[case::token_not_a_string(&shopify("access_token = 12345\n"), "store.access_token must be a string")]
    #[case::unsupported_version(
        &shopify("access_token = \"t\"\napi_version = \"2025-10\"\n"),
        "store.api_version must be one of the Admin API versions this build speaks: 2026-01, 2026-04, 2026-07 (got \"2025-10\")"
    )]
    #[case::empty_location(&shopify("access_token = \"t\"\nlocation = \"\"\n"), "store.location must not be empty")]
    #[case::zero_location(
        &shopify("access_token = \"t\"\nlocation = 0\n"),
        "store.location must be a location's name, its numeric id or its gid://shopify/Location/… id"
    )]
    #[case::other_gid(
        &shopify("access_token = \"t\"\nlocation = \"gid://shopify/Product/1\"\n"),
        "store.location must be a location's name, its numeric id or its gid://shopify/Location/… id"
    )]
    #[case::woo_key_on_shopify(
        &shopify("access_token = \"t\"\nurl = \"https://a.example\"\n"),
        "store.url is not used by a shopify store (store.kind = \"shopify\"): remove it, or set the kind it belongs to"
    )]
    #[case::shopify_key_on_woo(
        "[store]\nurl = \"https://a.example\"\nconsumer_key = \"ck\"\nconsumer_secret = \"cs\"\nshop = \"a.myshopify.com\"\n",
        "store.shop is not used by a woocommerce store (store.kind = \"woocommerce\"): remove it, or set the kind it belongs to"
    )]
    #[case::admin_url_not_a_url(
        &shopify("access_token = \"t\"\nadmin_url = \"127.0.0.1:8080\"\n"),
        "store.admin_url must be an http(s) address with no path"
    )]
    #[case::admin_url_other_scheme(
        &shopify("access_token = \"t\"\nadmin_url = \"ftp://127.0.0.1\"\n"),
        "store.admin_url must be an http(s) address with no path, e.g. http://127.0.0.1:8080: the scheme is not http or https (got \"ftp://127.0.0.1\")"
    )]
    #[case::admin_url_with_path(
        &shopify("access_token = \"t\"\nadmin_url = \"http://127.0.0.1:8080/admin/api\"\n"),
        "store.admin_url must be an http(s) address with no path, e.g. http://127.0.0.1:8080: it has a path, query or fragment (got \"http://127.0.0.1:8080/admin/api\")"
    )]
    #[case::admin_url_with_credentials(
        &shopify("access_token = \"t\"\nadmin_url = \"http://me:pw@127.0.0.1:8080\"\n"),
        "store.admin_url must be an http(s) address with no path, e.g. http://127.0.0.1:8080: it carries credentials"
    )]
    #[case::admin_url_on_woo(
        "[store]\nurl = \"https://a.example\"\nconsumer_key = \"ck\"\nconsumer_secret = \"cs\"\nadmin_url = \"http://127.0.0.1:1\"\n",
        "store.admin_url is not used by a woocommerce store (store.kind = \"woocommerce\"): remove it, or set the kind it belongs to"
    )]
    #[case::test_profile(
        "[test_store]\nkind = \"shopify\"\nshop = \"x.myshopify.com\"\n",
        "test_store.access_token is not set"
    )]
    fn a_bad_shopify_setting_is_named_with_the_reason(#[case] text: &str, #[case] expected: &str) {
        let e = err(text);
        assert!(
            e.starts_with(expected),
            "{e:?} does not start with {expected:?}"
        );
    }

    #[test]
    fn an_admin_url_points_a_shopify_store_elsewhere() {
        let token = format!("access_token = \"{TOKEN}\"\n");
        let c = load(&shopify(&token), &[]).unwrap();
        let s = c.store().unwrap().shopify().unwrap();
        assert_eq!(s.admin_url, None);
        assert_eq!(
            s.admin_base().as_str(),
            "https://corner-shop.myshopify.com/"
        );

        let given = format!("{token}admin_url = \"http://127.0.0.1:8080\"\n");
        let c = load(&shopify(&given), &[]).unwrap();
        let store = c.store().unwrap();
        let s = store.shopify().unwrap();
        assert_eq!(s.admin_base().as_str(), "http://127.0.0.1:8080/");
        assert_eq!(store.address(), "http://127.0.0.1:8080");
        // The shop stays the shop: only where it is reached changes.
        assert_eq!(s.shop, "corner-shop.myshopify.com");

        let c = load(
            &shopify(&token),
            &[("POSSYNC_STORE_ADMIN_URL", "https://staging.example:9443")],
        )
        .unwrap();
        assert_eq!(
            c.store().unwrap().shopify().unwrap().admin_base().as_str(),
            "https://staging.example:9443/"
        );
    }

    #[test]
    fn an_explicit_woocommerce_kind_is_the_default_kind() {
        let text = "[store]\nkind = \"woocommerce\"\nurl = \"https://a.example\"\nconsumer_key = \"ck\"\nconsumer_secret = \"cs\"\n";
        let c = load(text, &[]).unwrap();
        assert_eq!(c.store().unwrap().kind(), StoreKind::WooCommerce);
        assert!(c.store().unwrap().woo().is_some());
    }

    #[test]
    fn shopify_secrets_never_show_in_debug_the_view_or_the_redacted_file() {
        let text = format!(
            "{}[test_store]\nkind = \"shopify\"\nshop = \"t.myshopify.com\"\nclient_id = \"client-0001\"\nclient_secret = \"{CLIENT_SECRET}\"\n",
            shopify(&format!(
                "access_token = \"{TOKEN}\"\nlocation = 7\nadmin_url = \"http://127.0.0.1:8080\"\n"
            ))
        );
        let c = load(&text, &[]).unwrap();
        let debug = format!("{c:?}");
        for secret in [TOKEN, CLIENT_SECRET, "client-0001"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        let view = serde_json::to_string(&c.view()).unwrap();
        assert!(!view.contains(TOKEN), "{view}");
        assert!(view.contains("\"store_kind\":\"shopify\""), "{view}");
        let shown = c.redacted_toml();
        for secret in [TOKEN, CLIENT_SECRET, "client-0001"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let table: toml::Table = shown.parse().unwrap();
        assert_eq!(table["store"]["kind"].as_str(), Some("shopify"));
        assert_eq!(
            table["store"]["access_token"].as_str(),
            Some(super::super::REDACTED)
        );
        assert_eq!(table["store"]["api_version"].as_str(), Some("2026-04"));
        assert_eq!(table["store"]["location"].as_integer(), Some(7));
        assert_eq!(
            table["store"]["admin_url"].as_str(),
            Some("http://127.0.0.1:8080/")
        );
        assert_eq!(
            table["test_store"]["client_secret"].as_str(),
            Some(super::super::REDACTED)
        );
        // The store sections written load back as the same kinds of store.
        let mut stores = toml::Table::new();
        for section in ["store", "test_store"] {
            stores.insert(section.into(), table[section].clone());
        }
        let again = load(&stores.to_string().replace("\"redacted\"", "\"x\""), &[]).unwrap();
        assert_eq!(again.profiles.test.unwrap().kind(), StoreKind::Shopify);
    }
}
