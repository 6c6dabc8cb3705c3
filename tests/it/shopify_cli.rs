//! A Shopify shop from the command line, as a shop owner runs it: a config
//! file naming the shop, `possync sync --full`, `possync status`, and
//! `possync run` filling its replica on its own.

use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::Duration;

use possync_sim::shopify::{ShopifyConfig, ShopifySim};
use serde_json::Value;

use crate::cli::possync;
use crate::common::wait_for;
use crate::shopify_pull::{active_product_ids, location};

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

/// A config file for the simulated shop, reached through `admin_url`.
async fn write_config(sim: &ShopifySim, dir: &Path) -> PathBuf {
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
"#,
        data = dir.join("data").display(),
        url = sim.url(),
        token = sim.access_token(),
        location = location(sim).await,
    );
    std::fs::write(&path, text).unwrap();
    path
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
    let sim = ShopifySim::spawn(ShopifyConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(&sim, dir.path()).await;
    let token = sim.access_token().to_owned();

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
    assert!(!stdout.contains(&token) && !stderr.contains(&token));
    // What Shopify has no counterpart for is not pulled, nor reported.
    for absent in ["tax_classes", "shipping_zones", "payment_gateways"] {
        assert!(!stdout.contains(absent), "{absent} in:\n{stdout}");
    }
    assert!(stdout.contains("cost bucket:"), "{stdout}");

    let status = status_json(&config).await;
    assert_eq!(pulled(&status), sorted_mirrored(), "{status}");
    let active = active_product_ids(&sim).await.len();
    assert!(active > 0);
    assert_eq!(status["counts"]["products"], active, "{status}");
    assert_eq!(
        status["counts"]["customers"],
        sim.counts().customers,
        "{status}"
    );

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
    sim.shutdown().await;
}

struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn run_fills_the_replica_of_a_shopify_shop_on_its_own() {
    let sim = ShopifySim::spawn(ShopifyConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(&sim, dir.path()).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _agent = Agent(
        possync()
            .args(["run", "--listen", &format!("127.0.0.1:{port}"), "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Once it answers, its replica is set up and may be read beside it.
    let http = reqwest::Client::new();
    wait_for("the agent to answer", Duration::from_secs(60), || {
        let http = http.clone();
        async move {
            let res = http
                .get(format!("http://127.0.0.1:{port}/healthz"))
                .send()
                .await
                .ok()?;
            res.status().is_success().then_some(())
        }
    })
    .await;
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
        active_product_ids(&sim).await.len()
    );
    sim.shutdown().await;
}
