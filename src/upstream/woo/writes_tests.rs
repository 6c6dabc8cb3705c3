//! Request bodies of the outbox's writes.

use super::*;
use crate::domain::outbox::{OrderRef, ReturnLine, SaleLine};

fn sale(priced_by_till: bool) -> Sale {
    Sale {
        local_id: Uuid::nil(),
        number: "POS1-000007".into(),
        till_id: "front".into(),
        sold_at: 1_790_000_000_000,
        status: "completed".into(),
        paid: true,
        customer: None,
        billing: None,
        payment_method: "cod".into(),
        payment_method_title: "Cash".into(),
        note: String::new(),
        lines: vec![SaleLine {
            line_no: 1,
            product_id: 7,
            variation_id: 9,
            sku: None,
            name: "Tee".into(),
            quantity: 2,
            unit_price: "12.00".parse().unwrap(),
            discount: "4.00".parse().unwrap(),
            total: "20.00".parse().unwrap(),
            priced_by_till,
            net_divisor: "1.2".parse().unwrap(),
        }],
        total: "20.00".parse().unwrap(),
    }
}

#[test]
fn an_order_carries_the_key_till_and_sale_time_in_unprotected_meta() {
    let key = Uuid::from_u128(1);
    let body = order_body(key, &sale(false), 5);
    assert_eq!(body["set_paid"], true);
    assert_eq!(body["status"], "completed");
    assert_eq!(body["customer_id"], 5);
    let meta = body["meta_data"].as_array().unwrap();
    assert!(
        meta.iter()
            .all(|m| !m["key"].as_str().unwrap().starts_with('_'))
    );
    assert!(
        meta.iter()
            .any(|m| m["key"] == KEY_META && m["value"] == key.to_string())
    );
    assert!(
        meta.iter()
            .any(|m| m["key"] == SOLD_AT_META && m["value"] == "2026-09-21T14:13:20Z")
    );
    assert!(
        body["line_items"][0].get("total").is_none(),
        "the shop prices its own"
    );
}

#[test]
fn a_till_priced_line_is_sent_net_of_tax() {
    let body = order_body(Uuid::nil(), &sale(true), 0);
    assert_eq!(body["line_items"][0]["subtotal"], "20");
    assert_eq!(body["line_items"][0]["total"], "16.6667");
}

#[test]
fn a_refund_moves_no_money_at_the_gateway_and_says_whether_to_restock() {
    let ret = Return {
        local_id: Uuid::nil(),
        order: OrderRef::Upstream(3),
        amount: "7.50".parse().unwrap(),
        reason: "broken".into(),
        restock: false,
        lines: vec![ReturnLine {
            line_ref: 1,
            product_id: 7,
            variation_id: 0,
            quantity: 1,
            amount: "7.50".parse().unwrap(),
        }],
    };
    let lines = BTreeMap::from([(1, 88)]);
    let body = refund_body(Uuid::from_u128(2), &ret, &lines);
    assert_eq!(body["api_refund"], false);
    assert_eq!(body["api_restock"], false);
    assert_eq!(body["amount"], "7.50");
    assert_eq!(body["line_items"][0]["id"], 88);
    assert_eq!(body["meta_data"][0]["key"], KEY_META);
}

/// Every string in a body, with its path, that is empty.
fn empty_strings(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.trim().is_empty() => out.push(path.to_owned()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                empty_strings(item, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                empty_strings(item, &format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

fn assert_no_empty(body: &Value) {
    let mut empty = Vec::new();
    empty_strings(body, "$", &mut empty);
    assert!(empty.is_empty(), "empty values sent: {empty:?} in {body}");
}

fn base_address() -> Address {
    Address {
        country: "GB".into(),
        state: "LND".into(),
        ..Address::default()
    }
}

#[test]
fn an_anonymous_sale_sends_the_shop_location_and_nothing_empty() {
    let mut s = sale(false);
    s.billing = Some(base_address());
    s.lines[0].variation_id = 0;
    let body = order_body(Uuid::nil(), &s, 0);
    assert_eq!(body["billing"], json!({"country": "GB", "state": "LND"}));
    assert!(
        body.get("customer_id").is_none(),
        "a guest order names no customer"
    );
    assert!(body["line_items"][0].get("variation_id").is_none());
    assert!(body.get("customer_note").is_none());
    assert_no_empty(&body);
}

#[test]
fn a_sale_with_a_customer_without_email_sends_no_email() {
    let mut s = sale(false);
    s.billing = Some(Address {
        first_name: "Ada".into(),
        last_name: "Till".into(),
        email: Some(String::new()),
        ..base_address()
    });
    let body = order_body(Uuid::nil(), &s, 12);
    assert_eq!(body["customer_id"], 12);
    assert_eq!(body["billing"]["first_name"], "Ada");
    assert!(body["billing"].get("email").is_none(), "{body}");
    assert_no_empty(&body);
}

#[test]
fn a_sale_with_a_billing_email_sends_it() {
    let mut s = sale(true);
    s.billing = Some(Address {
        email: Some("ada@example.com".into()),
        ..base_address()
    });
    s.note = "gift wrap".into();
    let body = order_body(Uuid::nil(), &s, 0);
    assert_eq!(body["billing"]["email"], "ada@example.com");
    assert_eq!(body["customer_note"], "gift wrap");
    assert_eq!(body["line_items"][0]["variation_id"], 9);
    assert_no_empty(&body);
}

#[test]
fn a_sale_without_any_billing_detail_sends_no_billing() {
    let mut s = sale(false);
    s.billing = Some(Address::default());
    s.payment_method = String::new();
    s.payment_method_title = String::new();
    let body = order_body(Uuid::nil(), &s, 0);
    assert!(body.get("billing").is_none(), "{body}");
    assert!(body.get("payment_method").is_none());
    assert_no_empty(&body);
}

#[test]
fn a_refund_without_a_reason_or_lines_sends_neither() {
    let ret = Return {
        local_id: Uuid::nil(),
        order: OrderRef::Upstream(3),
        amount: "2.00".parse().unwrap(),
        reason: String::new(),
        restock: true,
        lines: vec![],
    };
    let body = refund_body(Uuid::nil(), &ret, &BTreeMap::new());
    assert!(body.get("reason").is_none());
    assert!(body.get("line_items").is_none());
    assert_eq!(body["api_restock"], true);
    assert_no_empty(&body);
}

#[test]
fn a_customer_sends_only_the_fields_it_has() {
    let fields = CustomerFields {
        email: None,
        first_name: Some("Ada".into()),
        last_name: Some(String::new()),
        billing: Some(Address {
            phone: "0123".into(),
            email: Some(String::new()),
            ..Address::default()
        }),
        shipping: Some(Address::default()),
    };
    let body = customer_body(&fields, Some(Uuid::nil()));
    assert_eq!(body["first_name"], "Ada");
    assert!(body.get("last_name").is_none());
    assert!(body.get("email").is_none());
    assert_eq!(body["billing"], json!({"phone": "0123"}));
    assert!(body.get("shipping").is_none());
    assert_no_empty(&body);
}
