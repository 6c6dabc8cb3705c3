//! The writes a till makes, as Shopify defines them: `orderCreate`,
//! `orderClose`/`orderOpen`, `refundCreate`, `inventoryAdjustQuantities`,
//! `inventorySetQuantities`, `customerCreate` and `customerUpdate`.
//!
//! Each is applied to the store before the document is executed (so the
//! payload's selection reads the changed store), with the arguments as the
//! executor would coerce them. Errors follow the captures
//! (`tests/fixtures/shopify/graphql-errors/`): a missing `@idempotent`
//! directive (required from 2026-04 on refunds and inventory changes) or a
//! missing `changeFromQuantity` is a top-level error with the field null;
//! everything else is a `userErrors` entry.
//!
//! An `@idempotent(key:)` key seen before with the same arguments answers
//! the first result without applying anything; with other arguments it is
//! `IDEMPOTENCY_KEY_PARAMETER_MISMATCH`.
//!
//! A new order is invisible to `orders(query:)` for the configured search
//! lag (`__indexedAt`, milliseconds since the epoch), as Shopify's search
//! index trails its writes.

use std::collections::HashMap;

use apollo_compiler::ast;
use apollo_compiler::executable::{Operation, Selection};
use serde_json::{Map, Value, json};

use super::data::{Store, conn, datetime};
use super::schema::ApiVersion;

/// What one root mutation field came to.
pub enum Applied {
    /// The payload object (its objects as `{"__ref": gid}`).
    Payload(Value),
    /// A top-level error; the field answers null.
    Error(Value),
}

/// The mutations modelled here.
pub const MODELLED: &[&str] = &[
    "orderCreate",
    "fulfillmentCreate",
    "orderClose",
    "orderOpen",
    "refundCreate",
    "inventoryAdjustQuantities",
    "inventorySetQuantities",
    "customerCreate",
    "customerUpdate",
];

/// Mutations that take `@idempotent`, and require it from 2026-04.
const IDEMPOTENT: &[&str] = &[
    "refundCreate",
    "inventoryAdjustQuantities",
    "inventorySetQuantities",
];

/// A key's first use: which mutation, with which arguments, answered what.
#[derive(Debug, Clone)]
pub struct KeyUse {
    mutation: String,
    arguments: Value,
    answer: Value,
}

/// Writes' own state beside the nodes.
#[derive(Debug, Default)]
pub struct WriteState {
    pub keys: HashMap<String, KeyUse>,
    next_id: u64,
}

impl WriteState {
    /// A fresh id above every generated one.
    pub(super) fn id(&mut self) -> u64 {
        if self.next_id == 0 {
            self.next_id = 9_000_000_000_000;
        }
        self.next_id += 1;
        self.next_id
    }
}

/// The context a mutation runs in.
pub struct MutationCx<'a> {
    pub version: ApiVersion,
    /// Milliseconds since the epoch.
    pub now_ms: i64,
    pub search_lag_ms: i64,
    pub variables: &'a Map<String, Value>,
}

/// A document's root mutation fields applied in order: response key →
/// outcome. Fields not modelled here are left to the executor.
pub fn apply_all(
    store: &mut Store,
    state: &mut WriteState,
    op: &Operation,
    cx: &MutationCx<'_>,
) -> HashMap<String, Applied> {
    let mut out = HashMap::new();
    for sel in &op.selection_set.selections {
        let Selection::Field(field) = sel else {
            continue;
        };
        let name = field.name.as_str();
        if !MODELLED.contains(&name) {
            continue;
        }
        let mut args = Map::new();
        for a in &field.arguments {
            args.insert(a.name.to_string(), value(&a.value, cx.variables));
        }
        let args = Value::Object(args);
        let key = field
            .directives
            .get("idempotent")
            .and_then(|d| d.specified_argument_by_name("key"))
            .map(|v| value(v, cx.variables));
        let outcome = apply_one(store, state, name, &args, key, cx);
        out.insert(field.response_key().to_string(), outcome);
    }
    out
}

/// An argument's value, variables substituted.
fn value(v: &ast::Value, vars: &Map<String, Value>) -> Value {
    match v {
        ast::Value::Null => Value::Null,
        ast::Value::Enum(e) => json!(e.as_str()),
        ast::Value::Variable(n) => vars.get(n.as_str()).cloned().unwrap_or(Value::Null),
        ast::Value::String(s) => json!(s),
        ast::Value::Float(f) => f
            .try_to_f64()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        ast::Value::Int(i) => i.try_to_i32().map_or(Value::Null, |i| json!(i)),
        ast::Value::Boolean(b) => json!(b),
        ast::Value::List(items) => Value::Array(items.iter().map(|i| value(i, vars)).collect()),
        ast::Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), value(v, vars)))
                .collect(),
        ),
    }
}

fn top_error(message: &str, code: &str, field: &str) -> Applied {
    Applied::Error(json!({
        "message": message,
        "extensions": {"code": code},
        "path": [field],
    }))
}

fn user_error(field: Option<Vec<&str>>, message: &str, code: Option<&str>) -> Value {
    let mut e = json!({"field": field, "message": message});
    if let Some(c) = code {
        e["code"] = json!(c);
    }
    e
}

fn apply_one(
    store: &mut Store,
    state: &mut WriteState,
    name: &str,
    args: &Value,
    key: Option<Value>,
    cx: &MutationCx<'_>,
) -> Applied {
    let key = key.and_then(|k| k.as_str().map(str::to_owned));
    if IDEMPOTENT.contains(&name) {
        match &key {
            None if cx.version >= ApiVersion::V2026_04 => {
                return top_error(
                    "The @idempotent directive is required for this mutation but was not provided.",
                    "BAD_REQUEST",
                    name,
                );
            }
            Some(k) if k.trim().is_empty() => {
                return top_error(
                    "The idempotency key must not be empty.",
                    "BAD_REQUEST",
                    name,
                );
            }
            Some(k) => {
                if let Some(used) = state.keys.get(k) {
                    if used.mutation == name && used.arguments == *args {
                        return Applied::Payload(used.answer.clone());
                    }
                    let mismatch = user_error(
                        None,
                        "The same idempotency key cannot be used with different operation parameters.",
                        Some("IDEMPOTENCY_KEY_PARAMETER_MISMATCH"),
                    );
                    return Applied::Payload(empty_payload(name, mismatch));
                }
            }
            None => {}
        }
    }
    let outcome = match name {
        "orderCreate" => order_create(store, state, args, cx),
        "fulfillmentCreate" => fulfillment_create(store, state, args, cx),
        "orderClose" => order_close(store, args, cx, true),
        "orderOpen" => order_close(store, args, cx, false),
        "refundCreate" => refund_create(store, state, args, cx),
        "inventoryAdjustQuantities" => inventory_adjust(store, state, args, cx),
        "inventorySetQuantities" => inventory_set(store, state, args, cx),
        "customerCreate" => customer_create(store, state, args, cx),
        "customerUpdate" => customer_update(store, args, cx),
        _ => top_error("not modelled", "INTERNAL_SERVER_ERROR", name),
    };
    // Only an applied write is remembered: a refusal may be sent again.
    if let (Some(k), Applied::Payload(p)) = (key, &outcome)
        && p["userErrors"].as_array().is_some_and(Vec::is_empty)
    {
        state.keys.insert(
            k,
            KeyUse {
                mutation: name.to_owned(),
                arguments: args.clone(),
                answer: p.clone(),
            },
        );
    }
    outcome
}

/// A payload with nothing in it but `error`.
fn empty_payload(name: &str, error: Value) -> Value {
    let object = match name {
        "orderCreate" | "orderClose" | "orderOpen" => "order",
        "refundCreate" => "refund",
        "fulfillmentCreate" => "fulfillment",
        "inventoryAdjustQuantities" | "inventorySetQuantities" => "inventoryAdjustmentGroup",
        _ => "customer",
    };
    let mut p = json!({ "userErrors": [error] });
    p[object] = Value::Null;
    if name == "refundCreate" {
        p["order"] = Value::Null;
    }
    p
}

/// The user error of an inventory mutation whose `reason` is not one of
/// Shopify's, if it is not.
fn invalid_reason(input: &Value) -> Option<Value> {
    (!REASONS.contains(&input["reason"].as_str().unwrap_or_default())).then(|| {
        user_error(
            Some(vec!["input", "reason"]),
            &format!(
                "The specified reason is invalid. Valid values: {}.",
                REASONS.join(", ")
            ),
            Some("INVALID_REASON"),
        )
    })
}

fn refused(name: &str, error: Value) -> Applied {
    Applied::Payload(empty_payload(name, error))
}

/// Shopify's money string: "12.5", "12.0".
fn money_string(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.abs();
    let mut s = format!("{sign}{}.{:02}", c / 100, c % 100);
    while s.ends_with('0') && !s.ends_with(".0") {
        s.pop();
    }
    s
}

fn bag(cents: i64, currency: &str) -> Value {
    let m = json!({"amount": money_string(cents), "currencyCode": currency});
    json!({"shopMoney": m, "presentmentMoney": m})
}

/// A decimal string in cents (`"12.5"` → 1250).
fn cents(v: &Value) -> Option<i64> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    let negative = whole.starts_with('-');
    let whole: i64 = whole.trim_start_matches('-').parse().ok()?;
    let frac = format!("{frac:0<2}");
    let frac: i64 = frac.get(..2)?.parse().ok()?;
    let c = whole * 100 + frac;
    Some(if negative { -c } else { c })
}

fn amount_of(set: &Value) -> Option<i64> {
    cents(&set["shopMoney"]["amount"])
}

/// The level of `item` at `location`, if the item is stocked there.
fn level_gid(store: &Store, item: &str, location: &str) -> Option<String> {
    store.node(item)?["inventoryLevels"]["__conn"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find(|l| {
            store
                .node(l)
                .is_some_and(|n| n["location"]["__ref"] == location)
        })
        .map(str::to_owned)
}

fn quantity(store: &Store, level: &str, name: &str) -> i64 {
    store.node(level).map_or(0, |l| {
        l["quantities"]["__quantities"][name].as_i64().unwrap_or(0)
    })
}

/// Changes `name` (and `on_hand` with `available`) at a level by `delta`,
/// and the variant's and product's totals with it.
fn change_level(store: &mut Store, level: &str, name: &str, delta: i64, now: i64) {
    let Some(l) = store.nodes.get_mut(level) else {
        return;
    };
    let q = &mut l["quantities"]["__quantities"];
    q[name] = json!(q[name].as_i64().unwrap_or(0) + delta);
    if name == "available" {
        q["on_hand"] = json!(q["on_hand"].as_i64().unwrap_or(0) + delta);
    }
    l["updatedAt"] = json!(datetime(now));
    if name != "available" {
        return;
    }
    let item = l["item"]["__ref"].as_str().unwrap_or_default().to_owned();
    let variant = store
        .node(&item)
        .and_then(|i| i["variant"]["__ref"].as_str())
        .unwrap_or_default()
        .to_owned();
    let mut product = String::new();
    if let Some(v) = store.nodes.get_mut(&variant) {
        let q = v["inventoryQuantity"].as_i64().unwrap_or(0) + delta;
        v["inventoryQuantity"] = json!(q);
        v["availableForSale"] = json!(q > 0 || v["inventoryPolicy"] == "CONTINUE");
        product = v["product"]["__ref"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
    }
    if let Some(p) = store.nodes.get_mut(&product) {
        p["totalInventory"] = json!(p["totalInventory"].as_i64().unwrap_or(0) + delta);
    }
}

fn add_node(store: &mut Store, list: &'static str, node: Value) {
    let g = node["id"].as_str().unwrap_or_default().to_owned();
    store.lists.entry(list).or_default().push(g.clone());
    store.nodes.insert(g, node);
}

fn metafields(input: &Value) -> Value {
    let mut m = Map::new();
    for f in input.as_array().into_iter().flatten() {
        let (ns, key) = (
            f["namespace"].as_str().unwrap_or("custom"),
            f["key"].as_str().unwrap_or_default(),
        );
        m.insert(
            format!("{ns}.{key}"),
            json!({"namespace": ns, "key": key, "type": f["type"], "value": f["value"]}),
        );
    }
    Value::Object(m)
}

fn address(a: &Value) -> Value {
    if !a.is_object() {
        return Value::Null;
    }
    let s = |k: &str| a.get(k).cloned().unwrap_or(Value::Null);
    let name = format!(
        "{} {}",
        a["firstName"].as_str().unwrap_or_default(),
        a["lastName"].as_str().unwrap_or_default()
    );
    json!({
        "firstName": s("firstName"), "lastName": s("lastName"), "name": name.trim(),
        "company": s("company"), "address1": s("address1"), "address2": s("address2"),
        "city": s("city"), "province": s("provinceCode"), "provinceCode": s("provinceCode"),
        "zip": s("zip"), "country": s("countryCode"), "countryCodeV2": s("countryCode"),
        "phone": s("phone"),
    })
}

fn order_create(
    store: &mut Store,
    state: &mut WriteState,
    args: &Value,
    cx: &MutationCx<'_>,
) -> Applied {
    const NAME: &str = "orderCreate";
    let input = &args["order"];
    let options = &args["options"];
    let now = cx.now_ms / 1000;
    let currency = input["currency"]
        .as_str()
        .or_else(|| store.shop["currencyCode"].as_str())
        .unwrap_or("GBP")
        .to_owned();
    let lines = input["lineItems"].as_array().cloned().unwrap_or_default();
    if lines.is_empty() {
        return refused(
            NAME,
            user_error(
                Some(vec!["order", "lineItems"]),
                "Line items must have at least one line item",
                Some("INVALID"),
            ),
        );
    }
    if let Some(c) = input["customerId"].as_str()
        && store.node(c).is_none_or(|n| n["__typename"] != "Customer")
    {
        return refused(
            NAME,
            user_error(
                Some(vec!["order", "customerId"]),
                "Customer does not exist",
                Some("INVALID"),
            ),
        );
    }
    let fulfil_at = input["fulfillment"]["locationId"]
        .as_str()
        .map(str::to_owned);
    if let Some(l) = &fulfil_at
        && store.node(l).is_none_or(|n| n["__typename"] != "Location")
    {
        return refused(
            NAME,
            user_error(
                Some(vec!["order", "fulfillment", "locationId"]),
                "Location does not exist",
                Some("INVALID"),
            ),
        );
    }
    let behaviour = options["inventoryBehaviour"].as_str().unwrap_or("BYPASS");
    // Each line: its variant, and the level its stock is taken from.
    let mut resolved = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let index = i.to_string();
        let variant = l["variantId"].as_str().and_then(|v| store.node(v));
        let Some(variant) = variant.filter(|v| v["__typename"] == "ProductVariant") else {
            return refused(
                NAME,
                user_error(
                    Some(vec!["order", "lineItems", &index, "variantId"]),
                    "Variant does not exist",
                    Some("INVALID"),
                ),
            );
        };
        let qty = l["quantity"].as_i64().unwrap_or(0);
        if qty <= 0 {
            return refused(
                NAME,
                user_error(
                    Some(vec!["order", "lineItems", &index, "quantity"]),
                    "Quantity must be greater than 0",
                    Some("INVALID"),
                ),
            );
        }
        let item = variant["inventoryItem"]["__ref"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let tracked = store.node(&item).is_some_and(|i| i["tracked"] == true);
        let level = if !tracked || behaviour == "BYPASS" {
            None
        } else if let Some(loc) = &fulfil_at {
            level_gid(store, &item, loc)
        } else {
            // The shop's first location that stocks it.
            store
                .list("Location")
                .iter()
                .find_map(|loc| level_gid(store, &item, loc))
        };
        if behaviour == "DECREMENT_OBEYING_POLICY"
            && let Some(lv) = &level
            && variant["inventoryPolicy"] == "DENY"
            && quantity(store, lv, "available") < qty
        {
            return refused(
                NAME,
                user_error(
                    Some(vec!["order", "lineItems", &index]),
                    "Unable to reserve inventory",
                    Some("INVENTORY_CLAIM_FAILED"),
                ),
            );
        }
        let price = l["priceSet"]["shopMoney"]["amount"]
            .as_str()
            .map(|a| json!(a))
            .unwrap_or_else(|| variant["price"].clone());
        resolved.push((variant.clone(), qty, cents(&price).unwrap_or(0), level));
    }
    let order_number = state.id();
    let order_gid = format!("gid://shopify/Order/{order_number}");
    let mut line_refs = Vec::new();
    let mut total = 0;
    for (variant, qty, unit, level) in &resolved {
        let lid = state.id();
        let lg = format!("gid://shopify/LineItem/{lid}");
        let product = variant["product"]["__ref"].as_str().unwrap_or_default();
        let ptitle = store
            .node(product)
            .and_then(|p| p["title"].as_str())
            .unwrap_or_default()
            .to_owned();
        let vtitle = variant["title"].as_str().unwrap_or_default();
        total += unit * qty;
        // Line items are nodes, not a root list.
        store.nodes.insert(
            lg.clone(),
            json!({
                "__typename": "LineItem", "id": lg,
                "name": if vtitle == "Default Title" { ptitle.clone() } else { format!("{ptitle} - {vtitle}") },
                "title": ptitle, "variantTitle": if vtitle == "Default Title" { Value::Null } else { json!(vtitle) },
                "sku": variant["sku"], "quantity": qty, "currentQuantity": qty,
                "originalUnitPriceSet": bag(*unit, &currency),
                "originalTotalSet": bag(unit * qty, &currency),
                "discountedTotalSet": bag(unit * qty, &currency),
                "taxLines": [], "customAttributes": [],
                "product": {"__ref": product}, "variant": {"__ref": variant["id"]},
            }),
        );
        line_refs.push(json!(lg));
        if let Some(lv) = level {
            change_level(store, lv, "available", -qty, now);
        }
    }
    let mut transactions = Vec::new();
    let mut gateways = Vec::new();
    let mut paid = 0;
    for t in input["transactions"].as_array().into_iter().flatten() {
        let amount = amount_of(&t["amountSet"]).unwrap_or(0);
        let kind = t["kind"].as_str().unwrap_or("SALE");
        let status = t["status"].as_str().unwrap_or("SUCCESS");
        let gateway = t["gateway"].as_str().unwrap_or("manual").to_owned();
        if status == "SUCCESS" && matches!(kind, "SALE" | "CAPTURE") {
            paid += amount;
        }
        if !gateways.contains(&gateway) {
            gateways.push(gateway.clone());
        }
        let tg = format!("gid://shopify/OrderTransaction/{}", state.id());
        store.nodes.insert(
            tg.clone(),
            json!({
                "__typename": "OrderTransaction", "id": tg,
                "kind": kind, "status": status, "gateway": gateway,
                "amountSet": bag(amount, &currency),
                "processedAt": t["processedAt"].as_str().map_or_else(|| datetime(now), str::to_owned),
                "parentTransaction": null,
            }),
        );
        transactions.push(json!({"__ref": tg}));
    }
    let financial = match input["financialStatus"].as_str() {
        Some(s) => s.to_owned(),
        None if paid >= total && paid > 0 => "PAID".to_owned(),
        None if paid > 0 => "PARTIALLY_PAID".to_owned(),
        None => "PENDING".to_owned(),
    };
    let processed = input["processedAt"]
        .as_str()
        .map_or_else(|| datetime(now), str::to_owned);
    let name = input["name"].as_str().map_or_else(
        || format!("#{}", 1001 + store.list("Order").len()),
        str::to_owned,
    );
    let billing = address(&input["billingAddress"]);
    // The order's one fulfillment order, at the location it takes stock
    // from: closed when the order was fulfilled as it was made, open (to
    // be fulfilled later) otherwise.
    let assigned = fulfil_at
        .clone()
        .or_else(|| {
            resolved
                .iter()
                .find_map(|(_, _, _, level)| level.as_ref())
                .and_then(|lv| store.node(lv))
                .and_then(|lv| lv["location"]["__ref"].as_str().map(str::to_owned))
        })
        .or_else(|| store.list("Location").first().cloned());
    let fo = format!("gid://shopify/FulfillmentOrder/{}", state.id());
    store.nodes.insert(
        fo.clone(),
        json!({
            "__typename": "FulfillmentOrder", "id": fo,
            "status": if fulfil_at.is_some() { "CLOSED" } else { "OPEN" },
            "requestStatus": "UNSUBMITTED",
            "createdAt": datetime(now), "updatedAt": datetime(now),
            "orderId": order_gid, "orderName": input["name"],
            "assignedLocation": {"location": assigned.map_or(Value::Null, |l| json!({"__ref": l}))},
            "lineItems": {"__conn": line_refs.clone()},
        }),
    );
    add_node(
        store,
        "Order",
        json!({
            "__typename": "Order", "id": order_gid, "legacyResourceId": order_number.to_string(),
            "name": name, "email": input["email"],
            "createdAt": datetime(now), "updatedAt": datetime(now), "processedAt": processed,
            "cancelledAt": null, "closed": false, "closedAt": null,
            "taxesIncluded": input["taxesIncluded"].as_bool().unwrap_or(false),
            "note": input["note"], "paymentGatewayNames": gateways,
            "billingAddress": billing, "shippingAddress": address(&input["shippingAddress"]),
            "totalDiscountsSet": bag(0, &currency), "totalShippingPriceSet": bag(0, &currency),
            "metafields": metafields(&input["metafields"]),
            "sourceIdentifier": input["sourceIdentifier"], "sourceName": input["sourceName"].as_str().unwrap_or("api"),
            "currencyCode": currency, "displayFinancialStatus": financial,
            "displayFulfillmentStatus": if fulfil_at.is_some() { "FULFILLED" } else { "UNFULFILLED" },
            "tags": input["tags"].as_array().cloned().unwrap_or_default(), "test": false,
            "totalPriceSet": bag(total, &currency), "currentTotalPriceSet": bag(total, &currency),
            "subtotalPriceSet": bag(total, &currency), "totalTaxSet": bag(0, &currency),
            "totalRefundedSet": bag(0, &currency),
            "customer": input["customerId"].as_str().map_or(Value::Null, |c| json!({"__ref": c})),
            "lineItems": {"__conn": line_refs}, "refunds": [], "transactions": transactions,
            "fulfillmentOrders": {"__conn": [fo]}, "fulfillments": [],
            "risk": {"recommendation": "NONE", "assessments": []},
            "__indexedAt": cx.now_ms + cx.search_lag_ms,
        }),
    );
    Applied::Payload(json!({"order": {"__ref": order_gid}, "userErrors": []}))
}

/// `fulfillmentCreate`: every line of each named fulfillment order handed
/// over (the sim fulfils whole fulfillment orders, as the client asks); the
/// order is FULFILLED once none of its fulfillment orders is open. Stock
/// was taken when the order was made, so levels do not move here.
fn fulfillment_create(
    store: &mut Store,
    state: &mut WriteState,
    args: &Value,
    cx: &MutationCx<'_>,
) -> Applied {
    const NAME: &str = "fulfillmentCreate";
    let now = datetime(cx.now_ms / 1000);
    let wanted = args["fulfillment"]["lineItemsByFulfillmentOrder"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if wanted.is_empty() {
        return refused(
            NAME,
            user_error(
                Some(vec!["fulfillment", "lineItemsByFulfillmentOrder"]),
                "Line items by fulfillment order can't be blank",
                None,
            ),
        );
    }
    let mut ids = Vec::new();
    for (i, w) in wanted.iter().enumerate() {
        let id = w["fulfillmentOrderId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let index = i.to_string();
        let field = Some(vec![
            "fulfillment",
            "lineItemsByFulfillmentOrder",
            &index,
            "fulfillmentOrderId",
        ]);
        let Some(fo) = store
            .node(&id)
            .filter(|n| n["__typename"] == "FulfillmentOrder")
        else {
            return refused(
                NAME,
                user_error(field, "Fulfillment order does not exist.", None),
            );
        };
        let status = fo["status"].as_str().unwrap_or_default();
        if !matches!(status, "OPEN" | "IN_PROGRESS") {
            return refused(
                NAME,
                user_error(
                    field,
                    &format!(
                        "Fulfillment order {} has an unfulfillable status= {}.",
                        id.rsplit('/').next().unwrap_or_default(),
                        status.to_ascii_lowercase()
                    ),
                    None,
                ),
            );
        }
        ids.push(id);
    }
    let fulfillment = format!("gid://shopify/Fulfillment/{}", state.id());
    let mut orders = Vec::new();
    for id in &ids {
        if let Some(fo) = store.nodes.get_mut(id) {
            fo["status"] = json!("CLOSED");
            fo["updatedAt"] = json!(now);
            orders.push(fo["orderId"].as_str().unwrap_or_default().to_owned());
        }
    }
    store.nodes.insert(
        fulfillment.clone(),
        json!({
            "__typename": "Fulfillment", "id": fulfillment, "status": "SUCCESS",
            "createdAt": now, "updatedAt": now, "name": fulfillment.rsplit('/').next(),
        }),
    );
    for order in orders {
        let open = store.node(&order).is_some_and(|o| {
            conn(o, "fulfillmentOrders")
                .iter()
                .filter_map(|f| store.node(f))
                .any(|f| matches!(f["status"].as_str(), Some("OPEN" | "IN_PROGRESS")))
        });
        if let Some(o) = store.nodes.get_mut(&order) {
            if !open {
                o["displayFulfillmentStatus"] = json!("FULFILLED");
            }
            if let Some(list) = o["fulfillments"].as_array_mut() {
                list.push(json!({"__ref": fulfillment}));
            }
            o["updatedAt"] = json!(now);
        }
    }
    Applied::Payload(json!({"fulfillment": {"__ref": fulfillment}, "userErrors": []}))
}

fn order_close(store: &mut Store, args: &Value, cx: &MutationCx<'_>, close: bool) -> Applied {
    let name = if close { "orderClose" } else { "orderOpen" };
    let id = args["input"]["id"].as_str().unwrap_or_default().to_owned();
    let now = datetime(cx.now_ms / 1000);
    match store
        .nodes
        .get_mut(&id)
        .filter(|o| o["__typename"] == "Order")
    {
        Some(o) => {
            o["closed"] = json!(close);
            o["closedAt"] = if close { json!(now) } else { Value::Null };
            o["updatedAt"] = json!(now);
            Applied::Payload(json!({"order": {"__ref": id}, "userErrors": []}))
        }
        None => refused(
            name,
            user_error(Some(vec!["id"]), "Order does not exist", None),
        ),
    }
}

fn refund_create(
    store: &mut Store,
    state: &mut WriteState,
    args: &Value,
    cx: &MutationCx<'_>,
) -> Applied {
    const NAME: &str = "refundCreate";
    let input = &args["input"];
    let now = cx.now_ms / 1000;
    let order_id = input["orderId"].as_str().unwrap_or_default().to_owned();
    let Some(order) = store
        .node(&order_id)
        .filter(|o| o["__typename"] == "Order")
        .cloned()
    else {
        return refused(
            NAME,
            user_error(Some(vec!["orderId"]), "Order does not exist", None),
        );
    };
    let currency = order["currencyCode"].as_str().unwrap_or("GBP").to_owned();
    let order_lines: Vec<String> = order["lineItems"]["__conn"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l.as_str().map(str::to_owned))
        .collect();
    // Check every line before changing anything.
    let mut lines = Vec::new();
    for (i, l) in input["refundLineItems"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let index = i.to_string();
        let line_id = l["lineItemId"].as_str().unwrap_or_default().to_owned();
        if !order_lines.contains(&line_id) {
            return refused(
                NAME,
                user_error(
                    Some(vec!["refundLineItems", &index, "lineItemId"]),
                    "Line item does not exist on this order",
                    None,
                ),
            );
        }
        let qty = l["quantity"].as_i64().unwrap_or(0);
        let left = store
            .node(&line_id)
            .and_then(|n| n["currentQuantity"].as_i64())
            .unwrap_or(0);
        if qty <= 0 || qty > left {
            return refused(
                NAME,
                user_error(
                    Some(vec!["refundLineItems", &index, "quantity"]),
                    &format!("Quantity cannot refund more items than were purchased ({left} left)"),
                    None,
                ),
            );
        }
        let restock = l["restockType"].as_str().unwrap_or("NO_RESTOCK").to_owned();
        let level = if restock == "NO_RESTOCK" {
            None
        } else {
            let Some(loc) = l["locationId"].as_str() else {
                return refused(
                    NAME,
                    user_error(
                        Some(vec!["refundLineItems", &index, "locationId"]),
                        "Location is required to restock",
                        None,
                    ),
                );
            };
            let item = store
                .node(&line_id)
                .and_then(|n| n["variant"]["__ref"].as_str())
                .and_then(|v| store.node(v))
                .and_then(|v| v["inventoryItem"]["__ref"].as_str())
                .unwrap_or_default()
                .to_owned();
            level_gid(store, &item, loc)
        };
        lines.push((line_id, qty, restock, level));
    }
    let sale_transactions: Vec<Value> = order["transactions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["__ref"].as_str().and_then(|g| store.node(g)).cloned())
        .collect();
    let mut refunds = Vec::new();
    let mut refunded = 0;
    for (i, t) in input["transactions"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let index = i.to_string();
        let parent = t["parentId"].as_str().and_then(|p| {
            sale_transactions
                .iter()
                .find(|s| s["id"] == p && matches!(s["kind"].as_str(), Some("SALE" | "CAPTURE")))
        });
        let Some(parent) = parent else {
            return refused(
                NAME,
                user_error(
                    Some(vec!["transactions", &index, "parentId"]),
                    "Parent transaction does not exist",
                    None,
                ),
            );
        };
        if parent["gateway"] != t["gateway"] {
            return refused(
                NAME,
                user_error(
                    Some(vec!["transactions", &index, "gateway"]),
                    "Gateway must match the parent transaction's gateway",
                    None,
                ),
            );
        }
        let amount = cents(&t["amount"]).unwrap_or(0);
        refunded += amount;
        refunds.push((parent["gateway"].clone(), amount, parent["id"].clone()));
    }
    let already = amount_of(&order["totalRefundedSet"]).unwrap_or(0);
    let total = amount_of(&order["totalPriceSet"]).unwrap_or(0);
    if already + refunded > total {
        return refused(
            NAME,
            user_error(
                Some(vec!["transactions"]),
                "Refund amount exceeds the amount that can be refunded",
                None,
            ),
        );
    }
    let rid = state.id();
    let rg = format!("gid://shopify/Refund/{rid}");
    let mut rli_refs = Vec::new();
    for (line_id, qty, restock, level) in lines {
        let unit = store
            .node(&line_id)
            .and_then(|n| amount_of(&n["originalUnitPriceSet"]))
            .unwrap_or(0);
        if let Some(n) = store.nodes.get_mut(&line_id) {
            n["currentQuantity"] = json!(n["currentQuantity"].as_i64().unwrap_or(0) - qty);
        }
        if let Some(lv) = &level {
            change_level(store, lv, "available", qty, now);
        }
        let id = state.id();
        let g = format!("gid://shopify/RefundLineItem/{id}");
        store.nodes.insert(
            g.clone(),
            json!({
                "__typename": "RefundLineItem", "id": g, "quantity": qty,
                "restockType": restock, "restocked": level.is_some(),
                "lineItem": {"__ref": line_id}, "subtotalSet": bag(unit * qty, &currency),
                "totalTaxSet": bag(0, &currency),
            }),
        );
        rli_refs.push(json!(g));
    }
    let mut new_transactions = Vec::new();
    for (gateway, amount, parent) in refunds {
        let tg = format!("gid://shopify/OrderTransaction/{}", state.id());
        store.nodes.insert(
            tg.clone(),
            json!({
                "__typename": "OrderTransaction", "id": tg,
                "kind": "REFUND", "status": "SUCCESS", "gateway": gateway,
                "amountSet": bag(amount, &currency), "processedAt": datetime(now),
                "parentTransaction": {"__ref": parent},
            }),
        );
        new_transactions.push(tg);
    }
    store.nodes.insert(
        rg.clone(),
        json!({
            "__typename": "Refund", "id": rg, "legacyResourceId": rid.to_string(),
            "note": input["note"], "createdAt": datetime(now), "processedAt": datetime(now),
            "updatedAt": datetime(now), "totalRefundedSet": bag(refunded, &currency),
            "refundLineItems": {"__conn": rli_refs}, "order": {"__ref": order_id},
            "transactions": {"__conn": new_transactions.clone()},
        }),
    );
    if let Some(o) = store.nodes.get_mut(&order_id) {
        let now_refunded = already + refunded;
        if let Some(r) = o["refunds"].as_array_mut() {
            r.push(json!({"__ref": rg}));
        }
        if let Some(t) = o["transactions"].as_array_mut() {
            t.extend(new_transactions.iter().map(|g| json!({"__ref": g})));
        }
        o["totalRefundedSet"] = bag(now_refunded, &currency);
        o["currentTotalPriceSet"] = bag(total - now_refunded, &currency);
        if now_refunded > 0 {
            o["displayFinancialStatus"] = json!(if now_refunded >= total {
                "REFUNDED"
            } else {
                "PARTIALLY_REFUNDED"
            });
        }
        o["updatedAt"] = json!(datetime(now));
    }
    Applied::Payload(
        json!({"refund": {"__ref": rg}, "order": {"__ref": order_id}, "userErrors": []}),
    )
}

/// The checks shared by both inventory mutations: the directive-level ones
/// are done by the caller; here, each change's item and location.
fn inventory_target(store: &Store, change: &Value, path: &[&str]) -> Result<String, Value> {
    let item = change["inventoryItemId"].as_str().unwrap_or_default();
    if store
        .node(item)
        .is_none_or(|n| n["__typename"] != "InventoryItem")
    {
        let mut f = path.to_vec();
        f.push("inventoryItemId");
        return Err(user_error(
            Some(f),
            "The specified inventory item could not be found.",
            Some("INVALID_INVENTORY_ITEM"),
        ));
    }
    let location = change["locationId"].as_str().unwrap_or_default();
    if store
        .node(location)
        .is_none_or(|n| n["__typename"] != "Location")
    {
        let mut f = path.to_vec();
        f.push("locationId");
        return Err(user_error(
            Some(f),
            "The specified location could not be found.",
            Some("INVALID_LOCATION"),
        ));
    }
    level_gid(store, item, location).ok_or_else(|| {
        let mut f = path.to_vec();
        f.push("locationId");
        user_error(
            Some(f),
            "The specified inventory item is not stocked at the location.",
            Some("ITEM_NOT_STOCKED_AT_LOCATION"),
        )
    })
}

const REASONS: &[&str] = &[
    "correction",
    "cycle_count_available",
    "damaged",
    "movement_canceled",
    "movement_created",
    "movement_received",
    "movement_updated",
    "other",
    "promotion",
    "quality_control",
    "received",
    "reservation_created",
    "reservation_deleted",
    "reservation_updated",
    "restock",
    "safety_stock",
    "shrinkage",
];

fn adjustment_group(state: &mut WriteState, input: &Value, changes: Vec<Value>, now: i64) -> Value {
    let id = state.id();
    json!({
        "__typename": "InventoryAdjustmentGroup",
        "id": format!("gid://shopify/InventoryAdjustmentGroup/{id}"),
        "createdAt": datetime(now), "reason": input["reason"],
        "referenceDocumentUri": input["referenceDocumentUri"],
        "changes": changes,
    })
}

fn change_entry(store: &Store, name: &str, delta: i64, item: &str, location: &str) -> Value {
    let loc_name = store
        .node(location)
        .map_or(Value::Null, |l| l["name"].clone());
    json!({
        "__typename": "InventoryChange", "name": name, "delta": delta,
        "quantityAfterChange": null,
        "item": {"__ref": item},
        "location": {"__typename": "Location", "id": location, "name": loc_name},
    })
}

fn inventory_adjust(
    store: &mut Store,
    state: &mut WriteState,
    args: &Value,
    cx: &MutationCx<'_>,
) -> Applied {
    const NAME: &str = "inventoryAdjustQuantities";
    let input = &args["input"];
    let changes = input["changes"].as_array().cloned().unwrap_or_default();
    if cx.version >= ApiVersion::V2026_04
        && changes
            .iter()
            .any(|c| c.get("changeFromQuantity").is_none_or(Value::is_null))
    {
        return top_error(
            "InventoryChangeInput must include the following argument: changeFromQuantity.",
            "INVALID_FIELD_ARGUMENTS",
            NAME,
        );
    }
    let name = input["name"].as_str().unwrap_or_default();
    if ![
        "available",
        "damaged",
        "incoming",
        "quality_control",
        "reserved",
        "safety_stock",
    ]
    .contains(&name)
    {
        return refused(
            NAME,
            user_error(
                Some(vec!["input", "name"]),
                "The quantity name must be one of: available, damaged, incoming, quality_control, reserved, safety_stock.",
                Some("INVALID_QUANTITY_NAME"),
            ),
        );
    }
    if let Some(e) = invalid_reason(input) {
        return refused(NAME, e);
    }
    let mut targets = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        let index = i.to_string();
        let path = ["input", "changes", index.as_str()];
        let level = match inventory_target(store, c, &path) {
            Ok(l) => l,
            Err(e) => return refused(NAME, e),
        };
        if let Some(from) = c["changeFromQuantity"].as_i64()
            && from != quantity(store, &level, name)
        {
            return refused(
                NAME,
                user_error(
                    Some(vec!["input", "changes", &index, "changeFromQuantity"]),
                    "The changeFromQuantity argument no longer matches the persisted quantity.",
                    Some("CHANGE_FROM_QUANTITY_STALE"),
                ),
            );
        }
        targets.push((level, c.clone()));
    }
    let now = cx.now_ms / 1000;
    let mut out = Vec::new();
    for (level, c) in targets {
        let delta = c["delta"].as_i64().unwrap_or(0);
        change_level(store, &level, name, delta, now);
        let (item, loc) = (
            c["inventoryItemId"].as_str().unwrap_or_default(),
            c["locationId"].as_str().unwrap_or_default(),
        );
        out.push(change_entry(store, name, delta, item, loc));
        if name == "available" {
            out.push(change_entry(store, "on_hand", delta, item, loc));
        }
    }
    let group = adjustment_group(state, input, out, now);
    Applied::Payload(json!({"inventoryAdjustmentGroup": group, "userErrors": []}))
}

fn inventory_set(
    store: &mut Store,
    state: &mut WriteState,
    args: &Value,
    cx: &MutationCx<'_>,
) -> Applied {
    const NAME: &str = "inventorySetQuantities";
    let input = &args["input"];
    let quantities = input["quantities"].as_array().cloned().unwrap_or_default();
    if cx.version >= ApiVersion::V2026_04
        && quantities
            .iter()
            .any(|c| c.get("changeFromQuantity").is_none_or(Value::is_null))
    {
        return top_error(
            "InventoryQuantityInput must include the following argument: changeFromQuantity.",
            "INVALID_FIELD_ARGUMENTS",
            NAME,
        );
    }
    let name = input["name"].as_str().unwrap_or_default();
    if !["available", "on_hand"].contains(&name) {
        return refused(
            NAME,
            user_error(
                Some(vec!["input", "name"]),
                "The quantity name must be either 'available' or 'on_hand'.",
                Some("INVALID_NAME"),
            ),
        );
    }
    if let Some(e) = invalid_reason(input) {
        return refused(NAME, e);
    }
    let mut targets = Vec::new();
    for (i, q) in quantities.iter().enumerate() {
        let index = i.to_string();
        let path = ["input", "quantities", index.as_str()];
        let level = match inventory_target(store, q, &path) {
            Ok(l) => l,
            Err(e) => return refused(NAME, e),
        };
        let set_to = q["quantity"].as_i64().unwrap_or(0);
        if name == "on_hand" && set_to < 0 {
            return refused(
                NAME,
                user_error(
                    Some(vec!["input", "quantities", &index, "quantity"]),
                    "The quantity can't be negative.",
                    Some("INVALID_QUANTITY_NEGATIVE"),
                ),
            );
        }
        let now_q = quantity(store, &level, name);
        // Before 2026-04: `compareQuantity` (deprecated), unless opted out.
        if cx.version < ApiVersion::V2026_04 {
            let ignore = input["ignoreCompareQuantity"].as_bool().unwrap_or(false);
            let compare = q["compareQuantity"].as_i64();
            if !ignore && compare.is_none() && q["changeFromQuantity"].is_null() {
                return refused(
                    NAME,
                    user_error(
                        Some(vec!["input", "quantities", &index, "compareQuantity"]),
                        "The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity.",
                        Some("COMPARE_QUANTITY_REQUIRED"),
                    ),
                );
            }
            if !ignore && compare.is_some_and(|c| c != now_q) {
                return refused(
                    NAME,
                    user_error(
                        Some(vec!["input", "quantities", &index, "compareQuantity"]),
                        "The compareQuantity value does not match persisted value.",
                        Some("COMPARE_QUANTITY_STALE"),
                    ),
                );
            }
        }
        if let Some(from) = q["changeFromQuantity"].as_i64()
            && from != now_q
        {
            return refused(
                NAME,
                user_error(
                    Some(vec!["input", "quantities", &index, "changeFromQuantity"]),
                    "The changeFromQuantity argument no longer matches the persisted quantity.",
                    Some("CHANGE_FROM_QUANTITY_STALE"),
                ),
            );
        }
        targets.push((level, q.clone(), set_to - now_q));
    }
    let now = cx.now_ms / 1000;
    let mut out = Vec::new();
    for (level, q, delta) in targets {
        if name == "on_hand" {
            // on_hand moves available with it (committed stays).
            change_level(store, &level, "available", delta, now);
        } else {
            change_level(store, &level, name, delta, now);
        }
        let (item, loc) = (
            q["inventoryItemId"].as_str().unwrap_or_default(),
            q["locationId"].as_str().unwrap_or_default(),
        );
        out.push(change_entry(store, "available", delta, item, loc));
        out.push(change_entry(store, "on_hand", delta, item, loc));
    }
    let group = adjustment_group(state, input, out, now);
    Applied::Payload(json!({"inventoryAdjustmentGroup": group, "userErrors": []}))
}

fn email_taken(store: &Store, email: &str, except: Option<&str>) -> bool {
    store.list("Customer").iter().any(|g| {
        Some(g.as_str()) != except
            && store
                .node(g)
                .and_then(|c| c["email"].as_str())
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
    })
}

/// What `CustomerInput` sets on a customer node.
fn customer_fields(node: &mut Value, input: &Value) {
    for k in ["firstName", "lastName", "note", "phone"] {
        if let Some(v) = input.get(k).filter(|v| !v.is_null()) {
            node[k] = v.clone();
        }
    }
    if let Some(e) = input["email"].as_str() {
        node["email"] = json!(e);
        node["defaultEmailAddress"] =
            json!({"emailAddress": e, "marketingState": "NOT_SUBSCRIBED"});
    }
    if let Some(p) = input["phone"].as_str() {
        node["defaultPhoneNumber"] = json!({"phoneNumber": p, "marketingState": "NOT_SUBSCRIBED"});
    }
    if let Some(t) = input["tags"].as_array() {
        node["tags"] = json!(t);
    }
    if let Some(a) = input["addresses"].as_array().and_then(|a| a.first()) {
        node["defaultAddress"] = address(a);
    }
    let display = format!(
        "{} {}",
        node["firstName"].as_str().unwrap_or_default(),
        node["lastName"].as_str().unwrap_or_default()
    );
    let display = display.trim();
    node["displayName"] = json!(if display.is_empty() {
        node["email"].as_str().unwrap_or_default()
    } else {
        display
    });
    if input["metafields"].is_array() {
        let mut m = node["metafields"].as_object().cloned().unwrap_or_default();
        if let Value::Object(new) = metafields(&input["metafields"]) {
            m.extend(new);
        }
        node["metafields"] = Value::Object(m);
    }
}

fn customer_create(
    store: &mut Store,
    state: &mut WriteState,
    args: &Value,
    cx: &MutationCx<'_>,
) -> Applied {
    const NAME: &str = "customerCreate";
    let input = &args["input"];
    let text = |k: &str| input[k].as_str().map(str::trim).filter(|s| !s.is_empty());
    if text("email").is_none()
        && text("phone").is_none()
        && text("firstName").is_none()
        && text("lastName").is_none()
    {
        // Captured: customer-create-parity.json `validation`.
        return refused(
            NAME,
            user_error(
                None,
                "A name, phone number, or email address must be present",
                None,
            ),
        );
    }
    if let Some(e) = text("email")
        && email_taken(store, e, None)
    {
        return refused(
            NAME,
            user_error(Some(vec!["email"]), "Email has already been taken", None),
        );
    }
    let now = datetime(cx.now_ms / 1000);
    let id = state.id();
    let g = format!("gid://shopify/Customer/{id}");
    let mut node = json!({
        "__typename": "Customer", "id": g, "legacyResourceId": id.to_string(),
        "firstName": null, "lastName": null, "displayName": "", "email": null, "phone": null,
        "defaultEmailAddress": null, "defaultPhoneNumber": null,
        "state": "DISABLED", "tags": [], "note": null, "numberOfOrders": "0",
        "defaultAddress": null, "verifiedEmail": true, "taxExempt": false,
        "metafields": {}, "createdAt": now, "updatedAt": now,
    });
    customer_fields(&mut node, input);
    add_node(store, "Customer", node);
    Applied::Payload(json!({"customer": {"__ref": g}, "userErrors": []}))
}

fn customer_update(store: &mut Store, args: &Value, cx: &MutationCx<'_>) -> Applied {
    const NAME: &str = "customerUpdate";
    let input = &args["input"];
    let id = input["id"].as_str().unwrap_or_default().to_owned();
    if store
        .node(&id)
        .is_none_or(|c| c["__typename"] != "Customer")
    {
        return refused(
            NAME,
            user_error(Some(vec!["id"]), "Customer does not exist", None),
        );
    }
    if let Some(e) = input["email"]
        .as_str()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        && email_taken(store, e, Some(&id))
    {
        return refused(
            NAME,
            user_error(Some(vec!["email"]), "Email has already been taken", None),
        );
    }
    let now = datetime(cx.now_ms / 1000);
    if let Some(node) = store.nodes.get_mut(&id) {
        customer_fields(node, input);
        node["updatedAt"] = json!(now);
    }
    Applied::Payload(json!({"customer": {"__ref": id}, "userErrors": []}))
}
