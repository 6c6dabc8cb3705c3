//! Changes made at the till that upstream does not know yet, and the outbox
//! entries that carry them there.
//!
//! An entry's id is a UUID that doubles as its idempotency key: it is written
//! into the upstream object, so an attempt whose outcome is unknown can be
//! looked up before anything is sent again.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::customers::Address;
use super::{Amount, UpstreamId};

/// What an outbox entry sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A sale, created upstream as an order.
    Sale,
    /// A return, created upstream as a refund of its order.
    Refund,
    /// A pickup handed over: the order's status set to completed.
    Complete,
    /// A customer registered at the till.
    CustomerCreate,
    /// A change to a customer's details.
    CustomerUpdate,
    /// A manual stock change (counted, damaged, received).
    StockAdjust,
}

impl EntryKind {
    pub const ALL: [EntryKind; 6] = [
        EntryKind::Sale,
        EntryKind::Refund,
        EntryKind::Complete,
        EntryKind::CustomerCreate,
        EntryKind::CustomerUpdate,
        EntryKind::StockAdjust,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Sale => "sale",
            EntryKind::Refund => "refund",
            EntryKind::Complete => "complete",
            EntryKind::CustomerCreate => "customer_create",
            EntryKind::CustomerUpdate => "customer_update",
            EntryKind::StockAdjust => "stock_adjust",
        }
    }
}

impl FromStr for EntryKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EntryKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown outbox entry kind {s:?}"))
    }
}

/// Where an entry is on its way upstream:
/// `queued → sending → unknown → confirmed | rejected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// Waiting to be sent (first time, or after a failure known not to have
    /// reached the shop), at `next_attempt_at` at the earliest.
    Queued,
    /// A request is in flight. Found at start-up, it means the agent stopped
    /// mid-send: it becomes `Unknown`.
    Sending,
    /// A send may or may not have reached the shop (timeout, reset, crash).
    /// It is looked up by its key before anything is sent again.
    Unknown,
    /// The shop has it; `upstream_id` says where.
    Confirmed,
    /// The shop refused it for a reason retrying will not fix; parked for the
    /// manager with the shop's code and message.
    Rejected,
    /// The manager dropped it; its local effect is reversed.
    Discarded,
}

impl EntryState {
    pub const ALL: [EntryState; 6] = [
        EntryState::Queued,
        EntryState::Sending,
        EntryState::Unknown,
        EntryState::Confirmed,
        EntryState::Rejected,
        EntryState::Discarded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryState::Queued => "queued",
            EntryState::Sending => "sending",
            EntryState::Unknown => "unknown",
            EntryState::Confirmed => "confirmed",
            EntryState::Rejected => "rejected",
            EntryState::Discarded => "discarded",
        }
    }

    /// Whether the entry still has to reach the shop.
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            EntryState::Queued | EntryState::Sending | EntryState::Unknown
        )
    }
}

impl fmt::Display for EntryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntryState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EntryState::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown state {s:?}: one of {}",
                    EntryState::ALL.map(EntryState::as_str).join(", ")
                )
            })
    }
}

/// An order as the till names it: one it sold (local UUID) or one upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderRef {
    Local(Uuid),
    Upstream(UpstreamId),
}

/// A customer as the till names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerRef {
    Local(Uuid),
    Upstream(UpstreamId),
}

/// One line of a sale, resolved against the replica.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaleLine {
    pub line_no: u32,
    pub product_id: UpstreamId,
    pub variation_id: UpstreamId,
    pub sku: Option<String>,
    pub name: String,
    pub quantity: i64,
    /// Unit price charged (the catalog price unless overridden).
    pub unit_price: Amount,
    /// Discount on the whole line.
    pub discount: Amount,
    /// `unit_price × quantity − discount`, what the line cost the customer.
    pub total: Amount,
    /// Whether the till changed the catalog price (override or discount):
    /// the line's totals are then sent, else the shop prices it itself.
    pub priced_by_till: bool,
    /// What `unit_price × quantity` and `total` are divided by to give the
    /// net amounts the shop takes (`1 + tax rate` when its prices include
    /// tax, else 1).
    pub net_divisor: Amount,
}

/// A sale to create upstream as an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sale {
    pub local_id: Uuid,
    /// The till's order number, e.g. `POS1-000123`.
    pub number: String,
    pub till_id: String,
    /// When the sale was rung up (unix ms).
    pub sold_at: i64,
    /// The upstream status to create the order in.
    pub status: String,
    pub paid: bool,
    pub customer: Option<CustomerRef>,
    pub billing: Option<Address>,
    /// The shop's payment gateway id.
    pub payment_method: String,
    pub payment_method_title: String,
    pub note: String,
    pub lines: Vec<SaleLine>,
    pub total: Amount,
}

/// One line of a return.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnLine {
    /// The local line number of a till sale, or the upstream line item id.
    pub line_ref: UpstreamId,
    pub product_id: UpstreamId,
    pub variation_id: UpstreamId,
    pub quantity: i64,
    /// Money given back for this line.
    pub amount: Amount,
}

/// A return, created upstream as a refund (no gateway refund: the money
/// moved at the till).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Return {
    pub local_id: Uuid,
    pub order: OrderRef,
    pub amount: Amount,
    pub reason: String,
    pub restock: bool,
    pub lines: Vec<ReturnLine>,
}

/// A customer's details as the till sets them; `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerFields {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub billing: Option<Address>,
    pub shipping: Option<Address>,
}

/// A manual stock change: read upstream, set `read + delta`, read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockAdjustment {
    pub local_id: Uuid,
    pub product_id: UpstreamId,
    pub variation_id: UpstreamId,
    pub delta: i64,
    pub reason: String,
    /// Once read during a send: the stock found and the value being set, so
    /// an attempt whose outcome is unknown can tell whether it landed.
    pub read_before: Option<i64>,
    pub set_to: Option<i64>,
}

/// What an entry carries, in possync's own terms.
// Payloads are read one per send and never held in bulk, so the size of
// the largest variant costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payload {
    Sale(Sale),
    Refund(Return),
    Complete {
        local_id: Uuid,
        order: OrderRef,
    },
    CustomerCreate {
        local_id: Uuid,
        fields: CustomerFields,
    },
    CustomerUpdate {
        customer: CustomerRef,
        fields: CustomerFields,
        /// The details before the change, restored if it is discarded.
        before: CustomerFields,
    },
    StockAdjust(StockAdjustment),
}

impl Payload {
    pub fn kind(&self) -> EntryKind {
        match self {
            Payload::Sale(_) => EntryKind::Sale,
            Payload::Refund(_) => EntryKind::Refund,
            Payload::Complete { .. } => EntryKind::Complete,
            Payload::CustomerCreate { .. } => EntryKind::CustomerCreate,
            Payload::CustomerUpdate { .. } => EntryKind::CustomerUpdate,
            Payload::StockAdjust(_) => EntryKind::StockAdjust,
        }
    }
}

/// An outbox entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxEntry {
    /// Also the idempotency key written upstream.
    pub id: Uuid,
    pub seq: i64,
    pub kind: EntryKind,
    /// The local id of what the entry sends (sale, customer, …).
    pub subject: String,
    pub label: String,
    pub state: EntryState,
    pub depends_on: Option<Uuid>,
    pub attempts: u32,
    /// Unix ms.
    pub next_attempt_at: i64,
    pub attempt_started_at: Option<i64>,
    pub upstream_id: Option<UpstreamId>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub confirmed_at: Option<i64>,
    pub payload: Payload,
}

/// Why the till's request was refused; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A product, order, customer or entry named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A field is wrong; `field` is its path in the request (`lines[2].quantity`).
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// The request is well formed but cannot apply now (stock, state).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
}

impl Refusal {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Refusal::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Refusal::Conflict {
            code,
            message: message.into(),
        }
    }
}
