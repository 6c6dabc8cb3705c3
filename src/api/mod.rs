//! The local HTTP server: the POS JSON API, the back-office status page,
//! `/healthz`. Handlers are thin: they extract, call `store`/`sync`, and map
//! the result; errors leave as `{"error":{"code","message"}}`.

mod backoffice;
mod health;
mod lookup;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::config::{ConfigView, LookupConfig};
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
    /// How till lookups read the replica (pickup statuses and methods).
    pub lookup: Arc<LookupConfig>,
}

/// The whole router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::routes())
        .merge(backoffice::routes())
        .merge(lookup::routes())
        .fallback(not_found)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
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
    /// 400: a query parameter or path segment is malformed, out of range,
    /// unknown or repeated. Nothing was read or changed.
    #[error("{field}: {reason}")]
    BadRequest { field: String, reason: String },
    /// 503: the replica cannot be read right now.
    #[error("the local replica is unavailable: {0}")]
    Unavailable(#[from] StoreError),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::NotFound(_) => "not_found",
            ApiError::BadRequest { .. } => "invalid_parameter",
            ApiError::Unavailable(_) => "replica_unavailable",
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
