//! The till's writes replayed to the simulated Shopify store: the real
//! replayer (`sync::replay`) over a real replica in a temp dir, and the
//! Shopify client over loopback. Each write lands once, also when the
//! shop committed it and the answer was lost, and also while the order
//! search has not caught up with a new order.

use std::sync::Arc;
use std::time::Duration;

use possync::domain::outbox::{EntryState, OrderRef, OutboxEntry};
use possync::domain::till::{
    AdjustmentRequest, CompletionRequest, LineSel, ProductSel, ReturnLineRequest, ReturnRequest,
    SaleLineRequest, SaleRequest, TillSettings,
};
use possync::domain::time::unix_millis_now;
use possync::domain::{Resource, UpstreamId};
use possync::store::till::{customers, returns, sales, stock};
use possync::store::{Store, outbox};
use possync::sync::backoff::RetryPolicy;
use possync::sync::progress::PullProgress;
use possync::sync::pull;
use possync::sync::replay::{self, ReplayOptions, ReplayWaker};
use possync::upstream::UpstreamError;
use possync::upstream::shopify::client::ShopifyClient;
use possync::upstream::writes::UpstreamWrites;
use possync_sim::shopify::{ShopifyConfig, ShopifyFault, ShopifySim};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::common::wait_for;
use crate::shopify_pull::{Sellable, active_sellables, ask, client, location, options};

const WITHIN: Duration = Duration::from_secs(30);

/// A shop, a till's replica pulled from it, and the replayer running.
struct Till {
    sim: ShopifySim,
    store: Store,
    _dir: tempfile::TempDir,
    client: Arc<ShopifyClient>,
    location: i64,
    /// Simple products with stock at the location, as the shop says.
    products: Vec<Sellable>,
    waker: ReplayWaker,
    token: CancellationToken,
}

impl Till {
    /// `search_lag`: how long the shop's order search trails a new order;
    /// `window`: how long the client looks for an unknown sale.
    async fn start(search_lag: Duration, window: Duration) -> Till {
        Till::start_with(search_lag, window, 2).await
    }

    /// The same, with `concurrency` sends at once.
    async fn start_with(search_lag: Duration, window: Duration, concurrency: usize) -> Till {
        let sim = ShopifySim::spawn(ShopifyConfig {
            search_lag,
            ..ShopifyConfig::default()
        })
        .await
        .unwrap();
        let location = location(&sim).await;
        let (products, _) = active_sellables(&sim, location).await;
        let products: Vec<Sellable> = products
            .into_iter()
            .filter(|p| p.stock.is_some_and(|s| s >= 5))
            .collect();
        assert!(products.len() >= 2, "the sim sells stocked products");
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("replica.db")).unwrap();
        let client = Arc::new(client(&sim, location).with_search_lag_window(window));
        let opts = options(
            &[Resource::Products, Resource::Variations],
            &["publish"],
            50,
        );
        let (tx, _rx) = watch::channel(PullProgress::default());
        pull::run(&*client, &store, &opts, &tx, &CancellationToken::new())
            .await
            .unwrap();
        let mut replay_opts = ReplayOptions::new(concurrency);
        // Entries retried within a fraction of a second: faster than the
        // search lag the tests set, so a lookup does meet the lag.
        replay_opts.entry_retry = RetryPolicy::new(
            Duration::from_millis(200),
            Duration::from_millis(400),
            Duration::from_secs(1),
            u32::MAX,
        )
        .unwrap();
        let (waker, token) = (ReplayWaker::default(), CancellationToken::new());
        tokio::spawn(replay::run(
            client.clone(),
            store.clone(),
            replay_opts,
            waker.clone(),
            token.clone(),
        ));
        Till {
            sim,
            store,
            _dir: dir,
            client,
            location,
            products,
            waker,
            token,
        }
    }

    fn location_gid(&self) -> String {
        format!("gid://shopify/Location/{}", self.location)
    }

    /// The variant a simple product sells (its default variant).
    async fn variant(&self, product: i64) -> String {
        let data = ask(
            &self.sim,
            "query($id: ID!) { product(id: $id) { variants(first: 1) { nodes { id } } } }",
            json!({ "id": format!("gid://shopify/Product/{product}") }),
        )
        .await;
        data["product"]["variants"]["nodes"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn available(&self, product: i64) -> i64 {
        let variant = self.variant(product).await;
        self.sim
            .available(&variant, &self.location_gid())
            .expect("stocked at the till's location")
    }

    /// A paid cash sale of `qty` of `product`: its local id and outbox key.
    async fn sell(&self, product: i64, qty: i64) -> (Uuid, Uuid) {
        self.sell_as(product, qty, TillSettings::default()).await
    }

    /// The same, with the till's settings (e.g. sales to be picked up).
    async fn sell_as(&self, product: i64, qty: i64, till: TillSettings) -> (Uuid, Uuid) {
        let req = SaleRequest {
            lines: vec![SaleLineRequest {
                product: ProductSel::Id {
                    product_id: product,
                    variation_id: None,
                },
                quantity: qty,
                unit_price: None,
                discount: None,
            }],
            customer: None,
            billing: None,
            payment_method: "cash".into(),
            payment_method_title: None,
            paid: true,
            note: String::new(),
        };
        let accepted = self
            .store
            .write(move |tx| {
                Ok(sales::record_sale(tx, &req, &till, unix_millis_now())?.expect("sale accepted"))
            })
            .await
            .unwrap();
        self.waker.wake();
        (accepted.id, accepted.outbox_id)
    }

    async fn entry(&self, id: Uuid) -> OutboxEntry {
        self.store
            .read(move |c| outbox::get(c, id))
            .await
            .unwrap()
            .expect("entry exists")
    }

    /// Waits until the entry reaches `state`.
    async fn wait_state(&self, id: Uuid, state: EntryState) -> OutboxEntry {
        wait_for(&format!("entry {id} to be {state}"), WITHIN, || async {
            let e = self.entry(id).await;
            (e.state == state).then_some(e)
        })
        .await
    }

    async fn stop(self) {
        self.token.cancel();
        self.sim.shutdown().await;
    }
}

fn gid_number(v: &Value) -> UpstreamId {
    crate::shopify_pull::gid_number(v.as_str().expect("a gid"))
}

#[tokio::test]
async fn a_sale_replays_to_one_order_with_its_lines_its_stock_taken_and_its_payment() {
    let t = Till::start(Duration::from_millis(300), Duration::from_secs(10)).await;
    let p = t.products[0].clone();
    let before = t.available(p.id).await;
    let (_, key) = t.sell(p.id, 2).await;
    let e = t.wait_state(key, EntryState::Confirmed).await;

    let orders = t.sim.orders_with_source(&key.to_string());
    assert_eq!(orders.len(), 1, "exactly one order carries the key");
    assert_eq!(Some(gid_number(&json!(orders[0]))), e.upstream_id);
    let order = t.sim.node(&orders[0]).unwrap();
    assert_eq!(order["metafields"]["possync.key"]["value"], key.to_string());
    assert_eq!(order["displayFinancialStatus"], "PAID");
    let lines = order["lineItems"]["__conn"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    let line = t.sim.node(lines[0].as_str().unwrap()).unwrap();
    assert_eq!(line["quantity"], 2);
    assert_eq!(line["variant"]["__ref"], t.variant(p.id).await.as_str());
    let total = (p.price * rust_decimal::Decimal::from(2)).normalize();
    let sale = t
        .sim
        .node(order["transactions"][0]["__ref"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        (&sale["kind"], &sale["status"]),
        (&json!("SALE"), &json!("SUCCESS"))
    );
    assert_eq!(
        sale["amountSet"]["shopMoney"]["amount"]
            .as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap(),
        total
    );
    assert_eq!(
        t.available(p.id).await,
        before - 2,
        "stock taken once, at the till's location"
    );
    // The replica knows the shop took it: its count follows, no warning.
    let id = p.id;
    let view = t
        .store
        .read(move |c| {
            possync::store::lookup::products::product(c, id, possync::domain::GmtTime::now())
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.stock.quantity, Some(before - 2));
    let kinds: Vec<String> = t
        .store
        .read(|c| possync::store::events::recent(c, 50))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(!kinds.iter().any(|k| k == "stock_not_reduced"), "{kinds:?}");
    t.stop().await;
}

#[tokio::test]
async fn a_sale_whose_order_search_lags_does_not_hold_up_the_next_sale() {
    // One send at a time: while the first sale's order is not yet in the
    // search, the second sale goes through; the first is looked for again
    // later and still lands once.
    let t = Till::start_with(Duration::from_secs(3), Duration::from_secs(20), 1).await;
    let (a, b) = (t.products[0].clone(), t.products[1].clone());
    t.sim
        .inject_on(ShopifyFault::DropAfterCommit, "orderCreate(", 1);
    let (_, first) = t.sell(a.id, 1).await;
    t.wait_state(first, EntryState::Unknown).await;
    let (_, second) = t.sell(b.id, 1).await;
    t.wait_state(second, EntryState::Confirmed).await;
    let waiting = t.entry(first).await;
    assert_eq!(
        waiting.state,
        EntryState::Unknown,
        "the first sale was still being looked for when the second landed"
    );
    t.wait_state(first, EntryState::Confirmed).await;
    assert_eq!(t.sim.orders_with_source(&first.to_string()).len(), 1);
    assert_eq!(t.sim.orders_with_source(&second.to_string()).len(), 1);
    t.stop().await;
}

#[tokio::test]
async fn without_the_search_window_the_same_loss_would_create_a_second_order() {
    // The control for `outbox::replay`'s sale whose answer is lost after
    // the shop committed (one order, found once the search caught up): a
    // client that takes one miss as "not there" resends while the search
    // still lags.
    let t = Till::start(Duration::from_millis(2500), Duration::ZERO).await;
    let p = t.products[0].clone();
    t.sim
        .inject_on(ShopifyFault::DropAfterCommit, "orderCreate(", 1);
    let (_, key) = t.sell(p.id, 1).await;
    t.wait_state(key, EntryState::Confirmed).await;
    assert_eq!(t.sim.faults_pending(), 0);
    assert_eq!(t.sim.orders_with_source(&key.to_string()).len(), 2);
    t.stop().await;
}

#[tokio::test]
async fn a_return_and_a_stock_count_replay_once_when_their_answers_are_lost() {
    let t = Till::start(Duration::from_millis(300), Duration::from_secs(10)).await;
    let p = t.products[0].clone();
    let (sale, key) = t.sell(p.id, 3).await;
    let order = t
        .wait_state(key, EntryState::Confirmed)
        .await
        .upstream_id
        .unwrap();
    let after_sale = t.available(p.id).await;

    t.sim
        .inject_on(ShopifyFault::DropAfterCommit, "refundCreate(", 1);
    let req = ReturnRequest {
        lines: vec![ReturnLineRequest {
            line: LineSel::Line(1),
            quantity: 2,
        }],
        amount: None,
        reason: "wrong size".into(),
        restock: true,
    };
    let ret = t
        .store
        .write(move |tx| {
            Ok(
                returns::record_return(tx, OrderRef::Local(sale), &req, unix_millis_now())?
                    .expect("return accepted"),
            )
        })
        .await
        .unwrap();
    t.waker.wake();
    let e = t.wait_state(ret.outbox_id, EntryState::Confirmed).await;
    assert_eq!(t.sim.faults_pending(), 0, "the refund's answer was lost");
    let node = t.sim.node(&format!("gid://shopify/Order/{order}")).unwrap();
    let refunds = node["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 1, "refunded once");
    assert_eq!(
        Some(gid_number(&refunds[0]["__ref"])),
        e.upstream_id,
        "the refund the shop made"
    );
    let refund = t.sim.node(refunds[0]["__ref"].as_str().unwrap()).unwrap();
    assert!(refund["note"].as_str().unwrap().starts_with("wrong size"));
    assert_eq!(t.available(p.id).await, after_sale + 2, "restocked once");
    let paid = t
        .sim
        .node(node["transactions"][0]["__ref"].as_str().unwrap())
        .unwrap();
    let back = t
        .sim
        .node(node["transactions"][1]["__ref"].as_str().unwrap())
        .unwrap();
    assert_eq!(back["kind"], "REFUND");
    assert_eq!(back["parentTransaction"]["__ref"], paid["id"]);

    t.sim
        .inject_on(ShopifyFault::DropAfterCommit, "inventorySetQuantities(", 1);
    let counted = after_sale + 2;
    let product = p.id;
    let adj = t
        .store
        .write(move |tx| {
            Ok(stock::record_adjustment(
                tx,
                &AdjustmentRequest {
                    product: ProductSel::Id {
                        product_id: product,
                        variation_id: None,
                    },
                    delta: 5,
                    reason: "found a box".into(),
                },
                unix_millis_now(),
            )?
            .expect("adjustment accepted"))
        })
        .await
        .unwrap();
    t.waker.wake();
    t.wait_state(adj.outbox_id, EntryState::Confirmed).await;
    assert_eq!(t.sim.faults_pending(), 0, "the count's answer was lost");
    assert_eq!(
        t.available(p.id).await,
        counted + 5,
        "set once, to the count plus five"
    );
    t.stop().await;
}

#[tokio::test]
async fn a_new_customer_whose_email_is_registered_resolves_to_that_customer() {
    let t = Till::start(Duration::ZERO, Duration::from_secs(10)).await;
    let data = ask(
        &t.sim,
        "{ customers(first: 1) { nodes { id email } } }",
        json!({}),
    )
    .await;
    let existing = &data["customers"]["nodes"][0];
    let customers_before = t.sim.counts().customers;
    let fields = possync::domain::outbox::CustomerFields {
        email: Some(existing["email"].as_str().unwrap().to_uppercase()),
        first_name: Some("Same".into()),
        ..Default::default()
    };
    let accepted = t
        .store
        .write(move |tx| {
            Ok(customers::record_customer(tx, &fields, unix_millis_now())?
                .expect("customer accepted"))
        })
        .await
        .unwrap();
    t.waker.wake();
    let e = t
        .wait_state(accepted.outbox_id, EntryState::Confirmed)
        .await;
    assert_eq!(e.upstream_id, Some(gid_number(&existing["id"])));
    assert_eq!(
        t.sim.counts().customers,
        customers_before,
        "no second customer"
    );
    t.stop().await;
}

#[tokio::test]
async fn a_new_customer_is_created_with_its_key_then_changed() {
    let t = Till::start(Duration::ZERO, Duration::from_secs(10)).await;
    let before = t.sim.counts().customers;
    let fields = possync::domain::outbox::CustomerFields {
        email: Some("ada@example.com".into()),
        first_name: Some("Ada".into()),
        ..Default::default()
    };
    let accepted = t
        .store
        .write(move |tx| {
            Ok(customers::record_customer(tx, &fields, unix_millis_now())?
                .expect("customer accepted"))
        })
        .await
        .unwrap();
    t.waker.wake();
    let e = t
        .wait_state(accepted.outbox_id, EntryState::Confirmed)
        .await;
    assert_eq!(t.sim.counts().customers, before + 1);
    let gid = format!("gid://shopify/Customer/{}", e.upstream_id.unwrap());
    let node = t.sim.node(&gid).unwrap();
    assert_eq!(
        (&node["email"], &node["firstName"]),
        (&json!("ada@example.com"), &json!("Ada"))
    );
    assert_eq!(
        node["metafields"]["possync.key"]["value"],
        accepted.outbox_id.to_string()
    );

    let local = Uuid::parse_str(&accepted.id).unwrap();
    let change = possync::domain::outbox::CustomerFields {
        last_name: Some("Lovelace".into()),
        ..Default::default()
    };
    let updated = t
        .store
        .write(move |tx| {
            Ok(customers::record_update(
                tx,
                &possync::domain::outbox::CustomerRef::Local(local),
                &change,
                unix_millis_now(),
            )?
            .expect("change accepted"))
        })
        .await
        .unwrap();
    t.waker.wake();
    t.wait_state(updated.outbox_id, EntryState::Confirmed).await;
    let node = t.sim.node(&gid).unwrap();
    assert_eq!(node["lastName"], "Lovelace");
    assert_eq!(node["firstName"], "Ada", "fields not named are left alone");
    t.stop().await;
}

#[tokio::test]
async fn a_sale_picked_up_later_is_open_until_handed_over_then_closed() {
    let t = Till::start(Duration::ZERO, Duration::from_secs(10)).await;
    let p = t.products[0].clone();
    let pickup = TillSettings {
        order_status: "processing".into(),
        ..TillSettings::default()
    };
    let (sale, key) = t.sell_as(p.id, 1, pickup).await;
    let order = t
        .wait_state(key, EntryState::Confirmed)
        .await
        .upstream_id
        .unwrap();
    let gid = format!("gid://shopify/Order/{order}");
    let node = t.sim.node(&gid).unwrap();
    assert_eq!(
        node["displayFulfillmentStatus"], "UNFULFILLED",
        "not handed over yet"
    );
    assert!(node["closedAt"].is_null());

    let done = t
        .store
        .write(move |tx| {
            Ok(returns::record_completion(
                tx,
                OrderRef::Local(sale),
                &CompletionRequest::default(),
                unix_millis_now(),
            )?
            .expect("completion accepted"))
        })
        .await
        .unwrap();
    let after_sale = t.available(p.id).await;
    t.waker.wake();
    t.wait_state(done.outbox_id, EntryState::Confirmed).await;
    let node = t.sim.node(&gid).unwrap();
    assert!(node["closedAt"].is_string(), "closed at the shop");
    assert_eq!(
        node["displayFulfillmentStatus"], "FULFILLED",
        "handed over: not left waiting to ship"
    );
    let fulfilment_orders = node["fulfillmentOrders"]["__conn"].as_array().unwrap();
    assert_eq!(fulfilment_orders.len(), 1);
    let fo = t.sim.node(fulfilment_orders[0].as_str().unwrap()).unwrap();
    assert_eq!(fo["status"], "CLOSED");
    assert_eq!(node["fulfillments"].as_array().unwrap().len(), 1);
    assert_eq!(
        t.available(p.id).await,
        after_sale,
        "the stock was taken by the sale, not again by the handover"
    );
    // Sent again (an answer lost): nothing is fulfilled twice.
    t.client.set_order_status(order, "completed").await.unwrap();
    let node = t.sim.node(&gid).unwrap();
    assert_eq!(node["fulfillments"].as_array().unwrap().len(), 1);
    t.stop().await;
}

#[tokio::test]
async fn what_shopify_cannot_do_is_refused_precisely_and_changes_nothing() {
    let t = Till::start(Duration::ZERO, Duration::from_secs(10)).await;
    let p = t.products[0].clone();
    let (_, key) = t.sell(p.id, 1).await;
    let order = t
        .wait_state(key, EntryState::Confirmed)
        .await
        .upstream_id
        .unwrap();
    let gid = format!("gid://shopify/Order/{order}");
    let before = t.sim.node(&gid).unwrap();

    // A status Shopify has no mutation for.
    let f = t
        .client
        .set_order_status(order, "cancelled")
        .await
        .unwrap_err();
    assert!(!f.maybe_applied);
    match &f.error {
        UpstreamError::Rejected { code, message, .. } => {
            assert_eq!(code, "status_unsupported");
            assert!(message.contains("\"cancelled\""), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(t.sim.node(&gid).unwrap(), before, "the order is untouched");
    // One it has: closing the order is the till's "completed".
    let closed = t.client.set_order_status(order, "completed").await.unwrap();
    assert_eq!(closed.status, "completed");
    assert!(t.sim.node(&gid).unwrap()["closedAt"].is_string());

    // A sale of a product deleted at the shop since the pull is parked
    // with the shop's reason; no order is made.
    let gone = t.products[1].clone();
    assert!(
        t.sim
            .delete_product(&format!("gid://shopify/Product/{}", gone.id))
    );
    let orders_before = t.sim.counts().orders;
    let (_, key) = t.sell(gone.id, 1).await;
    let e = t.wait_state(key, EntryState::Rejected).await;
    assert_eq!(e.error_code.as_deref(), Some("product_not_found"));
    assert!(
        e.error_message
            .as_deref()
            .unwrap()
            .contains(&gone.id.to_string()),
        "{e:?}"
    );
    assert_eq!(t.sim.counts().orders, orders_before);
    t.stop().await;
}
