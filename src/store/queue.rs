//! The writer thread's job queue, with two lanes: urgent jobs (what a
//! cashier waits on: a sale, a return, a new customer) run before queued
//! bulk work (pull pages, polls, applied webhooks), so they wait at most for
//! the one transaction in progress. Also how a write becomes a job, for
//! this writer and the webhook inbox's alike.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};

use rusqlite::{Connection, Transaction};
use tokio::sync::oneshot;

use super::StoreError;

/// Work for a writer thread, on its connection.
pub(super) type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// What a job built by [`in_transaction`] answers.
pub(super) type Answer<T> = oneshot::Receiver<Result<T, StoreError>>;

/// A job that runs `f` in one transaction and commits it, `before_commit`
/// last (the replica flushes its search indexes there); the answer is `f`'s
/// value or why it failed. If `f` fails or panics, nothing it did is kept.
/// Shared by the replica's writer and the webhook inbox's.
pub(super) fn in_transaction<T, F>(
    f: F,
    before_commit: fn(&Transaction<'_>) -> Result<(), StoreError>,
) -> (Job, Answer<T>)
where
    T: Send + 'static,
    F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
{
    let (done_tx, done_rx) = oneshot::channel();
    let job: Job = Box::new(move |conn: &mut Connection| {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let tx = conn.transaction()?;
            let value = f(&tx)?;
            before_commit(&tx)?;
            tx.commit()?;
            Ok(value)
        }))
        .unwrap_or(Err(StoreError::Panicked))
        .map_err(disk_full);
        let _ = done_tx.send(outcome);
    });
    (job, done_rx)
}

/// SQLite's "database or disk is full" (a full disk, or the replica's
/// `max_page_count`) as its own error: the transaction was rolled back, and
/// the caller tells the user what to do about it.
fn disk_full(e: StoreError) -> StoreError {
    match &e {
        StoreError::Sqlite(s) if s.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) => {
            StoreError::DiskFull
        }
        _ => e,
    }
}

/// Waits for a job's answer; [`StoreError::Closed`] when the job was never
/// queued (`queued` false) or its writer stopped before running it.
pub(super) async fn answer<T>(queued: bool, answer: Answer<T>) -> Result<T, StoreError> {
    if !queued {
        return Err(StoreError::Closed);
    }
    answer.await.map_err(|_| StoreError::Closed)?
}

/// Which lane a job joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Behind everything queued.
    Normal,
    /// Ahead of normal jobs (behind other urgent ones).
    Urgent,
}

#[derive(Default)]
struct Lanes {
    urgent: VecDeque<Job>,
    normal: VecDeque<Job>,
    closed: bool,
}

#[derive(Default)]
pub(super) struct Queue {
    lanes: Mutex<Lanes>,
    ready: Condvar,
}

impl Queue {
    /// Adds a job; `false` once closed.
    pub(super) fn push(&self, lane: Lane, job: Job) -> bool {
        let Ok(mut l) = self.lanes.lock() else {
            return false;
        };
        if l.closed {
            return false;
        }
        match lane {
            Lane::Urgent => l.urgent.push_back(job),
            Lane::Normal => l.normal.push_back(job),
        }
        drop(l);
        self.ready.notify_one();
        true
    }

    /// The next job, urgent first; `None` once closed and empty.
    pub(super) fn pop(&self) -> Option<Job> {
        let mut l = self.lanes.lock().ok()?;
        loop {
            if let Some(job) = l.urgent.pop_front().or_else(|| l.normal.pop_front()) {
                return Some(job);
            }
            if l.closed {
                return None;
            }
            l = self.ready.wait(l).ok()?;
        }
    }

    /// No new jobs; the writer finishes those queued and stops.
    pub(super) fn close(&self) {
        if let Ok(mut l) = self.lanes.lock() {
            l.closed = true;
        }
        self.ready.notify_all();
    }
}
