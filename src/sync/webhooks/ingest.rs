//! Storing verified deliveries with group commit.
//!
//! The shop never retries and disables a webhook after repeated failures,
//! so a delivery must be answered quickly, and only once it is durable.
//! Each delivery goes to one task that writes whatever has queued up in a
//! single transaction (one fsync for many deliveries) and then answers them
//! all. A full pull shares the writer thread; these writes take its urgent
//! lane, so a delivery waits at most for the page being committed plus its
//! own batch.

use std::sync::Arc;

use tokio::sync::{Notify, mpsc, oneshot};

use crate::domain::webhooks::ReceivedDelivery;
use crate::store::{Lane, Store, inbox};

/// Deliveries written in one transaction at most.
const MAX_BATCH: usize = 1024;
/// Deliveries waiting to be written before new ones are turned away (the
/// shop then sees a 503 and the poll catches up).
const QUEUE_DEPTH: usize = 8192;

type Job = (ReceivedDelivery, oneshot::Sender<Result<(), String>>);

/// Where the receiver puts verified deliveries. Cheap to clone.
#[derive(Clone)]
pub struct Inbox {
    tx: mpsc::Sender<Job>,
}

/// Why a delivery could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// More deliveries are waiting than the inbox takes at once.
    #[error("the webhook inbox is full; try again later")]
    Busy,
    /// The inbox writer has stopped (shutdown).
    #[error("the webhook inbox is closed")]
    Closed,
    /// The write failed (the message of the store error, shared by every
    /// delivery of the batch).
    #[error("cannot store the delivery: {0}")]
    Store(String),
}

impl Inbox {
    /// Starts the writer task. It ends when every `Inbox` clone is dropped,
    /// after writing what was queued. `stored` is notified after each commit.
    pub fn spawn(store: Store, stored: Arc<Notify>) -> (Inbox, impl Future<Output = ()>) {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        (Inbox { tx }, write_batches(store, rx, stored))
    }

    /// Stores one delivery; returns once it is committed.
    pub async fn store(&self, delivery: ReceivedDelivery) -> Result<(), IngestError> {
        let (done_tx, done_rx) = oneshot::channel();
        self.tx.try_send((delivery, done_tx)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => IngestError::Busy,
            mpsc::error::TrySendError::Closed(_) => IngestError::Closed,
        })?;
        done_rx
            .await
            .map_err(|_| IngestError::Closed)?
            .map_err(IngestError::Store)
    }
}

async fn write_batches(store: Store, mut rx: mpsc::Receiver<Job>, stored: Arc<Notify>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let jobs = std::mem::take(&mut batch);
        let (deliveries, replies): (Vec<_>, Vec<_>) = jobs.into_iter().unzip();
        // Urgent: the shop is waiting on these, the pull's pages are not.
        let result = store
            .write_in(Lane::Urgent, move |tx| inbox::insert(tx, &deliveries))
            .await;
        match result {
            Ok(()) => {
                for r in replies {
                    let _ = r.send(Ok(()));
                }
                stored.notify_one();
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot store webhook deliveries");
                let text = e.to_string();
                for r in replies {
                    let _ = r.send(Err(text.clone()));
                }
            }
        }
    }
}
