//! What tests (and benchmarks) may ask of a running sim beyond HTTP: the
//! rendered state of one object, lookups the REST API cannot do (orders by
//! meta value), changes made the way the admin screens would make them,
//! webhook subscriptions and their deliveries, and a canonical dump.
//!
//! Every change goes through the same `mutate` code as REST writes, stamps
//! the store's clock (offset included) and queues the same webhooks.

use std::fmt;

use serde_json::Value;

use super::model::{Store, WebhookStatus};
use super::render::{self, Ctx};
use super::routes::{HttpRequest, respond};
use super::{DeliveryRecord, SimHandle, WebhookFaults, lock, mutate};

/// A resource family, for [`SimHandle::snapshot_json`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimResource {
    /// Parent products (not variations), trash included.
    Products,
    /// Every variation of every product, trash included.
    Variations,
    /// Users with the `customer` role.
    Customers,
    /// Every order, trash included.
    Orders,
    /// Every refund, in the flat `/refunds` shape (with `parent_id`).
    Refunds,
    /// Webhook subscriptions.
    Webhooks,
}

/// A refused in-process call: the status and WooCommerce error body.
#[derive(Debug, Clone, PartialEq)]
pub struct SimError {
    pub status: u16,
    pub body: Value,
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the simulated store answered {}: {}",
            self.status, self.body
        )
    }
}

impl std::error::Error for SimError {}

impl SimHandle {
    fn render<R>(&self, f: impl FnOnce(&Ctx<'_>, &Store) -> R) -> R {
        let shop = &self.inner.shop;
        let ctx = Ctx {
            home: &shop.home,
            now: shop.clock.now(),
        };
        self.read(|s| f(&ctx, s))
    }

    /// Any REST call, in process: no HTTP, no OAuth, no faults, no
    /// latency, but the same routes, checks, changes, answers and webhooks
    /// as over the wire. `route` is under `wc/v3/` and may carry a query
    /// (`"products/12?force=true"`); `body` is the JSON body (`Null` for
    /// none). Returns the status and the decoded body.
    pub fn call(&self, method: &str, route: &str, body: Value) -> (u16, Value) {
        let (path, query) = route.split_once('?').unwrap_or((route, ""));
        let raw_path = format!("/wp-json/wc/v3/{}", path.trim_start_matches('/'));
        let reply = respond(
            &self.inner.shop,
            &HttpRequest {
                method,
                raw_path: &raw_path,
                raw_query: query,
                authorization: None,
                form: Vec::new(),
                json: (!body.is_null()).then_some(Ok(body)),
                trusted: true,
            },
        );
        let value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        (reply.status, value)
    }

    fn call_ok(&self, method: &str, route: &str, body: Value) -> Result<Value, SimError> {
        match self.call(method, route, body) {
            (status, body) if (200..300).contains(&status) => Ok(body),
            (status, body) => Err(SimError { status, body }),
        }
    }

    /// A product as `GET /products/{id}` answers it (`context=view`);
    /// `None` for variations and unknown ids.
    pub fn product(&self, id: i64) -> Option<Value> {
        self.render(|ctx, s| s.products.get(&id).map(|p| render::product(ctx, s, p)))
    }

    /// A variation as `GET /products/{parent}/variations/{id}` answers it.
    pub fn variation(&self, id: i64) -> Option<Value> {
        self.render(|ctx, s| s.variations.get(&id).map(|v| render::variation(ctx, s, v)))
    }

    /// An order as `GET /orders/{id}` answers it.
    pub fn order(&self, id: i64) -> Option<Value> {
        self.render(|ctx, s| s.orders.get(&id).map(|o| render::order(ctx, s, o)))
    }

    /// A customer as `GET /customers/{id}` answers it.
    pub fn customer(&self, id: i64) -> Option<Value> {
        self.render(|ctx, s| s.customers.get(&id).map(|c| render::customer(ctx, c)))
    }

    /// A refund as `GET /orders/{order}/refunds/{id}` answers it.
    pub fn refund(&self, id: i64) -> Option<Value> {
        self.render(|ctx, s| s.refunds.get(&id).map(|r| render::refund(ctx, s, r, false)))
    }

    /// `stock_quantity` of a product or variation (`None` when unknown or
    /// not managing stock).
    pub fn product_stock(&self, id: i64) -> Option<i64> {
        self.read(|s| match (s.products.get(&id), s.variations.get(&id)) {
            (Some(p), _) => p.stock.quantity,
            (None, Some(v)) => v.stock.quantity,
            _ => None,
        })
    }

    /// Ids of orders (trash included) with a `meta_data` entry `key` equal
    /// to `value` — a lookup WooCommerce's REST API cannot do.
    pub fn order_ids_with_meta(&self, key: &str, value: impl Into<Value>) -> Vec<i64> {
        let value = value.into();
        self.read(|s| {
            s.orders
                .values()
                .filter(|o| o.meta.iter().any(|m| m.key == key && m.value == value))
                .map(|o| o.id)
                .collect()
        })
    }

    /// `(order id, value)` of every order carrying meta `key`, by id.
    pub fn orders_with_meta(&self, key: &str) -> Vec<(i64, Value)> {
        self.read(|s| {
            s.orders
                .values()
                .flat_map(|o| {
                    o.meta
                        .iter()
                        .filter(|m| m.key == key)
                        .map(|m| (o.id, m.value.clone()))
                })
                .collect()
        })
    }

    /// The customer registered with `email` (case-insensitive).
    pub fn customer_id_by_email(&self, email: &str) -> Option<i64> {
        self.read(|s| {
            s.customers
                .values()
                .find(|c| c.email.eq_ignore_ascii_case(email))
                .map(|c| c.id)
        })
    }

    /// A customer, as `POST /customers` would create it.
    pub fn create_customer(&self, email: &str, first: &str, last: &str) -> Result<i64, SimError> {
        let body = serde_json::json!({ "email": email, "first_name": first, "last_name": last });
        self.call_ok("POST", "customers", body)
            .map(|v| v["id"].as_i64().unwrap_or(0))
    }

    /// Applies `patch` as `PUT /products/{id}` (a product or, by id, a
    /// variation) and returns the answer.
    pub fn update_product(&self, id: i64, patch: Value) -> Result<Value, SimError> {
        match self.read(|s| s.variations.get(&id).map(|v| v.parent_id)) {
            Some(parent) => {
                self.call_ok("PUT", &format!("products/{parent}/variations/{id}"), patch)
            }
            None => self.call_ok("PUT", &format!("products/{id}"), patch),
        }
    }

    /// The admin's "Restore" of a trashed product (status and slug back,
    /// variations back, `product.restored`). False unless it was trashed.
    pub fn restore_product(&self, id: i64) -> bool {
        self.write(|tx| mutate::restore_product(tx, id))
    }

    /// Deletes a customer for good (`customer.deleted` fires).
    pub fn delete_customer(&self, id: i64) -> bool {
        self.write(|tx| mutate::delete_customer(tx, id).is_ok())
    }

    /// Deletes an order and its refunds for good (no order webhook).
    pub fn delete_order(&self, id: i64) -> bool {
        self.write(|tx| mutate::delete_order(tx, id).is_ok())
    }

    /// Moves an order to the trash (`order.deleted` fires).
    pub fn trash_order(&self, id: i64) -> bool {
        self.write(|tx| mutate::trash_order(tx, id).is_ok())
    }

    /// The canonical state of a resource family: every object, all
    /// statuses included, ascending by id, each exactly as `GET` of that
    /// one object answers with `context=view` at the store's clock now.
    /// A replica that mirrors the store should hold the same objects with
    /// the same field values. Note that `total_sales` moves without a
    /// `date_modified` change on a real store too (a direct meta write).
    pub fn snapshot_json(&self, resource: SimResource) -> Vec<Value> {
        self.render(|ctx, s| match resource {
            SimResource::Products => s
                .products
                .values()
                .map(|p| render::product(ctx, s, p))
                .collect(),
            SimResource::Variations => s
                .variations
                .values()
                .map(|v| render::variation(ctx, s, v))
                .collect(),
            SimResource::Customers => s
                .customers
                .values()
                .filter(|c| c.role == "customer")
                .map(|c| render::customer(ctx, c))
                .collect(),
            SimResource::Orders => s
                .orders
                .values()
                .map(|o| render::order(ctx, s, o))
                .collect(),
            SimResource::Refunds => s
                .refunds
                .values()
                .map(|r| render::refund(ctx, s, r, true))
                .collect(),
            SimResource::Webhooks => s
                .webhooks
                .values()
                .map(|w| render::webhook(ctx, w))
                .collect(),
        })
    }

    /// Subscribes `delivery_url` to `topic`, as `POST /webhooks` does
    /// (the ping is queued). Returns the webhook id.
    pub fn create_webhook(
        &self,
        topic: &str,
        delivery_url: &str,
        secret: &str,
    ) -> Result<i64, SimError> {
        let body = serde_json::json!({
            "name": format!("possync {topic}"),
            "topic": topic,
            "delivery_url": delivery_url,
            "secret": secret,
        });
        self.call_ok("POST", "webhooks", body)
            .map(|v| v["id"].as_i64().unwrap_or(0))
    }

    /// A webhook's status (`active`, `paused`, `disabled`).
    pub fn webhook_status(&self, id: i64) -> Option<String> {
        self.read(|s| s.webhooks.get(&id).map(|w| w.status.as_str().to_owned()))
    }

    /// Sets a webhook's status, as an administrator would.
    pub fn set_webhook_status(&self, id: i64, status: &str) -> bool {
        let Some(status) = WebhookStatus::parse(status) else {
            return false;
        };
        self.write(|tx| match tx.store.webhooks.get_mut(&id) {
            Some(w) => {
                w.status = status;
                w.modified = Some(tx.now);
                true
            }
            None => false,
        })
    }

    /// Consecutive failed deliveries of a webhook.
    pub fn webhook_failure_count(&self, id: i64) -> Option<u32> {
        self.read(|s| s.webhooks.get(&id).map(|w| w.failure_count))
    }

    /// Loss, duplication, delay and reordering of deliveries from now on.
    pub fn set_webhook_faults(&self, faults: WebhookFaults) {
        self.inner.shop.hooks.set_faults(faults);
    }

    /// Every delivery made (or dropped) so far, in the order they ended.
    pub fn deliveries(&self) -> Vec<DeliveryRecord> {
        self.inner.shop.hooks.records()
    }

    pub fn clear_deliveries(&self) {
        self.inner.shop.hooks.clear_records();
    }

    /// Resolves once no delivery is queued or in flight (delayed ones
    /// included). Deliveries queued later are not waited for.
    pub async fn deliveries_settled(&self) {
        self.inner.shop.hooks.settled().await;
    }

    /// Requests recorded so far whose method is `method`, e.g. `POST`.
    pub fn requests_with_method(&self, method: &str) -> Vec<super::RecordedRequest> {
        lock(&self.inner.requests)
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method))
            .cloned()
            .collect()
    }
}
