//! `GET /api/doctor`: the checks of `possync doctor` as JSON for the page
//! (`{"ok": bool, "checks": [{"name", "ok", "detail"}]}`), run with the
//! running agent's configuration. The configuration (with its keys) comes
//! in as a request extension that `App::spawn` adds; it is never answered.
//!
//! Its own module with its own routes, so that it can sit behind the
//! back-office session like every other page route.

use std::sync::Arc;

use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use super::AppState;
use crate::config::Config;

/// The configuration the doctor checks with.
#[derive(Clone)]
pub struct DoctorConfig(pub Arc<Config>);

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/doctor", get(doctor))
}

async fn doctor(Extension(DoctorConfig(config)): Extension<DoctorConfig>) -> Json<Value> {
    let checks = crate::doctor::run(&config, None).await;
    Json(json!({
        "ok": checks.iter().all(|c| c.ok),
        "checks": checks,
    }))
}
