//! The delivery worker: picks queued deliveries (in order, unless a
//! reorder is injected), builds each payload from the store as it is at
//! that moment, signs and sends it, and keeps the webhook's failure count.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::{DeliveryOutcome, DeliveryRecord, Hub, Job, topic_of};
use crate::hook_faults::Fate;
use crate::woo::json::to_php_json;
use crate::woo::model::{Store, WebhookStatus};
use crate::woo::mutate::{Change, HookEvent, HookResource};
use crate::woo::render::{self, Ctx};
use crate::woo::{Inner, lock};

/// What WooCommerce 11.0.1 on WordPress 7.1 sends (captured).
const USER_AGENT: &str = "WooCommerce/11.0.1 Hookshot (WordPress/7.1)";

fn pick(hub: &Hub) -> Option<(Job, Fate)> {
    let mut s = lock(&hub.state);
    if s.pending.is_empty() {
        return None;
    }
    let (faults, pending) = (s.faults.clone(), s.pending.len());
    let (index, fate) = faults.draw(&mut s.rng, pending);
    let job = s.pending.remove(index)?;
    Some((job, fate))
}

/// Runs until `stop` is cancelled.
pub(crate) async fn run(inner: Arc<Inner>, stop: CancellationToken) {
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(inner.shop.hooks.timeout)
        .build()
    {
        Ok(c) => c,
        Err(_) => return,
    };
    loop {
        let hub = &inner.shop.hooks;
        let Some((job, fate)) = pick(hub) else {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = hub.notify.notified() => continue,
            }
        };
        if fate.lost {
            let mut r = record_of(&inner, job);
            r.outcome = DeliveryOutcome::Lost;
            hub.record(r);
            hub.done();
            continue;
        }
        match fate.delay {
            Some(delay) => {
                let (inner, client, stop) = (inner.clone(), client.clone(), stop.clone());
                tokio::spawn(async move {
                    tokio::select! {
                        _ = stop.cancelled() => {}
                        _ = tokio::time::sleep(delay) => send(&inner, &client, job, fate.duplicate).await,
                    }
                    inner.shop.hooks.done();
                });
            }
            None => {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = send(&inner, &client, job, fate.duplicate) => {}
                }
                hub.done();
            }
        }
    }
}

fn record_of(inner: &Inner, job: Job) -> DeliveryRecord {
    let store = inner
        .shop
        .store
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (webhook_id, topic, resource_id) = match job {
        Job::Ping { webhook_id } => (webhook_id, None, None),
        Job::Event { webhook_id, change } => (
            webhook_id,
            Some(topic_of(change.resource, change.event)),
            Some(change.id),
        ),
    };
    DeliveryRecord {
        webhook_id,
        topic,
        resource_id,
        url: store
            .webhooks
            .get(&webhook_id)
            .map(|w| w.delivery_url.clone())
            .unwrap_or_default(),
        headers: vec![],
        body: vec![],
        outcome: DeliveryOutcome::Skipped,
    }
}

fn not_found(code: &str, message: &str) -> Value {
    json!({ "code": code, "message": message, "data": { "status": 404 } })
}

/// `build_payload()`: `{"id": N}` for deleted topics, else the REST
/// representation as an internal GET would answer it now — or that GET's
/// error when the resource is gone.
fn payload(ctx: &Ctx<'_>, store: &Store, change: Change) -> Value {
    if change.event == HookEvent::Deleted {
        return json!({ "id": change.id });
    }
    let id = change.id;
    match change.resource {
        HookResource::Product => match (store.products.get(&id), store.variations.get(&id)) {
            (Some(p), _) => render::product(ctx, store, p),
            (None, Some(v)) => render::variation_as_product(ctx, store, v),
            _ => not_found("woocommerce_rest_product_invalid_id", "Invalid ID."),
        },
        HookResource::Order => match store.orders.get(&id) {
            Some(o) => render::order(ctx, store, o),
            None => not_found("woocommerce_rest_shop_order_invalid_id", "Invalid ID."),
        },
        HookResource::Customer => match store.customers.get(&id) {
            Some(c) => render::customer(ctx, c),
            None => not_found("wc_user_invalid_id", "Invalid user ID."),
        },
    }
}

/// `base64( hash_hmac( 'sha256', $payload, $secret, true ) )`.
pub(crate) fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(body);
    BASE64.encode(mac.finalize().into_bytes())
}

/// `wp_hash( $webhook_id . time() )`: 32 hex digits, the same for every
/// delivery of one webhook within one second.
fn delivery_id(webhook_id: i64, now: i64) -> String {
    hex::encode(&Sha256::digest(format!("{webhook_id}{now}").as_bytes())[..16])
}

/// Builds and sends one delivery (twice when duplicated), records it, and
/// for events updates the webhook's failure count.
async fn send(inner: &Inner, client: &reqwest::Client, job: Job, duplicate: bool) {
    let shop = &inner.shop;
    let now = shop.clock.now();
    let built = {
        let store = shop
            .store
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let ctx = Ctx {
            home: &shop.home,
            now,
        };
        match job {
            Job::Ping { webhook_id } => store.webhooks.get(&webhook_id).map(|w| {
                let headers = vec![
                    ("User-Agent".to_owned(), USER_AGENT.to_owned()),
                    (
                        "Content-Type".to_owned(),
                        "application/x-www-form-urlencoded".to_owned(),
                    ),
                ];
                (
                    w.delivery_url.clone(),
                    headers,
                    format!("webhook_id={webhook_id}").into_bytes(),
                )
            }),
            Job::Event { webhook_id, change } => store
                .webhooks
                .get(&webhook_id)
                .filter(|w| w.status == WebhookStatus::Active)
                .map(|w| {
                    let body = to_php_json(&payload(&ctx, &store, change));
                    let headers = vec![
                        ("User-Agent".to_owned(), USER_AGENT.to_owned()),
                        ("Content-Type".to_owned(), "application/json".to_owned()),
                        ("X-WC-Webhook-Source".to_owned(), format!("{}/", shop.home)),
                        ("X-WC-Webhook-Topic".to_owned(), w.topic.clone()),
                        (
                            "X-WC-Webhook-Resource".to_owned(),
                            change.resource.as_str().to_owned(),
                        ),
                        (
                            "X-WC-Webhook-Event".to_owned(),
                            change.event.as_str().to_owned(),
                        ),
                        (
                            "X-WC-Webhook-Signature".to_owned(),
                            signature(&w.secret, &body),
                        ),
                        ("X-WC-Webhook-ID".to_owned(), webhook_id.to_string()),
                        (
                            "X-WC-Webhook-Delivery-ID".to_owned(),
                            delivery_id(webhook_id, now),
                        ),
                    ];
                    (w.delivery_url.clone(), headers, body)
                }),
        }
    };
    let Some((url, headers, body)) = built else {
        shop.hooks.record(record_of(inner, job));
        return;
    };
    for _ in 0..if duplicate { 2 } else { 1 } {
        let mut req = client.post(&url).body(body.clone());
        for (k, v) in &headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let outcome = match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                // Drain the body so the connection is done with.
                let _ = resp.bytes().await;
                DeliveryOutcome::Status(status)
            }
            Err(e) => DeliveryOutcome::Failed(e.without_url().to_string()),
        };
        if let Job::Event { webhook_id, .. } = job {
            count_outcome(inner, webhook_id, &outcome, now);
        }
        let mut r = record_of(inner, job);
        r.url = url.clone();
        r.headers = headers.clone();
        r.body = body.clone();
        r.outcome = outcome;
        shop.hooks.record(r);
    }
}

/// `log_delivery()` / `failed_delivery()`: 200–302 resets the count; a
/// failure with the count already above the maximum disables the webhook,
/// else it counts one more.
fn count_outcome(inner: &Inner, webhook_id: i64, outcome: &DeliveryOutcome, now: i64) {
    let ok = matches!(outcome, DeliveryOutcome::Status(s) if (200..=302).contains(s));
    let mut store = inner
        .shop
        .store
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let max = inner.shop.hooks.max_failures;
    let Some(w) = store.webhooks.get_mut(&webhook_id) else {
        return;
    };
    if ok {
        w.failure_count = 0;
    } else if w.failure_count > max {
        w.status = WebhookStatus::Disabled;
        w.modified = Some(now);
    } else {
        w.failure_count += 1;
    }
}
