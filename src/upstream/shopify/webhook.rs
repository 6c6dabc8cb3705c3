//! Shopify webhook deliveries on the wire: the `X-Shopify-*` headers read into
//! our own [`DeliveryHeaders`], and the signature, base64 HMAC-SHA256 of the
//! raw body keyed with the app's client secret, compared in constant time.
//!
//! Verification runs on the raw bytes, before anything is parsed: the same
//! JSON value re-serialised (indentation, `\/` escapes, a trailing newline)
//! signs differently.

use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::domain::GmtTime;
use crate::upstream::header_text as text;

pub const HEADER_HMAC: &str = "x-shopify-hmac-sha256";
pub const HEADER_TOPIC: &str = "x-shopify-topic";
pub const HEADER_SHOP_DOMAIN: &str = "x-shopify-shop-domain";
pub const HEADER_WEBHOOK_ID: &str = "x-shopify-webhook-id";
pub const HEADER_API_VERSION: &str = "x-shopify-api-version";
pub const HEADER_TRIGGERED_AT: &str = "x-shopify-triggered-at";
pub const HEADER_EVENT_ID: &str = "x-shopify-event-id";
pub const HEADER_NAME: &str = "x-shopify-name";

/// Length of an HMAC-SHA256.
const MAC_LEN: usize = 32;

/// Why a delivery's headers are refused. Each names the header as Shopify
/// spells it, so the log line says what to look for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// A header Shopify sends with every delivery is absent or empty.
    #[error("the delivery has no {0} header")]
    Missing(&'static str),
    /// A header is there but its value is not what Shopify sends.
    #[error("the delivery's {header} header is not {expected} (got {got:?})")]
    Malformed {
        header: &'static str,
        expected: &'static str,
        got: String,
    },
}

/// The headers of one delivery, in our terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryHeaders {
    /// The decoded HMAC (32 bytes).
    pub hmac: Vec<u8>,
    /// `products/update`, `orders/create`, …
    pub topic: String,
    /// `name.myshopify.com`, lower-cased.
    pub shop_domain: String,
    /// One per delivery, kept across Shopify's retries: the dedupe key.
    pub webhook_id: String,
    /// The payload's API version, `YYYY-MM` (or `unstable`).
    pub api_version: String,
    /// When the event fired (whole seconds); retries carry the original.
    pub triggered_at: Option<GmtTime>,
    /// The same for every delivery of one event (several subscriptions).
    pub event_id: Option<String>,
    /// The subscription's name, when it has one.
    pub name: Option<String>,
}

fn required<'a>(
    headers: &'a HeaderMap,
    name: &str,
    shown: &'static str,
) -> Result<&'a str, HeaderError> {
    text(headers, name).ok_or(HeaderError::Missing(shown))
}

fn malformed(header: &'static str, expected: &'static str, got: &str) -> HeaderError {
    HeaderError::Malformed {
        header,
        expected,
        got: got.chars().take(80).collect(),
    }
}

/// `name.myshopify.com`: one DNS label of letters, digits and hyphens.
fn is_shop_domain(s: &str) -> bool {
    s.strip_suffix(".myshopify.com").is_some_and(|name| {
        !name.is_empty()
            && name.len() <= 63
            && !name.starts_with('-')
            && !name.ends_with('-')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

/// `YYYY-MM` with a real month, or `unstable`.
fn is_api_version(s: &str) -> bool {
    if s == "unstable" {
        return true;
    }
    let Some((year, month)) = s.split_once('-') else {
        return false;
    };
    year.len() == 4
        && month.len() == 2
        && year.bytes().all(|b| b.is_ascii_digit())
        && month.parse::<u8>().is_ok_and(|m| (1..=12).contains(&m))
}

/// Reads a delivery's headers. The signature, topic, shop, webhook id and
/// API version must be there; the trigger time, event id and subscription
/// name may be absent, but if present must be well formed.
pub fn read_headers(headers: &HeaderMap) -> Result<DeliveryHeaders, HeaderError> {
    const HMAC: &str = "X-Shopify-Hmac-Sha256";
    const SHOP: &str = "X-Shopify-Shop-Domain";
    const VERSION: &str = "X-Shopify-API-Version";
    const TRIGGERED: &str = "X-Shopify-Triggered-At";

    let raw = required(headers, HEADER_HMAC, HMAC)?;
    let hmac = BASE64
        .decode(raw)
        .ok()
        .filter(|m| m.len() == MAC_LEN)
        .ok_or_else(|| malformed(HMAC, "a base64 HMAC-SHA256 (32 bytes)", raw))?;

    let topic = required(headers, HEADER_TOPIC, "X-Shopify-Topic")?;
    if !topic.contains('/') {
        return Err(malformed(
            "X-Shopify-Topic",
            "a topic like products/update",
            topic,
        ));
    }

    let shop = required(headers, HEADER_SHOP_DOMAIN, SHOP)?.to_ascii_lowercase();
    if !is_shop_domain(&shop) {
        return Err(malformed(SHOP, "a name.myshopify.com domain", &shop));
    }

    let webhook_id = required(headers, HEADER_WEBHOOK_ID, "X-Shopify-Webhook-Id")?;

    let api_version = required(headers, HEADER_API_VERSION, VERSION)?;
    if !is_api_version(api_version) {
        return Err(malformed(
            VERSION,
            "an API version like 2026-04",
            api_version,
        ));
    }

    let triggered_at = match text(headers, HEADER_TRIGGERED_AT) {
        None => None,
        Some(raw) => Some(
            chrono::DateTime::parse_from_rfc3339(raw)
                .map(|t| GmtTime::from_unix(t.timestamp()))
                .map_err(|_| malformed(TRIGGERED, "an RFC 3339 time with its offset", raw))?,
        ),
    };

    Ok(DeliveryHeaders {
        hmac,
        topic: topic.to_owned(),
        shop_domain: shop,
        webhook_id: webhook_id.to_owned(),
        api_version: api_version.to_owned(),
        triggered_at,
        event_id: text(headers, HEADER_EVENT_ID).map(str::to_owned),
        name: text(headers, HEADER_NAME).map(str::to_owned),
    })
}

/// Whether `hmac` is the HMAC-SHA256 of `body` under one of `secrets` (more
/// than one while a rotated client secret takes effect, up to an hour).
pub fn verify<'a>(
    body: &[u8],
    hmac: &[u8],
    secrets: impl IntoIterator<Item = &'a SecretString>,
) -> bool {
    secrets.into_iter().any(|secret| {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) else {
            return false;
        };
        mac.update(body);
        // verify_slice compares in constant time.
        mac.verify_slice(hmac).is_ok()
    })
}

/// The `X-Shopify-Hmac-Sha256` value Shopify would send for `body` (tests,
/// benchmarks, a simulated store's counterpart).
pub fn sign(body: &[u8], secret: &SecretString) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(body);
    BASE64.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
