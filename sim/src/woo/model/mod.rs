//! The simulated store's state, as typed Rust data: what WordPress keeps in
//! its tables, not what the REST API prints.
//!
//! Rendering to WooCommerce JSON lives in `render/`; generation in `data/`;
//! changes in `mutate.rs`. Ids come from counters shared the way WordPress
//! shares them: one post-id sequence for products, variations, orders and
//! refunds, one user-id sequence, one term-id sequence.

mod catalog;
mod sales;

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde_json::Value;

use super::clock::Ts;

pub(crate) use catalog::{
    Attribute, AttributeTerm, Backorders, PostStatus, Pricing, Product, ProductAttribute,
    ProductType, Stock, StockStatus, Term, Variation,
};
pub(crate) use sales::{
    CouponLine, FeeLine, ItemMeta, ItemTax, LineItem, Order, OrderStatus, Refund, ShippingLine,
    TaxLine,
};

/// Id sequences, named after the WordPress / WooCommerce tables they mimic.
#[derive(Debug, Clone)]
pub(crate) struct Ids {
    /// `wp_posts`: products, variations, orders (HPOS keeps a placeholder
    /// post) and refunds.
    pub post: i64,
    /// `wp_users`.
    pub user: i64,
    /// `wp_terms`: categories, tags and attribute terms.
    pub term: i64,
    /// `woocommerce_attribute_taxonomies`.
    pub attribute: i64,
    /// `woocommerce_order_items`.
    pub order_item: i64,
    /// `woocommerce_order_itemmeta`.
    pub item_meta: i64,
    /// `wp_postmeta` rows exposed as product `meta_data`.
    pub post_meta: i64,
    /// `wc_orders_meta` rows exposed as order and refund `meta_data`.
    pub order_meta: i64,
    /// `wp_usermeta` rows exposed as customer `meta_data`.
    pub user_meta: i64,
    /// `wc_webhooks`.
    pub webhook: i64,
}

impl Default for Ids {
    fn default() -> Self {
        // WordPress installs with a few posts (sample page, shop pages) and
        // the admin user; WooCommerce creates the "Uncategorized" term.
        Self {
            post: 10,
            user: 2,
            term: 15,
            attribute: 1,
            order_item: 1,
            item_meta: 1,
            post_meta: 1,
            order_meta: 1,
            // WordPress writes a dozen rows for the administrator first.
            user_meta: 20,
            webhook: 1,
        }
    }
}

impl Ids {
    pub(crate) fn next(counter: &mut i64) -> i64 {
        let id = *counter;
        *counter += 1;
        id
    }
}

/// One `meta_data` entry of a product, order, refund or customer.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    pub id: i64,
    pub key: String,
    pub value: Value,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Address {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub address_1: String,
    pub address_2: String,
    pub city: String,
    pub state: String,
    pub postcode: String,
    pub country: String,
    pub email: String,
    pub phone: String,
}

/// A WordPress user as the customers endpoint shows it.
#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub id: i64,
    pub created: Ts,
    pub modified: Ts,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: &'static str,
    pub username: String,
    pub display_name: String,
    pub billing: Address,
    pub shipping: Address,
    pub is_paying_customer: bool,
    pub meta: Vec<Meta>,
}

#[derive(Debug, Clone)]
pub(crate) struct TaxClass {
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub(crate) struct TaxRate {
    pub id: i64,
    pub country: String,
    pub state: String,
    pub postcodes: Vec<String>,
    pub cities: Vec<String>,
    /// Percent, e.g. 20 or 7.25.
    pub rate: Decimal,
    pub name: String,
    pub priority: i64,
    pub compound: bool,
    pub shipping: bool,
    pub order: i64,
    /// `standard` for the standard class, as the taxes endpoint prints it.
    pub class: String,
}

#[derive(Debug, Clone)]
pub(crate) struct ShippingMethod {
    pub instance_id: i64,
    pub method_id: String,
    pub title: String,
    pub order: i64,
    pub enabled: bool,
    /// Setting id → value, applied over the method's settings template.
    pub settings: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub(crate) struct ShippingZone {
    pub id: i64,
    pub name: String,
    pub order: i64,
    /// `(code, type)`: `("GB", "country")`, `("US:CA", "state")`.
    pub locations: Vec<(String, String)>,
    pub methods: Vec<ShippingMethod>,
}

/// Store options the endpoints and totals depend on.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub currency: String,
    pub currency_symbol_html: String,
    pub currency_symbol: String,
    pub price_decimals: u32,
    pub prices_include_tax: bool,
    pub calc_taxes: bool,
    pub manage_stock: bool,
    pub default_country: String,
    pub store_address: String,
    pub store_city: String,
    pub store_postcode: String,
}

/// Everything static the config endpoints print, loaded from `assets/`
/// with the home URL filled in.
#[derive(Debug, Clone)]
pub(crate) struct StaticConfig {
    pub settings: Value,
    pub gateways: Value,
    pub shipping_methods: Value,
    pub countries: Value,
    pub system_status: Value,
}

/// The whole store.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    pub ids: Ids,
    pub settings: Settings,
    pub config: StaticConfig,
    pub enabled_gateways: Vec<String>,
    pub tax_classes: Vec<TaxClass>,
    pub tax_rates: Vec<TaxRate>,
    pub zones: Vec<ShippingZone>,
    pub categories: BTreeMap<i64, Term>,
    pub tags: BTreeMap<i64, Term>,
    pub attributes: Vec<Attribute>,
    pub attribute_terms: BTreeMap<i64, AttributeTerm>,
    pub products: BTreeMap<i64, Product>,
    pub variations: BTreeMap<i64, Variation>,
    pub customers: BTreeMap<i64, Customer>,
    pub orders: BTreeMap<i64, Order>,
    pub refunds: BTreeMap<i64, Refund>,
    /// SKU → product or variation id (non-empty SKUs are unique).
    pub skus: HashMap<String, i64>,
    /// Webhook subscriptions (`wc_webhooks`), created over REST.
    pub webhooks: BTreeMap<i64, Webhook>,
}

/// A webhook's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WebhookStatus {
    /// Delivers.
    Active,
    /// Set by an administrator: nothing is delivered.
    Paused,
    /// Set by WooCommerce after repeated failed deliveries (or by hand).
    Disabled,
}

impl WebhookStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            WebhookStatus::Active => "active",
            WebhookStatus::Paused => "paused",
            WebhookStatus::Disabled => "disabled",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(WebhookStatus::Active),
            "paused" => Some(WebhookStatus::Paused),
            "disabled" => Some(WebhookStatus::Disabled),
            _ => None,
        }
    }
}

/// A webhook subscription as `wc_webhooks` keeps it.
#[derive(Debug, Clone)]
pub(crate) struct Webhook {
    pub id: i64,
    pub name: String,
    pub status: WebhookStatus,
    /// `product.updated`, `order.created`, ...
    pub topic: String,
    pub delivery_url: String,
    pub secret: String,
    pub created: Ts,
    /// `None` until the first change after creation (the captured create
    /// response prints `null`).
    pub modified: Option<Ts>,
    /// Consecutive failed deliveries; any success resets it.
    pub failure_count: u32,
}

impl Store {
    /// The base (shop) tax rate of a class, in percent: what a tax-inclusive
    /// price contains.
    pub(crate) fn base_rate(&self, tax_class: &str) -> Decimal {
        let class = if tax_class.is_empty() {
            "standard"
        } else {
            tax_class
        };
        let base_country = self
            .settings
            .default_country
            .split(':')
            .next()
            .unwrap_or("");
        self.tax_rates
            .iter()
            .filter(|r| r.class == class && r.country == base_country && r.state.is_empty())
            .filter(|r| r.postcodes.is_empty() && r.cities.is_empty() && !r.compound)
            .map(|r| r.rate)
            .next()
            .unwrap_or(Decimal::ZERO)
    }
}
