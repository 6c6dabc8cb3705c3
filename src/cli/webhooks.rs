//! `possync webhooks …`: the agent's webhook subscriptions on the shop.
//! Secrets are generated and stored in the replica, never printed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{data_dir_flag, load_config};
use crate::config::StoreKind;
use crate::domain::webhooks::SubscriptionStatus;
use crate::error::Error;
use crate::sync::webhooks::subscriptions::{self, Installed};
use crate::upstream::shop::Shop;

#[derive(Debug, Args)]
pub struct WebhooksArgs {
    /// Where the replica lives [default: possync-data]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub action: WebhooksAction,
}

#[derive(Debug, Subcommand)]
pub enum WebhooksAction {
    /// Subscribe this agent to product, order and customer changes (idempotent)
    Install {
        /// The address the shop reaches this agent at, e.g. https://till1.example.com
        #[arg(long, value_name = "URL")]
        public_url: String,
    },
    /// Show this agent's subscriptions and their status on the shop
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Stop deliveries (the subscriptions stay)
    Pause,
    /// Start deliveries again
    Resume,
    /// Delete this agent's subscriptions from the shop
    Remove,
}

/// The delivery URL for a public base URL and a shop of `kind` (see
/// [`subscriptions::delivery_url_for`]), with the CLI's wording.
pub fn delivery_url(public_url: &str, kind: StoreKind) -> Result<String, Error> {
    let url = subscriptions::delivery_url_for(public_url, kind)
        .map_err(|e| Error::Usage(e.replace("the public URL", "--public-url")))?;
    if kind == StoreKind::WooCommerce && !subscriptions::port_delivered_by_default(public_url) {
        eprintln!(
            "possync: note: WordPress delivers webhooks only to ports 80, 443 and 8080 unless the shop allows others"
        );
    }
    Ok(url)
}

pub(super) async fn run(config: Option<PathBuf>, args: WebhooksArgs) -> Result<ExitCode, Error> {
    let flags: Vec<_> = data_dir_flag(&args.data_dir).into_iter().collect();
    let config = load_config(config, &flags)?;
    let kind = config.store()?.kind();
    let client = Shop::connect(config.store()?)?;
    let store = crate::app::open_store(&config).await?;
    match args.action {
        WebhooksAction::Install { public_url } => {
            let url = delivery_url(&public_url, kind)?;
            let done = subscriptions::install(&client, &store, &url).await?;
            for (topic, what) in &done {
                println!("{:<18} {}", topic.to_string(), what.describe());
            }
            let refused = done
                .iter()
                .filter(|(_, w)| matches!(w, Installed::Refused { .. }))
                .count();
            if refused > 0 {
                eprintln!(
                    "possync: {refused} topic(s) could not be created; the others are installed, and a re-run retries them"
                );
            }
            match kind {
                StoreKind::WooCommerce => {
                    println!("deliveries go to {url}; secrets are kept in the replica")
                }
                // Shopify signs every delivery with the app's client secret.
                StoreKind::Shopify => println!(
                    "deliveries go to {url}; they are signed with the app's client secret (store.client_secret, or webhooks.secret beside an access token)"
                ),
            }
        }
        WebhooksAction::List { json } => {
            let subs = subscriptions::list(&client, &store).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&subs).unwrap_or_default()
                );
            } else if subs.is_empty() {
                println!("no subscriptions; run `possync webhooks install --public-url URL`");
            } else {
                println!("{:>6}  {:<18} {:<9} delivery url", "id", "topic", "status");
                for s in subs {
                    let status = s
                        .upstream_status
                        .map_or("missing", SubscriptionStatus::as_str);
                    println!(
                        "{:>6}  {:<18} {:<9} {}",
                        s.id, s.topic, status, s.delivery_url
                    );
                }
            }
        }
        WebhooksAction::Pause => {
            let n = subscriptions::set_all(&client, &store, SubscriptionStatus::Paused).await?;
            println!("{n} subscriptions paused");
        }
        WebhooksAction::Resume => {
            let n = subscriptions::set_all(&client, &store, SubscriptionStatus::Active).await?;
            println!("{n} subscriptions active");
        }
        WebhooksAction::Remove => {
            let n = subscriptions::remove_all(&client, &store).await?;
            println!("{n} subscriptions removed");
        }
    }
    Ok(ExitCode::SUCCESS)
}
