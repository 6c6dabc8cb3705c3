//! `POST .../batch`: `WC_REST_Controller::batch_items`. Creates, then
//! updates, then deletes (always forced), one by one and
//! non-transactionally: a failing item leaves the others done and answers
//! `{"id": ..., "error": {...}}` in its place, so clients match by position.
//! Items skip schema validation, as WooCommerce calls the item handlers
//! directly.

use serde_json::{Map, Value, json};

use super::{WriteCall, WriteOut};
use crate::woo::mutate::input::value_int;
use crate::woo::routes::ApiError;

/// `woocommerce_rest_batch_items_limit`.
pub(crate) const BATCH_LIMIT: usize = 100;

type Create = fn(&mut WriteCall<'_, '_>, &Map<String, Value>) -> Result<Value, ApiError>;
type Update = fn(&mut WriteCall<'_, '_>, i64, &Map<String, Value>) -> Result<Value, ApiError>;
type Delete = fn(&mut WriteCall<'_, '_>, i64) -> Result<Value, ApiError>;

/// What one resource does per batch item.
pub(crate) struct BatchOps {
    pub create: Create,
    pub update: Update,
    pub delete: Delete,
}

fn items<'v>(input: &'v Map<String, Value>, key: &str) -> Vec<&'v Value> {
    match input.get(key) {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(Value::Object(m)) => m.values().collect(),
        _ => vec![],
    }
}

fn failed(id: i64, e: &ApiError) -> Value {
    json!({ "id": id, "error": { "code": e.code, "message": e.message, "data": *e.data } })
}

pub(crate) fn run(c: &mut WriteCall<'_, '_>, ops: &BatchOps) -> Result<WriteOut, ApiError> {
    let input = c.input.clone();
    let (creates, updates, deletes) = (
        items(&input, "create"),
        items(&input, "update"),
        items(&input, "delete"),
    );
    if creates.len() + updates.len() + deletes.len() > BATCH_LIMIT {
        return Err(ApiError::new(
            413,
            "woocommerce_rest_request_entity_too_large",
            format!("Unable to accept more than {BATCH_LIMIT} items for this request."),
        ));
    }
    let mut out = Map::new();
    let empty = Map::new();
    if !creates.is_empty() {
        let results = creates
            .into_iter()
            .map(|item| {
                let item = item.as_object().unwrap_or(&empty);
                (ops.create)(c, item).unwrap_or_else(|e| failed(0, &e))
            })
            .collect();
        out.insert("create".to_owned(), Value::Array(results));
    }
    if !updates.is_empty() {
        let results = updates
            .into_iter()
            .map(|item| {
                let item = item.as_object().unwrap_or(&empty);
                let id = item.get("id").and_then(value_int).unwrap_or(0);
                (ops.update)(c, id, item).unwrap_or_else(|e| failed(id, &e))
            })
            .collect();
        out.insert("update".to_owned(), Value::Array(results));
    }
    if !deletes.is_empty() {
        let results = deletes
            .into_iter()
            .map(|item| {
                let id = match item {
                    Value::Object(m) => m.get("id").and_then(value_int),
                    other => value_int(other),
                }
                .unwrap_or(0);
                (ops.delete)(c, id).unwrap_or_else(|e| failed(id, &e))
            })
            .collect();
        out.insert("delete".to_owned(), Value::Array(results));
    }
    Ok(WriteOut::ok(Value::Object(out)))
}
