//! Reading a request's parameters the way WooCommerce's controllers do:
//! `isset( $request['x'] )` (a JSON `null` counts as absent), PHP's loose
//! conversions for values that skipped schema validation (batch items do),
//! and `meta_data` updates.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::woo::model::{Ids, Meta};

/// The parameters of one object to create or update.
#[derive(Clone, Copy)]
pub(crate) struct Input<'a>(pub &'a Map<String, Value>);

impl<'a> Input<'a> {
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// A string (numbers and booleans as PHP prints them).
    pub(crate) fn str(&self, key: &str) -> Option<String> {
        self.get(key).and_then(scalar_string)
    }

    pub(crate) fn int(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(value_int)
    }

    /// `wc_string_to_bool` / `rest_sanitize_boolean`.
    pub(crate) fn bool(&self, key: &str) -> Option<bool> {
        self.get(key).map(value_bool)
    }

    /// A price: `""` clears it (`Some(None)`), anything unparsable too.
    pub(crate) fn price(&self, key: &str) -> Option<Option<Decimal>> {
        self.str(key).map(|s| parse_decimal(&s))
    }

    pub(crate) fn object(&self, key: &str) -> Option<&'a Map<String, Value>> {
        self.get(key).and_then(Value::as_object)
    }

    /// An array of objects (other entries skipped).
    pub(crate) fn objects(&self, key: &str) -> Vec<&'a Map<String, Value>> {
        match self.get(key) {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
            Some(Value::Object(m)) => m.values().filter_map(Value::as_object).collect(),
            _ => vec![],
        }
    }

    /// Ids from `[{id: 1}, ...]` (categories, tags).
    pub(crate) fn id_refs(&self, key: &str) -> Option<Vec<i64>> {
        self.get(key)?;
        Some(
            self.objects(key)
                .into_iter()
                .filter_map(|o| Input(o).int("id"))
                .collect(),
        )
    }
}

pub(crate) fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(true) => Some("1".to_owned()),
        Value::Bool(false) => Some(String::new()),
        _ => None,
    }
}

pub(crate) fn value_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.trunc() as i64)),
        Value::String(s) => Some(crate::woo::routes::params::php_intval(s)),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

pub(crate) fn value_bool(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => matches!(s.to_ascii_lowercase().as_str(), "1" | "true" | "yes"),
        Value::Null => false,
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// `wc_format_decimal` of a posted amount; `None` for `""` or garbage.
pub(crate) fn parse_decimal(s: &str) -> Option<Decimal> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    Decimal::from_str(t).ok()
}

/// `update_meta_data( key, value, id )` for each posted entry: an entry
/// with a known `id` is updated in place, else the first entry with the
/// key, else it is added. A `null` value deletes the key.
pub(crate) fn apply_meta(meta: &mut Vec<Meta>, ids: &mut i64, posted: &[&Map<String, Value>]) {
    for m in posted {
        let m = Input(m);
        let Some(key) = m.str("key") else { continue };
        let value = m.0.get("value").cloned().unwrap_or(Value::Null);
        if value.is_null() {
            meta.retain(|x| x.key != key);
            continue;
        }
        let slot = match m.int("id") {
            Some(id) => meta.iter_mut().find(|x| x.id == id),
            None => meta.iter_mut().find(|x| x.key == key),
        };
        match slot {
            Some(x) => {
                x.key = key;
                x.value = value;
            }
            None => meta.push(Meta {
                id: Ids::next(ids),
                key,
                value,
            }),
        }
    }
}
