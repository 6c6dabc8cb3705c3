//! The Queue tab in headless Chromium, as a manager uses it: the queue
//! filtered to rejected sales, a refused sale retried once its cause is
//! gone and seen confirmed, a queued sale discarded after the page's
//! confirmation (which says what a discard reverses) with its flash and
//! its stock given back. Screenshots go to `target/test-artifacts/backoffice/`;
//! without Chromium the test says so and passes.

use fantoccini::Locator;
use possync::domain::outbox::EntryState;

use super::browser::{WITHIN, artifacts, assert_labelled, click, log_in, wait_text};
use super::queue::{
    REFUSAL_CODE, available, entry, refuse_next_sale, sell, shelf_shop, wait_state,
};
use crate::common::wait_for;
use crate::security::browser::Browser;

async fn filter_state(b: &Browser, state: &str) {
    b.client
        .find(Locator::Css("#f-state"))
        .await
        .unwrap()
        .select_by_value(state)
        .await
        .unwrap();
    click(b, "#apply-filter").await;
    wait_for(
        &format!("the queue filtered to {state}"),
        WITHIN,
        || async {
            let url = b.client.current_url().await.ok()?;
            url.as_str()
                .contains(&format!("state={state}"))
                .then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manager_retries_a_refused_sale_and_discards_a_queued_one_in_the_browser() {
    let test = "the_manager_retries_a_refused_sale_and_discards_a_queued_one_in_the_browser";
    let Some(b) = Browser::start(test, &[]).await else {
        return;
    };
    let shots = artifacts();
    let (shop, mug) = shelf_shop().await;
    refuse_next_sale(&shop.sim);
    let (refused, number) = sell(&shop, mug, 1, None).await;
    let seq = wait_state(&shop, refused, EntryState::Rejected).await.seq;
    let base = shop.app.url();

    // The manager opens the queue and filters it to rejected entries.
    log_in(&b, &base).await;
    click(&b, "#tab-queue").await;
    wait_text(&b, "h2", "Queue").await;
    assert_labelled(&b, "the queue").await;
    filter_state(&b, "rejected").await;
    let row = wait_text(&b, &format!("#entry-{seq}"), &number).await;
    assert!(row.contains(REFUSAL_CODE), "{row}");
    b.screenshot_in(&shots, "queue-01-rejected").await;

    // The shop's rule is lifted: retry, and the sale reaches the shop.
    click(&b, &format!("#retry-{seq}")).await;
    wait_text(&b, ".flash", "is queued again").await;
    wait_state(&shop, refused, EntryState::Confirmed).await;
    filter_state(&b, "confirmed").await;
    wait_text(&b, &format!("#entry-{seq} .state"), "confirmed").await;
    b.screenshot_in(&shots, "queue-02-retried-confirmed").await;

    // A queued sale (the agent deactivated: nothing is sent) is discarded.
    b.client.goto(&format!("{base}/")).await.unwrap();
    click(&b, "#deactivate").await;
    b.client.accept_alert().await.unwrap();
    wait_text(&b, "#instance-banner", "Deactivated.").await;
    let before = available(&shop, mug).await;
    let (queued, number) = sell(&shop, mug, 2, None).await;
    assert_eq!(available(&shop, mug).await, before - 2);
    let seq = entry(&shop, queued).await.seq;
    click(&b, "#tab-queue").await;
    filter_state(&b, "queued").await;
    wait_text(&b, &format!("#entry-{seq}"), &number).await;
    b.screenshot_in(&shots, "queue-03-queued").await;
    click(&b, &format!("#discard-{seq}")).await;
    let question = b.client.get_alert_text().await.unwrap();
    assert!(
        question.contains("its stock is given back"),
        "the confirmation says what a discard reverses: {question}"
    );
    b.client.accept_alert().await.unwrap();
    wait_text(&b, ".flash", &format!("Discarded sale {number}")).await;
    b.screenshot_in(&shots, "queue-04-discarded").await;
    assert_eq!(entry(&shop, queued).await.state, EntryState::Discarded);
    assert_eq!(available(&shop, mug).await, before);
    b.stop().await;
    shop.stop().await;
}
