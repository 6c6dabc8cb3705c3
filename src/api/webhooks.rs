//! `POST /webhooks/woocommerce`: raw body → signature check → inbox → 200.
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
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use secrecy::SecretString;
use serde_json::json;

use super::{ApiError, AppState};
use crate::domain::time::unix_millis_now;
use crate::domain::webhooks::ReceivedDelivery;
use crate::store::inbox::{Inbox, IngestError};
use crate::sync::webhooks::secrets::Secrets;
use crate::upstream::woo::webhook;

/// Where WooCommerce delivers.
pub const WOOCOMMERCE_PATH: &str = "/webhooks/woocommerce";
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
    pub secrets: Arc<Secrets>,
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(WOOCOMMERCE_PATH, post(receive))
}

#[tracing::instrument(skip_all, fields(topic, webhook_id))]
async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_DELIVERY_BYTES as u64) {
        return Err(ApiError::TooLarge(MAX_DELIVERY_BYTES));
    }
    let body = axum::body::to_bytes(body, MAX_DELIVERY_BYTES)
        .await
        .map_err(|e| {
            if chain_mentions(&e, "length limit") {
                ApiError::TooLarge(MAX_DELIVERY_BYTES)
            } else {
                ApiError::BadRequest(format!("cannot read the request body: {e}"))
            }
        })?;
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
