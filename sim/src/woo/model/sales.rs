//! Sales state: orders with their line, tax, shipping, fee and coupon items,
//! and refunds.

use rust_decimal::Decimal;

use super::{Address, Meta};
use crate::woo::clock::Ts;

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
    /// The order-level "stock reduced" flag (`_order_stock_reduced`): set
    /// when the order took its stock, cleared when it gave it back.
    pub stock_reduced: bool,
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
