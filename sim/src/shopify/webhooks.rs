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
//! would outlive a test). Deliveries wait in one queue, sent in order by
//! one worker (a retry does not hold the others back) unless
//! [`WebhookFaults`] lose, repeat, hold back or reorder them: Shopify
//! promises neither order nor exactly once. The user errors are the captured ones
//! (`graphql-captures/2026-04/webhooks/webhook-subscription-conformance.json`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::{Notify, watch};

use super::data::{self, Store};
use crate::hook_faults::WebhookFaults;

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
    queue: Arc<Queue>,
    /// The worker sending the queue, started with the first delivery.
    worker: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// One delivery to one subscription, signed and ready to send.
struct Delivery {
    webhook_id: String,
    topic: String,
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    /// Sent twice with the same webhook id (`deliver_twice`).
    twice: bool,
}

struct Pending {
    deliveries: VecDeque<Delivery>,
    faults: WebhookFaults,
    rng: ChaCha8Rng,
}

/// The deliveries waiting, the injected trouble, the log of attempts and
/// how many are queued or in flight.
struct Queue {
    pending: Mutex<Pending>,
    notify: Notify,
    outstanding: watch::Sender<usize>,
    log: Mutex<Vec<SentDelivery>>,
    lost: AtomicUsize,
    client: reqwest::Client,
}

impl Queue {
    fn done(&self) {
        self.outstanding.send_modify(|n| *n = n.saturating_sub(1));
    }

    /// One attempt; whether the receiver took it (2xx).
    async fn attempt(&self, d: &Delivery) -> bool {
        let mut req = self.client.post(&d.url).body(d.body.clone());
        for (k, v) in &d.headers {
            req = req.header(*k, v);
        }
        let status = req.send().await.ok().map(|r| r.status().as_u16());
        lock(&self.log).push(SentDelivery {
            webhook_id: d.webhook_id.clone(),
            topic: d.topic.clone(),
            url: d.url.clone(),
            status,
        });
        status.is_some_and(|s| (200..300).contains(&s))
    }

    /// The retries after a first attempt that failed, with the same id
    /// and body.
    async fn retry(&self, d: &Delivery) {
        for attempt in 1..TRIES {
            tokio::time::sleep(RETRY_AFTER * 2u32.pow(attempt - 1)).await;
            if self.attempt(d).await {
                return;
            }
        }
    }

    /// Sends `d` (`copies` times): the first attempt now, its retries in
    /// the background, so one receiver down does not hold the queue.
    async fn send(self: &Arc<Self>, d: Delivery, copies: u32) {
        let d = Arc::new(d);
        for _ in 0..copies {
            if !self.attempt(&d).await {
                self.outstanding.send_modify(|n| *n += 1);
                let (queue, d) = (Arc::clone(self), Arc::clone(&d));
                tokio::spawn(async move {
                    queue.retry(&d).await;
                    queue.done();
                });
            }
        }
    }

    /// Sends the queue, oldest first unless a fault says otherwise.
    async fn run(self: Arc<Self>) {
        loop {
            let picked = {
                let mut p = lock(&self.pending);
                if p.deliveries.is_empty() {
                    None
                } else {
                    let (faults, n) = (p.faults.clone(), p.deliveries.len());
                    let (index, fate) = faults.draw(&mut p.rng, n);
                    p.deliveries.remove(index).map(|d| (d, fate))
                }
            };
            let Some((d, fate)) = picked else {
                self.notify.notified().await;
                continue;
            };
            let copies = if d.twice || fate.duplicate { 2 } else { 1 };
            if fate.lost {
                self.lost.fetch_add(1, Ordering::Relaxed);
            } else if let Some(delay) = fate.delay {
                self.outstanding.send_modify(|n| *n += 1);
                let queue = Arc::clone(&self);
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    queue.send(d, copies).await;
                    queue.done();
                });
            } else {
                self.send(d, copies).await;
            }
            self.done();
        }
    }
}

impl Drop for Hooks {
    fn drop(&mut self) {
        if let Some(worker) = lock(&self.worker).take() {
            worker.abort();
        }
    }
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
    pub fn new(secret: String, shop_domain: String, api_version: &str, seed: u64) -> Hooks {
        Hooks {
            subscriptions: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1_929_113_141_554),
            next_delivery: AtomicU64::new(1),
            secret,
            shop_domain,
            api_version: api_version.to_owned(),
            twice: AtomicUsize::new(0),
            queue: Arc::new(Queue {
                pending: Mutex::new(Pending {
                    deliveries: VecDeque::new(),
                    faults: WebhookFaults::default(),
                    rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5409_1F7E),
                }),
                notify: Notify::new(),
                outstanding: watch::channel(0).0,
                log: Mutex::new(Vec::new()),
                lost: AtomicUsize::new(0),
                client: reqwest::Client::new(),
            }),
            worker: Mutex::new(None),
        }
    }

    /// Delivery trouble from now on.
    pub fn set_faults(&self, faults: WebhookFaults) {
        lock(&self.queue.pending).faults = faults;
    }

    /// Deliveries dropped by [`WebhookFaults::loss`].
    pub fn lost(&self) -> usize {
        self.queue.lost.load(Ordering::Relaxed)
    }

    /// Waits until no delivery is queued, held back or being retried.
    pub async fn settled(&self) {
        let mut rx = self.queue.outstanding.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
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
        lock(&self.queue.log).clone()
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
        let mut queued = 0;
        {
            let mut pending = lock(&self.queue.pending);
            for url in urls {
                let n = self.next_delivery.fetch_add(1, Ordering::Relaxed);
                let webhook_id = format!("{:08x}-5f0f-4a17-8000-{n:012x}", event as u32);
                let twice = self
                    .twice
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| t.checked_sub(1))
                    .is_ok();
                let headers = vec![
                    ("Content-Type", "application/json".to_owned()),
                    ("X-Shopify-Topic", rest_topic.clone()),
                    ("X-Shopify-Hmac-Sha256", hmac.clone()),
                    ("X-Shopify-Shop-Domain", self.shop_domain.clone()),
                    ("X-Shopify-API-Version", self.api_version.clone()),
                    ("X-Shopify-Webhook-Id", webhook_id.clone()),
                    ("X-Shopify-Triggered-At", triggered.clone()),
                    ("X-Shopify-Event-Id", format!("event-{event}")),
                ];
                pending.deliveries.push_back(Delivery {
                    webhook_id,
                    topic: rest_topic.clone(),
                    url,
                    headers,
                    body: body.clone(),
                    twice,
                });
                queued += 1;
            }
        }
        self.queue.outstanding.send_modify(|n| *n += queued);
        let mut worker = lock(&self.worker);
        if worker.is_none() {
            *worker = Some(tokio::spawn(Arc::clone(&self.queue).run()));
        }
        self.queue.notify.notify_one();
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

/// A customer as `customers/create|update` deliveries carry it (the fields
/// of the documented payload: no tags, no order count).
pub fn customer_payload(store: &Store, gid: &str) -> Option<Value> {
    let c = store.node(gid)?;
    let a = &c["defaultAddress"];
    let default_address = if a.is_object() {
        json!({
            "id": number(&c["id"]), "customer_id": number(&c["id"]),
            "first_name": a["firstName"], "last_name": a["lastName"], "company": a["company"],
            "address1": a["address1"], "address2": a["address2"], "city": a["city"],
            "province": a["province"], "country": a["country"], "zip": a["zip"],
            "phone": a["phone"], "name": a["name"], "province_code": a["provinceCode"],
            "country_code": a["countryCodeV2"], "country_name": a["country"], "default": true,
        })
    } else {
        Value::Null
    };
    Some(json!({
        "id": number(&c["id"]),
        "created_at": rest_time(&c["createdAt"]),
        "updated_at": rest_time(&c["updatedAt"]),
        "first_name": c["firstName"],
        "last_name": c["lastName"],
        "state": lower(&c["state"]),
        "note": c["note"],
        "verified_email": c["verifiedEmail"],
        "multipass_identifier": null,
        "tax_exempt": c["taxExempt"],
        "email": c["email"],
        "phone": c["phone"],
        "currency": "GBP",
        "addresses": if default_address.is_null() { json!([]) } else { json!([default_address.clone()]) },
        "tax_exemptions": [],
        "admin_graphql_api_id": c["id"],
        "default_address": default_address,
    }))
}
