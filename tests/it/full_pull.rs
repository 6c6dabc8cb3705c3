//! The full pull against the simulated store: what lands in the replica,
//! how a pull over an existing replica converges, and what it does when the
//! store misbehaves.

use std::collections::BTreeSet;
use std::time::Duration;

use possync::domain::Resource;
use possync::sync::progress::{PullState, StepState};
use possync_sim::woo::{FaultKind, FaultRule, SimConfig};

use crate::common::{TestApp, assert_completed, mirrored_variation_ids, small_sim};

/// The order statuses the agent mirrors by default.
const DEFAULT_ORDER_STATUSES: [&str; 5] =
    ["pending", "processing", "on-hold", "completed", "refunded"];

fn sorted(mut ids: Vec<i64>) -> Vec<i64> {
    ids.sort_unstable();
    ids
}

fn mirrored_orders(t: &TestApp) -> Vec<i64> {
    sorted(
        DEFAULT_ORDER_STATUSES
            .iter()
            .flat_map(|s| t.sim.order_ids(Some(s)))
            .collect(),
    )
}

#[tokio::test]
async fn full_pull_mirrors_every_resource_of_the_store() {
    let t = TestApp::spawn(small_sim(), |_| {}).await;
    let p = t.pulled().await;
    assert_completed(&p);
    for r in &p.resources {
        assert_eq!(r.state, StepState::Done, "{r:?}");
        assert_eq!(Some(r.items_done), r.items_total, "{r:?}");
        assert!(r.message.is_none(), "no warning expected: {r:?}");
    }

    let counts = t.sim.counts();
    assert_eq!(
        t.replica_ids(Resource::Products).await,
        t.sim.product_ids(Some("publish")),
        "exactly the published products"
    );
    assert!(
        counts.products_draft + counts.products_trash > 0,
        "the sim has unpublished products to leave out"
    );
    assert!(
        mirrored_variation_ids(&t.sim).len() < counts.variations - counts.variations_trash,
        "the sim has variations of unpublished products to leave out"
    );
    assert_eq!(
        t.replica_ids(Resource::Variations).await,
        mirrored_variation_ids(&t.sim),
        "exactly the variations of published products"
    );
    assert_eq!(
        t.replica_ids(Resource::Customers).await,
        t.sim.customer_ids()
    );
    assert_eq!(t.replica_ids(Resource::Orders).await, mirrored_orders(&t));
    assert_eq!(t.replica_ids(Resource::Refunds).await, t.sim.refund_ids());
    assert_eq!(
        t.replica_ids(Resource::Categories).await.len(),
        counts.categories
    );
    assert_eq!(t.replica_ids(Resource::Tags).await.len(), counts.tags);
    assert_eq!(
        t.replica_ids(Resource::TaxRates).await.len(),
        counts.tax_rates
    );
    assert_eq!(
        t.replica_ids(Resource::ShippingZones).await.len(),
        counts.shipping_zones
    );
    assert!(!t.replica_keys(Resource::Settings).await.is_empty());
    assert!(!t.replica_keys(Resource::PaymentGateways).await.is_empty());

    // Listing requests are stable (id ascending), sized by the config, and
    // no page of a collection is fetched twice.
    let mut pages = BTreeSet::new();
    for req in t.sim.requests() {
        if req.method != "GET" || !req.path.ends_with("/wc/v3/products") {
            continue;
        }
        let q = |k: &str| {
            req.query
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
        };
        if q("include").is_some() || q("_fields").as_deref() == Some("id") {
            continue;
        }
        assert_eq!(q("orderby").as_deref(), Some("id"), "{req:?}");
        assert_eq!(q("order").as_deref(), Some("asc"), "{req:?}");
        assert_eq!(q("per_page").as_deref(), Some("10"), "{req:?}");
        let page = q("page").unwrap_or_else(|| "1".to_owned());
        assert!(pages.insert(page.clone()), "page {page} fetched twice");
    }
    assert_eq!(
        pages.len(),
        t.sim.product_ids(Some("publish")).len().div_ceil(10)
    );

    // A watermark taken before the pull is kept for the delta sync.
    let (status, body) = t.get_json("/api/sync/status").await;
    assert_eq!(status, 200);
    let products = body["replica"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "products")
        .unwrap();
    assert!(products["watermark"].is_string(), "{products}");
    assert_eq!(
        body["replica"]["counts"]["products"],
        t.sim.product_ids(Some("publish")).len()
    );
    assert_eq!(
        body["replica"]["counts"]["variations"],
        mirrored_variation_ids(&t.sim).len(),
        "the counts leave out variations of products not mirrored"
    );
    let variations = body["replica"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "variations")
        .unwrap();
    assert_eq!(
        variations["upstream_total"],
        mirrored_variation_ids(&t.sim).len(),
        "the shop's count, of the variations mirrored: {variations}"
    );
    t.stop().await;
}

#[tokio::test]
async fn a_pull_over_an_existing_replica_ends_with_exactly_the_stores_set() {
    let t = TestApp::spawn(small_sim(), |_| {}).await;
    assert_completed(&t.pulled().await);
    let before = t.replica_ids(Resource::Products).await;
    let (gone, trashed, repriced) = (before[0], before[1], before[2]);
    // Its categories are the store's after the first pull (rows inserted)
    // and after the second (rows updated, links replaced).
    let recategorized = before[3];
    let upstream_categories = |t: &TestApp| -> Vec<i64> {
        let p = t.sim.product(recategorized).unwrap();
        let mut ids: Vec<i64> = p["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        ids.sort_unstable();
        ids
    };
    let first_categories = upstream_categories(&t);
    assert!(!first_categories.is_empty());
    assert_eq!(category_links(&t, recategorized).await, first_categories);
    let other = t
        .replica_ids(Resource::Categories)
        .await
        .into_iter()
        .find(|id| !first_categories.contains(id))
        .expect("a category it is not in");
    t.sim
        .update_product(
            recategorized,
            serde_json::json!({ "categories": [{ "id": other }] }),
        )
        .unwrap();
    assert_eq!(upstream_categories(&t), vec![other]);
    t.sim.delete_product(gone);
    t.sim.trash_product(trashed);
    t.sim.set_product_price(repriced, "12.34");
    let added = t
        .sim
        .add_simple_product("Enamel mug", "MUG-ENAMEL-1", "9.50", Some(12));

    let t = t.restart(|_| {}).await;
    let p = t.pulled().await;
    assert_completed(&p);
    let after = t.replica_ids(Resource::Products).await;
    assert_eq!(after, t.sim.product_ids(Some("publish")));
    assert!(!after.contains(&gone) && !after.contains(&trashed));
    assert!(after.contains(&added));
    assert_eq!(p.resource(Resource::Products).unwrap().removed, 2);

    let price: String = t
        .store()
        .read(move |c| {
            Ok(c.query_row(
                "SELECT regular_price FROM products WHERE id = ?1",
                [repriced],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(price, "12.34");
    assert_eq!(category_links(&t, recategorized).await, vec![other]);
    t.stop().await;
}

/// The categories the replica links a product to.
async fn category_links(t: &TestApp, product: i64) -> Vec<i64> {
    t.store()
        .read(move |c| {
            let mut stmt = c.prepare(
                "SELECT category_id FROM product_categories WHERE product_id = ?1 ORDER BY 1",
            )?;
            let ids = stmt
                .query_map([product], |r| r.get(0))?
                .collect::<Result<Vec<i64>, _>>()?;
            Ok(ids)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn rows_are_removed_only_when_the_pull_completes_never_midway() {
    let t = TestApp::spawn(small_sim(), |_| {}).await;
    assert_completed(&t.pulled().await);
    let gone = *t.replica_ids(Resource::Products).await.last().unwrap();
    t.sim.delete_product(gone);
    t.sim.set_latency(Duration::from_millis(40));

    let t = t.restart(|c| c.sync.concurrency = 1).await;
    let mut rx = t.app.progress();
    rx.wait_for(|p| {
        p.resource(Resource::Products)
            .is_some_and(|r| r.pages_done >= 2 && r.state == StepState::Running)
    })
    .await
    .unwrap();
    assert!(
        t.replica_ids(Resource::Products).await.contains(&gone),
        "a row must stay until the pull that no longer sees it completes"
    );
    assert_completed(&t.pulled().await);
    assert!(!t.replica_ids(Resource::Products).await.contains(&gone));
    t.stop().await;
}

#[tokio::test]
async fn a_failed_resource_removes_nothing_and_the_others_complete() {
    let t = TestApp::spawn(small_sim(), |_| {}).await;
    assert_completed(&t.pulled().await);
    let products_before = t.replica_ids(Resource::Products).await;
    t.sim.delete_product(products_before[0]);

    // Once the store has been probed, a PHP notice is printed before every
    // catalog answer: not transient, the catalog cannot be read.
    t.sim.set_latency(Duration::from_millis(20));
    let t = t.restart(|_| {}).await;
    let mut rx = t.app.progress();
    rx.wait_for(|p| {
        p.resource(Resource::Settings)
            .is_some_and(|r| r.state == StepState::Done)
    })
    .await
    .unwrap();
    t.sim.inject(FaultRule {
        method: None,
        path_contains: Some("/wc/v3/products".to_owned()),
        fault: FaultKind::HtmlBeforeJson,
        times: 10_000,
    });
    let p = t.pulled().await;
    assert_eq!(p.state, PullState::Failed, "{p:#?}");
    let products = p.resource(Resource::Products).unwrap();
    assert_eq!(products.state, StepState::Failed);
    let message = products.message.as_deref().unwrap();
    assert!(
        message.contains("<br"),
        "the error quotes the body's first bytes: {message}"
    );
    assert_eq!(
        t.replica_ids(Resource::Products).await,
        products_before,
        "a failed pull removes nothing"
    );
    // The resources it does not touch still completed.
    assert_eq!(
        p.resource(Resource::Customers).unwrap().state,
        StepState::Done
    );
    assert_eq!(p.resource(Resource::Orders).unwrap().state, StepState::Done);
    t.stop().await;
}

#[tokio::test]
async fn a_product_deleted_while_the_pull_pages_loses_no_other_product() {
    // Deleting a product on page 1 after it was read shifts every later
    // product one place up: without a check, the first product of page 2
    // would never be seen.
    let t = TestApp::spawn(
        SimConfig {
            faults: possync_sim::woo::FaultConfig {
                latency: Duration::from_millis(30),
                ..Default::default()
            },
            ..small_sim()
        },
        |c| c.sync.concurrency = 1,
    )
    .await;
    let mut rx = t.app.progress();
    rx.wait_for(|p| {
        p.resource(Resource::Products)
            .is_some_and(|r| r.pages_done >= 1 && r.state == StepState::Running)
    })
    .await
    .unwrap();
    let first = t.sim.product_ids(Some("publish"))[0];
    t.sim.delete_product(first);
    let p = t.pulled().await;
    assert_completed(&p);
    assert_eq!(
        t.replica_ids(Resource::Products).await,
        t.sim.product_ids(Some("publish")),
        "the pull ends with exactly the store's set"
    );
    assert!(p.resource(Resource::Products).unwrap().message.is_none());
    t.stop().await;
}

#[tokio::test]
async fn the_next_resource_starts_while_the_one_before_finishes_its_last_pages() {
    // Products, then variations, as a relay: the variations' first page is
    // asked for once the products' last page is, not after the products'
    // tail is answered and written. Each answer takes 100 ms, so both are
    // seen running at once for at least that long.
    let t = TestApp::spawn(
        SimConfig {
            faults: possync_sim::woo::FaultConfig {
                latency: Duration::from_millis(100),
                ..Default::default()
            },
            ..small_sim()
        },
        |_| {},
    )
    .await;
    let running = |p: &possync::sync::progress::PullProgress, r: Resource| {
        p.resource(r).is_some_and(|r| r.state == StepState::Running)
    };
    let mut rx = t.app.progress();
    let seen = rx
        .wait_for(|p| {
            (running(p, Resource::Products) && running(p, Resource::Variations))
                || !matches!(p.state, PullState::Idle | PullState::Running)
        })
        .await
        .unwrap()
        .clone();
    assert!(
        running(&seen, Resource::Variations),
        "variations start before the products are done: {seen:?}"
    );
    let products = seen.resource(Resource::Products).unwrap();
    assert!(
        products.pages_total.is_some_and(|n| n > 2),
        "the products take several pages: {products:?}"
    );
    let p = t.pulled().await;
    assert_completed(&p);
    assert_eq!(
        t.replica_ids(Resource::Products).await,
        t.sim.product_ids(Some("publish"))
    );
    assert_eq!(
        t.replica_ids(Resource::Variations).await,
        mirrored_variation_ids(&t.sim)
    );
    t.stop().await;
}

#[tokio::test]
async fn max_records_caps_the_pull_and_says_so() {
    let t = TestApp::spawn(small_sim(), |c| c.sync.max_records = 15).await;
    let p = t.pulled().await;
    assert_completed(&p);
    let products = p.resource(Resource::Products).unwrap();
    assert_eq!(t.replica_ids(Resource::Products).await.len(), 15);
    let message = products.message.as_deref().unwrap();
    assert!(message.contains("max_records"), "{message}");
    let (_, body) = t.get_json("/api/sync/status").await;
    let row = body["replica"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "products")
        .unwrap()
        .clone();
    assert!(
        row["last_warning"]
            .as_str()
            .unwrap()
            .contains("max_records"),
        "{row}"
    );
    t.stop().await;
}

#[tokio::test]
async fn an_older_store_without_the_flat_lists_is_walked_per_parent() {
    let t = TestApp::spawn(
        SimConfig {
            variations_endpoint: false,
            refunds_endpoint: false,
            ..small_sim()
        },
        |_| {},
    )
    .await;
    assert_completed(&t.pulled().await);
    let per_parent = t
        .sim
        .requests()
        .iter()
        .filter(|r| r.path.contains("/variations") && r.path.contains("/products/"))
        .count();
    assert!(per_parent > 0, "variations were asked per product");
    // Every variation of every mirrored variable product is in the replica.
    let products = t.replica_ids(Resource::Products).await;
    let expected: usize = products
        .iter()
        .map(|&id| t.sim.variation_ids(Some(id)).len())
        .sum();
    assert!(expected > 0);
    assert_eq!(t.replica_ids(Resource::Variations).await.len(), expected);
    let orders = t.replica_ids(Resource::Orders).await;
    assert!(!t.replica_ids(Resource::Refunds).await.is_empty());
    assert!(!orders.is_empty());
    t.stop().await;
}

#[tokio::test]
async fn transient_faults_are_retried_and_the_pull_completes() {
    let t = TestApp::spawn(
        SimConfig {
            faults: possync_sim::woo::FaultConfig {
                latency: Duration::ZERO,
                fail_rate: 0.15,
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
            ..small_sim()
        },
        |_| {},
    )
    .await;
    let p = t.pulled().await;
    assert_completed(&p);
    assert!(
        t.sim.requests().iter().any(|r| r.fault.is_some()),
        "faults were injected"
    );
    assert_eq!(
        t.replica_ids(Resource::Products).await,
        t.sim.product_ids(Some("publish"))
    );
    assert_eq!(
        t.replica_ids(Resource::Customers).await,
        t.sim.customer_ids()
    );
    t.stop().await;
}

#[tokio::test]
async fn a_wrong_secret_is_an_auth_error_with_the_stores_code() {
    let t = TestApp::spawn(small_sim(), |c| {
        c.store.as_mut().unwrap().woo_mut().unwrap().consumer_secret =
            secrecy::SecretString::from("cs_wrong".to_owned());
    })
    .await;
    let p = t.pulled().await;
    assert_eq!(p.state, PullState::Failed);
    let error = p.error.clone().unwrap_or_default();
    assert!(
        error.contains("woocommerce_rest_authentication_error") || error.contains("401"),
        "{error}"
    );
    assert!(
        !error.contains("cs_wrong"),
        "the secret never shows: {error}"
    );
    assert!(t.replica_ids(Resource::Products).await.is_empty());
    t.stop().await;
}

#[tokio::test]
async fn home_url_makes_oauth_work_through_an_alias() {
    // The store believes it lives at another address (a proxy in front):
    // signatures must be computed over that home URL.
    let sim = SimConfig {
        home_url: Some("http://shop.example:8080".to_owned()),
        ..small_sim()
    };
    let t = TestApp::spawn(sim.clone(), |_| {}).await;
    assert_eq!(
        t.pulled().await.state,
        PullState::Failed,
        "no home_url: refused"
    );
    t.stop().await;

    let t = TestApp::spawn(sim, |c| {
        c.store.as_mut().unwrap().woo_mut().unwrap().home_url =
            Some("http://shop.example:8080".parse().unwrap());
    })
    .await;
    assert_completed(&t.pulled().await);
    assert!(!t.replica_ids(Resource::Products).await.is_empty());
    t.stop().await;
}
