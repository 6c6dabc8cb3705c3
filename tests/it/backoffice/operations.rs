//! The operations page: pull given ids, the sweep, one operation at a
//! time, refusals of bad input and of a deactivated agent, and the
//! webhook subscriptions installed, paused, resumed and removed at the
//! simulated shop with its answer shown.

use std::time::Duration;

use serde_json::{Value, json};

use super::dashboard::status;
use super::{Shop, first_product};
use crate::common::wait_for;

/// Waits until no operation runs and one has ended; returns how.
async fn finished(shop: &Shop) -> Value {
    wait_for("the operation to end", Duration::from_secs(60), || async {
        let s = status(shop).await;
        let ops = s["operations"].clone();
        (ops["running"].is_null() && !ops["last"].is_null()).then_some(ops["last"].clone())
    })
    .await
}

async fn events(shop: &Shop) -> Vec<String> {
    status(shop).await["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn pull_by_ids_brings_a_product_changed_at_the_shop() {
    let shop = Shop::spawn(&[]).await;
    shop.pulled().await;
    let id = first_product(shop.app.store(), false).await;
    shop.sim
        .update_product(id, json!({"name": "Renamed at the shop"}))
        .unwrap();

    let (code, page) = shop
        .post_form(
            "/operations/pull-ids",
            &[("resource", "products"), ("ids", &id.to_string())],
        )
        .await;
    assert_eq!(code, 303, "{page}");
    assert!(page.contains("Started: pull products"), "{page}");
    let last = finished(&shop).await;
    assert_eq!(last["ok"], true, "{last}");
    assert!(
        last["message"].as_str().unwrap().contains("1 fetched"),
        "{last}"
    );
    let name: String = shop
        .app
        .store()
        .read(move |c| {
            Ok(
                c.query_row("SELECT name FROM products WHERE id = ?1", [id], |r| {
                    r.get(0)
                })?,
            )
        })
        .await
        .unwrap();
    assert_eq!(name, "Renamed at the shop");
    assert!(
        events(&shop)
            .await
            .iter()
            .any(|m| m.starts_with(&format!("pull products {id}: done"))),
        "the event log has the operation's line"
    );
    shop.stop().await;
}

#[tokio::test]
async fn the_sweep_runs_and_logs_and_a_second_operation_meanwhile_is_refused() {
    let shop = Shop::spawn(&[]).await;
    shop.pulled().await;
    // A slow shop keeps the sweep running while the second click comes.
    shop.sim.set_latency(Duration::from_millis(300));
    let (code, page) = shop.post_form("/operations/sweep", &[]).await;
    assert_eq!(code, 303, "{page}");
    let (code, page) = shop
        .post_form(
            "/operations/pull-ids",
            &[("resource", "orders"), ("ids", "1")],
        )
        .await;
    assert_eq!(code, 409, "{page}");
    assert!(
        page.contains("Not started: completeness sweep is running; wait for it to finish."),
        "{page}"
    );
    let (_, fragment) = shop.page("/operations/progress").await;
    assert!(fragment.contains("completeness sweep"), "{fragment}");
    shop.sim.set_latency(Duration::ZERO);
    let last = finished(&shop).await;
    assert_eq!(last["ok"], true, "{last}");
    assert!(
        events(&shop)
            .await
            .iter()
            .any(|m| m.starts_with("completeness sweep: done")),
        "the event log has the sweep's line"
    );
    shop.stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_with_the_reason_and_starts_nothing() {
    let shop = Shop::spawn(&[]).await;
    shop.pulled().await;
    let many: Vec<String> = (1..=101).map(|i| i.to_string()).collect();
    let many = many.join(",");
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: [Case; 4] = [
        (
            "/operations/pull-ids",
            vec![("resource", "coupons"), ("ids", "1")],
            "resource must be one of products, variations, customers, orders",
        ),
        (
            "/operations/pull-ids",
            vec![("resource", "products"), ("ids", "12, abc")],
            "ids must be positive whole numbers (got &#34;abc&#34;)",
        ),
        (
            "/operations/pull-ids",
            vec![("resource", "products"), ("ids", &many)],
            "ids may name at most 100 at once (got 101)",
        ),
        (
            "/operations/pull-since",
            vec![("since", "31/01/2026")],
            "since must be a date such as 2026-01-31",
        ),
    ];
    for (path, fields, message) in cases {
        let (code, page) = shop.post_form(path, &fields).await;
        assert_eq!(code, 422, "{path} {fields:?}: {page}");
        assert!(page.contains(message), "{message}: {page}");
    }
    let s = status(&shop).await;
    assert!(
        s["operations"]["running"].is_null() && s["operations"]["last"].is_null(),
        "{s}"
    );

    // Deactivated: refused with the reason.
    let (code, _) = shop.post_form("/instance/deactivate", &[]).await;
    assert_eq!(code, 303);
    let (code, page) = shop.post_form("/operations/pull-all", &[]).await;
    assert_eq!(code, 409, "{page}");
    assert!(
        page.contains("Not started: the agent is deactivated"),
        "{page}"
    );
    shop.stop().await;
}

#[tokio::test]
async fn webhooks_are_installed_paused_resumed_and_removed_from_the_page() {
    let shop = Shop::spawn(&[]).await;
    shop.pulled().await;
    let public = shop.app.url();
    let (code, page) = shop
        .post_form("/operations/webhooks/install", &[("public_url", &public)])
        .await;
    assert_eq!(code, 303, "{page}");
    assert!(page.contains("Deliveries go to"), "{page}");
    assert!(page.contains("created"), "{page}");
    let s = status(&shop).await;
    let ids: Vec<i64> = s["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect();
    assert!(!ids.is_empty(), "{s}");
    for id in &ids {
        assert_eq!(shop.sim.webhook_status(*id).as_deref(), Some("active"));
    }

    let (code, page) = shop.post_form("/operations/webhooks/pause", &[]).await;
    assert_eq!(code, 303, "{page}");
    assert!(
        page.contains(&format!("{} subscriptions paused. At the shop:", ids.len())),
        "{page}"
    );
    for id in &ids {
        assert_eq!(shop.sim.webhook_status(*id).as_deref(), Some("paused"));
    }
    let (code, page) = shop.post_form("/operations/webhooks/resume", &[]).await;
    assert_eq!(code, 303, "{page}");
    assert!(
        page.contains("subscriptions resumed. At the shop:"),
        "{page}"
    );
    for id in &ids {
        assert_eq!(shop.sim.webhook_status(*id).as_deref(), Some("active"));
    }
    let (code, page) = shop.post_form("/operations/webhooks/remove", &[]).await;
    assert_eq!(code, 303, "{page}");
    assert!(
        page.contains("subscriptions removed from the shop."),
        "{page}"
    );
    for id in &ids {
        assert_eq!(shop.sim.webhook_status(*id), None);
    }

    // A public URL that is not one: refused, nothing installed.
    let (code, page) = shop
        .post_form(
            "/operations/webhooks/install",
            &[("public_url", "ftp://till")],
        )
        .await;
    assert_eq!(code, 422, "{page}");
    assert!(
        page.contains("Nothing was installed: the public URL must start with https:// or http://"),
        "{page}"
    );
    shop.stop().await;
}
