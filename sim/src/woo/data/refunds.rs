//! Seeded refunds: partial line refunds on completed orders and full
//! refunds on `refunded` ones, with the meta WooCommerce writes.

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use super::cart::item_meta;
use super::orders::order_meta;
use crate::woo::clock::Ts;
use crate::woo::model::{Ids, ItemTax, LineItem, Order, Refund, Store};
use crate::woo::pricing::{self, round};
use crate::words::REFUND_REASONS;

const FULL_REFUND_REASON: &str = "Order status set to refunded. To return funds to the customer you will need to issue a refund through your payment gateway.";

/// A refund line negating `quantity` units of an order line.
fn refund_line(store: &mut Store, line: &LineItem, quantity: i64) -> LineItem {
    let share = |amount: Decimal| {
        -round(
            amount / Decimal::from(line.quantity) * Decimal::from(quantity),
            2,
        )
    };
    let id_str = line.id.to_string();
    LineItem {
        id: Ids::next(&mut store.ids.order_item),
        name: line.name.clone(),
        product_id: line.product_id,
        variation_id: line.variation_id,
        quantity: -quantity,
        tax_class: line.tax_class.clone(),
        subtotal: share(line.total),
        subtotal_tax: share(line.total_tax),
        total: share(line.total),
        total_tax: share(line.total_tax),
        taxes: line
            .taxes
            .iter()
            .map(|t| ItemTax {
                rate_id: t.rate_id,
                total: share(t.total),
                subtotal: Some(share(t.total)),
            })
            .collect(),
        meta: vec![item_meta(
            &mut store.ids.item_meta,
            "_refunded_item_id",
            &id_str,
            "_refunded_item_id",
            &id_str,
        )],
    }
}

fn push_refund(store: &mut Store, order: &mut Order, mut refund: Refund, kind: &str) {
    let mut next_item = store.ids.order_item;
    refund.tax_lines = pricing::tax_lines(store, &refund.line_items, &[], &mut next_item);
    store.ids.order_item = next_item;
    refund.meta.push(order_meta(store, "_refund_type", kind));
    order.refund_ids.insert(0, refund.id);
    order.modified = order.modified.max(refund.created);
    store.refunds.insert(refund.id, refund);
}

pub(super) fn partial_refund(
    store: &mut Store,
    rng: &mut ChaCha8Rng,
    order: &mut Order,
    id: i64,
    at: Ts,
) {
    let k = rng.gen_range(0..order.line_items.len());
    let line = order.line_items[k].clone();
    let refund_line = refund_line(store, &line, 1);
    if rng.gen_bool(0.7) {
        let m = item_meta(
            &mut store.ids.item_meta,
            "_restock_refunded_items",
            "1",
            "_restock_refunded_items",
            "1",
        );
        order.line_items[k].meta.push(m);
    }
    let total_tax = refund_line.total_tax;
    let refund = Refund {
        id,
        parent_id: order.id,
        created: at,
        amount: -(refund_line.total + refund_line.total_tax),
        total_tax,
        reason: (*REFUND_REASONS.choose(rng).expect("reasons")).to_owned(),
        refunded_by: 1,
        refunded_payment: false,
        meta: vec![],
        line_items: vec![refund_line],
        tax_lines: vec![],
    };
    push_refund(store, order, refund, "partial");
}

pub(super) fn full_refund(
    store: &mut Store,
    rng: &mut ChaCha8Rng,
    order: &mut Order,
    id: i64,
    at: Ts,
) {
    let (line_items, reason) = if rng.gen_bool(0.5) {
        let lines = order.line_items.clone();
        let refunded = lines
            .iter()
            .map(|l| refund_line(store, l, l.quantity))
            .collect();
        (
            refunded,
            (*REFUND_REASONS.choose(rng).expect("reasons")).to_owned(),
        )
    } else {
        (vec![], FULL_REFUND_REASON.to_owned())
    };
    let refund = Refund {
        id,
        parent_id: order.id,
        created: at,
        amount: order.total,
        total_tax: line_items.iter().map(|l: &LineItem| l.total_tax).sum(),
        reason,
        refunded_by: 1,
        refunded_payment: false,
        meta: vec![],
        line_items,
        tax_lines: vec![],
    };
    push_refund(store, order, refund, "full");
}
