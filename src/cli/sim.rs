//! `possync sim`: a simulated store on its own, for trying the agent (or any
//! client) against a shop: WooCommerce (which misbehaves on cue) or Shopify
//! (`--shop shopify`: the Admin GraphQL API, held to the real schema).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::error::Error;
use possync_sim::shopify::{
    ApiVersion, BucketConfig, ShopifyConfig, ShopifyFault, ShopifyFaults, ShopifySim, Sizes,
};
use possync_sim::woo::{
    FaultConfig, FaultKind, ServerModel, Sim, SimConfig, WebhookConfig, WebhookFaults,
};

/// Which shop to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShopKind {
    /// WooCommerce 11.0.1 (REST, `/wp-json/wc/v3`)
    Woocommerce,
    /// Shopify (Admin GraphQL, API 2026-01, 2026-04, 2026-07)
    Shopify,
}

/// Faults `--fail-rate` draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FaultName {
    /// 500 with an HTML error page
    ServerError,
    /// 502/503 from a proxy
    BadGateway,
    /// 429 with Retry-After: 1
    TooManyRequests,
    /// A PHP notice printed before the JSON
    Html,
    /// The body cut off halfway
    Truncate,
    /// The connection dropped
    Reset,
    /// The store commits, then answers only after --slow-answer-ms
    Slow,
}

impl FaultName {
    /// The same failure at a Shopify shop, where it has one.
    pub fn shopify(self) -> Option<ShopifyFault> {
        match self {
            FaultName::ServerError => Some(ShopifyFault::ServerError),
            FaultName::BadGateway => Some(ShopifyFault::ServiceUnavailable),
            FaultName::TooManyRequests => Some(ShopifyFault::TooManyRequests),
            FaultName::Truncate => Some(ShopifyFault::Truncated),
            FaultName::Html | FaultName::Reset | FaultName::Slow => None,
        }
    }

    pub fn kind(self, slow_answer_ms: u64) -> FaultKind {
        match self {
            FaultName::ServerError => FaultKind::ServerError,
            FaultName::BadGateway => FaultKind::BadGateway,
            FaultName::TooManyRequests => FaultKind::TooManyRequests {
                retry_after_secs: 1,
            },
            FaultName::Html => FaultKind::HtmlBeforeJson,
            FaultName::Truncate => FaultKind::Truncated,
            FaultName::Reset => FaultKind::Reset,
            FaultName::Slow => FaultKind::SlowAnswer {
                delay_ms: slow_answer_ms,
            },
        }
    }
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Which shop to simulate
    #[arg(long, value_enum, default_value_t = ShopKind::Woocommerce)]
    pub shop: ShopKind,
    /// Address to serve on
    #[arg(long, default_value = "127.0.0.1:8421", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Products (simple and variable; variations come on top)
    #[arg(long, default_value_t = 2000)]
    pub products: usize,
    #[arg(long, default_value_t = 500)]
    pub customers: usize,
    #[arg(long, default_value_t = 1000)]
    pub orders: usize,
    /// Seed of the generated data (same seed, same shop)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// API key to accept [default: generated and printed]
    #[arg(long, value_name = "KEY")]
    pub consumer_key: Option<String>,
    /// API secret to accept [default: generated and printed]
    #[arg(long, value_name = "SECRET")]
    pub consumer_secret: Option<String>,
    /// The home URL the store believes it has (OAuth signatures are checked against it)
    #[arg(long, value_name = "URL")]
    pub home_url: Option<String>,
    /// Delay added to every response
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,
    /// PHP workers: requests served at once; the rest wait in the server's
    /// queue (0 = no limit)
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub workers: usize,
    /// Time one REST request holds a worker (on top of --latency-ms)
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub service_ms: u64,
    /// Time the storefront page (GET /) holds a worker
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub front_page_ms: u64,
    /// Share of requests that fail, 0.0 to 1.0
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    pub fail_rate: f64,
    /// Which failures --fail-rate draws from
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [FaultName::ServerError, FaultName::BadGateway, FaultName::TooManyRequests, FaultName::Truncate, FaultName::Reset])]
    pub faults: Vec<FaultName>,
    /// How long the `slow` fault holds an answer back
    #[arg(long, default_value_t = 30_000, value_name = "MS")]
    pub slow_answer_ms: u64,
    /// Behave like a store older than WooCommerce 10.3 (no GET /variations)
    #[arg(long)]
    pub no_variations_endpoint: bool,
    /// Share of webhook deliveries never sent, 0.0 to 1.0
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    pub webhook_loss: f64,
    /// Share of webhook deliveries sent twice, 0.0 to 1.0
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    pub webhook_duplicate: f64,
    /// Share of webhook deliveries held back by --webhook-delay-ms, 0.0 to 1.0
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    pub webhook_delay: f64,
    /// How long a delayed webhook delivery is held back
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    pub webhook_delay_ms: u64,
    /// Share of webhook deliveries overtaken by a later one, 0.0 to 1.0
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    pub webhook_reorder: f64,
    /// Timeout of one webhook delivery (WooCommerce uses 60 s)
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub webhook_timeout_secs: u64,
    /// Failures a webhook may count before the next one disables it
    /// (WooCommerce's default 5 disables on the 7th consecutive failure)
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub webhook_max_failures: u32,
    /// Shopify: the Admin API access token to accept [default: generated and printed]
    #[arg(long, value_name = "TOKEN")]
    pub access_token: Option<String>,
    /// Shopify: size of the query-cost bucket, in points
    #[arg(long, default_value_t = 2000.0, value_name = "POINTS")]
    pub cost_bucket: f64,
    /// Shopify: points the cost bucket regains a second
    #[arg(long, default_value_t = 100.0, value_name = "POINTS")]
    pub restore_rate: f64,
}

impl SimArgs {
    /// Flags given that only the other shop kind takes.
    fn foreign_flags(&self) -> Vec<&'static str> {
        let woo_only = [
            ("--consumer-key", self.consumer_key.is_some()),
            ("--consumer-secret", self.consumer_secret.is_some()),
            ("--home-url", self.home_url.is_some()),
            ("--workers", self.workers != 0),
            ("--service-ms", self.service_ms != 0),
            ("--front-page-ms", self.front_page_ms != 0),
            ("--no-variations-endpoint", self.no_variations_endpoint),
            ("--webhook-loss", self.webhook_loss != 0.0),
            ("--webhook-duplicate", self.webhook_duplicate != 0.0),
            ("--webhook-delay", self.webhook_delay != 0.0),
            ("--webhook-reorder", self.webhook_reorder != 0.0),
        ];
        let shopify_only = [
            ("--access-token", self.access_token.is_some()),
            ("--cost-bucket", self.cost_bucket != 2000.0),
            ("--restore-rate", self.restore_rate != 100.0),
        ];
        let foreign: &[(&'static str, bool)] = match self.shop {
            ShopKind::Woocommerce => &shopify_only,
            ShopKind::Shopify => &woo_only,
        };
        foreign
            .iter()
            .filter(|(_, set)| *set)
            .map(|(f, _)| *f)
            .collect()
    }
}

/// A key in WooCommerce's format: a prefix and 40 hex digits.
pub(crate) fn generated_key(prefix: &str) -> String {
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}{}", &(a + &b)[..40])
}

pub async fn run(args: SimArgs) -> Result<ExitCode, Error> {
    let foreign = args.foreign_flags();
    if !foreign.is_empty() {
        let shop = match args.shop {
            ShopKind::Woocommerce => "woocommerce",
            ShopKind::Shopify => "shopify",
        };
        return Err(Error::Usage(format!(
            "{} not for --shop {shop}",
            foreign.join(", ")
        )));
    }
    if args.shop == ShopKind::Shopify {
        return run_shopify(args).await;
    }
    for (flag, rate) in [
        ("--fail-rate", args.fail_rate),
        ("--webhook-loss", args.webhook_loss),
        ("--webhook-duplicate", args.webhook_duplicate),
        ("--webhook-delay", args.webhook_delay),
        ("--webhook-reorder", args.webhook_reorder),
    ] {
        if !(0.0..=1.0).contains(&rate) {
            return Err(Error::Usage(format!(
                "{flag} must be between 0 and 1 (got {rate})"
            )));
        }
    }
    let key = args.consumer_key.unwrap_or_else(|| generated_key("ck_"));
    let secret = args.consumer_secret.unwrap_or_else(|| generated_key("cs_"));
    let config = SimConfig {
        listen: args.listen,
        seed: args.seed,
        products: args.products,
        customers: args.customers,
        orders: args.orders,
        consumer_key: key.clone(),
        consumer_secret: secret.clone(),
        home_url: args.home_url,
        variations_endpoint: !args.no_variations_endpoint,
        faults: FaultConfig {
            latency: Duration::from_millis(args.latency_ms),
            fail_rate: args.fail_rate,
            kinds: args
                .faults
                .iter()
                .map(|f| f.kind(args.slow_answer_ms))
                .collect(),
        },
        server: ServerModel {
            workers: args.workers,
            service: Duration::from_millis(args.service_ms),
            front_page: Duration::from_millis(args.front_page_ms),
        },
        webhooks: WebhookConfig {
            timeout: Duration::from_secs(args.webhook_timeout_secs),
            max_failures: args.webhook_max_failures,
            faults: WebhookFaults {
                loss: args.webhook_loss,
                duplicate: args.webhook_duplicate,
                delay: args.webhook_delay,
                delay_for: Duration::from_millis(args.webhook_delay_ms),
                reorder: args.webhook_reorder,
            },
            ..WebhookConfig::default()
        },
        ..SimConfig::default()
    };
    let token = super::shutdown_token();
    let sim = Sim::spawn(config).await.map_err(|source| Error::Io {
        what: format!("cannot serve the simulated store on {}", args.listen),
        source,
    })?;
    let counts = sim.counts();
    println!("simulated WooCommerce store at {}", sim.url());
    println!(
        "  {} products, {} variations, {} customers, {} orders",
        counts.products, counts.variations, counts.customers, counts.orders
    );
    println!("  consumer key:    {key}");
    println!("  consumer secret: {secret}");
    println!("  REST writes and webhook subscriptions are live");
    println!(
        "point possync at it with POSSYNC_STORE_URL={} and the keys above; Ctrl-C stops it",
        sim.url()
    );
    if args.workers > 0 || args.service_ms > 0 || args.front_page_ms > 0 {
        println!(
            "  server: {} workers, {} ms per request, {} ms per storefront page (GET /)",
            if args.workers == 0 {
                "unlimited".to_owned()
            } else {
                args.workers.to_string()
            },
            args.service_ms,
            args.front_page_ms
        );
    }
    token.cancelled().await;
    let stats = sim.server_stats();
    println!(
        "server: {} requests served, at most {} waiting for a worker, mean wait {:.1} ms, longest {:.1} ms",
        stats.served, stats.peak_queued, stats.mean_wait_ms, stats.max_wait_ms
    );
    sim.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// An Admin API access token's shape: `shpat_` and 32 hex digits.
pub(crate) fn generated_token() -> String {
    format!("shpat_{}", uuid::Uuid::new_v4().simple())
}

async fn run_shopify(args: SimArgs) -> Result<ExitCode, Error> {
    if !(args.cost_bucket > 0.0 && args.restore_rate > 0.0) {
        return Err(Error::Usage(
            "--cost-bucket and --restore-rate must be above 0".to_owned(),
        ));
    }
    if !(0.0..=1.0).contains(&args.fail_rate) {
        return Err(Error::Usage(format!(
            "--fail-rate must be between 0 and 1 (got {})",
            args.fail_rate
        )));
    }
    // Failures with no Shopify counterpart (html, reset, slow) are left
    // out; the kinds in force are printed.
    let kinds: Vec<ShopifyFault> = args.faults.iter().filter_map(|f| f.shopify()).collect();
    if args.fail_rate > 0.0 && kinds.is_empty() {
        return Err(Error::Usage(
            "--faults: none applies to --shop shopify (server-error, bad-gateway, too-many-requests, truncate do)"
                .to_owned(),
        ));
    }
    let token = args.access_token.unwrap_or_else(generated_token);
    let config = ShopifyConfig {
        listen: args.listen,
        seed: args.seed,
        sizes: Sizes {
            products: args.products,
            customers: args.customers,
            orders: args.orders,
            locations: 2,
        },
        access_token: token.clone(),
        faults: ShopifyFaults {
            latency: Duration::from_millis(args.latency_ms),
            fail_rate: args.fail_rate,
            kinds: kinds.clone(),
        },
        bucket: BucketConfig {
            maximum_available: args.cost_bucket,
            restore_rate: args.restore_rate,
        },
        ..ShopifyConfig::default()
    };
    let stop = super::shutdown_token();
    let sim = ShopifySim::spawn(config)
        .await
        .map_err(|source| Error::Io {
            what: format!("cannot serve the simulated store on {}", args.listen),
            source,
        })?;
    let counts = sim.counts();
    println!("simulated Shopify store at {}", sim.url());
    println!(
        "  {} products, {} variants, {} customers, {} orders, {} locations",
        counts.products, counts.variants, counts.customers, counts.orders, counts.locations
    );
    for version in ApiVersion::ALL {
        println!(
            "  Admin GraphQL {}: {}",
            version.as_str(),
            sim.graphql_url(version)
        );
    }
    println!("  access token (X-Shopify-Access-Token): {token}");
    println!(
        "  cost bucket: {} points, {} a second; bulk operations are live",
        args.cost_bucket, args.restore_rate
    );
    if args.fail_rate > 0.0 {
        println!("  failing {} of requests with {kinds:?}", args.fail_rate);
    }
    if args.latency_ms > 0 {
        println!("  {} ms added to every answer", args.latency_ms);
    }
    println!("Ctrl-C stops it");
    stop.cancelled().await;
    let (requests, throttled) = sim.requests();
    println!("served {requests} GraphQL requests, {throttled} of them throttled");
    sim.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
