//! Replay against the simulated store: ambiguous answers settled by key,
//! refusals parked and retried, dependency order, returns, adjustments.

use std::time::{Duration, Instant};

use possync::domain::outbox::EntryState;
use possync_sim::woo::{FaultKind, FaultRule};
use serde_json::json;

use super::{AnyTill, Shop, offline, online, sale, till, uuid, wait_state};
use crate::shops::Kind;

const WITHIN: Duration = Duration::from_secs(30);

/// One body for both shops: the shop commits the sale and its answer is
/// lost (the connection drops; the answer comes after the till gave up),
/// and the sale is settled by its key, never sent again.
async fn answer_lost_after_commit(kind: Kind) {
    let shop = Shop::spawn(kind).await;
    let mug = shop.add_product("Till mug", "TILL-MUG", "10.00", 20);
    let t = AnyTill::start(shop, |c| {
        c.store.as_mut().unwrap().timeout = Duration::from_secs(1)
    })
    .await;
    // The shop commits, then the connection drops before any answer.
    t.shop.drop_next_order_answer();
    let (status, first) = t.post_json("/api/orders", sale(mug, 1)).await;
    assert_eq!(status, 201);
    let id = uuid(&first["outbox_id"]);
    let e = t.wait_state(id, EntryState::Confirmed, WITHIN).await;
    assert_eq!(
        t.shop.orders_with_key(&id.to_string()),
        vec![e.upstream_id.unwrap()]
    );
    assert_eq!(
        t.shop.order_creates_received(),
        1,
        "looked up, not sent again"
    );

    // The shop commits, then answers after the client gave up.
    t.shop
        .answer_order_creates_late(1, Duration::from_millis(2500));
    let (_, second) = t.post_json("/api/orders", sale(mug, 2)).await;
    let id = uuid(&second["outbox_id"]);
    let e = t.wait_state(id, EntryState::Confirmed, WITHIN).await;
    assert_eq!(
        t.shop.orders_with_key(&id.to_string()),
        vec![e.upstream_id.unwrap()]
    );
    assert_eq!(t.shop.stock(mug).await, Some(17), "the shop took 3 once");
    let order = t.shop.sale_at_shop(e.upstream_id.unwrap()).unwrap();
    assert_eq!(order.till.as_deref(), Some("till-1"));
    assert_eq!(order.number.as_deref(), second["number"].as_str());
    assert!(order.sold_at.is_some());
    assert!(order.handed_over, "completed at the till");
    t.stop().await;
}

crate::both_shops!(
    a_sale_whose_answer_is_lost_after_the_shop_committed_creates_one_order,
    answer_lost_after_commit
);

#[tokio::test]
async fn a_refused_return_is_parked_visible_and_sent_once_the_cause_is_fixed() {
    // (WooCommerce refuses no sale for its product: it sells a trashed
    // product, and an unknown id as an empty line. A return beyond what is
    // left to refund it does refuse.)
    let (t, shelf) = till(|_| {}).await;
    let (_, sold) = t.post_json("/api/orders", sale(shelf.mug, 2)).await;
    let upstream = wait_state(&t, uuid(&sold["outbox_id"]), EntryState::Confirmed, WITHIN)
        .await
        .upstream_id
        .unwrap();
    // The shop refunds the whole order itself; the till does not know yet.
    let (status, shop_refund) = t.sim.call(
        "POST",
        &format!("orders/{upstream}/refunds"),
        json!({"amount": "20.00", "api_refund": false, "api_restock": false}),
    );
    assert_eq!(status, 201, "{shop_refund}");
    let order = sold["id"].as_str().unwrap().to_owned();
    let (status, ret) = t
        .post_json(
            &format!("/api/orders/{order}/refunds"),
            json!({"amount": "5.00", "restock": false}),
        )
        .await;
    assert_eq!(status, 201, "{ret}");
    let id = uuid(&ret["outbox_id"]);
    let parked = wait_state(&t, id, EntryState::Rejected, WITHIN).await;
    assert_eq!(
        parked.error_code.as_deref(),
        Some("woocommerce_rest_cannot_create_order_refund")
    );
    let (_, list) = t.send("GET", "/api/outbox?state=rejected", None).await;
    let listed = &list["entries"][0];
    assert_eq!(listed["id"], id.to_string());
    assert!(
        listed["error_message"]
            .as_str()
            .unwrap()
            .contains("Invalid refund amount"),
        "{listed}"
    );

    // The shop's refund was a mistake and is deleted: the return goes.
    let (status, body) = t.sim.call(
        "DELETE",
        &format!("orders/{upstream}/refunds/{}?force=true", shop_refund["id"]),
        serde_json::Value::Null,
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = t
        .send("POST", &format!("/api/outbox/{id}/retry"), None)
        .await;
    assert_eq!(
        (status, body["state"].as_str()),
        (200, Some("queued")),
        "{body}"
    );
    let done = wait_state(&t, id, EntryState::Confirmed, WITHIN).await;
    let refund = t.sim.refund(done.upstream_id.unwrap()).unwrap();
    assert_eq!(refund["amount"], "5.00");
    t.stop().await;
}

#[tokio::test]
async fn a_customer_made_offline_reaches_the_shop_before_the_order_naming_it() {
    let (t, shelf) = till(|_| {}).await;
    offline(&t.sim);
    let (status, customer) = t
        .post_json(
            "/api/customers",
            json!({"email": "new@till.example", "first_name": "Nia"}),
        )
        .await;
    assert_eq!(status, 201, "{customer}");
    let mut body = sale(shelf.mug, 1);
    body["customer_id"] = customer["id"].clone();
    let (status, sold) = t.post_json("/api/orders", body).await;
    assert_eq!(status, 201, "{sold}");
    let (c_entry, s_entry) = (uuid(&customer["outbox_id"]), uuid(&sold["outbox_id"]));
    assert_eq!(super::entry(&t, s_entry).await.depends_on, Some(c_entry));
    // Someone registered the same email at the shop meanwhile.
    let existing = t
        .sim
        .create_customer("again@till.example", "Ada", "Old")
        .unwrap();
    let (_, dup) = t
        .post_json("/api/customers", json!({"email": "again@till.example"}))
        .await;
    // Wait until replay has tried and paused.
    super::super::common::wait_for("a failed attempt", WITHIN, || async {
        (super::entry(&t, c_entry).await.attempts > 0).then_some(())
    })
    .await;

    online(&t.sim);
    let back = Instant::now();
    let c = wait_state(&t, c_entry, EntryState::Confirmed, WITHIN).await;
    assert!(
        back.elapsed() < Duration::from_secs(5),
        "resumed after {:?}",
        back.elapsed()
    );
    let s = wait_state(&t, s_entry, EntryState::Confirmed, WITHIN).await;
    let shop_customer = t.sim.customer_id_by_email("new@till.example").unwrap();
    assert_eq!(c.upstream_id, Some(shop_customer));
    assert_eq!(
        t.sim.order(s.upstream_id.unwrap()).unwrap()["customer_id"],
        shop_customer
    );
    assert!(c.confirmed_at.unwrap() <= s.confirmed_at.unwrap());
    let d = wait_state(&t, uuid(&dup["outbox_id"]), EntryState::Confirmed, WITHIN).await;
    assert_eq!(
        d.upstream_id,
        Some(existing),
        "resolved to the registered customer"
    );
    t.stop().await;
}

#[tokio::test]
async fn a_return_is_refunded_without_the_gateway_and_a_refusal_is_parked() {
    let (t, shelf) = till(|_| {}).await;
    let (_, sold) = t.post_json("/api/orders", sale(shelf.mug, 3)).await;
    let order = sold["id"].as_str().unwrap().to_owned();
    let (_, ret) = t
        .post_json(
            &format!("/api/orders/{order}/refunds"),
            json!({"lines": [{"line_id": 1, "quantity": 1}], "reason": "cracked", "restock": true}),
        )
        .await;
    let (_, pickup) = t
        .post_json(&format!("/api/orders/{order}/complete"), json!({}))
        .await;
    let r = wait_state(&t, uuid(&ret["outbox_id"]), EntryState::Confirmed, WITHIN).await;
    wait_state(
        &t,
        uuid(&pickup["outbox_id"]),
        EntryState::Confirmed,
        WITHIN,
    )
    .await;
    let refund = t.sim.refund(r.upstream_id.unwrap()).unwrap();
    assert_eq!(refund["refunded_payment"], false);
    assert_eq!(refund["amount"], "10.00");
    assert_eq!(
        t.sim.product_stock(shelf.mug),
        Some(18),
        "3 sold, 1 restocked"
    );

    // The rest is refunded at the shop directly; the till does not know.
    let upstream = super::entry(&t, uuid(&sold["outbox_id"]))
        .await
        .upstream_id
        .unwrap();
    let (status, body) = t.sim.call(
        "POST",
        &format!("orders/{upstream}/refunds"),
        json!({"amount": "20.00", "api_refund": false, "api_restock": false}),
    );
    assert_eq!(status, 201, "{body} {}", t.sim.order(upstream).unwrap());
    let (status, late) = t
        .post_json(
            &format!("/api/orders/{order}/refunds"),
            json!({"amount": "5.00", "restock": false}),
        )
        .await;
    assert_eq!(status, 201, "{late}");
    let parked = wait_state(&t, uuid(&late["outbox_id"]), EntryState::Rejected, WITHIN).await;
    assert_eq!(
        parked.error_code.as_deref(),
        Some("woocommerce_rest_cannot_create_order_refund")
    );
    t.stop().await;
}

#[tokio::test]
async fn a_stock_adjustment_is_read_set_and_read_back_and_a_concurrent_change_is_reported() {
    let (t, shelf) = till(|c| c.store.as_mut().unwrap().timeout = Duration::from_secs(1)).await;
    let (status, adj) = t
        .post_json(
            "/api/stock-adjustments",
            json!({"sku": "TILL-CAP", "delta": 5, "reason": "delivery"}),
        )
        .await;
    assert_eq!(status, 201, "{adj}");
    assert_eq!(adj["available"], 10);
    wait_state(&t, uuid(&adj["outbox_id"]), EntryState::Confirmed, WITHIN).await;
    assert_eq!(t.sim.product_stock(shelf.cap), Some(10));

    // The write lands but its answer is late; meanwhile the shop's stock
    // is counted again elsewhere.
    t.sim.inject(
        FaultRule::new(FaultKind::SlowAnswer { delay_ms: 3000 })
            .path(&format!("/products/{}", shelf.cap))
            .method("PUT"),
    );
    let (_, adj) = t
        .post_json(
            "/api/stock-adjustments",
            json!({"product_id": shelf.cap, "delta": -2, "reason": "damaged"}),
        )
        .await;
    super::super::common::wait_for("the adjustment to land", WITHIN, || async {
        (t.sim.product_stock(shelf.cap) == Some(8)).then_some(())
    })
    .await;
    t.sim.set_product_stock(shelf.cap, 4);
    let parked = wait_state(&t, uuid(&adj["outbox_id"]), EntryState::Rejected, WITHIN).await;
    assert_eq!(
        parked.error_code.as_deref(),
        Some("stock_changed_meanwhile")
    );
    assert!(parked.error_message.unwrap().contains("from 10 to 4"));
    t.stop().await;
}

#[tokio::test]
async fn an_oversell_found_after_replay_is_reported_to_the_manager() {
    let (t, shelf) = till(|_| {}).await;
    // Another till sold most of the caps meanwhile.
    t.sim.set_product_stock(shelf.cap, 1);
    let (status, sold) = t.post_json("/api/orders", sale(shelf.cap, 3)).await;
    assert_eq!(status, 201, "{sold}");
    wait_state(&t, uuid(&sold["outbox_id"]), EntryState::Confirmed, WITHIN).await;
    assert_eq!(t.sim.product_stock(shelf.cap), Some(-2));
    let cap = shelf.cap;
    let events = super::super::common::wait_for("the oversell event", WITHIN, || async {
        let found: Vec<String> = t
            .store()
            .read(|c| possync::store::events::recent(c, 50))
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "oversell")
            .map(|e| e.message)
            .collect();
        (!found.is_empty()).then_some(found)
    })
    .await;
    assert!(
        events[0].contains(&format!("product {cap} is at -2")),
        "{events:?}"
    );
    let stock: Option<i64> = t
        .store()
        .read(move |c| {
            Ok(c.query_row(
                "SELECT stock_quantity FROM products WHERE id = ?1",
                [cap],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(stock, Some(-2), "the replica follows the shop");
    t.stop().await;
}

/// Sales as a shop sees them: none may carry an empty or invalid field,
/// which a real WooCommerce refuses (an empty `billing.email` fails
/// `is_email()`), and the simulated store checks the same schema.
#[tokio::test]
async fn sales_with_and_without_a_customer_or_an_email_reach_the_shop_as_orders() {
    let (t, shelf) = till(|_| {}).await;
    let registered = t.replica_ids(possync::domain::Resource::Customers).await[0];
    // A till customer whose billing address has no email of its own.
    let (status, local) = t
        .post_json(
            "/api/customers",
            json!({"email": "nia@till.example", "first_name": "Nia",
                   "billing": {"first_name": "Nia", "city": "Boston", "state": "massachusetts", "country": "US"}}),
        )
        .await;
    assert_eq!(status, 201, "{local}");

    let anonymous = sale(shelf.mug, 1);
    let mut with_registered = sale(shelf.mug, 1);
    with_registered["customer_id"] = json!(registered);
    let mut with_local = sale(shelf.mug, 1);
    with_local["customer_id"] = local["id"].clone();
    with_local["billing"] = json!({"first_name": "Nia", "last_name": "Till", "country": "GB"});
    let mut with_email = sale(shelf.mug, 1);
    with_email["billing"] = json!({"first_name": "Eve", "email": "eve@till.example"});

    let mut orders = Vec::new();
    for body in [anonymous, with_registered, with_local, with_email] {
        let (status, sold) = t.post_json("/api/orders", body).await;
        assert_eq!(status, 201, "{sold}");
        let e = wait_state(&t, uuid(&sold["outbox_id"]), EntryState::Confirmed, WITHIN).await;
        orders.push(t.sim.order(e.upstream_id.unwrap()).unwrap());
    }
    let email = |o: &serde_json::Value| o["billing"]["email"].as_str().unwrap_or("").to_owned();
    let [anon, reg, loc, mail] = &orders[..] else {
        unreachable!()
    };
    assert_eq!(anon["customer_id"], 0, "a guest order");
    assert_eq!(email(anon), "");
    assert_eq!(reg["customer_id"], registered);
    let till_customer = t.sim.customer_id_by_email("nia@till.example").unwrap();
    assert_eq!(loc["customer_id"], till_customer);
    assert_eq!(loc["billing"]["last_name"], "Till");
    assert_eq!(email(loc), "");
    assert_eq!(email(mail), "eve@till.example");
    let shop_customer = t.sim.customer(till_customer).unwrap();
    assert_eq!(
        shop_customer["billing"]["city"], "Boston",
        "a state may be named"
    );
    assert_eq!(
        t.sim.product_stock(shelf.mug),
        Some(16),
        "each sale took one"
    );
    t.stop().await;
}
