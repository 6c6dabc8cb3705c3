//! The mapping, on nodes taken from real captured answers. No capture holds
//! our full selection, so where a test needs a product with its variant and
//! stock, it joins captured pieces (a product node, the bulk file's variant
//! line, a captured inventory level) and says so.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::*;
use crate::upstream::shopify::test_shop::{fixture, fixture_json};

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// The variant line of the captured bulk file (`Default Title`).
fn bulk_variant() -> Value {
    let text = String::from_utf8(fixture("bulk/root-count-run.result.jsonl")).unwrap();
    let mut v: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("__parentId");
    v
}

/// The captured inventory item with its level at the probe location.
fn captured_inventory_item() -> Value {
    let c = fixture_json("captures/inventory-adjust-then-has-out-of-stock-variants-parity.json");
    let item = &c["setup"]["response"]["data"]["productSet"]["product"]["variants"]["nodes"][0]["inventoryItem"];
    json!({
        "tracked": item["tracked"],
        // Our query asks one location's level (`inventoryLevel`), the
        // capture listed them (`inventoryLevels`): the same object.
        "inventoryLevel": item["inventoryLevels"]["nodes"][0],
    })
}

fn captured_product() -> Value {
    fixture_json("captures/products-common-search-filters.json")["response"]["data"]
        ["statusProducts"]["edges"][0]["node"]
        .clone()
}

#[test]
fn gids_read_as_numbers_of_the_right_kind() {
    assert_eq!(
        gid_number("gid://shopify/Product/10243914727730", "Product").unwrap(),
        10243914727730
    );
    assert_eq!(
        gid_number(
            "gid://shopify/InventoryLevel/152183341362?inventory_item_id=53579548819762",
            "InventoryLevel"
        )
        .unwrap(),
        152183341362
    );
    for bad in [
        "gid://shopify/ProductVariant/1",
        "gid://shopify/Product/",
        "gid://shopify/Product/-4",
        "gid://shopify/Product/abc",
        "10243914727730",
    ] {
        let e = gid_number(bad, "Product").unwrap_err();
        assert!(e.to_string().contains("not a Product id"), "{bad}: {e}");
    }
    assert_eq!(gid("Location", 7), "gid://shopify/Location/7");
}

#[test]
fn a_product_with_only_the_default_variant_is_simple_with_its_price_sku_and_stock() {
    let mut node = captured_product();
    node["hasOnlyDefaultVariant"] = json!(true);
    let mut v = bulk_variant();
    v["price"] = json!("10.00"); // the capture's productSet input price
    v["inventoryItem"] = captured_inventory_item();
    let (p, raw) = read_node::<WireProduct>(&node, "product").unwrap();
    let (v, _) = read_node::<WireVariant>(&v, "variant").unwrap();
    assert!(v.is_default());
    let product = product(&p, raw, vec![42], Some(&v)).unwrap();
    assert_eq!(product.id, 9899728634162);
    assert_eq!(product.kind, ProductKind::Simple);
    assert_eq!(product.name, "Test Product - 5640");
    assert_eq!(product.slug, "test-product-5640");
    assert_eq!(product.status, "publish");
    assert_eq!(
        product.sku.as_deref(),
        Some("bulk-variant-bulk-root-mrrsb7hi-1xi0i")
    );
    assert_eq!(product.price, Some(dec("10.00")));
    assert_eq!(product.regular_price, Some(dec("10.00")));
    assert_eq!(product.sale_price, None);
    assert_eq!(product.manage_stock, ManageStock::Yes);
    assert_eq!(product.stock_quantity, Some(1));
    assert_eq!(product.stock_status, "instock");
    assert_eq!(product.category_ids, [42]);
    assert_eq!(product.date_modified.to_string(), "2026-06-24T14:40:33");
    assert!(product.raw.as_str().contains("test-product-5640"));
}

#[test]
fn a_product_with_options_is_variable_and_its_variants_are_variations() {
    let mut node = captured_product();
    node["hasOnlyDefaultVariant"] = json!(false);
    node["options"] = json!([{"name": "Size", "values": ["S", "M"]}]);
    let (p, raw) = read_node::<WireProduct>(&node, "product").unwrap();
    let product = product(&p, raw, vec![], None).unwrap();
    assert_eq!(product.kind, ProductKind::Variable);
    assert_eq!(product.attributes[0].options, ["S", "M"]);
    assert_eq!(product.sku, None);

    let mut v = bulk_variant();
    v["title"] = json!("M");
    v["updatedAt"] = json!("2026-06-24T14:40:33Z");
    v["price"] = json!("8.0");
    v["compareAtPrice"] = json!("12.0");
    v["inventoryPolicy"] = json!("CONTINUE");
    v["selectedOptions"] = json!([{"name": "Size", "value": "M"}]);
    let mut item = captured_inventory_item();
    item["inventoryLevel"]["quantities"][0]["quantity"] = json!(0);
    v["inventoryItem"] = item;
    let (w, raw) = read_node::<WireVariant>(&v, "variant").unwrap();
    let var = variation(&w, raw, Some(product.id)).unwrap();
    assert_eq!(var.id, 51487966167346);
    assert_eq!(var.parent_id, 9899728634162);
    assert_eq!(var.kind, ProductKind::Variation);
    // compareAtPrice above the price: on sale.
    assert_eq!(var.regular_price, Some(dec("12.0")));
    assert_eq!(var.sale_price, Some(dec("8.0")));
    assert_eq!(var.stock_quantity, Some(0));
    assert_eq!(var.stock_status, "onbackorder");
    assert_eq!(var.backorders, "yes");
    assert_eq!(var.attributes[0].option.as_deref(), Some("M"));

    // A variation must carry its version.
    let (w, raw) = read_node::<WireVariant>(&bulk_variant(), "variant").unwrap();
    let e = variation(&w, raw, Some(1)).unwrap_err();
    assert!(e.to_string().contains("no updatedAt"), "{e}");
}

#[test]
fn a_simple_product_whose_variant_was_not_read_is_refused() {
    let mut node = captured_product();
    node["hasOnlyDefaultVariant"] = json!(true);
    let (p, raw) = read_node::<WireProduct>(&node, "product").unwrap();
    let e = product(&p, raw, vec![], None).unwrap_err();
    assert!(e.to_string().contains("default variant"), "{e}");
}

#[test]
fn a_node_without_its_version_is_refused_by_name() {
    let mut node = captured_product();
    node.as_object_mut().unwrap().remove("updatedAt");
    let e = read_node::<WireProduct>(&node, "product").unwrap_err();
    assert!(e.to_string().contains("updatedAt"), "{e}");
    let mut node = captured_product();
    node["updatedAt"] = json!("yesterday");
    let (p, raw) = read_node::<WireProduct>(&node, "product").unwrap();
    let e = product(&p, raw, vec![], None).unwrap_err();
    assert!(e.to_string().contains("\"yesterday\""), "{e}");
}

#[test]
fn a_customer_reads_from_the_captured_identifier_lookup() {
    let c = fixture_json("captures/customer-by-identifier.json");
    let node = &c["positiveAndMissing"]["data"]["byId"];
    let (w, raw) = read_node::<WireCustomer>(node, "customer").unwrap();
    let cu = customer(&w, raw).unwrap();
    assert_eq!(cu.id, 9522206933298);
    assert_eq!(cu.email, "karine.ruby@example.com");
    assert_eq!(
        (cu.first_name.as_str(), cu.last_name.as_str()),
        ("Karine", "Ruby")
    );
    assert!(cu.is_paying_customer, "13 orders, as a string");
    assert_eq!(cu.billing.address_1, "Box 42 - 151 O'Connor St");
    assert_eq!(cu.billing.city, "Ottawa");
    assert_eq!(cu.billing.country, "Canada");
    assert_eq!(cu.billing.postcode, "K2P2L8");
    assert_eq!(cu.billing.phone, "+16135550142");
    assert_eq!(cu.billing.email.as_deref(), Some("karine.ruby@example.com"));
    assert_eq!(cu.date_created.unwrap().to_string(), "2025-03-26T19:51:37");
    assert_eq!(cu.date_modified.unwrap().to_string(), "2026-05-06T02:40:36");
}

#[test]
fn an_order_reads_its_status_money_and_lines() {
    let c = fixture_json("captures/order-catalog-count-read.json");
    let mut node = c["response"]["data"]["seedCatalog"]["nodes"][0].clone();
    // The line as the captured orderCreate read it back.
    let created = fixture_json("captures/order-create-line-item-fields.json");
    let line = created["downstreamRead"]["response"]["data"]["order"]["lineItems"].clone();
    node["lineItems"] = line;
    node["risk"] = json!({"recommendation": "INVESTIGATE"});
    let (w, raw) = read_node::<WireOrder>(&node, "order").unwrap();
    let o = order(&w, raw, None).unwrap();
    assert_eq!(o.id, 8837991727410);
    assert_eq!(o.number, "#1494");
    assert_eq!(o.status, "processing", "PAID, UNFULFILLED");
    // Without totalPriceSet, the current total.
    assert_eq!(o.total, dec("55.0"));
    assert_eq!(
        o.billing.email.as_deref(),
        Some("hermes-draft-order-complete-20260622223358@example.com")
    );
    assert_eq!(o.date_modified.to_string(), "2026-06-22T22:34:02");
    assert_eq!(o.date_created.unwrap().to_string(), "2026-06-22T22:34:00");
    assert_eq!(o.risk, Some(RiskRecommendation::Investigate));
    let l = &o.line_items[0];
    assert_eq!(l.id, 19312607822130);
    assert_eq!(l.product_id, 9801098789170);
    assert_eq!(l.variation_id, 0);
    assert_eq!(l.quantity, 2);
    assert_eq!(l.price, Some(dec("12.0")));
    assert_eq!(l.subtotal, dec("24.0"));
    assert_eq!(l.sku.as_deref(), Some("LINE-FIELDS-1778207356340"));
    assert_eq!(l.meta[0].key, "engraving");

    // A refunded order, as read after refundCreate.
    let r = fixture_json("captures/refund-create-full-parity.json");
    let mut node = r["downstreamRead"]["response"]["data"]["order"].clone();
    node["updatedAt"] = json!("2026-06-22T23:01:18Z"); // the refund's own time
    let (w, raw) = read_node::<WireOrder>(&node, "order").unwrap();
    let o = order(&w, raw, None).unwrap();
    assert_eq!(o.status, "refunded");
    assert_eq!(o.refunds[0].id, 1028613374258);
    assert_eq!(o.refunds[0].total, dec("-15.0"));
}

/// The captured order (which selected no `risk`) with `risk` as given.
fn captured_order_with_risk(risk: Option<Value>) -> Value {
    let c = fixture_json("captures/order-catalog-count-read.json");
    let mut node = c["response"]["data"]["seedCatalog"]["nodes"][0].clone();
    if let Some(r) = risk {
        node["risk"] = r;
    }
    node
}

#[rstest::rstest]
#[case::cancel(Some(json!({"recommendation": "CANCEL"})), Some(RiskRecommendation::Cancel))]
#[case::investigate(
    Some(json!({"recommendation": "INVESTIGATE", "assessments": [{"riskLevel": "MEDIUM", "facts": []}]})),
    Some(RiskRecommendation::Investigate)
)]
#[case::accept(Some(json!({"recommendation": "ACCEPT"})), Some(RiskRecommendation::Accept))]
#[case::nothing_recommended(Some(json!({"recommendation": "NONE"})), Some(RiskRecommendation::None))]
#[case::risk_not_selected(None, None)]
#[case::risk_null(Some(Value::Null), None)]
#[case::recommendation_null(Some(json!({"recommendation": null})), None)]
#[case::value_of_a_later_version_is_not_guessed(Some(json!({"recommendation": "REVIEW"})), None)]
fn an_order_reads_the_shops_risk_recommendation(
    #[case] risk: Option<Value>,
    #[case] want: Option<RiskRecommendation>,
) {
    let node = captured_order_with_risk(risk);
    let (w, raw) = read_node::<WireOrder>(&node, "order").unwrap();
    let o = order(&w, raw, None).unwrap();
    assert_eq!(o.risk, want);
    // A domain field now, not a meta entry besides.
    assert!(
        o.meta.iter().all(|m| !m.key.contains("risk")),
        "{:?}",
        o.meta
    );
}

#[test]
fn an_order_line_of_a_bulk_file_reads_its_risk() {
    // A bulk export's order line: the same fields, slashes escaped, and its
    // line items on lines of their own (given separately).
    let line = r##"{"id":"gid:\/\/shopify\/Order\/8837991727410","name":"#1494","createdAt":"2026-06-22T22:34:00Z","updatedAt":"2026-06-22T22:34:02Z","displayFinancialStatus":"PAID","displayFulfillmentStatus":"UNFULFILLED","risk":{"recommendation":"CANCEL"},"refunds":[]}"##;
    let node: Value = serde_json::from_str(line).unwrap();
    let (w, raw) = read_node::<WireOrder>(&node, "order").unwrap();
    let o = order(&w, raw, Some(&[])).unwrap();
    assert_eq!(o.id, 8837991727410);
    assert_eq!(o.status, "processing");
    assert_eq!(o.risk, Some(RiskRecommendation::Cancel));
    assert!(o.risk.unwrap().needs_override() && o.risk.unwrap().is_flagged());
}

#[test]
fn a_refund_reads_its_lines_negative() {
    let r = fixture_json("captures/refund-create-full-parity.json");
    let node = &r["mutation"]["response"]["data"]["refundCreate"]["refund"];
    let (w, raw) = read_node::<WireRefund>(node, "refund").unwrap();
    let refund = refund(8838022103346, &w, raw).unwrap();
    assert_eq!(refund.id, 1028613374258);
    assert_eq!(refund.order_id, 8838022103346);
    assert_eq!(refund.amount, dec("15.0"));
    assert_eq!(refund.reason, "full line item and shipping refund");
    let line = &refund.line_items[0];
    assert_eq!(line.id, 654574977330);
    assert_eq!(line.refunded_item_id, Some(19495196295474));
    assert_eq!(line.quantity, -1);
}
