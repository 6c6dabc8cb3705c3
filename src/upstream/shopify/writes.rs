//! The till's changes written to Shopify, each sent so that sending it
//! twice cannot apply it twice.
//!
//! - A sale is `orderCreate`, which takes no idempotency key: the outbox key
//!   goes in as `sourceIdentifier` and as a `possync.key` metafield, and an
//!   attempt whose outcome is unknown is settled with
//!   `orders(query: "source_identifier:'…'")`. Search lags creation, so a
//!   miss is final only after [`SEARCH_LAG_WINDOW`]; before that the caller
//!   asks again later instead of resending. The order takes stock (`DECREMENT_IGNORING_POLICY`: the goods
//!   already left the shop), a sale completed at the till is fulfilled at
//!   the till's location (so the stock is taken there), and a paid sale
//!   carries its payment as a SALE transaction.
//! - A return is `refundCreate` and a stock count `inventoryAdjustQuantities`,
//!   both with `@idempotent(key:)` (required from 2026-04): a resend with the
//!   same key returns the first result. The adjustment names the quantity it
//!   expects to change from (`changeFromQuantity`, required from 2026-04).
//! - A new customer is `customerCreate`, unless a customer with that email
//!   exists already: that customer is the answer.
//!
//! Failures say whether the write may have happened ([`WriteFailure`]).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use uuid::Uuid;

use super::classify::{Answer, Failure};
use super::client::{Kind, ShopifyClient};
use super::queries::{self, graphql_string};
use super::wire::{self, gid, read_node};
use crate::domain::customers::{Address, Customer};
use crate::domain::orders::Refund;
use crate::domain::outbox::{CustomerFields, Return, Sale};
use crate::domain::{GmtTime, UpstreamId};
use crate::upstream::UpstreamError;
use crate::upstream::writes::{CreatedOrder, StockLevel, WriteFailure};

/// How long a sale's order is looked for by its key before it is taken to
/// be missing: Shopify's order search is eventually consistent (an order
/// just created may not be found for a while; the delay is not published,
/// so this errs long).
pub const SEARCH_LAG_WINDOW: Duration = Duration::from_secs(120);

/// The metafield namespace and key carrying the outbox key.
pub const KEY_NAMESPACE: &str = "possync";
pub const KEY_KEY: &str = "key";

pub fn order_create() -> String {
    format!(
        "mutation OrderCreate($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {{ orderCreate(order: $order, options: $options) {{ order {{ {} }} userErrors {{ field message code }} }} }}",
        queries::order_node(queries::Shape::Page)
    )
}

pub fn orders_by_source() -> String {
    format!(
        "query OrdersBySource($query: String!) {{ orders(first: 5, query: $query) {{ nodes {{ {} }} }} }}",
        queries::order_node(queries::Shape::Page)
    )
}

pub fn refund_create() -> String {
    format!(
        "mutation RefundCreate($input: RefundInput!, $key: String!) {{ refundCreate(input: $input) @idempotent(key: $key) {{ refund {{ {} }} userErrors {{ field message }} }} }}",
        queries::refund_fields()
    )
}

pub const ORDER_PAYMENTS: &str = "query OrderPayments($id: ID!) { order(id: $id) { id currencyCode transactions(first: 50) { id kind status gateway } } }";

pub const INVENTORY_ADJUST: &str = "mutation InventoryAdjust($input: InventoryAdjustQuantitiesInput!, $key: String!) { inventoryAdjustQuantities(input: $input) @idempotent(key: $key) { inventoryAdjustmentGroup { id reason changes { name delta quantityAfterChange } } userErrors { field message code } } }";

/// A variant's inventory item and its stock at `location`.
pub fn variant_stock(location: UpstreamId) -> String {
    format!(
        "query VariantStock($id: ID!) {{ productVariant(id: $id) {{ id inventoryItem {{ id tracked inventoryLevel(locationId: {}) {{ quantities(names: [\"available\"]) {{ name quantity }} }} }} }} }}",
        graphql_string(&queries::location_gid(location))
    )
}

pub const DEFAULT_VARIANT: &str = "query DefaultVariant($id: ID!) { product(id: $id) { id variants(first: 1) { nodes { id } } } }";

pub const SHOP_CURRENCY: &str = "query ShopCurrency { shop { currencyCode } }";

pub fn customer_create() -> String {
    format!(
        "mutation CustomerCreate($input: CustomerInput!) {{ customerCreate(input: $input) {{ customer {{ {} }} userErrors {{ field message }} }} }}",
        queries::customer_fields()
    )
}

pub fn customers_by_email() -> String {
    format!(
        "query CustomersByEmail($query: String!) {{ customers(first: 5, query: $query) {{ nodes {{ {} }} }} }}",
        queries::customer_fields()
    )
}

/// What the writes remember between calls: the shop's currency and the
/// default variant of each simple product sold.
#[derive(Default)]
pub struct WriteCache {
    currency: Mutex<Option<String>>,
    default_variants: Mutex<HashMap<UpstreamId, UpstreamId>>,
}

/// A write's failure: whether it may have been applied follows from how it
/// failed. THROTTLED and 429 were retried already (never run); a 401 or a
/// refusal ran nothing, nor did a connection that could not be made (the
/// request never left); a timeout, a cut connection, a server error or an
/// answer we cannot read may have.
fn write_failure(f: Failure) -> WriteFailure {
    let e = UpstreamError::from(f);
    let refused_unrun = match &e {
        UpstreamError::Transient { reason, .. } => {
            super::client::is_throttled(&e)
                || reason.starts_with("HTTP 429")
                || reason.starts_with(crate::upstream::woo::classify::CANNOT_CONNECT)
        }
        _ => false,
    };
    let maybe_applied = !refused_unrun
        && matches!(
            e,
            UpstreamError::Transient { .. } | UpstreamError::Malformed { .. }
        );
    WriteFailure {
        error: e,
        maybe_applied,
    }
}

/// `userErrors` as a refusal (nothing was applied).
pub(super) fn user_errors(payload: &Value, what: &str) -> Option<WriteFailure> {
    let errors = payload.get("userErrors")?.as_array()?;
    let first = errors.first()?;
    Some(WriteFailure::not_applied(UpstreamError::Rejected {
        status: 200,
        code: first["code"]
            .as_str()
            .map_or_else(|| format!("{what}_refused"), str::to_owned),
        message: user_error_text(errors),
    }))
}

/// `userErrors` as one line: each `field.path: message` (or the message
/// alone), joined by "; ".
pub(super) fn user_error_text(errors: &[Value]) -> String {
    errors
        .iter()
        .map(|e| {
            let field = e["field"]
                .as_array()
                .map(|f| {
                    f.iter()
                        .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(".")
                })
                .unwrap_or_default();
            let m = e["message"].as_str().unwrap_or("");
            if field.is_empty() {
                m.to_owned()
            } else {
                format!("{field}: {m}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A refund's note: the till's reason, then the outbox key, by which an
/// unknown outcome is found among the order's refunds (refunds carry no
/// metafields).
pub fn refund_note(reason: &str, key: Uuid) -> String {
    let reason = reason.trim();
    if reason.is_empty() {
        format!("{REFUND_KEY_PREFIX}{key}")
    } else {
        format!("{reason}\n{REFUND_KEY_PREFIX}{key}")
    }
}

/// What precedes the outbox key in a refund's note.
pub const REFUND_KEY_PREFIX: &str = "possync key: ";

fn money(amount: Decimal, currency: &str) -> Value {
    json!({ "shopMoney": { "amount": amount.normalize().to_string(), "currencyCode": currency } })
}

pub(super) fn address_input(a: &Address) -> Value {
    let mut v = serde_json::Map::new();
    for (k, val) in [
        ("firstName", &a.first_name),
        ("lastName", &a.last_name),
        ("company", &a.company),
        ("address1", &a.address_1),
        ("address2", &a.address_2),
        ("city", &a.city),
        ("provinceCode", &a.state),
        ("zip", &a.postcode),
        ("countryCode", &a.country),
        ("phone", &a.phone),
    ] {
        if !val.trim().is_empty() {
            v.insert(k.to_owned(), json!(val.trim()));
        }
    }
    Value::Object(v)
}

/// The `orderCreate` variables for a sale. `variants` gives each line's
/// variant id (a simple product's default variant).
pub fn order_variables(
    key: Uuid,
    sale: &Sale,
    customer_id: UpstreamId,
    variants: &[UpstreamId],
    currency: &str,
    fulfilled_at: Option<UpstreamId>,
) -> Value {
    let taxes_included = sale.lines.iter().any(|l| l.net_divisor != Decimal::ONE);
    let lines: Vec<Value> = sale
        .lines
        .iter()
        .zip(variants)
        .map(|(l, variant)| {
            let mut line = json!({
                "variantId": gid("ProductVariant", *variant),
                "quantity": l.quantity,
            });
            if let Some(sku) = &l.sku {
                line["sku"] = json!(sku);
            }
            if l.priced_by_till && l.quantity != 0 {
                // orderCreate takes a unit price; the line's total over its
                // quantity, to the cent.
                let unit = (l.total / Decimal::from(l.quantity)).round_dp(2);
                line["priceSet"] = money(unit, currency);
            }
            line
        })
        .collect();
    let sold_at = GmtTime::from_unix(sale.sold_at / 1000);
    let mut order = json!({
        "sourceIdentifier": key.to_string(),
        "sourceName": "possync",
        "name": sale.number,
        "processedAt": format!("{sold_at}Z"),
        "currency": currency,
        "taxesIncluded": taxes_included,
        "lineItems": lines,
        "metafields": [{
            "namespace": KEY_NAMESPACE, "key": KEY_KEY,
            "type": "single_line_text_field", "value": key.to_string(),
        }],
        "financialStatus": if sale.paid { "PAID" } else { "PENDING" },
        "tags": ["possync", format!("till:{}", sale.till_id)],
    });
    if sale.paid {
        let gateway = if sale.payment_method.trim().is_empty() {
            "manual"
        } else {
            sale.payment_method.trim()
        };
        order["transactions"] = json!([{
            "kind": "SALE", "status": "SUCCESS", "gateway": gateway,
            "amountSet": money(sale.total, currency),
            "processedAt": format!("{sold_at}Z"),
        }]);
    }
    if customer_id > 0 {
        order["customerId"] = json!(gid("Customer", customer_id));
    }
    if let Some(location) = fulfilled_at {
        // Handed over at the till: fulfilled there, so the stock is taken
        // at the till's location (not wherever the shop would route it).
        order["fulfillment"] = json!({
            "locationId": queries::location_gid(location),
            "notifyCustomer": false,
        });
    }
    if !sale.note.trim().is_empty() {
        order["note"] = json!(sale.note.trim());
    }
    if let Some(b) = &sale.billing {
        let addr = address_input(b);
        if addr.as_object().is_some_and(|o| !o.is_empty()) {
            order["billingAddress"] = addr;
        }
        if let Some(email) = b.email.as_deref().filter(|e| !e.trim().is_empty()) {
            order["email"] = json!(email.trim());
        }
    }
    json!({
        "order": order,
        "options": {
            // The goods left at the till: take the stock whatever the policy.
            "inventoryBehaviour": "DECREMENT_IGNORING_POLICY",
            "sendReceipt": false,
            "sendFulfillmentReceipt": false,
        },
    })
}

/// An order node into a [`CreatedOrder`].
pub(super) fn created(node: &Value) -> Result<CreatedOrder, UpstreamError> {
    let (w, raw) = read_node::<wire::WireOrder>(node, "order")?;
    let order = wire::order(&w, raw, None)?;
    Ok(CreatedOrder {
        // Shopify does not say per line what it took.
        reduced_stock: vec![None; order.line_items.len()],
        order,
    })
}

impl ShopifyClient {
    pub(super) async fn write(
        &self,
        document: &str,
        variables: Value,
    ) -> Result<Answer, WriteFailure> {
        self.request(document, variables, Kind::Write)
            .await
            .map_err(write_failure)
    }

    pub(super) async fn read(
        &self,
        document: &str,
        variables: Value,
    ) -> Result<Answer, UpstreamError> {
        self.query(document, variables)
            .await
            .map_err(UpstreamError::from)
    }

    /// The shop's currency, asked once.
    pub async fn shop_currency(&self, cache: &WriteCache) -> Result<String, UpstreamError> {
        let mut c = cache.currency.lock().await;
        if let Some(c) = c.as_ref() {
            return Ok(c.clone());
        }
        let answer = self.read(SHOP_CURRENCY, json!({})).await?;
        let code = answer.data["shop"]["currencyCode"]
            .as_str()
            .ok_or_else(|| UpstreamError::Malformed {
                detail: "shop.currencyCode missing".to_owned(),
                snippet: String::new(),
            })?
            .to_owned();
        *c = Some(code.clone());
        Ok(code)
    }

    /// The variant a sale line sells: its variation, or a simple product's
    /// default variant.
    async fn line_variant(
        &self,
        cache: &WriteCache,
        product_id: UpstreamId,
        variation_id: UpstreamId,
    ) -> Result<UpstreamId, UpstreamError> {
        if variation_id != 0 {
            return Ok(variation_id);
        }
        if let Some(v) = cache.default_variants.lock().await.get(&product_id) {
            return Ok(*v);
        }
        let answer = self
            .read(DEFAULT_VARIANT, json!({ "id": gid("Product", product_id) }))
            .await?;
        let id = answer.data["product"]["variants"]["nodes"][0]["id"]
            .as_str()
            .ok_or_else(|| UpstreamError::NotFound {
                code: "product_not_found".to_owned(),
                message: format!("product {product_id} (or its variant) is not on the shop"),
            })?;
        let v = wire::gid_number(id, "ProductVariant")?;
        cache.default_variants.lock().await.insert(product_id, v);
        Ok(v)
    }

    /// Creates the sale's order, keyed by `key`.
    pub async fn create_order(
        &self,
        cache: &WriteCache,
        key: Uuid,
        sale: &Sale,
        customer_id: UpstreamId,
    ) -> Result<CreatedOrder, WriteFailure> {
        let currency = self.shop_currency(cache).await?;
        let mut variants = Vec::with_capacity(sale.lines.len());
        for l in &sale.lines {
            variants.push(
                self.line_variant(cache, l.product_id, l.variation_id)
                    .await?,
            );
        }
        // A sale completed at the till left with the customer; one to be
        // picked up later is fulfilled when it is.
        let fulfilled_at = if sale.status == "completed" {
            Some(self.location_id().await?)
        } else {
            None
        };
        let vars = order_variables(key, sale, customer_id, &variants, &currency, fulfilled_at);
        let answer = self.write(&order_create(), vars).await?;
        let payload = &answer.data["orderCreate"];
        if let Some(refused) = user_errors(payload, "order_create") {
            return Err(refused);
        }
        // It ran: an unreadable answer leaves the outcome to the lookup.
        created(&payload["order"]).map_err(|error| WriteFailure {
            error,
            maybe_applied: true,
        })
    }

    /// The order created with `key`, if the search finds it now.
    pub async fn find_order(&self, key: Uuid) -> Result<Option<CreatedOrder>, UpstreamError> {
        let key = key.to_string();
        let answer = self
            .read(
                &orders_by_source(),
                json!({ "query": format!("source_identifier:'{key}'") }),
            )
            .await?;
        let nodes = answer.data["orders"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        // Search terms can be tokenised: only an exact match is ours.
        nodes
            .iter()
            .find(|n| n["sourceIdentifier"].as_str() == Some(key.as_str()))
            .map(created)
            .transpose()
    }

    /// Refunds `ret` on `order_id` with `key` as the idempotency key: the
    /// money back through the order's payment (a REFUND of its successful
    /// SALE or CAPTURE, on the same gateway), lines restocked at the
    /// configured location when the return says so.
    pub async fn create_refund(
        &self,
        key: Uuid,
        order_id: UpstreamId,
        ret: &Return,
        lines: &BTreeMap<UpstreamId, UpstreamId>,
    ) -> Result<Refund, WriteFailure> {
        let location = self.location_id().await?;
        let payments = self
            .read(ORDER_PAYMENTS, json!({ "id": gid("Order", order_id) }))
            .await?;
        let order = &payments.data["order"];
        if order.is_null() {
            return Err(WriteFailure::not_applied(UpstreamError::NotFound {
                code: "order_not_found".to_owned(),
                message: format!("order {order_id} is not on the shop"),
            }));
        }
        let mut refund_lines = Vec::new();
        for l in &ret.lines {
            let line_item = lines.get(&l.line_ref).ok_or_else(|| {
                WriteFailure::not_applied(UpstreamError::Rejected {
                    status: 0,
                    code: "line_unknown".to_owned(),
                    message: format!(
                        "return line {} matches no line of order {order_id}",
                        l.line_ref
                    ),
                })
            })?;
            refund_lines.push(json!({
                "lineItemId": gid("LineItem", *line_item),
                "quantity": l.quantity.abs(),
                "restockType": if ret.restock { "RETURN" } else { "NO_RESTOCK" },
                "locationId": queries::location_gid(location),
            }));
        }
        let mut input = json!({
            "orderId": gid("Order", order_id),
            "note": refund_note(&ret.reason, key),
            "notify": false,
            "refundLineItems": refund_lines,
        });
        if ret.amount > Decimal::ZERO {
            let parent = order["transactions"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|t| {
                    matches!(t["kind"].as_str(), Some("SALE" | "CAPTURE"))
                        && t["status"].as_str() == Some("SUCCESS")
                })
                .ok_or_else(|| {
                    WriteFailure::not_applied(UpstreamError::Rejected {
                        status: 0,
                        code: "no_payment".to_owned(),
                        message: format!("order {order_id} has no successful payment to refund"),
                    })
                })?;
            input["transactions"] = json!([{
                "orderId": gid("Order", order_id),
                "parentId": parent["id"],
                "kind": "REFUND",
                "gateway": parent["gateway"],
                "amount": ret.amount.normalize().to_string(),
            }]);
        }
        let answer = self
            .write(
                &refund_create(),
                json!({ "input": input, "key": key.to_string() }),
            )
            .await?;
        let payload = &answer.data["refundCreate"];
        if let Some(refused) = user_errors(payload, "refund_create") {
            return Err(refused);
        }
        let (w, raw) =
            read_node::<wire::WireRefund>(&payload["refund"], "refund").map_err(|error| {
                WriteFailure {
                    error,
                    maybe_applied: true,
                }
            })?;
        wire::refund(order_id, &w, raw).map_err(|error| WriteFailure {
            error,
            maybe_applied: true,
        })
    }

    /// A variant's inventory item and its `available` stock at the
    /// configured location (`None`: not tracked or not stocked there).
    pub async fn variant_stock(
        &self,
        variant_id: UpstreamId,
    ) -> Result<(UpstreamId, StockLevel), UpstreamError> {
        let location = self.location_id().await?;
        let answer = self
            .read(
                &variant_stock(location),
                json!({ "id": gid("ProductVariant", variant_id) }),
            )
            .await?;
        let item = &answer.data["productVariant"]["inventoryItem"];
        let id = item["id"].as_str().ok_or_else(|| UpstreamError::NotFound {
            code: "variant_not_found".to_owned(),
            message: format!("variant {variant_id} is not on the shop"),
        })?;
        let quantity = item["inventoryLevel"]["quantities"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|q| q["name"] == "available")
            .and_then(|q| q["quantity"].as_i64());
        let tracked = item["tracked"].as_bool().unwrap_or(false);
        Ok((
            wire::gid_number(id, "InventoryItem")?,
            StockLevel {
                quantity: quantity.filter(|_| tracked),
            },
        ))
    }

    /// [`ShopifyClient::variant_stock`] for a product (its default variant)
    /// or a variation, as the till names them.
    pub async fn stock(
        &self,
        cache: &WriteCache,
        product_id: UpstreamId,
        variation_id: UpstreamId,
    ) -> Result<(UpstreamId, StockLevel), UpstreamError> {
        let variant = self.line_variant(cache, product_id, variation_id).await?;
        self.variant_stock(variant).await
    }

    /// Changes a variant's `available` stock by `delta`, from `from` (what
    /// the till last read; a stale value is refused by the shop with
    /// `CHANGE_FROM_QUANTITY_STALE`), once per `key`.
    pub async fn adjust_stock(
        &self,
        key: Uuid,
        inventory_item: UpstreamId,
        delta: i64,
        from: i64,
        reason: &str,
    ) -> Result<(), WriteFailure> {
        let location = self.location_id().await?;
        let input = json!({
            "name": "available",
            "reason": reason,
            "referenceDocumentUri": format!("possync://outbox/{key}"),
            "changes": [{
                "inventoryItemId": gid("InventoryItem", inventory_item),
                "locationId": queries::location_gid(location),
                "delta": delta,
                "changeFromQuantity": from,
            }],
        });
        let answer = self
            .write(
                INVENTORY_ADJUST,
                json!({ "input": input, "key": key.to_string() }),
            )
            .await?;
        let payload = &answer.data["inventoryAdjustQuantities"];
        if let Some(refused) = user_errors(payload, "inventory_adjust") {
            return Err(refused);
        }
        if payload["inventoryAdjustmentGroup"].is_null() {
            return Err(WriteFailure {
                error: UpstreamError::Malformed {
                    detail: "inventoryAdjustQuantities answered no adjustment and no error".into(),
                    snippet: String::new(),
                },
                maybe_applied: true,
            });
        }
        Ok(())
    }

    /// The customer registered with `email`, compared exactly.
    pub async fn find_customer_by_email(
        &self,
        email: &str,
    ) -> Result<Option<Customer>, UpstreamError> {
        let email = email.trim();
        // Email is tokenised in search: quote it for a phrase match.
        let answer = self
            .read(
                &customers_by_email(),
                json!({ "query": format!("email:{}", graphql_string(email)) }),
            )
            .await?;
        for n in answer.data["customers"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let (w, raw) = read_node::<wire::WireCustomer>(n, "customer")?;
            let c = wire::customer(&w, raw)?;
            if c.email.eq_ignore_ascii_case(email) {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    /// Registers a customer, or answers the one already registered with
    /// that email.
    pub async fn create_customer(
        &self,
        key: Uuid,
        fields: &CustomerFields,
    ) -> Result<Customer, WriteFailure> {
        let email = fields
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty());
        if let Some(email) = email
            && let Some(existing) = self.find_customer_by_email(email).await?
        {
            return Ok(existing);
        }
        let mut input = json!({
            "metafields": [{
                "namespace": KEY_NAMESPACE, "key": KEY_KEY,
                "type": "single_line_text_field", "value": key.to_string(),
            }],
        });
        if let Some(e) = email {
            input["email"] = json!(e);
        }
        if let Some(f) = fields
            .first_name
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            input["firstName"] = json!(f.trim());
        }
        if let Some(l) = fields.last_name.as_deref().filter(|s| !s.trim().is_empty()) {
            input["lastName"] = json!(l.trim());
        }
        if let Some(b) = &fields.billing {
            let a = address_input(b);
            if a.as_object().is_some_and(|o| !o.is_empty()) {
                input["addresses"] = json!([a]);
            }
        }
        let answer = self
            .write(&customer_create(), json!({ "input": input }))
            .await?;
        let payload = &answer.data["customerCreate"];
        if let Some(refused) = user_errors(payload, "customer_create") {
            // Registered meanwhile (another till): that customer it is.
            if let Some(email) = email
                && let Some(existing) = self.find_customer_by_email(email).await?
            {
                return Ok(existing);
            }
            return Err(refused);
        }
        let (w, raw) =
            read_node::<wire::WireCustomer>(&payload["customer"], "customer").map_err(|error| {
                WriteFailure {
                    error,
                    maybe_applied: true,
                }
            })?;
        wire::customer(&w, raw).map_err(|error| WriteFailure {
            error,
            maybe_applied: true,
        })
    }
}

#[cfg(test)]
#[path = "writes_tests.rs"]
mod tests;
