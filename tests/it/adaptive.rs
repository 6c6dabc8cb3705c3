//! `sync.concurrency = "auto"` against a shop with a handful of workers:
//! the pull completes as with a pinned number, while the shop's queue (what
//! its own shoppers wait behind) stays short.

use std::time::Duration;

use possync::config::AUTO_CONCURRENCY;
use possync::domain::Resource;
use possync_sim::woo::{ServerModel, SimConfig};

use crate::common::{TestApp, assert_completed, small_sim};

fn two_worker_shop() -> SimConfig {
    SimConfig {
        products: 200,
        customers: 5,
        orders: 5,
        server: ServerModel {
            workers: 2,
            service: Duration::from_millis(30),
            front_page: Duration::ZERO,
        },
        ..small_sim()
    }
}

/// Pulls the shop with `concurrency` (and a ceiling of 16); returns the
/// most requests that waited for a worker at once.
async fn pull(concurrency: usize) -> usize {
    let t = TestApp::spawn(two_worker_shop(), |c| {
        c.sync.concurrency = concurrency;
        c.sync.max_concurrency = 16;
    })
    .await;
    assert_completed(&t.pulled().await);
    assert_eq!(
        t.replica_ids(Resource::Products).await,
        t.sim.product_ids(Some("publish")),
        "the whole catalog is pulled"
    );
    let queued = t.sim.server_stats().peak_queued;
    t.stop().await;
    queued
}

#[tokio::test]
async fn auto_concurrency_keeps_the_shops_queue_short() {
    let pinned = pull(16).await;
    let auto = pull(AUTO_CONCURRENCY).await;
    assert!(
        pinned >= 8,
        "16 at once on 2 workers queues most of them: {pinned}"
    );
    assert!(
        auto * 2 <= pinned,
        "auto: at most {auto} waited at the shop (pinned 16: {pinned})"
    );
}
