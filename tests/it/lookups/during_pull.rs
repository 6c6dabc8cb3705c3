//! Lookups are answered while a full pull writes and a burst of webhook
//! deliveries arrives: reads use their own connections (WAL) and never wait
//! for the writer.

use std::time::{Duration, Instant};

use possync::sync::progress::PullState;
use possync_sim::woo::{FaultConfig, Sim, SimConfig};

use crate::common::{TestApp, assert_completed, small_sim, wait_for};
use crate::webhooks::{HAND_SECRET, PATH, signed_headers};

/// Webhook deliveries sent while the pull runs.
const BURST: usize = 150;

/// A lookup slower than this during a pull means it waited for a write.
const MAX_LOOKUP: Duration = Duration::from_millis(500);

#[tokio::test]
async fn lookups_are_answered_during_a_full_pull() {
    // A slow shop, so the pull writes page after page for a while.
    let sim = Sim::spawn(SimConfig {
        products: 300,
        customers: 150,
        orders: 200,
        faults: FaultConfig {
            latency: Duration::from_millis(15),
            ..FaultConfig::default()
        },
        ..small_sim()
    })
    .await
    .unwrap();
    let torch = sim.add_simple_product("Crème Brûlée Torch", "CRB-Torch-1", "12.50", Some(7));
    let product = sim.product(torch).expect("the torch exists");
    let t = TestApp::spawn_with_sim(sim, |c| {
        c.webhooks.secret = Some(secrecy::SecretString::from(HAND_SECRET.to_owned()));
    })
    .await;
    let progress = t.app.progress();
    wait_for("the pull to start", Duration::from_secs(10), || {
        let state = progress.borrow().state;
        async move { (state != PullState::Idle).then_some(()) }
    })
    .await;

    let paths = [
        "/api/products?q=torch",
        "/api/products?sku=crb-torch-1",
        "/api/products?barcode=5000000000001",
        "/api/customers?q=a",
        "/api/orders?q=1",
        "/api/pickups",
    ];
    // A burst of signed deliveries, sent while the lookups below run.
    let burst = {
        let http = t.http.clone();
        let url = format!("{}{PATH}", t.app.url());
        let body = serde_json::to_vec(&product).unwrap();
        tokio::spawn(async move {
            let mut statuses = Vec::with_capacity(BURST);
            for _ in 0..BURST {
                let mut req = http.post(&url).body(body.clone());
                for (k, v) in signed_headers("product.updated", &body, HAND_SECRET) {
                    req = req.header(k, v);
                }
                statuses.push(req.send().await.map(|r| r.status().as_u16()).unwrap_or(0));
            }
            statuses
        })
    };
    let mut answered_during_pull = 0;
    let mut worst = Duration::ZERO;
    let mut last_total = 0;
    while progress.borrow().state == PullState::Running {
        for path in paths {
            let started = Instant::now();
            let (status, body) = t.get_json(path).await;
            let took = started.elapsed();
            // A first pull builds the name-search index when the catalog
            // is in, and says so until then.
            let building = path.starts_with("/api/products?q=")
                && status == 503
                && body["error"]["code"] == "search_index_building";
            assert!(
                status == 200 || building,
                "GET {path} during the pull: {status} {body}"
            );
            worst = worst.max(took);
            if progress.borrow().state == PullState::Running {
                answered_during_pull += 1;
            }
        }
        // What a till sees only grows while the catalog arrives.
        let (_, all) = t.get_json("/api/products?per_page=1").await;
        let total = all["total"].as_i64().unwrap();
        assert!(total >= last_total, "{total} < {last_total}");
        last_total = total;
    }
    assert_completed(&t.pulled().await);
    let statuses = burst.await.unwrap();
    assert!(
        statuses.iter().all(|s| *s == 200),
        "every delivery of the burst is taken: {statuses:?}"
    );
    assert!(
        answered_during_pull >= 20,
        "only {answered_during_pull} lookups were answered while the pull ran"
    );
    assert!(
        worst < MAX_LOOKUP,
        "a lookup took {worst:?} during the pull"
    );
    // And once it is over, the product that arrived is found.
    let (_, page) = t.get_json("/api/products?sku=CRB-TORCH-1").await;
    assert_eq!(page["items"][0]["id"], torch);
    t.stop().await;
}
