//! The writes against captured answers served over loopback. Where an
//! answer needs a field the capture's selection did not ask (an order's
//! `updatedAt`, `sourceIdentifier`), the test adds it and says so.

use serde_json::json;

use super::*;
use crate::domain::outbox::{OrderRef, ReturnLine, SaleLine};
use crate::upstream::shopify::test_shop::{Reply, TestShop, fixture_json, quick_retry};

fn client(shop: &TestShop) -> ShopifyClient {
    ShopifyClient::new(shop.connection())
        .unwrap()
        .with_retry(quick_retry())
}

fn sale(priced_by_till: bool, variation_id: UpstreamId) -> Sale {
    Sale {
        local_id: Uuid::nil(),
        number: "POS1-000007".into(),
        till_id: "front".into(),
        sold_at: 1_790_000_000_000,
        status: "completed".into(),
        paid: true,
        customer: None,
        billing: None,
        payment_method: String::new(),
        payment_method_title: "Cash".into(),
        note: String::new(),
        lines: vec![SaleLine {
            line_no: 1,
            product_id: 9801098789170,
            variation_id,
            sku: Some("LINE-FIELDS-1778207356340".into()),
            name: "Tee".into(),
            quantity: 2,
            unit_price: "12.00".parse().unwrap(),
            discount: "4.00".parse().unwrap(),
            total: "20.00".parse().unwrap(),
            priced_by_till,
            net_divisor: "1".parse().unwrap(),
        }],
        total: "20.00".parse().unwrap(),
    }
}

fn currency_answer() -> Reply {
    // `shop { currencyCode }`: the captured store's currency (CAD).
    Reply::json(&json!({"data": {"shop": {"currencyCode": "CAD"}}}))
}

/// The captured `productSet` answer's product, which lists its variants.
fn default_variant_answer() -> Reply {
    let c = fixture_json("captures/inventory-adjust-then-has-out-of-stock-variants-parity.json");
    let product = &c["setup"]["response"]["data"]["productSet"]["product"];
    Reply::json(
        &json!({"data": {"product": product}, "extensions": c["setup"]["response"]["extensions"]}),
    )
}

/// The captured orderCreate answer, with the two fields our selection
/// adds that its selection did not ask.
fn order_created(key: Uuid) -> Reply {
    let mut r =
        fixture_json("captures/order-create-line-item-fields.json")["mutation"]["response"].clone();
    r["data"]["orderCreate"]["order"]["updatedAt"] = json!("2026-05-08T02:29:17Z");
    r["data"]["orderCreate"]["order"]["sourceIdentifier"] = json!(key.to_string());
    Reply::json(&r)
}

#[test]
fn a_sale_handed_over_at_the_till_is_fulfilled_at_its_location() {
    let key = Uuid::from_u128(1);
    let v = order_variables(key, &sale(true, 9), 0, &[9], "CAD", Some(42));
    assert_eq!(
        v["order"]["fulfillment"],
        json!({"locationId": "gid://shopify/Location/42", "notifyCustomer": false})
    );
    let v = order_variables(key, &sale(true, 9), 0, &[9], "CAD", None);
    assert!(v["order"].get("fulfillment").is_none());
}

#[test]
fn order_variables_carry_the_key_the_stock_taking_and_the_payment() {
    let key = Uuid::from_u128(1);
    let v = order_variables(key, &sale(true, 9), 5, &[9], "CAD", None);
    let o = &v["order"];
    assert_eq!(o["sourceIdentifier"], key.to_string());
    assert_eq!(
        o["metafields"],
        json!([{"namespace":"possync","key":"key","type":"single_line_text_field","value":key.to_string()}])
    );
    assert_eq!(
        v["options"]["inventoryBehaviour"],
        "DECREMENT_IGNORING_POLICY"
    );
    assert_eq!(o["customerId"], "gid://shopify/Customer/5");
    assert_eq!(o["processedAt"], "2026-09-21T14:13:20Z");
    assert_eq!(o["financialStatus"], "PAID");
    let t = &o["transactions"][0];
    assert_eq!(t["kind"], "SALE");
    assert_eq!(t["gateway"], "manual");
    assert_eq!(
        t["amountSet"]["shopMoney"],
        json!({"amount": "20", "currencyCode": "CAD"})
    );
    let line = &o["lineItems"][0];
    assert_eq!(line["variantId"], "gid://shopify/ProductVariant/9");
    // 20.00 over 2: the till's price.
    assert_eq!(line["priceSet"]["shopMoney"]["amount"], "10");
    assert_eq!(o["taxesIncluded"], false);

    let unpaid = Sale {
        paid: false,
        ..sale(false, 9)
    };
    let v = order_variables(key, &unpaid, 0, &[9], "CAD", None);
    assert_eq!(v["order"]["financialStatus"], "PENDING");
    assert!(v["order"].get("transactions").is_none());
    assert!(v["order"].get("customerId").is_none());
    assert!(v["order"]["lineItems"][0].get("priceSet").is_none());
}

#[tokio::test]
async fn a_sale_of_a_simple_product_sells_its_default_variant() {
    let shop = TestShop::start().await;
    let key = Uuid::from_u128(7);
    shop.then(currency_answer())
        .then(default_variant_answer())
        .then(order_created(key));
    let c = client(&shop);
    let cache = WriteCache::default();
    let created = c
        .create_order(&cache, key, &sale(false, 0), 0)
        .await
        .unwrap();
    assert_eq!(created.order.id, 8735472910642);
    assert_eq!(created.order.line_items[0].quantity, 2);
    assert_eq!(created.reduced_stock, [None]);
    assert!(
        created
            .order
            .meta
            .iter()
            .any(|m| m.key == wire::META_SOURCE_IDENTIFIER && m.value == key.to_string())
    );
    let seen = shop.seen();
    let sent = &seen[2].body;
    assert!(
        sent["query"]
            .as_str()
            .unwrap()
            .starts_with("mutation OrderCreate")
    );
    assert_eq!(
        sent["variables"]["order"]["lineItems"][0]["variantId"],
        "gid://shopify/ProductVariant/51474116116786"
    );
    assert_eq!(sent["variables"]["order"]["currency"], "CAD");

    // The currency and the default variant are asked once.
    shop.then(order_created(key));
    c.create_order(&cache, key, &sale(false, 0), 0)
        .await
        .unwrap();
    assert_eq!(shop.seen().len(), 4);
}

#[tokio::test]
async fn a_refused_order_is_not_applied_and_a_cut_answer_may_be() {
    let shop = TestShop::start().await;
    let m = fixture_json("captures/order-create-validation-matrix-extended.json");
    let refused =
        json!({"data": {"orderCreate": m["mutation"]["response"]["data"]["futureProcessedAt"]}});
    shop.then(currency_answer()).then(Reply::json(&refused));
    let c = client(&shop);
    let cache = WriteCache::default();
    let e = c
        .create_order(&cache, Uuid::from_u128(1), &sale(false, 9), 0)
        .await
        .unwrap_err();
    assert!(!e.maybe_applied);
    assert!(
        matches!(&e.error, UpstreamError::Rejected { code, message, .. } if code == "PROCESSED_AT_INVALID" && message.contains("order.processedAt")),
        "{e:?}"
    );

    // A server error after sending: the order may exist, and is not resent.
    shop.then(Reply::status(502, "bad gateway"))
        .then(order_created(Uuid::from_u128(1)));
    let e = c
        .create_order(&cache, Uuid::from_u128(1), &sale(false, 9), 0)
        .await
        .unwrap_err();
    assert!(e.maybe_applied, "{e:?}");
    assert_eq!(shop.unused(), 1);
}

#[tokio::test]
async fn an_order_is_found_by_its_exact_key_and_a_miss_is_one_search() {
    let shop = TestShop::start().await;
    let key = Uuid::from_u128(42);
    let catalog = fixture_json("captures/order-catalog-count-read.json");
    // Search not caught up yet: the captured miss.
    let miss = json!({"data": {"orders": catalog["response"]["data"]["byIdMiss"]}});
    // Then two hits for the search terms, one of them ours exactly.
    let mut nodes = catalog["response"]["data"]["seedCatalog"]["nodes"].clone();
    nodes[0]["sourceIdentifier"] = json!(format!("{key}-other"));
    nodes[1]["sourceIdentifier"] = json!(key.to_string());
    let hit = json!({"data": {"orders": {"nodes": nodes}}});
    shop.then(Reply::json(&miss)).then(Reply::json(&hit));
    let c = client(&shop);
    assert!(c.find_order(key).await.unwrap().is_none(), "the miss");
    assert_eq!(shop.seen().len(), 1, "one search per look");
    let found = c.find_order(key).await.unwrap().unwrap();
    assert_eq!(found.order.id, 8837986943282);
    let seen = shop.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].body["variables"]["query"],
        format!("source_identifier:'{key}'")
    );
}

#[tokio::test]
async fn a_refund_is_sent_once_per_key_against_the_orders_payment() {
    let shop = TestShop::start().await;
    let r = fixture_json("captures/refund-create-full-parity.json");
    shop.then(Reply::json(&r["downstreamRead"]["response"]))
        .then(Reply::json(&r["mutation"]["response"]));
    let c = client(&shop);
    let ret = Return {
        local_id: Uuid::nil(),
        order: OrderRef::Upstream(8838022103346),
        amount: "15.0".parse().unwrap(),
        reason: "full line item and shipping refund".into(),
        restock: false,
        lines: vec![ReturnLine {
            line_ref: 1,
            product_id: 1,
            variation_id: 0,
            quantity: 1,
            amount: "15.0".parse().unwrap(),
        }],
    };
    let lines = BTreeMap::from([(1, 19495196295474)]);
    let key = Uuid::from_u128(3);
    let refund = c
        .create_refund(key, 8838022103346, &ret, &lines)
        .await
        .unwrap();
    assert_eq!(refund.id, 1028613374258);
    assert_eq!(refund.line_items[0].refunded_item_id, Some(19495196295474));
    let sent = &shop.seen()[1].body;
    assert!(
        sent["query"]
            .as_str()
            .unwrap()
            .contains("@idempotent(key: $key)")
    );
    assert_eq!(sent["variables"]["key"], key.to_string());
    let input = &sent["variables"]["input"];
    // The captured order's SALE transaction, on its gateway.
    assert_eq!(
        input["transactions"][0]["parentId"],
        "gid://shopify/OrderTransaction/10572748226866"
    );
    assert_eq!(input["transactions"][0]["gateway"], "manual");
    assert_eq!(input["transactions"][0]["kind"], "REFUND");
    assert_eq!(input["refundLineItems"][0]["restockType"], "NO_RESTOCK");
    assert_eq!(
        input["refundLineItems"][0]["lineItemId"],
        "gid://shopify/LineItem/19495196295474"
    );

    // The shop's refusal, as captured.
    let v = fixture_json("captures/refund-create-transactions-validation.json");
    shop.then(Reply::json(&r["downstreamRead"]["response"]))
        .then(Reply::json(&v["missingParent"]["response"]));
    let e = c
        .create_refund(key, 8838022103346, &ret, &lines)
        .await
        .unwrap_err();
    assert!(!e.maybe_applied);
    assert!(e.error.to_string().contains("parent_id"), "{e}");

    // A return line the order does not have: refused before sending.
    let before = shop.seen().len();
    shop.then(Reply::json(&r["downstreamRead"]["response"]));
    let e = c
        .create_refund(key, 8838022103346, &ret, &BTreeMap::new())
        .await
        .unwrap_err();
    assert!(
        !e.maybe_applied && e.error.to_string().contains("matches no line"),
        "{e}"
    );
    assert_eq!(shop.seen().len(), before + 1);
}

#[tokio::test]
async fn a_stock_adjustment_names_what_it_changes_from_once_per_key() {
    let shop = TestShop::start().await;
    let ok = fixture_json("captures/inventoryAdjustQuantities-success.2026-04.json");
    shop.then(Reply::json(&ok["response"]));
    let c = client(&shop);
    let key = Uuid::from_u128(9);
    c.adjust_stock(key, 53469430055218, 2, 5, "correction")
        .await
        .unwrap();
    let sent = &shop.seen()[0].body;
    assert!(
        sent["query"]
            .as_str()
            .unwrap()
            .contains("inventoryAdjustQuantities(input: $input) @idempotent(key: $key)")
    );
    assert_eq!(sent["variables"]["key"], key.to_string());
    let change = &sent["variables"]["input"]["changes"][0];
    assert_eq!(change["delta"], 2);
    assert_eq!(change["changeFromQuantity"], 5);
    assert_eq!(
        change["inventoryItemId"],
        "gid://shopify/InventoryItem/53469430055218"
    );
    assert_eq!(change["locationId"], "gid://shopify/Location/1");
    assert_eq!(sent["variables"]["input"]["name"], "available");

    // What 2026-04 answers without changeFromQuantity: a refusal.
    shop.then(Reply::json(
        &fixture_json(
            "graphql-errors/inventoryAdjustQuantities-missing-changeFromQuantity.2026-04.json",
        )["response"],
    ));
    let e = c
        .adjust_stock(key, 1, 2, 5, "correction")
        .await
        .unwrap_err();
    assert!(!e.maybe_applied);
    assert!(e.error.to_string().contains("changeFromQuantity"), "{e}");
}

#[tokio::test]
async fn a_customer_with_a_known_email_is_that_customer() {
    let shop = TestShop::start().await;
    let c = fixture_json("captures/customer-by-identifier.json");
    let node = &c["positiveAndMissing"]["data"]["byId"];
    shop.then(Reply::json(
        &json!({"data": {"customers": {"nodes": [node]}}}),
    ));
    let client = client(&shop);
    let fields = CustomerFields {
        email: Some("Karine.Ruby@example.com ".into()),
        first_name: Some("Karine".into()),
        ..CustomerFields::default()
    };
    let found = client
        .create_customer(Uuid::from_u128(5), &fields)
        .await
        .unwrap();
    assert_eq!(found.id, 9522206933298);
    let seen = shop.seen();
    assert_eq!(seen.len(), 1, "no customerCreate sent");
    assert_eq!(
        seen[0].body["variables"]["query"],
        "email:\"Karine.Ruby@example.com\""
    );
}

#[tokio::test]
async fn a_new_customer_is_created_with_the_key() {
    let shop = TestShop::start().await;
    let c = fixture_json("captures/customer-by-identifier.json");
    let node = c["positiveAndMissing"]["data"]["byId"].clone();
    shop.then(Reply::json(&json!({"data": {"customers": {"nodes": []}}})))
        .then(Reply::json(
            &json!({"data": {"customerCreate": {"customer": node, "userErrors": []}}}),
        ));
    let client = client(&shop);
    let fields = CustomerFields {
        email: Some("karine.ruby@example.com".into()),
        last_name: Some("Ruby".into()),
        ..CustomerFields::default()
    };
    let key = Uuid::from_u128(5);
    let made = client.create_customer(key, &fields).await.unwrap();
    assert_eq!(made.id, 9522206933298);
    let input = &shop.seen()[1].body["variables"]["input"];
    assert_eq!(input["email"], "karine.ruby@example.com");
    assert_eq!(input["lastName"], "Ruby");
    assert_eq!(input["metafields"][0]["value"], key.to_string());
    assert!(input.get("firstName").is_none());
}

#[tokio::test]
async fn a_simple_products_stock_is_its_default_variants_at_the_location() {
    let shop = TestShop::start().await;
    let c = fixture_json("captures/inventory-adjust-then-has-out-of-stock-variants-parity.json");
    let variant = &c["setup"]["response"]["data"]["productSet"]["product"]["variants"]["nodes"][0];
    let item = &variant["inventoryItem"];
    // Our query asks the one level at the location (`inventoryLevel`).
    let answer = json!({"data": {"productVariant": {"id": variant["id"], "inventoryItem": {
        "id": item["id"], "tracked": item["tracked"],
        "inventoryLevel": item["inventoryLevels"]["nodes"][0],
    }}}});
    shop.then(default_variant_answer())
        .then(Reply::json(&answer));
    let client = client(&shop);
    let cache = WriteCache::default();
    let (inventory_item, level) = client.stock(&cache, 10240312443186, 0).await.unwrap();
    assert_eq!(inventory_item, 53579548819762);
    assert_eq!(level.quantity, Some(1));
    let seen = shop.seen();
    assert_eq!(
        seen[1].body["variables"]["id"],
        "gid://shopify/ProductVariant/51474116116786"
    );
    assert!(
        seen[1].body["query"]
            .as_str()
            .unwrap()
            .contains("gid://shopify/Location/1")
    );

    // Untracked: the shop does not count it.
    let mut untracked = answer.clone();
    untracked["data"]["productVariant"]["inventoryItem"]["tracked"] = json!(false);
    shop.then(Reply::json(&untracked));
    let (_, level) = client.stock(&cache, 10240312443186, 0).await.unwrap();
    assert_eq!(level.quantity, None);
}

#[tokio::test]
async fn an_order_that_could_not_connect_was_not_sent() {
    // Nothing listens there: the connection is refused before a byte of
    // the request leaves, so the order cannot exist.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut connection = TestShop::start().await.connection();
    connection.shop_url = url::Url::parse(&format!("http://{closed}")).unwrap();
    let c = ShopifyClient::new(connection)
        .unwrap()
        .with_retry(quick_retry());
    let cache = WriteCache::default();
    *cache.currency.lock().await = Some("GBP".to_owned());
    let e = c
        .create_order(&cache, Uuid::from_u128(1), &sale(false, 9), 0)
        .await
        .unwrap_err();
    assert!(
        matches!(&e.error, UpstreamError::Transient { reason, .. } if reason.starts_with("cannot connect")),
        "{e:?}"
    );
    assert!(!e.maybe_applied, "{e:?}");
}
