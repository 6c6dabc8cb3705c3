//! `possync sim`: the simulated WooCommerce store on its own, for trying the
//! agent (or any WooCommerce client) against a shop that misbehaves on cue.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::error::Error;
use crate::sim::{FaultConfig, FaultKind, Sim, SimConfig};

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
}

impl FaultName {
    pub fn kind(self) -> FaultKind {
        match self {
            FaultName::ServerError => FaultKind::ServerError,
            FaultName::BadGateway => FaultKind::BadGateway,
            FaultName::TooManyRequests => FaultKind::TooManyRequests {
                retry_after_secs: 1,
            },
            FaultName::Html => FaultKind::HtmlBeforeJson,
            FaultName::Truncate => FaultKind::Truncated,
            FaultName::Reset => FaultKind::Reset,
        }
    }
}

#[derive(Debug, Args)]
pub struct SimArgs {
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
    /// Share of requests that fail, 0.0 to 1.0
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    pub fail_rate: f64,
    /// Which failures --fail-rate draws from
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [FaultName::ServerError, FaultName::BadGateway, FaultName::TooManyRequests, FaultName::Truncate, FaultName::Reset])]
    pub faults: Vec<FaultName>,
    /// Behave like a store older than WooCommerce 10.3 (no GET /variations)
    #[arg(long)]
    pub no_variations_endpoint: bool,
}

/// A key in WooCommerce's format: a prefix and 40 hex digits.
pub(crate) fn generated_key(prefix: &str) -> String {
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}{}", &(a + &b)[..40])
}

pub async fn run(args: SimArgs) -> Result<ExitCode, Error> {
    if !(0.0..=1.0).contains(&args.fail_rate) {
        return Err(Error::Usage(format!(
            "--fail-rate must be between 0 and 1 (got {})",
            args.fail_rate
        )));
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
            kinds: args.faults.iter().map(|f| f.kind()).collect(),
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
    println!(
        "point possync at it with POSSYNC_STORE_URL={} and the keys above; Ctrl-C stops it",
        sim.url()
    );
    token.cancelled().await;
    sim.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
