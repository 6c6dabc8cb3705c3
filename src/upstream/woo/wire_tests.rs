//! Every payload captured from a real WooCommerce 11.0.1 store parses, and
//! the values a till relies on come out right.

use super::*;
use crate::domain::catalog::{ManageStock, ProductKind};

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/woocommerce/rest/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

fn one(v: Value) -> Value {
    Value::Array(vec![v])
}

fn amount(s: &str) -> Amount {
    Decimal::from_str(s).unwrap()
}

#[test]
fn every_captured_product_list_parses() {
    for name in [
        "products_per100_all",
        "products_page1_per5",
        "products_page2_per5",
        "products_page6_per5_beyond_last",
        "products_orderby_modified",
        "products_by_sku",
        "list_products_status_trash",
        "list_products_by_sku_trashed",
        "param_products_all",
        "param_products_modified_after_gmt_flag",
    ] {
        products(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for name in [
        "product_simple",
        "product_variable",
        "get_trashed_product",
        "delete_product_trash_response",
        "delete_product_force_response",
        "event_product_update_response",
    ] {
        products(one(fixture(name))).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn simple_product_fields() {
    let all = products(fixture("products_per100_all")).unwrap();
    assert_eq!(all.len(), 23);
    let scale = all.iter().find(|p| p.id == 17).unwrap();
    assert_eq!(scale.kind, ProductKind::Simple);
    assert_eq!(scale.sku.as_deref(), Some("HOM-SCL-01"));
    assert_eq!(scale.price, Some(amount("29.00")));
    assert_eq!(scale.regular_price, Some(amount("35.00")));
    assert_eq!(scale.sale_from.unwrap().to_string(), "2026-11-01T00:00:00");
    assert_eq!(scale.sale_to.unwrap().to_string(), "2026-12-31T23:59:59");
    assert_eq!(scale.manage_stock, ManageStock::Yes);
    assert_eq!(scale.stock_quantity, Some(9));
    assert_eq!(scale.category_ids, vec![22]);
    assert_eq!(scale.tag_ids, vec![27]);
    assert_eq!(scale.global_unique_id, None);
    assert!(!scale.raw.as_str().contains("_links"));
    assert!(scale.raw.as_str().contains("\"price_html\""));
    let espresso = all.iter().find(|p| p.id == 10).unwrap();
    assert_eq!(espresso.sale_price, None, "empty sale price is none");
    assert_eq!(espresso.tax_class, "food");
    let gift = all.iter().find(|p| p.id == 21).unwrap();
    assert_eq!(gift.manage_stock, ManageStock::No);
    assert_eq!(gift.stock_quantity, None);
}

#[test]
fn variable_product_and_variations() {
    let tee = products(one(fixture("product_variable")))
        .unwrap()
        .remove(0);
    assert_eq!(tee.kind, ProductKind::Variable);
    assert_eq!(tee.regular_price, None);
    assert_eq!(tee.attributes.len(), 2);
    assert_eq!(tee.attributes[0].options, ["S", "M", "L", "XL"]);
    let vars = variations(fixture("product_variable_variations")).unwrap();
    assert_eq!(vars.len(), 8);
    let single = variations(one(fixture("product_variation_single")))
        .unwrap()
        .remove(0);
    assert_eq!(single.id, 33);
    assert_eq!(single.parent_id, 30);
    assert_eq!(single.kind, ProductKind::Variation);
    assert_eq!(single.sku.as_deref(), Some("TEE-LOGO-BLA-M"));
    assert_eq!(single.stock_quantity, Some(14));
    assert_eq!(single.attributes[0].option.as_deref(), Some("M"));
    assert!(single.images.is_empty(), "image: null is no image");
    let by_sku = products(fixture("products_by_variation_sku")).unwrap();
    assert_eq!(by_sku[0].kind, ProductKind::Variation);
    variations(one(fixture("event_variation_update_response"))).unwrap();
}

#[test]
fn taxonomies_parse() {
    let cats = categories(fixture("products_categories")).unwrap();
    assert_eq!(cats.len(), 8);
    assert!(
        cats.iter().any(|c| c.parent_id != 0),
        "the tree has children"
    );
    assert_eq!(tags(fixture("products_tags")).unwrap().len(), 5);
    let attrs = attributes(fixture("products_attributes")).unwrap();
    assert_eq!(
        attrs.iter().map(|a| a.slug.as_str()).collect::<Vec<_>>(),
        ["pa_colour", "pa_size"]
    );
    assert_eq!(
        attribute_terms(fixture("products_attribute_size_terms"))
            .unwrap()
            .len(),
        4
    );
    attribute_terms(fixture("products_attribute_colour_terms")).unwrap();
}

#[test]
fn customers_parse_with_addresses() {
    for name in [
        "customers",
        "customers_role_all",
        "customers_orderby_registered",
        "param_customers_all",
    ] {
        customers(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let alice = customers(one(fixture("customer_single")))
        .unwrap()
        .remove(0);
    assert_eq!(alice.email, "alice@example.com");
    assert_eq!(alice.billing.phone, "+44 20 7946 0001");
    assert_eq!(alice.billing.email.as_deref(), Some("alice@example.com"));
    assert_eq!(
        alice.shipping.email, None,
        "shipping addresses have no email"
    );
    assert_eq!(
        alice.date_modified.unwrap().to_string(),
        "2026-11-22T12:05:53"
    );
    customers(one(fixture("delete_customer_force_response"))).unwrap();
}

#[test]
fn orders_parse_with_every_line_kind() {
    for name in ["orders", "orders_modified_orderby", "param_orders_all"] {
        orders(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for name in [
        "order_single_with_refund",
        "order_event_created",
        "event_order_create_response",
        "get_trashed_order",
        "delete_order_trash_response",
        "delete_order_force_response",
    ] {
        orders(one(fixture(name))).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let o = orders(one(fixture("order_single_with_refund")))
        .unwrap()
        .remove(0);
    assert_eq!(
        (o.id, o.number.as_str(), o.status.as_str()),
        (48, "48", "completed")
    );
    assert_eq!(o.total, amount("56.99"));
    assert!(o.prices_include_tax);
    assert_eq!(o.line_items.len(), 3);
    assert_eq!(
        o.line_items[0].price,
        Some(amount("8.5")),
        "line price is a JSON number"
    );
    assert_eq!(o.line_items[1].variation_id, 33);
    assert_eq!(o.shipping_lines[0].method_id, "flat_rate");
    assert_eq!(o.tax_lines.len(), 2);
    assert_eq!(o.refunds[0].total, amount("-8.50"));
    assert_eq!(o.date_paid.unwrap().to_string(), "2026-11-22T12:05:53");
    assert_eq!(o.meta[0].key, "_pos_terminal");
    let all = orders(fixture("orders")).unwrap();
    let guest = all.iter().find(|o| o.id == 51).unwrap();
    assert_eq!(guest.customer_id, 0);
    assert!(
        all.iter().any(|o| !o.coupon_lines.is_empty()),
        "a seeded order has a coupon"
    );
    assert!(
        all.iter().any(|o| !o.fee_lines.is_empty()),
        "a seeded order has a fee"
    );
}

#[test]
fn refunds_parse_with_the_line_they_return() {
    let flat = refunds(fixture("refunds_all"), None).unwrap();
    assert_eq!(flat[0].order_id, 48);
    assert_eq!(flat[0].amount, amount("8.50"));
    assert_eq!(flat[0].line_items[0].refunded_item_id, Some(1));
    assert_eq!(flat[0].line_items[0].quantity, -1);
    let nested = refunds(fixture("order_refunds"), Some(48)).unwrap();
    assert_eq!(nested[0].order_id, 48);
    refunds(one(fixture("order_refund_single")), Some(48)).unwrap();
    refunds(one(fixture("event_refund_create_response")), Some(48)).unwrap();
}

#[test]
fn store_metadata_parses() {
    let rates = tax_rates(fixture("taxes")).unwrap();
    assert_eq!(rates.len(), 6);
    assert!(rates.iter().any(|r| r.compound), "the NYC rate is compound");
    assert_eq!(tax_classes(fixture("taxes_classes")).unwrap().len(), 4);
    let zones = shipping_zones(fixture("shipping_zones")).unwrap();
    assert_eq!(zones.len(), 3);
    shipping_zones(one(fixture("shipping_zone_single"))).unwrap();
    assert_eq!(
        zone_locations(fixture("shipping_zone_locations")).unwrap()[0].code,
        "GB"
    );
    let methods = shipping_methods(fixture("shipping_zone_methods")).unwrap();
    assert_eq!(methods[0].settings["cost"], "4.99");
    shipping_methods(fixture("shipping_zone0_rest_of_world_methods")).unwrap();
    let gateways = payment_gateways(fixture("payment_gateways")).unwrap();
    assert_eq!(gateways[0].id, "bacs");
    let countries = countries(fixture("data_countries_trimmed")).unwrap();
    assert!(
        countries
            .iter()
            .any(|c| c.code == "DE" && !c.states.is_empty())
    );
    self::countries(one(fixture("data_country_gb"))).unwrap();
}

#[test]
fn store_info_from_captured_settings() {
    let mut all = Vec::new();
    for (group, file) in [
        ("general", "settings_general"),
        ("tax", "settings_tax"),
        ("products", "settings_products"),
    ] {
        all.extend(settings(fixture(file), group).unwrap());
    }
    let cur = currency(fixture("data_currencies_current")).unwrap();
    let info = store_info(&all, cur);
    assert_eq!(info.currency, "GBP");
    assert_eq!(info.currency_symbol, "&pound;");
    assert!(info.prices_include_tax);
    assert!(info.calc_taxes);
    assert!(info.manage_stock);
    assert_eq!(info.price_decimals, 2);
    assert_eq!(info.base_location, "GB:LND");
}

#[rstest::rstest]
#[case::empty_price(r#"{"id":1,"price":"","date_modified_gmt":"2026-01-01T00:00:00"}"#)]
#[case::false_dates(
    r#"{"id":1,"date_on_sale_from_gmt":false,"date_modified_gmt":"2026-01-01T00:00:00"}"#
)]
#[case::zero_date(r#"{"id":1,"date_created_gmt":"0000-00-00T00:00:00","date_modified_gmt":"2026-01-01T00:00:00"}"#)]
#[case::float_stock(r#"{"id":1,"stock_quantity":3.0,"manage_stock":true,"date_modified_gmt":"2026-01-01T00:00:00"}"#)]
#[case::string_stock(r#"{"id":1,"stock_quantity":"7","date_modified_gmt":"2026-01-01T00:00:00"}"#)]
#[case::numeric_price(r#"{"id":1,"price":12.5,"date_modified_gmt":"2026-01-01T00:00:00"}"#)]
#[case::parent_managed(
    r#"{"id":1,"manage_stock":"parent","date_modified_gmt":"2026-01-01T00:00:00"}"#
)]
#[case::image_false(
    r#"{"id":1,"image":false,"images":null,"date_modified_gmt":"2026-01-01T00:00:00"}"#
)]
fn loose_types_are_tolerated(#[case] json: &str) {
    let v: Value = serde_json::from_str(json).unwrap();
    let p = variations(one(v)).unwrap().remove(0);
    assert_eq!(p.id, 1);
}

#[test]
fn a_wrongly_typed_field_names_the_object() {
    let v: Value = serde_json::from_str(r#"[{"id":5,"price":"abc"}]"#).unwrap();
    let e = products(v).unwrap_err();
    assert!(e.to_string().contains("product 5"), "{e}");
    assert!(e.to_string().contains("expected an amount"), "{e}");
    let e = products(serde_json::json!({"code": "x"})).unwrap_err();
    assert!(e.to_string().contains("expected a list of products"), "{e}");
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/woocommerce/rest/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Pages read straight from the body give what the parsed-tree path
/// gives: the same records, and raw JSON equal to the object without its
/// `_links` (escapes as the store sent them).
#[test]
fn pages_read_from_the_body_match_the_parsed_path() {
    let body = fixture_bytes("products_per100_all");
    let fast = products_body(&body).unwrap();
    let slow = products(serde_json::from_slice(&body).unwrap()).unwrap();
    assert_eq!(fast.len(), slow.len());
    assert!(!fast.is_empty());
    for (f, s) in fast.iter().zip(&slow) {
        let f_raw: Value = serde_json::from_str(f.raw.as_str()).unwrap();
        let s_raw: Value = serde_json::from_str(s.raw.as_str()).unwrap();
        assert_eq!(f_raw, s_raw, "product {}", f.id);
        assert!(f_raw.get("_links").is_none());
        let mut f = f.clone();
        f.raw = s.raw.clone();
        assert_eq!(&f, s);
    }
}

#[test]
fn links_are_cut_from_the_top_level_only() {
    let body = br#"[{"id":7,"name":"Caf\u00e9 \/ Bar","meta_data":[{"key":"_links","value":"kept"}],"_links":{"self":[{"href":"x"}]}}]"#;
    let p = &products_body(body).unwrap()[0];
    assert_eq!(
        p.raw.as_str(),
        r#"{"id":7,"name":"Caf\u00e9 \/ Bar","meta_data":[{"key":"_links","value":"kept"}]}"#
    );
    assert_eq!(p.name, "Café / Bar");
}

#[test]
fn a_body_that_is_not_a_list_is_reported_as_on_the_parsed_path() {
    for body in [
        &b"<br />\n<b>Notice</b>: Undefined index in x.php<br />\n[]"[..],
        b"<html><body>Maintenance</body></html>",
        b"{\"code\":\"x\",\"message\":\"y\"}",
        b"[{\"id\":1}",
        b"",
    ] {
        let fast = products_body(body).unwrap_err().to_string();
        let slow = super::super::classify::json_body(body)
            .and_then(products)
            .unwrap_err()
            .to_string();
        assert_eq!(fast, slow, "{}", String::from_utf8_lossy(body));
    }
}

#[test]
fn a_wrongly_typed_object_names_it_on_both_paths() {
    let body = br#"[{"id":5,"name":{"not":"text"}}]"#;
    let fast = products_body(body).unwrap_err().to_string();
    let slow = products(serde_json::from_slice(body).unwrap())
        .unwrap_err()
        .to_string();
    // The same message; the body path also says where in the object.
    for message in [&fast, &slow] {
        assert!(message.contains("product 5: expected text"), "{message}");
    }
}

/// `without_links` the general way only (members parsed one by one).
fn links_removed_slowly(text: &str) -> String {
    let Members(members) = serde_json::from_str(text).unwrap();
    let kept: Vec<String> = members
        .iter()
        .filter(|(k, _)| k != "_links")
        .map(|(k, v)| format!("{}:{}", serde_json::to_string(k).unwrap(), v.get()))
        .collect();
    format!("{{{}}}", kept.join(","))
}

#[test]
fn links_are_cut_the_same_way_fast_or_member_by_member() {
    let cases = [
        // WooCommerce's own shape: `_links` last.
        r#"{"id":1,"name":"A","_links":{"self":[{"href":"x"}]}}"#,
        // First, middle, nested last, inside strings, spaced out.
        r#"{"_links":{"self":[]},"id":2}"#,
        r#"{"id":3,"_links":{},"name":"B"}"#,
        r#"{"id":4,"meta":{"a":1,"_links":{"b":2}}}"#,
        r#"{"id":5,"meta":{"a":1,"_links":{"b":2}},"_links":{"c":3}}"#,
        r#"{"id":6,"description":"a \",\"_links\":{} trap","_links":[1]}"#,
        r#"{"id":7, "_links": {"self": []} }"#,
        r#"{"id":8,"_links":"not an object"}"#,
    ];
    for text in cases {
        let raw: Box<RawValue> = serde_json::from_str(text).unwrap();
        let cut = without_links(&raw);
        assert_eq!(cut.as_str(), links_removed_slowly(text), "{text}");
        let value: Value = serde_json::from_str(cut.as_str()).unwrap();
        assert!(value.get("_links").is_none(), "{text}");
    }
}

#[test]
fn every_captured_product_loses_its_links_the_fast_way() {
    for name in ["products_per100_all", "product_variable_variations"] {
        let path = format!(
            "{}/tests/fixtures/woocommerce/rest/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let items: Vec<&RawValue> = serde_json::from_str(&text).unwrap();
        assert!(!items.is_empty(), "{name}");
        for item in items {
            let text = item.get();
            let fast = last_member_links(text);
            assert_eq!(
                fast.as_deref(),
                Some(links_removed_slowly(text).as_str()),
                "{name}"
            );
        }
    }
}
