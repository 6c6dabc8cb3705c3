//! Customers registered or changed at the till: `POST /api/customers`,
//! `PATCH /api/customers/{id}` (a local UUID or an upstream id).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{patch, post};
use axum::{Json, Router};

use super::input::{Body, CustomerIn, IdIn, customer_ref, invalid};
use super::{ApiError, AppState};
use crate::domain::time::unix_millis_now;
use crate::store::till::customers::{self, CustomerAccepted};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/customers", post(create))
        .route("/api/customers/{id}", patch(update))
}

async fn create(
    State(state): State<AppState>,
    Body(body): Body<CustomerIn>,
) -> Result<(StatusCode, Json<CustomerAccepted>), ApiError> {
    let fields = body.parse()?;
    if fields.email.is_none() {
        return Err(invalid("email", "is required"));
    }
    let accepted = state
        .store
        .write_urgent(move |tx| customers::record_customer(tx, &fields, unix_millis_now()))
        .await??;
    state.replay.wake();
    Ok((StatusCode::CREATED, Json(accepted)))
}

async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<CustomerIn>,
) -> Result<Json<CustomerAccepted>, ApiError> {
    let who = customer_ref("id", &IdIn::Text(id.clone()))
        .map_err(|_| ApiError::NotFound(format!("no customer {id:?}")))?;
    let change = body.parse()?;
    if change == Default::default() {
        return Err(invalid("$", "nothing to change: give at least one field"));
    }
    let accepted = state
        .store
        .write_urgent(move |tx| customers::record_update(tx, &who, &change, unix_millis_now()))
        .await??;
    state.replay.wake();
    Ok(Json(accepted))
}
