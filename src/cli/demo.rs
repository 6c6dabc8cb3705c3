//! `possync demo`: a simulated shop (WooCommerce, or Shopify with
//! `--shop shopify`), the agent syncing it, and the status page on
//! localhost, with no configuration at all.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;

use crate::api::backoffice::demo::DemoSwitch;
use crate::app::{App, AppOptions};
use crate::config::store::{ApiVersion, ShopifyCredentials, ShopifySettings};
use crate::config::{Config, StoreConfig};
use crate::error::Error;
use crate::store::status;
use crate::sync::engine::InitialPull;
use crate::sync::progress::PullState;
use possync_sim::NetworkSwitch;
use possync_sim::shopify::{ShopifyConfig, ShopifyFaults, ShopifySim, Sizes};
use possync_sim::woo::{Sim, SimConfig, SimHandle};

use super::sim::ShopKind;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Which kind of shop to simulate
    #[arg(long, value_enum, default_value_t = ShopKind::Woocommerce)]
    pub shop: ShopKind,
    /// Address of the status page
    #[arg(long, default_value = "127.0.0.1:8420", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Keep the replica here [default: a temporary directory removed at exit]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Products in the simulated shop
    #[arg(long, default_value_t = 2000)]
    pub products: usize,
    #[arg(long, default_value_t = 500)]
    pub customers: usize,
    #[arg(long, default_value_t = 1000)]
    pub orders: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Delay the simulated shop adds to every response
    #[arg(long, default_value_t = 20, value_name = "MS")]
    pub latency_ms: u64,
    /// Ring up a sale at the till this often once the replica is ready
    /// (0: never)
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub sale_every: u64,
}

pub async fn run(args: DemoArgs) -> Result<ExitCode, Error> {
    let token = super::shutdown_token();
    let shop = DemoShop::spawn(&args).await.map_err(|source| Error::Io {
        what: "cannot start the simulated store".to_owned(),
        source,
    })?;
    let (data_dir, temporary) = match args.data_dir {
        Some(dir) => (dir, false),
        None => (
            std::env::temp_dir().join(format!("possync-demo-{}", std::process::id())),
            true,
        ),
    };
    let config = Config::new(args.listen, data_dir.clone(), Some(shop.store_config()?));
    let network = shop.network();
    let shown = network.clone();
    let app = App::spawn_demo(
        config,
        AppOptions {
            initial_pull: InitialPull::Always,
        },
        DemoSwitch::new(
            move |offline| network.set_offline(offline),
            move || shown.is_offline(),
        ),
    )
    .await?;
    // A till front-end's token, so the API can be tried at once.
    let api_token = match crate::api::security::tokens::create(app.store(), "demo").await? {
        Some(t) => t,
        None => {
            let name = format!("demo-{}", crate::domain::time::unix_millis_now());
            crate::api::security::tokens::create(app.store(), &name)
                .await?
                .unwrap_or_default()
        }
    };
    println!("possync demo");
    println!("  simulated shop: {}", shop.describe());
    println!(
        "  replica:        {}",
        data_dir.join("replica.db").display()
    );
    println!("  status page:    {}/", app.url());
    println!("                  (choose the admin password on first visit)");
    println!("  API token:      {api_token}");
    println!(
        "  try:            curl -H 'Authorization: Bearer {api_token}' '{}/api/customers?q=a'",
        app.url()
    );
    if args.sale_every > 0 {
        println!(
            "  the till:       rings up a sale every {} s; cut the shop off on the page to watch them queue",
            args.sale_every
        );
    }
    println!("Press Ctrl-C to stop.");
    let till = tokio::spawn(ring_up_sales(
        app.url(),
        api_token.clone(),
        Duration::from_secs(args.sale_every),
        app.progress(),
        token.clone(),
    ));
    let started = Instant::now();
    tokio::select! {
        _ = token.cancelled() => {}
        finished = app.pull_finished() => {
            let secs = started.elapsed().as_secs_f64();
            match finished.state {
                PullState::Completed => {
                    let c = app.store().read(status::counts).await?;
                    println!("replica ready in {secs:.1} s: {} products, {} variations, {} customers, {} orders, {} refunds",
                        c.products, c.variations, c.customers, c.orders, c.refunds);
                }
                _ => println!("pull ended: {:?} {}", finished.state, finished.error.unwrap_or_default()),
            }
            token.cancelled().await;
        }
    }
    till.abort();
    app.shutdown().await;
    shop.shutdown().await;
    if temporary {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    Ok(ExitCode::SUCCESS)
}

/// The simulated shop the demo syncs.
enum DemoShop {
    WooCommerce {
        sim: SimHandle,
        key: String,
        secret: String,
    },
    Shopify(ShopifySim),
}

impl DemoShop {
    async fn spawn(args: &DemoArgs) -> std::io::Result<DemoShop> {
        let listen = SocketAddr::from(([127, 0, 0, 1], 0));
        let latency = Duration::from_millis(args.latency_ms);
        Ok(match args.shop {
            ShopKind::Woocommerce => {
                let key = super::sim::generated_key("ck_");
                let secret = super::sim::generated_key("cs_");
                let sim = Sim::spawn(SimConfig {
                    listen,
                    seed: args.seed,
                    products: args.products,
                    customers: args.customers,
                    orders: args.orders,
                    consumer_key: key.clone(),
                    consumer_secret: secret.clone(),
                    faults: possync_sim::woo::FaultConfig {
                        latency,
                        ..possync_sim::woo::FaultConfig::default()
                    },
                    ..SimConfig::default()
                })
                .await?;
                DemoShop::WooCommerce { sim, key, secret }
            }
            ShopKind::Shopify => DemoShop::Shopify(
                ShopifySim::spawn(ShopifyConfig {
                    listen,
                    seed: args.seed,
                    sizes: Sizes {
                        products: args.products,
                        customers: args.customers,
                        orders: args.orders,
                        locations: 2,
                    },
                    access_token: super::sim::generated_token(),
                    faults: ShopifyFaults {
                        latency,
                        ..ShopifyFaults::default()
                    },
                    ..ShopifyConfig::default()
                })
                .await?,
            ),
        })
    }

    /// The agent's `[store]` for it. The Shopify one is reached at the
    /// simulated store through `admin_url`, at the shop's primary location.
    fn store_config(&self) -> Result<StoreConfig, Error> {
        Ok(match self {
            DemoShop::WooCommerce { sim, key, secret } => {
                let url = sim
                    .url()
                    .parse()
                    .map_err(|e| Error::Usage(format!("simulated store URL: {e}")))?;
                StoreConfig::oauth1(url, key, secret)
            }
            DemoShop::Shopify(sim) => StoreConfig::shopify_store(ShopifySettings {
                shop: "possync-demo.myshopify.com".to_owned(),
                credentials: ShopifyCredentials::AccessToken(sim.access_token().to_owned().into()),
                api_version: ApiVersion::V2026_04,
                location: None,
                admin_url: Some(
                    sim.url()
                        .parse()
                        .map_err(|e| Error::Usage(format!("simulated store URL: {e}")))?,
                ),
            }),
        })
    }

    fn network(&self) -> NetworkSwitch {
        match self {
            DemoShop::WooCommerce { sim, .. } => sim.network(),
            DemoShop::Shopify(sim) => sim.network(),
        }
    }

    fn describe(&self) -> String {
        match self {
            DemoShop::WooCommerce { sim, .. } => {
                let c = sim.counts();
                format!(
                    "WooCommerce at {} ({} products, {} variations, {} customers, {} orders)",
                    sim.url(),
                    c.products,
                    c.variations,
                    c.customers,
                    c.orders
                )
            }
            DemoShop::Shopify(sim) => {
                let c = sim.counts();
                format!(
                    "Shopify at {} ({} products, {} variants, {} customers, {} orders)",
                    sim.url(),
                    c.products,
                    c.variants,
                    c.customers,
                    c.orders
                )
            }
        }
    }

    async fn shutdown(self) {
        match self {
            DemoShop::WooCommerce { sim, .. } => sim.shutdown().await,
            DemoShop::Shopify(sim) => sim.shutdown().await,
        }
    }
}

/// The demo's till: once the first pull is done, a sale of one in-stock
/// product every `every`, made through the local API as a till front-end
/// makes it (so it is queued and replayed like any sale).
async fn ring_up_sales(
    base: String,
    token: String,
    every: Duration,
    mut progress: tokio::sync::watch::Receiver<crate::sync::progress::PullProgress>,
    stop: tokio_util::sync::CancellationToken,
) {
    if every.is_zero() {
        return;
    }
    if progress
        .wait_for(|p| p.state == PullState::Completed)
        .await
        .is_err()
    {
        return;
    }
    let http = reqwest::Client::new();
    let auth = format!("Bearer {token}");
    let mut tick = tokio::time::interval(every);
    let mut n: usize = 0;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        n += 1;
        let products: serde_json::Value = match http
            .get(format!("{base}/api/products?in_stock=true&per_page=100"))
            .header("authorization", &auth)
            .send()
            .await
        {
            Ok(res) => res.json().await.unwrap_or_default(),
            Err(_) => continue,
        };
        let simple: Vec<i64> = products["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["type"] == "simple")
            .filter_map(|p| p["id"].as_i64())
            .collect();
        let Some(&id) = simple.get(n.wrapping_mul(7919) % simple.len().max(1)) else {
            continue;
        };
        let method = if n.is_multiple_of(3) { "card" } else { "cash" };
        let sold = http
            .post(format!("{base}/api/orders"))
            .header("authorization", &auth)
            .json(&serde_json::json!({
                "lines": [{"product_id": id, "quantity": 1 + n % 2}],
                "payment_method": method,
            }))
            .send()
            .await;
        if let Ok(res) = sold
            && let Ok(body) = res.json::<serde_json::Value>().await
            && let Some(number) = body["number"].as_str()
        {
            println!(
                "till: sale {number} ({method}, {} total) accepted",
                body["total"].as_str().unwrap_or("?")
            );
        }
    }
}
