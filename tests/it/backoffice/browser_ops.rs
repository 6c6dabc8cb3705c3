//! The dashboard and the operations page in headless Chromium: the
//! countdown of a sale made offline, and a product changed at the shop
//! brought in by a pull of its id. Screenshots go to
//! `target/test-artifacts/backoffice/`; without Chromium the test says so
//! and passes.

use fantoccini::Locator;
use serde_json::json;

use super::Shop;
use super::browser::{artifacts, click, log_in, type_keys, wait_text};
use super::dashboard::backdate_copy;
use super::first_product;
use crate::security::browser::Browser;

const HOUR_MS: i64 = 3_600_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_countdown_and_a_pull_by_ids_in_a_browser() {
    let Some(b) = Browser::start("the_countdown_and_a_pull_by_ids_in_a_browser", &[]).await else {
        return;
    };
    let shots = artifacts();
    let shop = Shop::spawn(&[("POSSYNC_TILL_OFFLINE_LIMIT_HOURS", "10")]).await;
    shop.pulled().await;
    let base = shop.app.url();
    log_in(&b, &base).await;

    // A sale made while deactivated, six hours old against a ten-hour limit.
    let (code, _) = shop.post_form("/instance/deactivate", &[]).await;
    assert_eq!(code, 303);
    shop.sell().await;
    backdate_copy(&shop, "sale OLD-6H", 6 * HOUR_MS).await;
    b.client.goto(&format!("{base}/")).await.unwrap();
    wait_text(&b, "#offline-countdown", "past half the limit").await;
    let note = wait_text(&b, "#offline-note", "sale OLD-6H").await;
    assert!(note.contains("left of 10 h"), "{note}");
    b.screenshot_in(&shots, "ops-01-countdown-amber").await;

    // Active again; a product renamed at the shop, pulled by its id.
    let (code, _) = shop.post_form("/instance/activate", &[]).await;
    assert_eq!(code, 303);
    let id = first_product(shop.app.store(), false).await;
    shop.sim
        .update_product(id, json!({"name": "Renamed for the browser"}))
        .unwrap();
    b.client.goto(&format!("{base}/operations")).await.unwrap();
    b.client
        .find(Locator::Css("#op-resource"))
        .await
        .unwrap()
        .select_by_value("products")
        .await
        .unwrap();
    click(&b, "#op-ids").await;
    type_keys(&b, &id.to_string()).await;
    b.screenshot_in(&shots, "ops-02-pull-ids-form").await;
    click(&b, "#op-pull-ids").await;
    wait_text(&b, "#op-last", "1 fetched").await;
    b.screenshot_in(&shots, "ops-03-pull-ids-done").await;
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
    assert_eq!(name, "Renamed for the browser");
    b.stop().await;
    shop.stop().await;
}
