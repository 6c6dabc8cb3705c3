//! The queue page (`/queue`): the outbox as the manager reads it, filtered
//! by state and kind and paged newest first (keyset on `seq`, so sales
//! arriving meanwhile do not shift a page), each sale with its receipt
//! number, total and customer, each pickup of an order the shop flags as
//! risky with that flag (and who overrode it), each entry with its attempts,
//! next attempt and the shop's last refusal. Retry and discard are forms that ask first
//! (saying what a discard reverses) and answer by post/redirect/get; they
//! call the same `store::till::manage` functions as the JSON outbox routes,
//! so a refusal is the store's reason, and nothing changes.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use uuid::Uuid;

use super::listing::{self, PAGE_ROWS, bad};
use super::{Flash, Layout, Manager, flash_redirect, render};
use crate::api::{ApiError, AppState};
use crate::domain::orders::RiskRecommendation;
use crate::domain::outbox::{EntryKind, EntryState, OutboxEntry, Refusal};
use crate::domain::time::unix_millis_now;
use crate::store::outbox::{self, QueueFilter, QueueRow};
use crate::store::till::manage;

/// The page's path.
const PAGE: &str = "/queue";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(PAGE, get(page))
        .route("/queue/{id}/retry", post(retry))
        .route("/queue/{id}/discard", post(discard))
}

/// What discarding an entry of `kind` reverses at this till, as
/// `manage::discard` and the views over the local tables do it.
pub fn discard_effect(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Sale => {
            "The sale is cancelled at this till: it is no longer listed or found for a return, its stock is given back to what the till can sell, and it is never sent to the shop."
        }
        EntryKind::Refund => {
            "The return is cancelled at this till: its amount can be refunded again, restocked items leave the till's stock again, and it is never sent to the shop."
        }
        EntryKind::Complete => {
            "The pickup is no longer handed over at this till: the order waits for pickup again, and the shop is not told."
        }
        EntryKind::CustomerCreate => {
            "The customer registered at this till is dropped: they cannot be chosen for a sale, their email can be registered again, and they are never sent to the shop."
        }
        EntryKind::CustomerUpdate => {
            "The change is undone at this till: the customer's details are put back as they were before it, and the shop is not told."
        }
        EntryKind::StockAdjust => {
            "The stock adjustment is undone at this till: what the till can sell goes back to what it was before, and the shop is not told."
        }
    }
}

fn kind_text(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Sale => "Sale",
        EntryKind::Refund => "Return",
        EntryKind::Complete => "Pickup handed over",
        EntryKind::CustomerCreate => "New customer",
        EntryKind::CustomerUpdate => "Customer change",
        EntryKind::StockAdjust => "Stock adjustment",
    }
}

/// A flagged pickup's risk, as the row says it.
fn risk_text(p: &outbox::PickupRisk) -> String {
    let advice = match p.recommendation {
        RiskRecommendation::Cancel => "The shop recommends cancelling this order (fraud risk).",
        _ => "The shop recommends investigating this order (fraud risk).",
    };
    match (&p.override_by, &p.override_reason) {
        (Some(by), Some(reason)) => format!("{advice} Handed over by {by}: {reason}"),
        _ => advice.to_owned(),
    }
}

/// An option of a filter select.
struct Choice {
    value: &'static str,
    text: &'static str,
    selected: bool,
}

/// A row of the table.
struct Row {
    seq: i64,
    id: String,
    label: String,
    kind: &'static str,
    state: &'static str,
    sale: Option<outbox::SaleSummary>,
    /// For a pickup of an order the shop flags: what it says and, for an
    /// order it recommends cancelling, who handed it over and why.
    risk: Option<String>,
    attempts: u32,
    next: String,
    error: Option<String>,
    can_retry: bool,
    can_discard: bool,
    discard_confirm: String,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    layout: Layout,
    states: Vec<Choice>,
    kinds: Vec<Choice>,
    /// The filter, for the action forms (to come back to it).
    state: String,
    kind: String,
    rows: Vec<Row>,
    older: Option<String>,
    newer: Option<String>,
}

/// The filter named by `state` and `kind`.
fn filter(state: Option<&str>, kind: Option<&str>) -> Result<QueueFilter, ApiError> {
    Ok(QueueFilter {
        state: state
            .map(|s| s.parse::<EntryState>().map_err(|e| bad("state", e)))
            .transpose()?,
        kind: kind
            .map(|k| {
                k.parse::<EntryKind>().map_err(|e| {
                    bad(
                        "kind",
                        format!(
                            "{e}: one of {}",
                            EntryKind::ALL.map(EntryKind::as_str).join(", ")
                        ),
                    )
                })
            })
            .transpose()?,
    })
}

/// The page showing `f` (its first page).
fn filtered(f: QueueFilter) -> String {
    listing::link(
        PAGE,
        &[
            ("state", f.state.map(|s| s.as_str().to_owned())),
            ("kind", f.kind.map(|k| k.as_str().to_owned())),
        ],
    )
}

fn row(r: QueueRow, now: i64) -> Row {
    let e: OutboxEntry = r.entry;
    let next = if e.state.is_pending() && e.state != EntryState::Sending {
        listing::relative(e.next_attempt_at, now)
    } else {
        "—".to_owned()
    };
    let error = match (&e.error_code, &e.error_message) {
        (Some(c), Some(m)) => Some(format!("{c}: {m}")),
        (None, Some(m)) => Some(m.clone()),
        (Some(c), None) => Some(c.clone()),
        (None, None) => None,
    };
    Row {
        seq: e.seq,
        id: e.id.to_string(),
        discard_confirm: format!("Discard {}? {}", e.label, discard_effect(e.kind)),
        label: e.label,
        kind: kind_text(e.kind),
        state: e.state.as_str(),
        sale: r.sale,
        risk: r.pickup_risk.map(|p| risk_text(&p)),
        attempts: e.attempts,
        next,
        error,
        can_retry: matches!(
            e.state,
            EntryState::Queued | EntryState::Unknown | EntryState::Rejected
        ),
        can_discard: matches!(e.state, EntryState::Queued | EntryState::Rejected),
    }
}

/// `GET /queue?state=&kind=&before=|after=`.
async fn page(
    manager: Manager,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = listing::params(query.as_deref(), &["state", "kind", "before", "after"])?;
    let f = filter(
        listing::get(&params, "state"),
        listing::get(&params, "kind"),
    )?;
    let cursor = listing::cursor(&params)?;
    let found = state
        .store
        .read(move |c| outbox::page(c, f, cursor, PAGE_ROWS))
        .await?;
    let now = unix_millis_now();
    let at = |key: &'static str, seq: i64| {
        listing::link(
            PAGE,
            &[
                ("state", f.state.map(|s| s.as_str().to_owned())),
                ("kind", f.kind.map(|k| k.as_str().to_owned())),
                (key, Some(seq.to_string())),
            ],
        )
    };
    let mut states = vec![Choice {
        value: "",
        text: "Any state",
        selected: f.state.is_none(),
    }];
    states.extend(EntryState::ALL.map(|s| Choice {
        value: s.as_str(),
        text: s.as_str(),
        selected: f.state == Some(s),
    }));
    let mut kinds = vec![Choice {
        value: "",
        text: "Any kind",
        selected: f.kind.is_none(),
    }];
    kinds.extend(EntryKind::ALL.map(|k| Choice {
        value: k.as_str(),
        text: kind_text(k),
        selected: f.kind == Some(k),
    }));
    let page = QueuePage {
        layout: manager.layout("queue", "queue"),
        states,
        kinds,
        state: f.state.map_or("", EntryState::as_str).to_owned(),
        kind: f.kind.map_or("", EntryKind::as_str).to_owned(),
        older: found.older.map(|n| at("before", n)),
        newer: found.newer.map(|n| at("after", n)),
        rows: found.rows.into_iter().map(|r| row(r, now)).collect(),
    };
    render(&manager, StatusCode::OK, &page)
}

/// Where an action goes back to: the filter the form carried (ignored if
/// it is not one), its first page.
fn back_to(body: &Bytes) -> String {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    };
    filter(value("state"), value("kind")).map_or_else(|_| PAGE.to_owned(), filtered)
}

fn refused(state: &AppState, to: &str, r: &Refusal) -> Response {
    flash_redirect(
        state,
        to,
        &Flash::error(format!("Refused: {r}. Nothing was changed.")),
    )
}

fn entry_id(id: &str) -> Result<Uuid, Refusal> {
    Uuid::parse_str(id).map_err(|_| Refusal::NotFound(format!("no outbox entry {id:?}")))
}

/// `POST /queue/{id}/retry`: the entry is due now (a rejected one queued
/// again), and the replayer is woken.
async fn retry(
    _manager: Manager,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let to = back_to(&body);
    let id = match entry_id(&id) {
        Ok(id) => id,
        Err(r) => return Ok(refused(&state, &to, &r)),
    };
    let was = state.store.read(move |c| outbox::get(c, id)).await?;
    let done = state
        .store
        .write(move |tx| manage::retry(tx, id, unix_millis_now()))
        .await?;
    Ok(match done {
        Ok(entry) => {
            state.replay.wake();
            tracing::info!(outbox_id = %id, "outbox entry retried from the queue page");
            let from = was.map_or("", |w| w.state.as_str());
            let text = if from == EntryState::Rejected.as_str() {
                format!(
                    "{} is queued again and is being sent to the shop now.",
                    entry.label
                )
            } else {
                format!("{} is being sent to the shop now.", entry.label)
            };
            flash_redirect(&state, &to, &Flash::ok(text))
        }
        Err(r) => refused(&state, &to, &r),
    })
}

/// `POST /queue/{id}/discard`: the entry is dropped and its local effect
/// reversed.
async fn discard(
    _manager: Manager,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let to = back_to(&body);
    let id = match entry_id(&id) {
        Ok(id) => id,
        Err(r) => return Ok(refused(&state, &to, &r)),
    };
    let done = state
        .store
        .write(move |tx| manage::discard(tx, id, unix_millis_now()))
        .await?;
    Ok(match done {
        Ok(entry) => {
            tracing::info!(outbox_id = %id, "outbox entry discarded from the queue page");
            let text = format!("Discarded {}. {}", entry.label, discard_effect(entry.kind));
            flash_redirect(&state, &to, &Flash::ok(text))
        }
        Err(r) => refused(&state, &to, &r),
    })
}
