//! WooCommerce JSON, read leniently, and its conversion into domain types.
//!
//! WooCommerce is loose with types: prices are strings and `""` when empty,
//! a line item's `price` is a number, unset dates are `null` (or `false` in
//! older versions), ids arrive as `""` on some nested objects, stock can be a
//! float. Every field here accepts those forms rather than failing a page.
//! Each object's JSON (minus its `_links`) is kept verbatim as `raw`.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::domain::catalog::{
    self, Attribute, AttributeTerm, Category, Image, ManageStock, ProductAttribute, ProductKind,
    Tag,
};
use crate::domain::customers::{self, Address};
use crate::domain::orders::{self, RefundSummary};
use crate::domain::shop::{
    Country, CountryState, PaymentGateway, Setting, ShippingMethod, ShippingZone, StoreInfo,
    TaxClass, TaxRate, ZoneLocation,
};
use crate::domain::{Amount, GmtTime, Meta, RawJson, UpstreamId};
use crate::upstream::UpstreamError;

use super::classify::snippet;

/// Deserializers that accept WooCommerce's loose types.
mod lenient {
    use super::*;

    fn decimal(s: &str) -> Option<Decimal> {
        let s = s.trim();
        Decimal::from_str(s)
            .or_else(|_| Decimal::from_scientific(s))
            .ok()
    }

    pub fn amount_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Amount>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null | Value::Bool(false) => Ok(None),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => decimal(&s)
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("expected an amount, got {s:?}"))),
            Value::Number(n) => decimal(&n.to_string())
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("expected an amount, got {n}"))),
            other => Err(D::Error::custom(format!("expected an amount, got {other}"))),
        }
    }

    pub fn amount<'de, D: Deserializer<'de>>(d: D) -> Result<Amount, D::Error> {
        Ok(amount_opt(d)?.unwrap_or_default())
    }

    pub fn i64_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null | Value::Bool(false) => Ok(None),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .ok()
                .or_else(|| s.trim().parse::<f64>().ok().map(|f| f.round() as i64))
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("expected a whole number, got {s:?}"))),
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f.round() as i64))
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("expected a whole number, got {n}"))),
            other => Err(D::Error::custom(format!(
                "expected a whole number, got {other}"
            ))),
        }
    }

    pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        Ok(i64_opt(d)?.unwrap_or(0))
    }

    pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Null | Value::Bool(false) => String::new(),
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(true) => "1".to_owned(),
            other => return Err(D::Error::custom(format!("expected text, got {other}"))),
        })
    }

    /// Empty text is `None`.
    pub fn string_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(Some(string(d)?).filter(|s| !s.is_empty()))
    }

    /// A present field is `Some`, even when empty (billing has an email
    /// field, shipping has none).
    pub fn string_present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(Some(string(d)?))
    }

    pub fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null | Value::Bool(false) => Ok(Vec::new()),
            Value::Array(items) => Ok(items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect()),
            Value::String(s) if s.is_empty() => Ok(Vec::new()),
            Value::String(s) => Ok(vec![s]),
            other => Err(D::Error::custom(format!("expected a list, got {other}"))),
        }
    }

    pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Bool(b) => b,
            Value::Null => false,
            Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
            Value::String(s) => matches!(
                s.trim().to_ascii_lowercase().as_str(),
                "yes" | "true" | "1" | "on"
            ),
            other => {
                return Err(D::Error::custom(format!(
                    "expected true or false, got {other}"
                )));
            }
        })
    }

    /// Unset dates come as `null`, `false`, `""` or MySQL's zero date.
    pub fn date_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<GmtTime>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) => GmtTime::parse(&s),
            _ => None,
        })
    }

    /// An image object, or nothing for `null`, `false`, `[]` or `""`.
    pub fn image_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<WImage>, D::Error> {
        match Value::deserialize(d)? {
            v @ Value::Object(_) => WImage::deserialize(v).map(Some).map_err(D::Error::custom),
            _ => Ok(None),
        }
    }

    /// A list that may come as `null` or `false`.
    pub fn list<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
        match Value::deserialize(d)? {
            v @ Value::Array(_) => Vec::<T>::deserialize(v).map_err(D::Error::custom),
            _ => Ok(Vec::new()),
        }
    }
}

#[derive(Deserialize)]
struct WMeta {
    #[serde(deserialize_with = "lenient::string")]
    key: String,
    #[serde(default)]
    value: Value,
}

fn meta(m: Vec<WMeta>) -> Vec<Meta> {
    m.into_iter()
        .map(|m| Meta {
            key: m.key,
            value: m.value,
        })
        .collect()
}

#[derive(Deserialize)]
pub(super) struct WImage {
    #[serde(default, deserialize_with = "lenient::i64")]
    id: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    src: String,
    #[serde(default, deserialize_with = "lenient::string")]
    name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    alt: String,
}

impl From<WImage> for Image {
    fn from(i: WImage) -> Self {
        Image {
            id: i.id,
            src: i.src,
            name: i.name,
            alt: i.alt,
        }
    }
}

#[derive(Deserialize)]
struct WRef {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
}

#[derive(Deserialize)]
struct WProductAttribute {
    #[serde(default, deserialize_with = "lenient::i64")]
    id: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    slug: String,
    #[serde(default, deserialize_with = "lenient::strings")]
    options: Vec<String>,
    #[serde(default, deserialize_with = "lenient::string_opt")]
    option: Option<String>,
    #[serde(default, deserialize_with = "lenient::bool")]
    variation: bool,
}

/// A product, or a variation (same shape, fewer fields).
#[derive(Deserialize)]
struct WProduct {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    #[serde(default, deserialize_with = "lenient::i64")]
    parent_id: i64,
    #[serde(default, rename = "type", deserialize_with = "lenient::string")]
    kind: String,
    #[serde(default, deserialize_with = "lenient::string")]
    status: String,
    #[serde(default, deserialize_with = "lenient::string_opt")]
    sku: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    slug: String,
    #[serde(default, deserialize_with = "lenient::string_opt")]
    global_unique_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::amount_opt")]
    price: Option<Amount>,
    #[serde(default, deserialize_with = "lenient::amount_opt")]
    regular_price: Option<Amount>,
    #[serde(default, deserialize_with = "lenient::amount_opt")]
    sale_price: Option<Amount>,
    #[serde(default, deserialize_with = "lenient::date_opt")]
    date_on_sale_from_gmt: Option<GmtTime>,
    #[serde(default, deserialize_with = "lenient::date_opt")]
    date_on_sale_to_gmt: Option<GmtTime>,
    #[serde(default, deserialize_with = "lenient::string")]
    tax_status: String,
    #[serde(default, deserialize_with = "lenient::string")]
    tax_class: String,
    #[serde(default)]
    manage_stock: Value,
    #[serde(default, deserialize_with = "lenient::i64_opt")]
    stock_quantity: Option<i64>,
    #[serde(default, deserialize_with = "lenient::string")]
    stock_status: String,
    #[serde(default, deserialize_with = "lenient::string")]
    backorders: String,
    #[serde(default, deserialize_with = "lenient::list")]
    attributes: Vec<WProductAttribute>,
    #[serde(default, deserialize_with = "lenient::list")]
    images: Vec<WImage>,
    /// Variations carry one `image` instead of `images`.
    #[serde(default, deserialize_with = "lenient::image_opt")]
    image: Option<WImage>,
    #[serde(default, deserialize_with = "lenient::list")]
    categories: Vec<WRef>,
    #[serde(default, deserialize_with = "lenient::list")]
    tags: Vec<WRef>,
    #[serde(default, deserialize_with = "lenient::list")]
    meta_data: Vec<WMeta>,
    #[serde(default, deserialize_with = "lenient::date_opt")]
    date_created_gmt: Option<GmtTime>,
    #[serde(default, deserialize_with = "lenient::date_opt")]
    date_modified_gmt: Option<GmtTime>,
}

fn manage_stock(v: &Value) -> ManageStock {
    match v {
        Value::Bool(true) => ManageStock::Yes,
        Value::String(s) if s == "parent" => ManageStock::Parent,
        Value::String(s) if matches!(s.as_str(), "yes" | "1" | "true") => ManageStock::Yes,
        Value::Number(n) if n.as_i64() == Some(1) => ManageStock::Yes,
        _ => ManageStock::No,
    }
}

fn product_from(w: WProduct, raw: RawJson, variation: bool) -> catalog::Product {
    let kind = if w.kind.is_empty() && variation {
        ProductKind::Variation
    } else {
        ProductKind::parse(&w.kind)
    };
    let mut images: Vec<Image> = w.images.into_iter().map(Image::from).collect();
    if let Some(i) = w.image {
        images.push(i.into());
    }
    catalog::Product {
        id: w.id,
        parent_id: w.parent_id,
        kind,
        status: w.status,
        sku: w.sku,
        name: w.name,
        slug: w.slug,
        global_unique_id: w.global_unique_id,
        price: w.price,
        regular_price: w.regular_price,
        sale_price: w.sale_price,
        sale_from: w.date_on_sale_from_gmt,
        sale_to: w.date_on_sale_to_gmt,
        tax_status: w.tax_status,
        tax_class: w.tax_class,
        manage_stock: manage_stock(&w.manage_stock),
        stock_quantity: w.stock_quantity,
        stock_status: w.stock_status,
        backorders: w.backorders,
        attributes: w
            .attributes
            .into_iter()
            .map(|a| ProductAttribute {
                id: a.id,
                name: a.name,
                slug: a.slug,
                options: a.options,
                option: a.option,
                variation: a.variation,
            })
            .collect(),
        images,
        category_ids: w.categories.into_iter().map(|r| r.id).collect(),
        tag_ids: w.tags.into_iter().map(|r| r.id).collect(),
        meta: meta(w.meta_data),
        date_created: w.date_created_gmt,
        // A product always has a modification date; should one be missing,
        // the creation date (or the epoch) lets any real version replace it.
        date_modified: w
            .date_modified_gmt
            .or(w.date_created_gmt)
            .unwrap_or(GmtTime::from_unix(0)),
        raw,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WAddress {
    #[serde(deserialize_with = "lenient::string")]
    first_name: String,
    #[serde(deserialize_with = "lenient::string")]
    last_name: String,
    #[serde(deserialize_with = "lenient::string")]
    company: String,
    #[serde(deserialize_with = "lenient::string")]
    address_1: String,
    #[serde(deserialize_with = "lenient::string")]
    address_2: String,
    #[serde(deserialize_with = "lenient::string")]
    city: String,
    #[serde(deserialize_with = "lenient::string")]
    state: String,
    #[serde(deserialize_with = "lenient::string")]
    postcode: String,
    #[serde(deserialize_with = "lenient::string")]
    country: String,
    #[serde(deserialize_with = "lenient::string_present")]
    email: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    phone: String,
}

impl From<WAddress> for Address {
    fn from(a: WAddress) -> Self {
        Address {
            first_name: a.first_name,
            last_name: a.last_name,
            company: a.company,
            address_1: a.address_1,
            address_2: a.address_2,
            city: a.city,
            state: a.state,
            postcode: a.postcode,
            country: a.country,
            email: a.email,
            phone: a.phone,
        }
    }
}

fn address(v: Value) -> Address {
    match v {
        v @ Value::Object(_) => WAddress::deserialize(v).unwrap_or_default().into(),
        _ => Address::default(),
    }
}

#[derive(Deserialize)]
struct WCustomer {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    email: String,
    #[serde(default, deserialize_with = "lenient::string")]
    first_name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    last_name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    username: String,
    #[serde(default, deserialize_with = "lenient::string")]
    role: String,
    #[serde(default, deserialize_with = "lenient::bool")]
    is_paying_customer: bool,
    #[serde(default)]
    billing: Value,
    #[serde(default)]
    shipping: Value,
    #[serde(default, deserialize_with = "lenient::list")]
    meta_data: Vec<WMeta>,
    #[serde(default, deserialize_with = "lenient::date_opt")]
    date_created_gmt: Option<GmtTime>,
    #[serde(default, deserialize_with = "lenient::date_opt")]
    date_modified_gmt: Option<GmtTime>,
}

#[derive(Deserialize)]
struct WLineItem {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    name: String,
    #[serde(default, deserialize_with = "lenient::i64")]
    product_id: i64,
    #[serde(default, deserialize_with = "lenient::i64")]
    variation_id: i64,
    #[serde(default, deserialize_with = "lenient::i64")]
    quantity: i64,
    #[serde(default, deserialize_with = "lenient::string_opt")]
    sku: Option<String>,
    #[serde(default, deserialize_with = "lenient::string_opt")]
    global_unique_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    tax_class: String,
    #[serde(default, deserialize_with = "lenient::amount_opt")]
    price: Option<Amount>,
    #[serde(default, deserialize_with = "lenient::amount")]
    subtotal: Amount,
    #[serde(default, deserialize_with = "lenient::amount")]
    subtotal_tax: Amount,
    #[serde(default, deserialize_with = "lenient::amount")]
    total: Amount,
    #[serde(default, deserialize_with = "lenient::amount")]
    total_tax: Amount,
    #[serde(default, deserialize_with = "lenient::list")]
    meta_data: Vec<WMeta>,
}

#[derive(Deserialize)]
struct WShippingLine {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    method_id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    method_title: String,
    #[serde(default, deserialize_with = "lenient::string")]
    instance_id: String,
    #[serde(default, deserialize_with = "lenient::amount")]
    total: Amount,
    #[serde(default, deserialize_with = "lenient::amount")]
    total_tax: Amount,
    #[serde(default, deserialize_with = "lenient::list")]
    meta_data: Vec<WMeta>,
}

#[derive(Deserialize)]
struct WFeeLine {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    tax_class: String,
    #[serde(default, deserialize_with = "lenient::string")]
    tax_status: String,
    #[serde(default, deserialize_with = "lenient::amount")]
    total: Amount,
    #[serde(default, deserialize_with = "lenient::amount")]
    total_tax: Amount,
    #[serde(default, deserialize_with = "lenient::list")]
    meta_data: Vec<WMeta>,
}

#[derive(Deserialize)]
struct WCouponLine {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    code: String,
    #[serde(default, deserialize_with = "lenient::amount")]
    discount: Amount,
    #[serde(default, deserialize_with = "lenient::amount")]
    discount_tax: Amount,
}

#[derive(Deserialize)]
struct WTaxLine {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    rate_code: String,
    #[serde(default, deserialize_with = "lenient::i64")]
    rate_id: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    label: String,
    #[serde(default, deserialize_with = "lenient::bool")]
    compound: bool,
    #[serde(default, deserialize_with = "lenient::amount")]
    tax_total: Amount,
    #[serde(default, deserialize_with = "lenient::amount")]
    shipping_tax_total: Amount,
}

#[derive(Deserialize)]
struct WRefundSummary {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    reason: String,
    #[serde(default, deserialize_with = "lenient::amount")]
    total: Amount,
}

#[derive(Deserialize)]
struct WOrder {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    #[serde(default, deserialize_with = "lenient::i64")]
    parent_id: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    number: String,
    #[serde(default, deserialize_with = "lenient::string")]
    order_key: String,
    #[serde(default, deserialize_with = "lenient::string")]
    status: String,
    #[serde(default, deserialize_with = "lenient::string")]
    currency: String,
    #[serde(default, deserialize_with = "lenient::bool")]
    prices_include_tax: bool,
    #[serde(default, deserialize_with = "lenient::i64")]
    customer_id: i64,
    #[serde(default)]
    billing: Value,
    #[serde(default)]
    shipping: Value,
    #[serde(default, deserialize_with = "lenient::string")]
    payment_method: String,
    #[serde(default, deserialize_with = "lenient::string")]
    payment_method_title: String,
    #[serde(default, deserialize_with = "lenient::string")]
    transaction_id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    created_via: String,
    #[serde(default, deserialize_with = "lenient::string")]
    customer_note: String,
    #[serde(default, deserialize_with = "lenient::amount")]
    discount_total: Amount,
    #[serde(default, deserialize_with = "lenient::amount")]
    discount_tax: Amount,
    #[serde(default, deserialize_with = "lenient::amount")]
    shipping_total: Amount,
    #[serde(default, deserialize_with = "lenient::amount")]
    shipping_tax: Amount,
    #[serde(default, deserialize_with = "lenient::amount")]
    cart_tax: Amount,
    #[serde(default, deserialize_with = "lenient::amount")]
    total: Amount,
    #[serde(default, deserialize_with = "lenient::amount")]
    total_tax: Amount,
    #[serde(default, deserialize_with = "lenient::date_opt")]
    date_created_gmt: Option<GmtTime>,
    #[serde(default, deserialize_with = "lenient::date_opt")]
    date_modified_gmt: Option<GmtTime>,
    #[serde(default, deserialize_with = "lenient::date_opt")]
    date_paid_gmt: Option<GmtTime>,
    #[serde(default, deserialize_with = "lenient::date_opt")]
    date_completed_gmt: Option<GmtTime>,
    #[serde(default, deserialize_with = "lenient::list")]
    meta_data: Vec<WMeta>,
    #[serde(default, deserialize_with = "lenient::list")]
    line_items: Vec<WLineItem>,
    #[serde(default, deserialize_with = "lenient::list")]
    shipping_lines: Vec<WShippingLine>,
    #[serde(default, deserialize_with = "lenient::list")]
    fee_lines: Vec<WFeeLine>,
    #[serde(default, deserialize_with = "lenient::list")]
    coupon_lines: Vec<WCouponLine>,
    #[serde(default, deserialize_with = "lenient::list")]
    tax_lines: Vec<WTaxLine>,
    #[serde(default, deserialize_with = "lenient::list")]
    refunds: Vec<WRefundSummary>,
}

fn order_from(w: WOrder, raw: RawJson) -> orders::Order {
    orders::Order {
        id: w.id,
        parent_id: w.parent_id,
        number: if w.number.is_empty() {
            w.id.to_string()
        } else {
            w.number
        },
        order_key: w.order_key,
        status: w.status,
        currency: w.currency,
        prices_include_tax: w.prices_include_tax,
        customer_id: w.customer_id,
        billing: address(w.billing),
        shipping: address(w.shipping),
        payment_method: w.payment_method,
        payment_method_title: w.payment_method_title,
        transaction_id: w.transaction_id,
        created_via: w.created_via,
        customer_note: w.customer_note,
        discount_total: w.discount_total,
        discount_tax: w.discount_tax,
        shipping_total: w.shipping_total,
        shipping_tax: w.shipping_tax,
        cart_tax: w.cart_tax,
        total: w.total,
        total_tax: w.total_tax,
        date_created: w.date_created_gmt,
        date_modified: w
            .date_modified_gmt
            .or(w.date_created_gmt)
            .unwrap_or(GmtTime::from_unix(0)),
        date_paid: w.date_paid_gmt,
        date_completed: w.date_completed_gmt,
        risk: None,
        meta: meta(w.meta_data),
        line_items: w
            .line_items
            .into_iter()
            .map(|l| orders::LineItem {
                id: l.id,
                name: l.name,
                product_id: l.product_id,
                variation_id: l.variation_id,
                quantity: l.quantity,
                sku: l.sku,
                global_unique_id: l.global_unique_id,
                tax_class: l.tax_class,
                price: l.price,
                subtotal: l.subtotal,
                subtotal_tax: l.subtotal_tax,
                total: l.total,
                total_tax: l.total_tax,
                meta: meta(l.meta_data),
            })
            .collect(),
        shipping_lines: w
            .shipping_lines
            .into_iter()
            .map(|l| orders::ShippingLine {
                id: l.id,
                method_id: l.method_id,
                method_title: l.method_title,
                instance_id: l.instance_id,
                total: l.total,
                total_tax: l.total_tax,
                meta: meta(l.meta_data),
            })
            .collect(),
        fee_lines: w
            .fee_lines
            .into_iter()
            .map(|l| orders::FeeLine {
                id: l.id,
                name: l.name,
                tax_class: l.tax_class,
                tax_status: l.tax_status,
                total: l.total,
                total_tax: l.total_tax,
                meta: meta(l.meta_data),
            })
            .collect(),
        coupon_lines: w
            .coupon_lines
            .into_iter()
            .map(|l| orders::CouponLine {
                id: l.id,
                code: l.code,
                discount: l.discount,
                discount_tax: l.discount_tax,
            })
            .collect(),
        tax_lines: w
            .tax_lines
            .into_iter()
            .map(|l| orders::TaxLine {
                id: l.id,
                rate_code: l.rate_code,
                rate_id: l.rate_id,
                label: l.label,
                compound: l.compound,
                tax_total: l.tax_total,
                shipping_tax_total: l.shipping_tax_total,
            })
            .collect(),
        refunds: w
            .refunds
            .into_iter()
            .map(|r| RefundSummary {
                id: r.id,
                reason: r.reason,
                total: r.total,
            })
            .collect(),
        raw,
    }
}

#[derive(Deserialize)]
struct WRefund {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    /// Present on the flat `/refunds` list, absent under `/orders/{id}/refunds`.
    #[serde(default, deserialize_with = "lenient::i64")]
    parent_id: i64,
    #[serde(default, deserialize_with = "lenient::amount")]
    amount: Amount,
    #[serde(default, deserialize_with = "lenient::string")]
    reason: String,
    #[serde(default, deserialize_with = "lenient::bool")]
    refunded_payment: bool,
    #[serde(default, deserialize_with = "lenient::date_opt")]
    date_created_gmt: Option<GmtTime>,
    #[serde(default, deserialize_with = "lenient::list")]
    meta_data: Vec<WMeta>,
    #[serde(default, deserialize_with = "lenient::list")]
    line_items: Vec<WLineItem>,
}

/// The order line a refund line returns, from its `_refunded_item_id` meta.
const REFUNDED_ITEM_META: &str = "_refunded_item_id";

fn refund_from(w: WRefund, raw: RawJson, order_id: Option<UpstreamId>) -> orders::Refund {
    orders::Refund {
        id: w.id,
        order_id: order_id.unwrap_or(w.parent_id),
        amount: w.amount,
        reason: w.reason,
        refunded_payment: w.refunded_payment,
        date_created: w.date_created_gmt,
        meta: meta(w.meta_data),
        line_items: w
            .line_items
            .into_iter()
            .map(|l| {
                let refunded_item_id = l
                    .meta_data
                    .iter()
                    .find(|m| m.key == REFUNDED_ITEM_META)
                    .and_then(|m| match &m.value {
                        Value::String(s) => s.trim().parse().ok(),
                        Value::Number(n) => n.as_i64(),
                        _ => None,
                    });
                orders::RefundLine {
                    id: l.id,
                    refunded_item_id,
                    product_id: l.product_id,
                    variation_id: l.variation_id,
                    quantity: l.quantity,
                    subtotal: l.subtotal,
                    total: l.total,
                    total_tax: l.total_tax,
                }
            })
            .collect(),
        raw,
    }
}

#[derive(Deserialize)]
struct WCategory {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    slug: String,
    #[serde(default, deserialize_with = "lenient::i64")]
    parent: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    description: String,
    #[serde(default, deserialize_with = "lenient::string")]
    display: String,
    #[serde(default, deserialize_with = "lenient::image_opt")]
    image: Option<WImage>,
    #[serde(default, deserialize_with = "lenient::i64")]
    menu_order: i64,
    #[serde(default, deserialize_with = "lenient::i64")]
    count: i64,
}

#[derive(Deserialize)]
struct WTag {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    slug: String,
    #[serde(default, deserialize_with = "lenient::string")]
    description: String,
    #[serde(default, deserialize_with = "lenient::i64")]
    count: i64,
}

#[derive(Deserialize)]
struct WAttribute {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    slug: String,
    #[serde(default, rename = "type", deserialize_with = "lenient::string")]
    kind: String,
    #[serde(default, deserialize_with = "lenient::string")]
    order_by: String,
    #[serde(default, deserialize_with = "lenient::bool")]
    has_archives: bool,
}

#[derive(Deserialize)]
struct WTerm {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    slug: String,
    #[serde(default, deserialize_with = "lenient::string")]
    description: String,
    #[serde(default, deserialize_with = "lenient::i64")]
    menu_order: i64,
    #[serde(default, deserialize_with = "lenient::i64")]
    count: i64,
}

#[derive(Deserialize)]
struct WTaxRate {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    country: String,
    #[serde(default, deserialize_with = "lenient::string")]
    state: String,
    #[serde(default, deserialize_with = "lenient::string")]
    postcode: String,
    #[serde(default, deserialize_with = "lenient::string")]
    city: String,
    #[serde(default, deserialize_with = "lenient::strings")]
    postcodes: Vec<String>,
    #[serde(default, deserialize_with = "lenient::strings")]
    cities: Vec<String>,
    #[serde(default, deserialize_with = "lenient::amount")]
    rate: Amount,
    #[serde(default, deserialize_with = "lenient::string")]
    name: String,
    #[serde(default, deserialize_with = "lenient::i64")]
    priority: i64,
    #[serde(default, deserialize_with = "lenient::bool")]
    compound: bool,
    #[serde(default, deserialize_with = "lenient::bool")]
    shipping: bool,
    #[serde(default, deserialize_with = "lenient::i64")]
    order: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    class: String,
}

/// Older stores give `postcode: "A;B"` instead of `postcodes: [..]`.
fn split_list(list: Vec<String>, joined: &str) -> Vec<String> {
    if !list.is_empty() || joined.is_empty() {
        return list;
    }
    joined
        .split(';')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

#[derive(Deserialize)]
struct WTaxClass {
    #[serde(deserialize_with = "lenient::string")]
    slug: String,
    #[serde(default, deserialize_with = "lenient::string")]
    name: String,
}

#[derive(Deserialize)]
struct WCountry {
    #[serde(deserialize_with = "lenient::string")]
    code: String,
    #[serde(default, deserialize_with = "lenient::string")]
    name: String,
    #[serde(default, deserialize_with = "lenient::list")]
    states: Vec<WState>,
}

#[derive(Deserialize)]
struct WState {
    #[serde(deserialize_with = "lenient::string")]
    code: String,
    #[serde(default, deserialize_with = "lenient::string")]
    name: String,
}

#[derive(Deserialize)]
struct WZone {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    name: String,
    #[serde(default, deserialize_with = "lenient::i64")]
    order: i64,
}

#[derive(Deserialize)]
struct WZoneLocation {
    #[serde(deserialize_with = "lenient::string")]
    code: String,
    #[serde(default, rename = "type", deserialize_with = "lenient::string")]
    kind: String,
}

#[derive(Deserialize)]
struct WShippingMethod {
    #[serde(default, deserialize_with = "lenient::i64")]
    instance_id: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    title: String,
    #[serde(default, deserialize_with = "lenient::i64")]
    order: i64,
    #[serde(default, deserialize_with = "lenient::bool")]
    enabled: bool,
    #[serde(default, deserialize_with = "lenient::string")]
    method_id: String,
    #[serde(default)]
    settings: Value,
}

/// A method's settings as `id -> value` (the rest is form metadata).
fn setting_values(settings: Value) -> Value {
    match settings {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let value = v.get("value").cloned().unwrap_or(Value::Null);
                    (k, value)
                })
                .collect(),
        ),
        _ => Value::Object(Default::default()),
    }
}

#[derive(Deserialize)]
struct WGateway {
    #[serde(deserialize_with = "lenient::string")]
    id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    title: String,
    #[serde(default, deserialize_with = "lenient::string")]
    description: String,
    #[serde(default, deserialize_with = "lenient::string")]
    order: String,
    #[serde(default, deserialize_with = "lenient::bool")]
    enabled: bool,
    #[serde(default, deserialize_with = "lenient::string")]
    method_title: String,
}

#[derive(Deserialize)]
struct WSetting {
    #[serde(deserialize_with = "lenient::string")]
    id: String,
    #[serde(default)]
    value: Value,
}

#[derive(Deserialize)]
struct WCurrency {
    #[serde(default, deserialize_with = "lenient::string")]
    code: String,
    #[serde(default, deserialize_with = "lenient::string")]
    symbol: String,
}

// ---------------------------------------------------------------------------
// Turning response bodies into domain values.

/// The JSON of one object with its `_links` dropped, and the object itself.
fn split_raw(mut value: Value) -> (Value, RawJson) {
    if let Value::Object(map) = &mut value {
        map.remove("_links");
    }
    let raw = RawJson(value.to_string());
    (value, raw)
}

fn malformed(what: &str, value: &Value, err: impl std::fmt::Display) -> UpstreamError {
    let id = value.get("id").map(|v| v.to_string()).unwrap_or_default();
    UpstreamError::Malformed {
        detail: format!("{what} {id}: {err}").replace("  ", " "),
        snippet: snippet(value.to_string().as_bytes()),
    }
}

fn items(body: Value, what: &str) -> Result<Vec<Value>, UpstreamError> {
    match body {
        Value::Array(items) => Ok(items),
        other => Err(UpstreamError::Malformed {
            detail: format!("expected a list of {what}s"),
            snippet: snippet(other.to_string().as_bytes()),
        }),
    }
}

/// Parses each element of a list with `convert`.
fn parse_list<W: DeserializeOwned, T>(
    body: Value,
    what: &str,
    convert: impl Fn(W, RawJson) -> T,
) -> Result<Vec<T>, UpstreamError> {
    items(body, what)?
        .into_iter()
        .map(|item| {
            let (value, raw) = split_raw(item);
            W::deserialize(&value)
                .map(|w| convert(w, raw))
                .map_err(|e| malformed(what, &value, e))
        })
        .collect()
}

/// [`parse_list`] straight from a response body, for the large pages of a
/// pull: each object is cut out of the body as text (nothing re-serialised,
/// no intermediate tree), its `_links` member dropped, and the typed view
/// read from that text. A body that is not a JSON list takes the slow path,
/// which reports it exactly as [`parse_list`] does.
fn parse_list_body<W: DeserializeOwned, T>(
    body: &[u8],
    what: &str,
    convert: impl Fn(W, RawJson) -> T,
) -> Result<Vec<T>, UpstreamError> {
    let items = std::str::from_utf8(body)
        .ok()
        .and_then(|text| serde_json::from_str::<Vec<&RawValue>>(text).ok());
    let Some(items) = items else {
        return parse_list(super::classify::json_body(body)?, what, convert);
    };
    items
        .into_iter()
        .map(|item| {
            let raw = without_links(item);
            serde_json::from_str::<W>(raw.as_str())
                .map(|w| convert(w, raw))
                .map_err(|e| {
                    let value = serde_json::from_str(item.get()).unwrap_or(Value::Null);
                    malformed(what, &value, e)
                })
        })
        .collect()
}

/// An object's JSON text without its top-level `_links` member (the same
/// text otherwise, escapes and all). Anything but an object is kept whole.
fn without_links(item: &RawValue) -> RawJson {
    let text = item.get();
    if !text.contains("\"_links\"") {
        return RawJson(text.to_owned());
    }
    if let Some(kept) = last_member_links(text) {
        return RawJson(kept);
    }
    match serde_json::from_str::<Members<'_>>(text) {
        Ok(Members(members)) => {
            let mut out = String::with_capacity(text.len());
            out.push('{');
            for (key, value) in members.iter().filter(|(k, _)| k != "_links") {
                if out.len() > 1 {
                    out.push(',');
                }
                // A key is a plain string: serialising it cannot fail.
                out.push_str(&serde_json::to_string(key).unwrap_or_default());
                out.push(':');
                out.push_str(value.get());
            }
            out.push('}');
            RawJson(out)
        }
        Err(_) => RawJson(text.to_owned()),
    }
}

/// The fast way for what WooCommerce writes (`_links` is the object's last
/// member): the text before `,"_links":` closed with `}`, when what follows
/// is exactly one JSON value and the closing brace of the whole text. In
/// valid JSON `,"_links":` cannot start inside a string (its quote would end
/// the string), and a value followed by the text's final `}` belongs to the
/// outermost object; anything else (a nested `_links` last, `_links` first,
/// whitespace the shop added) goes the general way.
fn last_member_links(text: &str) -> Option<String> {
    const KEY: &str = ",\"_links\":";
    let at = text.rfind(KEY)?;
    let value = text[at + KEY.len()..].strip_suffix('}')?;
    serde_json::from_str::<&RawValue>(value).ok()?;
    let mut out = String::with_capacity(at + 1);
    out.push_str(&text[..at]);
    out.push('}');
    Some(out)
}

/// An object's members in order, their values left as text.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Members<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Members<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Members<'a>, M::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(48));
                while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                    members.push(entry);
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

/// Parses a single object with `convert`.
fn parse_one<W: DeserializeOwned, T>(
    body: Value,
    what: &str,
    convert: impl Fn(W, RawJson) -> T,
) -> Result<T, UpstreamError> {
    let (value, raw) = split_raw(body);
    W::deserialize(&value)
        .map(|w| convert(w, raw))
        .map_err(|e| malformed(what, &value, e))
}

/// `[{"id":1,"date_modified_gmt":"…"}]` → stamps; `None` if not that shape.
/// An empty or `false` date is an unknown version, not an error.
pub fn stamps(body: &Value, date_field: &str) -> Option<Vec<crate::domain::Stamp>> {
    body.as_array()?
        .iter()
        .map(|v| {
            Some(crate::domain::Stamp {
                id: v.get("id")?.as_i64()?,
                modified: v
                    .get(date_field)
                    .and_then(Value::as_str)
                    .and_then(GmtTime::parse),
            })
        })
        .collect()
}

/// `[{"id":45,"parent_id":42,…}]` → `(45, 42)` for each item naming a
/// parent.
pub fn parents(body: &Value) -> Vec<(UpstreamId, UpstreamId)> {
    body.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| Some((v.get("id")?.as_i64()?, v.get("parent_id")?.as_i64()?)))
                .filter(|(_, parent)| *parent > 0)
                .collect()
        })
        .unwrap_or_default()
}

/// Products from a page's body as received (read as `parse_list_body` does).
pub fn products_body(body: &[u8]) -> Result<Vec<catalog::Product>, UpstreamError> {
    parse_list_body(body, "product", |w: WProduct, raw| {
        product_from(w, raw, false)
    })
}

/// Variations from a page's body as received.
pub fn variations_body(body: &[u8]) -> Result<Vec<catalog::Product>, UpstreamError> {
    parse_list_body(body, "variation", |w: WProduct, raw| {
        product_from(w, raw, true)
    })
}

/// Orders from a page's body as received.
pub fn orders_body(body: &[u8]) -> Result<Vec<orders::Order>, UpstreamError> {
    parse_list_body(body, "order", order_from)
}

pub fn products(body: Value) -> Result<Vec<catalog::Product>, UpstreamError> {
    parse_list(body, "product", |w: WProduct, raw| {
        product_from(w, raw, false)
    })
}

pub fn variations(body: Value) -> Result<Vec<catalog::Product>, UpstreamError> {
    parse_list(body, "variation", |w: WProduct, raw| {
        product_from(w, raw, true)
    })
}

pub fn categories(body: Value) -> Result<Vec<Category>, UpstreamError> {
    parse_list(body, "category", |w: WCategory, raw| Category {
        id: w.id,
        parent_id: w.parent,
        name: w.name,
        slug: w.slug,
        description: w.description,
        display: w.display,
        image: w.image.map(Image::from),
        menu_order: w.menu_order,
        count: w.count,
        raw,
    })
}

pub fn tags(body: Value) -> Result<Vec<Tag>, UpstreamError> {
    parse_list(body, "tag", |w: WTag, raw| Tag {
        id: w.id,
        name: w.name,
        slug: w.slug,
        description: w.description,
        count: w.count,
        raw,
    })
}

/// Attributes without their terms (fetched per attribute).
pub fn attributes(body: Value) -> Result<Vec<Attribute>, UpstreamError> {
    parse_list(body, "attribute", |w: WAttribute, raw| Attribute {
        id: w.id,
        name: w.name,
        slug: w.slug,
        kind: w.kind,
        order_by: w.order_by,
        has_archives: w.has_archives,
        terms: Vec::new(),
        raw,
    })
}

pub fn attribute_terms(body: Value) -> Result<Vec<AttributeTerm>, UpstreamError> {
    parse_list(body, "attribute term", |w: WTerm, raw| AttributeTerm {
        id: w.id,
        name: w.name,
        slug: w.slug,
        description: w.description,
        menu_order: w.menu_order,
        count: w.count,
        raw,
    })
}

fn customer_from(w: WCustomer, raw: RawJson) -> customers::Customer {
    customers::Customer {
        id: w.id,
        email: w.email,
        first_name: w.first_name,
        last_name: w.last_name,
        username: w.username,
        role: w.role,
        is_paying_customer: w.is_paying_customer,
        billing: address(w.billing),
        shipping: address(w.shipping),
        meta: meta(w.meta_data),
        date_created: w.date_created_gmt,
        date_modified: w.date_modified_gmt,
        raw,
    }
}

pub fn customers(body: Value) -> Result<Vec<customers::Customer>, UpstreamError> {
    parse_list(body, "customer", customer_from)
}

/// Customers from a page's body as received.
pub fn customers_body(body: &[u8]) -> Result<Vec<customers::Customer>, UpstreamError> {
    parse_list_body(body, "customer", customer_from)
}

pub fn orders(body: Value) -> Result<Vec<orders::Order>, UpstreamError> {
    parse_list(body, "order", order_from)
}

/// Refunds; `order_id` is given when listed under one order (those items
/// carry no `parent_id`).
/// Refunds from the flat `/refunds` list, or from one order's refunds
/// (`order_id`). The order's route leaves out `parent_id` (it is in the
/// path); it is added so that a refund is kept in one shape whichever route
/// brought it.
pub fn refunds(
    mut body: Value,
    order_id: Option<UpstreamId>,
) -> Result<Vec<orders::Refund>, UpstreamError> {
    if let (Some(order), Value::Array(items)) = (order_id, &mut body) {
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            item.entry("parent_id").or_insert(Value::from(order));
        }
    }
    parse_list(body, "refund", |w: WRefund, raw| {
        refund_from(w, raw, order_id)
    })
}

pub fn tax_rates(body: Value) -> Result<Vec<TaxRate>, UpstreamError> {
    parse_list(body, "tax rate", |w: WTaxRate, raw| TaxRate {
        id: w.id,
        postcodes: split_list(w.postcodes, &w.postcode),
        cities: split_list(w.cities, &w.city),
        country: w.country,
        state: w.state,
        rate: w.rate,
        name: w.name,
        priority: w.priority,
        compound: w.compound,
        shipping: w.shipping,
        order: w.order,
        class: w.class,
        raw,
    })
}

pub fn tax_classes(body: Value) -> Result<Vec<TaxClass>, UpstreamError> {
    parse_list(body, "tax class", |w: WTaxClass, raw| TaxClass {
        slug: w.slug,
        name: w.name,
        raw,
    })
}

pub fn countries(body: Value) -> Result<Vec<Country>, UpstreamError> {
    parse_list(body, "country", |w: WCountry, raw| Country {
        code: w.code,
        name: w.name,
        states: w
            .states
            .into_iter()
            .map(|s| CountryState {
                code: s.code,
                name: s.name,
            })
            .collect(),
        raw,
    })
}

/// Zones without locations and methods (fetched per zone).
pub fn shipping_zones(body: Value) -> Result<Vec<ShippingZone>, UpstreamError> {
    parse_list(body, "shipping zone", |w: WZone, raw| ShippingZone {
        id: w.id,
        name: w.name,
        order: w.order,
        locations: Vec::new(),
        methods: Vec::new(),
        raw,
    })
}

pub fn zone_locations(body: Value) -> Result<Vec<ZoneLocation>, UpstreamError> {
    parse_list(body, "zone location", |w: WZoneLocation, _raw| {
        ZoneLocation {
            code: w.code,
            kind: w.kind,
        }
    })
}

pub fn shipping_methods(body: Value) -> Result<Vec<ShippingMethod>, UpstreamError> {
    parse_list(body, "shipping method", |w: WShippingMethod, raw| {
        ShippingMethod {
            instance_id: w.instance_id,
            method_id: w.method_id,
            title: w.title,
            enabled: w.enabled,
            order: w.order,
            settings: setting_values(w.settings),
            raw,
        }
    })
}

pub fn payment_gateways(body: Value) -> Result<Vec<PaymentGateway>, UpstreamError> {
    parse_list(body, "payment gateway", |w: WGateway, raw| PaymentGateway {
        id: w.id,
        title: w.title,
        description: w.description,
        enabled: w.enabled,
        method_title: w.method_title,
        order: w.order,
        raw,
    })
}

/// The settings of one group (`general`, `tax`, `products`).
pub fn settings(body: Value, group: &str) -> Result<Vec<Setting>, UpstreamError> {
    parse_list(body, "setting", |w: WSetting, raw| Setting {
        group: group.to_owned(),
        id: w.id,
        value: w.value,
        raw,
    })
}

/// The current currency's code and symbol.
pub fn currency(body: Value) -> Result<(String, String), UpstreamError> {
    parse_one(body, "currency", |w: WCurrency, _raw| (w.code, w.symbol))
}

/// The setting groups a till needs.
pub const SETTING_GROUPS: [&str; 3] = ["general", "tax", "products"];

/// Derives the store information a till computes with from the raw settings
/// (WooCommerce option names) and the current currency.
pub fn store_info(settings: &[Setting], currency: (String, String)) -> StoreInfo {
    let get = |id: &str| -> String {
        settings
            .iter()
            .find(|s| s.id == id)
            .map(|s| match &s.value {
                Value::String(v) => v.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })
            .unwrap_or_default()
    };
    let yes = |id: &str| get(id) == "yes";
    let (code, symbol) = currency;
    StoreInfo {
        currency: if code.is_empty() {
            get("woocommerce_currency")
        } else {
            code
        },
        currency_symbol: symbol,
        currency_position: Some(get("woocommerce_currency_pos"))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "left".to_owned()),
        prices_include_tax: yes("woocommerce_prices_include_tax"),
        price_decimals: get("woocommerce_price_num_decimals").parse().unwrap_or(2),
        decimal_separator: Some(get("woocommerce_price_decimal_sep"))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| ".".to_owned()),
        thousand_separator: get("woocommerce_price_thousand_sep"),
        calc_taxes: yes("woocommerce_calc_taxes"),
        manage_stock: yes("woocommerce_manage_stock"),
        base_location: get("woocommerce_default_country"),
    }
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
