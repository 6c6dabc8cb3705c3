//! Manual stock adjustments at the till: `POST /api/stock-adjustments`.
//! The shop's stock is read, set and read back when the entry replays.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use super::input::{self, Body, invalid};
use super::{ApiError, AppState};
use crate::domain::till::AdjustmentRequest;
use crate::domain::time::unix_millis_now;
use crate::store::till::stock::{self, AdjustmentAccepted};

/// Largest change one adjustment may make.
const MAX_DELTA: i64 = 1_000_000;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/stock-adjustments", post(create))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdjustmentIn {
    product_id: Option<i64>,
    variation_id: Option<i64>,
    sku: Option<String>,
    delta: i64,
    reason: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    Body(body): Body<AdjustmentIn>,
) -> Result<(StatusCode, Json<AdjustmentAccepted>), ApiError> {
    if body.delta == 0 || body.delta.abs() > MAX_DELTA {
        return Err(invalid(
            "delta",
            format!("must be a non-zero change of at most {MAX_DELTA} either way"),
        ));
    }
    let req = AdjustmentRequest {
        product: input::product("$", body.product_id, body.variation_id, body.sku)?,
        delta: body.delta,
        reason: input::text("reason", body.reason)?,
    };
    let accepted = state
        .store
        .write_urgent(move |tx| stock::record_adjustment(tx, &req, unix_millis_now()))
        .await??;
    state.replay.wake();
    Ok((StatusCode::CREATED, Json(accepted)))
}
