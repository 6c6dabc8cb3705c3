//! Delta sync against the simulated store: cursor polls, sweeps, the
//! scheduler, clock skew and outages.

use std::time::Duration;

use possync::domain::Resource;
use possync::sync::schedule::Job;
use possync_sim::woo::{FaultKind, FaultRule};

use crate::common::{TestApp, assert_completed, small_sim, wait_for};

/// Runs one `sync --delta` cycle in-process against the test's agent replica.
async fn cycle(t: &TestApp) {
    for job in Job::ALL {
        run(t, job).await;
    }
}

/// Runs one delta job in-process against the test's agent replica.
async fn run(t: &TestApp, job: Job) {
    t.run_job(job).await;
}

async fn regular_price(t: &TestApp, id: i64) -> Option<String> {
    t.store()
        .read(move |c| {
            Ok(c.query_row(
                "SELECT regular_price FROM products WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .ok())
        })
        .await
        .unwrap()
}

async fn stock(t: &TestApp, id: i64) -> Option<i64> {
    t.store()
        .read(move |c| {
            Ok(c.query_row(
                "SELECT stock_quantity FROM products WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .ok()
            .flatten())
        })
        .await
        .unwrap()
}

/// Published simple products in the replica (their price is their own).
async fn simple_ids(t: &TestApp) -> Vec<i64> {
    t.store()
        .read(|c| {
            let mut stmt =
                c.prepare("SELECT id FROM products WHERE type = 'simple' ORDER BY id")?;
            let ids = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<i64>, _>>()?;
            Ok(ids)
        })
        .await
        .unwrap()
}

/// An agent that pulled the small sim and whose scheduler stays idle.
async fn pulled() -> TestApp {
    let t = TestApp::spawn(small_sim(), |c| {
        let s = &mut c.sync.schedule;
        (s.products, s.variations, s.orders) = (
            Duration::from_secs(3600),
            Duration::from_secs(3600),
            Duration::from_secs(3600),
        );
        (s.customers, s.metadata, s.sweep) = (
            Duration::from_secs(3600),
            Duration::from_secs(3600),
            Duration::from_secs(3600),
        );
        s.jitter = 0.0;
    })
    .await;
    assert_completed(&t.pulled().await);
    t
}

#[tokio::test]
async fn a_cycle_applies_changes_additions_trash_and_permanent_deletes() {
    let t = pulled().await;
    let ids = simple_ids(&t).await;
    t.sim.set_product_price(ids[0], "77.70");
    t.sim.set_product_stock(ids[1], 3);
    t.sim.trash_product(ids[2]);
    t.sim.delete_product(ids[3]);
    let added = t
        .sim
        .add_simple_product("Linen apron", "APRON-LIN", "24.00", Some(5));

    cycle(&t).await;
    assert_eq!(regular_price(&t, ids[0]).await.as_deref(), Some("77.70"));
    assert_eq!(stock(&t, ids[1]).await, Some(3));
    let local = t.replica_ids(Resource::Products).await;
    assert!(!local.contains(&ids[2]), "trashed: removed by the poll");
    assert!(
        !local.contains(&ids[3]),
        "deleted for good: removed by the sweep"
    );
    assert!(local.contains(&added));
    assert_eq!(local, t.sim.product_ids(Some("publish")));

    let (_, body) = t.get_json("/api/sync/status").await;
    let fresh = body["replica"]["freshness"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"] == "products")
        .unwrap()
        .clone();
    assert_eq!(fresh["complete_pct"], 100.0, "{fresh}");
    assert_eq!(fresh["upstream_count"], local.len());
    assert!(fresh["verified_at"].is_number());
    t.stop().await;
}

#[tokio::test]
async fn many_changes_in_one_second_across_pages_are_all_applied() {
    let t = pulled().await;
    let ids = t.sim.product_ids(Some("publish"));
    // More changes than one page of 100... the small sim has ~50 products,
    // so stocks and prices of each, twice, in the same instant.
    for (n, id) in ids.iter().enumerate() {
        t.sim.set_product_stock(*id, 1000 + n as i64);
    }
    cycle(&t).await;
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(stock(&t, *id).await, Some(1000 + n as i64), "product {id}");
    }
    // The same second again, after the cursor moved to it.
    for (n, id) in ids.iter().enumerate() {
        t.sim.set_product_stock(*id, 2000 + n as i64);
    }
    cycle(&t).await;
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(stock(&t, *id).await, Some(2000 + n as i64), "product {id}");
    }
    t.stop().await;
}

#[tokio::test]
async fn a_store_clock_five_minutes_off_loses_nothing() {
    for offset in [-300, 300] {
        let t = pulled().await;
        t.sim.set_clock_offset(offset);
        let ids = simple_ids(&t).await;
        t.sim.set_product_price(ids[0], "11.11");
        cycle(&t).await;
        assert_eq!(
            regular_price(&t, ids[0]).await.as_deref(),
            Some("11.11"),
            "offset {offset}"
        );
        t.sim.set_product_price(ids[1], "22.22");
        cycle(&t).await;
        assert_eq!(
            regular_price(&t, ids[1]).await.as_deref(),
            Some("22.22"),
            "offset {offset}, second cycle"
        );
        t.stop().await;
    }
}

#[tokio::test]
async fn a_lost_local_row_is_restored_by_the_sweep() {
    let t = pulled().await;
    let id = t.replica_ids(Resource::Customers).await[0];
    t.store()
        .write(move |tx| {
            tx.execute("DELETE FROM customers WHERE id = ?1", [id])?;
            Ok(())
        })
        .await
        .unwrap();
    cycle(&t).await;
    assert!(t.replica_ids(Resource::Customers).await.contains(&id));
    assert_eq!(
        t.replica_ids(Resource::Customers).await,
        t.sim.customer_ids()
    );
    t.stop().await;
}

#[tokio::test]
async fn the_scheduler_polls_on_its_own_and_resumes_after_an_outage() {
    let t = TestApp::spawn(small_sim(), |c| {
        let s = &mut c.sync.schedule;
        (s.products, s.variations, s.orders) = (
            Duration::from_secs(1),
            Duration::from_secs(1),
            Duration::from_secs(1),
        );
    })
    .await;
    assert_completed(&t.pulled().await);
    let id = simple_ids(&t).await[0];
    t.sim.set_product_price(id, "31.00");
    wait_for("a scheduled poll", Duration::from_secs(20), || async {
        (regular_price(&t, id).await.as_deref() == Some("31.00")).then_some(())
    })
    .await;

    // The shop drops every connection for a while, then comes back.
    t.sim.inject(FaultRule {
        method: None,
        path_contains: None,
        fault: FaultKind::Reset,
        times: 30,
    });
    t.sim.set_product_price(id, "32.00");
    wait_for(
        "the outage to be noticed",
        Duration::from_secs(30),
        || async {
            t.sim
                .requests()
                .iter()
                .filter(|r| r.fault == Some(FaultKind::Reset))
                .count()
                .eq(&30)
                .then_some(())
        },
    )
    .await;
    wait_for(
        "the change made during the outage",
        Duration::from_secs(20),
        || async { (regular_price(&t, id).await.as_deref() == Some("32.00")).then_some(()) },
    )
    .await;
    t.stop().await;
}

#[tokio::test]
async fn a_record_modified_while_the_poll_pages_is_picked_up_by_the_next_cycle() {
    let t = TestApp::spawn(
        possync_sim::woo::SimConfig {
            products: 260,
            customers: 5,
            orders: 5,
            ..small_sim()
        },
        |c| {
            c.sync.page_size = 100;
            c.sync.schedule.jitter = 0.0;
            for d in [
                &mut c.sync.schedule.products,
                &mut c.sync.schedule.variations,
                &mut c.sync.schedule.orders,
                &mut c.sync.schedule.customers,
                &mut c.sync.schedule.metadata,
                &mut c.sync.schedule.sweep,
            ] {
                *d = Duration::from_secs(3600);
            }
        },
    )
    .await;
    assert_completed(&t.pulled().await);
    let ids = simple_ids(&t).await;
    assert!(ids.len() > 100, "enough to span pages: {}", ids.len());
    for id in &ids {
        t.sim.set_product_stock(*id, 500);
    }
    t.sim.set_latency(Duration::from_millis(150));
    t.sim.clear_requests();
    let first = ids[0];
    let poll = {
        let sim = &t.sim;
        async move {
            // Once page 2 of the products poll is asked for, page 1 (which
            // holds `first`) is behind the walk: change it now.
            wait_for("page 2 of the poll", Duration::from_secs(30), || async {
                sim.requests()
                    .iter()
                    .any(|r| {
                        r.path.ends_with("/wc/v3/products")
                            && r.query.iter().any(|(k, _)| k == "modified_after")
                            && r.query.iter().any(|(k, v)| k == "page" && v == "2")
                    })
                    .then_some(())
            })
            .await;
            sim.set_product_stock(first, 7);
        }
    };
    let products = Job::Poll(Resource::Products);
    tokio::join!(run(&t, products), poll);
    assert_eq!(stock(&t, ids[1]).await, Some(500));
    assert_eq!(stock(&t, first).await, Some(500), "missed by this walk");
    t.sim.set_latency(Duration::ZERO);
    cycle(&t).await;
    assert_eq!(
        stock(&t, first).await,
        Some(7),
        "picked up by the next cycle"
    );
    t.stop().await;
}

/// Requests for objects by id (`include=`) since the log was cleared, per
/// path.
fn fetched_by_id(t: &TestApp) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for r in t.sim.requests() {
        if let Some((_, ids)) = r.query.iter().find(|(k, _)| k == "include") {
            let n = ids.split(',').filter(|s| !s.is_empty()).count();
            match out.iter_mut().find(|(p, _)| *p == r.path) {
                Some(e) => e.1 += n,
                None => out.push((r.path.clone(), n)),
            }
        }
    }
    out
}

#[tokio::test]
async fn a_sweep_right_after_a_poll_fetches_nothing_the_poll_just_wrote() {
    let t = pulled().await;
    let orders = t.replica_ids(Resource::Orders).await;
    assert!(orders.len() >= 30, "{}", orders.len());
    for id in &orders[..30] {
        let (status, _) = t.sim.call(
            "PUT",
            &format!("orders/{id}"),
            serde_json::json!({"customer_note": "changed at the shop"}),
        );
        assert_eq!(status, 200);
    }
    let ids = simple_ids(&t).await;
    t.sim.set_product_price(ids[0], "12.34");
    run(&t, Job::Poll(Resource::Orders)).await;
    run(&t, Job::Poll(Resource::Products)).await;
    run(&t, Job::Poll(Resource::Variations)).await;
    run(&t, Job::Customers).await;

    t.sim.clear_requests();
    run(&t, Job::Sweep).await;
    assert_eq!(
        fetched_by_id(&t),
        vec![],
        "the sweep re-fetched what the polls wrote"
    );
    let (_, body) = t.get_json("/api/sync/status").await;
    for f in body["replica"]["freshness"].as_array().unwrap() {
        if f["complete_pct"].is_number() {
            assert_eq!(f["complete_pct"], 100.0, "{f}");
        }
    }
    t.stop().await;
}

/// Variations the shop lists (not trashed) whose parent is published.
fn mirrored_variations(t: &TestApp) -> (Vec<i64>, usize) {
    let published: std::collections::HashSet<i64> =
        t.sim.product_ids(Some("publish")).into_iter().collect();
    let mut listed = Vec::new();
    let mut others = 0;
    for id in t.sim.variation_ids(None) {
        let v = t.sim.variation(id).unwrap();
        if v["status"] == "trash" {
            continue;
        }
        if published.contains(&v["parent_id"].as_i64().unwrap()) {
            listed.push(id);
        } else {
            others += 1;
        }
    }
    listed.sort_unstable();
    (listed, others)
}

async fn orphans(t: &TestApp) -> i64 {
    t.store()
        .read(|c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM products v WHERE v.type = 'variation' AND NOT EXISTS
                 (SELECT 1 FROM products p WHERE p.id = v.parent_id AND p.type <> 'variation')",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap()
}

async fn variation_freshness(t: &TestApp) -> serde_json::Value {
    let (_, body) = t.get_json("/api/sync/status").await;
    body["replica"]["freshness"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"] == "variations")
        .unwrap()
        .clone()
}

#[tokio::test]
async fn variations_follow_their_parent_in_and_out_of_the_replica() {
    let t = pulled().await;
    let (expected, others) = mirrored_variations(&t);
    assert!(
        others > 0,
        "the shop has variations of unpublished products"
    );
    assert_eq!(
        orphans(&t).await,
        0,
        "the pull keeps no variation without its parent"
    );
    assert_eq!(t.replica_ids(Resource::Variations).await, expected);

    run(&t, Job::Sweep).await;
    let fresh = variation_freshness(&t).await;
    assert_eq!(fresh["upstream_count"], expected.len(), "{fresh}");
    assert_eq!(fresh["complete_pct"], 100.0, "{fresh}");
    assert_eq!(t.replica_ids(Resource::Variations).await, expected);

    // The shop trashes a variable product: its variations leave with it.
    let parent = t.sim.variation(expected[0]).unwrap()["parent_id"]
        .as_i64()
        .unwrap();
    t.sim.trash_product(parent);
    cycle(&t).await;
    let (expected, _) = mirrored_variations(&t);
    assert_eq!(orphans(&t).await, 0);
    assert_eq!(t.replica_ids(Resource::Variations).await, expected);
    assert!(
        t.sim
            .variation_ids(Some(parent))
            .iter()
            .all(|v| !expected.contains(v))
    );

    // Published again, it comes back with its variations.
    assert!(t.sim.restore_product(parent));
    t.sim
        .update_product(parent, serde_json::json!({"status": "publish"}))
        .unwrap();
    cycle(&t).await;
    let (expected, _) = mirrored_variations(&t);
    assert!(!t.sim.variation_ids(Some(parent)).is_empty());
    assert_eq!(t.replica_ids(Resource::Variations).await, expected);
    assert_eq!(variation_freshness(&t).await["complete_pct"], 100.0);
    t.stop().await;
}
