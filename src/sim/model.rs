//! The simulated store's state, as typed Rust data: what WordPress keeps in
//! its tables, not what the REST API prints.
//!
//! Rendering to WooCommerce JSON lives in `render/`; generation in `data/`;
//! changes in `mutate.rs`. Ids come from counters shared the way WordPress
//! shares them: one post-id sequence for products, variations, orders and
//! refunds, one user-id sequence, one term-id sequence.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde_json::Value;

use super::clock::Ts;

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

/// `post_status` of a product or variation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum PostStatus {
    Publish,
    Future,
    Draft,
    Pending,
    Private,
    Trash,
}

impl PostStatus {
    pub(crate) const ALL: [PostStatus; 6] = [
        PostStatus::Publish,
        PostStatus::Future,
        PostStatus::Draft,
        PostStatus::Pending,
        PostStatus::Private,
        PostStatus::Trash,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PostStatus::Publish => "publish",
            PostStatus::Future => "future",
            PostStatus::Draft => "draft",
            PostStatus::Pending => "pending",
            PostStatus::Private => "private",
            PostStatus::Trash => "trash",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProductType {
    Simple,
    Variable,
    Grouped,
    External,
}

impl ProductType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ProductType::Simple => "simple",
            ProductType::Variable => "variable",
            ProductType::Grouped => "grouped",
            ProductType::External => "external",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backorders {
    No,
    Notify,
    Yes,
}

impl Backorders {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Backorders::No => "no",
            Backorders::Notify => "notify",
            Backorders::Yes => "yes",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StockStatus {
    InStock,
    OutOfStock,
    OnBackorder,
}

impl StockStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            StockStatus::InStock => "instock",
            StockStatus::OutOfStock => "outofstock",
            StockStatus::OnBackorder => "onbackorder",
        }
    }
}

/// The stock fields products and variations share.
#[derive(Debug, Clone)]
pub(crate) struct Stock {
    pub manage: bool,
    pub quantity: Option<i64>,
    pub backorders: Backorders,
    pub low_stock_amount: Option<i64>,
    /// Stored, like `_stock_status`; kept in step with the quantity by
    /// [`Stock::refresh_status`] when stock is managed.
    pub status: StockStatus,
}

impl Stock {
    /// WooCommerce's rule (`validate_props`), with the default "out of stock
    /// threshold" of 0.
    pub(crate) fn refresh_status(&mut self) {
        if !self.manage {
            return;
        }
        let qty = self.quantity.unwrap_or(0);
        self.status = if qty > 0 {
            StockStatus::InStock
        } else if self.backorders != Backorders::No {
            StockStatus::OnBackorder
        } else {
            StockStatus::OutOfStock
        };
    }

    pub(crate) fn backorders_allowed(&self) -> bool {
        self.backorders != Backorders::No
    }

    pub(crate) fn backordered(&self) -> bool {
        self.manage && self.backorders_allowed() && self.quantity.unwrap_or(0) < 0
    }
}

/// Regular and sale price with the sale's schedule.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pricing {
    pub regular: Option<Decimal>,
    pub sale: Option<Decimal>,
    pub sale_from: Option<Ts>,
    pub sale_to: Option<Ts>,
}

impl Pricing {
    /// `is_on_sale()`: a sale price below the regular price, inside its
    /// schedule (WooCommerce compares the whole instant, inclusive).
    pub(crate) fn on_sale(&self, now: Ts) -> bool {
        let (Some(sale), Some(regular)) = (self.sale, self.regular) else {
            return false;
        };
        if sale >= regular {
            return false;
        }
        if self.sale_from.is_some_and(|from| from > now) {
            return false;
        }
        self.sale_to.is_none_or(|to| to >= now)
    }

    /// The active price (`_price`).
    pub(crate) fn active(&self, now: Ts) -> Option<Decimal> {
        if self.on_sale(now) {
            self.sale
        } else {
            self.regular
        }
    }
}

/// One `meta_data` entry of a product, order, refund or customer.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    pub id: i64,
    pub key: String,
    pub value: Value,
}

/// A product attribute on a product: global (`pa_*`) with term ids.
#[derive(Debug, Clone)]
pub(crate) struct ProductAttribute {
    pub attribute_id: i64,
    pub term_ids: Vec<i64>,
    pub position: i64,
    pub visible: bool,
    pub variation: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub id: i64,
    pub kind: ProductType,
    pub name: String,
    pub slug: String,
    pub status: PostStatus,
    pub featured: bool,
    pub description: String,
    pub short_description: String,
    pub sku: String,
    pub global_unique_id: String,
    pub pricing: Pricing,
    pub created: Ts,
    pub modified: Ts,
    pub total_sales: i64,
    pub is_virtual: bool,
    pub downloadable: bool,
    pub external_url: String,
    pub button_text: String,
    pub tax_status: &'static str,
    /// `""` is the standard class.
    pub tax_class: String,
    pub stock: Stock,
    pub sold_individually: bool,
    pub weight: String,
    pub dimensions: [String; 3],
    pub reviews_allowed: bool,
    pub purchase_note: String,
    pub upsell_ids: Vec<i64>,
    pub cross_sell_ids: Vec<i64>,
    pub category_ids: Vec<i64>,
    pub tag_ids: Vec<i64>,
    pub attributes: Vec<ProductAttribute>,
    /// `(attribute id, term id)`.
    pub default_attributes: Vec<(i64, i64)>,
    /// Children of a variable product, in menu order.
    pub variation_ids: Vec<i64>,
    pub grouped_ids: Vec<i64>,
    pub menu_order: i64,
    /// WooCommerce picks related products at random and caches them; the
    /// sim picks them once, at generation.
    pub related_ids: Vec<i64>,
    pub meta: Vec<Meta>,
}

#[derive(Debug, Clone)]
pub(crate) struct Variation {
    pub id: i64,
    pub parent_id: i64,
    /// `publish` (enabled), `private` (disabled) or `trash`.
    pub status: PostStatus,
    pub sku: String,
    pub global_unique_id: String,
    pub pricing: Pricing,
    pub created: Ts,
    pub modified: Ts,
    pub description: String,
    pub is_virtual: bool,
    pub downloadable: bool,
    pub tax_status: &'static str,
    pub tax_class: String,
    pub stock: Stock,
    pub weight: String,
    pub dimensions: [String; 3],
    /// `(attribute id, term id)`, in the parent's attribute order.
    pub attributes: Vec<(i64, i64)>,
    pub menu_order: i64,
    pub total_sales: i64,
    pub meta: Vec<Meta>,
}

/// A product category or tag.
#[derive(Debug, Clone)]
pub(crate) struct Term {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub parent: i64,
    pub description: String,
    pub display: &'static str,
    pub menu_order: i64,
}

/// A global attribute (`pa_size`).
#[derive(Debug, Clone)]
pub(crate) struct Attribute {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub order_by: &'static str,
}

/// A term of a global attribute.
#[derive(Debug, Clone)]
pub(crate) struct AttributeTerm {
    pub id: i64,
    pub attribute_id: i64,
    pub name: String,
    pub slug: String,
    pub menu_order: i64,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum OrderStatus {
    Pending,
    Processing,
    OnHold,
    Completed,
    Cancelled,
    Refunded,
    Failed,
    CheckoutDraft,
    Trash,
}

impl OrderStatus {
    pub(crate) const ALL: [OrderStatus; 9] = [
        OrderStatus::Pending,
        OrderStatus::Processing,
        OrderStatus::OnHold,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
        OrderStatus::Refunded,
        OrderStatus::Failed,
        OrderStatus::CheckoutDraft,
        OrderStatus::Trash,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Processing => "processing",
            OrderStatus::OnHold => "on-hold",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Refunded => "refunded",
            OrderStatus::Failed => "failed",
            OrderStatus::CheckoutDraft => "checkout-draft",
            OrderStatus::Trash => "trash",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// `is_editable()`.
    pub(crate) fn is_editable(self) -> bool {
        matches!(
            self,
            OrderStatus::Pending
                | OrderStatus::OnHold
                | OrderStatus::Failed
                | OrderStatus::CheckoutDraft
        )
    }
}

/// A tax amount of one line for one rate.
#[derive(Debug, Clone)]
pub(crate) struct ItemTax {
    pub rate_id: i64,
    pub total: Decimal,
    /// `None` for shipping lines, which print `""`.
    pub subtotal: Option<Decimal>,
}

/// Order item meta, with the display form WooCommerce adds.
#[derive(Debug, Clone)]
pub(crate) struct ItemMeta {
    pub id: i64,
    pub key: String,
    pub value: String,
    pub display_key: String,
    pub display_value: String,
}

/// A product line of an order or refund. Amounts are net of tax, kept at
/// WooCommerce's internal precision (6 decimals) and printed at 2.
#[derive(Debug, Clone)]
pub(crate) struct LineItem {
    pub id: i64,
    pub name: String,
    pub product_id: i64,
    pub variation_id: i64,
    pub quantity: i64,
    pub tax_class: String,
    pub subtotal: Decimal,
    pub subtotal_tax: Decimal,
    pub total: Decimal,
    pub total_tax: Decimal,
    pub taxes: Vec<ItemTax>,
    pub meta: Vec<ItemMeta>,
}

#[derive(Debug, Clone)]
pub(crate) struct TaxLine {
    pub id: i64,
    pub rate_id: i64,
    pub rate_code: String,
    pub label: String,
    pub compound: bool,
    pub tax_total: Decimal,
    pub shipping_tax_total: Decimal,
    pub rate_percent: Decimal,
}

#[derive(Debug, Clone)]
pub(crate) struct ShippingLine {
    pub id: i64,
    pub method_title: String,
    pub method_id: String,
    pub instance_id: String,
    pub total: Decimal,
    pub total_tax: Decimal,
    pub taxes: Vec<ItemTax>,
}

#[derive(Debug, Clone)]
pub(crate) struct FeeLine {
    pub id: i64,
    pub name: String,
    pub total: Decimal,
}

#[derive(Debug, Clone)]
pub(crate) struct CouponLine {
    pub id: i64,
    pub code: String,
    pub discount: Decimal,
    pub discount_tax: Decimal,
    pub meta: Vec<ItemMeta>,
    pub discount_type: &'static str,
    pub nominal_amount: Decimal,
}

#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub id: i64,
    pub parent_id: i64,
    pub status: OrderStatus,
    pub currency: String,
    pub created: Ts,
    pub modified: Ts,
    pub paid: Option<Ts>,
    pub completed: Option<Ts>,
    pub discount_total: Decimal,
    pub discount_tax: Decimal,
    pub shipping_total: Decimal,
    pub shipping_tax: Decimal,
    pub cart_tax: Decimal,
    pub total: Decimal,
    pub total_tax: Decimal,
    pub customer_id: i64,
    pub order_key: String,
    pub billing: Address,
    pub shipping: Address,
    pub payment_method: String,
    pub payment_method_title: String,
    pub transaction_id: String,
    pub customer_ip_address: String,
    pub customer_user_agent: String,
    pub created_via: String,
    pub customer_note: String,
    pub cart_hash: String,
    pub meta: Vec<Meta>,
    pub line_items: Vec<LineItem>,
    pub tax_lines: Vec<TaxLine>,
    pub shipping_lines: Vec<ShippingLine>,
    pub fee_lines: Vec<FeeLine>,
    pub coupon_lines: Vec<CouponLine>,
    /// Refund ids, newest first (as `get_refunds()` returns them).
    pub refund_ids: Vec<i64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Refund {
    pub id: i64,
    pub parent_id: i64,
    pub created: Ts,
    /// Positive, as the refund resource prints it.
    pub amount: Decimal,
    /// Negative or zero, as WooCommerce stores refund taxes.
    pub total_tax: Decimal,
    pub reason: String,
    pub refunded_by: i64,
    pub refunded_payment: bool,
    pub meta: Vec<Meta>,
    pub line_items: Vec<LineItem>,
    pub tax_lines: Vec<TaxLine>,
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
