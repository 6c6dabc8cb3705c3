//! WooCommerce webhooks on the wire: delivery headers, the signature
//! (base64 HMAC-SHA256 of the raw body, compared in constant time), the
//! unsigned ping, payloads turned into domain instructions, and the REST
//! shape of subscriptions.
//!
//! Verification always runs on the raw bytes: WooCommerce signs PHP's
//! `json_encode` output (`\/`, `\u2014`), which no re-serialization
//! reproduces. Nothing here is parsed before the signature checks out.

use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;

use super::wire;
use crate::domain::batch::Records;
use crate::domain::catalog::ProductKind;
use crate::domain::webhooks::{
    Action, Instruction, Subject, Subscription, SubscriptionStatus, Topic,
};
use crate::domain::{Resource, UpstreamId};
use crate::upstream::UpstreamError;
use crate::upstream::header_text as text;

pub const HEADER_SIGNATURE: &str = "x-wc-webhook-signature";
pub const HEADER_TOPIC: &str = "x-wc-webhook-topic";
pub const HEADER_ID: &str = "x-wc-webhook-id";
pub const HEADER_DELIVERY_ID: &str = "x-wc-webhook-delivery-id";
pub const HEADER_RESOURCE: &str = "x-wc-webhook-resource";
pub const HEADER_EVENT: &str = "x-wc-webhook-event";
pub const HEADER_SOURCE: &str = "x-wc-webhook-source";

/// Why a delivery's headers are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// A header WooCommerce always sends with an event is absent.
    #[error("the delivery has no {0} header")]
    Missing(&'static str),
    /// The signature header is not base64.
    #[error("the delivery's signature header is not base64")]
    BadSignatureEncoding,
}

/// The headers of an event delivery that matter.
#[derive(Debug, Clone)]
pub struct DeliveryHeaders {
    pub topic: String,
    /// The decoded HMAC.
    pub signature: Vec<u8>,
    pub webhook_id: Option<UpstreamId>,
    pub delivery_id: Option<String>,
}

/// Reads an event delivery's headers: the signature and topic must be there.
pub fn read_headers(headers: &HeaderMap) -> Result<DeliveryHeaders, HeaderError> {
    let signature =
        text(headers, HEADER_SIGNATURE).ok_or(HeaderError::Missing("X-WC-Webhook-Signature"))?;
    let signature = BASE64
        .decode(signature)
        .map_err(|_| HeaderError::BadSignatureEncoding)?;
    let topic = text(headers, HEADER_TOPIC).ok_or(HeaderError::Missing("X-WC-Webhook-Topic"))?;
    Ok(DeliveryHeaders {
        topic: topic.to_owned(),
        signature,
        webhook_id: text(headers, HEADER_ID).and_then(|v| v.parse().ok()),
        delivery_id: text(headers, HEADER_DELIVERY_ID).map(str::to_owned),
    })
}

/// The subscription id of WooCommerce's ping: sent on creation, form-encoded
/// `webhook_id=N`, with no webhook headers and no signature at all.
pub fn ping_webhook_id(headers: &HeaderMap, body: &[u8]) -> Option<UpstreamId> {
    if headers.contains_key(HEADER_SIGNATURE) || headers.contains_key(HEADER_TOPIC) {
        return None;
    }
    let body = std::str::from_utf8(body).ok()?.trim();
    let id = body.strip_prefix("webhook_id=")?;
    id.parse().ok().filter(|n: &UpstreamId| *n > 0)
}

/// WooCommerce passes the stored secret through `wp_specialchars_decode`
/// before signing, so a secret typed with HTML entities signs decoded.
fn specialchars_decoded(secret: &str) -> Option<String> {
    if !secret.contains('&') {
        return None;
    }
    let decoded = secret
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#039;", "'")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&");
    (decoded != secret).then_some(decoded)
}

fn matches(key: &[u8], body: &[u8], signature: &[u8]) -> bool {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return false;
    };
    mac.update(body);
    // verify_slice compares in constant time.
    mac.verify_slice(signature).is_ok()
}

/// Whether `signature` is the HMAC-SHA256 of `body` under one of `secrets`.
pub fn verify<'a>(
    body: &[u8],
    signature: &[u8],
    secrets: impl IntoIterator<Item = &'a SecretString>,
) -> bool {
    secrets.into_iter().any(|s| {
        let s = s.expose_secret();
        matches(s.as_bytes(), body, signature)
            || specialchars_decoded(s).is_some_and(|d| matches(d.as_bytes(), body, signature))
    })
}

/// The signature WooCommerce would send for `body` (tests, benchmarks, the
/// simulated store's counterpart).
pub fn sign(body: &[u8], secret: &SecretString) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(body);
    BASE64.encode(mac.finalize().into_bytes())
}

/// Turns a verified payload into what the replica must do. An `Err` is a
/// payload that cannot be understood (kept as a failed delivery).
pub fn instruction(topic: &str, body: &[u8]) -> Result<Instruction, String> {
    let topic: Topic = match topic.parse() {
        Ok(t) => t,
        Err(reason) => return Ok(Instruction::Ignore { reason }),
    };
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Value::Object(map) = &value else {
        return Err("the body is not a JSON object".to_owned());
    };
    let resource = topic.subject.resource();
    // Built at delivery time: an object force-deleted before then arrives
    // as the REST error its internal GET produced, without its id.
    if !map.contains_key("id")
        && let Some(code) = map.get("code").and_then(Value::as_str)
    {
        return Ok(Instruction::Gone {
            resource,
            code: code.to_owned(),
        });
    }
    if topic.action == Action::Deleted {
        let id = map
            .get("id")
            .and_then(Value::as_i64)
            .filter(|id| *id > 0)
            .ok_or_else(|| "a deletion without a numeric id".to_owned())?;
        return Ok(Instruction::Delete { resource, id });
    }
    let one = Value::Array(vec![value]);
    let records = match topic.subject {
        Subject::Product => {
            let products = wire::products(one).map_err(describe)?;
            if products.iter().all(|p| p.kind == ProductKind::Variation) {
                Records::Variations(products)
            } else {
                Records::Products(products)
            }
        }
        Subject::Order => Records::Orders(wire::orders(one).map_err(describe)?),
        Subject::Customer => Records::Customers(wire::customers(one).map_err(describe)?),
    };
    Ok(Instruction::Upsert(records))
}

fn describe(e: UpstreamError) -> String {
    match e {
        UpstreamError::Malformed { detail, .. } => detail,
        other => other.to_string(),
    }
}

/// The REST path of one object, for a refetch.
pub fn object_path(resource: Resource, id: UpstreamId) -> Option<String> {
    Some(match resource {
        // Variations answer on the products route too, with their type.
        Resource::Products | Resource::Variations => format!("products/{id}"),
        Resource::Orders => format!("orders/{id}"),
        Resource::Customers => format!("customers/{id}"),
        _ => return None,
    })
}

/// Parses one object fetched by id into records.
pub fn object(resource: Resource, body: Value) -> Result<Records, UpstreamError> {
    let one = Value::Array(vec![body]);
    Ok(match resource {
        Resource::Products | Resource::Variations => {
            let products = wire::products(one)?;
            if products.iter().all(|p| p.kind == ProductKind::Variation) {
                Records::Variations(products)
            } else {
                Records::Products(products)
            }
        }
        Resource::Orders => Records::Orders(wire::orders(one)?),
        Resource::Customers => Records::Customers(wire::customers(one)?),
        other => {
            return Err(UpstreamError::Setup(format!(
                "{other} is not fetched one by one"
            )));
        }
    })
}

/// The REST collection of subscriptions.
pub const WEBHOOKS_PATH: &str = "webhooks";

#[derive(Deserialize)]
struct WWebhook {
    id: i64,
    #[serde(default)]
    name: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    delivery_url: String,
}

fn subscription_from(w: WWebhook) -> Subscription {
    Subscription {
        id: w.id,
        name: w.name,
        topic: w.topic,
        delivery_url: w.delivery_url,
        status: SubscriptionStatus::parse(&w.status),
    }
}

fn malformed(what: &str, body: &Value, e: impl std::fmt::Display) -> UpstreamError {
    UpstreamError::Malformed {
        detail: format!("{what}: {e}"),
        snippet: super::classify::snippet(body.to_string().as_bytes()),
    }
}

/// A list of subscriptions.
pub fn subscriptions(body: Value) -> Result<Vec<Subscription>, UpstreamError> {
    Vec::<WWebhook>::deserialize(&body)
        .map(|v| v.into_iter().map(subscription_from).collect())
        .map_err(|e| malformed("expected a list of webhooks", &body, e))
}

/// One subscription.
pub fn subscription(body: Value) -> Result<Subscription, UpstreamError> {
    WWebhook::deserialize(&body)
        .map(subscription_from)
        .map_err(|e| malformed("expected a webhook", &body, e))
}

/// The body of `POST /webhooks`.
pub fn create_body(name: &str, topic: Topic, delivery_url: &str, secret: &SecretString) -> Value {
    json!({
        "name": name,
        "topic": topic.to_string(),
        "delivery_url": delivery_url,
        "secret": secret.expose_secret(),
        "status": "active",
    })
}

/// The body of `PUT /webhooks/{id}`.
pub fn update_body(
    status: Option<SubscriptionStatus>,
    secret: Option<&SecretString>,
    name: Option<&str>,
) -> Value {
    let mut body = json!({});
    if let Some(s) = status {
        body["status"] = json!(s.as_str());
    }
    if let Some(s) = secret {
        body["secret"] = json!(s.expose_secret());
    }
    if let Some(n) = name {
        body["name"] = json!(n);
    }
    body
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
