//! REST writes: `POST`, `PUT`/`PATCH` and `DELETE` on the CRUD routes and
//! their `batch` siblings. Handlers here read and check arguments, call
//! `mutate` for the state change and `render` for the answer; they never
//! build JSON shapes themselves.
//!
//! Parameters are merged the way `WP_REST_Request` reads `$request['x']`:
//! the JSON body wins over form fields, which win over the query string.

mod batch;
mod customers;
mod orders;
mod products;
pub(crate) mod schema;
pub(crate) mod webhooks;

use serde_json::{Map, Value};

use super::ApiError;
use super::params::PhpValue;
use crate::woo::mutate::Tx;
use crate::woo::mutate::input::value_bool;
use crate::woo::render::Ctx;

pub(crate) use customers::{customer_item, customers_batch, customers_collection};
pub(crate) use orders::{
    order_item, orders_batch, orders_collection, refund_item, refunds_collection,
};
pub(crate) use products::{
    product_item, products_batch, products_collection, variation_item, variations_batch,
    variations_collection,
};
pub(crate) use webhooks::{
    get_webhook, list_webhooks, webhook_item, webhooks_batch, webhooks_collection,
};

/// A write handler: one route, every write method.
pub(crate) type WriteHandler = fn(&mut WriteCall<'_, '_>) -> Result<WriteOut, ApiError>;

/// What a write handler sees.
pub(crate) struct WriteCall<'a, 's> {
    pub tx: Tx<'s>,
    pub ctx: Ctx<'a>,
    /// `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: &'a str,
    pub path: Vec<&'a str>,
    /// Body and query parameters, merged.
    pub input: Map<String, Value>,
}

impl WriteCall<'_, '_> {
    pub(crate) fn id(&self, i: usize) -> i64 {
        self.path.get(i).and_then(|s| s.parse().ok()).unwrap_or(0)
    }

    pub(crate) fn is_delete(&self) -> bool {
        self.method == "DELETE"
    }

    /// `(bool) $request['force']`.
    pub(crate) fn force(&self) -> bool {
        self.input.get("force").is_some_and(value_bool)
    }

    /// The store for rendering (after the change).
    pub(crate) fn store(&self) -> &crate::woo::model::Store {
        self.tx.store
    }
}

/// A write's answer.
pub(crate) struct WriteOut {
    pub status: u16,
    pub body: Value,
    /// `Location` of a created object.
    pub location: Option<String>,
}

impl WriteOut {
    pub(crate) fn ok(body: Value) -> Self {
        Self {
            status: 200,
            body,
            location: None,
        }
    }

    pub(crate) fn created(body: Value, location: String) -> Self {
        Self {
            status: 201,
            body,
            location: Some(location),
        }
    }
}

fn php_to_json(v: &PhpValue) -> Value {
    match v {
        PhpValue::Str(s) => Value::String(s.clone()),
        PhpValue::Arr(items) => Value::Object(
            items
                .iter()
                .map(|(k, v)| (k.clone(), php_to_json(v)))
                .collect(),
        ),
    }
}

/// `$request->get_params()`: JSON body over `$_POST` over `$_GET`.
pub(crate) fn merge_params(
    query: &[(String, PhpValue)],
    form: &[(String, PhpValue)],
    json: Option<&Value>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in query.iter().chain(form) {
        out.insert(k.clone(), php_to_json(v));
    }
    if let Some(Value::Object(body)) = json {
        for (k, v) in body {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}
