//! The status page (`/`) and the JSON it polls (`/api/sync/status`).
//!
//! The page is a shell; `status.js` fills it from `/api/sync/status` with
//! `textContent`, so nothing from the shop is ever interpreted as HTML.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::instance::InstanceControls;
use super::{Layout, Manager, login, render, setup};
use crate::api::{ApiError, AppState};
use crate::config::ConfigView;
use crate::domain::time::unix_millis_now;
use crate::store::events::{self, Event};
use crate::store::inbox::WebhookStats;
use crate::store::status::{self, Summary};
use crate::sync::progress::PullProgress;

/// Events shown on the page.
const RECENT_EVENTS: i64 = 30;
/// Failed webhook deliveries listed on the page.
const RECENT_FAILED_DELIVERIES: i64 = 5;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/api/sync/status", get(sync_status))
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    layout: Layout,
    instance: InstanceControls,
    /// `possync demo` only: whether its shop is cut off.
    demo_offline: Option<bool>,
}

/// The status page for the logged-in manager; otherwise the login form, or
/// the set-password form when no password is set yet.
async fn page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Some(admin) = state.security.admin(&headers).await? else {
        return login::form(&state, None).await;
    };
    let manager = Manager::of(&state, &headers, admin);
    if state.control.current().config.store.is_none() && state.control.editable() {
        return setup::form(&manager, &state);
    }
    let page = StatusPage {
        layout: manager.layout("status", "status"),
        instance: InstanceControls::of(&state, &manager),
        demo_offline: state.demo.as_ref().map(|d| d.offline()),
    };
    render(&manager, StatusCode::OK, &page)
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
