//! Execution of a validated document over the store's JSON nodes, by
//! apollo-compiler's executor: each object resolves a field by its name
//! from the node's JSON (`data.rs`), so one resolver serves every type.
//! Connections (`first/after/last/before/query/sortKey/reverse`) are cut
//! here, with opaque cursors shaped like Shopify's (base64 of
//! `{"last_id":…,"last_value":…}`).

use std::cmp::Ordering;
use std::collections::HashMap;

use apollo_compiler::resolvers::{FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::response::{JsonMap, JsonValue};
use apollo_compiler::schema::{ExtendedType, Type};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize as _;
use serde_json::{Value, json};

use super::bulk::BulkOps;
use super::data::{Store, gid_number};
use super::mutations::Applied;
use super::schema::ApiVersion;

/// What every object resolves against: the store, and whether this is a
/// bulk operation's run (connections unbounded, no `first` needed).
#[derive(Clone, Copy)]
pub struct Cx<'s> {
    pub store: &'s Store,
    pub bulk: bool,
    /// Bulk operations (absent while a bulk operation runs its query).
    pub ops: Option<&'s BulkOps>,
    pub version: ApiVersion,
    /// Seconds since the epoch, for timestamps written now.
    pub now: i64,
    /// The root mutation fields already applied, by response key.
    pub applied: Option<&'s HashMap<String, Applied>>,
    /// Webhook subscriptions (absent while a bulk operation runs its query).
    pub hooks: Option<&'s super::webhooks::Hooks>,
}

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
    Root(Cx<'s>),
    MutationRoot(Cx<'s>),
    Json {
        cx: Cx<'s>,
        type_name: String,
        value: Value,
    },
    Connection {
        cx: Cx<'s>,
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
            Obj::MutationRoot(_) => "Mutation",
            Obj::Json { type_name, .. } | Obj::Connection { type_name, .. } => type_name,
        }
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        match self {
            Obj::Root(cx) => resolve_root(*cx, info),
            Obj::MutationRoot(cx) => resolve_mutation(*cx, info),
            Obj::Json {
                cx,
                type_name,
                value,
            } => resolve_json(*cx, type_name, value, info),
            Obj::Connection {
                cx,
                type_name,
                page,
            } => resolve_connection(*cx, type_name, page, info),
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
    // Products deleted through `ShopifySim::delete_product`.
    ("deletionEvents", "DeletionEvent"),
];

/// Root fields that count a type (`Count`), and the type.
const ROOT_COUNTS: &[(&str, &str)] = &[
    ("productsCount", "Product"),
    ("productVariantsCount", "ProductVariant"),
    ("collectionsCount", "Collection"),
    ("customersCount", "Customer"),
    ("ordersCount", "Order"),
];

/// The schema's default `limit` of a count.
const COUNT_LIMIT: u64 = 10_000;

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
    cx: Cx<'a>,
    info: &'a ResolveInfo<'a>,
) -> Result<ResolvedValue<'a>, FieldError> {
    let name = info.field_name();
    if name == "shop" {
        return Ok(ResolvedValue::object(Obj::Json {
            cx,
            type_name: "Shop".into(),
            value: cx.store.shop.clone(),
        }));
    }
    if let Some((_, ty)) = ROOT_LISTS.iter().find(|(f, _)| *f == name) {
        let items: Vec<&Value> = cx
            .store
            .list(ty)
            .iter()
            .filter_map(|g| cx.store.node(g))
            .collect();
        let conn_type = info.field_definition().ty.inner_named_type().to_string();
        return connection(cx, conn_type, items, info, true);
    }
    if let Some((_, ty)) = ROOT_COUNTS.iter().find(|(f, _)| *f == name) {
        let terms = arg(info, "query")
            .as_ref()
            .and_then(Value::as_str)
            .map(super::search::parse);
        let n = cx
            .store
            .list(ty)
            .iter()
            .filter_map(|g| cx.store.node(g))
            .filter(|node| {
                terms
                    .as_ref()
                    .is_none_or(|t| super::search::matches(node, t))
            })
            .count() as u64;
        // `limit: null` counts everything; past the limit the count stops
        // there and says it is a lower bound.
        let limit = match info.arguments().get("limit") {
            Some(v) if v.is_null() => None,
            Some(v) => from_apollo(v).as_u64(),
            None => Some(COUNT_LIMIT),
        };
        let (count, precision) = match limit {
            Some(l) if n > l => (l, "AT_LEAST"),
            _ => (n, "EXACT"),
        };
        return Ok(ResolvedValue::object(Obj::Json {
            cx,
            type_name: "Count".into(),
            value: json!({ "count": count, "precision": precision }),
        }));
    }
    if let Some((_, ty)) = ROOT_ONE.iter().find(|(f, _)| *f == name) {
        let id = arg(info, "id");
        // `location` without an id is the shop's primary location (the
        // schema's own words); the first one generated is the primary.
        let id = match (name, id) {
            ("location", None) => cx.store.list(ty).first().map(|g| Value::String(g.clone())),
            (_, id) => id,
        };
        let node = id
            .as_ref()
            .and_then(Value::as_str)
            .and_then(|g| cx.store.node(g))
            .filter(|n| n["__typename"] == *ty);
        return Ok(node_value(cx, node));
    }
    if let Some(ops) = cx.ops {
        let op = match name {
            "bulkOperation" => arg(info, "id")
                .as_ref()
                .and_then(Value::as_str)
                .and_then(|id| ops.get(id)),
            "currentBulkOperation" => ops.current(),
            "node" => arg(info, "id")
                .as_ref()
                .and_then(Value::as_str)
                .filter(|id| id.starts_with("gid://shopify/BulkOperation/"))
                .and_then(|id| ops.get(id)),
            _ => None,
        };
        if let Some(op) = op {
            return Ok(ResolvedValue::object(Obj::Json {
                cx,
                type_name: "BulkOperation".into(),
                value: op,
            }));
        }
        if matches!(name, "bulkOperation" | "currentBulkOperation") {
            return Ok(ResolvedValue::null());
        }
    }
    if let Some(hooks) = cx.hooks {
        match name {
            "webhookSubscriptions" => {
                let nodes = hooks.nodes();
                let conn_type = info.field_definition().ty.inner_named_type().to_string();
                return connection(cx, conn_type, nodes.iter().collect(), info, false);
            }
            "webhookSubscription" => {
                let node = arg(info, "id")
                    .as_ref()
                    .and_then(Value::as_str)
                    .and_then(|id| hooks.get(id));
                return Ok(node_value(cx, node.as_ref()));
            }
            _ => {}
        }
    }
    if name == "node" {
        let id = arg(info, "id");
        let node = id
            .as_ref()
            .and_then(Value::as_str)
            .and_then(|g| cx.store.node(g));
        return Ok(node_value(cx, node));
    }
    Err(err(format!(
        "the simulated store does not model QueryRoot.{name}"
    )))
}

fn resolve_mutation<'a>(
    cx: Cx<'a>,
    info: &'a ResolveInfo<'a>,
) -> Result<ResolvedValue<'a>, FieldError> {
    let name = info.field_name();
    let key = info
        .field_selections()
        .first()
        .map_or(name, |f| f.response_key().as_str());
    if let Some(applied) = cx.applied.and_then(|a| a.get(key)) {
        return Ok(match applied {
            Applied::Payload(p) => ResolvedValue::object(Obj::Json {
                cx,
                type_name: info.field_definition().ty.inner_named_type().to_string(),
                value: p.clone(),
            }),
            Applied::Error(_) => ResolvedValue::null(),
        });
    }
    match (name, cx.ops) {
        ("bulkOperationRunQuery", Some(ops)) => {
            let query = arg(info, "query");
            let payload = ops.run(
                cx.store,
                cx.version,
                query.as_ref().and_then(Value::as_str).unwrap_or_default(),
                cx.now,
            );
            let type_name = info.field_definition().ty.inner_named_type().to_string();
            Ok(ResolvedValue::object(Obj::Json {
                cx,
                type_name,
                value: payload,
            }))
        }
        (
            "webhookSubscriptionCreate" | "webhookSubscriptionUpdate" | "webhookSubscriptionDelete",
            _,
        ) if cx.hooks.is_some() => {
            let hooks = cx.hooks.expect("checked above");
            let id = arg(info, "id");
            let id = id.as_ref().and_then(Value::as_str).unwrap_or_default();
            let input = arg(info, "webhookSubscription").unwrap_or(Value::Null);
            let payload = match name {
                "webhookSubscriptionCreate" => {
                    let topic = arg(info, "topic");
                    hooks.create(
                        topic.as_ref().and_then(Value::as_str).unwrap_or_default(),
                        &input,
                        cx.now,
                    )
                }
                "webhookSubscriptionUpdate" => hooks.update(id, &input, cx.now),
                _ => hooks.delete(id),
            };
            let type_name = info.field_definition().ty.inner_named_type().to_string();
            Ok(ResolvedValue::object(Obj::Json {
                cx,
                type_name,
                value: payload,
            }))
        }
        _ => Err(err(format!(
            "the simulated store does not model Mutation.{name}"
        ))),
    }
}

fn node_value<'a>(cx: Cx<'a>, node: Option<&Value>) -> ResolvedValue<'a> {
    match node {
        Some(n) => ResolvedValue::object(Obj::Json {
            cx,
            type_name: n["__typename"].as_str().unwrap_or_default().to_owned(),
            value: n.clone(),
        }),
        None => ResolvedValue::null(),
    }
}

fn resolve_json<'a>(
    cx: Cx<'a>,
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
                    cx,
                    type_name: "InventoryQuantity".into(),
                    value: q,
                })
            })));
        }
        // A metafield by namespace and key, from the node's `metafields`
        // (`{"namespace.key": {…}}`); none is null, as at Shopify.
        (_, "metafield") if value.get("metafields").is_some() => {
            let key = format!(
                "{}.{}",
                arg(info, "namespace")
                    .as_ref()
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
                arg(info, "key")
                    .as_ref()
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            );
            let field = value["metafields"].get(&key).cloned();
            return Ok(match field {
                Some(f) => ResolvedValue::object(Obj::Json {
                    cx,
                    type_name: "Metafield".into(),
                    value: f,
                }),
                None => ResolvedValue::null(),
            });
        }
        ("InventoryItem", "inventoryLevel") => {
            let location = arg(info, "locationId");
            let level = value["inventoryLevels"]["__conn"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter_map(|g| cx.store.node(g))
                .find(|l| Some(&l["location"]["__ref"]) == location.as_ref());
            return Ok(node_value(cx, level));
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
            .filter_map(|g| cx.store.node(g))
            .collect();
        let conn_type = def.ty.inner_named_type().to_string();
        return connection(cx, conn_type, items, info, false);
    }
    let first = arg(info, "first").and_then(|f| f.as_u64());
    Ok(resolve_value(cx, v, &def.ty, info, first))
}

fn is_object_type(info: &ResolveInfo<'_>, name: &str) -> bool {
    matches!(
        info.schema().types.get(name),
        Some(ExtendedType::Object(_) | ExtendedType::Interface(_) | ExtendedType::Union(_))
    )
}

fn resolve_value<'a>(
    cx: Cx<'a>,
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
                .map(move |i| resolve_value(cx, &i, item, info, None)),
        );
    }
    let named = ty.inner_named_type();
    if is_object_type(info, named) {
        if let Some(g) = v.get("__ref").and_then(Value::as_str) {
            return node_value(cx, cx.store.node(g));
        }
        let type_name = v
            .get("__typename")
            .and_then(Value::as_str)
            .unwrap_or(named.as_str())
            .to_owned();
        return ResolvedValue::object(Obj::Json {
            cx,
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
    cx: Cx<'a>,
    type_name: String,
    mut items: Vec<&Value>,
    info: &'a ResolveInfo<'a>,
    searchable: bool,
) -> Result<ResolvedValue<'a>, FieldError> {
    let first = arg(info, "first").and_then(|v| v.as_i64());
    let last = arg(info, "last").and_then(|v| v.as_i64());
    let n = match (first, last) {
        (Some(n), None) | (None, Some(n)) => n,
        // A bulk operation reads whole connections.
        (None, None) if cx.bulk => i64::MAX,
        (None, None) => return Err(err("you must provide one of first or last")),
        (Some(_), Some(_)) => return Err(err("providing both first and last is not supported")),
    };
    if n > MAX_PAGE && !cx.bulk {
        return Err(err(format!(
            "The {} argument cannot exceed {MAX_PAGE}.",
            if first.is_some() { "first" } else { "last" }
        )));
    }
    let n = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
    if let Some(q) = arg(info, "query").as_ref().and_then(Value::as_str)
        && searchable
    {
        let terms = super::search::parse(q);
        // A node written lately is not in the search index yet.
        let now_ms = chrono::Utc::now().timestamp_millis();
        items.retain(|node| {
            node["__indexedAt"].as_i64().is_none_or(|at| at <= now_ms)
                && super::search::matches(node, &terms)
        });
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
        (lo, lo.saturating_add(n).min(hi))
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
        cx,
        type_name,
        page,
    }))
}

fn resolve_connection<'a>(
    cx: Cx<'a>,
    type_name: &str,
    page: &'a Page,
    info: &'a ResolveInfo<'a>,
) -> Result<ResolvedValue<'a>, FieldError> {
    let node_obj = move |v: &Value| Obj::Json {
        cx,
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
                    cx,
                    type_name: edge_type.clone(),
                    value: json!({"cursor": c, "node": {"__ref": v["id"]}}),
                })
            })))
        }
        "pageInfo" => Ok(ResolvedValue::object(Obj::Json {
            cx,
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
