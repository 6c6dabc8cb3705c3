//! The till's writes against the simulated store over real HTTP: what each
//! mutation changes, its refusals in Shopify's shapes, `@idempotent` keys,
//! the order search's lag and the commit-then-drop fault.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::tests::{post, sim_with};
use super::*;

const V: ApiVersion = ApiVersion::V2026_04;

async fn lagging(search_lag: Duration) -> ShopifySim {
    sim_with(ShopifyConfig {
        now: Some(1_780_000_000),
        search_lag,
        ..ShopifyConfig::default()
    })
    .await
}

/// The first variant (its inventory item) and the two locations.
async fn shelf(sim: &ShopifySim) -> (String, String, String, String) {
    let (_, b) = post(
        sim,
        V,
        "{ productVariants(first: 1) { nodes { id inventoryItem { id } } } locations(first: 2) { nodes { id } } }",
        json!({}),
    )
    .await;
    let v = &b["data"]["productVariants"]["nodes"][0];
    let l = &b["data"]["locations"]["nodes"];
    let s = |x: &Value| x.as_str().unwrap().to_owned();
    (
        s(&v["id"]),
        s(&v["inventoryItem"]["id"]),
        s(&l[0]["id"]),
        s(&l[1]["id"]),
    )
}

const ORDER_CREATE: &str = "mutation($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) { orderCreate(order: $order, options: $options) { order { id name sourceIdentifier displayFinancialStatus displayFulfillmentStatus metafield(namespace: \"possync\", key: \"key\") { value } transactions(first: 5) { id kind status gateway amountSet { shopMoney { amount } } } lineItems(first: 5) { nodes { id quantity variant { id } } } totalPriceSet { shopMoney { amount } } } userErrors { field message code } } }";

fn order_input(variant: &str, location: &str, source: &str) -> Value {
    json!({
        "order": {
            "sourceIdentifier": source, "currency": "GBP",
            "lineItems": [{"variantId": variant, "quantity": 2,
                           "priceSet": {"shopMoney": {"amount": "7.50", "currencyCode": "GBP"}}}],
            "metafields": [{"namespace": "possync", "key": "key", "type": "single_line_text_field", "value": source}],
            "transactions": [{"kind": "SALE", "status": "SUCCESS", "gateway": "cash",
                              "amountSet": {"shopMoney": {"amount": "15.00", "currencyCode": "GBP"}}}],
            "fulfillment": {"locationId": location},
        },
        "options": {"inventoryBehaviour": "DECREMENT_IGNORING_POLICY"},
    })
}

const BY_SOURCE: &str =
    "query($q: String!) { orders(first: 5, query: $q) { nodes { id sourceIdentifier } } }";

#[tokio::test]
async fn an_order_keeps_its_source_and_payment_takes_stock_at_its_location_and_is_found_late() {
    let sim = lagging(Duration::from_millis(400)).await;
    let (variant, _, loc, other) = shelf(&sim).await;
    let (here, there) = (
        sim.available(&variant, &loc).unwrap(),
        sim.available(&variant, &other).unwrap(),
    );
    let (_, b) = post(
        &sim,
        V,
        ORDER_CREATE,
        order_input(&variant, &loc, "till-key-1"),
    )
    .await;
    let o = &b["data"]["orderCreate"]["order"];
    assert_eq!(b["data"]["orderCreate"]["userErrors"], json!([]), "{b}");
    assert_eq!(o["sourceIdentifier"], "till-key-1");
    assert_eq!(o["metafield"]["value"], "till-key-1");
    assert_eq!(o["displayFinancialStatus"], "PAID");
    assert_eq!(o["displayFulfillmentStatus"], "FULFILLED");
    assert_eq!(o["totalPriceSet"]["shopMoney"]["amount"], "15.0");
    let t = &o["transactions"][0];
    assert_eq!(
        (&t["kind"], &t["gateway"]),
        (&json!("SALE"), &json!("cash"))
    );
    assert_eq!(
        o["lineItems"]["nodes"][0]["variant"]["id"],
        variant.as_str()
    );
    assert_eq!(sim.available(&variant, &loc), Some(here - 2));
    assert_eq!(
        sim.available(&variant, &other),
        Some(there),
        "only the fulfilling location"
    );

    // Invisible to search at first, found once the index caught up.
    let q = json!({"q": "source_identifier:'till-key-1'"});
    let (_, b) = post(&sim, V, BY_SOURCE, q.clone()).await;
    assert_eq!(b["data"]["orders"]["nodes"], json!([]), "not indexed yet");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, b) = post(&sim, V, BY_SOURCE, q.clone()).await;
        if let Some(n) = b["data"]["orders"]["nodes"]
            .as_array()
            .filter(|n| !n.is_empty())
        {
            assert_eq!(n[0]["id"], o["id"]);
            break;
        }
        assert!(Instant::now() < deadline, "never found");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_bad_order_is_a_user_error_and_changes_nothing() {
    let sim = lagging(Duration::ZERO).await;
    let (variant, _, loc, _) = shelf(&sim).await;
    let before = sim.counts().orders;
    let mut input = order_input("gid://shopify/ProductVariant/1", &loc, "bad");
    let (_, b) = post(&sim, V, ORDER_CREATE, input.clone()).await;
    assert_eq!(b["data"]["orderCreate"]["order"], Value::Null);
    let e = &b["data"]["orderCreate"]["userErrors"][0];
    assert_eq!(e["field"], json!(["order", "lineItems", "0", "variantId"]));
    assert_eq!(e["code"], "INVALID");
    input["order"]["lineItems"][0]["variantId"] = json!(variant);
    input["order"]["lineItems"][0]["quantity"] = json!(0);
    let (_, b) = post(&sim, V, ORDER_CREATE, input).await;
    assert_eq!(
        b["data"]["orderCreate"]["userErrors"][0]["field"],
        json!(["order", "lineItems", "0", "quantity"])
    );
    assert_eq!(sim.counts().orders, before);
    sim.shutdown().await;
}

const REFUND: &str = "mutation($input: RefundInput!, $key: String!) { refundCreate(input: $input) @idempotent(key: $key) { refund { id note totalRefundedSet { shopMoney { amount } } } order { id displayFinancialStatus } userErrors { field message } } }";
const REFUND_NO_KEY: &str = "mutation($input: RefundInput!) { refundCreate(input: $input) { refund { id } userErrors { field message } } }";

#[tokio::test]
async fn a_refund_needs_its_key_and_the_same_key_refunds_once() {
    let sim = lagging(Duration::ZERO).await;
    let (variant, _, loc, _) = shelf(&sim).await;
    let (_, b) = post(&sim, V, ORDER_CREATE, order_input(&variant, &loc, "r-1")).await;
    let o = &b["data"]["orderCreate"]["order"];
    let line = o["lineItems"]["nodes"][0]["id"].clone();
    let sale = o["transactions"][0]["id"].clone();
    let stock = sim.available(&variant, &loc).unwrap();
    let input = json!({
        "orderId": o["id"], "note": "wrong size",
        "refundLineItems": [{"lineItemId": line, "quantity": 1, "restockType": "RETURN", "locationId": loc}],
        "transactions": [{"orderId": o["id"], "parentId": sale, "kind": "REFUND", "gateway": "cash", "amount": "7.50"}],
    });
    // Required from 2026-04: the captured top-level error, nothing applied.
    let (_, b) = post(&sim, V, REFUND_NO_KEY, json!({"input": input})).await;
    assert_eq!(
        b["errors"][0]["message"],
        "The @idempotent directive is required for this mutation but was not provided."
    );
    assert_eq!(b["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    assert_eq!(b["data"]["refundCreate"], Value::Null);
    assert_eq!(sim.available(&variant, &loc), Some(stock));

    let vars = json!({"input": input, "key": "refund-key-1"});
    let (_, first) = post(&sim, V, REFUND, vars.clone()).await;
    let (_, again) = post(&sim, V, REFUND, vars).await;
    let r = &first["data"]["refundCreate"];
    assert_eq!(r["userErrors"], json!([]), "{first}");
    assert_eq!(
        r["refund"]["totalRefundedSet"]["shopMoney"]["amount"],
        "7.5"
    );
    assert_eq!(r["order"]["displayFinancialStatus"], "PARTIALLY_REFUNDED");
    assert_eq!(
        again["data"]["refundCreate"]["refund"]["id"],
        r["refund"]["id"]
    );
    assert_eq!(
        sim.available(&variant, &loc),
        Some(stock + 1),
        "restocked once"
    );
    let order = sim.node(o["id"].as_str().unwrap()).unwrap();
    assert_eq!(order["refunds"].as_array().unwrap().len(), 1);

    // The key again with other parameters.
    let mut other = input.clone();
    other["note"] = json!("changed");
    let (_, b) = post(
        &sim,
        V,
        REFUND,
        json!({"input": other, "key": "refund-key-1"}),
    )
    .await;
    assert_eq!(
        b["data"]["refundCreate"]["userErrors"][0]["message"],
        "The same idempotency key cannot be used with different operation parameters."
    );
    // More than is left to refund.
    let mut over = input;
    over["refundLineItems"][0]["quantity"] = json!(5);
    let (_, b) = post(
        &sim,
        V,
        REFUND,
        json!({"input": over, "key": "refund-key-2"}),
    )
    .await;
    assert_eq!(
        b["data"]["refundCreate"]["userErrors"][0]["field"],
        json!(["refundLineItems", "0", "quantity"])
    );
    assert_eq!(sim.available(&variant, &loc), Some(stock + 1));
    sim.shutdown().await;
}

const ADJUST: &str = "mutation($input: InventoryAdjustQuantitiesInput!, $key: String!) { inventoryAdjustQuantities(input: $input) @idempotent(key: $key) { inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } } userErrors { field message code } } }";
const ADJUST_NO_KEY: &str = "mutation($input: InventoryAdjustQuantitiesInput!) { inventoryAdjustQuantities(input: $input) { inventoryAdjustmentGroup { id } userErrors { field message code } } }";
const SET: &str = "mutation($input: InventorySetQuantitiesInput!, $key: String!) { inventorySetQuantities(input: $input) @idempotent(key: $key) { inventoryAdjustmentGroup { id changes { name delta } } userErrors { field message code } } }";
const SET_NO_KEY: &str = "mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { inventoryAdjustmentGroup { id } userErrors { field message code } } }";

#[tokio::test]
async fn stock_changes_need_their_key_and_the_quantity_they_change_from() {
    let sim = lagging(Duration::ZERO).await;
    let (variant, item, loc, _) = shelf(&sim).await;
    let q = sim.available(&variant, &loc).unwrap();
    let change = |from: Option<i64>| {
        let mut c = json!({"inventoryItemId": item, "locationId": loc, "delta": 3});
        if let Some(f) = from {
            c["changeFromQuantity"] = json!(f);
        }
        json!({"name": "available", "reason": "correction", "changes": [c]})
    };
    let (_, b) = post(&sim, V, ADJUST_NO_KEY, json!({"input": change(Some(q))})).await;
    assert_eq!(b["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{b}");
    let (_, b) = post(&sim, V, ADJUST, json!({"input": change(None), "key": "a0"})).await;
    assert_eq!(
        b["errors"][0]["message"],
        "InventoryChangeInput must include the following argument: changeFromQuantity."
    );
    assert_eq!(
        b["errors"][0]["extensions"]["code"],
        "INVALID_FIELD_ARGUMENTS"
    );
    let (_, b) = post(
        &sim,
        V,
        ADJUST,
        json!({"input": change(Some(q + 1)), "key": "a1"}),
    )
    .await;
    assert_eq!(
        b["data"]["inventoryAdjustQuantities"]["userErrors"][0]["code"],
        "CHANGE_FROM_QUANTITY_STALE"
    );
    assert_eq!(
        sim.available(&variant, &loc),
        Some(q),
        "nothing refused changed"
    );
    for _ in 0..2 {
        let (_, b) = post(
            &sim,
            V,
            ADJUST,
            json!({"input": change(Some(q)), "key": "a2"}),
        )
        .await;
        let changes =
            &b["data"]["inventoryAdjustQuantities"]["inventoryAdjustmentGroup"]["changes"];
        // As captured: available mirrored as on_hand, no quantity after.
        assert_eq!(
            changes,
            &json!([{"name": "available", "delta": 3, "quantityAfterChange": null},
                    {"name": "on_hand", "delta": 3, "quantityAfterChange": null}])
        );
    }
    assert_eq!(
        sim.available(&variant, &loc),
        Some(q + 3),
        "the key applied once"
    );

    let set = |to: i64, from: i64| {
        json!({"name": "available", "reason": "correction",
               "quantities": [{"inventoryItemId": item, "locationId": loc, "quantity": to, "changeFromQuantity": from}]})
    };
    let (_, b) = post(&sim, V, SET_NO_KEY, json!({"input": set(1, q + 3)})).await;
    assert_eq!(b["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    let (_, b) = post(&sim, V, SET, json!({"input": set(1, q), "key": "s1"})).await;
    assert_eq!(
        b["data"]["inventorySetQuantities"]["userErrors"][0]["code"],
        "CHANGE_FROM_QUANTITY_STALE"
    );
    let (_, b) = post(&sim, V, SET, json!({"input": set(1, q + 3), "key": "s2"})).await;
    assert_eq!(
        b["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]["changes"][0],
        json!({"name": "available", "delta": 1 - (q + 3)})
    );
    assert_eq!(sim.available(&variant, &loc), Some(1));
    sim.shutdown().await;
}

const CUSTOMER_CREATE: &str = "mutation($input: CustomerInput!) { customerCreate(input: $input) { customer { id email firstName displayName } userErrors { field message } } }";
const CUSTOMER_UPDATE: &str = "mutation($input: CustomerInput!) { customerUpdate(input: $input) { customer { id email lastName } userErrors { field message } } }";

#[tokio::test]
async fn a_taken_email_is_refused_and_a_customer_can_be_changed() {
    let sim = lagging(Duration::ZERO).await;
    let (_, b) = post(
        &sim,
        V,
        "{ customers(first: 1) { nodes { email } } }",
        json!({}),
    )
    .await;
    let taken = b["data"]["customers"]["nodes"][0]["email"].clone();
    let (_, b) = post(&sim, V, CUSTOMER_CREATE, json!({"input": {"email": taken}})).await;
    assert_eq!(
        b["data"]["customerCreate"]["userErrors"],
        json!([{"field": ["email"], "message": "Email has already been taken"}])
    );
    let (_, b) = post(&sim, V, CUSTOMER_CREATE, json!({"input": {"email": ""}})).await;
    assert_eq!(
        b["data"]["customerCreate"]["userErrors"][0]["message"],
        "A name, phone number, or email address must be present"
    );
    let (_, b) = post(
        &sim,
        V,
        CUSTOMER_CREATE,
        json!({"input": {"email": "new@example.com", "firstName": "Ada"}}),
    )
    .await;
    let c = &b["data"]["customerCreate"]["customer"];
    assert_eq!(
        (&c["email"], &c["displayName"]),
        (&json!("new@example.com"), &json!("Ada"))
    );
    let (_, b) = post(
        &sim,
        V,
        CUSTOMER_UPDATE,
        json!({"input": {"id": c["id"], "lastName": "Lovelace"}}),
    )
    .await;
    assert_eq!(
        b["data"]["customerUpdate"]["customer"]["lastName"],
        "Lovelace"
    );
    let (_, b) = post(
        &sim,
        V,
        CUSTOMER_UPDATE,
        json!({"input": {"id": c["id"], "email": taken}}),
    )
    .await;
    assert_eq!(
        b["data"]["customerUpdate"]["userErrors"][0]["message"],
        "Email has already been taken"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_dropped_answer_still_commits_the_mutation_it_was_aimed_at() {
    let sim = lagging(Duration::ZERO).await;
    let (variant, _, loc, _) = shelf(&sim).await;
    sim.inject_on(ShopifyFault::DropAfterCommit, "orderCreate(", 1);
    // A query passes untouched.
    let (status, _) = post(&sim, V, "{ shop { name } }", json!({})).await;
    assert_eq!(status, 200);
    let sent = reqwest::Client::new()
        .post(sim.graphql_url(V))
        .header("X-Shopify-Access-Token", sim.access_token())
        .json(&json!({"query": ORDER_CREATE, "variables": order_input(&variant, &loc, "dropped")}))
        .send()
        .await;
    let answered = match sent {
        Ok(r) => r.bytes().await.is_ok(),
        Err(_) => false,
    };
    assert!(!answered, "no answer arrives");
    assert_eq!(
        sim.orders_with_source("dropped").len(),
        1,
        "but the order exists"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn before_2026_04_a_set_compares_the_quantity_it_names() {
    let sim = lagging(Duration::ZERO).await;
    let (variant, item, loc, _) = shelf(&sim).await;
    let q = sim.available(&variant, &loc).unwrap();
    let set = |compare: Value| {
        let mut entry = json!({"inventoryItemId": item, "locationId": loc, "quantity": 4});
        if !compare.is_null() {
            entry["compareQuantity"] = compare;
        }
        json!({"input": {"name": "available", "reason": "correction", "quantities": [entry]}})
    };
    let old = ApiVersion::V2026_01;
    // The key is optional there.
    let (_, b) = post(&sim, old, SET_NO_KEY, set(Value::Null)).await;
    assert_eq!(
        b["data"]["inventorySetQuantities"]["userErrors"][0]["code"], "COMPARE_QUANTITY_REQUIRED",
        "{b}"
    );
    let (_, b) = post(&sim, old, SET_NO_KEY, set(json!(q + 1))).await;
    assert_eq!(
        b["data"]["inventorySetQuantities"]["userErrors"][0]["code"],
        "COMPARE_QUANTITY_STALE"
    );
    assert_eq!(sim.available(&variant, &loc), Some(q));
    let (_, b) = post(&sim, old, SET_NO_KEY, set(json!(q))).await;
    assert_eq!(
        b["data"]["inventorySetQuantities"]["userErrors"],
        json!([]),
        "{b}"
    );
    assert_eq!(sim.available(&variant, &loc), Some(4));
    // Gone from 2026-04: the variables no longer fit the input type.
    let (_, b) = post(
        &sim,
        V,
        SET,
        json!({"input": set(json!(4))["input"], "key": "k"}),
    )
    .await;
    assert_eq!(
        b["errors"][0]["extensions"]["code"], "INVALID_VARIABLE",
        "{b}"
    );
    sim.shutdown().await;
}

/// A captured error's `errors[0]` without `locations` (they point into the
/// captured document's text, not ours), and its `data`.
fn captured_error(fixture: &str) -> (Value, Value) {
    let c: Value = serde_json::from_str(fixture).unwrap();
    let mut e = c["response"]["errors"][0].clone();
    e.as_object_mut().unwrap().remove("locations");
    (e, c["response"]["data"].clone())
}

#[tokio::test]
async fn inventory_refusals_match_the_captured_errors() {
    let sim = lagging(Duration::ZERO).await;
    let (_, item, loc, _) = shelf(&sim).await;
    let cases = [
        (
            include_str!(
                "../../../tests/fixtures/shopify/graphql-errors/inventoryAdjustQuantities-missing-idempotent.2026-04.json"
            ),
            ADJUST_NO_KEY,
        ),
        (
            include_str!(
                "../../../tests/fixtures/shopify/graphql-errors/inventoryAdjustQuantities-missing-changeFromQuantity.2026-04.json"
            ),
            ADJUST,
        ),
    ];
    for (fixture, document) in cases {
        let (want, data) = captured_error(fixture);
        let c: Value = serde_json::from_str(fixture).unwrap();
        // The captured variables, on this shop's item and location.
        let mut input = c["variables"]["input"].clone();
        for change in input["changes"].as_array_mut().unwrap() {
            change["inventoryItemId"] = json!(item);
            change["locationId"] = json!(loc);
        }
        let (_, b) = post(&sim, V, document, json!({"input": input, "key": "k"})).await;
        let mut got = b["errors"][0].clone();
        got.as_object_mut().unwrap().remove("locations");
        assert_eq!(got, want, "{b}");
        assert_eq!(b["data"], data);
    }
    sim.shutdown().await;
}

const FULFIL: &str = "mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { fulfillment { id status } userErrors { field message } } }";
const FULFILMENT_ORDERS: &str = "query($id: ID!) { order(id: $id) { displayFulfillmentStatus fulfillmentOrders(first: 5) { nodes { id status } } } }";

#[tokio::test]
async fn an_order_made_unfulfilled_is_fulfilled_once_and_bad_fulfilments_change_nothing() {
    let sim = lagging(Duration::ZERO).await;
    let (variant, _, here, _) = shelf(&sim).await;
    let mut input = order_input(&variant, &here, "later");
    input["order"]
        .as_object_mut()
        .unwrap()
        .remove("fulfillment");
    let (_, b) = post(&sim, V, ORDER_CREATE, input).await;
    let order = b["data"]["orderCreate"]["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, b) = post(&sim, V, FULFILMENT_ORDERS, json!({"id": order})).await;
    assert_eq!(
        b["data"]["order"]["displayFulfillmentStatus"],
        "UNFULFILLED"
    );
    let fo = b["data"]["order"]["fulfillmentOrders"]["nodes"][0].clone();
    assert_eq!(fo["status"], "OPEN");
    let fo = fo["id"].as_str().unwrap().to_owned();

    // Refused, each with its field, nothing changed.
    let unknown = json!({"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/1"}]}});
    let (_, b) = post(&sim, V, FULFIL, unknown).await;
    assert_eq!(
        b["data"]["fulfillmentCreate"]["userErrors"][0]["message"],
        "Fulfillment order does not exist."
    );
    assert!(b["data"]["fulfillmentCreate"]["fulfillment"].is_null());
    let (_, b) = post(
        &sim,
        V,
        FULFIL,
        json!({"f": {"lineItemsByFulfillmentOrder": []}}),
    )
    .await;
    assert_eq!(
        b["data"]["fulfillmentCreate"]["userErrors"][0]["field"],
        json!(["fulfillment", "lineItemsByFulfillmentOrder"])
    );
    let (_, b) = post(&sim, V, FULFILMENT_ORDERS, json!({"id": order})).await;
    assert_eq!(
        b["data"]["order"]["fulfillmentOrders"]["nodes"][0]["status"],
        "OPEN"
    );

    let one = json!({"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo}]}});
    let (_, b) = post(&sim, V, FULFIL, one.clone()).await;
    assert_eq!(
        b["data"]["fulfillmentCreate"]["fulfillment"]["status"],
        "SUCCESS"
    );
    let (_, b) = post(&sim, V, FULFILMENT_ORDERS, json!({"id": order})).await;
    assert_eq!(b["data"]["order"]["displayFulfillmentStatus"], "FULFILLED");
    assert_eq!(
        b["data"]["order"]["fulfillmentOrders"]["nodes"][0]["status"],
        "CLOSED"
    );
    // Twice: the closed fulfillment order is refused.
    let (_, b) = post(&sim, V, FULFIL, one).await;
    let message = b["data"]["fulfillmentCreate"]["userErrors"][0]["message"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("unfulfillable status= closed"),
        "{message}"
    );
    sim.shutdown().await;
}
