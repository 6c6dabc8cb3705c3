//! What lookups answer: products with their price and stock now, customers
//! with their addresses, orders with what can still be refunded. These are
//! the local API's own shapes (serialized as they are), not upstream's.

use std::collections::BTreeMap;

use serde::Serialize;
use uuid::Uuid;

use super::pricing::PriceView;
use super::stock::StockView;
use crate::domain::catalog::{Image, ProductAttribute};
use crate::domain::customers::Address;
use crate::domain::orders::RiskRecommendation;
use crate::domain::outbox::EntryState;
use crate::domain::{Amount, GmtTime, UpstreamId};

/// One page of a listing, with the total number of matches.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
}

/// A category a product is in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryRef {
    pub id: UpstreamId,
    pub name: String,
    pub slug: String,
}

/// A product or a variation as the till shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ProductView {
    pub id: UpstreamId,
    /// The variable product of a variation; 0 for a product.
    pub parent_id: UpstreamId,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub name: String,
    pub sku: Option<String>,
    pub global_unique_id: Option<String>,
    /// Every code this product answers to at the scanner (normalised).
    pub barcodes: Vec<String>,
    #[serde(flatten)]
    pub price: PriceView,
    pub tax_status: String,
    pub tax_class: String,
    pub stock: StockView,
    pub attributes: Vec<ProductAttribute>,
    pub images: Vec<Image>,
    /// Product categories (products only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<CategoryRef>>,
    /// Number of variations (variable products only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variation_count: Option<i64>,
    /// Lowest and highest price now across the variations (variable
    /// products, in a product's own view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_range: Option<PriceRange>,
    /// The fields the manager mapped from the product's meta data (brand,
    /// bin location, labels); absent when none is mapped or set.
    #[serde(flatten)]
    pub mapped: MappedFields,
    /// The variations whose own SKU or barcode matched the lookup.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matched_variations: Vec<ProductView>,
}

/// A product's values of the meta keys mapped on the back-office page's
/// meta-mapping tab (barcodes are in `barcodes`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MappedFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bin_location: Option<String>,
    /// Label name → value, by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// Lowest and highest price.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceRange {
    pub min: Amount,
    pub max: Amount,
}

/// A customer in a result list.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerSummary {
    pub id: UpstreamId,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub company: String,
    pub city: String,
    pub postcode: String,
}

/// A customer with addresses and recent orders.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerDetail {
    #[serde(flatten)]
    pub summary: CustomerSummary,
    pub username: String,
    pub is_paying_customer: bool,
    pub date_created_gmt: Option<GmtTime>,
    pub billing: Address,
    pub shipping: Address,
    /// How many mirrored orders the customer has.
    pub order_count: i64,
    /// The newest of them.
    pub recent_orders: Vec<OrderSummary>,
}

/// Where an order's details come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderSource {
    /// The shop's order, mirrored in the replica (it may have been sold at
    /// this till: then `local_id` and `local_number` say so).
    Upstream,
    /// A sale as this till recorded it: the shop has not confirmed it yet,
    /// its order is outside the mirrored window, or the till asked for it by
    /// its local id or receipt number.
    Local,
}

/// An order in a result list.
#[derive(Debug, Clone, Serialize)]
pub struct OrderSummary {
    pub source: OrderSource,
    /// The shop's order id; `None` for a sale the shop has not confirmed.
    pub id: Option<UpstreamId>,
    /// The shop's order number; for a sale the shop has not confirmed, its
    /// receipt number.
    pub number: String,
    pub status: String,
    pub currency: String,
    pub total: Amount,
    pub customer_id: UpstreamId,
    pub billing_name: String,
    pub email: Option<String>,
    pub phone: String,
    pub date_created_gmt: Option<GmtTime>,
    /// Units over all product lines.
    pub item_count: i64,
    /// Shipping methods of the order (`local_pickup`, ...).
    pub shipping_methods: Vec<String>,
    /// The sale's id at this till, when it was sold here.
    pub local_id: Option<Uuid>,
    /// The sale's receipt number at this till (`POS1-000123`), when it was
    /// sold here.
    pub local_number: Option<String>,
    /// Where a sale made here is on its way to the shop (`queued`,
    /// `sending`, `unknown`, `confirmed`, `rejected`); `None` for an order
    /// not sold here.
    pub sync_state: Option<EntryState>,
    /// The shop's fraud-risk recommendation for the order, when it gives
    /// one (Shopify does, WooCommerce does not); for a sale made here, once
    /// the shop's order is mirrored.
    pub risk: Option<RiskView>,
}

/// An order's fraud risk as a till shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RiskView {
    /// `cancel`, `investigate`, `accept` or `none` (nothing recommended).
    pub recommendation: RiskRecommendation,
    /// The till is to warn before going on: the shop recommends cancelling
    /// the order or investigating it.
    pub flagged: bool,
    /// Handing the order over is refused unless the request carries a
    /// `risk_override` (who decides and why): the shop recommends
    /// cancelling it.
    pub handover_needs_override: bool,
}

impl RiskView {
    pub fn of(recommendation: RiskRecommendation) -> RiskView {
        RiskView {
            recommendation,
            flagged: recommendation.is_flagged(),
            handover_needs_override: recommendation.needs_override(),
        }
    }
}

/// A product line with what is left to refund.
#[derive(Debug, Clone, Serialize)]
pub struct OrderLineView {
    /// The shop's line item id; in a sale's local view, its line number
    /// (what a return posted to the same path names).
    pub id: UpstreamId,
    pub name: String,
    pub product_id: UpstreamId,
    pub variation_id: UpstreamId,
    pub sku: Option<String>,
    pub quantity: i64,
    pub price: Option<Amount>,
    pub subtotal: Amount,
    pub total: Amount,
    pub total_tax: Amount,
    pub tax_class: String,
    /// Units given back: the refunds the replica mirrors, plus this till's
    /// returns it does not mirror yet (each return counted once).
    pub refunded_quantity: i64,
    /// Of `refunded_quantity`, the units of this till's returns that the
    /// replica does not show as refunds yet.
    pub pending_refund_quantity: i64,
    /// Units that can still be returned.
    pub refundable_quantity: i64,
}

/// A shipping line.
#[derive(Debug, Clone, Serialize)]
pub struct ShippingLineView {
    pub id: UpstreamId,
    pub method_id: String,
    pub method_title: String,
    pub total: Amount,
    pub total_tax: Amount,
}

/// A fee line.
#[derive(Debug, Clone, Serialize)]
pub struct FeeLineView {
    pub id: UpstreamId,
    pub name: String,
    pub total: Amount,
    pub total_tax: Amount,
}

/// A refund line: units of an order line given back.
#[derive(Debug, Clone, Serialize)]
pub struct RefundLineView {
    pub refunded_item_id: Option<UpstreamId>,
    pub product_id: UpstreamId,
    pub variation_id: UpstreamId,
    /// Positive: units returned.
    pub quantity: i64,
    pub total: Amount,
}

/// A refund of an order.
#[derive(Debug, Clone, Serialize)]
pub struct RefundView {
    pub id: UpstreamId,
    pub amount: Amount,
    pub reason: String,
    pub date_created_gmt: Option<GmtTime>,
    pub lines: Vec<RefundLineView>,
}

/// A line of a return made at this till.
#[derive(Debug, Clone, Serialize)]
pub struct LocalRefundLineView {
    /// The returned line: its `id` among the order's `line_items`.
    pub line_id: Option<UpstreamId>,
    pub product_id: UpstreamId,
    pub variation_id: UpstreamId,
    pub quantity: i64,
    pub amount: Amount,
}

/// A return made at this till that the replica does not show among the
/// order's refunds yet.
#[derive(Debug, Clone, Serialize)]
pub struct LocalRefundView {
    pub id: Uuid,
    /// The shop's refund id, once it confirmed the return.
    pub upstream_id: Option<UpstreamId>,
    pub amount: Amount,
    pub reason: String,
    pub restock: bool,
    pub date_created_gmt: Option<GmtTime>,
    /// Where the return is on its way to the shop; a `rejected` one is
    /// listed but not counted in the lines' refunded quantities.
    pub sync_state: EntryState,
    pub lines: Vec<LocalRefundLineView>,
}

/// An order with its lines and refunds.
#[derive(Debug, Clone, Serialize)]
pub struct OrderDetail {
    #[serde(flatten)]
    pub summary: OrderSummary,
    pub payment_method_title: String,
    pub customer_note: String,
    pub discount_total: Amount,
    pub shipping_total: Amount,
    pub total_tax: Amount,
    pub prices_include_tax: bool,
    pub date_paid_gmt: Option<GmtTime>,
    pub date_completed_gmt: Option<GmtTime>,
    pub billing: Address,
    pub shipping: Address,
    pub line_items: Vec<OrderLineView>,
    pub shipping_lines: Vec<ShippingLineView>,
    pub fee_lines: Vec<FeeLineView>,
    pub coupon_codes: Vec<String>,
    /// The refunds the replica mirrors from the shop.
    pub refunds: Vec<RefundView>,
    /// This till's returns of the order not among `refunds` yet.
    pub local_refunds: Vec<LocalRefundView>,
}
