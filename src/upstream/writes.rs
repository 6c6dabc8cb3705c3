//! What the outbox replayer asks of a remote shop: create and look up the
//! objects the till made, in the project's terms.
//!
//! Writes are never retried here. A failed write says whether the request
//! may have reached the shop (`maybe_applied`): if so, the replayer looks the
//! object up by its idempotency key before sending anything again.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use uuid::Uuid;

use super::UpstreamError;
use crate::domain::customers::Customer;
use crate::domain::orders::{Order, Refund};
use crate::domain::outbox::{CustomerFields, Return, Sale};
use crate::domain::{GmtTime, UpstreamId};

/// An order created by an attempt is looked for among orders created since
/// the attempt began, minus this margin (the shop's clock may lag ours):
/// the `since` the replayer hands [`UpstreamWrites::find_order`].
pub const LOOKUP_MARGIN: Duration = Duration::from_secs(15 * 60);

/// A failed write.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{error}")]
pub struct WriteFailure {
    pub error: UpstreamError,
    /// The request may have been processed (timeout, reset, cut or garbled
    /// answer, server error): the outcome is unknown.
    pub maybe_applied: bool,
}

impl WriteFailure {
    /// A failure known not to have changed anything.
    pub fn not_applied(error: UpstreamError) -> Self {
        WriteFailure {
            error,
            maybe_applied: false,
        }
    }
}

impl From<UpstreamError> for WriteFailure {
    /// Failures of reads: nothing was changed.
    fn from(error: UpstreamError) -> Self {
        WriteFailure::not_applied(error)
    }
}

/// An order the shop created for a sale.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedOrder {
    pub order: Order,
    /// Per line item, in the order's order: how much stock the shop took
    /// for it, when it says (it does when it counts the product's stock).
    pub reduced_stock: Vec<Option<i64>>,
}

/// A product's or variation's stock as the shop counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockLevel {
    /// `None` when the shop does not count it.
    pub quantity: Option<i64>,
}

/// A remote shop, as the outbox replayer sees it.
pub trait UpstreamWrites: Send + Sync + 'static {
    /// A cheap authenticated read: does the shop answer?
    fn ping(&self) -> impl Future<Output = Result<(), UpstreamError>> + Send;

    /// Creates the sale's order with `key` in its meta data.
    fn create_order(
        &self,
        key: Uuid,
        sale: &Sale,
        customer_id: UpstreamId,
    ) -> impl Future<Output = Result<CreatedOrder, WriteFailure>> + Send;

    /// The order carrying `key`, among those created after `since`.
    fn find_order(
        &self,
        key: Uuid,
        since: GmtTime,
    ) -> impl Future<Output = Result<Option<CreatedOrder>, UpstreamError>> + Send;

    /// How much longer a miss of [`UpstreamWrites::find_order`] may still be
    /// the shop's search trailing a new order, for an attempt that began
    /// at `since` + [`LOOKUP_MARGIN`]. Zero (the default) when a miss means
    /// the order is not there. While it is not zero, the replayer looks
    /// again later instead of sending again, and frees its slot meanwhile.
    /// (No default: a shop's adapter, and anything wrapping one, must say.)
    fn order_search_lag_left(&self, since: GmtTime) -> Duration;

    /// Refunds `ret` on `order_id`; `lines` maps the return's line refs to
    /// the order's upstream line ids.
    fn create_refund(
        &self,
        key: Uuid,
        order_id: UpstreamId,
        ret: &Return,
        lines: &BTreeMap<UpstreamId, UpstreamId>,
    ) -> impl Future<Output = Result<Refund, WriteFailure>> + Send;

    /// The refund of `order_id` carrying `key`.
    fn find_refund(
        &self,
        key: Uuid,
        order_id: UpstreamId,
    ) -> impl Future<Output = Result<Option<Refund>, UpstreamError>> + Send;

    /// Sets an order's status (idempotent).
    fn set_order_status(
        &self,
        order_id: UpstreamId,
        status: &str,
    ) -> impl Future<Output = Result<Order, WriteFailure>> + Send;

    /// Registers a customer with `key` in its meta data.
    fn create_customer(
        &self,
        key: Uuid,
        fields: &CustomerFields,
    ) -> impl Future<Output = Result<Customer, WriteFailure>> + Send;

    /// The customer registered with `email`.
    fn find_customer_by_email(
        &self,
        email: &str,
    ) -> impl Future<Output = Result<Option<UpstreamId>, UpstreamError>> + Send;

    /// Changes a customer's details (idempotent: the fields are absolute).
    fn update_customer(
        &self,
        id: UpstreamId,
        fields: &CustomerFields,
    ) -> impl Future<Output = Result<(), WriteFailure>> + Send;

    /// Reads a product's (`variation_id` 0) or variation's stock.
    fn stock(
        &self,
        product_id: UpstreamId,
        variation_id: UpstreamId,
    ) -> impl Future<Output = Result<StockLevel, UpstreamError>> + Send;

    /// Sets it (an absolute write) and returns what the shop answered.
    fn set_stock(
        &self,
        product_id: UpstreamId,
        variation_id: UpstreamId,
        quantity: i64,
    ) -> impl Future<Output = Result<StockLevel, WriteFailure>> + Send;
}
