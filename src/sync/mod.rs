//! The sync engine, in the project's own terms (no SQL, no WooCommerce field
//! names): it moves domain values between an [`Upstream`](crate::upstream::Upstream)
//! and the [`Store`](crate::store::Store).
//!
//! - `pull`: the full catalog pull (first run, or on demand), resumable;
//! - `progress`: what a running pull reports to the page and the terminal;
//! - `backoff`: the one retry delay policy (defined with the clients, in
//!   `upstream::retry`, which the WooCommerce client uses too);
//! - `limit`: how many requests the shop gets at once (adaptive by default);
//! - `slots`: a full pull's request slots, the catalog's first and
//!   customers' and orders' in those it leaves idle;
//! - `replay`: the outbox replayer (exactly once, dependency order).
//! - `webhooks`: deliveries stored, applied and settled; subscriptions.
//! - `reindex`: the batched re-index a meta-mapping change starts.
//! - `operations`: pulls and sweeps a manager starts from the page.

/// The retry policy lives with the clients that use it first; the engine
/// names it from here.
pub mod backoff {
    pub use crate::upstream::retry::RetryPolicy;
}
pub mod delta;
pub mod engine;
pub mod limit;
pub mod operations;
pub mod progress;
pub mod pull;
pub mod reindex;
pub mod replay;
pub mod schedule;
pub mod slots;
pub mod sweep;
pub mod webhooks;

use crate::domain::Resource;
use crate::store::StoreError;
use crate::upstream::UpstreamError;

/// Why a sync task stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The shop failed while `resource` was being synced.
    #[error("{resource}: {source}")]
    Upstream {
        resource: Resource,
        #[source]
        source: UpstreamError,
    },
    /// The replica could not be written or read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Shutdown was asked for; progress so far is kept and resumes next time.
    #[error("stopped before finishing; the next pull resumes where this one stopped")]
    Cancelled,
    /// Some resources failed; the others were pulled.
    #[error("the full pull did not complete: {summary}")]
    Incomplete { summary: String },
}

impl SyncError {
    /// Whether every further request would fail alike until someone fixes
    /// something: the keys, the shop's certificate or the store address
    /// (see [`UpstreamError::needs_fix`]). A pull stops at the first one.
    pub fn needs_fix(&self) -> bool {
        matches!(self, SyncError::Upstream { source, .. } if source.needs_fix())
    }
}

/// Races `fut` against shutdown: `Err(Cancelled)` if `token` fires first.
pub(crate) async fn cancellable<T>(
    token: &tokio_util::sync::CancellationToken,
    fut: impl Future<Output = Result<T, UpstreamError>>,
) -> Result<Result<T, UpstreamError>, SyncError> {
    tokio::select! {
        biased;
        _ = token.cancelled() => Err(SyncError::Cancelled),
        r = fut => Ok(r),
    }
}

/// Turns a failure of the shop into the sync error of `resource`.
pub(crate) fn upstream_failed(resource: Resource) -> impl Fn(UpstreamError) -> SyncError {
    move |source| SyncError::Upstream { resource, source }
}
