//! The local HTTP server: the POS JSON API, the back-office status page,
//! `/healthz`. Handlers are thin: they extract, call `store`/`sync`, and map
//! the result; errors leave as `{"error":{"code","message"}}`.

mod backoffice;
mod health;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::config::ConfigView;
use crate::store::{Store, StoreError};
use crate::sync::progress::PullProgress;

/// The largest request body the local API accepts.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub progress: watch::Receiver<PullProgress>,
    /// The configuration without secrets.
    pub config: Arc<ConfigView>,
    /// When the agent started (unix ms).
    pub started_at: i64,
    /// The webhook receiver; `None` serves no deliveries.
    pub webhooks: Option<webhooks::Receiver>,
}

/// The whole router.
pub fn router(state: AppState) -> Router {
    let local = Router::new()
        .merge(health::routes())
        .merge(backoffice::routes())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES));
    Router::new()
        .merge(local)
        // Its own body limit (2 MiB): a large order is bigger than the
        // local API's requests.
        .merge(webhooks::routes())
        .fallback(not_found)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint".to_owned())
}

/// An error answer of the local API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 404: the endpoint or object does not exist.
    #[error("{0}")]
    NotFound(String),
    /// 503: the replica cannot be read right now.
    #[error("the local replica is unavailable: {0}")]
    Unavailable(#[from] StoreError),
    /// 400: the request could not be read.
    #[error("{0}")]
    BadRequest(String),
    /// 401: a webhook delivery without a valid signature.
    #[error("{0}")]
    Unauthorized(String),
    /// 413: the body is larger than accepted.
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// 503: the request cannot be taken right now.
    #[error("{0}")]
    Busy(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unavailable(_) | ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::NotFound(_) => "not_found",
            ApiError::Unavailable(_) => "replica_unavailable",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::Busy(_) => "busy",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let body = serde_json::json!({
            "error": { "code": self.code(), "message": self.to_string() }
        });
        (status, axum::Json(body)).into_response()
    }
}
