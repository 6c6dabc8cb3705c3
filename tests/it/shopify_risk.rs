//! Risky orders: orders pulled from the simulated Shopify store keep the
//! shop's fraud-risk recommendation in the replica; the till's order lookup
//! flags CANCEL and INVESTIGATE; handing over a CANCEL order is refused
//! unless someone at the till overrides it with a reason, which the event
//! log records; an INVESTIGATE order is flagged, not blocked; the queue
//! page shows a flagged pickup and who handed it over.

use std::collections::BTreeMap;
use std::path::Path;

use possync::api::security::password;
use possync::config::Config;
use possync::domain::Resource;
use possync::store::{Store, access, events};
use possync::sync::engine::InitialPull;
use possync::sync::progress::PullProgress;
use possync::sync::pull;
use possync::{App, AppOptions, RunningApp};
use possync_sim::shopify::ShopifySim;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::common::{any_port, client_with_token, create_token};
use crate::security::{PASSWORD, bare_client, login_at};
use crate::shopify_pull::{all_ids, client, gid_number, location, options, spawn_sim};

/// The till front-end's token name in these tests.
const TILL: &str = "counter-2";

/// One of the shop's orders as the shop itself states it.
#[derive(Debug, Clone)]
struct ShopOrder {
    id: i64,
    name: String,
    recommendation: String,
    fulfilled: bool,
}

async fn shop_orders(sim: &ShopifySim) -> Vec<ShopOrder> {
    all_ids(
        sim,
        "orders",
        "id name displayFulfillmentStatus risk { recommendation }",
    )
    .await
    .iter()
    .map(|o| ShopOrder {
        id: gid_number(o["id"].as_str().unwrap()),
        name: o["name"].as_str().unwrap().to_owned(),
        recommendation: o["risk"]["recommendation"].as_str().unwrap().to_owned(),
        fulfilled: o["displayFulfillmentStatus"] == "FULFILLED",
    })
    .collect()
}

/// The first order the shop recommends `rec` for and has not fulfilled.
fn open_order<'a>(orders: &'a [ShopOrder], rec: &str) -> &'a ShopOrder {
    orders
        .iter()
        .find(|o| o.recommendation == rec && !o.fulfilled)
        .unwrap_or_else(|| panic!("the sim has an unfulfilled {rec} order"))
}

/// The till's view: what a lookup should say of the shop's word.
fn lowercase(rec: &str) -> String {
    rec.to_ascii_lowercase()
}

/// Pulls the shop's orders into a replica in `dir` through the Shopify
/// client, as the agent's full pull does.
async fn pull_orders(sim: &ShopifySim, dir: &Path) {
    let store = Store::open(&dir.join("replica.db")).unwrap();
    let client = client(sim, location(sim).await);
    let opts = options(&[Resource::Orders], &["publish"], 7);
    let (tx, _rx) = watch::channel(PullProgress::default());
    pull::run(&client, &store, &opts, &tx, &CancellationToken::new())
        .await
        .unwrap();
}

/// An agent serving that replica to the till (no shop configured: the
/// replica is served as it is and nothing is sent).
async fn serve(dir: &Path) -> (RunningApp, reqwest::Client) {
    let app = App::spawn(
        Config::new(any_port(), dir.to_path_buf(), None),
        AppOptions {
            initial_pull: InitialPull::Never,
        },
    )
    .await
    .unwrap();
    let token = create_token(&app, TILL).await;
    (app, client_with_token(&token))
}

async fn call(
    http: &reqwest::Client,
    app: &RunningApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http.request(method, format!("{}{path}", app.url()));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn get(http: &reqwest::Client, app: &RunningApp, path: &str) -> (u16, Value) {
    call(http, app, reqwest::Method::GET, path, None).await
}

async fn hand_over(
    http: &reqwest::Client,
    app: &RunningApp,
    order: i64,
    body: Value,
) -> (u16, Value) {
    let path = format!("/api/orders/{order}/complete");
    call(http, app, reqwest::Method::POST, &path, Some(body)).await
}

/// What a hand-over may have changed: queued entries, risk-override
/// events, recorded completions (with their override).
#[derive(Debug, PartialEq)]
struct Traces {
    entries: Vec<String>,
    overrides: Vec<String>,
    completions: Vec<(i64, Option<String>, Option<String>)>,
}

async fn traces(http: &reqwest::Client, app: &RunningApp, db: &Path) -> Traces {
    let (status, outbox) = get(http, app, "/api/outbox").await;
    assert_eq!(status, 200, "{outbox}");
    let entries = outbox["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["label"].as_str().unwrap().to_owned())
        .collect();
    let overrides = app
        .store()
        .read(|c| events::recent(c, events::MAX_EVENTS))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "risk_override")
        .map(|e| format!("{} {:?} {}", e.level, e.resource, e.message))
        .collect();
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut st = conn
        .prepare(
            "SELECT order_id, risk_override_by, risk_override_reason FROM local_completions
             ORDER BY created_at, order_id",
        )
        .unwrap();
    let completions = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    Traces {
        entries,
        overrides,
        completions,
    }
}

#[tokio::test]
async fn pulled_shopify_orders_carry_their_risk_into_the_replica_and_the_order_lookup() {
    let sim = spawn_sim().await;
    let want = shop_orders(&sim).await;
    assert_eq!(want.len(), sim.counts().orders);
    let dir = tempfile::tempdir().unwrap();
    pull_orders(&sim, dir.path()).await;

    // The replica, as stored.
    let conn = rusqlite::Connection::open(dir.path().join("replica.db")).unwrap();
    let mut st = conn
        .prepare("SELECT id, risk_recommendation FROM orders")
        .unwrap();
    let stored: BTreeMap<i64, Option<String>> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: BTreeMap<i64, Option<String>> = want
        .iter()
        .map(|o| (o.id, Some(lowercase(&o.recommendation))))
        .collect();
    assert_eq!(stored, expected);
    for rec in ["CANCEL", "INVESTIGATE", "ACCEPT", "NONE"] {
        assert!(
            want.iter().any(|o| o.recommendation == rec),
            "the sim has a {rec} order"
        );
    }

    let (app, http) = serve(dir.path()).await;
    // Every order in the listing says what the shop recommends.
    let (status, page) = get(&http, &app, "/api/orders?per_page=100").await;
    assert_eq!(status, 200, "{page}");
    let listed: BTreeMap<i64, Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["id"].as_i64().unwrap(), o["risk"].clone()))
        .collect();
    assert_eq!(listed.len(), want.len());
    for o in &want {
        let flagged = o.recommendation == "CANCEL" || o.recommendation == "INVESTIGATE";
        assert_eq!(
            listed[&o.id],
            json!({
                "recommendation": lowercase(&o.recommendation),
                "flagged": flagged,
                "handover_needs_override": o.recommendation == "CANCEL",
            }),
            "order {}",
            o.name
        );
    }
    // One order asked for, and found by its number.
    let cancel = open_order(&want, "CANCEL");
    let (status, one) = get(&http, &app, &format!("/api/orders/{}", cancel.id)).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["number"], cancel.name);
    assert_eq!(one["risk"]["recommendation"], "cancel");
    assert_eq!(one["risk"]["flagged"], true);
    let q = cancel.name.trim_start_matches('#');
    let (status, found) = get(&http, &app, &format!("/api/orders?q={q}")).await;
    assert_eq!(status, 200, "{found}");
    let hit = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == cancel.id)
        .unwrap_or_else(|| panic!("{} found by number: {found}", cancel.name));
    assert_eq!(hit["risk"]["handover_needs_override"], true);

    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_cancel_order_is_handed_over_only_with_an_override_which_the_event_log_records() {
    let sim = spawn_sim().await;
    let orders = shop_orders(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    pull_orders(&sim, dir.path()).await;
    let db = dir.path().join("replica.db");
    let (app, http) = serve(dir.path()).await;
    let cancel = open_order(&orders, "CANCEL");
    let before = traces(&http, &app, &db).await;
    assert!(before.entries.is_empty() && before.completions.is_empty());

    // Without an override: refused, precisely, and nothing changes.
    let (status, body) = hand_over(&http, &app, cancel.id, json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "risk_override_required");
    let message = body["error"]["message"].as_str().unwrap();
    assert_eq!(
        message,
        format!(
            "the shop recommends cancelling order {} (fraud risk); hand it over only with a risk_override saying who decides and why",
            cancel.name
        )
    );
    assert_eq!(traces(&http, &app, &db).await, before);

    // An override without a reason (or without a name) is bad input.
    for (override_, field) in [
        (json!({"by": "Dana"}), "risk_override.reason"),
        (
            json!({"by": "Dana", "reason": "   "}),
            "risk_override.reason",
        ),
        (json!({"reason": "ID checked"}), "risk_override.by"),
    ] {
        let (status, body) = hand_over(
            &http,
            &app,
            cancel.id,
            json!({ "risk_override": override_ }),
        )
        .await;
        assert_eq!(status, 422, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{field}: is required")),
            "{body}"
        );
        assert_eq!(traces(&http, &app, &db).await, before);
    }

    // With one: accepted, kept with the completion and logged.
    let reason = "customer showed the card and ID; bank confirmed the payment";
    let (status, body) = hand_over(
        &http,
        &app,
        cancel.id,
        json!({ "risk_override": { "by": "Dana", "reason": reason } }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["order"], cancel.name);
    assert_eq!(body["risk"]["recommendation"], "cancel");
    let after = traces(&http, &app, &db).await;
    assert_eq!(after.entries, [format!("pickup of {}", cancel.name)]);
    assert_eq!(
        after.completions,
        [(cancel.id, Some("Dana".to_owned()), Some(reason.to_owned()))]
    );
    assert_eq!(
        after.overrides,
        [format!(
            "warn Some(\"orders\") pickup of {} handed over although the shop recommends cancelling it; decided by \"Dana\" at till \"{TILL}\": {reason}",
            cancel.name
        )]
    );

    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn an_investigate_order_is_flagged_but_handed_over_without_an_override() {
    let sim = spawn_sim().await;
    let orders = shop_orders(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    pull_orders(&sim, dir.path()).await;
    let db = dir.path().join("replica.db");
    let (app, http) = serve(dir.path()).await;
    let investigate = open_order(&orders, "INVESTIGATE");
    let accept = open_order(&orders, "ACCEPT");

    let (status, body) = hand_over(&http, &app, investigate.id, json!({})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["risk"],
        json!({"recommendation": "investigate", "flagged": true, "handover_needs_override": false})
    );
    // An override where none is needed overrides nothing and is not kept.
    let (status, body) = hand_over(
        &http,
        &app,
        accept.id,
        json!({ "risk_override": { "by": "Dana", "reason": "habit" } }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["risk"]["flagged"], false);

    let after = traces(&http, &app, &db).await;
    assert_eq!(
        after.entries,
        [
            format!("pickup of {}", accept.name),
            format!("pickup of {}", investigate.name)
        ],
        "newest first"
    );
    assert!(after.overrides.is_empty(), "{:?}", after.overrides);
    assert!(
        after
            .completions
            .iter()
            .all(|(_, by, reason)| by.is_none() && reason.is_none()),
        "{:?}",
        after.completions
    );

    app.shutdown().await;
    sim.shutdown().await;
}

/// Three pickups handed over on the agent's own page: a CANCEL one with an
/// override, an INVESTIGATE one and an ACCEPT one, queued in that order.
/// The agent, its shop, and the three orders' names.
async fn three_risky_pickups_handed_over()
-> (ShopifySim, tempfile::TempDir, RunningApp, [String; 3]) {
    let sim = spawn_sim().await;
    let orders = shop_orders(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    pull_orders(&sim, dir.path()).await;
    let (app, http) = serve(dir.path()).await;
    let phc = password::hash(PASSWORD);
    app.store()
        .write(move |tx| access::set_admin_password(tx, &phc, 1))
        .await
        .unwrap();
    let cancel = open_order(&orders, "CANCEL").clone();
    let investigate = open_order(&orders, "INVESTIGATE").clone();
    let accept = open_order(&orders, "ACCEPT").clone();
    let override_ = json!({ "risk_override": { "by": "Dana", "reason": "ID and card checked" } });
    for (order, body) in [
        (&cancel, override_),
        (&investigate, json!({})),
        (&accept, json!({})),
    ] {
        let (status, answer) = hand_over(&http, &app, order.id, body).await;
        assert_eq!(status, 201, "{answer}");
    }
    (sim, dir, app, [cancel.name, investigate.name, accept.name])
}

const CANCEL_FLAG: &str = "The shop recommends cancelling this order (fraud risk). Handed over by Dana: ID and card checked";
const INVESTIGATE_FLAG: &str = "The shop recommends investigating this order (fraud risk).";

#[tokio::test]
async fn the_queue_page_shows_a_risky_pickup_and_who_handed_it_over() {
    let (sim, _dir, app, [cancel, investigate, accept]) = three_risky_pickups_handed_over().await;
    let browser = bare_client();
    let session = login_at(&browser, &app.url()).await;
    let res = browser
        .get(format!("{}/queue", app.url()))
        .header("cookie", &session.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    // Each pickup's row, by its place in the queue (1: the first handed over).
    let row = |seq: usize| {
        let start = html
            .find(&format!("<tr id=\"entry-{seq}\""))
            .unwrap_or_else(|| panic!("row {seq} in {html}"));
        let end = start + html[start..].find("</tr>").unwrap();
        html[start..end].to_owned()
    };
    let (first, second, third) = (row(1), row(2), row(3));
    assert!(first.contains(&format!("pickup of {cancel}")), "{first}");
    assert!(
        first.contains(&format!("<span class=\"risk\">{CANCEL_FLAG}</span>")),
        "{first}"
    );
    assert!(
        second.contains(&format!("pickup of {investigate}")),
        "{second}"
    );
    assert!(
        second.contains(&format!("<span class=\"risk\">{INVESTIGATE_FLAG}</span>")),
        "{second}"
    );
    assert!(third.contains(&format!("pickup of {accept}")), "{third}");
    assert!(!third.contains("class=\"risk\""), "{third}");

    app.shutdown().await;
    sim.shutdown().await;
}

/// The same queue in headless Chromium, as a manager reads it: logged in,
/// the Queue tab opened, each pickup's flag read from its row. A
/// screenshot goes to `target/test-artifacts/backoffice/`; without
/// Chromium the test says so and passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_reads_the_risky_pickups_flags_on_the_queue_page_in_the_browser() {
    use crate::backoffice::browser::{artifacts, click, log_in, wait_text};
    let Some(b) = crate::security::browser::Browser::start(
        "a_manager_reads_the_risky_pickups_flags_on_the_queue_page_in_the_browser",
        &[],
    )
    .await
    else {
        return;
    };
    let (sim, _dir, app, [cancel, investigate, accept]) = three_risky_pickups_handed_over().await;
    log_in(&b, &app.url()).await;
    click(&b, "#tab-queue").await;
    wait_text(&b, "h2", "Queue").await;
    let first = wait_text(&b, "#entry-1", &cancel).await;
    assert!(first.contains(CANCEL_FLAG), "{first}");
    let second = wait_text(&b, "#entry-2", &investigate).await;
    assert!(second.contains(INVESTIGATE_FLAG), "{second}");
    let third = wait_text(&b, "#entry-3", &accept).await;
    assert!(!third.contains("fraud risk"), "{third}");
    let flags = b
        .client
        .find_all(fantoccini::Locator::Css(
            "#entry-1 .risk, #entry-2 .risk, #entry-3 .risk",
        ))
        .await
        .unwrap();
    assert_eq!(flags.len(), 2, "a flag on the two risky pickups only");
    b.screenshot_in(&artifacts(), "queue-risky-pickups").await;
    app.shutdown().await;
    sim.shutdown().await;
}
