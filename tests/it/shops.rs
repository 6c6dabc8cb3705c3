//! The two simulated shops behind one face, so that a suite runs against
//! both from one source: spawn a shop of a given size, write the agent's
//! config for it, and ask it what it holds and what it was asked.

use std::path::{Path, PathBuf};
use std::time::Duration;

use possync::config::{
    ApiVersion, Config, LocationRef, ShopifyCredentials, ShopifySettings, StoreConfig, SyncConfig,
};
use possync_sim::NetworkSwitch;
use possync_sim::shopify::{ShopifyConfig, ShopifyFault, ShopifyFaults, ShopifySim, Sizes};
use possync_sim::woo::{FaultConfig, FaultKind, FaultRule, Sim, SimConfig, SimHandle};
use serde_json::Value;

use crate::common::any_port;

/// One test per kind of shop from one body: `both_shops!(name, body)`
/// makes `name::woocommerce` and `name::shopify`, each calling
/// `body(Kind::…)`, so a failure names the shop and the two run apart.
/// `both_shops!(name, body, flavor = "multi_thread", worker_threads = 4)`
/// passes the rest to `#[tokio::test]`.
#[macro_export]
macro_rules! both_shops {
    ($name:ident, $body:ident $(, $($arg:tt)*)?) => {
        mod $name {
            #[tokio::test$(($($arg)*))?]
            async fn woocommerce() {
                super::$body($crate::shops::Kind::WooCommerce).await;
            }
            #[tokio::test$(($($arg)*))?]
            async fn shopify() {
                super::$body($crate::shops::Kind::Shopify).await;
            }
        }
    };
}

/// Which simulated shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    WooCommerce,
    Shopify,
}

impl ShopSize {
    /// A small shop that answers at once.
    pub fn small() -> ShopSize {
        ShopSize {
            seed: 7,
            products: 60,
            customers: 25,
            orders: 40,
            latency: Duration::ZERO,
        }
    }
}

/// How big a shop, and how slow.
#[derive(Debug, Clone, Copy)]
pub struct ShopSize {
    pub seed: u64,
    pub products: usize,
    pub customers: usize,
    pub orders: usize,
    pub latency: Duration,
}

/// The `[store]` section [`TestShop::write_config_with`] writes.
#[derive(Debug, Clone)]
pub struct StoreFile {
    /// `timeout_secs`.
    pub timeout_secs: u64,
    /// Where the agent reaches the shop, if not at the sim itself.
    pub address: Option<String>,
}

impl Default for StoreFile {
    fn default() -> Self {
        StoreFile {
            timeout_secs: 10,
            address: None,
        }
    }
}

/// The text of a `possync.toml` for the simulated WooCommerce store `sim`
/// (replica in `dir/data`), with `sync` as the body of its `[sync]`.
pub fn woo_config_text(sim: &SimHandle, dir: &Path, store: &StoreFile, sync: &str) -> String {
    format!(
        r#"data_dir = "{data}"

[store]
url = "{url}"
consumer_key = "{key}"
consumer_secret = "{secret}"
auth = "oauth1"
timeout_secs = {timeout}

[sync]
order_window_days = 0
{sync}
"#,
        data = dir.join("data").display(),
        url = store.address.clone().unwrap_or_else(|| sim.url()),
        key = sim.consumer_key(),
        secret = sim.consumer_secret(),
        timeout = store.timeout_secs,
    )
}

/// A till's sale as the shop records it, in the till's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleAtShop {
    /// The till that sold it (WooCommerce: `possync_till`; Shopify: the
    /// `till:` tag).
    pub till: Option<String>,
    /// The till's sale number (`possync_number`; the order's name).
    pub number: Option<String>,
    /// When it was sold (`possync_sold_at`; `processedAt`).
    pub sold_at: Option<String>,
    /// Handed over at the till (status `completed`; fulfilled).
    pub handed_over: bool,
}

/// A running simulated shop of either kind.
pub enum TestShop {
    WooCommerce(SimHandle),
    Shopify(ShopifySim),
}

impl TestShop {
    pub async fn spawn(kind: Kind, size: ShopSize) -> TestShop {
        TestShop::spawn_failing(kind, size, 0.0).await
    }

    /// A shop of `size` whose answers fail at `fail_rate` with a fault
    /// worth retrying: 5xx, 429, a cut body (WooCommerce: and a reset).
    pub async fn spawn_failing(kind: Kind, size: ShopSize, fail_rate: f64) -> TestShop {
        match kind {
            Kind::WooCommerce => TestShop::WooCommerce(
                Sim::spawn(SimConfig {
                    listen: any_port(),
                    seed: size.seed,
                    products: size.products,
                    customers: size.customers,
                    orders: size.orders,
                    faults: FaultConfig {
                        latency: size.latency,
                        fail_rate,
                        kinds: vec![
                            FaultKind::ServerError,
                            FaultKind::BadGateway,
                            FaultKind::TooManyRequests {
                                retry_after_secs: 0,
                            },
                            FaultKind::Truncated,
                            FaultKind::Reset,
                        ],
                    },
                    ..SimConfig::default()
                })
                .await
                .unwrap(),
            ),
            Kind::Shopify => TestShop::Shopify(
                ShopifySim::spawn(ShopifyConfig {
                    seed: size.seed,
                    sizes: Sizes {
                        products: size.products,
                        customers: size.customers,
                        orders: size.orders,
                        locations: 2,
                    },
                    faults: ShopifyFaults {
                        latency: size.latency,
                        fail_rate,
                        kinds: vec![
                            ShopifyFault::ServerError,
                            ShopifyFault::ServiceUnavailable,
                            ShopifyFault::TooManyRequests,
                            ShopifyFault::Truncated,
                        ],
                    },
                    record_requests: true,
                    ..ShopifyConfig::default()
                })
                .await
                .unwrap(),
            ),
        }
    }

    /// `possync.toml` in `dir` for this shop (replica in `dir/data`), with
    /// `sync` as the body of its `[sync]` section.
    pub async fn write_config(&self, dir: &Path, sync: &str) -> PathBuf {
        self.write_config_with(dir, &StoreFile::default(), sync)
            .await
    }

    /// [`TestShop::write_config`] with the `[store]` section's request
    /// timeout and the address the shop is reached at (a link in front of
    /// it) chosen.
    pub async fn write_config_with(&self, dir: &Path, store: &StoreFile, sync: &str) -> PathBuf {
        let path = dir.join("possync.toml");
        let timeout = store.timeout_secs;
        let text = match self {
            TestShop::WooCommerce(sim) => woo_config_text(sim, dir, store, sync),
            TestShop::Shopify(sim) => {
                let url = store.address.clone().unwrap_or_else(|| sim.url());
                format!(
                    r#"data_dir = "{data}"

[store]
kind = "shopify"
shop = "corner-shop.myshopify.com"
admin_url = "{url}"
access_token = "{token}"
api_version = "2026-04"
location = {location}
timeout_secs = {timeout}

[sync]
order_window_days = 0
{sync}
"#,
                    data = dir.join("data").display(),
                    token = sim.access_token(),
                    location = crate::shopify_pull::location(sim).await,
                )
            }
        };
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The in-process agent's configuration for this shop, its replica in
    /// `dir`: the sync settings of [`crate::common::agent_config`], the
    /// shop's own `[store]` (Shopify's at its primary location), requests
    /// timing out after 10 s.
    pub async fn agent_config(&self, dir: &Path) -> Config {
        let store = match self {
            TestShop::WooCommerce(sim) => return crate::common::agent_config(sim, dir),
            TestShop::Shopify(sim) => StoreConfig::shopify_store(ShopifySettings {
                shop: "corner-shop.myshopify.com".to_owned(),
                credentials: ShopifyCredentials::AccessToken(sim.access_token().to_owned().into()),
                api_version: ApiVersion::V2026_04,
                location: Some(LocationRef::Id(
                    crate::shopify_pull::location(sim).await as u64,
                )),
                admin_url: Some(sim.url().parse().unwrap()),
            }),
        };
        // As `agent_config` sets them for a WooCommerce shop.
        let mut config = Config {
            sync: SyncConfig {
                page_size: 10,
                concurrency: 3,
                order_window_days: 0,
                ..SyncConfig::default()
            },
            ..Config::new(any_port(), dir.to_path_buf(), Some(store))
        };
        config.store.as_mut().unwrap().timeout = Duration::from_secs(10);
        config
    }

    /// The published (WooCommerce) or active (Shopify) products' ids.
    pub async fn active_product_ids(&self) -> Vec<i64> {
        match self {
            TestShop::WooCommerce(sim) => {
                let mut ids: Vec<i64> = sim.product_ids(Some("publish"));
                ids.sort_unstable();
                ids
            }
            TestShop::Shopify(sim) => crate::shopify_pull::active_product_ids(sim).await,
        }
    }

    /// The secret the agent is configured with, which no output may show.
    pub fn secret(&self) -> String {
        match self {
            TestShop::WooCommerce(sim) => sim.consumer_secret().to_owned(),
            TestShop::Shopify(sim) => sim.access_token().to_owned(),
        }
    }

    /// How many customers the shop has.
    pub fn customer_count(&self) -> usize {
        match self {
            TestShop::WooCommerce(sim) => sim.customer_ids().len(),
            TestShop::Shopify(sim) => sim.counts().customers,
        }
    }

    /// The cursor of every products listing page asked for since the last
    /// [`TestShop::clear_requests`], as the replica keeps it: WooCommerce's
    /// page number ("" for the first), Shopify's `after` ("" for none).
    pub fn product_page_cursors_requested(&self) -> Vec<String> {
        match self {
            TestShop::WooCommerce(sim) => sim
                .requests()
                .iter()
                .filter(|r| r.method == "GET" && r.path.ends_with("/wc/v3/products"))
                .filter(|r| {
                    !r.query
                        .iter()
                        .any(|(k, _)| k == "include" || k == "_fields")
                })
                .filter(|r| r.query.iter().any(|(k, _)| k == "orderby"))
                .map(
                    |r| match r.query.iter().find(|(k, _)| k == "page").map(|(_, v)| v) {
                        None => String::new(),
                        Some(p) if p == "1" => String::new(),
                        Some(p) => p.clone(),
                    },
                )
                .collect(),
            TestShop::Shopify(sim) => sim
                .graphql_log()
                .iter()
                .filter(|r| r.query.starts_with("query ProductsPage"))
                .map(|r| match &r.variables["after"] {
                    Value::String(s) => s.clone(),
                    _ => String::new(),
                })
                .collect(),
        }
    }

    /// The shop's network: while it is off, every connection to the shop
    /// is closed before a request is read, as a cut line looks to a till.
    pub fn network(&self) -> NetworkSwitch {
        match self {
            TestShop::WooCommerce(sim) => sim.network(),
            TestShop::Shopify(sim) => sim.network(),
        }
    }

    /// Adds a product sold as it is (WooCommerce's simple product,
    /// Shopify's product with its default variant) at `price`, with
    /// `stock` counted (Shopify: available at the primary location, the
    /// tills' own). Returns the id the replica and `/api/orders` know it by.
    pub fn add_product(&self, title: &str, sku: &str, price: &str, stock: i64) -> i64 {
        match self {
            TestShop::WooCommerce(sim) => sim.add_simple_product(title, sku, price, Some(stock)),
            TestShop::Shopify(sim) => {
                crate::shopify_pull::gid_number(&sim.add_product(title, sku, price, stock))
            }
        }
    }

    /// A product's counted stock (Shopify: available at the primary
    /// location, where the tills sell from).
    pub async fn stock(&self, product: i64) -> Option<i64> {
        match self {
            TestShop::WooCommerce(sim) => sim.product_stock(product),
            TestShop::Shopify(sim) => {
                let node = sim.node(&format!("gid://shopify/Product/{product}"))?;
                let variant = node["variants"]["__conn"][0].as_str()?.to_owned();
                let location = format!(
                    "gid://shopify/Location/{}",
                    crate::shopify_pull::location(sim).await
                );
                sim.available(&variant, &location)
            }
        }
    }

    /// The ids of the orders carrying the outbox key `key` (WooCommerce:
    /// the `possync_key` meta; Shopify: the `sourceIdentifier`).
    pub fn orders_with_key(&self, key: &str) -> Vec<i64> {
        match self {
            TestShop::WooCommerce(sim) => sim.order_ids_with_meta("possync_key", key),
            TestShop::Shopify(sim) => sim
                .orders_with_source(key)
                .iter()
                .map(|g| crate::shopify_pull::gid_number(g))
                .collect(),
        }
    }

    /// Every order carrying an outbox key, as (order id, key).
    pub fn orders_by_key(&self) -> Vec<(i64, String)> {
        match self {
            TestShop::WooCommerce(sim) => sim
                .orders_with_meta("possync_key")
                .into_iter()
                .map(|(id, v)| (id, v.as_str().unwrap().to_owned()))
                .collect(),
            TestShop::Shopify(sim) => sim
                .orders_by_source()
                .into_iter()
                .map(|(g, key)| (crate::shopify_pull::gid_number(&g), key))
                .collect(),
        }
    }

    /// The next order create is committed by the shop, then its
    /// connection drops before any answer (WooCommerce: a reset on
    /// `POST /orders`; Shopify: `orderCreate` dropped after commit).
    pub fn drop_next_order_answer(&self) {
        match self {
            TestShop::WooCommerce(sim) => sim.inject(
                FaultRule::new(FaultKind::Reset)
                    .path("/wc/v3/orders")
                    .method("POST"),
            ),
            TestShop::Shopify(sim) => {
                sim.inject_on(ShopifyFault::DropAfterCommit, "orderCreate(", 1)
            }
        }
    }

    /// Order creates the shop received (`POST /orders`; `orderCreate`).
    pub fn order_creates_received(&self) -> usize {
        match self {
            TestShop::WooCommerce(sim) => sim
                .requests()
                .iter()
                .filter(|r| r.method == "POST" && r.path.ends_with("/wc/v3/orders"))
                .count(),
            TestShop::Shopify(sim) => sim
                .graphql_log()
                .iter()
                .filter(|r| r.query.contains("orderCreate("))
                .count(),
        }
    }

    /// What the shop holds of a till's sale, in the till's terms.
    pub fn sale_at_shop(&self, order: i64) -> Option<SaleAtShop> {
        match self {
            TestShop::WooCommerce(sim) => {
                let o = sim.order(order)?;
                let meta = |k: &str| {
                    o["meta_data"]
                        .as_array()?
                        .iter()
                        .find(|m| m["key"] == k)
                        .and_then(|m| m["value"].as_str())
                        .map(str::to_owned)
                };
                Some(SaleAtShop {
                    till: meta("possync_till"),
                    number: meta("possync_number"),
                    sold_at: meta("possync_sold_at"),
                    handed_over: o["status"] == "completed",
                })
            }
            TestShop::Shopify(sim) => {
                let o = sim.node(&format!("gid://shopify/Order/{order}"))?;
                let till = o["tags"]
                    .as_array()?
                    .iter()
                    .filter_map(Value::as_str)
                    .find_map(|t| t.strip_prefix("till:"))
                    .map(str::to_owned);
                Some(SaleAtShop {
                    till,
                    number: o["name"].as_str().map(str::to_owned),
                    sold_at: o["processedAt"].as_str().map(str::to_owned),
                    handed_over: o["displayFulfillmentStatus"] == "FULFILLED",
                })
            }
        }
    }

    pub fn clear_requests(&self) {
        match self {
            TestShop::WooCommerce(sim) => sim.clear_requests(),
            TestShop::Shopify(sim) => sim.clear_log(),
        }
    }

    pub async fn shutdown(self) {
        match self {
            TestShop::WooCommerce(sim) => sim.shutdown().await,
            TestShop::Shopify(sim) => sim.shutdown().await,
        }
    }
}
