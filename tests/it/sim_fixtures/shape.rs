//! Loading captures and comparing JSON shapes: per path, the field names,
//! their JSON types and their order.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/woocommerce/rest")
        .join(name)
}

pub fn load(name: &str) -> Value {
    let path = fixture_path(&format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `(status, headers)` of a capture, header names lower-cased.
pub fn load_headers(name: &str) -> (u16, Vec<(String, String)>) {
    let v = load(&format!("{name}.headers"));
    let status = v["status"].as_u64().expect("status") as u16;
    let headers = v["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .map(|h| {
            (
                h[0].as_str().unwrap().to_lowercase(),
                h[1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (status, headers)
}

pub fn items(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        other => vec![other],
    }
}

pub fn captured(names: &[&str]) -> Vec<Value> {
    names.iter().flat_map(|n| items(load(n))).collect()
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() || n.is_u64() => "int",
        Value::Number(_) => "float",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Per JSON path: the types seen, and the key order of objects.
#[derive(Default)]
struct Shape {
    types: BTreeMap<String, BTreeSet<&'static str>>,
    order: BTreeMap<String, Vec<String>>,
}

impl Shape {
    /// `maps` are paths of objects used as dictionaries (option lists):
    /// their keys are collapsed to `*`.
    fn of(samples: &[Value], maps: &[&str]) -> Self {
        let mut s = Shape::default();
        for v in samples {
            s.collect(v, String::new(), maps);
        }
        s
    }

    fn collect(&mut self, v: &Value, path: String, maps: &[&str]) {
        self.types
            .entry(path.clone())
            .or_default()
            .insert(type_name(v));
        match v {
            Value::Object(m) => {
                let is_map = maps.contains(&path.as_str());
                let order = self.order.entry(path.clone()).or_default();
                let mut prev: Option<usize> = None;
                for k in m.keys() {
                    let key = if is_map { "*".to_owned() } else { k.clone() };
                    match order.iter().position(|o| *o == key) {
                        Some(i) => prev = Some(i),
                        None => {
                            let at = prev.map_or(0, |p| p + 1);
                            order.insert(at, key);
                            prev = Some(at);
                        }
                    }
                }
                for (k, x) in m {
                    let key = if is_map { "*" } else { k.as_str() };
                    self.collect(x, format!("{path}.{key}"), maps);
                }
            }
            Value::Array(a) => {
                for x in a {
                    self.collect(x, format!("{path}[]"), maps);
                }
            }
            _ => {}
        }
    }
}

/// Checks the sim's objects have the captured field names (both ways),
/// JSON types (each sim type among the captured ones) and field order.
/// `extra` lists `(path, type)` the sim may show although no capture did
/// (arrays that were always empty in the captures), each with its reason.
pub fn assert_same_shape(
    what: &str,
    captured: &[Value],
    sim: &[Value],
    maps: &[&str],
    extra: &[(&str, &str)],
) {
    assert!(!captured.is_empty(), "{what}: no captured samples");
    assert!(!sim.is_empty(), "{what}: no sim samples");
    let cap = Shape::of(captured, maps);
    let got = Shape::of(sim, maps);
    let mut problems = Vec::new();
    for (path, types) in &got.types {
        for t in types {
            let known = cap.types.get(path).is_some_and(|c| c.contains(t));
            if !known && !extra.contains(&(path.as_str(), *t)) {
                problems.push(format!(
                    "sim has {path} as {t}; captures: {:?}",
                    cap.types.get(path)
                ));
            }
        }
    }
    for path in cap.types.keys() {
        if !got.types.contains_key(path) {
            problems.push(format!("captured {path} never appears in the sim"));
        }
    }
    for (path, sim_order) in &got.order {
        let Some(cap_order) = cap.order.get(path) else {
            continue;
        };
        let positions: Vec<usize> = sim_order
            .iter()
            .filter_map(|k| cap_order.iter().position(|c| c == k))
            .collect();
        if positions.windows(2).any(|w| w[0] > w[1]) {
            problems.push(format!(
                "field order at {path:?}: sim {sim_order:?} vs captured {cap_order:?}"
            ));
        }
    }
    assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
}
