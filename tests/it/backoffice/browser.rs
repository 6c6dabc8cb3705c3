//! The back-office as a shop owner uses it, in headless Chromium against
//! the simulated store: set the password, a wrong secret and its sentence,
//! the right keys starting the pull to complete, a setting that survives a
//! restart, a value the environment sets shown read-only, deactivate (the
//! shop sees no request) and activate, and a profile switch refused while
//! a sale waits. The set-up form is filled with the keyboard only, and every
//! input has its label. Screenshots of each step go to
//! `target/test-artifacts/backoffice/`. Without Chromium the test says so
//! and passes (`.ci/browser-deps.sh` installs it for CI).
//!
//! The helpers here (keyboard moves, waits on text, label checks,
//! screenshots) serve every back-office browser test.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use fantoccini::key::Key;
use possync::sync::engine::InitialPull;
use possync::upstream::woo::probe::ConnectionFailure;
use possync::{App, AppOptions, RunningApp};
use possync_sim::woo::Sim;
use serde_json::json;

use super::{data_dir, first_product, sources, staging_sim, store_section};
use crate::common::{client_with_token, create_token, small_sim, wait_for};
use crate::security::PASSWORD;
use crate::security::browser::Browser;

pub const WITHIN: Duration = Duration::from_secs(30);

pub fn artifacts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts/backoffice")
}

pub async fn text(b: &Browser, css: &str) -> Option<String> {
    b.client
        .find(Locator::Css(css))
        .await
        .ok()?
        .text()
        .await
        .ok()
}

/// Waits until the element `css` holds text containing `want`.
pub async fn wait_text(b: &Browser, css: &str, want: &str) -> String {
    wait_for(&format!("{css} to say {want:?}"), WITHIN, || async {
        text(b, css).await.filter(|t| t.contains(want))
    })
    .await
}

/// The id of the focused element.
pub async fn focused(b: &Browser) -> String {
    b.client
        .execute(
            "return document.activeElement ? document.activeElement.id : '';",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Presses Tab until the element `id` has the focus (a person moving
/// through the form with the keyboard); panics if it is never reached.
pub async fn tab_to(b: &Browser, id: &str) {
    for _ in 0..40 {
        if focused(b).await == id {
            return;
        }
        b.client
            .active_element()
            .await
            .unwrap()
            .send_keys(&char::from(Key::Tab).to_string())
            .await
            .unwrap();
    }
    panic!("#{id} cannot be reached with Tab");
}

/// Types `text` into the focused element.
pub async fn type_keys(b: &Browser, text: &str) {
    b.client
        .active_element()
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

/// Clears the focused text field with the keyboard.
pub async fn clear_focused(b: &Browser) {
    let len = b
        .client
        .execute("return document.activeElement.value.length;", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap_or(0);
    let backspaces: String =
        std::iter::repeat_n(char::from(Key::Backspace), len as usize + 1).collect();
    let end = char::from(Key::End).to_string();
    type_keys(b, &end).await;
    type_keys(b, &backspaces).await;
}

pub async fn click(b: &Browser, css: &str) {
    b.client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Every visible input, select and button of the page has a name a screen
/// reader reads: a `<label for>` (or its text, for a button).
pub async fn assert_labelled(b: &Browser, page: &str) {
    let unlabelled = b
        .client
        .execute(
            "return Array.from(document.querySelectorAll('input, select')).filter(e => e.type !== 'hidden' && (!e.labels || e.labels.length === 0)).map(e => e.id || e.name);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(unlabelled, json!([]), "inputs without a label on {page}");
}

async fn start(sources: &possync::config::Sources, env_note: &str) -> RunningApp {
    let _ = env_note;
    App::spawn_from(
        sources.clone(),
        AppOptions {
            initial_pull: InitialPull::IfNeeded,
        },
    )
    .await
    .unwrap()
}

pub async fn log_in(b: &Browser, base: &str) {
    b.client.goto(&format!("{base}/")).await.unwrap();
    b.client
        .wait()
        .at_most(WITHIN)
        .for_element(Locator::Css("#password"))
        .await
        .unwrap();
    click(b, "#password").await;
    type_keys(b, PASSWORD).await;
    type_keys(b, &char::from(Key::Enter).to_string()).await;
    b.client
        .wait()
        .at_most(WITHIN)
        .for_element(Locator::Css("#logout"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_owner_sets_up_and_runs_the_till_from_the_page() {
    let Some(b) = Browser::start("a_shop_owner_sets_up_and_runs_the_till_from_the_page", &[]).await
    else {
        return;
    };
    let shots = artifacts();
    let live = Sim::spawn(small_sim()).await.unwrap();
    let staging = staging_sim().await;
    let dir = tempfile::tempdir().unwrap();
    // The agent listens on one port across its restart, as a till does.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut src = sources(
        dir.path(),
        &store_section("test_store", &staging),
        &[("POSSYNC_TILL_ID", "front-desk")],
    );
    src.flags
        .push(("listen".to_owned(), format!("127.0.0.1:{port}")));
    let app = start(&src, "").await;
    let base = app.url();

    // First visit: the manager chooses the password.
    b.client.goto(&format!("{base}/")).await.unwrap();
    b.client
        .wait()
        .at_most(WITHIN)
        .for_element(Locator::Css("#confirm"))
        .await
        .unwrap();
    assert_labelled(&b, "the first visit").await;
    b.screenshot_in(&shots, "01-set-password").await;
    tab_to(&b, "password").await;
    type_keys(&b, PASSWORD).await;
    tab_to(&b, "confirm").await;
    type_keys(&b, PASSWORD).await;
    type_keys(&b, &char::from(Key::Enter).to_string()).await;

    // The set-up form, filled with the keyboard only.
    wait_text(&b, "h2", "Set up this till").await;
    assert_labelled(&b, "the set-up form").await;
    b.screenshot_in(&shots, "02-set-up-form").await;
    let fill = |secret: String| {
        let b = &b;
        let url = live.url().to_owned();
        let key = live.consumer_key().to_owned();
        async move {
            tab_to(b, "url").await;
            clear_focused(b).await;
            type_keys(b, &url).await;
            tab_to(b, "consumer_key").await;
            type_keys(b, &key).await;
            tab_to(b, "consumer_secret").await;
            type_keys(b, &secret).await;
        }
    };
    fill("cs_not_the_secret".to_owned()).await;
    tab_to(&b, "test-connection").await;
    type_keys(&b, &char::from(Key::Enter).to_string()).await;
    let sentence = wait_text(&b, "#failure-sentence", "consumer secret").await;
    assert_eq!(sentence, ConnectionFailure::WrongSecret.sentence());
    b.screenshot_in(&shots, "03-wrong-secret").await;

    fill(live.consumer_secret().to_owned()).await;
    tab_to(&b, "save-connect").await;
    type_keys(&b, &char::from(Key::Enter).to_string()).await;
    wait_text(&b, ".flash", "The first pull has started").await;
    b.screenshot_in(&shots, "04-pull-started").await;
    wait_text(&b, "#pull-state", "completed").await;
    wait_for("the products row filled", WITHIN, || async {
        text(&b, "#resources")
            .await
            .filter(|t| t.contains("Products"))
    })
    .await;
    b.screenshot_in(&shots, "05-pull-complete").await;

    // A setting changed on the page survives a restart; the till id the
    // environment sets is read-only.
    b.client
        .goto(&format!("{base}/settings?tab=till"))
        .await
        .unwrap();
    assert_labelled(&b, "the Till tab").await;
    let readonly = b
        .client
        .execute(
            "return document.getElementById('f-till.id').readOnly;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(readonly, json!(true));
    wait_text(&b, "#h-till\\.id", "Read-only: set by the environment").await;
    tab_to(&b, "f-till.order_prefix").await;
    clear_focused(&b).await;
    type_keys(&b, "T9-").await;
    click(&b, "#save").await;
    wait_text(&b, ".flash", "Saved. The new settings are in force.").await;
    b.screenshot_in(&shots, "06-setting-saved").await;
    app.shutdown().await;
    let app = start(&src, "").await;
    log_in(&b, &base).await;
    b.client
        .goto(&format!("{base}/settings?tab=till"))
        .await
        .unwrap();
    let prefix = b
        .client
        .find(Locator::Css("#f-till\\.order_prefix"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(prefix.as_deref(), Some("T9-"));
    wait_text(&b, "#o-till\\.order_prefix", "page").await;
    b.screenshot_in(&shots, "07-setting-after-restart").await;

    // Deactivate: the shop sees no request; activate: polls resume.
    b.client.goto(&format!("{base}/")).await.unwrap();
    click(&b, "#deactivate").await;
    b.client.accept_alert().await.unwrap();
    wait_text(&b, "#instance-banner", "Deactivated.").await;
    b.screenshot_in(&shots, "08-deactivated").await;
    let before = live.requests().len();
    let token = create_token(&app, "front").await;
    let till = client_with_token(&token);
    let product = first_product(app.store(), true).await;
    let sale: serde_json::Value = till
        .post(format!("{base}/api/orders"))
        .json(&json!({"lines": [{"product_id": product, "quantity": 1}], "payment_method": "cash"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let number = sale["number"].as_str().unwrap().to_owned();
    assert!(number.starts_with("T9-"), "{sale}");
    // Three poll intervals (1 s each) without a single request.
    let quiet_until = Instant::now() + Duration::from_secs(3);
    wait_for("three poll intervals", Duration::from_secs(10), || async {
        (Instant::now() >= quiet_until).then_some(())
    })
    .await;
    assert_eq!(
        live.requests().len(),
        before,
        "the shop was called while deactivated"
    );

    // A profile switch while that sale waits is refused, naming it.
    let select = b
        .client
        .find(Locator::Css("#profile-select"))
        .await
        .unwrap();
    select.select_by_value("test").await.unwrap();
    click(&b, "#switch-profile").await;
    let refusal = wait_text(&b, ".flash", "Switch refused").await;
    assert!(refusal.contains(&number), "{refusal}");
    b.screenshot_in(&shots, "09-switch-refused").await;
    assert!(!data_dir(dir.path()).join("replica-test.db").exists());

    click(&b, "#activate").await;
    wait_text(&b, "#instance-banner", "Active").await;
    wait_for("polls to resume", WITHIN, || async {
        (live.requests().len() > before).then_some(())
    })
    .await;
    b.screenshot_in(&shots, "10-active-again").await;

    b.stop().await;
    app.shutdown().await;
    live.shutdown().await;
    staging.shutdown().await;
}
