//! The sales report in headless Chromium: the manager opens the *Reports*
//! tab, the totals read on the page are the JSON's, every input has its
//! label, and a screenshot goes to `target/test-artifacts/backoffice/`.
//! Without Chromium the test says so and passes.

use serde_json::json;

use super::browser::{artifacts, assert_labelled, log_in, text, wait_text};
use super::report::{around_today, shop, uuid};
use crate::security::browser::Browser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manager_reads_the_days_totals_on_the_reports_page() {
    let Some(b) =
        Browser::start("the_manager_reads_the_days_totals_on_the_reports_page", &[]).await
    else {
        return;
    };
    let (shop, mug, tea) = shop().await;
    let sale = shop
        .till_post(
            "/api/orders",
            json!({"lines": [{"product_id": mug, "quantity": 1}, {"product_id": tea, "quantity": 2}], "payment_method": "cash"}),
        )
        .await;
    shop.confirmed(uuid(&sale["outbox_id"])).await;
    let (_, report) = shop.report(&around_today()).await;

    log_in(&b, &shop.app.url()).await;
    b.client
        .goto(&shop.url(&format!("/reports{}", around_today())))
        .await
        .unwrap();
    wait_text(&b, "h2", "Sales report").await;
    assert_labelled(&b, "the reports page").await;
    let cell =
        |field: &str, part: &str| format!("td[data-field=\"{field}\"][data-part=\"{part}\"]");
    for field in ["sales_total", "tax", "net"] {
        let shown = text(&b, &cell(field, "confirmed")).await.unwrap();
        assert_eq!(
            shown.trim(),
            report["confirmed"][field].as_str().unwrap(),
            "{field}"
        );
    }
    assert_eq!(
        text(&b, &cell("sales", "confirmed")).await.unwrap().trim(),
        "1"
    );
    b.screenshot_in(&artifacts(), "20-sales-report").await;
    b.stop().await;
    shop.stop().await;
}
