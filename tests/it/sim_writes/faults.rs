//! Write faults: rules that match a method, a commit followed by a dropped
//! connection or a late answer, and 5xx/429 bursts that never reach the
//! store.

use std::time::Duration;

use possync_sim::woo::{FaultKind, FaultRule};
use serde_json::json;

use super::spawn;

fn sale(key: &str) -> serde_json::Value {
    json!({"status": "processing", "line_items": [{"sku": "FAULT-SKU", "quantity": 1}],
           "meta_data": [{"key": "possync_key", "value": key}]})
}

#[tokio::test]
async fn sim_writes_commit_before_the_connection_drops_or_the_answer_is_late() {
    let (sim, mut c) = spawn().await;
    sim.add_simple_product("Fault", "FAULT-SKU", "5.00", Some(10));
    sim.inject(
        FaultRule::new(FaultKind::Reset)
            .path("/orders")
            .method("POST"),
    );
    // A GET on the same path does not match the rule.
    assert_eq!(c.get("orders", &[]).await.status, 200);
    assert!(
        c.try_write("POST", "orders", &[], Some(&sale("reset")))
            .await
            .is_err()
    );
    assert_eq!(
        sim.order_ids_with_meta("possync_key", "reset").len(),
        1,
        "committed"
    );
    assert_eq!(
        sim.product_stock(sim.product_ids(None).into_iter().max().unwrap()),
        Some(9)
    );

    sim.inject(FaultRule::new(FaultKind::SlowAnswer { delay_ms: 2_000 }).method("POST"));
    c.http = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = c
        .try_write("POST", "orders", &[], Some(&sale("slow")))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(
        sim.order_ids_with_meta("possync_key", "slow").len(),
        1,
        "committed"
    );
}

#[tokio::test]
async fn sim_error_bursts_hit_only_the_targeted_writes_and_change_nothing() {
    let (sim, c) = spawn().await;
    sim.add_simple_product("Fault", "FAULT-SKU", "5.00", Some(10));
    sim.inject(
        FaultRule::new(FaultKind::BadGateway)
            .path("/orders")
            .method("post")
            .times(2),
    );
    sim.inject(
        FaultRule::new(FaultKind::TooManyRequests {
            retry_after_secs: 3,
        })
        .path("/orders")
        .method("POST"),
    );
    for _ in 0..2 {
        assert!(c.write("POST", "orders", Some(&sale("burst"))).await.status >= 502);
    }
    let r = c.write("POST", "orders", Some(&sale("burst"))).await;
    assert_eq!(
        (r.status, r.header("retry-after")),
        (429, Some("3".to_owned()))
    );
    assert!(sim.order_ids_with_meta("possync_key", "burst").is_empty());
    assert_eq!(
        c.write("POST", "orders", Some(&sale("burst"))).await.status,
        201
    );
    assert_eq!(sim.order_ids_with_meta("possync_key", "burst").len(), 1);
    let posts = sim.requests_with_method("POST");
    let faults: Vec<_> = posts.iter().map(|r| r.fault.is_some()).collect();
    assert_eq!(faults, [true, true, true, false]);
}
