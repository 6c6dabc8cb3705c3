//! What the till asks for (a sale, a return, a customer, a stock change)
//! before it is checked against the replica, and the settings that shape it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::customers::Address;
use super::outbox::{CustomerFields, CustomerRef};
use super::{Amount, UpstreamId};

/// What happens when a sale takes more than the till believes is in stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OversellPolicy {
    /// Accept silently.
    Allow,
    /// Accept, and say so in the answer and the event log.
    #[default]
    Warn,
    /// Refuse the sale (409 `insufficient_stock`).
    Block,
}

impl OversellPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Warn => "warn",
            Self::Block => "block",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "allow" => Some(Self::Allow),
            "warn" => Some(Self::Warn),
            "block" => Some(Self::Block),
            _ => None,
        }
    }
}

/// A payment method the till names, as the shop knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentMapping {
    /// The shop's payment gateway id (`cod`, `bacs`, …).
    pub gateway: String,
    /// The title shown on the order; empty = the gateway's own title.
    pub title: String,
}

/// How this till books its changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TillSettings {
    /// Written into every order's meta, so the shop can tell tills apart.
    pub till_id: String,
    /// Local order numbers are this prefix and six digits: `POS1-000123`.
    pub order_prefix: String,
    /// The status sales are created with upstream (`processing` or
    /// `completed`: both make WooCommerce reduce stock at once).
    pub order_status: String,
    pub oversell: OversellPolicy,
    /// Till payment method name → shop gateway; unmapped names pass as given.
    pub payment_methods: BTreeMap<String, PaymentMapping>,
}

impl Default for TillSettings {
    fn default() -> Self {
        TillSettings {
            till_id: "till-1".to_owned(),
            order_prefix: "POS1-".to_owned(),
            order_status: "completed".to_owned(),
            oversell: OversellPolicy::Warn,
            payment_methods: BTreeMap::new(),
        }
    }
}

/// A product as the till names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductSel {
    /// A product or variation id; with a variation id, the product is its parent.
    Id {
        product_id: UpstreamId,
        variation_id: Option<UpstreamId>,
    },
    /// A product's or variation's SKU.
    Sku(String),
}

/// One line of a sale as asked.
#[derive(Debug, Clone, PartialEq)]
pub struct SaleLineRequest {
    pub product: ProductSel,
    pub quantity: i64,
    /// Replaces the catalog price for one unit.
    pub unit_price: Option<Amount>,
    /// Taken off the whole line.
    pub discount: Option<Amount>,
}

/// A sale as asked.
#[derive(Debug, Clone, PartialEq)]
pub struct SaleRequest {
    pub lines: Vec<SaleLineRequest>,
    /// `None` for a guest.
    pub customer: Option<CustomerRef>,
    pub billing: Option<Address>,
    pub payment_method: String,
    pub payment_method_title: Option<String>,
    pub paid: bool,
    pub note: String,
}

/// Which line of an order a return line is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineSel {
    /// The local line number of a till sale, or an upstream line item id.
    Line(UpstreamId),
    Product(ProductSel),
}

/// One line of a return as asked.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnLineRequest {
    pub line: LineSel,
    pub quantity: i64,
}

/// A return as asked: lines, an amount, or both.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnRequest {
    pub lines: Vec<ReturnLineRequest>,
    pub amount: Option<Amount>,
    pub reason: String,
    pub restock: bool,
}

/// A pickup hand-over as asked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CompletionRequest {
    /// Someone at the till hands the order over although the shop
    /// recommends cancelling it.
    pub risk_override: Option<RiskOverride>,
    /// The till front-end asking (its token's name), for the event log.
    pub till: String,
}

/// Who decided to go against the shop's risk recommendation, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskOverride {
    pub by: String,
    pub reason: String,
}

/// A stock change as asked.
#[derive(Debug, Clone, PartialEq)]
pub struct AdjustmentRequest {
    pub product: ProductSel,
    pub delta: i64,
    pub reason: String,
}

/// A new customer as asked (the email is required).
pub type CustomerRequest = CustomerFields;
