//! The outbox replayer's view of a Shopify shop: [`UpstreamWrites`] over
//! the writes in [`super::writes`].
//!
//! How each write is made safe to send twice:
//! - a sale (`orderCreate`, no idempotency key at Shopify) is found by its
//!   `sourceIdentifier`. Order search lags creation, so a miss is final
//!   only once the client's search-lag window
//!   ([`SEARCH_LAG_WINDOW`](super::writes::SEARCH_LAG_WINDOW) by default)
//!   has passed *since the attempt began*
//!   ([`order_search_lag_left`]); until then the replayer looks again
//!   later, without holding a slot. The replayer asks with `since` = the
//!   attempt's start minus [`LOOKUP_MARGIN`], and the window is measured
//!   from that start, so a miss taken as final (the sale is then sent
//!   again) is never earlier than the window after the send it may
//!   duplicate, across restarts too (the start is kept with the entry);
//! - a return (`refundCreate`) is sent with the outbox key as its
//!   `@idempotent` key, and found by the key written in its note;
//! - a stock count is an absolute `inventorySetQuantities` that names the
//!   quantity it changes from; the replayer settles it by reading back;
//! - a customer is found by email (an email already registered is that
//!   customer);
//! - a status is `orderClose` ("completed") or `orderOpen` ("processing"):
//!   setting either twice is harmless. "Completed" first fulfils what is
//!   still open (a sale picked up later is handed over now): each open
//!   fulfillment order with `fulfillmentCreate`; a closed one is skipped,
//!   so a resend fulfils nothing twice. Shopify has no direct equivalent
//!   of the other till statuses; they are refused with `status_unsupported`.
//!
//! [`order_search_lag_left`]: UpstreamWrites::order_search_lag_left

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use super::client::ShopifyClient;
use super::queries;
use super::wire::{self, gid, read_node};
use super::writes::{REFUND_KEY_PREFIX, address_input, created, user_errors};
use crate::domain::customers::Customer;
use crate::domain::orders::{Order, Refund};
use crate::domain::outbox::{CustomerFields, Return, Sale};
use crate::domain::{GmtTime, UpstreamId};
use crate::upstream::UpstreamError;
use crate::upstream::writes::{
    CreatedOrder, LOOKUP_MARGIN, StockLevel, UpstreamWrites, WriteFailure,
};

pub const PING: &str = "query Ping { shop { id } }";

pub fn order_close() -> String {
    format!(
        "mutation OrderClose($input: OrderCloseInput!) {{ orderClose(input: $input) {{ order {{ {} }} userErrors {{ field message }} }} }}",
        queries::order_node(queries::Shape::Page)
    )
}

pub fn order_open() -> String {
    format!(
        "mutation OrderOpen($input: OrderOpenInput!) {{ orderOpen(input: $input) {{ order {{ {} }} userErrors {{ field message }} }} }}",
        queries::order_node(queries::Shape::Page)
    )
}

pub fn order_refunds() -> String {
    format!(
        "query OrderRefunds($id: ID!) {{ order(id: $id) {{ id refunds(first: 250) {{ {} }} }} }}",
        queries::refund_fields()
    )
}

pub fn customer_update() -> String {
    format!(
        "mutation CustomerUpdate($input: CustomerInput!) {{ customerUpdate(input: $input) {{ customer {{ {} }} userErrors {{ field message }} }} }}",
        queries::customer_fields()
    )
}

/// An order's fulfillment orders with their state.
pub const FULFILLMENT_ORDERS: &str = "query FulfillmentOrders($id: ID!) { order(id: $id) { id fulfillmentOrders(first: 50) { nodes { id status } } } }";

/// One fulfillment order handed over whole (no line list: all its lines).
pub const FULFILLMENT_CREATE: &str = "mutation FulfillmentCreate($fulfillment: FulfillmentInput!) { fulfillmentCreate(fulfillment: $fulfillment) { fulfillment { id status } userErrors { field message } } }";

pub const INVENTORY_SET: &str = "mutation InventorySet($input: InventorySetQuantitiesInput!, $key: String!) { inventorySetQuantities(input: $input) @idempotent(key: $key) { inventoryAdjustmentGroup { id reason changes { name delta } } userErrors { field message code } } }";

/// A refusal made here, before anything is sent.
fn refuse(code: &str, message: String) -> WriteFailure {
    WriteFailure::not_applied(UpstreamError::Rejected {
        status: 0,
        code: code.to_owned(),
        message,
    })
}

/// An answer that came back but cannot be read: it ran.
fn unreadable(error: UpstreamError) -> WriteFailure {
    WriteFailure {
        error,
        maybe_applied: true,
    }
}

/// Shopify's order status mutation for a till status word, if any.
fn status_mutation(status: &str) -> Option<(String, &'static str)> {
    match status {
        "completed" => Some((order_close(), "orderClose")),
        "processing" => Some((order_open(), "orderOpen")),
        _ => None,
    }
}

/// The `CustomerInput` fields the till sets (absent ones left alone).
fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn customer_input(fields: &CustomerFields) -> Value {
    let mut input = json!({});
    if let Some(e) = set(&fields.email) {
        input["email"] = json!(e);
    }
    if let Some(f) = set(&fields.first_name) {
        input["firstName"] = json!(f);
    }
    if let Some(l) = set(&fields.last_name) {
        input["lastName"] = json!(l);
    }
    if let Some(b) = &fields.billing {
        let a = address_input(b);
        if a.as_object().is_some_and(|o| !o.is_empty()) {
            input["addresses"] = json!([a]);
        }
    }
    input
}

/// What the shop took for each line. A sale completed at the till is
/// created fulfilled at the till's location with DECREMENT_IGNORING_POLICY,
/// so each line took its quantity there (an untracked item's count stays
/// empty, whatever is said). Otherwise Shopify routed the order and does
/// not say from where: unknown.
fn taken_at_till(mut c: CreatedOrder) -> CreatedOrder {
    let fulfilled = serde_json::from_str::<Value>(&c.order.raw.0)
        .is_ok_and(|o| o["displayFulfillmentStatus"] == "FULFILLED");
    if fulfilled {
        c.reduced_stock = c
            .order
            .line_items
            .iter()
            .map(|l| Some(l.quantity))
            .collect();
    }
    c
}

impl ShopifyClient {
    /// How long is left of the search-lag window for an attempt the
    /// replayer describes by `since` (its start minus `LOOKUP_MARGIN`).
    fn search_window_left(&self, since: GmtTime) -> Duration {
        // `since` is whole seconds: the attempt began up to a second later.
        let began = since.unix() + LOOKUP_MARGIN.as_secs() as i64;
        let elapsed = (GmtTime::now().unix() - began).max(0) as u64;
        (self.search_lag_window + Duration::from_secs(1))
            .saturating_sub(Duration::from_secs(elapsed))
    }
}

impl ShopifyClient {
    /// Fulfils what of an order is still to be handed over (a sale picked
    /// up later, handed over now): each open fulfillment order whole, so
    /// the shop does not show it as waiting to ship. Fulfillment orders
    /// already closed are skipped, which makes a resend harmless; one on
    /// hold or scheduled is left to the Shopify admin.
    async fn fulfil_open(&self, order_id: UpstreamId) -> Result<(), WriteFailure> {
        let answer = self
            .read(FULFILLMENT_ORDERS, json!({ "id": gid("Order", order_id) }))
            .await?;
        let order = &answer.data["order"];
        if order.is_null() {
            return Err(refuse(
                "order_missing",
                format!("the shop has no order {order_id} to hand over"),
            ));
        }
        let open: Vec<&str> = order["fulfillmentOrders"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|fo| matches!(fo["status"].as_str(), Some("OPEN" | "IN_PROGRESS")))
            .filter_map(|fo| fo["id"].as_str())
            .collect();
        for fo in open {
            let answer = self
                .write(
                    FULFILLMENT_CREATE,
                    json!({ "fulfillment": {
                        "lineItemsByFulfillmentOrder": [{ "fulfillmentOrderId": fo }],
                        "notifyCustomer": false,
                    } }),
                )
                .await?;
            if let Some(refused) = user_errors(&answer.data["fulfillmentCreate"], "fulfillment") {
                return Err(refused);
            }
        }
        Ok(())
    }
}

impl UpstreamWrites for ShopifyClient {
    async fn ping(&self) -> Result<(), UpstreamError> {
        self.read(PING, json!({})).await.map(|_| ())
    }

    async fn create_order(
        &self,
        key: Uuid,
        sale: &Sale,
        customer_id: UpstreamId,
    ) -> Result<CreatedOrder, WriteFailure> {
        ShopifyClient::create_order(self, &self.write_cache, key, sale, customer_id)
            .await
            .map(taken_at_till)
    }

    async fn find_order(
        &self,
        key: Uuid,
        _since: GmtTime,
    ) -> Result<Option<CreatedOrder>, UpstreamError> {
        Ok(ShopifyClient::find_order(self, key)
            .await?
            .map(taken_at_till))
    }

    fn order_search_lag_left(&self, since: GmtTime) -> Duration {
        self.search_window_left(since)
    }

    async fn create_refund(
        &self,
        key: Uuid,
        order_id: UpstreamId,
        ret: &Return,
        lines: &BTreeMap<UpstreamId, UpstreamId>,
    ) -> Result<Refund, WriteFailure> {
        ShopifyClient::create_refund(self, key, order_id, ret, lines).await
    }

    async fn find_refund(
        &self,
        key: Uuid,
        order_id: UpstreamId,
    ) -> Result<Option<Refund>, UpstreamError> {
        let answer = self
            .read(&order_refunds(), json!({ "id": gid("Order", order_id) }))
            .await?;
        let marker = format!("{REFUND_KEY_PREFIX}{key}");
        for r in answer.data["order"]["refunds"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if r["note"].as_str().is_some_and(|n| n.contains(&marker)) {
                let (w, raw) = read_node::<wire::WireRefund>(r, "refund")?;
                return wire::refund(order_id, &w, raw).map(Some);
            }
        }
        Ok(None)
    }

    async fn set_order_status(
        &self,
        order_id: UpstreamId,
        status: &str,
    ) -> Result<Order, WriteFailure> {
        let Some((document, field)) = status_mutation(status) else {
            return Err(refuse(
                "status_unsupported",
                format!(
                    "a Shopify order cannot be set to \"{status}\" from the till: only \"completed\" (closed) and \"processing\" (open again) are; cancel or refund it in the Shopify admin"
                ),
            ));
        };
        if status == "completed" {
            self.fulfil_open(order_id).await?;
        }
        let answer = self
            .write(
                &document,
                json!({ "input": { "id": gid("Order", order_id) } }),
            )
            .await?;
        let payload = &answer.data[field];
        if let Some(refused) = user_errors(payload, field) {
            return Err(refused);
        }
        created(&payload["order"])
            .map(|c| c.order)
            .map_err(unreadable)
    }

    async fn create_customer(
        &self,
        key: Uuid,
        fields: &CustomerFields,
    ) -> Result<Customer, WriteFailure> {
        ShopifyClient::create_customer(self, key, fields).await
    }

    async fn find_customer_by_email(
        &self,
        email: &str,
    ) -> Result<Option<UpstreamId>, UpstreamError> {
        if email.trim().is_empty() {
            return Ok(None);
        }
        Ok(ShopifyClient::find_customer_by_email(self, email)
            .await?
            .map(|c| c.id))
    }

    async fn update_customer(
        &self,
        id: UpstreamId,
        fields: &CustomerFields,
    ) -> Result<(), WriteFailure> {
        let mut input = customer_input(fields);
        input["id"] = json!(gid("Customer", id));
        let answer = self
            .write(&customer_update(), json!({ "input": input }))
            .await?;
        let payload = &answer.data["customerUpdate"];
        if let Some(refused) = user_errors(payload, "customer_update") {
            return Err(refused);
        }
        if payload["customer"].is_null() {
            return Err(unreadable(UpstreamError::Malformed {
                detail: "customerUpdate answered no customer and no error".into(),
                snippet: String::new(),
            }));
        }
        Ok(())
    }

    async fn stock(
        &self,
        product_id: UpstreamId,
        variation_id: UpstreamId,
    ) -> Result<StockLevel, UpstreamError> {
        ShopifyClient::stock(self, &self.write_cache, product_id, variation_id)
            .await
            .map(|(_, level)| level)
    }

    async fn set_stock(
        &self,
        product_id: UpstreamId,
        variation_id: UpstreamId,
        quantity: i64,
    ) -> Result<StockLevel, WriteFailure> {
        let (item, level) =
            ShopifyClient::stock(self, &self.write_cache, product_id, variation_id).await?;
        let Some(from) = level.quantity else {
            return Err(refuse(
                "stock_not_tracked",
                format!(
                    "the shop does not count the stock of product {product_id} (variation {variation_id}) at the till's location: turn on inventory tracking there first"
                ),
            ));
        };
        let location = self.location_id().await?;
        let input = json!({
            "name": "available",
            "reason": "correction",
            "referenceDocumentUri": format!("possync://stock/{item}"),
            "quantities": [{
                "inventoryItemId": gid("InventoryItem", item),
                "locationId": queries::location_gid(location),
                "quantity": quantity,
                "changeFromQuantity": from,
            }],
        });
        // A fresh key per attempt: the same count set again later is a new
        // change, and a resend after an unknown outcome is settled by the
        // replayer reading the level back first (and refused here as
        // CHANGE_FROM_QUANTITY_STALE if the level moved meanwhile).
        let key = Uuid::new_v4();
        let answer = self
            .write(
                INVENTORY_SET,
                json!({ "input": input, "key": key.to_string() }),
            )
            .await?;
        let payload = &answer.data["inventorySetQuantities"];
        if let Some(refused) = user_errors(payload, "inventory_set") {
            return Err(refused);
        }
        let group = &payload["inventoryAdjustmentGroup"];
        if group.is_null() {
            return Err(unreadable(UpstreamError::Malformed {
                detail: "inventorySetQuantities answered no adjustment and no error".into(),
                snippet: String::new(),
            }));
        }
        // The change to `available` the shop made from `from`.
        let delta: i64 = group["changes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["name"] == "available")
            .filter_map(|c| c["delta"].as_i64())
            .sum();
        Ok(StockLevel {
            quantity: Some(from + delta),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_search_window_runs_from_when_the_attempt_began() {
        let shop = crate::upstream::shopify::test_shop::TestShop::start().await;
        let client = ShopifyClient::new(shop.connection())
            .unwrap()
            .with_search_lag_window(Duration::from_secs(60));
        // As the replayer asks: the attempt's start minus LOOKUP_MARGIN.
        let began = |ago: i64| GmtTime::now().plus_secs(-ago).minus(LOOKUP_MARGIN);
        let left = client.search_window_left(began(0));
        assert!(
            left > Duration::from_secs(58) && left <= Duration::from_secs(61),
            "{left:?}"
        );
        let left = client.search_window_left(began(45));
        assert!(
            left > Duration::from_secs(13) && left <= Duration::from_secs(16),
            "{left:?}"
        );
        assert_eq!(client.search_window_left(began(3600)), Duration::ZERO);
    }

    #[test]
    fn only_the_statuses_shopify_can_set_map_to_a_mutation() {
        assert_eq!(status_mutation("completed").unwrap().1, "orderClose");
        assert_eq!(status_mutation("processing").unwrap().1, "orderOpen");
        for s in ["cancelled", "refunded", "on-hold", "pending", "failed", ""] {
            assert!(status_mutation(s).is_none(), "{s}");
        }
    }
}
