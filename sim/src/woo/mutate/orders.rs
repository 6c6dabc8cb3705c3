//! `POST/PUT/DELETE /orders`: what `WC_REST_Orders_Controller` does with a
//! posted order — products resolved by SKU, variation or product id, totals
//! recalculated from the catalogue (read-only fields ignored), the status
//! applied after the items, stock taken per the order experiments, trash
//! and permanent deletion.

use rust_decimal::Decimal;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::customers::{apply_addresses, touch_customer};
use super::input::{Input, apply_meta, parse_decimal};
use super::stock::{self, holds_stock};
use super::{HookEvent, HookResource, Tx};
use crate::woo::data::{item_meta, new_line};
use crate::woo::model::{Address, FeeLine, Ids, LineItem, Meta, Order, OrderStatus, ShippingLine};
use crate::woo::pricing::{self, TaxLocation};
use crate::woo::routes::ApiError;

fn bad(code: &'static str, message: &str) -> ApiError {
    ApiError::new(400, code, message.to_owned())
}

/// `wc_generate_order_key`: `wc_order_` and 13 letters and digits.
fn order_key(id: i64, now: i64) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let digest = Sha256::digest(format!("{id}:{now}").as_bytes());
    let tail: String = digest
        .iter()
        .take(13)
        .map(|b| CHARS[*b as usize % CHARS.len()] as char)
        .collect();
    format!("wc_order_{tail}")
}

/// The product a posted line names, as `prepare_line_items` finds it with
/// `wc_get_product`: a trashed product is still a product and is sold; an
/// id the shop does not hold at all gives `None`, a line without a product.
fn resolve_product(tx: &Tx<'_>, posted: Input<'_>) -> Result<Option<(i64, i64)>, ApiError> {
    let store = &tx.store;
    let wanted = if let Some(sku) = posted.str("sku").filter(|s| !s.is_empty()) {
        super::catalog::sku_owner(store, &sku, 0).unwrap_or(0)
    } else if let Some(v) = posted.int("variation_id").filter(|v| *v != 0) {
        v
    } else if let Some(p) = posted.int("product_id").filter(|p| *p != 0) {
        p
    } else {
        return Err(bad(
            "woocommerce_rest_required_product_reference",
            "Product ID or SKU is required.",
        ));
    };
    if let Some(v) = store.variations.get(&wanted) {
        return Ok(store
            .products
            .contains_key(&v.parent_id)
            .then_some((v.parent_id, v.id)));
    }
    Ok(store.products.contains_key(&wanted).then_some((wanted, 0)))
}

/// A line whose product the shop does not have: WooCommerce keeps what was
/// posted of its name, quantity and totals, and 0.00 for the rest.
fn productless_line(tx: &mut Tx<'_>, quantity: i64) -> LineItem {
    LineItem {
        id: Ids::next(&mut tx.store.ids.order_item),
        name: String::new(),
        product_id: 0,
        variation_id: 0,
        quantity,
        tax_class: String::new(),
        subtotal: Decimal::ZERO,
        subtotal_tax: Decimal::ZERO,
        total: Decimal::ZERO,
        total_tax: Decimal::ZERO,
        taxes: Vec::new(),
        meta: Vec::new(),
    }
}

/// Line items as posted; each priced from the catalogue unless the client
/// sent `subtotal` / `total` (net amounts, which WooCommerce keeps).
fn line_items(
    tx: &mut Tx<'_>,
    loc: &TaxLocation,
    posted: &[&Map<String, Value>],
) -> Result<Vec<LineItem>, ApiError> {
    let mut out = Vec::new();
    for item in posted {
        let item = Input(item);
        let qty = item.int("quantity").unwrap_or(1);
        let (mut line, unit) = match resolve_product(tx, item)? {
            Some((pid, vid)) => {
                let (line, unit, _) = new_line(tx.store, pid, vid, qty, tx.now);
                (line, unit)
            }
            None => (productless_line(tx, qty), Decimal::ZERO),
        };
        pricing::price_line(tx.store, loc, &mut line, unit);
        let total = item.str("total").and_then(|s| parse_decimal(&s));
        let subtotal = item.str("subtotal").and_then(|s| parse_decimal(&s));
        if total.is_some() || subtotal.is_some() {
            if let Some(t) = total {
                line.total = t;
            }
            if let Some(s) = subtotal {
                line.subtotal = s;
            }
            pricing::tax_line(tx.store, loc, &mut line);
        }
        if let Some(name) = item.str("name").filter(|n| !n.is_empty()) {
            line.name = name;
        }
        for m in item.objects("meta_data") {
            let m = Input(m);
            if let (Some(k), Some(v)) = (m.str("key"), m.str("value")) {
                let meta = item_meta(&mut tx.store.ids.item_meta, &k, &v, &k, &v);
                line.meta.push(meta);
            }
        }
        out.push(line);
    }
    Ok(out)
}

fn shipping_lines(tx: &mut Tx<'_>, inp: Input<'_>) -> Vec<ShippingLine> {
    inp.objects("shipping_lines")
        .into_iter()
        .map(|s| {
            let s = Input(s);
            ShippingLine {
                id: Ids::next(&mut tx.store.ids.order_item),
                method_title: s.str("method_title").unwrap_or_default(),
                method_id: s.str("method_id").unwrap_or_default(),
                instance_id: s.str("instance_id").unwrap_or_default(),
                total: s
                    .str("total")
                    .and_then(|t| parse_decimal(&t))
                    .unwrap_or_default(),
                total_tax: Decimal::ZERO,
                taxes: vec![],
            }
        })
        .collect()
}

fn fee_lines(tx: &mut Tx<'_>, inp: Input<'_>) -> Vec<FeeLine> {
    inp.objects("fee_lines")
        .into_iter()
        .map(|f| {
            let f = Input(f);
            FeeLine {
                id: Ids::next(&mut tx.store.ids.order_item),
                name: f.str("name").unwrap_or_default(),
                total: f
                    .str("total")
                    .and_then(|t| parse_decimal(&t))
                    .unwrap_or_default(),
            }
        })
        .collect()
}

fn apply_simple_fields(o: &mut Order, inp: Input<'_>) {
    let fields: [(&str, &mut String); 4] = [
        ("payment_method", &mut o.payment_method),
        ("payment_method_title", &mut o.payment_method_title),
        ("transaction_id", &mut o.transaction_id),
        ("customer_note", &mut o.customer_note),
    ];
    for (key, slot) in fields {
        if let Some(v) = inp.str(key) {
            *slot = v;
        }
    }
    apply_addresses(&mut o.billing, &mut o.shipping, inp);
}

fn check_customer(tx: &Tx<'_>, inp: Input<'_>) -> Result<Option<i64>, ApiError> {
    match inp.int("customer_id") {
        Some(id) if id != 0 && !tx.store.customers.contains_key(&id) => Err(bad(
            "woocommerce_rest_invalid_customer_id",
            "Customer ID is invalid.",
        )),
        other => Ok(other),
    }
}

/// A status change and what hangs on it: stock taken on processing,
/// completed and on-hold, given back on cancelled and pending; the paid
/// and completed dates on later transitions.
fn transition(tx: &mut Tx<'_>, o: &mut Order, to: OrderStatus, creating: bool) {
    if o.status == to && !creating {
        return;
    }
    o.status = to;
    if holds_stock(to) {
        stock::reduce(tx, o);
    }
    if matches!(to, OrderStatus::Cancelled | OrderStatus::Pending) {
        stock::restore(tx, o);
    }
    if to == OrderStatus::Completed {
        o.completed = Some(tx.now);
    }
    // On creation the order is born in its status: no transition sets
    // `date_paid` (the captured processing + set_paid order has none).
    if !creating && matches!(to, OrderStatus::Processing | OrderStatus::Completed) {
        o.paid = o.paid.or(Some(tx.now));
    }
}

/// `payment_complete()`, when the order is in a status that awaits payment.
fn payment_complete(tx: &mut Tx<'_>, o: &mut Order) -> bool {
    if !matches!(
        o.status,
        OrderStatus::Pending | OrderStatus::OnHold | OrderStatus::Failed | OrderStatus::Cancelled
    ) {
        return false;
    }
    o.paid = o.paid.or(Some(tx.now));
    transition(tx, o, OrderStatus::Processing, false);
    true
}

fn recalculate(tx: &mut Tx<'_>, o: &mut Order) {
    let mut next = tx.store.ids.order_item;
    o.tax_lines = pricing::tax_lines(tx.store, &o.line_items, &o.shipping_lines, &mut next);
    tx.store.ids.order_item = next;
    let (coupons, fees) = (o.coupon_lines.clone(), o.fee_lines.clone());
    pricing::order_totals(o, &coupons, &fees);
}

/// `POST /orders`: the new order's id.
pub(crate) fn create_order(tx: &mut Tx<'_>, inp: Input<'_>) -> Result<i64, ApiError> {
    if inp.int("id").is_some_and(|id| id != 0) {
        return Err(bad(
            "woocommerce_rest_shop_order_exists",
            "Cannot create existing shop_order.",
        ));
    }
    let customer_id = check_customer(tx, inp)?.unwrap_or(0);
    let id = Ids::next(&mut tx.store.ids.post);
    let mut o = Order {
        id,
        parent_id: inp.int("parent_id").unwrap_or(0),
        status: OrderStatus::Pending,
        currency: tx.store.settings.currency.clone(),
        created: tx.now,
        modified: tx.now,
        paid: None,
        completed: None,
        discount_total: Decimal::ZERO,
        discount_tax: Decimal::ZERO,
        shipping_total: Decimal::ZERO,
        shipping_tax: Decimal::ZERO,
        cart_tax: Decimal::ZERO,
        total: Decimal::ZERO,
        total_tax: Decimal::ZERO,
        customer_id,
        order_key: order_key(id, tx.now),
        billing: Address::default(),
        shipping: Address::default(),
        payment_method: String::new(),
        payment_method_title: String::new(),
        transaction_id: String::new(),
        customer_ip_address: String::new(),
        customer_user_agent: String::new(),
        created_via: "rest-api".to_owned(),
        customer_note: String::new(),
        cart_hash: String::new(),
        meta: vec![],
        line_items: vec![],
        tax_lines: vec![],
        shipping_lines: vec![],
        fee_lines: vec![],
        coupon_lines: vec![],
        refund_ids: vec![],
        stock_reduced: false,
    };
    apply_simple_fields(&mut o, inp);
    o.shipping_lines = shipping_lines(tx, inp);
    o.fee_lines = fee_lines(tx, inp);
    let pickup = o
        .shipping_lines
        .iter()
        .any(|s| s.method_id == "local_pickup" || s.method_id == "pickup_location");
    let loc = TaxLocation::for_order(tx.store, &o.billing, &o.shipping, pickup);
    o.line_items = line_items(tx, &loc, &inp.objects("line_items"))?;
    for s in &mut o.shipping_lines {
        pricing::tax_shipping(tx.store, &loc, &o.line_items, s);
    }
    recalculate(tx, &mut o);
    apply_meta(
        &mut o.meta,
        &mut tx.store.ids.order_meta,
        &inp.objects("meta_data"),
    );
    let status = inp
        .str("status")
        .and_then(|s| OrderStatus::parse(&s))
        .unwrap_or(OrderStatus::Pending);
    transition(tx, &mut o, status, true);
    let mut saves_again = false;
    if inp.bool("set_paid") == Some(true) {
        saves_again = payment_complete(tx, &mut o);
    }
    if customer_id != 0 {
        touch_customer(tx, customer_id, o.paid.is_some() || holds_stock(o.status));
    }
    tx.store.orders.insert(id, o);
    tx.emit(HookResource::Order, HookEvent::Created, id);
    if saves_again {
        tx.emit(HookResource::Order, HookEvent::Updated, id);
    }
    Ok(id)
}

fn invalid_order(status: u16) -> ApiError {
    ApiError::new(
        status,
        "woocommerce_rest_shop_order_invalid_id",
        "Invalid ID.".to_owned(),
    )
}

/// `PUT /orders/{id}`: addresses, payment fields, meta, status (with its
/// stock effects) and `set_paid`. Line items of an existing order are left
/// as they are (the sim does not edit items).
pub(crate) fn update_order(tx: &mut Tx<'_>, id: i64, inp: Input<'_>) -> Result<(), ApiError> {
    let mut o = tx
        .store
        .orders
        .get(&id)
        .cloned()
        .ok_or_else(|| invalid_order(400))?;
    if let Some(c) = check_customer(tx, inp)? {
        o.customer_id = c;
    }
    apply_simple_fields(&mut o, inp);
    apply_meta(
        &mut o.meta,
        &mut tx.store.ids.order_meta,
        &inp.objects("meta_data"),
    );
    if let Some(status) = inp.str("status").and_then(|s| OrderStatus::parse(&s)) {
        if o.status == OrderStatus::Trash {
            o.meta.retain(|m| !m.key.starts_with("_wp_trash_meta_"));
        }
        transition(tx, &mut o, status, false);
    }
    if inp.bool("set_paid") == Some(true) {
        payment_complete(tx, &mut o);
    }
    o.modified = tx.now;
    tx.store.orders.insert(id, o);
    tx.emit(HookResource::Order, HookEvent::Updated, id);
    Ok(())
}

/// `DELETE /orders/{id}`: to the trash (`order.deleted` fires; 410 when
/// already there). Stock stays taken, as on a real store.
pub(crate) fn trash_order(tx: &mut Tx<'_>, id: i64) -> Result<(), ApiError> {
    let now = tx.now;
    let (meta_ids, orders) = (&mut tx.store.ids.order_meta, &mut tx.store.orders);
    let o = orders.get_mut(&id).ok_or_else(|| invalid_order(404))?;
    if o.status == OrderStatus::Trash {
        return Err(ApiError::new(
            410,
            "woocommerce_rest_already_trashed",
            "The shop_order has already been deleted.".to_owned(),
        ));
    }
    for (key, value) in [
        ("_wp_trash_meta_status", format!("wc-{}", o.status.as_str())),
        ("_wp_trash_meta_time", now.to_string()),
    ] {
        o.meta.push(Meta {
            id: Ids::next(meta_ids),
            key: key.to_owned(),
            value: Value::String(value),
        });
    }
    o.status = OrderStatus::Trash;
    o.modified = now;
    let customer = o.customer_id;
    tx.emit(HookResource::Order, HookEvent::Deleted, id);
    if customer != 0 {
        touch_customer(tx, customer, false);
    }
    Ok(())
}

/// `DELETE /orders/{id}?force=true`: the order and its refunds are gone;
/// no order webhook fires (the customer's does, as captured).
pub(crate) fn delete_order(tx: &mut Tx<'_>, id: i64) -> Result<(), ApiError> {
    let o = tx
        .store
        .orders
        .remove(&id)
        .ok_or_else(|| invalid_order(404))?;
    for r in &o.refund_ids {
        tx.store.refunds.remove(r);
    }
    if o.customer_id != 0 {
        touch_customer(tx, o.customer_id, false);
    }
    Ok(())
}
