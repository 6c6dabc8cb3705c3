//! The local write API: what a change answers, where it is stored, and
//! that bad input is refused with the right status and changes nothing.

use possync::domain::outbox::EntryState;
use possync::domain::till::OversellPolicy;
use serde_json::{Value, json};

use super::{entry, sale, till, unconfirmed, uuid};
use crate::common::TestApp;

/// A well-formed address longer than an order's billing email column.
const LONG_EMAIL: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.com";

fn busy(t: &TestApp) {
    super::busy(&t.sim);
}

/// Rows in every table a change writes.
async fn written(t: &TestApp) -> Vec<i64> {
    t.store()
        .read(|c| {
            let mut out = Vec::new();
            for table in [
                "outbox",
                "local_orders",
                "local_order_lines",
                "local_refunds",
                "local_completions",
                "local_customers",
                "local_stock_adjustments",
            ] {
                out.push(c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?);
            }
            Ok(out)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_sale_is_stored_with_its_local_number_and_queued_before_the_answer() {
    let (t, shelf) = till(|c| c.till.settings.order_prefix = "T9-".to_owned()).await;
    busy(&t);

    let (status, body) = t
        .post_json(
            "/api/orders",
            json!({
                "lines": [
                    {"product_id": shelf.mug, "quantity": 2},
                    {"sku": "till-cap", "quantity": 1, "unit_price": "12.00", "discount": 2},
                ],
                "payment_method": "card",
                "note": "gift",
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["number"], "T9-000001");
    assert_eq!(body["total"], "30.00");
    assert_eq!(body["lines"][1]["total"], "10.00");
    let e = entry(&t, uuid(&body["outbox_id"])).await;
    assert!(e.state.is_pending(), "{e:?}");
    assert_eq!(unconfirmed(&t, shelf.mug).await, 2);

    let (_, second) = t.post_json("/api/orders", sale(shelf.gift, 1)).await;
    assert_eq!(second["number"], "T9-000002");
    // Replay may already be sending or have confirmed them: list them all.
    let (status, list) = t.send("GET", "/api/outbox", None).await;
    assert_eq!(status, 200);
    assert!(list["entries"].as_array().unwrap().len() >= 2, "{list}");
    t.stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_with_its_field_and_changes_nothing() {
    let (t, shelf) = till(|_| {}).await;
    busy(&t);
    // Arrange: one sale (2 mugs) and one customer to refer to.
    let (_, sold) = t.post_json("/api/orders", sale(shelf.mug, 2)).await;
    let order = sold["id"].as_str().unwrap().to_owned();
    let (_, done) = t
        .post_json(&format!("/api/orders/{order}/complete"), json!({}))
        .await;
    assert!(done["outbox_id"].is_string(), "{done}");
    let taken = t.sim.customer_ids()[0];
    let taken_email = t.sim.customer(taken).unwrap()["email"].clone();
    let before = written(&t).await;

    let refunds = format!("/api/orders/{order}/refunds");
    let complete = format!("/api/orders/{order}/complete");
    let m = shelf.mug;
    let cases: Vec<(&str, String, Value, u16, &str)> = vec![
        (
            "POST",
            "/api/orders".into(),
            json!("RAW:{\"lines\": ["),
            400,
            "",
        ),
        ("POST", "/api/orders".into(), json!("RAW:[1, 2]"), 422, "$"),
        ("POST", "/api/orders".into(), json!({}), 422, "$"),
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [], "payment_method": "cash"}),
            422,
            "lines",
        ),
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [{"product_id": m, "quantity": 0}], "payment_method": "cash"}),
            422,
            "lines[0].quantity",
        ),
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [{"product_id": m, "quantity": "two"}], "payment_method": "cash"}),
            422,
            "lines[0].quantity",
        ),
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [{"product_id": m, "sku": "TILL-MUG", "quantity": 1}], "payment_method": "cash"}),
            422,
            "lines[0]",
        ),
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [{"quantity": 1}], "payment_method": "cash"}),
            422,
            "lines[0]",
        ),
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [{"product_id": m, "quantity": 1, "unit_price": "ten"}], "payment_method": "cash"}),
            422,
            "lines[0].unit_price",
        ),
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [{"product_id": m, "quantity": 1, "unit_price": -1}], "payment_method": "cash"}),
            422,
            "lines[0].unit_price",
        ),
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [{"product_id": m, "quantity": 1, "discount": "11"}], "payment_method": "cash"}),
            422,
            "lines[0].discount",
        ),
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [{"product_id": m, "quantity": 1, "colour": "red"}], "payment_method": "cash"}),
            422,
            "lines[0].colour",
        ),
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [{"product_id": m, "quantity": 1}]}),
            422,
            "payment_method",
        ),
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [{"product_id": m, "quantity": 1}], "payment_method": "cash", "customer_id": "someone"}),
            422,
            "customer_id",
        ),
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [{"product_id": m, "quantity": 1}], "payment_method": "cash", "billing": {"email": "nope"}}),
            422,
            "billing.email",
        ),
        // What the shop itself would refuse (WordPress' is_email, column
        // sizes, the shop's own countries and states), refused here first.
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [{"product_id": m, "quantity": 1}], "payment_method": "cash", "billing": {"email": "x@y.z"}}),
            422,
            "billing.email",
        ),
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [{"product_id": m, "quantity": 1}], "payment_method": "cash", "billing": {"email": LONG_EMAIL}}),
            422,
            "billing.email",
        ),
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [{"product_id": m, "quantity": 1}], "payment_method": "cash", "billing": {"phone": "1".repeat(101)}}),
            422,
            "billing.phone",
        ),
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [{"product_id": m, "quantity": 1}], "payment_method": "cash", "billing": {"country": "UK"}}),
            422,
            "billing.country",
        ),
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [{"product_id": m, "quantity": 1}], "payment_method": "cash", "billing": {"country": "US", "state": "ZZ"}}),
            422,
            "billing.state",
        ),
        (
            "POST",
            "/api/customers".into(),
            json!({"email": "x@y.z"}),
            422,
            "email",
        ),
        (
            "POST",
            "/api/customers".into(),
            json!({"email": format!("{}@b.example", "a".repeat(92))}),
            422,
            "email",
        ),
        (
            "POST",
            "/api/customers".into(),
            json!({"email": "ok@b.example", "billing": {"country": "US", "state": "Atlantis"}}),
            422,
            "billing.state",
        ),
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [{"product_id": 9_999_999, "quantity": 1}], "payment_method": "cash"}),
            404,
            "",
        ),
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [{"sku": "NO-SUCH-SKU", "quantity": 1}], "payment_method": "cash"}),
            404,
            "",
        ),
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [{"product_id": m, "quantity": 1}], "payment_method": "cash", "customer_id": 9_999_999}),
            404,
            "",
        ),
        (
            "POST",
            "/api/orders".into(),
            json!({"lines": [{"product_id": m, "quantity": 1}], "payment_method": "cash", "customer_id": "0b8a3f4e-58c8-4a6e-9d3c-4d8e2f1a7b6c"}),
            404,
            "",
        ),
        ("POST", refunds.clone(), json!("RAW:{"), 400, ""),
        ("POST", refunds.clone(), json!({}), 422, "lines"),
        (
            "POST",
            refunds.clone(),
            json!({"lines": [{"product_id": m, "quantity": 3}]}),
            422,
            "lines[0].quantity",
        ),
        (
            "POST",
            refunds.clone(),
            json!({"lines": [{"line_id": 7, "quantity": 1}]}),
            422,
            "lines[0]",
        ),
        (
            "POST",
            refunds.clone(),
            json!({"amount": "20.01"}),
            422,
            "amount",
        ),
        (
            "POST",
            refunds.clone(),
            json!({"amount": "0"}),
            422,
            "amount",
        ),
        (
            "POST",
            "/api/orders/0b8a3f4e-58c8-4a6e-9d3c-4d8e2f1a7b6c/refunds".into(),
            json!({"amount": "1"}),
            404,
            "",
        ),
        (
            "POST",
            "/api/orders/not-an-order/refunds".into(),
            json!({"amount": "1"}),
            404,
            "",
        ),
        (
            "POST",
            "/api/orders/9999999/refunds".into(),
            json!({"amount": "1"}),
            404,
            "",
        ),
        ("POST", complete.clone(), json!({}), 409, ""),
        ("POST", complete.clone(), json!("RAW:nope"), 400, ""),
        (
            "POST",
            complete.clone(),
            json!({"status": "done"}),
            422,
            "status",
        ),
        (
            "POST",
            "/api/orders/9999999/complete".into(),
            json!({}),
            404,
            "",
        ),
        (
            "POST",
            "/api/customers".into(),
            json!("RAW:{'a':1}"),
            400,
            "",
        ),
        (
            "POST",
            "/api/customers".into(),
            json!({"first_name": "Ann"}),
            422,
            "email",
        ),
        (
            "POST",
            "/api/customers".into(),
            json!({"email": "not an email"}),
            422,
            "email",
        ),
        (
            "POST",
            "/api/customers".into(),
            json!({"email": "a@b.example", "shipping": {"country": "Britain"}}),
            422,
            "shipping.country",
        ),
        (
            "POST",
            "/api/customers".into(),
            json!({"email": taken_email}),
            409,
            "",
        ),
        (
            "PATCH",
            "/api/customers/9999999".into(),
            json!({"first_name": "Ann"}),
            404,
            "",
        ),
        (
            "PATCH",
            "/api/customers/somebody".into(),
            json!({"first_name": "Ann"}),
            404,
            "",
        ),
        (
            "PATCH",
            format!("/api/customers/{taken}"),
            json!({}),
            422,
            "$",
        ),
        (
            "PATCH",
            format!("/api/customers/{taken}"),
            json!("RAW:]"),
            400,
            "",
        ),
        (
            "PATCH",
            format!("/api/customers/{taken}"),
            json!({"email": 5}),
            422,
            "email",
        ),
        (
            "POST",
            "/api/stock-adjustments".into(),
            json!("RAW:"),
            422,
            "$",
        ),
        (
            "POST",
            "/api/stock-adjustments".into(),
            json!("RAW:{,}"),
            400,
            "",
        ),
        (
            "POST",
            "/api/stock-adjustments".into(),
            json!({"product_id": m, "delta": 0}),
            422,
            "delta",
        ),
        (
            "POST",
            "/api/stock-adjustments".into(),
            json!({"delta": 3}),
            422,
            "$",
        ),
        (
            "POST",
            "/api/stock-adjustments".into(),
            json!({"product_id": 9_999_999, "delta": 3}),
            404,
            "",
        ),
        (
            "POST",
            "/api/stock-adjustments".into(),
            json!({"product_id": shelf.gift, "delta": 3}),
            422,
            "product_id",
        ),
        (
            "GET",
            "/api/outbox?state=lost".into(),
            Value::Null,
            422,
            "state",
        ),
        (
            "GET",
            "/api/outbox?limit=0".into(),
            Value::Null,
            422,
            "limit",
        ),
        (
            "POST",
            "/api/outbox/0b8a3f4e-58c8-4a6e-9d3c-4d8e2f1a7b6c/retry".into(),
            Value::Null,
            404,
            "",
        ),
        (
            "DELETE",
            "/api/outbox/not-an-id".into(),
            Value::Null,
            404,
            "",
        ),
    ];
    for (method, path, body, want, field) in cases {
        let body = (!body.is_null()).then_some(body);
        let shown = format!("{method} {path} {body:?}");
        let (status, answer) = t.send(method, &path, body).await;
        assert_eq!(status, want, "{shown} answered {answer}");
        assert!(answer["error"]["code"].is_string(), "{shown}: {answer}");
        assert!(answer["error"]["message"].is_string(), "{shown}: {answer}");
        if !field.is_empty() {
            assert_eq!(answer["error"]["field"], field, "{shown}: {answer}");
        }
    }
    assert_eq!(
        written(&t).await,
        before,
        "a refused request wrote something"
    );
    t.stop().await;
}

#[tokio::test]
async fn oversell_is_refused_under_block_and_reported_under_warn() {
    let (t, shelf) = till(|c| c.till.settings.oversell = OversellPolicy::Block).await;
    busy(&t);
    let (status, _) = t.post_json("/api/orders", sale(shelf.cap, 5)).await;
    assert_eq!(status, 201);
    let (status, body) = t.post_json("/api/orders", sale(shelf.cap, 1)).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "insufficient_stock");
    // Untracked stock is never refused.
    let (status, _) = t.post_json("/api/orders", sale(shelf.gift, 100)).await;
    assert_eq!(status, 201);
    t.stop().await;

    let (t, shelf) = till(|_| {}).await;
    busy(&t);
    let (status, body) = t.post_json("/api/orders", sale(shelf.cap, 7)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["warnings"][0]["available"], 5);
    assert_eq!(body["warnings"][0]["requested"], 7);
    t.stop().await;
}

#[tokio::test]
async fn discard_reverses_the_local_effect_and_respects_what_depends_on_it() {
    let (t, shelf) = till(|_| {}).await;
    busy(&t);
    let (_, sold) = t.post_json("/api/orders", sale(shelf.mug, 3)).await;
    let sale_entry = sold["outbox_id"].as_str().unwrap().to_owned();
    let (status, ret) = t
        .post_json(
            &format!("/api/orders/{}/refunds", sold["id"].as_str().unwrap()),
            json!({"lines": [{"sku": "TILL-MUG", "quantity": 1}], "restock": true, "reason": "chipped"}),
        )
        .await;
    assert_eq!(status, 201, "{ret}");
    assert_eq!(ret["amount"], "10.00");
    assert_eq!(
        unconfirmed(&t, shelf.mug).await,
        2,
        "3 sold, 1 back on the shelf"
    );

    // Once replay tried it and the busy shop sent it back to the queue.
    let id = uuid(&sold["outbox_id"]);
    crate::common::wait_for(
        "a refused attempt",
        std::time::Duration::from_secs(20),
        || async {
            let e = entry(&t, id).await;
            (e.attempts > 0 && e.state == EntryState::Queued).then_some(())
        },
    )
    .await;
    let (status, body) = t
        .send("DELETE", &format!("/api/outbox/{sale_entry}"), None)
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "has_dependents");

    let (status, body) = t
        .send(
            "DELETE",
            &format!("/api/outbox/{}", ret["outbox_id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(
        (status, body["state"].as_str()),
        (200, Some("discarded")),
        "{body}"
    );
    let (status, body) = t
        .send("DELETE", &format!("/api/outbox/{sale_entry}"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        unconfirmed(&t, shelf.mug).await,
        0,
        "discarding gives the stock back"
    );
    let (status, body) = t
        .send("POST", &format!("/api/outbox/{sale_entry}/retry"), None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("not_retryable"))
    );

    // A customer change is undone on discard.
    let id = t.sim.customer_ids()[0];
    let (status, changed) = t
        .send(
            "PATCH",
            &format!("/api/customers/{id}"),
            Some(json!({"first_name": "Zed"})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    let name = |t: &TestApp| {
        let store = t.store().clone();
        async move {
            store
                .read(move |c| {
                    Ok(c.query_row(
                        "SELECT first_name FROM customers WHERE id = ?1",
                        [id],
                        |r| r.get::<_, String>(0),
                    )?)
                })
                .await
                .unwrap()
        }
    };
    assert_eq!(name(&t).await, "Zed");
    let (status, _) = t
        .send(
            "DELETE",
            &format!("/api/outbox/{}", changed["outbox_id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_ne!(name(&t).await, "Zed");
    let e = entry(&t, uuid(&changed["outbox_id"])).await;
    assert_eq!(e.state, EntryState::Discarded);
    t.stop().await;
}
