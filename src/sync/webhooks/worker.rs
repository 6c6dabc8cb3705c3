//! The task that drains the inbox: woken after each stored batch, it
//! parses deliveries off the async runtime, applies them in one transaction
//! per batch, and settles deliveries whose object was gone by asking the
//! shop (when one is configured).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::apply::{self, BatchOutcome, Mirror, Parsed, Parser};
use super::refetch;
use crate::domain::time::unix_millis_now;
use crate::store::{Store, StoreError, inbox};
use crate::upstream::Upstream;

/// Deliveries parsed and applied per transaction.
const BATCH: i64 = 256;
/// How soon a refetch that failed (shop unreachable) is tried again.
const REFETCH_RETRY: Duration = Duration::from_secs(60);

/// Applies every pending delivery now; returns what was done.
pub async fn drain(
    store: &Store,
    parse: Parser,
    mirror: &Mirror,
) -> Result<BatchOutcome, StoreError> {
    let mut total = BatchOutcome::default();
    let mut after = 0;
    loop {
        let items = store.read(move |c| inbox::pending(c, after, BATCH)).await?;
        let Some(last) = items.last().map(|i| i.id) else {
            return Ok(total);
        };
        after = last;
        // Parsing is CPU work: off the runtime's workers.
        let parsed: Vec<Parsed> = tokio::task::spawn_blocking(move || {
            items
                .into_iter()
                .map(|i| Parsed {
                    inbox_id: i.id,
                    outcome: parse(&i.topic, &i.body),
                })
                .collect()
        })
        .await
        .map_err(|_| StoreError::Panicked)?;
        let mirror = mirror.clone();
        let done = store
            .write(move |tx| apply::apply_batch(tx, &parsed, &mirror, unix_millis_now()))
            .await?;
        total.applied += done.applied;
        total.stale += done.stale;
        total.duplicates += done.duplicates;
        total.ignored += done.ignored;
        total.failed += done.failed;
        total.refetch += done.refetch;
    }
}

/// Runs until `token` is cancelled: drains the inbox each time `stored`
/// is notified (and once at start, for deliveries stored before a restart).
pub async fn run<U: Upstream>(
    store: Store,
    upstream: Option<U>,
    parse: Parser,
    mirror: Mirror,
    stored: Arc<Notify>,
    token: CancellationToken,
) {
    let mut refetch_due = true;
    loop {
        match drain(&store, parse, &mirror).await {
            Ok(done) if done != BatchOutcome::default() => {
                tracing::debug!(?done, "webhook deliveries applied");
                refetch_due |= done.refetch > 0;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "cannot apply webhook deliveries"),
        }
        if refetch_due && let Some(up) = &upstream {
            refetch_due = !refetch::settle(up, &store, &mirror).await;
        }
        let wait = if refetch_due {
            REFETCH_RETRY
        } else {
            Duration::MAX
        };
        tokio::select! {
            _ = token.cancelled() => return,
            _ = stored.notified() => {}
            _ = tokio::time::sleep(wait.min(Duration::from_secs(3600))) => {}
        }
    }
}
