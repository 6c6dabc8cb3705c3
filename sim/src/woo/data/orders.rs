//! Seeded orders over the last ~180 days and their refunds, priced with
//! `pricing` so totals are consistent; then the side effects orders have on
//! products (`total_sales`) and customers (`is_paying_customer`).

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use serde_json::Value;

use super::cart::{Cart, customer_identity, fill_cart, item_meta, purchasable, shipping_for};
use super::config::GATEWAY_TITLES;
use super::{days, random_alnum, random_hex};
use crate::woo::clock::Ts;
use crate::woo::model::{CouponLine, FeeLine, Ids, Meta, Order, OrderStatus, ShippingLine, Store};
use crate::woo::pricing::{self, TaxLocation, round};
use crate::words::{CUSTOMER_NOTES, USER_AGENTS};

/// The refund an order gets, planned before ids are handed out.
#[derive(Clone, Copy)]
enum RefundPlan {
    None,
    Partial(Ts),
    Full(Ts),
}

struct Plan {
    created: Ts,
    status: OrderStatus,
    refund: RefundPlan,
}

const COUPONS: [(&str, i64); 3] = [("welcome10", 10), ("summer15", 15), ("staff20", 20)];

fn status_for_age(rng: &mut ChaCha8Rng, age: Ts) -> OrderStatus {
    use OrderStatus::*;
    let table: &[(OrderStatus, u32)] = if age < days(3) {
        &[
            (Pending, 20),
            (Processing, 45),
            (OnHold, 15),
            (Completed, 10),
            (Failed, 5),
            (Cancelled, 5),
        ]
    } else if age < days(14) {
        &[
            (Processing, 30),
            (Completed, 45),
            (OnHold, 5),
            (Pending, 5),
            (Cancelled, 5),
            (Refunded, 5),
            (Failed, 5),
        ]
    } else {
        &[
            (Completed, 74),
            (Cancelled, 8),
            (Refunded, 7),
            (Failed, 5),
            (Pending, 2),
            (Processing, 3),
            (Trash, 1),
        ]
    };
    let total: u32 = table.iter().map(|t| t.1).sum();
    let mut roll = rng.gen_range(0..total);
    for &(status, weight) in table {
        if roll < weight {
            return status;
        }
        roll -= weight;
    }
    Completed
}

pub(super) fn order_meta(store: &mut Store, key: &str, value: &str) -> Meta {
    Meta {
        id: Ids::next(&mut store.ids.order_meta),
        key: key.to_owned(),
        value: Value::String(value.to_owned()),
    }
}

/// Orders and refunds; post ids are handed out in time order, so a refund
/// made after later orders has a larger id than they do.
pub(crate) fn orders(store: &mut Store, rng: &mut ChaCha8Rng, n: usize, anchor: Ts) {
    let items = purchasable(store);
    if items.is_empty() || n == 0 {
        return;
    }
    let coupon_ids: Vec<i64> = COUPONS
        .iter()
        .map(|_| Ids::next(&mut store.ids.post))
        .collect();
    // A fifth of the orders in the last two weeks, so the open statuses
    // (pending, processing, on-hold) show up even in small stores.
    let mut times: Vec<Ts> = (0..n)
        .map(|_| {
            let window = if rng.gen_bool(0.2) {
                days(14)
            } else {
                days(180)
            };
            anchor - rng.gen_range(600..window)
        })
        .collect();
    times.sort_unstable();
    let plans: Vec<Plan> = times
        .into_iter()
        .map(|created| {
            let status = status_for_age(rng, anchor - created);
            let latest = anchor - 60;
            let refund = match status {
                OrderStatus::Completed if rng.gen_bool(0.1) => {
                    RefundPlan::Partial((created + rng.gen_range(days(2)..days(10))).min(latest))
                }
                OrderStatus::Refunded => {
                    RefundPlan::Full((created + rng.gen_range(days(1)..days(5))).min(latest))
                }
                _ => RefundPlan::None,
            };
            Plan {
                created,
                status,
                refund,
            }
        })
        .collect();
    // (time, 0 = order / 1 = refund, plan index)
    let mut events: Vec<(Ts, u8, usize)> = Vec::new();
    for (i, plan) in plans.iter().enumerate() {
        events.push((plan.created, 0, i));
        if let RefundPlan::Partial(t) | RefundPlan::Full(t) = plan.refund {
            events.push((t.max(plan.created + 1), 1, i));
        }
    }
    events.sort_unstable();
    let mut order_ids = vec![0; plans.len()];
    let mut refund_ids = vec![0; plans.len()];
    for &(_, kind, i) in &events {
        let id = Ids::next(&mut store.ids.post);
        if kind == 0 {
            order_ids[i] = id
        } else {
            refund_ids[i] = id
        }
    }
    for (i, plan) in plans.iter().enumerate() {
        let mut order = build_order(store, rng, &items, &coupon_ids, order_ids[i], plan, anchor);
        match plan.refund {
            RefundPlan::None => {}
            RefundPlan::Partial(t) => super::refunds::partial_refund(
                store,
                rng,
                &mut order,
                refund_ids[i],
                t.max(plan.created + 1),
            ),
            RefundPlan::Full(t) => super::refunds::full_refund(
                store,
                rng,
                &mut order,
                refund_ids[i],
                t.max(plan.created + 1),
            ),
        }
        store.orders.insert(order.id, order);
    }
    side_effects(store);
}

fn build_order(
    store: &mut Store,
    rng: &mut ChaCha8Rng,
    items: &[(i64, i64)],
    coupon_ids: &[i64],
    id: i64,
    plan: &Plan,
    anchor: Ts,
) -> Order {
    let created = plan.created;
    let trashed = plan.status == OrderStatus::Trash;
    let status = if trashed {
        OrderStatus::Cancelled
    } else {
        plan.status
    };
    let (customer_id, billing, shipping) = customer_identity(store, rng, created);
    let reduces_stock = matches!(
        status,
        OrderStatus::Processing
            | OrderStatus::Completed
            | OrderStatus::OnHold
            | OrderStatus::Refunded
    );
    let Cart {
        mut lines,
        unit_prices,
        gross_total,
        all_virtual,
    } = fill_cart(store, rng, items, created, reduces_stock);
    let pickup = !all_virtual
        && rng.gen_bool(if status == OrderStatus::Processing {
            0.35
        } else {
            0.12
        });
    let loc = TaxLocation::for_order(store, &billing, &shipping, pickup);
    for (line, unit) in lines.iter_mut().zip(&unit_prices) {
        pricing::price_line(store, &loc, line, *unit);
    }
    let country = if shipping.country.is_empty() {
        billing.country.clone()
    } else {
        shipping.country.clone()
    };
    let mut ship = (!all_virtual).then(|| shipping_for(store, pickup, &country, gross_total));
    if let Some(s) = ship.as_mut() {
        pricing::tax_shipping(store, &loc, &lines, s);
    }
    let fees: Vec<FeeLine> = if rng.gen_bool(0.1) {
        vec![FeeLine {
            id: Ids::next(&mut store.ids.order_item),
            name: "Gift wrap".to_owned(),
            total: Decimal::from(3),
        }]
    } else {
        vec![]
    };
    let mut coupons = Vec::new();
    if rng.gen_bool(0.12) {
        let k = rng.gen_range(0..COUPONS.len());
        let (code, pct) = COUPONS[k];
        let (discount, discount_tax) =
            pricing::apply_percent_coupon(store, &loc, &mut lines, Decimal::from(pct));
        let info = format!("[{},\"{code}\",\"percent\",{pct}]", coupon_ids[k]);
        coupons.push(CouponLine {
            id: Ids::next(&mut store.ids.order_item),
            code: code.to_owned(),
            discount: round(discount, 2),
            discount_tax: round(discount_tax, 2),
            meta: vec![item_meta(
                &mut store.ids.item_meta,
                "coupon_info",
                &info,
                "coupon_info",
                &info,
            )],
            discount_type: "percent",
            nominal_amount: Decimal::from(pct),
        });
    }
    let shipping_lines: Vec<ShippingLine> = ship.into_iter().collect();
    let mut next_item = store.ids.order_item;
    let tax_lines = pricing::tax_lines(store, &lines, &shipping_lines, &mut next_item);
    store.ids.order_item = next_item;
    let (method, title) = if pickup && rng.gen_bool(0.5) {
        GATEWAY_TITLES[2]
    } else {
        *GATEWAY_TITLES.choose(rng).expect("gateways")
    };
    let created_via = match rng.gen_range(0..10) {
        0 => "rest-api",
        1 => "admin",
        _ => "checkout",
    };
    let checkout = created_via == "checkout";
    let paid = match status {
        OrderStatus::Completed | OrderStatus::Refunded => Some(created + rng.gen_range(5..600)),
        OrderStatus::Processing if method != "cod" => Some(created + rng.gen_range(5..600)),
        _ => None,
    };
    let completed = (status == OrderStatus::Completed)
        .then(|| (created + rng.gen_range(days(1) / 2..days(4))).min(anchor - 120));
    let modified = completed
        .or(paid)
        .unwrap_or(created + rng.gen_range(0..300))
        .max(created);
    let mut order = Order {
        id,
        parent_id: 0,
        status,
        currency: store.settings.currency.clone(),
        created,
        modified,
        paid,
        completed,
        discount_total: Decimal::ZERO,
        discount_tax: Decimal::ZERO,
        shipping_total: Decimal::ZERO,
        shipping_tax: Decimal::ZERO,
        cart_tax: Decimal::ZERO,
        total: Decimal::ZERO,
        total_tax: Decimal::ZERO,
        customer_id,
        order_key: format!("wc_order_{}", random_alnum(rng, 13)),
        billing,
        shipping,
        payment_method: method.to_owned(),
        payment_method_title: title.to_owned(),
        transaction_id: String::new(),
        customer_ip_address: if checkout {
            format!("203.0.113.{}", rng.gen_range(1..255))
        } else {
            String::new()
        },
        customer_user_agent: if checkout {
            (*USER_AGENTS.choose(rng).expect("agents")).to_owned()
        } else {
            String::new()
        },
        created_via: created_via.to_owned(),
        customer_note: if rng.gen_bool(0.08) {
            (*CUSTOMER_NOTES.choose(rng).expect("notes")).to_owned()
        } else {
            String::new()
        },
        cart_hash: if checkout {
            random_hex(rng, 32)
        } else {
            String::new()
        },
        meta: vec![],
        line_items: lines,
        tax_lines,
        shipping_lines,
        fee_lines: fees,
        coupon_lines: coupons,
        refund_ids: vec![],
        stock_reduced: reduces_stock,
    };
    let (coupon_lines, fee_lines) = (order.coupon_lines.clone(), order.fee_lines.clone());
    pricing::order_totals(&mut order, &coupon_lines, &fee_lines);
    if checkout {
        order.meta.push(order_meta(store, "is_vat_exempt", "no"));
        if rng.gen_bool(0.5) {
            order.meta.push(order_meta(
                store,
                "_wc_order_attribution_source_type",
                "typein",
            ));
        }
    } else if created_via == "rest-api" {
        let till = format!("till-{}", rng.gen_range(1..4));
        order.meta.push(order_meta(store, "_pos_terminal", &till));
    }
    if trashed {
        let at = created + rng.gen_range(days(1)..days(3));
        order
            .meta
            .push(order_meta(store, "_wp_trash_meta_status", "wc-cancelled"));
        order
            .meta
            .push(order_meta(store, "_wp_trash_meta_time", &at.to_string()));
        order.status = OrderStatus::Trash;
        order.modified = at.max(order.modified);
    }
    order
}

/// `total_sales` of products and variations, paying customers, and the
/// customer's `date_modified` moving with each checkout.
fn side_effects(store: &mut Store) {
    let mut sales: Vec<(i64, i64, i64)> = Vec::new();
    let mut customer_touch: Vec<(i64, Ts, bool)> = Vec::new();
    for o in store.orders.values() {
        if matches!(
            o.status,
            OrderStatus::Processing
                | OrderStatus::Completed
                | OrderStatus::OnHold
                | OrderStatus::Refunded
        ) {
            sales.extend(
                o.line_items
                    .iter()
                    .map(|l| (l.product_id, l.variation_id, l.quantity)),
            );
        }
        if o.customer_id != 0 {
            customer_touch.push((o.customer_id, o.created, o.paid.is_some()));
        }
    }
    for (pid, vid, qty) in sales {
        if let Some(p) = store.products.get_mut(&pid) {
            p.total_sales += qty;
        }
        if let Some(v) = store.variations.get_mut(&vid) {
            v.total_sales += qty;
        }
    }
    for (cid, at, paid) in customer_touch {
        if let Some(c) = store.customers.get_mut(&cid) {
            c.modified = c.modified.max(at);
            c.is_paying_customer |= paid;
        }
    }
}
