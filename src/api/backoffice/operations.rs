//! The operations page (`/operations`): pull everything, pull given ids of
//! a resource, pull what changed since a date, run the completeness sweep
//! now, each in the background (see [`crate::sync::operations`]) with its
//! progress as a live fragment (`/operations/progress`); and the agent's
//! webhook subscriptions at the shop: install for a public URL, pause,
//! resume, remove, with the shop's answer shown.
//!
//! A second operation while one runs is refused (409) naming the running
//! one; so is any operation while the agent is deactivated. Input the
//! operation cannot take is refused (422) with the reason, and nothing
//! starts.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Flash, Layout, Manager, flash_redirect, render};
use crate::api::{ApiError, AppState};
use crate::domain::GmtTime;
use crate::domain::time::unix_millis_now;
use crate::domain::webhooks::SubscriptionStatus;
use crate::store::subscriptions;
use crate::sync::operations::{BY_ID, MAX_IDS, Operation, OperationsStatus, Refusal};
use crate::sync::webhooks::subscriptions::{self as webhook_subs, Installed};

/// The page's path.
const PAGE: &str = "/operations";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(PAGE, get(page))
        .route("/operations/progress", get(progress_fragment))
        .route("/operations/pull-all", post(pull_all))
        .route("/operations/pull-ids", post(pull_ids))
        .route("/operations/pull-since", post(pull_since))
        .route("/operations/sweep", post(sweep))
        .route("/operations/webhooks/install", post(webhooks_install))
        .route("/operations/webhooks/pause", post(webhooks_pause))
        .route("/operations/webhooks/resume", post(webhooks_resume))
        .route("/operations/webhooks/remove", post(webhooks_remove))
}

/// The live part: what runs, how far, and how the last one ended.
#[derive(Template)]
#[template(path = "operations_progress.html")]
struct ProgressFragment {
    status: OperationsStatus,
    /// Rows written by the full pull so far (for "pull everything").
    pulled: u64,
    now: i64,
}

impl ProgressFragment {
    fn of(state: &AppState) -> ProgressFragment {
        let pulled = state
            .progress
            .borrow()
            .resources
            .iter()
            .map(|r| r.items_done)
            .sum();
        ProgressFragment {
            status: state.operations.status(),
            pulled,
            now: unix_millis_now(),
        }
    }

    /// Seconds since `at` (unix ms).
    fn secs_since(&self, at: &i64) -> i64 {
        ((self.now - at) / 1000).max(0)
    }
}

/// A webhook subscription row.
struct SubscriptionRow {
    id: i64,
    topic: String,
    delivery_url: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "operations.html")]
struct OperationsPage {
    layout: Layout,
    /// The live fragment, rendered (escaped) by its own template.
    progress_html: String,
    resources: Vec<String>,
    form: OpsForm,
    max_ids: usize,
    subscriptions: Vec<SubscriptionRow>,
}

/// The fields of the page's forms (the CSRF token is checked before).
#[derive(Deserialize, Default)]
struct OpsForm {
    #[serde(default)]
    resource: String,
    #[serde(default)]
    ids: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    public_url: String,
}

fn parse_form(body: &Bytes) -> Result<OpsForm, ApiError> {
    serde_urlencoded::from_bytes(body)
        .map_err(|e| ApiError::BadRequest(format!("the form could not be read: {e}")))
}

fn rendered<T: Template>(t: &T) -> Result<String, ApiError> {
    t.render().map_err(|e| {
        tracing::error!(error = %e, "the operations page could not be rendered");
        ApiError::Busy("the page could not be rendered".to_owned())
    })
}

/// The page, with `flash` and `status` after a refused form (the input
/// kept).
async fn show(
    state: &AppState,
    manager: &Manager,
    status: StatusCode,
    refused: Option<(OpsForm, Flash)>,
) -> Result<Response, ApiError> {
    let subs = state.store.read(subscriptions::list).await?;
    let (layout, form) = match refused {
        None => (
            manager.layout("operations", "operations"),
            OpsForm::default(),
        ),
        Some((form, flash)) => (manager.layout_with("operations", "operations", flash), form),
    };
    let page = OperationsPage {
        layout,
        progress_html: rendered(&ProgressFragment::of(state))?,
        resources: BY_ID.iter().map(ToString::to_string).collect(),
        form,
        max_ids: MAX_IDS,
        subscriptions: subs
            .into_iter()
            .map(|s| SubscriptionRow {
                id: s.id,
                topic: s.topic,
                delivery_url: s.delivery_url,
                status: s.status.as_str(),
            })
            .collect(),
    };
    render(manager, status, &page)
}

async fn page(manager: Manager, State(state): State<AppState>) -> Result<Response, ApiError> {
    show(&state, &manager, StatusCode::OK, None).await
}

/// `GET /operations/progress`: the live fragment.
async fn progress_fragment(
    _manager: Manager,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let body = rendered(&ProgressFragment::of(&state))?;
    Ok(super::html(body).into_response())
}

/// Starts `op` (or refuses it) and answers the form.
async fn start(
    state: &AppState,
    manager: &Manager,
    form: OpsForm,
    op: Result<Operation, String>,
) -> Result<Response, ApiError> {
    let op = match op {
        Ok(op) => op,
        Err(reason) => {
            let flash = Flash::error(format!("Not started: {reason}."));
            return show(
                state,
                manager,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some((form, flash)),
            )
            .await;
        }
    };
    match state.operations.start(op) {
        Ok(name) => {
            let flash = Flash::info(format!(
                "Started: {name}. Its progress shows below; the event log gets a line when it ends."
            ));
            Ok(flash_redirect(state, PAGE, &flash))
        }
        Err(refusal) => {
            let flash = Flash::error(match &refusal {
                Refusal::Busy(name) => {
                    format!("Not started: {name} is running; wait for it to finish.")
                }
                Refusal::Unavailable(reason) => format!("Not started: {reason}."),
            });
            show(state, manager, StatusCode::CONFLICT, Some((form, flash))).await
        }
    }
}

async fn pull_all(
    manager: Manager,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = parse_form(&body)?;
    start(&state, &manager, form, Ok(Operation::PullAll)).await
}

async fn pull_ids(
    manager: Manager,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = parse_form(&body)?;
    let op = Operation::parse_ids(&form.resource, &form.ids);
    start(&state, &manager, form, op).await
}

async fn pull_since(
    manager: Manager,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = parse_form(&body)?;
    let op = Operation::parse_since(&form.since, GmtTime::now());
    start(&state, &manager, form, op).await
}

async fn sweep(
    manager: Manager,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = parse_form(&body)?;
    start(&state, &manager, form, Ok(Operation::Sweep)).await
}

/// The page again with `text` as an error, answered with `status`.
async fn refused(
    state: &AppState,
    manager: &Manager,
    form: OpsForm,
    status: StatusCode,
    text: String,
) -> Result<Response, ApiError> {
    show(state, manager, status, Some((form, Flash::error(text)))).await
}

/// The statuses the shop reports for this agent's subscriptions, as a
/// sentence.
async fn at_the_shop(state: &AppState) -> String {
    let Ok(client) = state.operations.upstream() else {
        return String::new();
    };
    match webhook_subs::list(client.as_ref(), &state.store).await {
        Ok(subs) if subs.is_empty() => {
            " The shop lists none of this agent's subscriptions.".to_owned()
        }
        Ok(subs) => {
            let parts: Vec<String> = subs
                .iter()
                .map(|s| {
                    let status = s
                        .upstream_status
                        .map_or("missing", SubscriptionStatus::as_str);
                    format!("{} {status}", s.topic)
                })
                .collect();
            format!(" At the shop: {}.", parts.join(", "))
        }
        Err(e) => format!(" The shop could not list them: {e}."),
    }
}

/// `POST /operations/webhooks/install`: subscribes this agent for
/// `public_url` (idempotent, as `possync webhooks install`).
async fn webhooks_install(
    manager: Manager,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = parse_form(&body)?;
    let kind = state
        .config
        .store_kind
        .unwrap_or(crate::config::StoreKind::WooCommerce);
    let url = match webhook_subs::delivery_url_for(&form.public_url, kind) {
        Ok(u) => u,
        Err(reason) => {
            let text = format!("Nothing was installed: {reason}.");
            return refused(
                &state,
                &manager,
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
                text,
            )
            .await;
        }
    };
    let client = match state.operations.upstream() {
        Ok(c) => c.clone(),
        Err(reason) => {
            let text = format!("Nothing was installed: {reason}.");
            return refused(&state, &manager, form, StatusCode::CONFLICT, text).await;
        }
    };
    match webhook_subs::install(client.as_ref(), &state.store, &url).await {
        Ok(done) => {
            let parts: Vec<String> = done
                .iter()
                .map(|(topic, what)| format!("{topic} {}", what.describe()))
                .collect();
            let any_refused = done
                .iter()
                .any(|(_, w)| matches!(w, Installed::Refused { .. }));
            let mut text = format!(
                "Deliveries go to {url}. The shop answered: {}.",
                parts.join("; ")
            );
            if !webhook_subs::port_delivered_by_default(&form.public_url) {
                text.push_str(
                    " Note: WordPress delivers only to ports 80, 443 and 8080 unless the shop allows others.",
                );
            }
            let flash = if any_refused {
                Flash::error(text)
            } else {
                Flash::ok(text)
            };
            Ok(flash_redirect(&state, PAGE, &flash))
        }
        Err(e) => {
            let text = format!("Not installed: {e}.");
            refused(&state, &manager, form, StatusCode::BAD_GATEWAY, text).await
        }
    }
}

/// Pauses or resumes every subscription of this agent.
async fn set_status(
    state: &AppState,
    manager: &Manager,
    status: SubscriptionStatus,
) -> Result<Response, ApiError> {
    let verb = match status {
        SubscriptionStatus::Paused => "paused",
        _ => "resumed",
    };
    let client = match state.operations.upstream() {
        Ok(c) => c.clone(),
        Err(reason) => {
            let text = format!("Nothing was {verb}: {reason}.");
            return refused(
                state,
                manager,
                OpsForm::default(),
                StatusCode::CONFLICT,
                text,
            )
            .await;
        }
    };
    match webhook_subs::set_all(client.as_ref(), &state.store, status).await {
        Ok(n) => {
            let shop = at_the_shop(state).await;
            let flash = Flash::ok(format!("{n} subscriptions {verb}.{shop}"));
            Ok(flash_redirect(state, PAGE, &flash))
        }
        Err(e) => {
            let text = format!("Not {verb}: {e}.");
            refused(
                state,
                manager,
                OpsForm::default(),
                StatusCode::BAD_GATEWAY,
                text,
            )
            .await
        }
    }
}

async fn webhooks_pause(
    manager: Manager,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    set_status(&state, &manager, SubscriptionStatus::Paused).await
}

async fn webhooks_resume(
    manager: Manager,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    set_status(&state, &manager, SubscriptionStatus::Active).await
}

/// `POST /operations/webhooks/remove`: deletes this agent's subscriptions
/// at the shop and here.
async fn webhooks_remove(
    manager: Manager,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let client = match state.operations.upstream() {
        Ok(c) => c.clone(),
        Err(reason) => {
            let text = format!("Nothing was removed: {reason}.");
            return refused(
                &state,
                &manager,
                OpsForm::default(),
                StatusCode::CONFLICT,
                text,
            )
            .await;
        }
    };
    match webhook_subs::remove_all(client.as_ref(), &state.store).await {
        Ok(n) => {
            let flash = Flash::ok(format!("{n} subscriptions removed from the shop."));
            Ok(flash_redirect(&state, PAGE, &flash))
        }
        Err(e) => {
            let text = format!("Not removed: {e}.");
            refused(
                &state,
                &manager,
                OpsForm::default(),
                StatusCode::BAD_GATEWAY,
                text,
            )
            .await
        }
    }
}
