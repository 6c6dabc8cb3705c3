//! Webhooks of the simulated Shopify store: the subscriptions the Admin API
//! manages (`webhookSubscriptions`, `webhookSubscriptionCreate`,
//! `webhookSubscriptionUpdate`, `webhookSubscriptionDelete`) and the
//! deliveries it makes when its data changes.
//!
//! A delivery is what Shopify sends: the REST-shaped payload of the object
//! (numeric ids beside `admin_graphql_api_id`, snake_case, lower-case
//! enum values, `tags` as one string, times with the shop's offset), POSTed
//! with `X-Shopify-Topic`, `-Hmac-Sha256` (base64 HMAC-SHA256 of the body
//! under the app's client secret), `-Shop-Domain`, `-API-Version`,
//! `-Webhook-Id` (one per delivery, kept by its retries), `-Triggered-At`
//! and `-Event-Id`. A delivery not answered 2xx is retried with the same
//! id and body (a few times, quickly: Shopify's 8 retries over 4 hours
//! would outlive a test). The user errors are the captured ones
//! (`graphql-captures/2026-04/webhooks/webhook-subscription-conformance.json`).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::data::{self, Store};

/// Tries per delivery (the first and its retries).
const TRIES: u32 = 4;
const RETRY_AFTER: Duration = Duration::from_millis(100);

/// One delivery attempt, as the shop logged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentDelivery {
    pub webhook_id: String,
    pub topic: String,
    pub url: String,
    /// The receiver's status; `None` when it could not be reached.
    pub status: Option<u16>,
}

pub struct Hooks {
    subscriptions: Mutex<Vec<Value>>,
    next_id: AtomicU64,
    next_delivery: AtomicU64,
    secret: String,
    shop_domain: String,
    api_version: String,
    /// Deliveries still to be sent twice (the fault).
    twice: AtomicUsize,
    log: std::sync::Arc<Mutex<Vec<SentDelivery>>>,
    client: reqwest::Client,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn user_error(field: &[&str], message: &str) -> Value {
    json!({ "field": field, "message": message })
}

/// Shopify's REST times carry the shop's offset (the simulated shop is
/// on UTC): `2026-06-22T22:34:00+00:00`.
fn rest_time(v: &Value) -> Value {
    match v.as_str() {
        Some(s) => Value::String(
            s.strip_suffix('Z')
                .map_or_else(|| s.to_owned(), |t| format!("{t}+00:00")),
        ),
        None => Value::Null,
    }
}

fn lower(v: &Value) -> Value {
    v.as_str()
        .map_or(Value::Null, |s| Value::String(s.to_ascii_lowercase()))
}

fn number(gid: &Value) -> Value {
    gid.as_str()
        .and_then(data::gid_number)
        .map_or(Value::Null, |n| json!(n))
}

fn rest_money(bag: &Value) -> Value {
    let m = &bag["shopMoney"];
    let one = json!({ "amount": m["amount"], "currency_code": m["currencyCode"] });
    json!({ "shop_money": one, "presentment_money": one })
}

impl Hooks {
    pub fn new(secret: String, shop_domain: String, api_version: &str) -> Hooks {
        Hooks {
            subscriptions: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1_929_113_141_554),
            next_delivery: AtomicU64::new(1),
            secret,
            shop_domain,
            api_version: api_version.to_owned(),
            twice: AtomicUsize::new(0),
            log: std::sync::Arc::default(),
            client: reqwest::Client::new(),
        }
    }

    pub fn shop_domain(&self) -> &str {
        &self.shop_domain
    }

    /// The subscriptions, oldest first.
    pub fn nodes(&self) -> Vec<Value> {
        lock(&self.subscriptions).clone()
    }

    pub fn get(&self, id: &str) -> Option<Value> {
        lock(&self.subscriptions)
            .iter()
            .find(|s| s["id"] == id)
            .cloned()
    }

    fn uri(input: &Value) -> Option<String> {
        input["uri"]
            .as_str()
            .or_else(|| input["callbackUrl"].as_str())
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
    }

    /// `webhookSubscriptionCreate`'s payload.
    pub fn create(&self, topic: &str, input: &Value, now: i64) -> Value {
        let Some(uri) = Self::uri(input) else {
            return json!({
                "webhookSubscription": null,
                "userErrors": [user_error(&["webhookSubscription", "callbackUrl"], "Address can't be blank")],
            });
        };
        let mut subs = lock(&self.subscriptions);
        if subs.iter().any(|s| s["topic"] == topic && s["uri"] == uri) {
            return json!({
                "webhookSubscription": null,
                "userErrors": [user_error(&["webhookSubscription", "callbackUrl"], "Address for this topic has already been taken")],
            });
        }
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let at = data::datetime(now);
        let node = json!({
            "__typename": "WebhookSubscription",
            "id": format!("gid://shopify/WebhookSubscription/{n}"),
            "legacyResourceId": n.to_string(),
            "topic": topic,
            "uri": uri,
            "callbackUrl": uri,
            "endpoint": { "__typename": "WebhookHttpEndpoint", "callbackUrl": uri },
            "name": input["name"],
            "format": input["format"].as_str().unwrap_or("JSON"),
            "filter": input["filter"],
            "includeFields": input["includeFields"].as_array().cloned().unwrap_or_default(),
            "metafieldNamespaces": input["metafieldNamespaces"].as_array().cloned().unwrap_or_default(),
            "metafields": [],
            "createdAt": at,
            "updatedAt": at,
        });
        subs.push(node.clone());
        json!({ "webhookSubscription": node, "userErrors": [] })
    }

    /// `webhookSubscriptionUpdate`'s payload.
    pub fn update(&self, id: &str, input: &Value, now: i64) -> Value {
        let mut subs = lock(&self.subscriptions);
        let Some(node) = subs.iter_mut().find(|s| s["id"] == id) else {
            return json!({
                "webhookSubscription": null,
                "userErrors": [user_error(&["id"], "Webhook subscription does not exist")],
            });
        };
        if input.get("uri").is_some() || input.get("callbackUrl").is_some() {
            let Some(uri) = Self::uri(input) else {
                return json!({
                    "webhookSubscription": null,
                    "userErrors": [user_error(&["webhookSubscription", "callbackUrl"], "Address can't be blank")],
                });
            };
            node["uri"] = json!(uri);
            node["callbackUrl"] = json!(uri);
            node["endpoint"]["callbackUrl"] = json!(uri);
        }
        for key in [
            "name",
            "filter",
            "format",
            "includeFields",
            "metafieldNamespaces",
        ] {
            if let Some(v) = input.get(key) {
                node[key] = v.clone();
            }
        }
        node["updatedAt"] = json!(data::datetime(now));
        json!({ "webhookSubscription": node.clone(), "userErrors": [] })
    }

    /// `webhookSubscriptionDelete`'s payload.
    pub fn delete(&self, id: &str) -> Value {
        let mut subs = lock(&self.subscriptions);
        let before = subs.len();
        subs.retain(|s| s["id"] != id);
        if subs.len() == before {
            return json!({
                "deletedWebhookSubscriptionId": null,
                "userErrors": [user_error(&["id"], "Webhook subscription does not exist")],
            });
        }
        json!({ "deletedWebhookSubscriptionId": id, "userErrors": [] })
    }

    /// The next `n` deliveries are sent twice, with the same webhook id.
    pub fn deliver_twice(&self, n: usize) {
        self.twice.fetch_add(n, Ordering::Relaxed);
    }

    /// Every delivery attempt so far, in order.
    pub fn sent(&self) -> Vec<SentDelivery> {
        lock(&self.log).clone()
    }

    /// Sends `payload` to every subscription of `topic` (the enum name,
    /// e.g. `PRODUCTS_UPDATE`), in the background.
    pub fn fire(&self, topic: &str, payload: &Value) {
        let urls: Vec<String> = lock(&self.subscriptions)
            .iter()
            .filter(|s| s["topic"] == topic)
            .filter_map(|s| s["uri"].as_str().map(str::to_owned))
            .collect();
        if urls.is_empty() {
            return;
        }
        let rest_topic = topic.to_ascii_lowercase().replacen('_', "/", 1);
        // `inventory_levels/update`: the first `_` is part of the resource.
        let rest_topic = match rest_topic.as_str() {
            "inventory/levels_update" => "inventory_levels/update".to_owned(),
            "inventory/items_update" => "inventory_items/update".to_owned(),
            other => other.to_owned(),
        };
        let body = payload.to_string().into_bytes();
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(&body);
        let hmac = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let event = self.next_delivery.fetch_add(1, Ordering::Relaxed);
        let triggered = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        for url in urls {
            let n = self.next_delivery.fetch_add(1, Ordering::Relaxed);
            let webhook_id = format!("{:08x}-5f0f-4a17-8000-{n:012x}", event as u32);
            let copies = if self
                .twice
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| t.checked_sub(1))
                .is_ok()
            {
                2
            } else {
                1
            };
            let headers = [
                ("Content-Type", "application/json".to_owned()),
                ("X-Shopify-Topic", rest_topic.clone()),
                ("X-Shopify-Hmac-Sha256", hmac.clone()),
                ("X-Shopify-Shop-Domain", self.shop_domain.clone()),
                ("X-Shopify-API-Version", self.api_version.clone()),
                ("X-Shopify-Webhook-Id", webhook_id.clone()),
                ("X-Shopify-Triggered-At", triggered.clone()),
                ("X-Shopify-Event-Id", format!("event-{event}")),
            ];
            let (client, log, body, topic) = (
                self.client.clone(),
                std::sync::Arc::clone(&self.log),
                body.clone(),
                rest_topic.clone(),
            );
            tokio::spawn(async move {
                for _ in 0..copies {
                    for attempt in 0..TRIES {
                        let mut req = client.post(&url).body(body.clone());
                        for (k, v) in &headers {
                            req = req.header(*k, v);
                        }
                        let status = req.send().await.ok().map(|r| r.status().as_u16());
                        lock(&log).push(SentDelivery {
                            webhook_id: webhook_id.clone(),
                            topic: topic.clone(),
                            url: url.clone(),
                            status,
                        });
                        if status.is_some_and(|s| (200..300).contains(&s)) {
                            break;
                        }
                        if attempt + 1 < TRIES {
                            tokio::time::sleep(RETRY_AFTER * 2u32.pow(attempt)).await;
                        }
                    }
                }
            });
        }
    }
}

/// A product as `products/*` deliveries carry it.
pub fn product_payload(store: &Store, gid: &str) -> Option<Value> {
    let p = store.node(gid)?;
    let variants: Vec<Value> = p["variants"]["__conn"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| store.node(g.as_str()?))
        .map(|v| {
            let item = v["inventoryItem"]["__ref"]
                .as_str()
                .and_then(|g| store.node(g));
            json!({
                "id": number(&v["id"]),
                "admin_graphql_api_id": v["id"],
                "product_id": number(&p["id"]),
                "title": v["title"],
                "sku": v["sku"],
                "barcode": v["barcode"],
                "price": v["price"],
                "compare_at_price": v["compareAtPrice"],
                "position": v["position"],
                "taxable": v["taxable"],
                "inventory_policy": lower(&v["inventoryPolicy"]),
                "inventory_quantity": v["inventoryQuantity"],
                "old_inventory_quantity": v["inventoryQuantity"],
                "inventory_item_id": item.map_or(Value::Null, |i| number(&i["id"])),
                "option1": v["selectedOptions"][0]["value"],
                "option2": null,
                "option3": null,
                "created_at": rest_time(&v["createdAt"]),
                "updated_at": rest_time(&v["updatedAt"]),
                "image_id": null,
            })
        })
        .collect();
    let tags: Vec<&str> = p["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    Some(json!({
        "admin_graphql_api_id": p["id"],
        "id": number(&p["id"]),
        "title": p["title"],
        "handle": p["handle"],
        "body_html": p["descriptionHtml"],
        "vendor": p["vendor"],
        "product_type": p["productType"],
        "status": lower(&p["status"]),
        "tags": tags.join(", "),
        "created_at": rest_time(&p["createdAt"]),
        "updated_at": rest_time(&p["updatedAt"]),
        "published_at": rest_time(&p["createdAt"]),
        "published_scope": "global",
        "template_suffix": null,
        "variants": variants,
        "options": p["options"].as_array().into_iter().flatten().map(|o| json!({
            "name": o["name"], "position": o["position"], "values": o["values"],
        })).collect::<Vec<_>>(),
        "images": [],
        "image": null,
        "media": [],
    }))
}

/// An order as `orders/*` deliveries carry it.
pub fn order_payload(store: &Store, gid: &str) -> Option<Value> {
    let o = store.node(gid)?;
    let lines: Vec<Value> = o["lineItems"]["__conn"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| store.node(g.as_str()?))
        .map(|l| {
            let variant = l["variant"]["__ref"].as_str().and_then(|g| store.node(g));
            let product = l["product"]["__ref"]
                .as_str()
                .or_else(|| variant.and_then(|v| v["product"]["__ref"].as_str()));
            let default_variant = product
                .and_then(|g| store.node(g))
                .is_some_and(|p| p["hasOnlyDefaultVariant"] == true);
            json!({
                "id": number(&l["id"]),
                "admin_graphql_api_id": l["id"],
                "name": l["name"],
                "title": l["title"],
                "variant_title": if default_variant { Value::Null } else { l["variantTitle"].clone() },
                "sku": l["sku"],
                "quantity": l["quantity"],
                "current_quantity": l["currentQuantity"],
                "price": l["originalUnitPriceSet"]["shopMoney"]["amount"],
                "price_set": rest_money(&l["originalUnitPriceSet"]),
                "total_discount": "0.00",
                "product_id": product.map_or(Value::Null, |g| number(&json!(g))),
                "variant_id": variant.map_or(Value::Null, |v| number(&v["id"])),
                "tax_lines": l["taxLines"].as_array().into_iter().flatten().map(|t| json!({
                    "title": t["title"], "rate": t["rate"],
                    "price": t["priceSet"]["shopMoney"]["amount"],
                    "price_set": rest_money(&t["priceSet"]),
                })).collect::<Vec<_>>(),
                "properties": [],
            })
        })
        .collect();
    let customer = o["customer"]["__ref"]
        .as_str()
        .and_then(|g| store.node(g))
        .map_or(Value::Null, |c| {
            json!({
                "id": number(&c["id"]),
                "admin_graphql_api_id": c["id"],
                "email": c["email"],
                "first_name": c["firstName"],
                "last_name": c["lastName"],
            })
        });
    let address = |a: &Value| {
        if a.is_null() {
            return Value::Null;
        }
        json!({
            "first_name": a["firstName"], "last_name": a["lastName"], "company": a["company"],
            "address1": a["address1"], "address2": a["address2"], "city": a["city"],
            "province": a["province"], "province_code": a["provinceCode"], "zip": a["zip"],
            "country": a["country"], "country_code": a["countryCodeV2"], "phone": a["phone"],
            "name": a["name"],
        })
    };
    let fulfillment = match o["displayFulfillmentStatus"].as_str() {
        Some("FULFILLED") => json!("fulfilled"),
        Some("PARTIALLY_FULFILLED") => json!("partial"),
        _ => Value::Null,
    };
    Some(json!({
        "id": number(&o["id"]),
        "admin_graphql_api_id": o["id"],
        "name": o["name"],
        "email": o["email"],
        "created_at": rest_time(&o["createdAt"]),
        "updated_at": rest_time(&o["updatedAt"]),
        "processed_at": rest_time(&o["processedAt"]),
        "cancelled_at": rest_time(&o["cancelledAt"]),
        "closed_at": rest_time(&o["closedAt"]),
        "currency": o["currencyCode"],
        "taxes_included": o["taxesIncluded"],
        "financial_status": lower(&o["displayFinancialStatus"]),
        "fulfillment_status": fulfillment,
        "source_name": o["sourceName"],
        "source_identifier": o["sourceIdentifier"],
        "note": o["note"],
        "payment_gateway_names": o["paymentGatewayNames"],
        "total_price": o["totalPriceSet"]["shopMoney"]["amount"],
        "total_price_set": rest_money(&o["totalPriceSet"]),
        "current_total_price_set": rest_money(&o["currentTotalPriceSet"]),
        "total_tax": o["totalTaxSet"]["shopMoney"]["amount"],
        "total_tax_set": rest_money(&o["totalTaxSet"]),
        "total_discounts_set": rest_money(&o["totalDiscountsSet"]),
        "total_shipping_price_set": rest_money(&o["totalShippingPriceSet"]),
        "customer": customer,
        "billing_address": address(&o["billingAddress"]),
        "shipping_address": address(&o["shippingAddress"]),
        "line_items": lines,
        "refunds": [],
        "tags": "",
        "test": false,
    }))
}
