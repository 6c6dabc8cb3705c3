//! `GET /api/support-bundle`: the support bundle ([`crate::support`]) as a
//! download, for the manager (session) or a support script (token).

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{ApiError, AppState};
use crate::domain::GmtTime;
use crate::domain::time::unix_millis_now;
use crate::support::{self, SupportError};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/support-bundle", get(download))
}

async fn download(State(state): State<AppState>) -> Result<Response, ApiError> {
    let config = state.control.current().config.clone();
    let pull = state.progress.borrow().clone();
    let bytes = support::bundle(&state.store, &config, Some(pull))
        .await
        .map_err(|e| match e {
            SupportError::Store(e) => ApiError::Unavailable(e),
            SupportError::Archive(e) => {
                tracing::error!(error = %e, "the support bundle could not be written");
                ApiError::Busy("the support bundle could not be written".to_owned())
            }
        })?;
    let stamp = GmtTime::from_unix(unix_millis_now() / 1000)
        .to_string()
        .replace([':', 'T'], "-");
    Ok((
        [
            (header::CONTENT_TYPE, "application/gzip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"possync-support-{stamp}.tar.gz\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
