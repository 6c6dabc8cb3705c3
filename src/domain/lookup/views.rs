//! What lookups answer: products with their price and stock now, customers
//! with their addresses, orders with what can still be refunded. These are
//! the local API's own shapes (serialized as they are), not upstream's.

use serde::Serialize;

use super::pricing::PriceView;
use super::stock::StockView;
use crate::domain::catalog::{Image, ProductAttribute};
use crate::domain::customers::Address;
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
    /// The variations whose own SKU or barcode matched the lookup.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matched_variations: Vec<ProductView>,
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

/// An order in a result list.
#[derive(Debug, Clone, Serialize)]
pub struct OrderSummary {
    pub id: UpstreamId,
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
}

/// A product line with what is left to refund.
#[derive(Debug, Clone, Serialize)]
pub struct OrderLineView {
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
    /// Units already refunded upstream.
    pub refunded_quantity: i64,
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
    pub refunds: Vec<RefundView>,
}
