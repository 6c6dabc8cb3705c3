//! The full pull against the real store equals what the store itself lists,
//! and a sweep right after a poll fetches nothing the poll just wrote.

use std::collections::BTreeSet;

use possync::domain::{GmtTime, Resource};
use possync::sync::delta::Delta;
use possync::sync::pull::PullOptions;
use possync::sync::schedule::{self, Job};
use possync::upstream::woo::client::WooClient;
use possync_sim::woo::Sim;
use reqwest::Method;
use tokio_util::sync::CancellationToken;

use crate::common::{TestApp, assert_completed, small_sim};
use crate::shop::Shop;

/// An agent that has pulled the real store (a small sim rides along for
/// the helpers; the agent never talks to it).
pub async fn pulled_agent(shop: &Shop, tweak: impl FnOnce(&mut possync::Config)) -> TestApp {
    let sim = Sim::spawn(small_sim()).await.expect("sim starts");
    let t = TestApp::spawn_with_sim(sim, |c| {
        shop.point(c);
        tweak(c);
    })
    .await;
    assert_completed(&t.pulled().await);
    t
}

/// Runs one delta job against the real store on the agent's replica.
pub async fn job(shop: &Shop, t: &TestApp, job: Job) -> possync::sync::delta::DeltaReport {
    let client = WooClient::new(&shop.store_config()).unwrap();
    let mut config = possync::Config::new(crate::common::any_port(), t.dir.path().into(), None);
    shop.point(&mut config);
    let opts = PullOptions::from_config(&config.sync);
    let token = CancellationToken::new();
    let d = Delta {
        upstream: &client,
        store: t.store(),
        opts: &opts,
        overlap: config.sync.schedule.overlap,
        token: &token,
    };
    schedule::run_job(&d, job)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", job.name()))
}

#[tokio::test]
async fn a_full_pull_holds_exactly_what_the_real_store_lists() {
    let Some(shop) = Shop::take("full pull").await else {
        return;
    };
    let t = pulled_agent(&shop, |_| {}).await;

    let products = shop.ids("products?status=publish").await;
    let published: BTreeSet<i64> = products.iter().copied().collect();
    // A variation is mirrored only while its parent is.
    let mut variations = Vec::new();
    for page in 1.. {
        let list = shop
            .get(&format!(
                "variations?per_page=100&page={page}&_fields=id,parent_id"
            ))
            .await;
        let items = list.as_array().cloned().unwrap_or_default();
        variations.extend(
            items
                .iter()
                .filter(|v| published.contains(&v["parent_id"].as_i64().unwrap_or(0)))
                .filter_map(|v| v["id"].as_i64()),
        );
        if items.len() < 100 {
            break;
        }
    }
    variations.sort_unstable();
    let customers = shop.ids("customers").await;
    let orders = shop
        .ids("orders?status=pending,processing,on-hold,completed,refunded")
        .await;

    assert_eq!(
        t.replica_ids(Resource::Products).await,
        products,
        "products"
    );
    assert_eq!(
        t.replica_ids(Resource::Variations).await,
        variations,
        "variations"
    );
    assert_eq!(
        t.replica_ids(Resource::Customers).await,
        customers,
        "customers"
    );
    assert_eq!(t.replica_ids(Resource::Orders).await, orders, "orders");
    assert!(!products.is_empty() && !variations.is_empty() && !orders.is_empty());
    crate::shop::say(&format!(
        "contract full pull: {} products, {} variations, {} customers, {} orders",
        products.len(),
        variations.len(),
        customers.len(),
        orders.len()
    ));

    // A poll, then the sweep: the sweep finds everything at the version
    // the poll wrote and fetches nothing, except what changed at the shop
    // since (other runs, and this suite's write tests running beside this
    // one, share the store). WooCommerce stamps `date_modified` when a save
    // starts, and a busy store can commit it seconds later, after the poll
    // read the list: such a write counts as changed too.
    const COMMIT_SLACK_SECS: i64 = 10;
    let since = GmtTime::from_unix(GmtTime::now().unix() - 1 - COMMIT_SLACK_SECS);
    for j in [
        Job::Poll(Resource::Products),
        Job::Poll(Resource::Variations),
        Job::Poll(Resource::Orders),
        Job::Customers,
    ] {
        job(&shop, &t, j).await;
    }
    let sweep = job(&shop, &t, Job::Sweep).await;
    let mut changed = 0;
    for list in ["products", "variations", "orders"] {
        changed += shop
            .rest(
                Method::GET,
                &format!("{list}?modified_after={since}&dates_are_gmt=true&per_page=1&_fields=id"),
                None,
            )
            .await
            .expect(200, list)
            .total
            .unwrap_or(0);
    }
    let stamps = shop
        .get("customers?per_page=100&_fields=id,date_modified_gmt")
        .await;
    changed += stamps
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["date_modified_gmt"]
                .as_str()
                .is_some_and(|d| d >= since.to_string().as_str())
        })
        .count() as u64;
    assert!(
        sweep.fetched <= changed,
        "a sweep right after the polls re-fetched {} objects; {changed} changed at the shop since",
        sweep.fetched
    );
    t.stop().await;
}
