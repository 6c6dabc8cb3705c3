//! `GET /api/backup`: the back-office page's backup download. A fresh
//! backup of the replica (the online backup API, checked, as `possync
//! backup` makes it) is written beside the replica, opened, unlinked and
//! streamed, so nothing is left behind if the download stops midway. The
//! webhook inbox is not in the download: it holds hints that polling
//! brings again; `possync backup` copies it too.
//!
//! Its own module with its own routes, so that it can sit behind the
//! back-office session like every other page route.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{ApiError, AppState};
use crate::domain::GmtTime;
use crate::domain::time::unix_millis_now;
use crate::store::{StoreError, backup};

/// Bytes read from the backup file at a time.
const STREAM_CHUNK: usize = 256 * 1024;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/backup", get(download))
}

async fn download(State(state): State<AppState>) -> Result<Response, ApiError> {
    let replica = state.store.path().to_path_buf();
    let now = unix_millis_now();
    let temp = replica.with_extension(format!("download-{now}.db"));
    let file = {
        let temp = temp.clone();
        tokio::task::spawn_blocking(move || -> Result<std::fs::File, StoreError> {
            backup::create(&replica, &temp)?;
            let opened = std::fs::File::open(&temp).map_err(|e| StoreError::Backup {
                path: temp.clone(),
                reason: e.to_string(),
            });
            // Open files stay readable once unlinked (the inbox copy is
            // not offered here).
            let _ = std::fs::remove_file(&temp);
            let _ = std::fs::remove_file(backup::inbox_beside(&temp));
            opened
        })
        .await
        .map_err(|_| StoreError::Panicked)??
    };
    let stamp = GmtTime::from_unix(now / 1000)
        .to_string()
        .replace([':', 'T'], "-");
    let len = file.metadata().map(|m| m.len()).ok();
    // Large reads: each one is a trip to the blocking pool (at the default
    // 4 KiB, streaming the demo's 14 MiB replica took longer than making
    // the backup).
    let stream =
        tokio_util::io::ReaderStream::with_capacity(tokio::fs::File::from_std(file), STREAM_CHUNK);
    let mut response = (
        [
            (header::CONTENT_TYPE, "application/vnd.sqlite3".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"possync-backup-{stamp}.db\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(stream),
    )
        .into_response();
    if let Some(len) = len {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, len.into());
    }
    Ok(response)
}
