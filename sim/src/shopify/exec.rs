//! Execution of a validated document over the store's JSON nodes, by
//! apollo-compiler's executor: each object resolves a field by its name
//! from the node's JSON (`data.rs`), so one resolver serves every type.
//! Connections (`first/after/last/before/query/sortKey/reverse`) are cut
//! here, with opaque cursors shaped like Shopify's (base64 of
//! `{"last_id":…,"last_value":…}`).

use std::cmp::Ordering;

use apollo_compiler::resolvers::{FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::response::{JsonMap, JsonValue};
use apollo_compiler::schema::{ExtendedType, Type};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize as _;
use serde_json::{Value, json};

use super::data::{Store, gid_number};

/// Largest page Shopify serves (`first`/`last` above it is an error).
pub const MAX_PAGE: i64 = 250;

fn err(message: impl Into<String>) -> FieldError {
    FieldError {
        message: message.into(),
    }
}

/// serde_json → apollo's JSON value.
pub fn to_apollo(v: &Value) -> JsonValue {
    JsonValue::deserialize(v.clone()).unwrap_or(JsonValue::Null)
}

/// apollo's JSON value → serde_json.
pub fn from_apollo(v: &JsonValue) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// One object during execution: the query root, a stored node, an object
/// embedded in a node, or a connection page.
pub enum Obj<'s> {
    Root(&'s Store),
    Json {
        store: &'s Store,
        type_name: String,
        value: Value,
    },
    Connection {
        store: &'s Store,
        type_name: String,
        page: Page,
    },
}

pub struct Page {
    pub items: Vec<(String, Value)>,
    pub has_next: bool,
    pub has_previous: bool,
}

impl ObjectValue for Obj<'_> {
    fn type_name(&self) -> &str {
        match self {
            Obj::Root(_) => "QueryRoot",
            Obj::Json { type_name, .. } | Obj::Connection { type_name, .. } => type_name,
        }
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        match self {
            Obj::Root(store) => resolve_root(store, info),
            Obj::Json {
                store,
                type_name,
                value,
            } => resolve_json(store, type_name, value, info),
            Obj::Connection {
                store,
                type_name,
                page,
            } => resolve_connection(store, type_name, page, info),
        }
    }
}

fn arg<'a>(info: &'a ResolveInfo<'a>, name: &str) -> Option<Value> {
    info.arguments()
        .get(name)
        .map(from_apollo)
        .filter(|v| !v.is_null())
}

/// Root fields that list a type, and the type.
const ROOT_LISTS: &[(&str, &str)] = &[
    ("products", "Product"),
    ("productVariants", "ProductVariant"),
    ("inventoryItems", "InventoryItem"),
    ("collections", "Collection"),
    ("customers", "Customer"),
    ("orders", "Order"),
    ("locations", "Location"),
];

/// Root fields that fetch one node by `id`, and the type it must be.
const ROOT_ONE: &[(&str, &str)] = &[
    ("product", "Product"),
    ("productVariant", "ProductVariant"),
    ("inventoryItem", "InventoryItem"),
    ("inventoryLevel", "InventoryLevel"),
    ("collection", "Collection"),
    ("customer", "Customer"),
    ("order", "Order"),
    ("location", "Location"),
    ("refund", "Refund"),
];

fn resolve_root<'a>(
    store: &'a Store,
    info: &'a ResolveInfo<'a>,
) -> Result<ResolvedValue<'a>, FieldError> {
    let name = info.field_name();
    if name == "shop" {
        return Ok(ResolvedValue::object(Obj::Json {
            store,
            type_name: "Shop".into(),
            value: store.shop.clone(),
        }));
    }
    if let Some((_, ty)) = ROOT_LISTS.iter().find(|(f, _)| *f == name) {
        let items: Vec<&Value> = store
            .list(ty)
            .iter()
            .filter_map(|g| store.node(g))
            .collect();
        let conn_type = info.field_definition().ty.inner_named_type().to_string();
        return connection(store, conn_type, items, info, true);
    }
    if let Some((_, ty)) = ROOT_ONE.iter().find(|(f, _)| *f == name) {
        let id = arg(info, "id");
        let node = id
            .as_ref()
            .and_then(Value::as_str)
            .and_then(|g| store.node(g))
            .filter(|n| n["__typename"] == *ty);
        return Ok(node_value(store, node));
    }
    if name == "node" {
        let id = arg(info, "id");
        let node = id
            .as_ref()
            .and_then(Value::as_str)
            .and_then(|g| store.node(g));
        return Ok(node_value(store, node));
    }
    Err(err(format!(
        "the simulated store does not model QueryRoot.{name}"
    )))
}

fn node_value<'a>(store: &'a Store, node: Option<&Value>) -> ResolvedValue<'a> {
    match node {
        Some(n) => ResolvedValue::object(Obj::Json {
            store,
            type_name: n["__typename"].as_str().unwrap_or_default().to_owned(),
            value: n.clone(),
        }),
        None => ResolvedValue::null(),
    }
}

fn resolve_json<'a>(
    store: &'a Store,
    type_name: &str,
    value: &'a Value,
    info: &'a ResolveInfo<'a>,
) -> Result<ResolvedValue<'a>, FieldError> {
    let name = info.field_name();
    let def = info.field_definition();
    // Field with arguments that pick among the node's data.
    match (type_name, name) {
        ("InventoryLevel", "quantities") => {
            let by_name = &value["quantities"]["__quantities"];
            let names = arg(info, "names").unwrap_or(json!([]));
            let updated = value["updatedAt"].clone();
            let list: Vec<Value> = names
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter_map(|n| {
                    by_name.get(n).map(|q| {
                        json!({"id": format!("{}&name={n}", value["id"].as_str().unwrap_or("")),
                               "name": n, "quantity": q, "updatedAt": updated})
                    })
                })
                .collect();
            return Ok(ResolvedValue::list(list.into_iter().map(move |q| {
                ResolvedValue::object(Obj::Json {
                    store,
                    type_name: "InventoryQuantity".into(),
                    value: q,
                })
            })));
        }
        ("InventoryItem", "inventoryLevel") => {
            let location = arg(info, "locationId");
            let level = value["inventoryLevels"]["__conn"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter_map(|g| store.node(g))
                .find(|l| Some(&l["location"]["__ref"]) == location.as_ref());
            return Ok(node_value(store, level));
        }
        _ => {}
    }
    let Some(v) = value.get(name) else {
        return Err(err(format!(
            "the simulated store does not model {type_name}.{name}"
        )));
    };
    if let Some(gids) = v.get("__conn").and_then(Value::as_array) {
        let items: Vec<&Value> = gids
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|g| store.node(g))
            .collect();
        let conn_type = def.ty.inner_named_type().to_string();
        return connection(store, conn_type, items, info, false);
    }
    let first = arg(info, "first").and_then(|f| f.as_u64());
    Ok(resolve_value(store, v, &def.ty, info, first))
}

fn is_object_type(info: &ResolveInfo<'_>, name: &str) -> bool {
    matches!(
        info.schema().types.get(name),
        Some(ExtendedType::Object(_) | ExtendedType::Interface(_) | ExtendedType::Union(_))
    )
}

fn resolve_value<'a>(
    store: &'a Store,
    v: &Value,
    ty: &'a Type,
    info: &'a ResolveInfo<'a>,
    first: Option<u64>,
) -> ResolvedValue<'a> {
    if v.is_null() {
        return ResolvedValue::null();
    }
    if let (Type::List(item) | Type::NonNullList(item), Value::Array(items)) = (ty, v) {
        let take = first.map_or(items.len(), |n| n as usize);
        let items: Vec<Value> = items.iter().take(take).cloned().collect();
        return ResolvedValue::list(
            items
                .into_iter()
                .map(move |i| resolve_value(store, &i, item, info, None)),
        );
    }
    let named = ty.inner_named_type();
    if is_object_type(info, named) {
        if let Some(g) = v.get("__ref").and_then(Value::as_str) {
            return node_value(store, store.node(g));
        }
        let type_name = v
            .get("__typename")
            .and_then(Value::as_str)
            .unwrap_or(named.as_str())
            .to_owned();
        return ResolvedValue::object(Obj::Json {
            store,
            type_name,
            value: v.clone(),
        });
    }
    ResolvedValue::leaf(to_apollo(v))
}

/// A sort position: the sort key's value, then the id.
#[derive(Debug, Clone, PartialEq)]
enum SortValue {
    Int(i64),
    Text(String),
}

impl SortValue {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (SortValue::Int(a), SortValue::Int(b)) => a.cmp(b),
            (SortValue::Text(a), SortValue::Text(b)) => a.cmp(b),
            (SortValue::Int(_), SortValue::Text(_)) => Ordering::Less,
            (SortValue::Text(_), SortValue::Int(_)) => Ordering::Greater,
        }
    }

    fn json(&self) -> Value {
        match self {
            SortValue::Int(i) => json!(i),
            SortValue::Text(s) => json!(s),
        }
    }
}

fn millis(v: &Value) -> i64 {
    v.as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map_or(0, |d| d.timestamp_millis())
}

fn sort_value(node: &Value, key: &str) -> SortValue {
    let id = node["id"].as_str().and_then(gid_number).unwrap_or(0) as i64;
    match key {
        "UPDATED_AT" => SortValue::Int(millis(&node["updatedAt"])),
        "CREATED_AT" => SortValue::Int(millis(&node["createdAt"])),
        "PROCESSED_AT" => SortValue::Int(millis(&node["processedAt"])),
        "TITLE" | "NAME" => SortValue::Text(
            node.get("title")
                .or_else(|| node.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_lowercase(),
        ),
        _ => SortValue::Int(id),
    }
}

fn cursor(node: &Value, key: &str) -> String {
    let id = node["id"].as_str().and_then(gid_number).unwrap_or(0);
    let c = json!({"last_id": id, "last_value": sort_value(node, key).json()});
    B64.encode(c.to_string())
}

fn parse_cursor(c: &str) -> Result<(i64, SortValue), FieldError> {
    let bad = || err("Invalid cursor for current pagination sort.");
    let bytes = B64.decode(c).map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let id = v["last_id"].as_i64().ok_or_else(bad)?;
    let value = match &v["last_value"] {
        Value::Number(n) => SortValue::Int(n.as_i64().ok_or_else(bad)?),
        Value::String(s) => SortValue::Text(s.clone()),
        _ => return Err(bad()),
    };
    Ok((id, value))
}

fn connection<'a>(
    store: &'a Store,
    type_name: String,
    mut items: Vec<&Value>,
    info: &'a ResolveInfo<'a>,
    searchable: bool,
) -> Result<ResolvedValue<'a>, FieldError> {
    let first = arg(info, "first").and_then(|v| v.as_i64());
    let last = arg(info, "last").and_then(|v| v.as_i64());
    let n = match (first, last) {
        (Some(n), None) | (None, Some(n)) => n,
        (None, None) => return Err(err("you must provide one of first or last")),
        (Some(_), Some(_)) => return Err(err("providing both first and last is not supported")),
    };
    if n > MAX_PAGE {
        return Err(err(format!(
            "The {} argument cannot exceed {MAX_PAGE}.",
            if first.is_some() { "first" } else { "last" }
        )));
    }
    let n = n.max(0) as usize;
    if let Some(q) = arg(info, "query").as_ref().and_then(Value::as_str)
        && searchable
    {
        let terms = super::search::parse(q);
        items.retain(|node| super::search::matches(node, &terms));
    }
    let key = arg(info, "sortKey")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "ID".into());
    let reverse = arg(info, "reverse")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let position = |node: &Value| {
        let id = node["id"].as_str().and_then(gid_number).unwrap_or(0) as i64;
        (sort_value(node, &key), id)
    };
    let order = |a: &(SortValue, i64), b: &(SortValue, i64)| {
        let o = a.0.cmp(&b.0).then(a.1.cmp(&b.1));
        if reverse { o.reverse() } else { o }
    };
    items.sort_by(|a, b| order(&position(a), &position(b)));
    // The window: after/before by position, so a cursor outlives its node.
    let mut lo = 0;
    let mut hi = items.len();
    if let Some(after) = arg(info, "after").as_ref().and_then(Value::as_str) {
        let (id, value) = parse_cursor(after)?;
        let at = (value, id);
        lo = items.partition_point(|n| order(&position(n), &at) != Ordering::Greater);
    }
    if let Some(before) = arg(info, "before").as_ref().and_then(Value::as_str) {
        let (id, value) = parse_cursor(before)?;
        let at = (value, id);
        hi = items.partition_point(|n| order(&position(n), &at) == Ordering::Less);
    }
    let hi = hi.max(lo);
    let (start, end) = if last.is_some() {
        (hi.saturating_sub(n).max(lo), hi)
    } else {
        (lo, (lo + n).min(hi))
    };
    let page = Page {
        items: items[start..end]
            .iter()
            .map(|node| (cursor(node, &key), (*node).clone()))
            .collect(),
        has_next: end < items.len(),
        has_previous: start > 0,
    };
    Ok(ResolvedValue::object(Obj::Connection {
        store,
        type_name,
        page,
    }))
}

fn resolve_connection<'a>(
    store: &'a Store,
    type_name: &str,
    page: &'a Page,
    info: &'a ResolveInfo<'a>,
) -> Result<ResolvedValue<'a>, FieldError> {
    let node_obj = |v: &Value| Obj::Json {
        store,
        type_name: v["__typename"].as_str().unwrap_or_default().to_owned(),
        value: v.clone(),
    };
    match info.field_name() {
        "nodes" => Ok(ResolvedValue::list(
            page.items
                .iter()
                .map(move |(_, v)| ResolvedValue::object(node_obj(v))),
        )),
        "edges" => {
            let edge_type = info.field_definition().ty.inner_named_type().to_string();
            Ok(ResolvedValue::list(page.items.iter().map(move |(c, v)| {
                ResolvedValue::object(Obj::Json {
                    store,
                    type_name: edge_type.clone(),
                    value: json!({"cursor": c, "node": {"__ref": v["id"]}}),
                })
            })))
        }
        "pageInfo" => Ok(ResolvedValue::object(Obj::Json {
            store,
            type_name: "PageInfo".into(),
            value: json!({
                "hasNextPage": page.has_next,
                "hasPreviousPage": page.has_previous,
                "startCursor": page.items.first().map(|(c, _)| c.clone()),
                "endCursor": page.items.last().map(|(c, _)| c.clone()),
            }),
        })),
        other => Err(err(format!(
            "the simulated store does not model {type_name}.{other}"
        ))),
    }
}

/// Variables as apollo's executor takes them.
pub fn variables(v: &Value) -> JsonMap {
    match to_apollo(v) {
        JsonValue::Object(map) => map,
        _ => JsonMap::new(),
    }
}
