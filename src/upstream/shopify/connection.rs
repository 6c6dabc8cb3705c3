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
