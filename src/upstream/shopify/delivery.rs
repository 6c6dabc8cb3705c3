//! Shopify webhook deliveries once verified: the topics the agent takes,
//! and their REST-shaped payloads turned into what the replica must do.
//!
//! A delivery's payload is the REST resource (snake_case fields, numeric
//! ids, `tags` as one comma-separated string, lower-case enum values, times
//! with the shop's offset), not the GraphQL node the pull reads. Each one is
//! rewritten here into the node shape [`super::wire`] maps, so a delivered
//! product, order or customer becomes the same record a pull would make,
//! and its `updated_at` is the version the replica's guard compares.
//!
//! Ids come from `admin_graphql_api_id` where the payload has it (exact),
//! else from `id`, read as a 64-bit integer and never through a float.
//!
//! A product payload does not carry what the till needs of it: a variant's
//! `inventory_quantity` is its available stock summed over every location,
//! where the replica keeps the configured location's, and the payload names
//! no collections. So a product delivery is read (a malformed one is
//! refused here) and turned into a fetch of that product by id
//! ([`Instruction::Fetch`]), written through the same guard as a pull.
//!
//! `inventory_levels/update`, `refunds/create` and collection changes are
//! taken and ignored with the reason (the replica keeps no version for
//! them to guard, or cannot tell which variant an inventory item is); the
//! poll brings them.

use serde_json::{Map, Value, json};

use super::wire::{self, DEFAULT_VARIANT_TITLE};
use crate::domain::batch::Records;
use crate::domain::webhooks::{Action, Instruction, Subject, Topic};
use crate::domain::{GmtTime, RawJson, Resource, UpstreamId};
use crate::upstream::UpstreamError;

/// A delivery topic the agent takes, with its REST name
/// (`X-Shopify-Topic`) and its GraphQL `WebhookSubscriptionTopic` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryTopic {
    ProductsCreate,
    ProductsUpdate,
    ProductsDelete,
    InventoryLevelsUpdate,
    CustomersCreate,
    CustomersUpdate,
    CustomersDelete,
    OrdersCreate,
    OrdersUpdated,
    OrdersCancelled,
    OrdersDelete,
    RefundsCreate,
    CollectionsCreate,
    CollectionsUpdate,
    CollectionsDelete,
}

impl DeliveryTopic {
    pub const ALL: [DeliveryTopic; 15] = [
        DeliveryTopic::ProductsCreate,
        DeliveryTopic::ProductsUpdate,
        DeliveryTopic::ProductsDelete,
        DeliveryTopic::InventoryLevelsUpdate,
        DeliveryTopic::CustomersCreate,
        DeliveryTopic::CustomersUpdate,
        DeliveryTopic::CustomersDelete,
        DeliveryTopic::OrdersCreate,
        DeliveryTopic::OrdersUpdated,
        DeliveryTopic::OrdersCancelled,
        DeliveryTopic::OrdersDelete,
        DeliveryTopic::RefundsCreate,
        DeliveryTopic::CollectionsCreate,
        DeliveryTopic::CollectionsUpdate,
        DeliveryTopic::CollectionsDelete,
    ];

    /// As `X-Shopify-Topic` names it.
    pub fn rest_name(self) -> &'static str {
        match self {
            DeliveryTopic::ProductsCreate => "products/create",
            DeliveryTopic::ProductsUpdate => "products/update",
            DeliveryTopic::ProductsDelete => "products/delete",
            DeliveryTopic::InventoryLevelsUpdate => "inventory_levels/update",
            DeliveryTopic::CustomersCreate => "customers/create",
            DeliveryTopic::CustomersUpdate => "customers/update",
            DeliveryTopic::CustomersDelete => "customers/delete",
            DeliveryTopic::OrdersCreate => "orders/create",
            DeliveryTopic::OrdersUpdated => "orders/updated",
            DeliveryTopic::OrdersCancelled => "orders/cancelled",
            DeliveryTopic::OrdersDelete => "orders/delete",
            DeliveryTopic::RefundsCreate => "refunds/create",
            DeliveryTopic::CollectionsCreate => "collections/create",
            DeliveryTopic::CollectionsUpdate => "collections/update",
            DeliveryTopic::CollectionsDelete => "collections/delete",
        }
    }

    /// As the `WebhookSubscriptionTopic` enum of the Admin schema names it:
    /// the REST name upper-cased, `/` as `_` (`PRODUCTS_UPDATE`).
    pub fn enum_name(self) -> String {
        self.rest_name().replace('/', "_").to_ascii_uppercase()
    }

    /// The topic `X-Shopify-Topic` (or a subscription's `topic`) names.
    pub fn parse(s: &str) -> Option<DeliveryTopic> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|t| t.rest_name() == s || t.enum_name() == s)
    }

    /// The Shopify topic for one of the agent's topics; `None` for a change
    /// Shopify has no delivery for (nothing is restored from a trash).
    pub fn for_topic(topic: Topic) -> Option<DeliveryTopic> {
        use Action::*;
        use Subject::*;
        Some(match (topic.subject, topic.action) {
            (Product, Created) => DeliveryTopic::ProductsCreate,
            (Product, Updated) => DeliveryTopic::ProductsUpdate,
            (Product, Deleted) => DeliveryTopic::ProductsDelete,
            (Order, Created) => DeliveryTopic::OrdersCreate,
            (Order, Updated) => DeliveryTopic::OrdersUpdated,
            (Order, Deleted) => DeliveryTopic::OrdersDelete,
            (Customer, Created) => DeliveryTopic::CustomersCreate,
            (Customer, Updated) => DeliveryTopic::CustomersUpdate,
            (Customer, Deleted) => DeliveryTopic::CustomersDelete,
            (_, Restored) => return None,
        })
    }

    /// The agent's topic for a Shopify one, where there is one.
    pub fn topic(self) -> Option<Topic> {
        Topic::all()
            .into_iter()
            .find(|t| DeliveryTopic::for_topic(*t) == Some(self))
    }
}

/// The topics `possync webhooks install` subscribes a Shopify shop to.
pub fn subscribed() -> Vec<DeliveryTopic> {
    Topic::subscribed()
        .into_iter()
        .filter_map(DeliveryTopic::for_topic)
        .collect()
}

/// Turns a verified payload into what the replica must do. An `Err` is a
/// payload that cannot be understood (kept as a failed delivery).
pub fn instruction(topic: &str, body: &[u8]) -> Result<Instruction, String> {
    let Some(topic) = DeliveryTopic::parse(topic) else {
        return Ok(Instruction::Ignore {
            reason: format!("topic {topic:?} is about objects the replica does not mirror"),
        });
    };
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Value::Object(map) = value else {
        return Err("the body is not a JSON object".to_owned());
    };
    use DeliveryTopic::*;
    match topic {
        ProductsDelete => delete(&map, Resource::Products, "Product"),
        OrdersDelete => delete(&map, Resource::Orders, "Order"),
        CustomersDelete => delete(&map, Resource::Customers, "Customer"),
        CollectionsDelete => delete(&map, Resource::Categories, "Collection"),
        ProductsCreate | ProductsUpdate => product_fetch(&map),
        OrdersCreate | OrdersUpdated | OrdersCancelled => order(&map).map(Instruction::Upsert),
        CustomersCreate | CustomersUpdate => customer(&map).map(Instruction::Upsert),
        InventoryLevelsUpdate => Ok(Instruction::Ignore {
            reason: "a stock level names an inventory item, not a variant the replica \
                     holds: the poll brings the location's stock"
                .to_owned(),
        }),
        RefundsCreate => Ok(Instruction::Ignore {
            reason: "a refund changes its order, whose orders/updated delivery and poll \
                     bring it"
                .to_owned(),
        }),
        CollectionsCreate | CollectionsUpdate => Ok(Instruction::Ignore {
            reason: "the replica keeps no version of a collection to guard: the poll \
                     brings it"
                .to_owned(),
        }),
    }
}

/// Drops `null` members, as a GraphQL node leaves out what was not
/// selected (the wire types default a missing field, not a null one).
fn compact(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, compact(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(compact).collect()),
        other => other,
    }
}

/// Reads a rewritten node into its wire type.
fn read<T: serde::de::DeserializeOwned>(node: Value, what: &str) -> Result<(T, RawJson), String> {
    wire::read_node(&compact(node), what).map_err(describe)
}

fn describe(e: UpstreamError) -> String {
    match e {
        UpstreamError::Malformed { detail, .. } => detail,
        other => other.to_string(),
    }
}

/// The object's number: from `admin_graphql_api_id` when present, else
/// `id` as a whole number.
fn object_id(map: &Map<String, Value>, kind: &str) -> Result<UpstreamId, String> {
    if let Some(gid) = map.get("admin_graphql_api_id").and_then(Value::as_str) {
        return wire::gid_number(gid, kind).map_err(describe);
    }
    match map.get("id") {
        Some(Value::Number(n)) => n
            .as_i64()
            .filter(|id| *id > 0)
            .ok_or_else(|| format!("{kind} id {n} is not a positive whole number")),
        Some(Value::String(s)) => s
            .parse::<UpstreamId>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| format!("{kind} id {s:?} is not a positive whole number")),
        _ => Err(format!("the {kind} has no id")),
    }
}

fn gid_of(map: &Map<String, Value>, kind: &str) -> Result<String, String> {
    object_id(map, kind).map(|id| wire::gid(kind, id))
}

fn delete(map: &Map<String, Value>, resource: Resource, kind: &str) -> Result<Instruction, String> {
    Ok(Instruction::Delete {
        resource,
        id: object_id(map, kind)?,
    })
}

fn text(map: &Map<String, Value>, key: &str) -> Value {
    match map.get(key) {
        Some(Value::String(s)) => Value::String(s.clone()),
        _ => Value::Null,
    }
}

fn upper(map: &Map<String, Value>, key: &str) -> Value {
    match map.get(key) {
        Some(Value::String(s)) => Value::String(s.to_ascii_uppercase()),
        _ => Value::Null,
    }
}

/// REST `tags`: one comma-separated string (GraphQL: a list).
fn tags(map: &Map<String, Value>) -> Value {
    match map.get("tags") {
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| Value::String(t.to_owned()))
            .collect(),
        Some(Value::Array(a)) => Value::Array(a.clone()),
        _ => json!([]),
    }
}

fn object<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Map<String, Value>> {
    map.get(key).and_then(Value::as_object)
}

fn list<'a>(
    map: &'a Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a Map<String, Value>> {
    map.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

/// A REST money bag (`shop_money.amount`) as GraphQL's (`shopMoney.amount`).
fn money_set(map: &Map<String, Value>, key: &str) -> Value {
    match object(map, key)
        .and_then(|m| object(m, "shop_money"))
        .and_then(|m| m.get("amount"))
    {
        Some(amount) => json!({ "shopMoney": { "amount": amount } }),
        None => Value::Null,
    }
}

/// A money bag made from a plain REST amount (`"12.50"`).
fn money(amount: &Value) -> Value {
    match amount {
        Value::String(_) | Value::Number(_) => json!({ "shopMoney": { "amount": amount } }),
        _ => Value::Null,
    }
}

fn address(map: Option<&Map<String, Value>>) -> Value {
    let Some(a) = map else {
        return Value::Null;
    };
    json!({
        "firstName": text(a, "first_name"),
        "lastName": text(a, "last_name"),
        "company": text(a, "company"),
        "address1": text(a, "address1"),
        "address2": text(a, "address2"),
        "city": text(a, "city"),
        "province": text(a, "province"),
        "provinceCode": text(a, "province_code"),
        "zip": text(a, "zip"),
        "country": text(a, "country"),
        "countryCodeV2": text(a, "country_code"),
        "phone": text(a, "phone"),
    })
}

/// `products/create|update`: a fetch of that product at the version the
/// payload carries (its id exact, its `updated_at` a date-time).
fn product_fetch(map: &Map<String, Value>) -> Result<Instruction, String> {
    let id = object_id(map, "Product")?;
    let modified = match map.get("updated_at") {
        Some(Value::String(s)) => GmtTime::parse(s)
            .ok_or_else(|| format!("product {id}: updated_at {s:?} is not a date-time"))?,
        Some(other) => {
            return Err(format!(
                "product {id}: updated_at {other} is not a date-time"
            ));
        }
        None => return Err(format!("product {id} has no updated_at")),
    };
    Ok(Instruction::Fetch {
        resource: Resource::Products,
        id,
        modified,
    })
}

/// `customers/create|update`.
fn customer(map: &Map<String, Value>) -> Result<Records, String> {
    let email = map
        .get("email")
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty());
    let phone = map
        .get("phone")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty());
    let node = json!({
        "id": gid_of(map, "Customer")?,
        "updatedAt": text(map, "updated_at"),
        "firstName": text(map, "first_name"),
        "lastName": text(map, "last_name"),
        "createdAt": text(map, "created_at"),
        "numberOfOrders": map.get("orders_count").cloned().unwrap_or(Value::Null),
        "defaultEmailAddress": email.map(|e| json!({ "emailAddress": e })),
        "defaultPhoneNumber": phone.map(|p| json!({ "phoneNumber": p })),
        "defaultAddress": address(object(map, "default_address")),
        "tags": tags(map),
    });
    let (w, raw): (wire::WireCustomer, RawJson) = read(node, "customer")?;
    let c = wire::customer(&w, raw).map_err(describe)?;
    Ok(Records::Customers(vec![c]))
}

/// A REST line item as the pull's `LineItem` node. A line of a product
/// with only the default variant has no variant title: it is sold as the
/// product itself, as the pull has it.
fn line_node(l: &Map<String, Value>) -> Result<Value, String> {
    let default = match l.get("variant_title") {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty() || s == DEFAULT_VARIANT_TITLE,
        Some(_) => false,
    };
    let product = match l.get("product_id").and_then(Value::as_i64) {
        Some(id) if id > 0 => {
            json!({ "id": wire::gid("Product", id), "hasOnlyDefaultVariant": default })
        }
        _ => Value::Null,
    };
    let variant = match l.get("variant_id").and_then(Value::as_i64) {
        Some(id) if id > 0 => json!({ "id": wire::gid("ProductVariant", id) }),
        _ => Value::Null,
    };
    let quantity = l.get("quantity").and_then(Value::as_i64).unwrap_or(0);
    let unit = l
        .get("price")
        .and_then(Value::as_str)
        .and_then(|p| p.parse::<crate::domain::Amount>().ok());
    let discount = l
        .get("total_discount")
        .and_then(Value::as_str)
        .and_then(|p| p.parse::<crate::domain::Amount>().ok())
        .unwrap_or_default();
    let (original, discounted) = match unit {
        Some(u) => {
            let total = u * crate::domain::Amount::from(quantity);
            (
                money(&Value::String(total.to_string())),
                money(&Value::String((total - discount).to_string())),
            )
        }
        None => (Value::Null, Value::Null),
    };
    Ok(json!({
        "id": gid_of(l, "LineItem")?,
        "name": text(l, "name"),
        "title": text(l, "title"),
        "quantity": quantity,
        "sku": text(l, "sku"),
        "product": product,
        "variant": variant,
        "originalUnitPriceSet": money_set(l, "price_set"),
        "originalTotalSet": original,
        "discountedTotalSet": discounted,
        "taxLines": list(l, "tax_lines")
            .map(|t| json!({ "title": text(t, "title"), "priceSet": money_set(t, "price_set") }))
            .collect::<Vec<_>>(),
        "customAttributes": list(l, "properties")
            .map(|p| json!({ "key": text(p, "name"), "value": text(p, "value") }))
            .collect::<Vec<_>>(),
    }))
}

/// A REST refund as the order's refund summary: what its successful
/// refund transactions paid back.
fn refund_node(r: &Map<String, Value>) -> Result<Value, String> {
    let total: crate::domain::Amount = list(r, "transactions")
        .filter(|t| t.get("kind").and_then(Value::as_str) == Some("refund"))
        .filter(|t| t.get("status").and_then(Value::as_str) != Some("failure"))
        .filter_map(|t| match t.get("amount") {
            Some(Value::String(s)) => s.parse::<crate::domain::Amount>().ok(),
            _ => None,
        })
        .sum();
    Ok(json!({
        "id": gid_of(r, "Refund")?,
        "note": text(r, "note"),
        "createdAt": text(r, "created_at"),
        "totalRefundedSet": money(&Value::String(total.to_string())),
    }))
}

/// `orders/create|updated|cancelled`: the whole order, lines included.
fn order(map: &Map<String, Value>) -> Result<Records, String> {
    let customer = match object(map, "customer") {
        Some(c) => json!({ "id": gid_of(c, "Customer")? }),
        None => Value::Null,
    };
    let lines = list(map, "line_items")
        .map(line_node)
        .collect::<Result<Vec<_>, _>>()?;
    let refunds = list(map, "refunds")
        .map(refund_node)
        .collect::<Result<Vec<_>, _>>()?;
    let fulfillment = match map.get("fulfillment_status") {
        Some(Value::String(s)) => Value::String(s.to_ascii_uppercase()),
        _ => Value::String("UNFULFILLED".to_owned()),
    };
    let node = json!({
        "id": gid_of(map, "Order")?,
        "updatedAt": text(map, "updated_at"),
        "name": text(map, "name"),
        "createdAt": text(map, "created_at"),
        "processedAt": text(map, "processed_at"),
        "closedAt": text(map, "closed_at"),
        "cancelledAt": text(map, "cancelled_at"),
        "currencyCode": text(map, "currency"),
        "taxesIncluded": map.get("taxes_included").and_then(Value::as_bool).unwrap_or(false),
        "displayFinancialStatus": upper(map, "financial_status"),
        "displayFulfillmentStatus": fulfillment,
        "email": text(map, "email"),
        "note": text(map, "note"),
        "sourceName": text(map, "source_name"),
        "sourceIdentifier": text(map, "source_identifier"),
        "paymentGatewayNames": map.get("payment_gateway_names").cloned().unwrap_or_else(|| json!([])),
        "customer": customer,
        "billingAddress": address(object(map, "billing_address")),
        "shippingAddress": address(object(map, "shipping_address")),
        "totalPriceSet": money_set(map, "total_price_set"),
        "currentTotalPriceSet": money_set(map, "current_total_price_set"),
        "totalTaxSet": money_set(map, "total_tax_set"),
        "totalDiscountsSet": money_set(map, "total_discounts_set"),
        "totalShippingPriceSet": money_set(map, "total_shipping_price_set"),
        "refunds": refunds,
        "lineItems": { "nodes": lines, "pageInfo": { "hasNextPage": false } },
    });
    let (w, raw): (wire::WireOrder, RawJson) = read(node, "order")?;
    let o = wire::order(&w, raw, None).map_err(describe)?;
    Ok(Records::Orders(vec![o]))
}

#[cfg(test)]
#[path = "delivery_tests.rs"]
mod tests;
