//! The local HTTP server: the POS JSON API, the back-office status page,
//! `/healthz`, `/metrics`. Handlers are thin: they extract, call `store`/`sync`, and map
//! the result; errors leave as `{"error":{"code","message"}}`. Every request
//! passes [`security::guard`] first, and every route has its row (who may
//! call it) in [`security::ROUTES`].

pub mod backoffice;
mod backup;
pub mod doctor;
mod health;
mod input;
mod lookup;
mod metrics;
mod outbox;
mod people;
mod sales;
pub mod security;
mod shop_rules;
mod stock;
mod support;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::config::{ConfigView, LookupConfig};
use crate::domain::outbox::Refusal;
use crate::domain::till::TillSettings;
use crate::store::{Store, StoreError};
use crate::sync::progress::PullProgress;
use crate::sync::reindex::ReindexWaker;
use crate::sync::replay::ReplayWaker;

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
    /// How this till books its sales.
    pub till: Arc<TillSettings>,
    /// Wakes the outbox replayer when a change is queued.
    pub replay: ReplayWaker,
    /// Wakes the meta-mapping re-index when a mapping changed.
    pub reindex: ReindexWaker,
    /// The webhook receiver; `None` serves no deliveries.
    pub webhooks: Option<webhooks::Receiver>,
    /// Who may call: tokens, the back-office session, the Host check.
    pub security: security::Security,
    /// The settings in force, saving them, activating and deactivating.
    pub control: crate::app::control::Control,
    /// `possync demo`'s offline switch; `None` outside the demo.
    pub demo: Option<backoffice::demo::DemoSwitch>,
    /// Pulls and sweeps started from the page; the webhook actions' client.
    pub operations: crate::sync::operations::Operations<crate::upstream::shop::Shop>,
    /// When the shop last answered, and last could not be reached.
    pub contact: crate::upstream::contact::Contact,
}

/// The whole router.
pub fn router(state: AppState) -> Router {
    let local = Router::new()
        .merge(health::routes())
        .merge(metrics::routes())
        .merge(backoffice::routes())
        .merge(lookup::routes())
        .merge(sales::routes())
        .merge(people::routes())
        .merge(stock::routes())
        .merge(outbox::routes())
        .merge(backup::routes())
        .merge(doctor::routes())
        .merge(support::routes())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES));
    Router::new()
        .merge(local)
        // Its own body limit (2 MiB): a large order is bigger than the
        // local API's requests.
        .merge(webhooks::routes())
        .fallback(not_found)
        // Every route and the fallback: nothing reaches a handler before
        // the Host, origin, content type and caller are checked.
        .layer(axum::middleware::from_fn_with_state(
            state.security.clone(),
            security::guard,
        ))
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
    InvalidParameter { field: String, reason: String },
    /// 503: the replica cannot be read right now.
    #[error("the local replica is unavailable: {0}")]
    Unavailable(#[from] StoreError),
    /// 400: the request could not be read (not JSON, unreadable body).
    #[error("{0}")]
    BadRequest(String),
    /// 401: a webhook delivery without a valid signature, or a request
    /// without a valid token or session (missing and wrong look the same).
    #[error("{0}")]
    Unauthorized(String),
    /// 421: the `Host` is not one of this agent's names (DNS rebinding).
    #[error("{0}")]
    MisdirectedRequest(String),
    /// 403: a state-changing request from another origin or site.
    #[error("{0}")]
    CrossOrigin(String),
    /// 403: a state-changing request on the back-office session without
    /// its CSRF token (or a form without the login form's token).
    #[error("the request lacks this page's CSRF token: reload the page and try again")]
    Csrf,
    /// 415: the body is not of the type the route takes.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 500: a route registered without a row in the access table.
    #[error("{0} is not in the access table")]
    UndeclaredRoute(String),
    /// 413: the body is larger than accepted.
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// 503: the request cannot be taken right now.
    #[error("{0}")]
    Busy(String),
    /// 422: a field has a wrong shape or value; `field` is its path.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// 503: a name search while a first pull has not built the search
    /// index yet (barcode, SKU and id lookups answer meanwhile).
    #[error(
        "the name-search index is being built: the first pull of the catalog is still running; barcode, SKU and id lookups work meanwhile, retry the search when it ends"
    )]
    IndexBuilding,
    /// 409: well formed, but it cannot apply now (stock, state).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 403: a correctly signed webhook delivery from a shop this agent
    /// does not sync.
    #[error("{0}")]
    OtherShop(String),
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::NotFound(m) => ApiError::NotFound(m),
            Refusal::Invalid { field, reason } => ApiError::Invalid { field, reason },
            Refusal::Conflict { code, message } => ApiError::Conflict { code, message },
        }
    }
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::InvalidParameter { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unavailable(StoreError::DiskFull) => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Unavailable(_) | ApiError::Busy(_) | ApiError::IndexBuilding => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::MisdirectedRequest(_) => StatusCode::MISDIRECTED_REQUEST,
            ApiError::CrossOrigin(_) | ApiError::Csrf | ApiError::OtherShop(_) => {
                StatusCode::FORBIDDEN
            }
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::UndeclaredRoute(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::NotFound(_) => "not_found",
            ApiError::InvalidParameter { .. } => "invalid_parameter",
            ApiError::Unavailable(StoreError::DiskFull) => "disk_full",
            ApiError::Unavailable(_) => "replica_unavailable",
            ApiError::BadRequest(_) => "malformed_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::MisdirectedRequest(_) => "misdirected_request",
            ApiError::CrossOrigin(_) => "cross_origin",
            ApiError::Csrf => "csrf_token_invalid",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::UndeclaredRoute(_) => "undeclared_route",
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::Busy(_) => "busy",
            ApiError::IndexBuilding => "search_index_building",
            ApiError::Invalid { .. } => "invalid",
            ApiError::Conflict { code, .. } => code,
            ApiError::OtherShop(_) => "other_shop",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut body = serde_json::json!({
            "error": { "code": self.code(), "message": self.to_string() }
        });
        if let ApiError::Invalid { field, .. } | ApiError::InvalidParameter { field, .. } = &self {
            body["error"]["field"] = serde_json::json!(field);
        }
        (status, axum::Json(body)).into_response()
    }
}
