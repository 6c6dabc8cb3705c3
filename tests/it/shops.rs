//! The two simulated shops behind one face, so that a suite runs against
//! both from one source: spawn a shop of a given size, write the agent's
//! config for it, and ask it what it holds and what it was asked.

use std::path::{Path, PathBuf};
use std::time::Duration;

use possync_sim::shopify::{ShopifyConfig, ShopifyFaults, ShopifySim, Sizes};
use possync_sim::woo::{FaultConfig, Sim, SimConfig, SimHandle};
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

/// A running simulated shop of either kind.
pub enum TestShop {
    WooCommerce(SimHandle),
    Shopify(ShopifySim),
}

impl TestShop {
    pub async fn spawn(kind: Kind, size: ShopSize) -> TestShop {
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
                        ..FaultConfig::default()
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
                        ..ShopifyFaults::default()
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
        match self {
            TestShop::WooCommerce(sim) => crate::cli::write_config(sim, dir, sync),
            TestShop::Shopify(sim) => {
                let path = dir.join("possync.toml");
                let text = format!(
                    r#"data_dir = "{data}"

[store]
kind = "shopify"
shop = "corner-shop.myshopify.com"
admin_url = "{url}"
access_token = "{token}"
api_version = "2026-04"
location = {location}
timeout_secs = 10

[sync]
order_window_days = 0
{sync}
"#,
                    data = dir.join("data").display(),
                    url = sim.url(),
                    token = sim.access_token(),
                    location = crate::shopify_pull::location(sim).await,
                );
                std::fs::write(&path, text).unwrap();
                path
            }
        }
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
