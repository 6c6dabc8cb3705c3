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
