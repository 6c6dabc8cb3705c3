//! `POST /orders/{id}/refunds`: `wc_create_refund` with the REST defaults
//! (`api_refund` and `api_restock` both true), the remaining-amount check,
//! restocking and the order going `refunded` once nothing remains.

use rust_decimal::Decimal;
use serde_json::Value;

use super::input::{Input, apply_meta, parse_decimal};
use super::stock;
use super::{HookEvent, HookResource, Tx};
use crate::woo::data::item_meta;
use crate::woo::model::{Ids, ItemTax, LineItem, Meta, OrderStatus, Refund};
use crate::woo::pricing::{self, round};
use crate::woo::routes::ApiError;

fn cannot_refund(message: &str) -> ApiError {
    ApiError::new(
        500,
        "woocommerce_rest_cannot_create_order_refund",
        message.to_owned(),
    )
}

/// A refund line for `{id, quantity, refund_total, refund_tax[]}`:
/// negative amounts, the refunded line's id in `_refunded_item_id`.
fn refund_line(tx: &mut Tx<'_>, of: &LineItem, posted: Input<'_>) -> (LineItem, i64) {
    let qty = posted.int("quantity").unwrap_or(0).max(0);
    let net = posted
        .str("refund_total")
        .and_then(|s| parse_decimal(&s))
        .unwrap_or_default();
    let taxes: Vec<ItemTax> = posted
        .objects("refund_tax")
        .into_iter()
        .filter_map(|t| {
            let t = Input(t);
            let rate_id = t.int("id")?;
            let amount = t
                .str("refund_total")
                .and_then(|s| parse_decimal(&s))
                .unwrap_or_default();
            Some(ItemTax {
                rate_id,
                total: -amount,
                subtotal: Some(-amount),
            })
        })
        .collect();
    let tax: Decimal = taxes.iter().map(|t| t.total).sum();
    let id_str = of.id.to_string();
    let line = LineItem {
        id: Ids::next(&mut tx.store.ids.order_item),
        name: of.name.clone(),
        product_id: of.product_id,
        variation_id: of.variation_id,
        quantity: -qty,
        tax_class: of.tax_class.clone(),
        subtotal: -net,
        subtotal_tax: tax,
        total: -net,
        total_tax: tax,
        taxes,
        meta: vec![item_meta(
            &mut tx.store.ids.item_meta,
            "_refunded_item_id",
            &id_str,
            "_refunded_item_id",
            &id_str,
        )],
    };
    (line, qty)
}

/// `POST /orders/{id}/refunds`: the new refund's id.
pub(crate) fn create_refund(
    tx: &mut Tx<'_>,
    order_id: i64,
    inp: Input<'_>,
) -> Result<i64, ApiError> {
    let mut order = tx.store.orders.get(&order_id).cloned().ok_or_else(|| {
        ApiError::new(
            404,
            "woocommerce_rest_invalid_order_id",
            "Invalid order ID.".to_owned(),
        )
    })?;
    let mut lines = Vec::new();
    let mut restock = Vec::new();
    for posted in inp.objects("line_items") {
        let posted = Input(posted);
        let Some(k) = posted
            .int("id")
            .and_then(|id| order.line_items.iter().position(|l| l.id == id))
        else {
            continue;
        };
        let (line, qty) = refund_line(tx, &order.line_items[k], posted);
        restock.push((k, qty));
        lines.push(line);
    }
    let from_lines: Decimal = lines.iter().map(|l| -(l.total + l.total_tax)).sum();
    let amount = match inp.str("amount") {
        Some(s) => parse_decimal(&s).unwrap_or_default(),
        None => from_lines,
    };
    if amount < Decimal::ZERO {
        return Err(ApiError::new(
            400,
            "woocommerce_rest_invalid_order_refund",
            "Refund amount must be greater than zero.".to_owned(),
        ));
    }
    let refunded: Decimal = order
        .refund_ids
        .iter()
        .filter_map(|r| tx.store.refunds.get(r))
        .map(|r| r.amount)
        .sum();
    let remaining = round(order.total - refunded, 2);
    if round(amount, 2) > remaining {
        return Err(cannot_refund("Invalid refund amount."));
    }
    // The refund post exists before the gateway is asked; it is deleted
    // again when the gateway refuses, so its id is spent.
    let id = Ids::next(&mut tx.store.ids.post);
    if inp.bool("api_refund") != Some(false) {
        let known = tx.store.enabled_gateways.contains(&order.payment_method);
        // None of the store's gateways (bacs, cheque, cod) refunds by API.
        return Err(cannot_refund(if known {
            "The payment gateway for this order does not support automatic refunds."
        } else {
            "The payment gateway for this order does not exist."
        }));
    }
    let full = round(amount, 2) == remaining;
    let mut next = tx.store.ids.order_item;
    let tax_lines = pricing::tax_lines(tx.store, &lines, &[], &mut next);
    tx.store.ids.order_item = next;
    let mut meta = vec![Meta {
        id: Ids::next(&mut tx.store.ids.order_meta),
        key: "_refund_type".to_owned(),
        value: Value::String(if full { "full" } else { "partial" }.to_owned()),
    }];
    apply_meta(
        &mut meta,
        &mut tx.store.ids.order_meta,
        &inp.objects("meta_data"),
    );
    let refund = Refund {
        id,
        parent_id: order_id,
        created: tx.now,
        amount: round(amount, 2),
        total_tax: lines.iter().map(|l| l.total_tax).sum(),
        reason: inp.str("reason").unwrap_or_default(),
        refunded_by: 1,
        refunded_payment: false,
        meta,
        line_items: lines,
        tax_lines,
    };
    tx.store.refunds.insert(id, refund);
    if inp.bool("api_restock") != Some(false) {
        for (k, qty) in restock {
            let mut line = order.line_items[k].clone();
            stock::restock_line(tx, &mut line, qty);
            order.line_items[k] = line;
        }
    }
    order.refund_ids.insert(0, id);
    order.modified = tx.now;
    if full {
        // `wc_order_fully_refunded`: no restock from the status itself.
        order.status = OrderStatus::Refunded;
    }
    tx.store.orders.insert(order_id, order);
    tx.emit(HookResource::Order, HookEvent::Updated, order_id);
    Ok(id)
}

/// A refund deleted for good: the order loses it and is saved.
pub(crate) fn delete_refund(tx: &mut Tx<'_>, order_id: i64, id: i64) {
    tx.store.refunds.remove(&id);
    let now = tx.now;
    if let Some(o) = tx.store.orders.get_mut(&order_id) {
        o.refund_ids.retain(|r| *r != id);
        o.modified = now;
        tx.emit(HookResource::Order, HookEvent::Updated, order_id);
    }
}
