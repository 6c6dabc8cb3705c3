//! `POST /webhooks/woocommerce` and `POST /webhooks/shopify`: raw body →
//! signature check → inbox → 200.
//!
//! The body is never parsed before its signature checks out, and a verified
//! delivery is answered as soon as it is committed to the inbox, where it
//! survives a crash of the agent (a worker applies it afterwards; see
//! `store::inbox` for what a power cut may take): the shop never retries a
//! delivery and disables a subscription after repeated failures, so the
//! answer must be quick.
//! The unsigned ping WooCommerce sends when a subscription is created is
//! answered 200 and not stored.
//!
//! Shopify's deliveries carry the signature in `X-Shopify-Hmac-Sha256`
//! (the app's client secret signs them all), come from one shop
//! (`X-Shopify-Shop-Domain`; another shop's are refused) and name their
//! delivery in `X-Shopify-Webhook-Id`, which Shopify's retries repeat: a
//! retry of a delivery the inbox holds is answered 200 and not stored
//! again. A topic the agent does not take is refused, so a subscription
//! made by hand for something else shows up in the shop's delivery log.
//!
//! What happens before the answer is kept to the minimum: the headers, the
//! HMAC over the raw bytes (on the blocking pool for large bodies), and the
//! hand-over to the inbox's writer thread, which answers once the batch
//! holding the delivery is committed. Nothing is parsed here; the body is
//! JSON only to the worker. The inbox is its own database file, so the
//! commit never waits for the replica's writer (full-pull pages, applied
//! batches, checkpoints).

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use secrecy::SecretString;
use serde_json::json;

use super::{ApiError, AppState};
use crate::config::{Config, ShopifyCredentials};
use crate::domain::time::unix_millis_now;
use crate::domain::webhooks::ReceivedDelivery;
use crate::store::inbox::{Inbox, IngestError, Stored};
use crate::sync::webhooks::secrets::Secrets;
use crate::upstream::shopify::delivery::DeliveryTopic;
use crate::upstream::shopify::webhook as shopify;
use crate::upstream::woo::webhook;

/// Where WooCommerce delivers.
pub const WOOCOMMERCE_PATH: &str = "/webhooks/woocommerce";
/// Where Shopify delivers.
pub const SHOPIFY_PATH: &str = "/webhooks/shopify";
/// The largest delivery accepted.
pub const MAX_DELIVERY_BYTES: usize = 2 * 1024 * 1024;
/// Bodies up to this size are verified on the runtime's thread (tens of
/// microseconds of HMAC); larger ones, up to milliseconds, on the blocking
/// pool, so they do not hold up the other requests of that thread.
const VERIFY_INLINE_BYTES: usize = 64 * 1024;

/// What the receiver needs.
#[derive(Clone)]
pub struct Receiver {
    pub inbox: Inbox,
    /// WooCommerce's signing secrets.
    pub secrets: Arc<Secrets>,
    /// Shopify's shop and secrets; `None` when the store is not a Shopify
    /// shop (its deliveries are then not received).
    pub shopify: Option<ShopifyDeliveries>,
}

/// What Shopify deliveries are checked against.
#[derive(Clone)]
pub struct ShopifyDeliveries {
    /// `name.myshopify.com`, lower case: deliveries from another shop are
    /// refused.
    pub shop_domain: String,
    /// The app's client secret(s) deliveries may be signed with.
    pub secrets: Arc<Vec<SecretString>>,
}

impl std::fmt::Debug for ShopifyDeliveries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopifyDeliveries")
            .field("shop_domain", &self.shop_domain)
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl ShopifyDeliveries {
    /// For a configured Shopify store: its shop, and the secrets Shopify
    /// signs with, the app's client secret: `store.client_secret` when the
    /// agent signs in with client credentials, and `webhooks.secret` (the
    /// app's secret beside an access token, or the next one while a rotated
    /// secret takes effect). `None` for any other store, or with no secret
    /// at all (nothing could be verified).
    pub fn from_config(config: &Config) -> Option<ShopifyDeliveries> {
        let s = config.store.as_ref()?.shopify()?;
        let mut secrets = Vec::new();
        if let ShopifyCredentials::ClientCredentials { client_secret, .. } = &s.credentials {
            secrets.push(client_secret.clone());
        }
        secrets.extend(config.webhooks.secret.iter().cloned());
        if secrets.is_empty() {
            tracing::warn!(
                "Shopify deliveries are refused: set webhooks.secret to the app's client secret"
            );
            return None;
        }
        Some(ShopifyDeliveries {
            shop_domain: s.shop.to_ascii_lowercase(),
            secrets: Arc::new(secrets),
        })
    }
}

/// The receiver, as the Shopify route takes it from the app's state.
#[derive(Clone)]
pub struct Deliveries(pub Option<Receiver>);

impl FromRef<AppState> for Deliveries {
    fn from_ref(state: &AppState) -> Self {
        Deliveries(state.webhooks.clone())
    }
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(WOOCOMMERCE_PATH, post(receive))
        .route(SHOPIFY_PATH, post(receive_shopify))
}

/// The Shopify receiving route alone, on `receiver` (benchmarks and
/// tests that exercise the receiver without a whole agent around it).
pub fn shopify_receiver(receiver: Receiver) -> Router {
    Router::new()
        .route(SHOPIFY_PATH, post(receive_shopify))
        .with_state(Deliveries(Some(receiver)))
}

/// Reads the body up to [`MAX_DELIVERY_BYTES`].
async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_DELIVERY_BYTES as u64) {
        return Err(ApiError::TooLarge(MAX_DELIVERY_BYTES));
    }
    axum::body::to_bytes(body, MAX_DELIVERY_BYTES)
        .await
        .map_err(|e| {
            if chain_mentions(&e, "length limit") {
                ApiError::TooLarge(MAX_DELIVERY_BYTES)
            } else {
                ApiError::BadRequest(format!("cannot read the request body: {e}"))
            }
        })
}

fn refused(e: ApiError) -> ApiError {
    tracing::warn!(error = %e, "webhook refused");
    crate::telemetry::metrics::webhook_refused();
    e
}

#[tracing::instrument(skip_all, fields(topic, webhook_id))]
async fn receive_shopify(
    State(Deliveries(receiver)): State<Deliveries>,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let body = read_body(&headers, body).await.map_err(refused)?;
    let Some((receiver, shop)) = receiver
        .as_ref()
        .and_then(|r| r.shopify.as_ref().map(|s| (r, s)))
    else {
        return Err(ApiError::NotFound(
            "Shopify deliveries are not received here: the store is not a Shopify shop with a client secret".to_owned(),
        ));
    };
    let delivery = shopify::read_headers(&headers).map_err(|e| {
        let signature = matches!(
            &e,
            shopify::HeaderError::Missing(h) | shopify::HeaderError::Malformed { header: h, .. }
                if h.eq_ignore_ascii_case(shopify::HEADER_HMAC)
        );
        refused(if signature {
            ApiError::Unauthorized(e.to_string())
        } else {
            ApiError::BadRequest(e.to_string())
        })
    })?;
    let span = tracing::Span::current();
    span.record("topic", delivery.topic.as_str());
    span.record("webhook_id", delivery.webhook_id.as_str());
    if !verify_shopify(&body, &delivery.hmac, Arc::clone(&shop.secrets)).await {
        return Err(refused(ApiError::Unauthorized(
            "the X-Shopify-Hmac-Sha256 signature does not match the body under the app's client secret".to_owned(),
        )));
    }
    if delivery.shop_domain != shop.shop_domain {
        return Err(refused(ApiError::OtherShop(format!(
            "the delivery is from {}, but this agent syncs {}",
            delivery.shop_domain, shop.shop_domain
        ))));
    }
    if DeliveryTopic::parse(&delivery.topic).is_none() {
        let taken: Vec<&str> = DeliveryTopic::ALL.iter().map(|t| t.rest_name()).collect();
        return Err(refused(ApiError::Invalid {
            field: "X-Shopify-Topic".to_owned(),
            reason: format!(
                "{:?} is not a topic the agent takes ({})",
                delivery.topic,
                taken.join(", ")
            ),
        }));
    }
    let stored = receiver
        .inbox
        .store_once(ReceivedDelivery {
            received_at: unix_millis_now(),
            topic: delivery.topic,
            webhook_id: None,
            delivery_id: Some(delivery.webhook_id),
            body: Vec::from(body),
        })
        .await
        .map_err(|e| ApiError::Busy(e.to_string()))?;
    Ok((
        StatusCode::OK,
        axum::Json(match stored {
            Stored::New => json!({ "stored": true }),
            Stored::Duplicate => json!({ "stored": false, "duplicate": true }),
        }),
    ))
}

/// Whether `hmac` signs `body` under one of Shopify's `secrets`.
async fn verify_shopify(body: &Bytes, hmac: &[u8], secrets: Arc<Vec<SecretString>>) -> bool {
    if body.len() <= VERIFY_INLINE_BYTES {
        return shopify::verify(body, hmac, secrets.iter());
    }
    let (body, hmac) = (body.clone(), hmac.to_vec());
    tokio::task::spawn_blocking(move || shopify::verify(&body, &hmac, secrets.iter()))
        .await
        .unwrap_or(false)
}

#[tracing::instrument(skip_all, fields(topic, webhook_id))]
async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let body = read_body(&headers, body).await?;
    if let Some(id) = webhook::ping_webhook_id(&headers, &body) {
        tracing::info!(webhook_id = id, "webhook ping answered");
        return Ok((StatusCode::OK, axum::Json(json!({ "ping": id }))));
    }
    let Some(receiver) = &state.webhooks else {
        return Err(ApiError::NotFound(
            "webhooks are not received here".to_owned(),
        ));
    };
    let delivery = webhook::read_headers(&headers).map_err(|e| {
        tracing::warn!(error = %e, "webhook refused");
        crate::telemetry::metrics::webhook_refused();
        ApiError::Unauthorized(e.to_string())
    })?;
    let span = tracing::Span::current();
    span.record("topic", delivery.topic.as_str());
    if let Some(id) = delivery.webhook_id {
        span.record("webhook_id", id);
    }
    let mut ok = verify(&body, &delivery.signature, receiver.secrets.snapshot()).await;
    if !ok && receiver.secrets.reload_if_due().await {
        ok = verify(&body, &delivery.signature, receiver.secrets.snapshot()).await;
    }
    if !ok {
        tracing::warn!("webhook refused: the signature matches no known secret");
        crate::telemetry::metrics::webhook_refused();
        return Err(ApiError::Unauthorized(
            "the signature matches no known webhook secret".to_owned(),
        ));
    }
    receiver
        .inbox
        .store(ReceivedDelivery {
            received_at: unix_millis_now(),
            topic: delivery.topic,
            webhook_id: delivery.webhook_id,
            delivery_id: delivery.delivery_id,
            body: Vec::from(body),
        })
        .await
        .map_err(|e| match e {
            IngestError::Busy | IngestError::Closed => ApiError::Busy(e.to_string()),
            IngestError::Store(_) => ApiError::Busy(e.to_string()),
        })?;
    Ok((StatusCode::OK, axum::Json(json!({ "stored": true }))))
}

/// Whether `signature` signs `body` under one of `secrets`.
async fn verify(body: &Bytes, signature: &[u8], secrets: Arc<Vec<SecretString>>) -> bool {
    if body.len() <= VERIFY_INLINE_BYTES {
        return webhook::verify(body, signature, secrets.iter());
    }
    let (body, signature) = (body.clone(), signature.to_vec());
    tokio::task::spawn_blocking(move || webhook::verify(&body, &signature, secrets.iter()))
        .await
        .unwrap_or(false)
}

fn chain_mentions(e: &(dyn std::error::Error + 'static), needle: &str) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.to_string().contains(needle) {
            return true;
        }
        cur = err.source();
    }
    false
}
