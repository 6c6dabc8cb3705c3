//! The demo's offline switch on the page: the simulated shop is cut off,
//! a sale queues without reaching it, and it arrives once the switch is
//! turned back. Outside the demo the switch does not exist.

use std::time::Duration;

use possync::api::backoffice::demo::DemoSwitch;
use possync::api::security::password;
use possync::store::access;
use possync::sync::engine::InitialPull;
use possync::{App, AppOptions};
use possync_sim::woo::Sim;
use serde_json::{Value, json};

use super::first_product;
use crate::common::{agent_config, client_with_token, create_token, small_sim, wait_for};
use crate::security::{PASSWORD, bare_client, login_at};

#[tokio::test]
async fn the_demo_switch_cuts_the_shop_off_and_the_queue_drains_when_it_is_back() {
    let sim = Sim::spawn(small_sim()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (set, get) = (sim.network(), sim.network());
    let app = App::spawn_demo(
        agent_config(&sim, dir.path()),
        AppOptions {
            initial_pull: InitialPull::Always,
        },
        DemoSwitch::new(move |o| set.set_offline(o), move || get.is_offline()),
    )
    .await
    .unwrap();
    crate::common::assert_completed(&app.pull_finished().await);
    let phc = password::hash(PASSWORD);
    app.store()
        .write(move |tx| access::set_admin_password(tx, &phc, 1))
        .await
        .unwrap();
    let http = bare_client();
    let s = login_at(&http, &app.url()).await;
    let post = |offline: &'static str| {
        let (http, s, base) = (&http, &s, app.url());
        async move {
            http.post(format!("{base}/demo/offline"))
                .header("cookie", &s.cookie)
                .header("origin", &base)
                .header("sec-fetch-site", "same-origin")
                .form(&[("csrf_token", s.csrf.as_str()), ("offline", offline)])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let page = http
        .get(app.url())
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"demo-offline\""), "{page}");

    assert_eq!(post("on").await, 303);
    assert!(sim.is_offline());
    let token = create_token(&app, "demo-till").await;
    let till = client_with_token(&token);
    let id = first_product(app.store(), true).await;
    let sale: Value = till
        .post(format!("{}/api/orders", app.url()))
        .json(&json!({"lines": [{"product_id": id, "quantity": 1}], "payment_method": "cash"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let outbox = sale["outbox_id"].as_str().unwrap().to_owned();
    let state = |till: reqwest::Client, base: String, outbox: String| async move {
        let list: Value = till
            .get(format!("{base}/api/outbox"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        list["entries"]
            .as_array()?
            .iter()
            .find(|e| e["id"] == outbox.as_str())
            .map(|e| e["state"].as_str().unwrap_or_default().to_owned())
    };
    // Tried while offline: the shop sees nothing and the sale waits.
    wait_for("a failed attempt", Duration::from_secs(20), || {
        let (till, base, outbox) = (till.clone(), app.url(), outbox.clone());
        async move {
            let list: Value = till
                .get(format!("{base}/api/outbox"))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            list["entries"]
                .as_array()?
                .iter()
                .find(|e| e["id"] == outbox.as_str() && e["attempts"].as_i64() > Some(0))
                .map(|_| ())
        }
    })
    .await;
    assert!(
        sim.order_ids_with_meta("possync_key", outbox.as_str())
            .is_empty()
    );
    assert_ne!(
        state(till.clone(), app.url(), outbox.clone())
            .await
            .as_deref(),
        Some("confirmed")
    );

    assert_eq!(post("off").await, 303);
    assert!(!sim.is_offline());
    wait_for("the queued sale confirmed", Duration::from_secs(60), || {
        let (till, base, outbox) = (till.clone(), app.url(), outbox.clone());
        async move { (state(till, base, outbox).await.as_deref() == Some("confirmed")).then_some(()) }
    })
    .await;
    assert_eq!(
        sim.order_ids_with_meta("possync_key", outbox.as_str())
            .len(),
        1
    );
    // A bad value changes nothing.
    assert_eq!(post("maybe").await, 400);
    assert!(!sim.is_offline());
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn outside_the_demo_there_is_no_offline_switch() {
    let g = crate::security::Guarded::spawn(|_| {}).await;
    let s = g.login().await;
    let res = g
        .bare
        .post(g.url("/demo/offline"))
        .header("cookie", &s.cookie)
        .header("origin", g.app.url())
        .header("sec-fetch-site", "same-origin")
        .form(&[("csrf_token", s.csrf.as_str()), ("offline", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}
