//! Typed store data → WooCommerce 11.0.1 JSON: the exact field names, order
//! and JSON types of the captured responses (`tests/fixtures/woocommerce`).
//!
//! Renderers are pure functions of the store, the home URL and the store's
//! clock; they never filter or paginate (that is `routes/`).

mod catalog;
mod config;
mod orders;
mod people;
mod terms;
mod webhooks;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Map, Value, json};

use super::clock::{Ts, fmt_gmt, fmt_local};
use super::pricing::round;

pub(crate) use catalog::{product, product_edit, variation, variation_as_product};
pub(crate) use config::{
    countries, country, currency_current, gateway, gateways, settings_group, settings_groups,
    shipping_location, shipping_method, shipping_zone, system_status, tax_class, tax_rate,
};
pub(crate) use orders::{order, refund};
pub(crate) use people::customer;
pub(crate) use terms::{attribute, attribute_term, category, tag};
pub(crate) use webhooks::webhook;

/// What every renderer needs to know about the request context.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    /// The store's home URL, no trailing slash.
    pub home: &'a str,
    /// The store's clock at the time of the request.
    pub now: Ts,
}

impl Ctx<'_> {
    /// `rest_url()`: `{home}/wp-json/{route}`.
    pub(crate) fn rest(&self, route: &str) -> String {
        format!("{}/wp-json/{}", self.home, route.trim_start_matches('/'))
    }
}

/// Allowed methods of the item routes, as `_links.self.targetHints.allow`
/// and the `Allow` header print them.
pub(crate) const ALLOW_ITEM: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];
pub(crate) const ALLOW_GET: &[&str] = &["GET"];
pub(crate) const ALLOW_EDIT: &[&str] = &["GET", "POST", "PUT", "PATCH"];
pub(crate) const ALLOW_GET_DELETE: &[&str] = &["GET", "DELETE"];

/// Builder for a JSON object whose key order is the insertion order
/// (`serde_json` is built with `preserve_order`).
pub(crate) struct Obj(Map<String, Value>);

impl Obj {
    pub(crate) fn new() -> Self {
        Obj(Map::new())
    }

    pub(crate) fn set(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.insert(key.to_owned(), value.into());
        self
    }

    pub(crate) fn build(self) -> Value {
        Value::Object(self.0)
    }
}

/// `_links` entries in the order given; `self` carries `targetHints`.
pub(crate) struct Links(Map<String, Value>);

impl Links {
    pub(crate) fn new() -> Self {
        Links(Map::new())
    }

    pub(crate) fn self_(mut self, href: String, allow: &[&str]) -> Self {
        self.0.insert(
            "self".to_owned(),
            json!([{ "href": href, "targetHints": { "allow": allow } }]),
        );
        self
    }

    pub(crate) fn link(mut self, rel: &str, href: String) -> Self {
        self.0.insert(rel.to_owned(), json!([{ "href": href }]));
        self
    }

    pub(crate) fn embeddable(mut self, rel: &str, href: String) -> Self {
        self.0.insert(
            rel.to_owned(),
            json!([{ "embeddable": true, "href": href }]),
        );
        self
    }

    pub(crate) fn build(self) -> Value {
        Value::Object(self.0)
    }
}

/// `wc_format_decimal($v, 2)`: rounded half away from zero, two decimals.
pub(crate) fn money(d: Decimal) -> String {
    format!("{:.2}", round(d, 2))
}

/// A stored price: `""` when unset.
pub(crate) fn price(d: Option<Decimal>) -> String {
    d.map(money).unwrap_or_default()
}

pub(crate) fn local(ts: Ts) -> Value {
    Value::String(fmt_local(ts))
}

pub(crate) fn gmt(ts: Ts) -> Value {
    Value::String(fmt_gmt(ts))
}

pub(crate) fn opt_local(ts: Option<Ts>) -> Value {
    ts.map_or(Value::Null, local)
}

pub(crate) fn opt_gmt(ts: Option<Ts>) -> Value {
    ts.map_or(Value::Null, gmt)
}

/// A PHP number: an integer when the value is whole, else a float (the way
/// `rate_percent` and `nominal_amount` print).
pub(crate) fn php_number(d: Decimal) -> Value {
    if d.fract().is_zero()
        && let Some(i) = d.to_i64()
    {
        return Value::from(i);
    }
    d.to_f64().map_or(Value::Null, Value::from)
}

/// An order line's `price`: PHP's `get_total() / get_quantity()` on the
/// stored total string. A whole total divisible by the quantity gives an
/// integer (`"40" / 2 = 20`); anything else is a float (`"17" / 2 = 8.5`,
/// `"18.333333" / 1 = 18.333333`); a zero quantity gives `0`.
pub(crate) fn line_price(total: Decimal, quantity: i64) -> Value {
    if quantity == 0 {
        return Value::from(0);
    }
    let total = total.normalize();
    if total.fract().is_zero()
        && let Some(t) = total.to_i64()
        && t % quantity == 0
    {
        return Value::from(t / quantity);
    }
    let t = total.to_f64().unwrap_or(0.0);
    Value::from(t / quantity as f64)
}

/// Meta entries as `{id, key, value}`.
pub(crate) fn meta_list(meta: &[super::model::Meta]) -> Value {
    Value::Array(
        meta.iter()
            .map(|m| json!({ "id": m.id, "key": m.key, "value": m.value }))
            .collect(),
    )
}

/// A tax-inclusive price as the shop displays it (excluding tax at the base
/// rate), in the `price_html` markup WooCommerce prints.
pub(crate) fn amount_html(symbol: &str, amount: Decimal) -> String {
    format!(
        "<span class=\"woocommerce-Price-amount amount\"><bdi><span class=\"woocommerce-Price-currencySymbol\" translate=\"no\">{symbol}</span>{}</bdi></span>",
        money(amount)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn line_price_follows_php_division() {
        assert_eq!(line_price(d("40"), 2), json!(20));
        assert_eq!(line_price(d("40.000000"), 2), json!(20));
        assert_eq!(line_price(d("17"), 2), json!(8.5));
        assert_eq!(line_price(d("18.333333"), 1), json!(18.333333));
        assert_eq!(line_price(d("13.333333"), 2), json!(6.6666665));
        assert_eq!(line_price(d("-8.50"), -1), json!(8.5));
        assert_eq!(line_price(d("0"), 0), json!(0));
    }

    #[test]
    fn money_rounds_and_never_prints_negative_zero() {
        assert_eq!(money(d("3.666667")), "3.67");
        assert_eq!(money(d("-0.001")), "0.00");
        assert_eq!(money(d("5")), "5.00");
    }

    #[test]
    fn php_numbers_are_ints_when_whole() {
        assert_eq!(php_number(d("20.0000")), json!(20));
        assert_eq!(php_number(d("7.25")), json!(7.25));
    }
}
