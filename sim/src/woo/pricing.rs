//! Money the way WooCommerce computes it: tax-inclusive prices split into net
//! and tax, tax rates matched to an address, percent coupons, order totals.
//!
//! Owns arithmetic only; it never decides what an order contains. Used by
//! seeded generation now and by `POST /orders` later, so both agree.
//!
//! What the captured store shows (WooCommerce 11.0.1, prices include tax,
//! "round tax at subtotal" off):
//! - a line's net total is the gross price minus the *shop base* rate's tax,
//!   kept at 6 decimals (`24.99 / 1.2 = 20.825`, `22 / 1.2 = 18.333333`);
//! - the customer's own rates are then applied to that net amount and each
//!   line tax is rounded to 2 decimals;
//! - shipping costs are net; free shipping still carries zero tax entries;
//! - the order total is the 2-decimal rounding of nets plus rounded taxes.

use rust_decimal::{Decimal, RoundingStrategy};

use super::model::{
    Address, CouponLine, FeeLine, ItemTax, LineItem, Order, ShippingLine, Store, TaxLine, TaxRate,
};

/// WooCommerce's internal precision for line amounts.
pub(crate) const ITEM_DP: u32 = 6;

/// PHP `round()`: half away from zero.
pub(crate) fn round(d: Decimal, dp: u32) -> Decimal {
    let r = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    if r.is_zero() { Decimal::ZERO } else { r }
}

fn hundred() -> Decimal {
    Decimal::from(100)
}

/// Where tax is computed for an order: the shipping address when it has a
/// country (`woocommerce_tax_based_on = shipping`), else billing; local
/// pickup uses the shop's base address.
#[derive(Debug, Clone, Default)]
pub(crate) struct TaxLocation {
    pub country: String,
    pub state: String,
    pub postcode: String,
    pub city: String,
}

impl TaxLocation {
    pub(crate) fn for_order(
        store: &Store,
        billing: &Address,
        shipping: &Address,
        pickup: bool,
    ) -> Self {
        let a = if shipping.country.is_empty() {
            billing
        } else {
            shipping
        };
        // Local pickup, or no address at all (a sale without a customer):
        // the shop's base address, as `WC_Abstract_Order::get_tax_location`
        // defaults to it.
        if pickup || a.country.is_empty() {
            let mut parts = store.settings.default_country.split(':');
            return Self {
                country: parts.next().unwrap_or("").to_owned(),
                state: parts.next().unwrap_or("").to_owned(),
                postcode: store.settings.store_postcode.clone(),
                city: store.settings.store_city.clone(),
            };
        }
        Self {
            country: a.country.clone(),
            state: a.state.clone(),
            postcode: a.postcode.clone(),
            city: a.city.clone(),
        }
    }
}

fn postcode_matches(pattern: &str, postcode: &str) -> bool {
    let pc = postcode.to_ascii_uppercase().replace(' ', "");
    let pat = pattern.to_ascii_uppercase().replace(' ', "");
    if let Some((lo, hi)) = pat.split_once("...") {
        return match (lo.parse::<u64>(), hi.parse::<u64>(), pc.parse::<u64>()) {
            (Ok(lo), Ok(hi), Ok(v)) => (lo..=hi).contains(&v),
            _ => false,
        };
    }
    match pat.strip_suffix('*') {
        Some(prefix) => pc.starts_with(prefix),
        None => pc == pat,
    }
}

fn rate_matches(rate: &TaxRate, class: &str, loc: &TaxLocation) -> bool {
    let class = if class.is_empty() { "standard" } else { class };
    rate.class == class
        && (rate.country.is_empty() || rate.country == loc.country)
        && (rate.state.is_empty() || rate.state == loc.state)
        && (rate.postcodes.is_empty()
            || rate
                .postcodes
                .iter()
                .any(|p| postcode_matches(p, &loc.postcode)))
        && (rate.cities.is_empty()
            || rate
                .cities
                .iter()
                .any(|c| c.eq_ignore_ascii_case(&loc.city)))
}

/// `WC_Tax::find_rates`: the matching rates of a class, one per priority
/// (the first by `order` wins), in priority order.
pub(crate) fn find_rates<'s>(store: &'s Store, class: &str, loc: &TaxLocation) -> Vec<&'s TaxRate> {
    let mut matching: Vec<&TaxRate> = store
        .tax_rates
        .iter()
        .filter(|r| rate_matches(r, class, loc))
        .collect();
    matching.sort_by_key(|r| (r.priority, r.order, r.id));
    let mut out: Vec<&TaxRate> = Vec::new();
    for r in matching {
        if out.last().is_none_or(|last| last.priority != r.priority) {
            out.push(r);
        }
    }
    out
}

/// Taxes on a net amount, compound rates on top of the others, each rounded
/// to the price decimals.
pub(crate) fn calc_taxes(rates: &[&TaxRate], net: Decimal) -> Vec<(i64, Decimal)> {
    let mut out = Vec::with_capacity(rates.len());
    let mut simple_sum = Decimal::ZERO;
    for r in rates.iter().filter(|r| !r.compound) {
        let t = net * r.rate / hundred();
        simple_sum += t;
        out.push((r.id, t));
    }
    let mut base = net + simple_sum;
    for r in rates.iter().filter(|r| r.compound) {
        let t = base * r.rate / hundred();
        base += t;
        out.push((r.id, t));
    }
    out.into_iter().map(|(id, t)| (id, round(t, 2))).collect()
}

/// The net part of a tax-inclusive line price: the shop base rate's tax is
/// removed, whatever the customer's location (`wc_get_price_excluding_tax`).
pub(crate) fn net_from_gross(store: &Store, tax_class: &str, gross: Decimal) -> Decimal {
    let rate = store.base_rate(tax_class);
    round(gross * hundred() / (hundred() + rate), ITEM_DP)
}

/// A product line priced from its tax-inclusive unit price, before coupons.
pub(crate) fn price_line(
    store: &Store,
    loc: &TaxLocation,
    line: &mut LineItem,
    unit_gross: Decimal,
) {
    let net = net_from_gross(
        store,
        &line.tax_class,
        unit_gross * Decimal::from(line.quantity),
    );
    line.subtotal = net;
    line.total = net;
    tax_line(store, loc, line);
}

/// (Re)computes a line's taxes from its subtotal and total.
pub(crate) fn tax_line(store: &Store, loc: &TaxLocation, line: &mut LineItem) {
    let rates = find_rates(store, &line.tax_class, loc);
    let on_total = calc_taxes(&rates, line.total);
    let on_subtotal = calc_taxes(&rates, line.subtotal);
    line.taxes = on_total
        .iter()
        .zip(on_subtotal.iter())
        .map(|(&(rate_id, total), &(_, subtotal))| ItemTax {
            rate_id,
            total,
            subtotal: Some(subtotal),
        })
        .collect();
    line.total_tax = on_total.iter().map(|t| t.1).sum();
    line.subtotal_tax = on_subtotal.iter().map(|t| t.1).sum();
}

/// A percent coupon (`WC_Discounts::apply_coupon_percent`): each line's
/// discount is the floor, in cents, of its share; lines are re-taxed.
/// Returns `(discount, discount_tax)`.
pub(crate) fn apply_percent_coupon(
    store: &Store,
    loc: &TaxLocation,
    lines: &mut [LineItem],
    percent: Decimal,
) -> (Decimal, Decimal) {
    let mut discount = Decimal::ZERO;
    let mut discount_tax = Decimal::ZERO;
    for line in lines.iter_mut() {
        let cents = round(line.total * hundred(), 0);
        let off = (cents * percent / hundred()).floor() / hundred();
        line.total = round(line.total - off, ITEM_DP);
        tax_line(store, loc, line);
        discount += off;
        discount_tax += line.subtotal_tax - line.total_tax;
    }
    (discount, discount_tax)
}

/// Shipping at a net cost, taxed with the class of the cart
/// (`woocommerce_shipping_tax_class = inherit`): standard when any line is
/// standard, else the first class found. Only rates marked for shipping
/// apply; a zero cost still lists them.
pub(crate) fn tax_shipping(
    store: &Store,
    loc: &TaxLocation,
    lines: &[LineItem],
    ship: &mut ShippingLine,
) {
    let class = if lines.iter().any(|l| l.tax_class.is_empty()) || lines.is_empty() {
        String::new()
    } else {
        lines[0].tax_class.clone()
    };
    let rates: Vec<&TaxRate> = find_rates(store, &class, loc)
        .into_iter()
        .filter(|r| r.shipping)
        .collect();
    let taxes = calc_taxes(&rates, ship.total);
    ship.total_tax = taxes.iter().map(|t| t.1).sum();
    ship.taxes = taxes
        .into_iter()
        .map(|(rate_id, total)| ItemTax {
            rate_id,
            total,
            subtotal: None,
        })
        .collect();
}

/// `rate_code`: country, state, name (or TAX) and priority, upper-cased.
pub(crate) fn rate_code(rate: &TaxRate) -> String {
    let name = if rate.name.is_empty() {
        "TAX"
    } else {
        rate.name.as_str()
    };
    let priority = rate.priority.to_string();
    [
        rate.country.as_str(),
        rate.state.as_str(),
        name,
        priority.as_str(),
    ]
    .iter()
    .filter(|p| !p.is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join("-")
    .to_uppercase()
}

/// Tax lines summing line and shipping taxes per rate, in order of first
/// use; ids come from `next_item_id`.
pub(crate) fn tax_lines(
    store: &Store,
    lines: &[LineItem],
    shipping: &[ShippingLine],
    next_item_id: &mut i64,
) -> Vec<TaxLine> {
    let mut out: Vec<TaxLine> = Vec::new();
    let mut slot = |rate_id: i64| -> Option<usize> {
        if let Some(i) = out.iter().position(|t| t.rate_id == rate_id) {
            return Some(i);
        }
        let rate = store.tax_rates.iter().find(|r| r.id == rate_id)?;
        let id = *next_item_id;
        *next_item_id += 1;
        out.push(TaxLine {
            id,
            rate_id,
            rate_code: rate_code(rate),
            label: rate.name.clone(),
            compound: rate.compound,
            tax_total: Decimal::ZERO,
            shipping_tax_total: Decimal::ZERO,
            rate_percent: rate.rate,
        });
        Some(out.len() - 1)
    };
    let mut line_taxes = Vec::new();
    for t in lines.iter().flat_map(|l| &l.taxes) {
        if let Some(i) = slot(t.rate_id) {
            line_taxes.push((i, t.total));
        }
    }
    let mut ship_taxes = Vec::new();
    for t in shipping.iter().flat_map(|s| &s.taxes) {
        if let Some(i) = slot(t.rate_id) {
            ship_taxes.push((i, t.total));
        }
    }
    for (i, amount) in line_taxes {
        out[i].tax_total += amount;
    }
    for (i, amount) in ship_taxes {
        out[i].shipping_tax_total += amount;
    }
    out
}

/// `calculate_totals()` over already-taxed lines.
pub(crate) fn order_totals(order: &mut Order, coupon_lines: &[CouponLine], fees: &[FeeLine]) {
    order.cart_tax = round(order.line_items.iter().map(|l| l.total_tax).sum(), 2);
    order.shipping_total = round(order.shipping_lines.iter().map(|s| s.total).sum(), 2);
    order.shipping_tax = round(order.shipping_lines.iter().map(|s| s.total_tax).sum(), 2);
    order.total_tax = order.cart_tax + order.shipping_tax;
    order.discount_total = round(coupon_lines.iter().map(|c| c.discount).sum(), 2);
    order.discount_tax = round(coupon_lines.iter().map(|c| c.discount_tax).sum(), 2);
    let nets: Decimal = order.line_items.iter().map(|l| l.total).sum::<Decimal>()
        + fees.iter().map(|f| f.total).sum::<Decimal>()
        + order
            .shipping_lines
            .iter()
            .map(|s| s.total)
            .sum::<Decimal>();
    order.total = round(nets + order.total_tax, 2);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn php_rounding_is_half_away_from_zero() {
        assert_eq!(round(d("89.235"), 2), d("89.24"));
        assert_eq!(round(d("-0.004"), 2), Decimal::ZERO);
        assert_eq!(round(d("18.3333333"), 6), d("18.333333"));
    }

    #[test]
    fn postcode_patterns_match_like_woocommerce() {
        assert!(postcode_matches("94*", "94105"));
        assert!(postcode_matches("90210", "90210"));
        assert!(postcode_matches("90000...90999", "90210"));
        assert!(!postcode_matches("94*", "10118"));
    }
}
