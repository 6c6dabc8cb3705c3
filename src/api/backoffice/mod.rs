//! The back-office status page and the JSON it reads, behind the admin
//! login (see [`login`]).
//!
//! The page is an embedded asset that polls `/api/sync/status` with the
//! session cookie; it writes every value with `textContent`, so nothing from
//! the shop is ever interpreted as HTML. Its script and style are files of
//! their own (`/assets/…`): the CSP allows no inline code.

pub mod login;

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::{ApiError, AppState};
use crate::config::ConfigView;
use crate::domain::time::unix_millis_now;
use crate::store::events::{self, Event};
use crate::store::inbox::WebhookStats;
use crate::store::status::{self, Summary};
use crate::sync::progress::PullProgress;

const PAGE: &str = include_str!("assets/status.html");
const SCRIPT: &str = include_str!("assets/status.js");
const STYLE: &str = include_str!("assets/app.css");
/// Events shown on the page.
const RECENT_EVENTS: i64 = 30;
/// Failed webhook deliveries listed on the page.
const RECENT_FAILED_DELIVERIES: i64 = 5;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/assets/status.js", get(script))
        .route("/assets/app.css", get(style))
        .route("/api/sync/status", get(sync_status))
        .merge(login::routes())
}

/// The status page for the logged-in manager; otherwise the login form, or
/// the set-password form when no password is set yet.
async fn page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    match state.security.admin(&headers).await? {
        Some(admin) => Ok(html(PAGE.replace("{{csrf}}", &admin.csrf)).into_response()),
        None => login::form(&state, None).await,
    }
}

/// An HTML answer that is never cached.
pub(super) fn html(body: String) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
}

async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE)
}

/// Everything the status page shows.
#[derive(Serialize)]
struct SyncStatus {
    agent: Agent,
    config: ConfigView,
    pull: PullProgress,
    replica: Summary,
    webhooks: WebhookStats,
    events: Vec<Event>,
}

#[derive(Serialize)]
struct Agent {
    version: &'static str,
    started_at: i64,
    now: i64,
}

async fn sync_status(State(state): State<AppState>) -> Result<Json<SyncStatus>, ApiError> {
    // The inbox is a file of its own: read beside the replica.
    let replica = state
        .store
        .read(|c| Ok((status::summary(c)?, events::recent(c, RECENT_EVENTS)?)));
    let webhooks = state.store.inbox().stats(RECENT_FAILED_DELIVERIES);
    let ((replica, events), webhooks) = tokio::try_join!(replica, webhooks)?;
    Ok(Json(SyncStatus {
        agent: Agent {
            version: env!("CARGO_PKG_VERSION"),
            started_at: state.started_at,
            now: unix_millis_now(),
        },
        config: (*state.config).clone(),
        pull: state.progress.borrow().clone(),
        replica,
        webhooks,
        events,
    }))
}
