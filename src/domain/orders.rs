//! Orders, their lines and refunds, as mirrored from upstream.

use serde::{Deserialize, Serialize};

use super::customers::Address;
use super::{Amount, GmtTime, Meta, RawJson, UpstreamId};

/// A product line of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineItem {
    pub id: UpstreamId,
    pub name: String,
    pub product_id: UpstreamId,
    pub variation_id: UpstreamId,
    pub quantity: i64,
    pub sku: Option<String>,
    pub global_unique_id: Option<String>,
    pub tax_class: String,
    /// Unit price the shop computed (excluding tax).
    pub price: Option<Amount>,
    pub subtotal: Amount,
    pub subtotal_tax: Amount,
    pub total: Amount,
    pub total_tax: Amount,
    pub meta: Vec<Meta>,
}

/// A shipping line (flat rate, local pickup, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShippingLine {
    pub id: UpstreamId,
    pub method_id: String,
    pub method_title: String,
    pub instance_id: String,
    pub total: Amount,
    pub total_tax: Amount,
    pub meta: Vec<Meta>,
}

/// A fee line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeeLine {
    pub id: UpstreamId,
    pub name: String,
    pub tax_class: String,
    pub tax_status: String,
    pub total: Amount,
    pub total_tax: Amount,
    pub meta: Vec<Meta>,
}

/// A coupon applied to an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CouponLine {
    pub id: UpstreamId,
    pub code: String,
    pub discount: Amount,
    pub discount_tax: Amount,
}

/// A tax total of an order, per rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxLine {
    pub id: UpstreamId,
    pub rate_code: String,
    pub rate_id: UpstreamId,
    pub label: String,
    pub compound: bool,
    pub tax_total: Amount,
    pub shipping_tax_total: Amount,
}

/// A refund as listed on its order (the full refund is a separate object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundSummary {
    pub id: UpstreamId,
    pub reason: String,
    /// Negative, as the order lists it.
    pub total: Amount,
}

/// What the shop recommends doing with an order, given its fraud risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskRecommendation {
    /// Cancel the order: the shop judges it likely fraudulent.
    Cancel,
    /// Check with the buyer before fulfilling it.
    Investigate,
    /// Fulfil it.
    Accept,
    /// The shop recommends nothing either way.
    None,
}

impl RiskRecommendation {
    pub const ALL: [RiskRecommendation; 4] = [
        RiskRecommendation::Cancel,
        RiskRecommendation::Investigate,
        RiskRecommendation::Accept,
        RiskRecommendation::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RiskRecommendation::Cancel => "cancel",
            RiskRecommendation::Investigate => "investigate",
            RiskRecommendation::Accept => "accept",
            RiskRecommendation::None => "none",
        }
    }

    /// Our own word back into the recommendation (`None` for any other).
    pub fn parse(s: &str) -> Option<RiskRecommendation> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether a till is to warn about the order (cancel or investigate).
    pub fn is_flagged(self) -> bool {
        matches!(
            self,
            RiskRecommendation::Cancel | RiskRecommendation::Investigate
        )
    }

    /// Whether handing the order over needs someone at the till to
    /// override the recommendation, with a reason.
    pub fn needs_override(self) -> bool {
        self == RiskRecommendation::Cancel
    }
}

/// An order mirrored from upstream.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: UpstreamId,
    pub parent_id: UpstreamId,
    /// The order number shown to customers (may differ from the id).
    pub number: String,
    pub order_key: String,
    pub status: String,
    pub currency: String,
    pub prices_include_tax: bool,
    /// 0 for a guest order.
    pub customer_id: UpstreamId,
    pub billing: Address,
    pub shipping: Address,
    pub payment_method: String,
    pub payment_method_title: String,
    pub transaction_id: String,
    pub created_via: String,
    pub customer_note: String,
    pub discount_total: Amount,
    pub discount_tax: Amount,
    pub shipping_total: Amount,
    pub shipping_tax: Amount,
    pub cart_tax: Amount,
    pub total: Amount,
    pub total_tax: Amount,
    pub date_created: Option<GmtTime>,
    pub date_modified: GmtTime,
    pub date_paid: Option<GmtTime>,
    pub date_completed: Option<GmtTime>,
    /// The shop's fraud-risk recommendation; `None` when the shop gives
    /// none (WooCommerce has no such notion).
    pub risk: Option<RiskRecommendation>,
    pub meta: Vec<Meta>,
    pub line_items: Vec<LineItem>,
    pub shipping_lines: Vec<ShippingLine>,
    pub fee_lines: Vec<FeeLine>,
    pub coupon_lines: Vec<CouponLine>,
    pub tax_lines: Vec<TaxLine>,
    pub refunds: Vec<RefundSummary>,
    pub raw: RawJson,
}

/// One line of a refund: how many of an order line went back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundLine {
    pub id: UpstreamId,
    /// The order line this refund line refers to.
    pub refunded_item_id: Option<UpstreamId>,
    pub product_id: UpstreamId,
    pub variation_id: UpstreamId,
    /// Negative upstream; kept as given.
    pub quantity: i64,
    pub subtotal: Amount,
    pub total: Amount,
    pub total_tax: Amount,
}

/// A refund of an order.
#[derive(Debug, Clone, PartialEq)]
pub struct Refund {
    pub id: UpstreamId,
    pub order_id: UpstreamId,
    /// Positive amount refunded.
    pub amount: Amount,
    pub reason: String,
    /// Whether money was moved through the payment gateway.
    pub refunded_payment: bool,
    pub date_created: Option<GmtTime>,
    pub meta: Vec<Meta>,
    pub line_items: Vec<RefundLine>,
    pub raw: RawJson,
}
