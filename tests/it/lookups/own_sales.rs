//! The returns desk over this till's own sales: rung up while the shop is
//! unreachable, found by receipt number, returned, then replayed and
//! mirrored, and shown once throughout.

use std::time::Duration;

use possync::domain::Resource;
use possync::domain::outbox::EntryState;
use possync::sync::schedule::Job;
use possync_sim::woo::{FaultKind, Sim};
use serde_json::{Value, json};

use super::ok;
use crate::common::{TestApp, assert_completed, small_sim};
use crate::outbox::{uuid, wait_state};

const WITHIN: Duration = Duration::from_secs(30);

/// The items of a listing.
fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().expect("a page has items")
}

/// (`refunded_quantity`, `pending_refund_quantity`, `refundable_quantity`)
/// of an order's only line, with its id.
fn only_line(order: &Value) -> (i64, i64, i64, i64) {
    let lines = order["line_items"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{order}");
    let q = |k: &str| lines[0][k].as_i64().unwrap();
    (
        q("id"),
        q("refunded_quantity"),
        q("pending_refund_quantity"),
        q("refundable_quantity"),
    )
}

#[tokio::test]
async fn a_sale_made_offline_is_found_by_receipt_number_returned_and_shown_once_after_sync() {
    let sim = Sim::spawn(small_sim()).await.expect("sim starts");
    let mug = sim.add_simple_product("Desk mug", "DESK-MUG", "10.00", Some(20));
    let t = TestApp::spawn_with_sim(sim, |c| {
        c.till.settings.order_prefix = "T9-".to_owned();
        // Polls run when the test says (run_job), not on their own.
        let s = &mut c.sync.schedule;
        (
            s.products,
            s.variations,
            s.orders,
            s.customers,
            s.metadata,
            s.sweep,
        ) = (
            Duration::from_secs(3600),
            Duration::from_secs(3600),
            Duration::from_secs(3600),
            Duration::from_secs(3600),
            Duration::from_secs(3600),
            Duration::from_secs(3600),
        );
    })
    .await;
    assert_completed(&t.pulled().await);
    let shop_orders = t.replica_ids(Resource::Orders).await.len();

    // The shop is unreachable: the sale is kept here.
    t.sim.set_fail_rate(1.0, vec![FaultKind::BadGateway]);
    let (status, sold) = t
        .post_json(
            "/api/orders",
            json!({
                "lines": [{"product_id": mug, "quantity": 3}],
                "payment_method": "cash",
                "billing": {"first_name": "Nia", "last_name": "Okafor",
                            "email": "nia@till.example", "phone": "07700 900123"},
            }),
        )
        .await;
    assert_eq!(status, 201, "{sold}");
    assert_eq!(sold["number"], "T9-000001");
    let sale = sold["id"].as_str().unwrap().to_owned();

    for q in [
        "T9-000001",
        "t9-000001",
        "T9-0000",
        "nia%40till.example",
        "Okafor",
    ] {
        let page = ok(&t, &format!("/api/orders?q={q}")).await;
        assert_eq!(page["total"], 1, "q={q}: {page}");
        let o = &items(&page)[0];
        assert_eq!(
            (&o["source"], &o["id"], &o["local_id"], &o["number"]),
            (
                &json!("local"),
                &Value::Null,
                &json!(sale),
                &json!("T9-000001")
            ),
            "q={q}: {o}"
        );
        assert_ne!(o["sync_state"], "confirmed");
        assert_eq!(o["item_count"], 3);
    }
    let all = ok(&t, "/api/orders?per_page=100").await;
    assert_eq!(all["total"], json!(shop_orders + 1));
    assert_eq!(items(&all)[0]["local_id"], json!(sale), "the newest sale");

    for path in [sale.as_str(), "t9-000001"] {
        let own = ok(&t, &format!("/api/orders/{path}")).await;
        assert_eq!(own["source"], "local");
        assert_eq!(own["billing"]["email"], "nia@till.example");
        assert_eq!(only_line(&own), (1, 0, 0, 3));
    }

    // A mug comes back, still offline.
    let (status, ret) = t
        .post_json(
            &format!("/api/orders/{sale}/refunds"),
            json!({"lines": [{"line_id": 1, "quantity": 1}], "reason": "chipped"}),
        )
        .await;
    assert_eq!(status, 201, "{ret}");
    let own = ok(&t, &format!("/api/orders/{sale}")).await;
    assert_eq!(only_line(&own), (1, 1, 1, 2));
    assert_eq!(own["local_refunds"][0]["lines"][0]["line_id"], 1);
    assert_eq!(own["local_refunds"][0]["lines"][0]["quantity"], 1);

    // The shop is back: the sale and its return are replayed.
    t.sim.set_fail_rate(0.0, Vec::new());
    let sent = wait_state(&t, uuid(&sold["outbox_id"]), EntryState::Confirmed, WITHIN).await;
    wait_state(&t, uuid(&ret["outbox_id"]), EntryState::Confirmed, WITHIN).await;
    let upstream = sent.upstream_id.expect("the shop's order id");

    // Listed once, as the shop's order, still found by the receipt number.
    for q in ["T9-000001", "t9-0000"] {
        let page = ok(&t, &format!("/api/orders?q={q}")).await;
        assert_eq!(page["total"], 1, "q={q}: {page}");
        let o = &items(&page)[0];
        assert_eq!(
            (&o["source"], &o["id"], &o["local_id"], &o["local_number"]),
            (
                &json!("upstream"),
                &json!(upstream),
                &json!(sale),
                &json!("T9-000001")
            ),
            "q={q}: {o}"
        );
        assert_eq!(o["sync_state"], "confirmed");
    }
    let all = ok(&t, "/api/orders?per_page=100").await;
    assert_eq!(all["total"], json!(shop_orders + 1));
    let listed: Vec<&Value> = items(&all)
        .iter()
        .filter(|o| o["local_id"] == json!(sale))
        .collect();
    assert_eq!(listed.len(), 1, "{all}");
    assert_eq!(listed[0]["source"], "upstream");

    // The shop's order, with its line ids; the return is confirmed but its
    // refund is not mirrored yet.
    let shop = ok(&t, &format!("/api/orders/{upstream}")).await;
    let (item, ..) = only_line(&shop);
    assert_ne!(item, 1, "the shop's line id, not the line number");
    assert_eq!(only_line(&shop), (item, 1, 1, 2));
    assert_eq!(shop["local_refunds"][0]["lines"][0]["line_id"], item);

    // Mirrored: counted once, among the shop's refunds.
    t.run_job(Job::Poll(Resource::Orders)).await;
    let shop = ok(&t, &format!("/api/orders/{upstream}")).await;
    assert_eq!(only_line(&shop), (item, 1, 0, 2), "{shop}");
    assert_eq!(shop["refunds"].as_array().unwrap().len(), 1, "{shop}");
    assert!(shop["local_refunds"].as_array().unwrap().is_empty());
    let own = ok(&t, &format!("/api/orders/{sale}")).await;
    assert_eq!(only_line(&own), (1, 1, 0, 2));

    // A return by the shop's order id names the shop's line, and what is
    // left still counts the mirrored refund, in units and in money.
    let back = |qty: i64| json!({"lines": [{"line_id": item, "quantity": qty}]});
    let path = format!("/api/orders/{upstream}/refunds");
    let (status, refused) = t.post_json(&path, json!({"amount": "25.00"})).await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("more than the 20.00 left"),
        "{refused}"
    );
    let (status, refused) = t.post_json(&path, back(3)).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        refused["error"]["message"],
        "lines[0].quantity: only 2 left to return on this line"
    );
    let (status, body) = t.post_json(&path, back(2)).await;
    assert_eq!(status, 201, "{body}");
    let shop = ok(&t, &format!("/api/orders/{upstream}")).await;
    assert_eq!(only_line(&shop), (item, 3, 2, 0));
    t.stop().await;
}

#[tokio::test]
async fn an_unknown_sale_or_receipt_number_is_a_404_and_a_bad_one_a_400() {
    let t = TestApp::spawn(small_sim(), |_| {}).await;
    assert_completed(&t.pulled().await);
    for path in [
        "/api/orders/0b8a3f4e-58c8-4a6e-9d3c-4d8e2f1a7b6c",
        "/api/orders/POS1-999999",
        "/api/orders/987654321",
    ] {
        let (status, body) = t.get_json(path).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (404, &json!("not_found")),
            "GET {path}: {body}"
        );
    }
    let (status, body) = t.get_json("/api/orders/POS1%07").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_parameter");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("id: "),
        "{body}"
    );
    t.stop().await;
}
