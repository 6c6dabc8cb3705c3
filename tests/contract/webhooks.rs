//! Webhooks on the real store: `possync webhooks install`, `list`,
//! `pause`, `resume`, `remove` as a manager runs them, and one signed
//! delivery from the shop received and applied by the running agent.
//!
//! The real store's must-use plugin lets it deliver to 127.0.0.1 on any
//! port, and its Action Scheduler runs every 5 s.

use std::process::Output;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::wait_for;
use crate::pull::pulled_agent;
use crate::shop::{Shop, run_id};
use crate::writes::create_product;

/// A delivery reaches the agent within a few Action Scheduler ticks.
const DELIVERY_WITHIN: Duration = Duration::from_secs(60);

/// Runs the `possync` binary with `args` against the real store.
pub async fn possync(
    shop: &Shop,
    dir: &std::path::Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_possync"));
    cmd.args(args).env("RUST_LOG", "warn").current_dir(dir);
    // Only what this run sets: never the suite's own variables or a
    // developer's configuration.
    for (k, _) in std::env::vars() {
        if k.starts_with("POSSYNC_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in shop.cli_env(dir) {
        cmd.env(k, v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    tokio::task::spawn_blocking(move || cmd.output().expect("possync runs"))
        .await
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The store's subscriptions delivering to `url`, as `(topic, status)`.
async fn subscriptions(shop: &Shop, url: &str) -> Vec<(String, String)> {
    let list = shop.get("webhooks?per_page=100").await;
    let mut out: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["delivery_url"] == url)
        .map(|w| {
            (
                w["topic"].as_str().unwrap_or_default().to_owned(),
                w["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_install_list_pause_resume_remove_and_a_signed_delivery_is_applied() {
    let Some(shop) = Shop::take("webhooks").await else {
        return;
    };
    let run = run_id();
    let product = create_product(&shop, &run, "hook", "10.00", Some(5)).await;
    // Polls far apart: only the webhook can bring the change soon.
    let t = pulled_agent(&shop, |c| {
        let s = &mut c.sync.schedule;
        s.products = Duration::from_secs(3600);
        s.variations = Duration::from_secs(3600);
        s.sweep = Duration::from_secs(3600);
    })
    .await;
    let public = t.app.url();
    let delivery = format!("{}/webhooks/woocommerce", public.trim_end_matches('/'));
    let dir = t.dir.path().to_owned();

    let installed = possync(
        &shop,
        &dir,
        &[],
        &["webhooks", "install", "--public-url", &public],
    )
    .await;
    let subs = subscriptions(&shop, &delivery).await;
    assert!(installed.status.success(), "{}", text(&installed));
    assert!(
        !subs.is_empty() && subs.iter().all(|(_, s)| s == "active"),
        "{subs:?}"
    );
    assert!(subs.iter().any(|(t, _)| t == "product.updated"), "{subs:?}");
    // A re-run creates nothing new.
    let again = possync(
        &shop,
        &dir,
        &[],
        &["webhooks", "install", "--public-url", &public],
    )
    .await;
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(subscriptions(&shop, &delivery).await, subs, "idempotent");

    let listed = possync(&shop, &dir, &[], &["webhooks", "list", "--json"]).await;
    assert!(listed.status.success(), "{}", text(&listed));
    let json: Value = serde_json::from_slice(&listed.stdout).expect("list --json is JSON");
    assert_eq!(json.as_array().map(Vec::len), Some(subs.len()), "{json}");

    // A change at the shop arrives signed and is applied.
    let renamed = format!("possync contract {run} hook renamed");
    shop.rest(
        Method::PUT,
        &format!("products/{product}"),
        Some(json!({"name": renamed})),
    )
    .await
    .expect(200, "rename");
    wait_for(
        "the signed delivery to be applied",
        DELIVERY_WITHIN,
        || async {
            let (_, p) = t.get_json(&format!("/api/products/{product}")).await;
            (p["name"] == renamed.as_str()).then_some(())
        },
    )
    .await;
    let (_, status) = t.get_json("/api/sync/status").await;
    assert!(
        status["webhooks"]["applied"].as_i64().unwrap_or(0) >= 1,
        "{}",
        status["webhooks"]
    );
    assert_eq!(status["webhooks"]["failed"], 0, "{}", status["webhooks"]);

    let paused = possync(&shop, &dir, &[], &["webhooks", "pause"]).await;
    assert!(paused.status.success(), "{}", text(&paused));
    assert!(
        subscriptions(&shop, &delivery)
            .await
            .iter()
            .all(|(_, s)| s == "paused")
    );
    let resumed = possync(&shop, &dir, &[], &["webhooks", "resume"]).await;
    assert!(resumed.status.success(), "{}", text(&resumed));
    assert!(
        subscriptions(&shop, &delivery)
            .await
            .iter()
            .all(|(_, s)| s == "active")
    );
    let removed = possync(&shop, &dir, &[], &["webhooks", "remove"]).await;
    assert!(removed.status.success(), "{}", text(&removed));
    assert_eq!(subscriptions(&shop, &delivery).await, vec![]);

    t.stop().await;
    shop.delete(&format!("products/{product}")).await;
}
