//! A Shopify shop from the command line, as a shop owner runs it: a config
//! file naming the shop, `possync sync --full`, `possync status`, and
//! `possync run` filling its replica on its own.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use possync_sim::shopify::{ShopifyConfig, ShopifySim};
use serde_json::Value;

use crate::cli::possync;
use crate::common::{Agent, free_port, healthy, wait_for};
use crate::shops::TestShop;

/// Every resource a Shopify shop has and the agent mirrors.
const MIRRORED: [&str; 6] = [
    "categories",
    "products",
    "variations",
    "customers",
    "orders",
    "refunds",
];

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The simulated Shopify shop, and a config file for it.
async fn shop_and_config(dir: &Path) -> (TestShop, PathBuf) {
    let shop = TestShop::Shopify(ShopifySim::spawn(ShopifyConfig::default()).await.unwrap());
    let config = shop.write_config(dir, "").await;
    (shop, config)
}

async fn status_json(config: &Path) -> Value {
    let config = config.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        possync()
            .args(["status", "--json", "--config"])
            .arg(&config)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The mirrored resources the replica records a finished full pull of.
fn pulled(status: &Value) -> Vec<String> {
    let mut done: Vec<String> = status["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["last_full_pull_at"].is_number())
        .filter_map(|r| r["resource"].as_str().map(str::to_owned))
        .collect();
    done.sort();
    done
}

fn sorted_mirrored() -> Vec<String> {
    let mut all: Vec<String> = MIRRORED.iter().map(|s| (*s).to_owned()).collect();
    all.sort();
    all
}

#[tokio::test]
async fn sync_full_pulls_a_shopify_shop_and_status_lists_only_what_it_has() {
    // Counts and secrets: `cli::sync_full_then_status_and_no_secret_in_any_output`,
    // for both kinds of shop. Here, what is Shopify's own.
    let dir = tempfile::tempdir().unwrap();
    let (shop, config) = shop_and_config(dir.path()).await;

    let out = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            possync()
                .args(["sync", "--full", "--config"])
                .arg(&config)
                .env("POSSYNC_LOG", "debug")
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // What Shopify has no counterpart for is not pulled, nor reported.
    for absent in ["tax_classes", "shipping_zones", "payment_gateways"] {
        assert!(!stdout.contains(absent), "{absent} in:\n{stdout}");
    }
    assert!(stdout.contains("cost bucket:"), "{stdout}");

    let status = status_json(&config).await;
    assert_eq!(pulled(&status), sorted_mirrored(), "{status}");

    // A delta cycle after it runs, rather than asking for a full pull.
    let out = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            possync()
                .args(["sync", "--delta", "--config"])
                .arg(&config)
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("delta cycle in"), "{stdout}");

    // Asking for resources the shop does not have says which it has.
    let out = tokio::task::spawn_blocking(move || {
        possync()
            .args(["sync", "--full", "--resources", "tax_classes", "--config"])
            .arg(&config)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "a shopify shop has none of the resources asked for; it has: categories, products, variations, customers, orders, refunds"
        ),
        "{stderr}"
    );
    shop.shutdown().await;
}

#[tokio::test]
async fn run_fills_the_replica_of_a_shopify_shop_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let (shop, config) = shop_and_config(dir.path()).await;
    let port = free_port();
    let _agent = Agent::start(&config, port);
    // Once it answers, its replica is set up and may be read beside it.
    healthy(port).await;
    let status = wait_for(
        "the agent's first pull of the Shopify shop",
        Duration::from_secs(90),
        || {
            let config = config.clone();
            async move {
                let status = status_json(&config).await;
                (pulled(&status) == sorted_mirrored()).then_some(status)
            }
        },
    )
    .await;
    assert_eq!(
        status["counts"]["products"],
        shop.active_product_ids().await.len()
    );
    shop.shutdown().await;
}
