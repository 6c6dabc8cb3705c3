//! The outbox's writes to WooCommerce: orders, refunds, order status,
//! customers and stock, with the idempotency key in `meta_data`, and the
//! look-ups that settle an attempt whose outcome is unknown.
//!
//! WooCommerce has no idempotency key and cannot search by meta value, so an
//! order is found by listing orders created since the attempt began
//! (`after=`, `_fields=id,meta_data`) and reading their meta. Meta keys
//! never start with `_`: older WooCommerce drops protected keys sent over REST.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use super::classify;
use super::client::WooClient;
use super::wire;
use crate::domain::customers::{Address, Customer};
use crate::domain::orders::{Order, Refund};
use crate::domain::outbox::{CustomerFields, Return, Sale};
use crate::domain::{GmtTime, UpstreamId};
use crate::telemetry::metrics::{self, UpstreamKind};
use crate::upstream::UpstreamError;
use crate::upstream::writes::{CreatedOrder, StockLevel, UpstreamWrites, WriteFailure};

/// The meta key holding an outbox entry's idempotency key.
pub const KEY_META: &str = "possync_key";
/// The till that made the change.
pub const TILL_META: &str = "possync_till";
/// When the sale was rung up (`date_created` is read-only over REST).
pub const SOLD_AT_META: &str = "possync_sold_at";
/// The till's own order number.
pub const NUMBER_META: &str = "possync_number";
/// Largest page WooCommerce serves.
const LOOKUP_PAGE: u32 = 100;
/// A key lookup stops after this many pages (10,000 orders) and reports.
const LOOKUP_MAX_PAGES: u32 = 100;

fn q(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// Sets `key` to `value` unless it is empty: WooCommerce checks what it is
/// sent (an empty `billing.email` fails `is_email()` and the whole write is
/// refused), and a field left out is simply not set.
fn put_text(v: &mut Value, key: &str, value: &str) {
    let value = value.trim();
    if !value.is_empty() {
        v[key] = json!(value);
    }
}

/// An address with only the fields we have; `None` when it has none.
fn address(a: &Address, with_email: bool) -> Option<Value> {
    let mut v = json!({});
    for (key, value) in [
        ("first_name", &a.first_name),
        ("last_name", &a.last_name),
        ("company", &a.company),
        ("address_1", &a.address_1),
        ("address_2", &a.address_2),
        ("city", &a.city),
        ("state", &a.state),
        ("postcode", &a.postcode),
        ("country", &a.country),
        ("phone", &a.phone),
    ] {
        put_text(&mut v, key, value);
    }
    if with_email && let Some(email) = &a.email {
        put_text(&mut v, "email", email);
    }
    v.as_object().is_some_and(|o| !o.is_empty()).then_some(v)
}

/// The `POST /orders` body for a sale.
pub fn order_body(key: Uuid, sale: &Sale, customer_id: UpstreamId) -> Value {
    let lines: Vec<Value> = sale
        .lines
        .iter()
        .map(|l| {
            let mut line = json!({
                "product_id": l.product_id,
                "quantity": l.quantity,
            });
            if l.variation_id != 0 {
                line["variation_id"] = json!(l.variation_id);
            }
            if l.priced_by_till {
                // WooCommerce takes net line amounts; it adds the tax itself.
                let net = |gross: rust_decimal::Decimal| {
                    (gross / l.net_divisor).round_dp(4).normalize().to_string()
                };
                let subtotal = l.unit_price * rust_decimal::Decimal::from(l.quantity);
                line["subtotal"] = json!(net(subtotal));
                line["total"] = json!(net(l.total));
            }
            line
        })
        .collect();
    let sold_at = GmtTime::from_unix(sale.sold_at / 1000);
    let mut body = json!({
        "status": sale.status,
        "set_paid": sale.paid,
        "line_items": lines,
        "meta_data": [
            {"key": KEY_META, "value": key.to_string()},
            {"key": TILL_META, "value": sale.till_id},
            {"key": SOLD_AT_META, "value": format!("{sold_at}Z")},
            {"key": NUMBER_META, "value": sale.number},
        ],
    });
    // A guest order is one without a customer: 0 is WooCommerce's default.
    if customer_id > 0 {
        body["customer_id"] = json!(customer_id);
    }
    put_text(&mut body, "payment_method", &sale.payment_method);
    put_text(
        &mut body,
        "payment_method_title",
        &sale.payment_method_title,
    );
    put_text(&mut body, "customer_note", &sale.note);
    if let Some(billing) = sale.billing.as_ref().and_then(|b| address(b, true)) {
        body["billing"] = billing;
    }
    body
}

/// The `POST /orders/{id}/refunds` body for a return. The money moved at
/// the till, so no gateway refund; restocking is always said explicitly.
pub fn refund_body(key: Uuid, ret: &Return, lines: &BTreeMap<UpstreamId, UpstreamId>) -> Value {
    let items: Vec<Value> = ret
        .lines
        .iter()
        .filter_map(|l| {
            lines.get(&l.line_ref).map(|id| {
                json!({"id": id, "quantity": l.quantity, "refund_total": l.amount.to_string()})
            })
        })
        .collect();
    let mut body = json!({
        "amount": ret.amount.to_string(),
        "api_refund": false,
        "api_restock": ret.restock,
        "meta_data": [{"key": KEY_META, "value": key.to_string()}],
    });
    put_text(&mut body, "reason", &ret.reason);
    if !items.is_empty() {
        body["line_items"] = json!(items);
    }
    body
}

/// The customer body: only the fields the till set, and of those only the
/// ones with a value (an empty field is left as the shop has it).
pub fn customer_body(fields: &CustomerFields, key: Option<Uuid>) -> Value {
    let mut v = json!({});
    for (key, value) in [
        ("email", &fields.email),
        ("first_name", &fields.first_name),
        ("last_name", &fields.last_name),
    ] {
        if let Some(value) = value {
            put_text(&mut v, key, value);
        }
    }
    if let Some(b) = fields.billing.as_ref().and_then(|b| address(b, true)) {
        v["billing"] = b;
    }
    if let Some(s) = fields.shipping.as_ref().and_then(|s| address(s, false)) {
        v["shipping"] = s;
    }
    if let Some(k) = key {
        v["meta_data"] = json!([{"key": KEY_META, "value": k.to_string()}]);
    }
    v
}

/// Whether a listed object's `meta_data` carries `key`.
fn has_key(item: &Value, key: Uuid) -> bool {
    let key = key.to_string();
    item.get("meta_data")
        .and_then(Value::as_array)
        .is_some_and(|m| {
            m.iter().any(|e| {
                e.get("key").and_then(Value::as_str) == Some(KEY_META)
                    && e.get("value").and_then(Value::as_str) == Some(key.as_str())
            })
        })
}

fn stock_path(product_id: UpstreamId, variation_id: UpstreamId) -> String {
    if variation_id == 0 {
        format!("products/{product_id}")
    } else {
        format!("products/{product_id}/variations/{variation_id}")
    }
}

fn stock_level(body: &Value) -> StockLevel {
    StockLevel {
        quantity: body.get("stock_quantity").and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_f64().map(|f| f as i64))
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        }),
    }
}

/// The meta WooCommerce puts on a line item once it took stock for it.
const REDUCED_STOCK_META: &str = "_reduced_stock";

fn created_order(order: Order) -> CreatedOrder {
    let reduced_stock = order
        .line_items
        .iter()
        .map(|l| {
            l.meta
                .iter()
                .find(|m| m.key == REDUCED_STOCK_META)
                .and_then(|m| {
                    m.value
                        .as_i64()
                        .or_else(|| m.value.as_str().and_then(|s| s.trim().parse().ok()))
                })
        })
        .collect();
    CreatedOrder {
        order,
        reduced_stock,
    }
}

fn one<T>(list: Vec<T>, what: &str) -> Result<T, UpstreamError> {
    list.into_iter()
        .next()
        .ok_or_else(|| UpstreamError::Malformed {
            detail: format!("the shop answered no {what}"),
            snippet: String::new(),
        })
}

impl WooClient {
    /// Whether the API keys may write, found without writing anything: a
    /// POST to a route that does not exist. WooCommerce checks a key's
    /// permissions in `rest_pre_dispatch`, before any route is matched
    /// (`WC_REST_Authentication::check_user_permissions`), so a read-only
    /// key gets 401 ("does not have write permissions") and a read/write
    /// key 404 `rest_no_route`.
    pub async fn can_write(&self) -> Result<bool, UpstreamError> {
        match self
            .send(Method::POST, "possync-doctor-write-check", &json!({}))
            .await
        {
            Ok(_) => Ok(true),
            Err(f) => match f.error {
                UpstreamError::NotFound { .. } => Ok(true),
                UpstreamError::Auth { .. } => Ok(false),
                e => Err(e),
            },
        }
    }

    /// One write, never retried here. Says whether a failure may have been
    /// applied by the shop.
    pub(super) async fn send(
        &self,
        method: Method,
        path: &str,
        body: &Value,
    ) -> Result<Value, WriteFailure> {
        self.send_with_query(method, path, &[], body).await
    }

    /// [`WooClient::send`] with a query string (signed with the request).
    pub(super) async fn send_with_query(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: &Value,
    ) -> Result<Value, WriteFailure> {
        let request = self.authorized(method, path, query).json(body);
        let slot = self.limiter().acquire().await;
        self.count_request();
        let started = std::time::Instant::now();
        let out = self.write_answer(slot, request).await;
        metrics::record_upstream(
            UpstreamKind::Write,
            started.elapsed(),
            out.as_ref().err().map(|f| &f.error),
        );
        out
    }

    /// [`WooClient::send_with_query`] once the limiter let the request go.
    async fn write_answer(
        &self,
        slot: crate::sync::limit::Slot<'_>,
        request: reqwest::RequestBuilder,
    ) -> Result<Value, WriteFailure> {
        let sent = request.send().await;
        // The answer's head is what tells the shop's load here.
        slot.finish(super::client::load_signal(
            sent.as_ref().map(reqwest::Response::status),
        ));
        let response = sent.map_err(|e| {
            // A refused connection, an unknown name or a refused certificate
            // sent nothing; anything later may have reached the shop.
            let connect = e.is_connect();
            let error = classify::transport(e);
            let maybe_applied = !connect && !error.never_sent();
            self.note::<()>(&Err(error.clone()));
            WriteFailure {
                error,
                maybe_applied,
            }
        })?;
        self.contact_answered();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(|e| WriteFailure {
            error: classify::transport(e),
            maybe_applied: true,
        })?;
        if !status.is_success() {
            let error = classify::status_error(status.as_u16(), &headers, &bytes);
            // A rate limiter answers before the shop; other transient answers
            // (5xx pages, gateway timeouts) may come after it committed.
            let maybe_applied = error.is_transient() && status.as_u16() != 429;
            return Err(WriteFailure {
                error,
                maybe_applied,
            });
        }
        classify::json_body(&bytes).map_err(|error| WriteFailure {
            error,
            maybe_applied: true,
        })
    }

    /// Walks a list (`_fields=id,meta_data`) for the item carrying `key`.
    async fn scan_for_key(
        &self,
        path: &str,
        extra: &[(&str, String)],
        key: Uuid,
    ) -> Result<Option<UpstreamId>, UpstreamError> {
        let mut page = 1u32;
        loop {
            let mut params = vec![
                ("_fields", "id,meta_data".to_owned()),
                ("per_page", LOOKUP_PAGE.to_string()),
                ("page", page.to_string()),
                ("orderby", "id".to_owned()),
                ("order", "asc".to_owned()),
            ];
            params.extend(extra.iter().cloned());
            let answer = self.get(path, &q(&params)).await?;
            let Value::Array(items) = &answer.body else {
                return Err(UpstreamError::Malformed {
                    detail: format!("expected a list from {path}"),
                    snippet: classify::snippet(answer.body.to_string().as_bytes()),
                });
            };
            if let Some(found) = items.iter().find(|i| has_key(i, key)) {
                return Ok(found.get("id").and_then(Value::as_i64));
            }
            let last = answer.info.total_pages.unwrap_or(1);
            if items.is_empty() || page >= last {
                return Ok(None);
            }
            if page >= LOOKUP_MAX_PAGES {
                return Err(UpstreamError::Transient {
                    reason: format!(
                        "looking up key {key}: more than {LOOKUP_MAX_PAGES} pages of {path}"
                    ),
                    retry_after: None,
                });
            }
            page += 1;
        }
    }
}

impl UpstreamWrites for WooClient {
    async fn ping(&self) -> Result<(), UpstreamError> {
        self.get(
            "orders",
            &q(&[("per_page", "1".into()), ("_fields", "id".into())]),
        )
        .await
        .map(|_| ())
    }

    async fn create_order(
        &self,
        key: Uuid,
        sale: &Sale,
        customer_id: UpstreamId,
    ) -> Result<CreatedOrder, WriteFailure> {
        let body = self
            .send(Method::POST, "orders", &order_body(key, sale, customer_id))
            .await?;
        wire::orders(Value::Array(vec![body]))
            .and_then(|o| one(o, "order"))
            .map(created_order)
            .map_err(|error| WriteFailure {
                error,
                maybe_applied: true,
            })
    }

    /// WooCommerce finds a new order by its meta at once: a miss is final.
    fn order_search_lag_left(&self, _since: GmtTime) -> std::time::Duration {
        std::time::Duration::ZERO
    }

    async fn find_order(
        &self,
        key: Uuid,
        since: GmtTime,
    ) -> Result<Option<CreatedOrder>, UpstreamError> {
        let extra = [
            ("after", since.to_string()),
            ("dates_are_gmt", "true".to_owned()),
        ];
        let Some(id) = self.scan_for_key("orders", &extra, key).await? else {
            return Ok(None);
        };
        let answer = self.get(&format!("orders/{id}"), &[]).await?;
        Ok(Some(created_order(one(
            wire::orders(Value::Array(vec![answer.body]))?,
            "order",
        )?)))
    }

    async fn create_refund(
        &self,
        key: Uuid,
        order_id: UpstreamId,
        ret: &Return,
        lines: &BTreeMap<UpstreamId, UpstreamId>,
    ) -> Result<Refund, WriteFailure> {
        let path = format!("orders/{order_id}/refunds");
        let body = self
            .send(Method::POST, &path, &refund_body(key, ret, lines))
            .await?;
        wire::refunds(Value::Array(vec![body]), Some(order_id))
            .and_then(|r| one(r, "refund"))
            .map_err(|error| WriteFailure {
                error,
                maybe_applied: true,
            })
    }

    async fn find_refund(
        &self,
        key: Uuid,
        order_id: UpstreamId,
    ) -> Result<Option<Refund>, UpstreamError> {
        let path = format!("orders/{order_id}/refunds");
        let Some(id) = self.scan_for_key(&path, &[], key).await? else {
            return Ok(None);
        };
        let answer = self.get(&format!("{path}/{id}"), &[]).await?;
        Ok(Some(one(
            wire::refunds(Value::Array(vec![answer.body]), Some(order_id))?,
            "refund",
        )?))
    }

    async fn set_order_status(
        &self,
        order_id: UpstreamId,
        status: &str,
    ) -> Result<Order, WriteFailure> {
        let body = self
            .send(
                Method::PUT,
                &format!("orders/{order_id}"),
                &json!({"status": status}),
            )
            .await?;
        wire::orders(Value::Array(vec![body]))
            .and_then(|o| one(o, "order"))
            .map_err(|error| WriteFailure {
                error,
                maybe_applied: true,
            })
    }

    async fn create_customer(
        &self,
        key: Uuid,
        fields: &CustomerFields,
    ) -> Result<Customer, WriteFailure> {
        let body = self
            .send(Method::POST, "customers", &customer_body(fields, Some(key)))
            .await?;
        wire::customers(Value::Array(vec![body]))
            .and_then(|c| one(c, "customer"))
            .map_err(|error| WriteFailure {
                error,
                maybe_applied: true,
            })
    }

    async fn find_customer_by_email(
        &self,
        email: &str,
    ) -> Result<Option<UpstreamId>, UpstreamError> {
        let answer = self
            .get(
                "customers",
                &q(&[
                    ("email", email.to_owned()),
                    ("role", "all".into()),
                    ("_fields", "id,email".into()),
                ]),
            )
            .await?;
        Ok(answer.body.as_array().and_then(|items| {
            items
                .iter()
                .find_map(|i| i.get("id").and_then(Value::as_i64))
        }))
    }

    async fn update_customer(
        &self,
        id: UpstreamId,
        fields: &CustomerFields,
    ) -> Result<(), WriteFailure> {
        self.send(
            Method::PUT,
            &format!("customers/{id}"),
            &customer_body(fields, None),
        )
        .await
        .map(|_| ())
    }

    async fn stock(
        &self,
        product_id: UpstreamId,
        variation_id: UpstreamId,
    ) -> Result<StockLevel, UpstreamError> {
        let answer = self
            .get(
                &stock_path(product_id, variation_id),
                &q(&[("_fields", "id,stock_quantity".into())]),
            )
            .await?;
        Ok(stock_level(&answer.body))
    }

    async fn set_stock(
        &self,
        product_id: UpstreamId,
        variation_id: UpstreamId,
        quantity: i64,
    ) -> Result<StockLevel, WriteFailure> {
        let body = self
            .send(
                Method::PUT,
                &stock_path(product_id, variation_id),
                &json!({"manage_stock": true, "stock_quantity": quantity}),
            )
            .await?;
        Ok(stock_level(&body))
    }
}

#[cfg(test)]
#[path = "writes_tests.rs"]
mod tests;
