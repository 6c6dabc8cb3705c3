//! The manager's view of the outbox: `GET /api/outbox?state=`, `POST
//! /api/outbox/{id}/retry`, `DELETE /api/outbox/{id}` (discard, reversing
//! the change's local effect).

use axum::extract::{Path, Query, State};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::input::invalid;
use super::{ApiError, AppState};
use crate::domain::outbox::{EntryState, OutboxEntry};
use crate::domain::time::unix_millis_now;
use crate::store::outbox;
use crate::store::till::manage;

const DEFAULT_LIMIT: i64 = 200;
const MAX_LIMIT: i64 = 5000;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/outbox", get(list))
        .route("/api/outbox/{id}/retry", post(retry))
        .route("/api/outbox/{id}", delete(discard))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    state: Option<String>,
    limit: Option<String>,
}

#[derive(Serialize)]
struct Listing {
    counts: Vec<(EntryState, i64)>,
    entries: Vec<OutboxEntry>,
}

async fn list(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Listing>, ApiError> {
    let Query(q) = query.map_err(|e| invalid("query", e.body_text()))?;
    let wanted = match q.state.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(s.parse::<EntryState>().map_err(|e| invalid("state", e))?),
    };
    let limit = match q.limit {
        None => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| invalid("limit", format!("must be between 1 and {MAX_LIMIT}")))?,
    };
    let listing = state
        .store
        .read(move |conn| {
            Ok(Listing {
                counts: outbox::counts(conn)?,
                entries: outbox::list(conn, wanted, limit)?,
            })
        })
        .await?;
    Ok(Json(listing))
}

fn entry_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::NotFound(format!("no outbox entry {id:?}")))
}

async fn retry(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<OutboxEntry>, ApiError> {
    let id = entry_id(&id)?;
    let entry = state
        .store
        .write(move |tx| manage::retry(tx, id, unix_millis_now()))
        .await??;
    state.replay.wake();
    Ok(Json(entry))
}

async fn discard(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<OutboxEntry>, ApiError> {
    let id = entry_id(&id)?;
    let entry = state
        .store
        .write(move |tx| manage::discard(tx, id, unix_millis_now()))
        .await??;
    Ok(Json(entry))
}
