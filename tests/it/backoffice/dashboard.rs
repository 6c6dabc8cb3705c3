//! The status page's JSON (`/api/sync/status`) as the dashboard reads it:
//! the shop reachable, the outbox per state, and the age of the oldest
//! sale the shop has not confirmed, counted down to
//! `till.offline_limit_hours` (amber past half, red past the limit).

use serde_json::Value;

use super::Shop;
use possync::domain::time::unix_millis_now;
use possync::store::outbox;

const HOUR_MS: i64 = 3_600_000;

/// The dashboard's JSON, as the manager's page asks for it.
pub async fn status(shop: &Shop) -> Value {
    let (code, body) = shop.page("/api/sync/status").await;
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Queues a copy of the newest outbox entry as if it had been made
/// `age_ms` ago (the agent is deactivated: nothing sends it).
pub async fn backdate_copy(shop: &Shop, label: &str, age_ms: i64) {
    let label = label.to_owned();
    shop.app
        .store()
        .write(move |tx| {
            let newest = outbox::list(tx, None, 1)?.remove(0);
            outbox::enqueue(
                tx,
                &newest.payload,
                &format!("{}-old", newest.subject),
                &label,
                None,
                unix_millis_now() - age_ms,
            )?;
            Ok(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn the_dashboard_counts_down_the_oldest_unconfirmed_sale() {
    let shop = Shop::spawn(&[("POSSYNC_TILL_OFFLINE_LIMIT_HOURS", "10")]).await;
    shop.pulled().await;

    // Nothing waits yet; the shop has answered the pull.
    let s = status(&shop).await;
    assert_eq!(s["offline"]["state"], "none", "{s}");
    assert_eq!(s["offline"]["limit_hours"], 10);
    assert_eq!(s["shop"]["reachable"], true, "{s}");
    assert!(s["shop"]["last_ok_at"].as_i64().is_some());
    assert_eq!(s["outbox"]["queued"], 0);

    // A sale while deactivated stays unconfirmed: the countdown starts.
    let (code, _) = shop.post_form("/instance/deactivate", &[]).await;
    assert_eq!(code, 303);
    let sale = shop.sell().await;
    let number = sale["number"].as_str().unwrap();
    let s = status(&shop).await;
    assert_eq!(s["offline"]["state"], "ok", "{s}");
    assert!(
        s["offline"]["label"].as_str().unwrap().contains(number),
        "{s}"
    );
    let remaining = s["offline"]["remaining_ms"].as_i64().unwrap();
    assert!(remaining <= 10 * HOUR_MS && remaining > 9 * HOUR_MS, "{s}");
    assert_eq!(s["outbox"]["queued"], 1, "{s}");

    // Six hours old: past half of the ten-hour limit.
    backdate_copy(&shop, "sale OLD-6H", 6 * HOUR_MS).await;
    let s = status(&shop).await;
    assert_eq!(s["offline"]["state"], "amber", "{s}");
    assert_eq!(s["offline"]["label"], "sale OLD-6H");

    // Eleven hours old: past the limit, the remaining time negative.
    backdate_copy(&shop, "sale OLD-11H", 11 * HOUR_MS).await;
    let s = status(&shop).await;
    assert_eq!(s["offline"]["state"], "red", "{s}");
    assert_eq!(s["offline"]["label"], "sale OLD-11H");
    assert!(s["offline"]["remaining_ms"].as_i64().unwrap() < 0, "{s}");
    assert_eq!(s["outbox"]["queued"], 3, "{s}");
    shop.stop().await;
}

#[tokio::test]
async fn the_dashboard_lists_webhooks_operations_and_errors_with_advice() {
    let shop = Shop::spawn(&[]).await;
    shop.pulled().await;
    let s = status(&shop).await;
    assert!(s["subscriptions"].as_array().unwrap().is_empty(), "{s}");
    assert!(s["errors"].is_array(), "{s}");
    assert!(s["operations"]["running"].is_null(), "{s}");
    for e in s["errors"].as_array().unwrap() {
        assert!(!e["advice"].as_str().unwrap().is_empty(), "{e}");
    }
    // The status page carries the dashboard's places.
    let (_, page) = shop.page("/").await;
    for id in [
        "shop-reach",
        "offline-countdown",
        "outbox-depth",
        "subscriptions",
        "errors",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
    }
    shop.stop().await;
}
