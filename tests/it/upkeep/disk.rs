//! A full disk (simulated with `PRAGMA max_page_count` on the replica's
//! writer): a sale gets 507 and writes nothing, lookups keep answering,
//! the event is recorded, and everything resumes once there is space.

use std::time::Duration;

use possync::domain::Resource;
use possync::store::{Store, dump};
use possync::sync::progress::PullProgress;
use possync::sync::pull::{self, PullOptions};
use possync::upstream::woo::client::WooClient;
use possync_sim::woo::Sim;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::common::{agent_config, small_sim, wait_for};
use crate::outbox::{offline, sale, till};

/// Caps the replica at its current size plus `extra_pages`.
async fn cap_replica(store: &Store, extra_pages: i64) {
    store
        .write(move |tx| {
            let pages: i64 = tx.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            let _: i64 = tx.query_row(
                &format!("PRAGMA max_page_count = {}", pages + extra_pages),
                [],
                |r| r.get(0),
            )?;
            Ok(())
        })
        .await
        .unwrap();
}

async fn uncap_replica(store: &Store) {
    store
        .write(|tx| {
            let _: i64 = tx.query_row("PRAGMA max_page_count = 1073741823", [], |r| r.get(0))?;
            Ok(())
        })
        .await
        .unwrap();
}

async fn count(store: &Store, sql: &'static str) -> i64 {
    store
        .read(move |c| Ok(c.query_row(sql, [], |r| r.get(0))?))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_full_disk_refuses_sales_with_507_keeps_lookups_and_recovers() {
    let (t, shelf) = till(|_| {}).await;
    offline(&t.sim);
    cap_replica(t.store(), 0).await;
    // Sell until the replica cannot grow: sales fill the pages' free room
    // first, then one needs a new page.
    let mut accepted = 0;
    let refused = loop {
        let (status, body) = t.post_json("/api/orders", sale(shelf.mug, 1)).await;
        match status {
            201 => accepted += 1,
            _ => break (status, body),
        }
        assert!(accepted < 2000, "the replica never filled up");
    };
    assert_eq!(refused.0, 507, "{}", refused.1);
    assert_eq!(refused.1["error"]["code"], "disk_full");
    let message = refused.1["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("disk is full: nothing was written"),
        "{message}"
    );
    assert_eq!(
        count(t.store(), "SELECT COUNT(*) FROM local_orders").await,
        accepted,
        "the refused sale left nothing"
    );
    assert_eq!(
        count(t.store(), "SELECT COUNT(*) FROM outbox").await,
        accepted
    );
    // Lookups still answer from the replica.
    let (status, product) = t.get_json(&format!("/api/products/{}", shelf.mug)).await;
    assert_eq!(status, 200, "{product}");

    uncap_replica(t.store()).await;
    let (status, _) = t.post_json("/api/orders", sale(shelf.mug, 1)).await;
    assert_eq!(status, 201);
    let event = wait_for("the disk-full event", Duration::from_secs(10), || async {
        t.store()
            .read(|c| {
                Ok(c.query_row(
                    "SELECT message FROM events WHERE kind = 'disk_full'",
                    [],
                    |r| r.get::<_, String>(0),
                )
                .ok())
            })
            .await
            .unwrap()
    })
    .await;
    assert!(event.contains("write(s) refused"), "{event}");
    let (_, status_page) = t.get_json("/api/sync/status").await;
    assert!(
        status_page.to_string().contains("disk_full"),
        "the event is on the page: {status_page}"
    );
    t.stop().await;
}

#[tokio::test]
async fn a_pull_that_meets_a_full_disk_stops_cleanly_and_resumes() {
    let sim = Sim::spawn(small_sim()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = agent_config(&sim, dir.path());
    let client = WooClient::new(config.store.as_ref().unwrap()).unwrap();
    let opts = PullOptions::from_config(&config.sync);
    let token = CancellationToken::new();
    let (tx, _rx) = watch::channel(PullProgress::default());

    let store = Store::open(&dir.path().join("replica.db")).unwrap();
    cap_replica(&store, 20).await;
    let stopped = pull::run(&client, &store, &opts, &tx, &token).await;
    let err = stopped.expect_err("the pull cannot fit in 20 pages");
    assert!(err.to_string().contains("disk is full"), "{err}");
    let partial = count(&store, "SELECT COUNT(*) FROM products").await;

    uncap_replica(&store).await;
    pull::run(&client, &store, &opts, &tx, &token)
        .await
        .expect("the pull resumes and completes");

    // The same replica as a pull that never met a full disk.
    let clean = Store::open(&dir.path().join("clean").join("replica.db")).unwrap();
    pull::run(&client, &clean, &opts, &tx, &token)
        .await
        .unwrap();
    for resource in [Resource::Products, Resource::Customers, Resource::Orders] {
        let got = store
            .read(move |c| dump::raw_rows(c, resource))
            .await
            .unwrap();
        let want = clean
            .read(move |c| dump::raw_rows(c, resource))
            .await
            .unwrap();
        assert_eq!(got, want, "{resource}");
    }
    assert!(
        (partial as usize)
            < store
                .read(|c| dump::raw_rows(c, Resource::Products))
                .await
                .unwrap()
                .len(),
        "stopped midway"
    );
    sim.shutdown().await;
}
