//! The re-index a meta-mapping change starts (see [`crate::store::meta`]): one
//! batch of products per write transaction, the next batch queued only once
//! the last one has committed, so the single writer takes every other write
//! between two batches and is never held for long. The position is
//! committed with each batch: after a restart the task picks up the
//! re-index where it stopped.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::domain::meta_mapping::ReindexState;
use crate::domain::time::unix_millis_now;
use crate::store::{Store, meta};

/// Products and variations re-indexed per transaction: a few milliseconds
/// of the writer's time each.
pub const REINDEX_BATCH: usize = 500;
/// How long the task waits before trying a failed batch again.
const RETRY_AFTER_ERROR: Duration = Duration::from_secs(5);

/// Wakes the re-index task when a mapping changed.
#[derive(Debug, Clone, Default)]
pub struct ReindexWaker(Arc<Notify>);

impl ReindexWaker {
    pub fn wake(&self) {
        // A permit is kept when the task is busy: the wake is not lost.
        self.0.notify_one();
    }
}

/// Runs until `token` is cancelled: works through a re-index that is
/// running (one left by the last run, too), then waits to be woken.
pub async fn run(store: Store, batch: usize, waker: ReindexWaker, token: CancellationToken) {
    loop {
        let pause = match work_through(&store, batch, &token).await {
            Ok(()) => None,
            Err(e) => {
                tracing::warn!(error = %e, "the meta-mapping re-index could not write a batch; retrying");
                Some(RETRY_AFTER_ERROR)
            }
        };
        if token.is_cancelled() {
            return;
        }
        tokio::select! {
            () = token.cancelled() => return,
            () = waker.0.notified() => {}
            () = tokio::time::sleep(pause.unwrap_or(RETRY_AFTER_ERROR)), if pause.is_some() => {}
        }
    }
}

/// Writes batches until the re-index is done (or was never started), or
/// `token` is cancelled between two batches.
async fn work_through(
    store: &Store,
    batch: usize,
    token: &CancellationToken,
) -> Result<(), crate::store::StoreError> {
    let mut batches = 0u64;
    while !token.is_cancelled() {
        let now = unix_millis_now();
        let progress = store
            .write(move |tx| meta::reindex_batch(tx, batch, now))
            .await?;
        match progress.state {
            ReindexState::Running => batches += 1,
            ReindexState::Done if batches > 0 => {
                tracing::info!(
                    products = progress.done,
                    "meta mapping applied: the catalog was re-indexed"
                );
                return Ok(());
            }
            ReindexState::Done | ReindexState::Idle => return Ok(()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The task finishes a re-index left running by a previous run and
    /// stops when cancelled.
    #[tokio::test]
    async fn a_running_reindex_is_finished_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("r.db")).unwrap();
        store
            .write(|tx| {
                for id in 1..=25 {
                    tx.execute(
                        "INSERT INTO products (id, type, status, name, date_modified_gmt, raw, synced_at)
                         VALUES (?1, 'simple', 'publish', 'P', '2026-01-01T00:00:00', '{}', 0)",
                        [id],
                    )?;
                }
                meta::start_reindex(tx, 1)
            })
            .await
            .unwrap();
        let token = CancellationToken::new();
        let waker = ReindexWaker::default();
        let task = tokio::spawn(run(store.clone(), 10, waker, token.clone()));
        let done = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let p = store.read(meta::reindex_progress).await.unwrap();
                if p.state == ReindexState::Done {
                    return p;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("the re-index ends");
        assert_eq!((done.done, done.total), (25, 25));
        token.cancel();
        task.await.unwrap();
    }
}
