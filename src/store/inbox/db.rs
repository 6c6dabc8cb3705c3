//! The inbox file's handle: one writer thread that owns the write
//! connection, a few read connections used through the blocking pool, and a
//! checkpointer thread.
//!
//! The writer serves two kinds of work. Deliveries ([`Inbox::store`]) join
//! a queue the thread drains whole (up to [`MAX_BATCH`]) into one
//! transaction, so one commit covers every delivery that arrived while the
//! previous commit ran, and each caller is answered straight from the thread
//! once its batch is committed (`synchronous=NORMAL`: see the module docs of
//! [`crate::store::inbox`]). Closures ([`Inbox::write`]: the worker's
//! outcome marks, refetch marks) run one per turn between delivery batches,
//! so a delivery waits at most for one of those small transactions and its
//! own batch. The thread is a plain OS thread, not the runtime's blocking
//! pool, so it never queues behind other blocking work.
//!
//! Automatic checkpoints are off on the writer: a checkpoint copies the WAL
//! into the database file and fsyncs it, which would stall the commit that
//! triggers it. A separate connection checkpoints in `PASSIVE` mode (it
//! never blocks the writer), and rarely (see [`CHECKPOINT_BYTES`]).

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, Transaction};
use tokio::sync::{Notify, oneshot};

use super::{journal, schema};
use crate::domain::webhooks::ReceivedDelivery;
use crate::store::pool::ReadPool;
use crate::store::queue::{self, Job};
use crate::store::{StoreError, restrict_permissions};

/// Deliveries written in one transaction at most.
const MAX_BATCH: usize = 1024;
/// Deliveries waiting to be written before new ones are turned away (the
/// shop then sees a 503 and the poll catches up).
const QUEUE_DEPTH: usize = 8192;
/// Read connections: the webhook worker and the status page.
const READ_CONNECTIONS: usize = 2;
/// How long a connection waits on a lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// A checkpoint lets the next commit restart the WAL from its start, and
/// that commit syncs the WAL's new header (SQLite does so to stay
/// consistent after a power cut, even with `synchronous=NORMAL`): an fsync
/// in the answer to one delivery, 20-250 ms while the replica writes a
/// pull. So the inbox checkpoints rarely: once this many bytes of
/// deliveries were stored since the last checkpoint...
const CHECKPOINT_BYTES: u64 = 64 << 20;
/// ...or once nothing was written for this long.
const CHECKPOINT_IDLE: Duration = Duration::from_secs(30);
/// How often the checkpointer looks, while there is something to copy.
const CHECKPOINT_POLL: Duration = Duration::from_secs(1);
/// The writer's page cache, in KiB: rows are appended and read back once,
/// so a large cache buys nothing.
const WRITER_CACHE_KIB: i64 = 2048;

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

/// A handle to the inbox file. Cheap to clone; the threads stop once every
/// handle is gone, after writing what was queued.
#[derive(Clone)]
pub struct Inbox {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    queue: Arc<Queue>,
    stored: Arc<Notify>,
    readers: ReadPool,
}

type Reply = oneshot::Sender<Result<Stored, String>>;

/// What became of a delivery handed to [`Inbox::store_once`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Committed to the inbox.
    New,
    /// A delivery with the same id is already in the inbox (the shop's
    /// retry of it): nothing was written but the duplicate count.
    Duplicate,
}

/// One delivery waiting for the writer; `once` when its `delivery_id` is
/// unique per delivery and a second one with it is a retry.
struct Queued {
    delivery: ReceivedDelivery,
    once: bool,
    reply: Reply,
}

/// The inbox file that goes with the replica at `replica`:
/// `replica.db` → `replica.inbox.db`.
pub(in crate::store) fn path_beside(replica: &Path) -> PathBuf {
    replica.with_extension("inbox.db")
}

impl Inbox {
    /// Opens (creating if needed) the inbox file beside the replica at
    /// `replica_path`, applies its migrations, moves in the deliveries an
    /// older replica kept itself (`replica` is the replica's write
    /// connection, before its own migrations run) and starts the threads.
    /// Blocking: part of `Store::open`.
    pub(in crate::store) fn open(
        replica_path: &Path,
        replica: &Connection,
    ) -> Result<Inbox, StoreError> {
        let path = path_beside(replica_path);
        {
            let probe = Connection::open(&path).map_err(|source| StoreError::Open {
                path: path.clone(),
                source,
            })?;
            // Before the WAL and shared-memory files exist: SQLite gives
            // them the database file's mode.
            restrict_permissions(&path);
            schema::check_not_newer(&probe, &path)?;
        }
        let mut writer = open_connection(&path, Role::Writer)?;
        let fresh = schema::apply(&mut writer)?;
        let mut recent = RecentIds::new(super::KEEP_PROCESSED as usize);
        for id in super::recent_unique_ids(&writer, super::KEEP_PROCESSED)? {
            recent.insert(id);
        }
        let carried = schema::carry_over(replica, &mut writer)?;
        if carried > 0 {
            tracing::info!(
                deliveries = carried,
                inbox = %path.display(),
                "webhook deliveries moved from the replica to the inbox file"
            );
        }
        if fresh {
            journal::forget(replica)?;
        } else if let Some(id) = journal::highest_id(replica)? {
            schema::reserve_ids_through(&writer, id)?;
        }
        let readers = ReadPool::open(&path, READ_CONNECTIONS, |p| {
            open_connection(p, Role::Reader)
        })?;
        let checkpoints = Arc::new(Checkpoints::default());
        let checkpointer = open_connection(&path, Role::Checkpointer)?;
        let queue = Arc::new(Queue::default());
        let stored = Arc::new(Notify::new());
        let spawn_err = |source| StoreError::DataDir {
            path: path.clone(),
            source,
        };
        {
            let checkpoints = Arc::clone(&checkpoints);
            std::thread::Builder::new()
                .name("possync-inbox-checkpoint".to_owned())
                .spawn(move || checkpoints.run(&checkpointer))
                .map_err(spawn_err)?;
        }
        {
            let (queue, stored) = (Arc::clone(&queue), Arc::clone(&stored));
            std::thread::Builder::new()
                .name("possync-inbox-writer".to_owned())
                .spawn(move || {
                    let mut conn = writer;
                    // Ends when every Inbox handle is gone (the queue closes).
                    while let Some(work) = queue.next() {
                        if !work.deliveries.is_empty() {
                            let bytes = work.deliveries.iter().map(|q| q.delivery.body.len()).sum();
                            commit_deliveries(&mut conn, work.deliveries, &mut recent, &stored);
                            checkpoints.committed(bytes);
                        }
                        if let Some(job) = work.job {
                            job(&mut conn);
                            checkpoints.committed(0);
                        }
                    }
                    checkpoints.close();
                })
                .map_err(spawn_err)?;
        }
        Ok(Inbox {
            inner: Arc::new(Inner {
                path,
                queue,
                stored,
                readers,
            }),
        })
    }

    /// The inbox file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Stores one verified delivery; returns once it is committed (in the
    /// WAL: it survives a crash of the agent, not a power cut),
    /// together with the others that queued up meanwhile.
    pub async fn store(&self, delivery: ReceivedDelivery) -> Result<(), IngestError> {
        self.push(delivery, false).await.map(|_| ())
    }

    /// Stores one verified delivery whose `delivery_id` is unique to it
    /// (the shop sends the same id again only when it retries that
    /// delivery), unless a delivery with that id is already in the inbox.
    /// The ids are compared by the writer thread, so two copies arriving at
    /// once are told apart too; it remembers the ids of the rows the inbox
    /// keeps (read back at open), so a retry after a restart is caught.
    /// A delivery without an id is stored as by [`Inbox::store`].
    pub async fn store_once(&self, delivery: ReceivedDelivery) -> Result<Stored, IngestError> {
        self.push(delivery, true).await
    }

    async fn push(&self, delivery: ReceivedDelivery, once: bool) -> Result<Stored, IngestError> {
        let (reply, answer) = oneshot::channel();
        self.inner.queue.push_delivery(Queued {
            delivery,
            once,
            reply,
        })?;
        answer
            .await
            .map_err(|_| IngestError::Closed)?
            .map_err(IngestError::Store)
    }

    /// Notified after each batch of deliveries is committed.
    pub fn stored(&self) -> &Notify {
        &self.inner.stored
    }

    /// Runs `f` in one transaction on the inbox's writer thread, between two
    /// batches of deliveries, and commits it. If `f` fails or panics,
    /// nothing it did is kept. Keep it short: deliveries wait for it.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let (job, answer) = queue::in_transaction(f, |_| Ok(()));
        queue::answer(self.inner.queue.push_job(job), answer).await
    }

    /// Runs `f` on a read connection on the blocking pool; it sees the last
    /// committed state and never waits for the writer.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.inner.readers.read(f).await
    }

    /// Totals for the status page, with the latest `failures`.
    pub async fn stats(&self, failures: i64) -> Result<super::WebhookStats, StoreError> {
        self.read(move |c| super::stats(c, failures)).await
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.queue.close();
    }
}

/// Writes one batch of deliveries in one transaction and answers each;
/// a delivery stored once whose id is known (or earlier in the batch) is
/// counted as a duplicate instead.
fn commit_deliveries(
    conn: &mut Connection,
    batch: Vec<Queued>,
    recent: &mut RecentIds,
    stored: &Notify,
) {
    let mut deliveries = Vec::with_capacity(batch.len());
    let mut replies = Vec::with_capacity(batch.len());
    let mut new_ids: Vec<String> = Vec::new();
    for q in batch {
        let id = q.delivery.delivery_id.as_ref().filter(|_| q.once);
        let outcome = match id {
            Some(id) if recent.contains(id) || new_ids.contains(id) => Stored::Duplicate,
            Some(id) => {
                new_ids.push(id.clone());
                Stored::New
            }
            None => Stored::New,
        };
        if outcome == Stored::New {
            deliveries.push(q.delivery);
        }
        replies.push((q.reply, outcome));
    }
    let duplicates = replies
        .iter()
        .filter(|(_, o)| *o == Stored::Duplicate)
        .count();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let tx = conn.transaction()?;
        if !deliveries.is_empty() {
            super::insert(&tx, &deliveries)?;
        }
        super::count_duplicates(&tx, duplicates)?;
        tx.commit()?;
        Ok::<_, StoreError>(())
    }))
    .unwrap_or(Err(StoreError::Panicked));
    match result {
        Ok(()) => {
            for id in new_ids {
                recent.insert(id);
            }
            for (r, outcome) in replies {
                let _ = r.send(Ok(outcome));
            }
            if !deliveries.is_empty() {
                stored.notify_one();
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot store webhook deliveries");
            let text = e.to_string();
            for (r, _) in replies {
                let _ = r.send(Err(text.clone()));
            }
        }
    }
}

/// The ids of the latest deliveries stored once, up to a bound (the rows
/// the inbox keeps): a set for the lookup, a queue for the order they go.
struct RecentIds {
    set: HashSet<String>,
    order: VecDeque<String>,
    bound: usize,
}

impl RecentIds {
    fn new(bound: usize) -> RecentIds {
        RecentIds {
            set: HashSet::new(),
            order: VecDeque::new(),
            bound,
        }
    }

    fn contains(&self, id: &str) -> bool {
        self.set.contains(id)
    }

    fn insert(&mut self, id: String) {
        if self.set.insert(id.clone()) {
            self.order.push_back(id);
        }
        while self.order.len() > self.bound {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Writer,
    Reader,
    Checkpointer,
}

fn open_connection(path: &Path, role: Role) -> Result<Connection, StoreError> {
    let open_err = |source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
    match role {
        Role::Writer => {
            // Pragmas go before any transaction (journal_mode cannot change
            // inside one).
            conn.pragma_update(None, "journal_mode", "WAL")
                .map_err(open_err)?;
            // NORMAL: a committed delivery survives the agent's crash or
            // kill (it is in the WAL); a power cut can lose the last ones,
            // up to the next checkpoint. A delivery is a hint, not a
            // record: polling, the source of truth, brings the same change
            // within a cycle (a deletion within a sweep), as it does for
            // every delivery the shop could not make. FULL would put an
            // fsync in every answer, and an fsync waits 20-250 ms here
            // while the replica writes a pull (docs/benchmarks.md). Till
            // writes (the outbox, guarantee 1) stay FULL in the replica.
            // The journal's ids are reserved at open (see above).
            conn.pragma_update(None, "synchronous", "NORMAL")
                .map_err(open_err)?;
            conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)
                .map_err(open_err)?;
            // The checkpointer thread does this, off the commit path.
            conn.pragma_update(None, "wal_autocheckpoint", 0)
                .map_err(open_err)?;
        }
        Role::Reader => {
            conn.pragma_update(None, "query_only", "ON")
                .map_err(open_err)?;
        }
        Role::Checkpointer => {
            // Sync the WAL before copying it and the file after.
            conn.pragma_update(None, "synchronous", "FULL")
                .map_err(open_err)?;
        }
    }
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

/// Deliveries and closures waiting for the writer.
#[derive(Default)]
struct Queue {
    waiting: Mutex<Waiting>,
    ready: Condvar,
}

#[derive(Default)]
struct Waiting {
    deliveries: VecDeque<Queued>,
    jobs: VecDeque<Job>,
    closed: bool,
}

/// One turn of the writer: a batch of deliveries, then at most one closure.
struct Work {
    deliveries: Vec<Queued>,
    job: Option<Job>,
}

impl Queue {
    fn push_delivery(&self, queued: Queued) -> Result<(), IngestError> {
        let mut w = self.waiting.lock().map_err(|_| IngestError::Closed)?;
        if w.closed {
            return Err(IngestError::Closed);
        }
        if w.deliveries.len() >= QUEUE_DEPTH {
            return Err(IngestError::Busy);
        }
        w.deliveries.push_back(queued);
        drop(w);
        self.ready.notify_one();
        Ok(())
    }

    /// Adds a closure; `false` once closed.
    fn push_job(&self, job: Job) -> bool {
        let Ok(mut w) = self.waiting.lock() else {
            return false;
        };
        if w.closed {
            return false;
        }
        w.jobs.push_back(job);
        drop(w);
        self.ready.notify_one();
        true
    }

    /// The next turn's work; `None` once closed and empty.
    fn next(&self) -> Option<Work> {
        let mut w = self.waiting.lock().ok()?;
        loop {
            if !w.deliveries.is_empty() || !w.jobs.is_empty() {
                let n = w.deliveries.len().min(MAX_BATCH);
                let deliveries = w.deliveries.drain(..n).collect();
                let job = w.jobs.pop_front();
                return Some(Work { deliveries, job });
            }
            if w.closed {
                return None;
            }
            w = self.ready.wait(w).ok()?;
        }
    }

    /// No new work; the writer finishes what is queued and stops.
    fn close(&self) {
        if let Ok(mut w) = self.waiting.lock() {
            w.closed = true;
        }
        self.ready.notify_all();
    }
}

/// Tells the checkpointer thread that the WAL grew.
#[derive(Default)]
struct Checkpoints {
    state: Mutex<CheckpointState>,
    wake: Condvar,
}

#[derive(Default)]
struct CheckpointState {
    /// Something was committed since the last checkpoint.
    dirty: bool,
    /// Delivery bytes stored since the last checkpoint.
    bytes: u64,
    last_commit: Option<Instant>,
    closed: bool,
}

impl CheckpointState {
    fn due(&self) -> bool {
        self.dirty
            && (self.bytes >= CHECKPOINT_BYTES
                || self
                    .last_commit
                    .is_none_or(|t| t.elapsed() >= CHECKPOINT_IDLE))
    }
}

impl Checkpoints {
    fn committed(&self, bytes: usize) {
        if let Ok(mut s) = self.state.lock() {
            s.bytes = s.bytes.saturating_add(bytes as u64);
            s.last_commit = Some(Instant::now());
            if !s.dirty {
                s.dirty = true;
                self.wake.notify_one();
            }
        }
    }

    fn close(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.closed = true;
        }
        self.wake.notify_one();
    }

    /// The checkpointer thread: a passive checkpoint once one is due (see
    /// [`CHECKPOINT_BYTES`]). Closing the last connection checkpoints what
    /// is left.
    fn run(&self, conn: &Connection) {
        loop {
            {
                let Ok(s) = self.state.lock() else { return };
                let Ok(mut s) = self.wake.wait_while(s, |s| !s.dirty && !s.closed) else {
                    return;
                };
                while !s.closed && !s.due() {
                    s = match self.wake.wait_timeout(s, CHECKPOINT_POLL) {
                        Ok((s, _)) => s,
                        Err(_) => return,
                    };
                }
                if s.closed {
                    return;
                }
                s.dirty = false;
                s.bytes = 0;
            }
            // PASSIVE copies what it can without waiting for (or blocking)
            // the writer or readers.
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::warn!(error = %e, "cannot checkpoint the webhook inbox");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(dirty: bool, bytes: u64, idle: Duration) -> CheckpointState {
        CheckpointState {
            dirty,
            bytes,
            last_commit: Instant::now().checked_sub(idle),
            closed: false,
        }
    }

    #[test]
    fn a_checkpoint_is_due_after_many_bytes_or_a_quiet_spell_only() {
        let busy = Duration::from_millis(10);
        assert!(!state(false, CHECKPOINT_BYTES, CHECKPOINT_IDLE).due());
        assert!(!state(true, CHECKPOINT_BYTES - 1, busy).due());
        assert!(state(true, CHECKPOINT_BYTES, busy).due());
        assert!(state(true, 1, CHECKPOINT_IDLE).due());
    }
}
