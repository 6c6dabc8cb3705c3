//! Shopify's documented example payloads (tests/fixtures/shopify/webhooks/
//! payloads, REST shape) through [`instruction`].

use super::*;
use crate::domain::GmtTime;
use crate::domain::catalog::ProductKind;

fn payload(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/shopify/webhooks/payloads/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let file: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    serde_json::to_vec(&file["response"]).unwrap()
}

fn upsert(topic: &str, name: &str) -> Records {
    match instruction(topic, &payload(name)).unwrap() {
        Instruction::Upsert(r) => r,
        other => panic!("{topic}: {other:?}"),
    }
}

#[test]
fn every_topic_names_itself_both_ways() {
    for t in DeliveryTopic::ALL {
        assert_eq!(DeliveryTopic::parse(t.rest_name()), Some(t));
        assert_eq!(DeliveryTopic::parse(&t.enum_name()), Some(t));
    }
    assert_eq!(DeliveryTopic::ProductsUpdate.enum_name(), "PRODUCTS_UPDATE");
    assert_eq!(
        DeliveryTopic::InventoryLevelsUpdate.enum_name(),
        "INVENTORY_LEVELS_UPDATE"
    );
    assert_eq!(DeliveryTopic::parse("carts/create"), None);
}

#[test]
fn the_subscribed_topics_are_the_agents_nine_that_shopify_delivers() {
    let names: Vec<&str> = subscribed().iter().map(|t| t.rest_name()).collect();
    assert_eq!(
        names,
        [
            "products/create",
            "products/update",
            "products/delete",
            "orders/create",
            "orders/updated",
            "orders/delete",
            "customers/create",
            "customers/update",
            "customers/delete",
        ]
    );
}

#[test]
fn a_product_update_is_the_product_and_its_variants_with_exact_ids() {
    let Records::Products(rows) = upsert("products/update", "products-update") else {
        panic!("not products");
    };
    assert_eq!(rows.len(), 3, "the product and two variants");
    let p = &rows[0];
    // The gid, not the rounded `id` beside it (788032119674292900).
    assert_eq!(p.id, 788032119674292922);
    assert_eq!(p.kind, ProductKind::Variable);
    assert_eq!(p.name, "Example T-Shirt");
    assert_eq!(p.status, "publish");
    // 2021-12-31T19:00:00-05:00 is midnight UTC.
    assert_eq!(
        p.date_modified,
        GmtTime::parse("2022-01-01T00:00:00Z").unwrap()
    );
    let tags = p.meta.iter().find(|m| m.key == wire::META_TAGS).unwrap();
    assert_eq!(tags.value, json!(["example", "mens", "t-shirt"]));
    let small = &rows[1];
    assert_eq!(small.id, 642667041472713922);
    assert_eq!(small.parent_id, p.id);
    assert_eq!(small.kind, ProductKind::Variation);
    assert_eq!(small.name, "Small");
    // compare_at_price 24.99 over price 19.99: on sale.
    assert_eq!(small.regular_price, Some("24.99".parse().unwrap()));
    assert_eq!(small.sale_price, Some("19.99".parse().unwrap()));
    assert_eq!(small.stock_quantity, Some(75));
    assert_eq!(
        small.date_modified,
        GmtTime::parse("2021-12-31T00:00:00Z").unwrap()
    );
    assert_eq!(rows[2].id, 757650484644203962);
}

#[test]
fn a_product_with_only_the_default_variant_is_simple_and_carries_its_price() {
    let mut value: Value = serde_json::from_slice(&payload("products-update")).unwrap();
    let variants = value["variants"].as_array_mut().unwrap();
    variants.truncate(1);
    variants[0]["title"] = json!("Default Title");
    variants[0]["sku"] = json!("TEE-1");
    let body = serde_json::to_vec(&value).unwrap();
    let Instruction::Upsert(Records::Products(rows)) =
        instruction("products/create", &body).unwrap()
    else {
        panic!("not products");
    };
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kind, ProductKind::Simple);
    assert_eq!(rows[0].sku.as_deref(), Some("TEE-1"));
    assert_eq!(rows[0].price, Some("19.99".parse().unwrap()));
}

#[test]
fn an_order_is_read_with_its_lines_totals_and_customer() {
    let Records::Orders(orders) = upsert("orders/create", "orders-create") else {
        panic!("not orders");
    };
    let o = &orders[0];
    assert_eq!(o.id, 820982911946154508);
    assert_eq!(o.number, "#9999");
    assert_eq!(o.customer_id, 115310627314723954);
    assert_eq!(o.total, "404.95".parse().unwrap());
    assert_eq!(o.currency, "USD");
    // The example is cancelled (cancelled_at set, financial_status voided).
    assert_eq!(o.status, "cancelled");
    assert_eq!(o.line_items.len(), 5);
    let first = &o.line_items[0];
    assert_eq!(first.id, 487817672276298554);
    assert_eq!(first.name, "Aviator sunglasses");
    assert_eq!(first.quantity, 1);
    assert_eq!(first.price, Some("89.99".parse().unwrap()));
    assert_eq!(first.sku.as_deref(), Some("SKU2006-001"));
    for (topic, name) in [
        ("orders/updated", "orders-updated"),
        ("orders/cancelled", "orders-cancelled"),
    ] {
        let Records::Orders(v) = upsert(topic, name) else {
            panic!("{topic}");
        };
        assert_eq!(v[0].id, 820982911946154508, "{topic}");
    }
}

#[test]
fn a_customer_is_read_with_email_and_default_address() {
    let Records::Customers(c) = upsert("customers/update", "customers-update") else {
        panic!("not customers");
    };
    let c = &c[0];
    assert_eq!(c.id, 706405506930370084);
    assert_eq!(c.email, "bob@biller.com");
    assert_eq!(
        (c.first_name.as_str(), c.last_name.as_str()),
        ("Bob", "Biller")
    );
    assert_eq!(c.billing.city, "Ottawa");
    assert_eq!(c.billing.country, "CA");
    assert_eq!(c.billing.state, "ON");
    assert!(c.date_modified.is_some());
    assert!(matches!(
        instruction("customers/create", &payload("customers-create")).unwrap(),
        Instruction::Upsert(Records::Customers(_))
    ));
}

#[test]
fn deletions_name_the_object_and_use_the_exact_gid_when_there_is_one() {
    assert_eq!(
        instruction("products/delete", &payload("products-delete")).unwrap(),
        Instruction::Delete {
            resource: Resource::Products,
            // Only `id` here, rounded by the scraper: read as it stands,
            // never through a float.
            id: 788032119674292900,
        }
    );
    assert_eq!(
        instruction("customers/delete", &payload("customers-delete")).unwrap(),
        Instruction::Delete {
            resource: Resource::Customers,
            id: 706405506930370084,
        }
    );
    assert_eq!(
        instruction("orders/delete", br#"{"id":9007199254740993}"#).unwrap(),
        Instruction::Delete {
            resource: Resource::Orders,
            id: 9007199254740993,
        },
        "2^53 + 1 stays exact"
    );
    assert_eq!(
        instruction("orders/delete", br##"{"name":"#1"}"##).unwrap_err(),
        "the Order has no id"
    );
}

#[test]
fn stock_levels_refunds_and_unknown_topics_are_ignored_with_the_reason() {
    for (topic, name) in [
        ("inventory_levels/update", "inventory_levels-update"),
        ("refunds/create", "refunds-create"),
    ] {
        match instruction(topic, &payload(name)).unwrap() {
            Instruction::Ignore { reason } => assert!(reason.contains("poll"), "{reason}"),
            other => panic!("{topic}: {other:?}"),
        }
    }
    match instruction("carts/create", b"{}").unwrap() {
        Instruction::Ignore { reason } => assert!(reason.contains("carts/create"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bodies_that_are_not_an_object_or_lack_a_version_fail_with_the_reason() {
    assert!(
        instruction("products/update", b"not json")
            .unwrap_err()
            .starts_with("the body is not JSON")
    );
    assert_eq!(
        instruction("products/update", b"[1]").unwrap_err(),
        "the body is not a JSON object"
    );
    let e = instruction(
        "orders/updated",
        br#"{"admin_graphql_api_id":"gid://shopify/Order/5","updated_at":"yesterday"}"#,
    )
    .unwrap_err();
    assert!(e.contains("yesterday"), "{e}");
    let e = instruction(
        "customers/update",
        br#"{"admin_graphql_api_id":"gid://shopify/Product/5"}"#,
    )
    .unwrap_err();
    assert!(e.contains("not a Customer id"), "{e}");
}
