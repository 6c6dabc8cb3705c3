//! Subscriptions against the simulated store: install is idempotent, the
//! shop's deliveries reach the replica, a subscription the shop disabled is
//! re-enabled with an event, pause/resume/remove do what they say.

use std::time::Duration;

use possync::domain::webhooks::{SubscriptionStatus, Topic};
use possync::store::events;
use possync::sync::webhooks::check_subscriptions;
use possync::sync::webhooks::subscriptions::{self, Installed};
use possync::upstream::WebhookAdmin;
use possync::upstream::woo::client::WooClient;
use possync_sim::woo::SimResource;
use serde_json::{Value, json};

use super::PATH;
use crate::common::{TestApp, assert_completed, small_sim, wait_for};

#[tokio::test]
async fn install_is_idempotent_deliveries_apply_and_a_disabled_hook_is_reenabled() {
    let t = TestApp::spawn(small_sim(), |_| {}).await;
    assert_completed(&t.pulled().await);
    let cfg = crate::common::agent_config(&t.sim, t.dir.path());
    let client = WooClient::new(cfg.store.as_ref().unwrap()).unwrap();
    let store = t.store().clone();
    let url = format!("{}{PATH}", t.app.url());

    let first = subscriptions::install(&client, &store, &url).await.unwrap();
    assert_eq!(first.len(), 11, "every topic but customer.restored");
    assert!(
        first.iter().all(|(_, w)| *w == Installed::Created),
        "{first:?}"
    );
    let again = subscriptions::install(&client, &store, &url).await.unwrap();
    assert!(
        again.iter().all(|(_, w)| *w == Installed::Unchanged),
        "{again:?}"
    );
    let hooks = t.sim.snapshot_json(SimResource::Webhooks);
    assert_eq!(hooks.len(), 11, "no duplicate subscriptions");
    assert!(hooks.iter().all(|h| h["delivery_url"] == url.as_str()));
    t.sim.deliveries_settled().await;
    assert!(
        t.sim
            .deliveries()
            .iter()
            .all(|d| d.outcome == possync_sim::woo::DeliveryOutcome::Status(200)),
        "pings answered 200"
    );

    // The shop changes a product; its delivery reaches the replica.
    let id = t.sim.product_ids(Some("publish"))[0];
    t.sim
        .update_product(id, json!({"name": "Renamed at the shop"}))
        .unwrap();
    let store2 = store.clone();
    wait_for(
        "the webhook to update the replica",
        Duration::from_secs(10),
        || {
            let store = store2.clone();
            async move {
                let rows = store
                    .read(|c| {
                        possync::store::dump::raw_rows(c, possync::domain::Resource::Products)
                    })
                    .await
                    .unwrap();
                rows.iter()
                    .find(|(k, _)| *k == id.to_string())
                    .map(|(_, raw)| serde_json::from_str::<Value>(raw).unwrap())
                    .filter(|v| v["name"] == "Renamed at the shop")
            }
        },
    )
    .await;
    // The outcome is recorded in the inbox just after the replica's commit.
    let stats = wait_for(
        "the delivery's outcome in the inbox",
        Duration::from_secs(10),
        || {
            let store = store2.clone();
            async move {
                let s = store.inbox().stats(5).await.unwrap();
                (s.received >= 1 && s.waiting == 0).then_some(s)
            }
        },
    )
    .await;
    assert!(stats.applied >= 1 && stats.failed == 0, "{stats:?}");

    // The shop disables one after failures; the hourly check re-enables it.
    let hook = hooks[0]["id"].as_i64().unwrap();
    assert!(t.sim.set_webhook_status(hook, "disabled"));
    let report = check_subscriptions(&client, &store).await.unwrap();
    assert_eq!(report.reenabled, 1, "{report:?}");
    assert_eq!(t.sim.webhook_status(hook).as_deref(), Some("active"));
    let recent = store.read(|c| events::recent(c, 10)).await.unwrap();
    assert!(
        recent
            .iter()
            .any(|e| e.kind == "webhook_subscription" && e.message.contains("re-enabled")),
        "{recent:?}"
    );

    // Pause, resume, list, remove.
    assert_eq!(
        subscriptions::set_all(&client, &store, SubscriptionStatus::Paused)
            .await
            .unwrap(),
        11
    );
    assert_eq!(t.sim.webhook_status(hook).as_deref(), Some("paused"));
    assert_eq!(
        check_subscriptions(&client, &store).await.unwrap().paused,
        11,
        "a paused hook is left paused"
    );
    subscriptions::set_all(&client, &store, SubscriptionStatus::Active)
        .await
        .unwrap();
    let listed = subscriptions::list(&client, &store).await.unwrap();
    assert!(
        listed
            .iter()
            .all(|s| s.upstream_status == Some(SubscriptionStatus::Active))
    );
    assert_eq!(
        subscriptions::remove_all(&client, &store).await.unwrap(),
        11
    );
    assert!(t.sim.snapshot_json(SimResource::Webhooks).is_empty());
    assert!(
        subscriptions::list(&client, &store)
            .await
            .unwrap()
            .is_empty()
    );
    t.stop().await;
}

#[tokio::test]
async fn a_refused_topic_is_reported_and_skipped_and_a_rerun_completes_a_partial_install() {
    let t = TestApp::spawn(small_sim(), |_| {}).await;
    assert_completed(&t.pulled().await);
    let cfg = crate::common::agent_config(&t.sim, t.dir.path());
    let client = WooClient::new(cfg.store.as_ref().unwrap()).unwrap();
    let store = t.store().clone();
    let url = format!("{}{PATH}", t.app.url());

    // Asked for every topic, the shop refuses the one no hook delivers, as
    // WooCommerce 11 does; the install goes on with the others.
    let first = subscriptions::install_topics(&client, &store, &url, &Topic::all())
        .await
        .unwrap();
    assert_eq!(first.len(), 12);
    let refused: Vec<_> = first
        .iter()
        .filter(|(_, w)| matches!(w, Installed::Refused { .. }))
        .collect();
    assert_eq!(refused.len(), 1, "{first:?}");
    assert_eq!(refused[0].0.to_string(), "customer.restored");
    assert_eq!(
        refused[0].1,
        Installed::Refused {
            code: "woocommerce_rest_shop_webhook_invalid_topic".into(),
            message: "Webhook topic is required and must be valid.".into(),
        }
    );
    assert!(refused[0].1.describe().starts_with("could not create"));
    assert_eq!(t.sim.snapshot_json(SimResource::Webhooks).len(), 11);

    // Two subscriptions go missing on the shop (a partial install); a re-run
    // creates those two and reuses the rest.
    let hooks = t.sim.snapshot_json(SimResource::Webhooks);
    for h in &hooks[..2] {
        client
            .delete_webhook(h["id"].as_i64().unwrap())
            .await
            .unwrap();
    }
    let again = subscriptions::install(&client, &store, &url).await.unwrap();
    let created = again
        .iter()
        .filter(|(_, w)| *w == Installed::Created)
        .count();
    let reused = again
        .iter()
        .filter(|(_, w)| *w == Installed::Unchanged)
        .count();
    assert_eq!((created, reused), (2, 9), "{again:?}");
    assert_eq!(t.sim.snapshot_json(SimResource::Webhooks).len(), 11);
    let listed = subscriptions::list(&client, &store).await.unwrap();
    assert_eq!(
        listed.len(),
        11,
        "the lost subscriptions' records are replaced"
    );
    assert!(
        listed
            .iter()
            .all(|s| s.upstream_status == Some(SubscriptionStatus::Active)),
        "{listed:?}"
    );
    t.stop().await;
}
