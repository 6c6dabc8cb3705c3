//! What a Shopify client needs to reach a shop: the address, the pinned API
//! version, how it authenticates and which location's stock the till sells
//! from. The configuration's Shopify settings are converted into this; the
//! host name checks (`*.myshopify.com`) live there, the client takes a URL
//! (tests point it at `http://127.0.0.1:port`).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::config::{self, ShopifyCredentials, StoreConfig};
use crate::domain::UpstreamId;
use crate::upstream::UpstreamError;

/// The API version used unless the configuration pins another.
pub const DEFAULT_API_VERSION: &str = "2026-04";

/// How the client authenticates.
pub enum ShopifyAuth {
    /// An Admin API access token (a custom app's, installed by the shop).
    Token(SecretString),
    /// Client credentials exchanged for a token that expires and is renewed.
    ClientCredentials {
        client_id: String,
        client_secret: SecretString,
    },
}

impl std::fmt::Debug for ShopifyAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShopifyAuth::Token(_) => f.write_str("Token(…)"),
            ShopifyAuth::ClientCredentials { client_id, .. } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .finish_non_exhaustive(),
        }
    }
}

/// The location whose stock the till counts: by id, or by its name as the
/// shop shows it (resolved once through `locations`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocationRef {
    Id(UpstreamId),
    Name(String),
    /// The shop's primary location (`location` asked without an id).
    Primary,
}

/// Everything the client needs to talk to one shop.
#[derive(Debug)]
pub struct ShopifyConnection {
    /// `https://name.myshopify.com` (no path).
    pub shop_url: Url,
    /// `2026-04`.
    pub api_version: String,
    pub auth: ShopifyAuth,
    pub location: LocationRef,
    /// Per request, as for any shop.
    pub timeout: Duration,
    /// Whether the shop's certificate is checked (`store.verify_tls`).
    pub verify_tls: bool,
}

impl ShopifyConnection {
    /// The connection a configured Shopify store describes: its Admin API
    /// at `admin_url` or `https://{shop}`, the pinned version, the token or
    /// client credentials, and the location (the primary one unless set).
    /// A store of another kind is a [`UpstreamError::Setup`].
    pub fn from_config(store: &StoreConfig) -> Result<ShopifyConnection, UpstreamError> {
        let Some(s) = store.shopify() else {
            return Err(UpstreamError::Setup(
                "the configured store is not a Shopify shop (store.kind)".to_owned(),
            ));
        };
        let auth = match &s.credentials {
            ShopifyCredentials::AccessToken(t) => ShopifyAuth::Token(t.clone()),
            ShopifyCredentials::ClientCredentials {
                client_id,
                client_secret,
            } => ShopifyAuth::ClientCredentials {
                client_id: client_id.expose_secret().to_owned(),
                client_secret: client_secret.clone(),
            },
        };
        let location = match &s.location {
            None => LocationRef::Primary,
            Some(config::LocationRef::Name(n)) => LocationRef::Name(n.clone()),
            Some(config::LocationRef::Id(id)) => {
                LocationRef::Id(UpstreamId::try_from(*id).map_err(|_| {
                    UpstreamError::Setup(format!("location id {id} is out of range"))
                })?)
            }
        };
        Ok(ShopifyConnection {
            shop_url: s.admin_base(),
            api_version: s.api_version.as_str().to_owned(),
            auth,
            location,
            timeout: store.timeout,
            verify_tls: store.verify_tls,
        })
    }

    /// The GraphQL endpoint: `{shop}/admin/api/{version}/graphql.json`.
    pub fn graphql_url(&self) -> String {
        format!(
            "{}/admin/api/{}/graphql.json",
            self.shop_url.as_str().trim_end_matches('/'),
            self.api_version
        )
    }

    /// The client-credentials grant's URL.
    pub fn token_url(&self) -> String {
        format!(
            "{}{}",
            self.shop_url.as_str().trim_end_matches('/'),
            super::token::TOKEN_PATH
        )
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;
    use crate::config::Config;

    fn store(env: &[(&str, &str)]) -> Config {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("possync.toml");
        std::fs::write(&file, "").unwrap();
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        Config::load(Some(&file), env, &[]).unwrap()
    }

    const SHOPIFY: [(&str, &str); 3] = [
        ("POSSYNC_STORE_KIND", "shopify"),
        ("POSSYNC_STORE_SHOP", "corner-shop.myshopify.com"),
        ("POSSYNC_STORE_CLIENT_ID", "client-0001"),
    ];

    #[test]
    fn a_configured_shopify_store_makes_its_connection() {
        let mut env = SHOPIFY.to_vec();
        env.push(("POSSYNC_STORE_CLIENT_SECRET", "s3cret"));
        let c = store(&env);
        let conn = ShopifyConnection::from_config(c.store().unwrap()).unwrap();
        assert_eq!(
            conn.graphql_url(),
            "https://corner-shop.myshopify.com/admin/api/2026-04/graphql.json"
        );
        assert_eq!(conn.location, LocationRef::Primary);
        assert!(
            conn.verify_tls,
            "certificates are checked unless set otherwise"
        );
        match &conn.auth {
            ShopifyAuth::ClientCredentials {
                client_id,
                client_secret,
            } => {
                assert_eq!(client_id, "client-0001");
                assert_eq!(client_secret.expose_secret(), "s3cret");
            }
            other => panic!("{other:?}"),
        }

        env.extend([
            ("POSSYNC_STORE_ADMIN_URL", "http://127.0.0.1:8080"),
            ("POSSYNC_STORE_API_VERSION", "2026-07"),
            ("POSSYNC_STORE_LOCATION", "Back room"),
            ("POSSYNC_STORE_VERIFY_TLS", "false"),
        ]);
        let c = store(&env);
        let conn = ShopifyConnection::from_config(c.store().unwrap()).unwrap();
        assert_eq!(
            conn.graphql_url(),
            "http://127.0.0.1:8080/admin/api/2026-07/graphql.json"
        );
        assert_eq!(conn.location, LocationRef::Name("Back room".to_owned()));
        assert!(!conn.verify_tls);
    }

    #[test]
    fn a_woocommerce_store_makes_no_shopify_connection() {
        let c = store(&[
            ("POSSYNC_STORE_URL", "https://a.example"),
            ("POSSYNC_STORE_CONSUMER_KEY", "ck"),
            ("POSSYNC_STORE_CONSUMER_SECRET", "cs"),
        ]);
        let e = ShopifyConnection::from_config(c.store().unwrap()).unwrap_err();
        assert!(matches!(e, UpstreamError::Setup(_)), "{e:?}");
    }
}
