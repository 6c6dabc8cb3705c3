//! What checkout puts into an order: the products (with their prices at
//! the time), the customer or guest identity, and the shipping method.

use std::str::FromStr;

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use super::people::{address, person};
use crate::woo::clock::Ts;
use crate::woo::model::{
    Address, Ids, ItemMeta, LineItem, PostStatus, ProductType, ShippingLine, Store,
};

/// A product or variation that can be sold: `(product id, variation id)`.
pub(super) fn purchasable(store: &Store) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    for p in store
        .products
        .values()
        .filter(|p| p.status == PostStatus::Publish)
    {
        match p.kind {
            ProductType::Simple if p.pricing.regular.is_some() => out.push((p.id, 0)),
            ProductType::Variable => out.extend(
                p.variation_ids
                    .iter()
                    .filter(|v| {
                        store
                            .variations
                            .get(v)
                            .is_some_and(|v| v.status == PostStatus::Publish)
                    })
                    .map(|&v| (p.id, v)),
            ),
            _ => {}
        }
    }
    out
}

pub(crate) fn item_meta(
    ids: &mut i64,
    key: &str,
    value: &str,
    display_key: &str,
    display_value: &str,
) -> ItemMeta {
    ItemMeta {
        id: Ids::next(ids),
        key: key.to_owned(),
        value: value.to_owned(),
        display_key: display_key.to_owned(),
        display_value: display_value.to_owned(),
    }
}

/// An order line for one product or variation; unpriced.
pub(crate) fn new_line(
    store: &mut Store,
    product_id: i64,
    variation_id: i64,
    quantity: i64,
    at: Ts,
) -> (LineItem, Decimal, bool) {
    let p = &store.products[&product_id];
    let mut name = p.name.clone();
    let mut meta = Vec::new();
    let (pricing, tax_class, managed) = if variation_id == 0 {
        (&p.pricing, p.tax_class.clone(), p.stock.manage)
    } else {
        let v = &store.variations[&variation_id];
        let mut labels = Vec::new();
        for &(attr_id, term_id) in &v.attributes {
            let attr = store
                .attributes
                .iter()
                .find(|a| a.id == attr_id)
                .expect("attribute");
            let term = &store.attribute_terms[&term_id];
            labels.push(term.name.clone());
            meta.push((
                attr.slug.clone(),
                term.slug.clone(),
                attr.name.clone(),
                term.name.clone(),
            ));
        }
        name = format!("{name} - {}", labels.join(", "));
        (&v.pricing, v.tax_class.clone(), v.stock.manage)
    };
    // The price the product had when the order was placed.
    let unit = pricing.active(at).unwrap_or_default();
    let meta = meta
        .into_iter()
        .map(|(k, v, dk, dv)| item_meta(&mut store.ids.item_meta, &k, &v, &dk, &dv))
        .collect();
    let line = LineItem {
        id: Ids::next(&mut store.ids.order_item),
        name,
        product_id,
        variation_id,
        quantity,
        tax_class,
        subtotal: Decimal::ZERO,
        subtotal_tax: Decimal::ZERO,
        total: Decimal::ZERO,
        total_tax: Decimal::ZERO,
        taxes: vec![],
        meta,
    };
    (line, unit, managed)
}

pub(super) fn customer_identity(
    store: &Store,
    rng: &mut ChaCha8Rng,
    created: Ts,
) -> (i64, Address, Address) {
    let registered: Vec<i64> = store
        .customers
        .values()
        .filter(|c| c.role == "customer" && c.created < created)
        .map(|c| c.id)
        .collect();
    if !registered.is_empty() && rng.gen_bool(0.7) {
        let c = &store.customers[registered.choose(rng).expect("non-empty")];
        let shipping = if c.shipping.country.is_empty() {
            Address {
                email: String::new(),
                ..c.billing.clone()
            }
        } else {
            c.shipping.clone()
        };
        return (c.id, c.billing.clone(), shipping);
    }
    let (first, last) = person(rng);
    let email = format!("guest{}@example.net", rng.gen_range(1000..99_999));
    let billing = address(rng, first, last, &email);
    let shipping = Address {
        email: String::new(),
        ..billing.clone()
    };
    (0, billing, shipping)
}

pub(super) fn shipping_line(
    store: &mut Store,
    method_id: &str,
    title: &str,
    instance: &str,
    cost: &str,
) -> ShippingLine {
    ShippingLine {
        id: Ids::next(&mut store.ids.order_item),
        method_title: title.to_owned(),
        method_id: method_id.to_owned(),
        instance_id: instance.to_owned(),
        total: Decimal::from_str(cost).expect("literal cost"),
        total_tax: Decimal::ZERO,
        taxes: vec![],
    }
}

/// The products of an order, unpriced, with their tax-inclusive unit
/// prices.
pub(super) struct Cart {
    pub(super) lines: Vec<LineItem>,
    pub(super) unit_prices: Vec<Decimal>,
    pub(super) gross_total: Decimal,
    pub(super) all_virtual: bool,
}

pub(super) fn fill_cart(
    store: &mut Store,
    rng: &mut ChaCha8Rng,
    items: &[(i64, i64)],
    created: Ts,
    reduces_stock: bool,
) -> Cart {
    let n_lines = *[1, 1, 1, 2, 2, 3, 4, 5].choose(rng).expect("counts");
    let picks = rand::seq::index::sample(rng, items.len(), n_lines.min(items.len())).into_vec();
    let mut cart = Cart {
        lines: Vec::new(),
        unit_prices: Vec::new(),
        gross_total: Decimal::ZERO,
        all_virtual: true,
    };
    for k in picks {
        let (pid, vid) = items[k];
        let qty = *[1, 1, 1, 1, 1, 1, 1, 2, 2, 3].choose(rng).expect("qty");
        let (mut line, unit, managed) = new_line(store, pid, vid, qty, created);
        cart.all_virtual &= store.products[&pid].is_virtual;
        // Paid and held orders have taken their stock (`_reduced_stock`).
        if reduces_stock && managed {
            let q = qty.to_string();
            let meta = item_meta(
                &mut store.ids.item_meta,
                "_reduced_stock",
                &q,
                "_reduced_stock",
                &q,
            );
            line.meta.push(meta);
        }
        cart.gross_total += unit * Decimal::from(qty);
        cart.unit_prices.push(unit);
        cart.lines.push(line);
    }
    cart
}

/// The shipping method checkout would have offered: pickup at the shop,
/// free UK delivery from £50, else the zone's flat rate.
pub(super) fn shipping_for(
    store: &mut Store,
    pickup: bool,
    country: &str,
    gross: Decimal,
) -> ShippingLine {
    if pickup {
        return shipping_line(store, "local_pickup", "Collect in store", "3", "0");
    }
    match country {
        "GB" if gross >= Decimal::from(50) => shipping_line(
            store,
            "free_shipping",
            "Free delivery over \u{a3}50",
            "2",
            "0",
        ),
        "GB" => shipping_line(store, "flat_rate", "Standard delivery", "1", "4.99"),
        "US" => shipping_line(store, "flat_rate", "International", "4", "19.99"),
        _ => shipping_line(store, "flat_rate", "Europe delivery", "5", "9.99"),
    }
}
