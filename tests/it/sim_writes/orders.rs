//! Orders and refunds: stock taken per the order experiments, totals from
//! the catalogue, meta round-trip for idempotency lookups, status changes,
//! refunds capped at what remains.

use serde_json::{Value, json};

use super::{modified_unix, spawn};
use crate::sim_client::SimClient;
use crate::sim_fixtures::shape::{assert_same_shape, captured};

fn billing_gb() -> Value {
    json!({"first_name": "Ann", "last_name": "Till", "address_1": "1 High St", "city": "London",
           "postcode": "EC1A 1BB", "country": "GB", "email": "ann@example.com"})
}

async fn order(c: &SimClient, body: Value) -> Value {
    let r = c.write("POST", "orders", Some(&body)).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

#[tokio::test]
async fn sim_orders_created_paid_take_stock_and_keep_meta() {
    let (sim, c) = spawn().await;
    let pid = sim.add_simple_product("Till Tote", "TILL-TOTE", "24.00", Some(14));
    let started = c.get("orders", &[("per_page", "1")]).await;
    let t0 = started.header("date").unwrap();
    let t0 = chrono::DateTime::parse_from_rfc2822(&t0)
        .unwrap()
        .naive_utc()
        - chrono::TimeDelta::seconds(1);
    let t0 = t0.format("%Y-%m-%dT%H:%M:%S").to_string();

    let customer = sim.customer_ids()[0];
    for (i, (status, set_paid)) in [
        ("processing", false),
        ("pending", true),
        ("completed", false),
    ]
    .into_iter()
    .enumerate()
    {
        let key = format!("key-{i}");
        let o = order(
            &c,
            json!({"status": status, "set_paid": set_paid, "billing": billing_gb(), "customer_id": customer,
                   "shipping_lines": [{"method_id": "local_pickup", "method_title": "Collect in store", "total": "0.00"}],
                   "payment_method": "cod", "payment_method_title": "Cash on delivery",
                   "date_created": "2001-01-01T00:00:00", "created_via": "pos", "total": "1.00",
                   "line_items": [{"sku": "TILL-TOTE", "quantity": 2}],
                   "meta_data": [{"key": "possync_key", "value": key}, {"key": "_possync_hidden", "value": "h"}]}),
        )
        .await;
        assert_eq!(
            sim.product_stock(pid),
            Some(14 - 2 * (i as i64 + 1)),
            "{status} takes 2"
        );
        assert_eq!(
            o["status"],
            if status == "pending" {
                "processing"
            } else {
                status
            }
        );
        assert_eq!(o["created_via"], "rest-api");
        assert_ne!(o["date_created"], "2001-01-01T00:00:00");
        assert_eq!(o["line_items"][0]["meta_data"][0]["key"], "_reduced_stock");
        assert_eq!(o["line_items"][0]["meta_data"][0]["value"], "2");
        // 2 × 24.00 gross at 20 % VAT: 40.00 net + 8.00 tax.
        assert_eq!(o["line_items"][0]["subtotal"], "40.00");
        assert_eq!(o["line_items"][0]["total_tax"], "8.00");
        assert_eq!(o["total"], "48.00");
        let keys: Vec<&str> = o["meta_data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["possync_key", "_possync_hidden"]);
        assert_eq!(
            sim.order_ids_with_meta("possync_key", key),
            vec![o["id"].as_i64().unwrap()]
        );
        assert_same_shape(
            "order create",
            &captured(&["event_order_create_response", "order_event_created"]),
            std::slice::from_ref(&o),
            &[],
            // The captured orders had no order meta, and PHP prints a whole
            // `total / quantity` as an integer (48 / 2).
            &[
                (".line_items[].price", "int"),
                (".meta_data[]", "object"),
                (".meta_data[].id", "int"),
                (".meta_data[].key", "string"),
                (".meta_data[].value", "string"),
            ],
        );
    }
    // WooCommerce cannot search by meta; the `after` window with `_fields` finds the keys.
    assert!(
        c.get("orders", &[("search", "key-0")])
            .await
            .ids()
            .is_empty()
    );
    let listed = c
        .get(
            "orders",
            &[
                ("after", &t0),
                ("dates_are_gmt", "true"),
                ("_fields", "id,meta_data"),
            ],
        )
        .await
        .json();
    let found: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| o["meta_data"].as_array().unwrap())
        .filter(|m| m["key"] == "possync_key")
        .map(|m| &m["value"])
        .collect();
    assert_eq!(found.len(), 3);
    assert_eq!(sim.orders_with_meta("possync_key").len(), 3);

    let r = c
        .write("POST", "orders", Some(&json!({"customer_id": 999999})))
        .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (400, json!("woocommerce_rest_invalid_customer_id"))
    );
    let r = c
        .write(
            "POST",
            "orders",
            Some(&json!({"line_items": [{"quantity": 1}]})),
        )
        .await;
    assert_eq!(
        r.json()["code"],
        "woocommerce_rest_required_product_reference"
    );
}

#[tokio::test]
async fn sim_sells_a_trashed_product_and_an_unknown_id_as_an_empty_line_like_woocommerce() {
    // `prepare_line_items`: `wc_get_product` finds a trashed product; for an
    // id it does not find, the line is kept without a product (the real
    // store answered both with 201, checked by the contract suite).
    let (sim, c) = spawn().await;
    let pid = sim.add_simple_product("Old Pot", "OLD-POT", "10.00", Some(5));
    sim.trash_product(pid);
    let o = order(
        &c,
        json!({"billing": billing_gb(), "line_items": [{"product_id": pid, "quantity": 1}]}),
    )
    .await;
    assert_eq!(
        (
            o["total"].as_str(),
            o["line_items"][0]["product_id"].as_i64()
        ),
        (Some("10.00"), Some(pid))
    );
    let o = order(
        &c,
        json!({"billing": billing_gb(), "line_items": [{"product_id": 987654321, "quantity": 2}]}),
    )
    .await;
    let line = &o["line_items"][0];
    assert_eq!(
        (
            line["product_id"].as_i64(),
            line["name"].as_str(),
            line["total"].as_str()
        ),
        (Some(0), Some(""), Some("0.00"))
    );
    assert_eq!(
        (line["quantity"].as_i64(), o["total"].as_str()),
        (Some(2), Some("0.00"))
    );
}

#[tokio::test]
async fn sim_order_status_changes_move_stock_and_dates() {
    let (sim, c) = spawn().await;
    let pid = sim.add_simple_product("Pickup Pot", "PICK-POT", "10.00", Some(5));
    let o = order(
        &c,
        json!({"billing": billing_gb(), "line_items": [{"product_id": pid, "quantity": 1}]}),
    )
    .await;
    let id = o["id"].as_i64().unwrap();
    assert_eq!(
        (o["status"].clone(), sim.product_stock(pid)),
        (json!("pending"), Some(5)),
        "pending takes nothing"
    );
    sim.set_clock_offset(120);
    let r = c
        .write(
            "PUT",
            &format!("orders/{id}"),
            Some(&json!({"status": "completed"})),
        )
        .await;
    let done = r.json();
    assert_eq!(done["status"], "completed");
    assert!(done["date_completed"].is_string() && done["date_paid"].is_string());
    assert!(modified_unix(&done) > modified_unix(&o));
    assert_eq!(sim.product_stock(pid), Some(4));
    let r = c
        .write(
            "PUT",
            &format!("orders/{id}"),
            Some(&json!({"status": "cancelled"})),
        )
        .await;
    assert_eq!(r.json()["status"], "cancelled");
    assert_eq!(
        sim.product_stock(pid),
        Some(5),
        "cancelling gives the stock back"
    );

    let r = c.write("DELETE", &format!("orders/{id}"), None).await;
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (200, json!("cancelled"))
    );
    assert_eq!(
        c.get(&format!("orders/{id}"), &[]).await.json()["status"],
        "trash"
    );
    assert_eq!(
        c.write("DELETE", &format!("orders/{id}"), None)
            .await
            .status,
        410
    );
    let r = c
        .try_write(
            "DELETE",
            &format!("orders/{id}"),
            &[("force", "true")],
            None,
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(c.get(&format!("orders/{id}"), &[]).await.status, 404);
}

#[tokio::test]
async fn sim_refunds_restock_on_request_and_stop_at_what_remains() {
    let (sim, c) = spawn().await;
    let pid = sim.add_simple_product("Shortbread", "FOOD-SHB", "7.50", Some(16));
    let o = order(
        &c,
        json!({"status": "completed", "billing": billing_gb(), "payment_method": "cod",
               "line_items": [{"product_id": pid, "quantity": 3}]}),
    )
    .await;
    let id = o["id"].as_i64().unwrap();
    let line = o["line_items"][0]["id"].as_i64().unwrap();
    assert_eq!(sim.product_stock(pid), Some(13));
    let route = format!("orders/{id}/refunds");

    let r = c
        .write(
            "POST",
            &route,
            Some(&json!({"amount": "5.00", "reason": "Goodwill"})),
        )
        .await;
    assert_eq!(
        r.status, 500,
        "api_refund defaults to true and cod cannot refund"
    );
    assert_eq!(
        r.json()["code"],
        "woocommerce_rest_cannot_create_order_refund"
    );

    let r = c
        .write(
            "POST",
            &route,
            Some(
                &json!({"amount": "7.50", "api_refund": false, "api_restock": true,
                         "line_items": [{"id": line, "quantity": 1, "refund_total": "6.25",
                                         "refund_tax": [{"id": 1, "refund_total": "1.25"}]}]}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let refund = r.json();
    assert_eq!(refund["amount"], "7.50");
    assert_eq!(refund["refunded_payment"], false);
    assert_eq!(sim.product_stock(pid), Some(14), "restocked");
    assert_same_shape(
        "refund create",
        &captured(&["event_refund_create_response", "order_refund_single"]),
        std::slice::from_ref(&refund),
        &[],
        &[],
    );

    let r = c
        .write(
            "POST",
            &route,
            Some(&json!({"amount": "1.00", "api_refund": false, "api_restock": false})),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        sim.product_stock(pid),
        Some(14),
        "an amount-only refund leaves stock alone"
    );

    let r = c
        .write(
            "POST",
            &route,
            Some(&json!({"amount": "100.00", "api_refund": false})),
        )
        .await;
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["message"], "Invalid refund amount.");
    let r = c
        .write(
            "POST",
            &route,
            Some(&json!({"amount": 1.0, "api_refund": false})),
        )
        .await;
    assert_eq!(
        r.json()["data"]["params"]["amount"],
        "amount is not of type string."
    );

    let after = c.get(&format!("orders/{id}"), &[]).await.json();
    let totals: Vec<&str> = after["refunds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["total"].as_str().unwrap())
        .collect();
    assert_eq!(totals, ["-1.00", "-7.50"]);
    assert_eq!(after["status"], "completed");
    let r = c
        .write(
            "POST",
            &route,
            Some(&json!({"amount": "14.00", "api_refund": false})),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        c.get(&format!("orders/{id}"), &[]).await.json()["status"],
        "refunded"
    );
}
