//! Shopify's documented example payloads (tests/fixtures/shopify/webhooks/
//! payloads, REST shape) through [`instruction`].

use super::*;
use crate::domain::GmtTime;

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
fn a_product_delivery_is_a_fetch_of_that_product_at_its_version_with_its_exact_id() {
    for topic in ["products/update", "products/create"] {
        assert_eq!(
            instruction(topic, &payload("products-update")).unwrap(),
            Instruction::Fetch {
                resource: Resource::Products,
                // The gid, not the rounded `id` beside it (788032119674292900).
                id: 788032119674292922,
                // 2021-12-31T19:00:00-05:00 is midnight UTC.
                modified: GmtTime::parse("2022-01-01T00:00:00Z").unwrap(),
            },
            "{topic}"
        );
    }
}

#[test]
fn a_product_delivery_without_a_readable_version_is_refused_precisely() {
    let base: Value = serde_json::from_slice(&payload("products-update")).unwrap();
    let cases: [(&str, Option<Value>, &str); 3] = [
        (
            "missing",
            None,
            "product 788032119674292922 has no updated_at",
        ),
        (
            "not a date",
            Some(json!("yesterday")),
            "product 788032119674292922: updated_at \"yesterday\" is not a date-time",
        ),
        (
            "a number",
            Some(json!(1640995200)),
            "product 788032119674292922: updated_at 1640995200 is not a date-time",
        ),
    ];
    for (what, updated_at, error) in cases {
        let mut value = base.clone();
        match updated_at {
            Some(v) => value["updated_at"] = v,
            None => {
                value.as_object_mut().unwrap().remove("updated_at");
            }
        }
        let body = serde_json::to_vec(&value).unwrap();
        assert_eq!(
            instruction("products/update", &body).unwrap_err(),
            error,
            "{what}"
        );
    }
    let mut no_id = base.clone();
    let map = no_id.as_object_mut().unwrap();
    map.remove("id");
    map.remove("admin_graphql_api_id");
    let body = serde_json::to_vec(&no_id).unwrap();
    assert_eq!(
        instruction("products/update", &body).unwrap_err(),
        "the Product has no id"
    );
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
