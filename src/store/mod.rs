//! The local replica: SQLite, owned here. Only this module contains SQL.
//!
//! Writes go through one writer thread that owns the write connection and runs
//! each submitted closure inside one transaction (the caller names the unit of
//! atomicity: a page, a webhook delivery, a sale with its outbox row). Reads
//! use a small pool of separate connections on the blocking thread pool; WAL
//! lets them run while the writer commits, so a till lookup never waits for a
//! sync write. Nothing here blocks the async runtime.
//!
//! Table families (`catalog`, `customers`, `orders`, `shop`, `sync_state`,
//! `events`) are plain functions over `&Transaction` or `&Connection`, so they
//! compose into one transaction.
//!
//! Webhook deliveries are not in the replica: [`inbox`] keeps them in a
//! second file beside it, with its own writer, opened with the replica.

pub mod access;
pub mod apply;
pub mod backup;
pub mod catalog;
pub mod customers;
pub mod deletes;
pub mod delta;
pub mod diagnostics;
pub mod dump;
pub mod events;
pub mod inbox;
pub mod lookup;
pub mod meta;
mod migrate;
pub mod orders;
pub mod outbox;
pub mod paging;
mod pool;
mod queue;
pub mod report;
pub mod shop;
pub mod status;
pub mod subscriptions;
pub mod sync_state;
pub mod till;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction};

pub use migrate::SCHEMA_VERSION;
pub use queue::Lane;

use pool::ReadPool;
use queue::Queue;

/// How many read connections the pool keeps.
const READ_CONNECTIONS: usize = 4;
/// How long a connection waits on a lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Errors of the replica.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The database file could not be opened or set up.
    #[error("cannot open the replica at {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The file was written by a newer possync; it is left untouched.
    #[error(
        "the replica at {path} has schema version {found}, newer than this possync knows ({known}); upgrade possync or move the file away"
    )]
    TooNew {
        path: PathBuf,
        found: usize,
        known: usize,
    },
    /// Applying a migration failed; the database is left at its old version.
    #[error("cannot upgrade the replica schema: {0}")]
    Migrate(#[source] rusqlite_migration::Error),
    /// An SQL statement failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A JSON column could not be written or read.
    #[error("invalid JSON in the replica: {0}")]
    Json(#[from] serde_json::Error),
    /// The writer thread is gone (the agent is shutting down).
    #[error("the replica writer has stopped")]
    Closed,
    /// A backup could not be made or restored; `reason` says why.
    #[error("backup {path}: {reason}")]
    Backup { path: PathBuf, reason: String },
    /// A restore would replace sales the shop has not confirmed.
    #[error(
        "the replica at {path} holds {unconfirmed} sale(s) the shop has not confirmed; a restore would lose those the backup does not hold: let them reach the shop first (`possync outbox list`), or pass --force"
    )]
    RestoreRefused { path: PathBuf, unconfirmed: i64 },
    /// The disk (or the replica's size limit) is full: nothing was written.
    #[error(
        "the till's disk is full: nothing was written; free some space on the disk holding the data directory"
    )]
    DiskFull,
    /// A database task panicked; its transaction was rolled back.
    #[error("a database task failed unexpectedly and was rolled back")]
    Panicked,
}

/// The transaction a [`Store::write`] closure receives. Callers compose
/// table-family functions over it (one unit of atomicity) without writing
/// SQL themselves.
pub type Tx<'conn> = Transaction<'conn>;

/// How a batch of mirrored rows is written.
#[derive(Debug, Clone, Copy)]
pub struct WriteStamp {
    /// The full-pull run writing the rows; it marks them as seen by that run.
    pub run: Option<i64>,
    /// The local time of the write (unix ms).
    pub now_ms: i64,
    /// Whether a version exactly as new as the stored one replaces it. Reads
    /// of the store (full pull, polls, sweeps) win on equal stamps: two saves
    /// in one second share a date, and a stock change made by direct SQL
    /// does not move it. Pushed copies (webhooks, which may arrive late and
    /// out of order) do not.
    pub allow_equal: bool,
}

/// A handle to the replica. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

/// A time the disk was full: since when, and how many writes it refused.
struct DiskFullSpell {
    since_ms: i64,
    refused: u64,
}

struct Inner {
    path: PathBuf,
    disk_full: std::sync::Mutex<Option<DiskFullSpell>>,
    writer: Arc<Queue>,
    /// Time the writer thread spent running jobs, in nanoseconds.
    writer_busy: Arc<AtomicU64>,
    readers: ReadPool,
    inbox: inbox::Inbox,
}

impl Store {
    /// Opens (creating if needed) the replica at `path`, applies pending
    /// migrations and starts the writer thread. Blocking: call it at start-up
    /// or from `spawn_blocking`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        {
            let probe = Connection::open(path).map_err(|source| StoreError::Open {
                path: path.to_path_buf(),
                source,
            })?;
            migrate::check_not_newer(&probe, path)?;
        }
        let mut writer = open_connection(path, false)?;
        // Before the replica's migrations: an older replica's deliveries
        // move into the inbox file before its tables are dropped.
        let inbox = inbox::Inbox::open(path, &writer)?;
        migrate::apply(&mut writer)?;
        // Index whatever a migration (or an older binary) left unindexed.
        let tx = writer.transaction()?;
        lookup::index::flush(&tx)?;
        tx.commit()?;
        restrict_permissions(path);
        let readers = ReadPool::open(path, READ_CONNECTIONS, |p| open_connection(p, true))?;
        let queue = Arc::new(Queue::default());
        let jobs = Arc::clone(&queue);
        let writer_busy = Arc::new(AtomicU64::new(0));
        let busy = Arc::clone(&writer_busy);
        std::thread::Builder::new()
            .name("possync-db-writer".to_owned())
            .spawn(move || {
                let mut conn = writer;
                // Ends when every Store handle is gone (the queue closes).
                while let Some(job) = jobs.pop() {
                    let started = std::time::Instant::now();
                    job(&mut conn);
                    let took = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    busy.fetch_add(took, Ordering::Relaxed);
                }
            })
            .map_err(|source| StoreError::DataDir {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                disk_full: std::sync::Mutex::new(None),
                writer: queue,
                writer_busy,
                readers,
                inbox,
            }),
        })
    }

    /// Time the writer has spent on writes since the replica was opened
    /// (how busy the single writer is, for benchmarks and the summary).
    pub fn writer_busy(&self) -> Duration {
        Duration::from_nanos(self.inner.writer_busy.load(Ordering::Relaxed))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The webhook inbox, in its own file beside the replica.
    pub fn inbox(&self) -> &inbox::Inbox {
        &self.inner.inbox
    }

    /// Runs `f` in one transaction on the writer thread and commits it
    /// (fsynced: the writer runs with `synchronous=FULL`). If `f` fails or
    /// panics, nothing it did is kept.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.write_in(Lane::Normal, f).await
    }

    /// [`Store::write`] for work that is done again if lost (the pages of a
    /// full pull, marked done in the same transaction): committed without
    /// waiting for the disk (`synchronous=NORMAL` for this one commit). A
    /// power cut may lose the last such commits, never part of one, and the
    /// pull then asks for those pages again; the next fsynced commit (a
    /// sale's) makes them durable too. Roughly one disk flush less per
    /// batch of pages, which on a slow disk is much of the writer's time.
    pub async fn write_resumable<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let (job, answer) = queue::in_transaction(f, lookup::index::flush);
        let relaxed: queue::Job = Box::new(move |conn: &mut Connection| {
            let set = |conn: &Connection, level: &str| {
                conn.pragma_update(None, "synchronous", level)
                    .inspect_err(|e| tracing::error!(level, error = %e, "setting the replica's synchronous level"))
                    .is_ok()
            };
            let relaxed = set(conn, "NORMAL");
            job(conn);
            // Every other write is fsynced: back to FULL before the next job.
            if relaxed {
                set(conn, "FULL");
            }
        });
        let result = queue::answer(self.inner.writer.push(Lane::Normal, relaxed), answer).await;
        self.note_disk(&result);
        result
    }

    /// [`Store::write`] ahead of queued bulk work: for what a cashier waits on.
    pub async fn write_urgent<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.write_in(Lane::Urgent, f).await
    }

    /// [`Store::write`] in a given lane: an urgent write runs before the
    /// normal writes queued, after the transaction in progress.
    pub async fn write_in<T, F>(&self, lane: Lane, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        // The search indexes follow the rows in the same commit.
        let (job, answer) = queue::in_transaction(f, lookup::index::flush);
        let result = queue::answer(self.inner.writer.push(lane, job), answer).await;
        self.note_disk(&result);
        result
    }

    /// Keeps track of a full disk: logged when it fills, recorded in the
    /// events table once a write succeeds again (the table is in the file
    /// that was full).
    fn note_disk<T>(&self, result: &Result<T, StoreError>) {
        let mut full = self
            .inner
            .disk_full
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match (result, full.as_mut()) {
            (Err(StoreError::DiskFull), Some(spell)) => spell.refused += 1,
            (Err(StoreError::DiskFull), None) => {
                tracing::error!(
                    replica = %self.inner.path.display(),
                    "the disk is full: writes to the replica are refused until space is freed"
                );
                *full = Some(DiskFullSpell {
                    since_ms: crate::domain::time::unix_millis_now(),
                    refused: 1,
                });
            }
            (Ok(_), Some(_)) => {
                let Some(spell) = full.take() else { return };
                drop(full);
                let now = crate::domain::time::unix_millis_now();
                let message = format!(
                    "the disk was full for {} s: {} write(s) refused (sales got 507, nothing was written); writes accepted again",
                    (now - spell.since_ms).max(0) / 1000,
                    spell.refused
                );
                tracing::warn!("{message}");
                let (job, _answer) = queue::in_transaction(
                    move |tx| {
                        events::append(tx, now, events::Level::Error, "disk_full", None, &message)
                    },
                    lookup::index::flush,
                );
                self.inner.writer.push(Lane::Normal, job);
            }
            _ => {}
        }
    }

    /// Runs `f` on a read connection on the blocking pool. Reads see the last
    /// committed state and never wait for the writer.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.inner.readers.read(f).await
    }

    /// A read for code that is not async (the `status` command).
    pub fn read_blocking<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.inner.readers.read_blocking(f)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.writer.close();
    }
}

fn open_connection(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let open_err = |source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
    // Pragmas go before any transaction (journal_mode cannot change inside one).
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(open_err)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(open_err)?;
    // FULL on the writer: an accepted sale must survive power loss.
    conn.pragma_update(
        None,
        "synchronous",
        if read_only { "NORMAL" } else { "FULL" },
    )
    .map_err(open_err)?;
    if read_only {
        conn.pragma_update(None, "query_only", "ON")
            .map_err(open_err)?;
    } else {
        // 16 MiB of page cache (negative = KiB): a full pull upserts into
        // several indexes per row; the default 2 MiB rereads pages from the
        // OS on every page of 100 rows.
        conn.pragma_update(None, "cache_size", -16_384)
            .map_err(open_err)?;
        // Checkpoint every ~40 MiB of WAL instead of 4 MiB: index pages
        // rewritten by many commits are copied back once, not each time.
        conn.pragma_update(None, "wal_autocheckpoint", 10_000)
            .map_err(open_err)?;
    }
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// The schema versions of the replica at `path` and of its inbox file
/// (`None` for a file that does not exist), read without changing them.
pub fn schema_versions(path: &Path) -> Result<(Option<usize>, Option<usize>), StoreError> {
    let read = |p: &Path| -> Result<Option<usize>, StoreError> {
        if !p.exists() {
            return Ok(None);
        }
        let conn =
            Connection::open_with_flags(p, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|source| {
                StoreError::Open {
                    path: p.to_path_buf(),
                    source,
                }
            })?;
        Ok(Some(migrate::version(&conn)?))
    };
    Ok((read(path)?, read(&inbox::db::path_beside(path))?))
}

/// The webhook subscriptions recorded in the replica at `path`, read
/// without opening it for writing (no migration runs).
pub fn local_subscriptions(
    path: &Path,
) -> Result<Vec<subscriptions::LocalSubscription>, StoreError> {
    let conn =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|source| {
            StoreError::Open {
                path: path.to_path_buf(),
                source,
            }
        })?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    subscriptions::list(&conn)
}

/// The replica holds customer data: readable by the service user only.
fn restrict_permissions(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Serializes a value for a JSON column.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    Ok(serde_json::to_string(value)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("replica.db")).unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn write_commits_and_read_sees_it() {
        let (_dir, store) = temp_store();
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO events (at, level, kind, message) VALUES (1, 'info', 't', 'hello')",
                    [],
                )?;
                Ok(())
            })
            .await
            .unwrap();
        let n: i64 = store
            .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(n, 1);
    }

    #[tokio::test]
    async fn failed_write_rolls_back_everything() {
        let (_dir, store) = temp_store();
        let err = store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO events (at, level, kind, message) VALUES (1, 'info', 't', 'a')",
                    [],
                )?;
                tx.execute(
                    "INSERT INTO events (at, level, kind, message) VALUES (1, 'bogus', 't', 'b')",
                    [],
                )?;
                Ok(())
            })
            .await;
        assert!(matches!(err, Err(StoreError::Sqlite(_))));
        let n: i64 = store
            .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(n, 0);
    }

    /// Writes queued behind a busy writer: a failing or panicking one
    /// among them leaves only its own work out.
    #[tokio::test]
    async fn queued_writes_fail_alone() {
        let (_dir, store) = temp_store();
        let (entered_tx, entered_rx) = std::sync::mpsc::channel::<()>();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        // Holds the writer until the next writes are queued behind it.
        let writer = store.clone();
        let gate = tokio::spawn(async move {
            writer
                .write(move |_| {
                    entered_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    Ok(())
                })
                .await
        });
        tokio::task::spawn_blocking(move || entered_rx.recv().unwrap())
            .await
            .unwrap();
        let insert = |message: &'static str, level: &'static str| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write(move |tx| {
                        tx.execute(
                            "INSERT INTO events (at, level, kind, message) VALUES (1, ?1, 't', ?2)",
                            [level, message],
                        )?;
                        if message == "panics" {
                            panic!("a write that panics");
                        }
                        Ok(())
                    })
                    .await
            })
        };
        let writes = [
            insert("first", "info"),
            insert("bad level", "bogus"),
            insert("panics", "info"),
            insert("last", "info"),
        ];
        // Every write is queued before the writer is let go (a write job
        // is queued synchronously when its future first runs).
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        release_tx.send(()).unwrap();
        gate.await.unwrap().unwrap();
        let mut outcomes = Vec::new();
        for w in writes {
            outcomes.push(w.await.unwrap());
        }
        assert!(outcomes[0].is_ok());
        assert!(matches!(outcomes[1], Err(StoreError::Sqlite(_))));
        assert!(matches!(outcomes[2], Err(StoreError::Panicked)));
        assert!(outcomes[3].is_ok());
        let kept: Vec<String> = store
            .read(|c| {
                let mut st = c.prepare("SELECT message FROM events ORDER BY message")?;
                let rows = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
                Ok(rows)
            })
            .await
            .unwrap();
        assert_eq!(kept, ["first", "last"]);
    }

    #[tokio::test]
    async fn a_resumable_write_commits_unsynced_and_the_next_write_is_fsynced_again() {
        let (_dir, store) = temp_store();
        let level = |tx: &Transaction<'_>| -> Result<i64, StoreError> {
            Ok(tx.query_row("PRAGMA synchronous", [], |r| r.get(0))?)
        };
        // 2 = FULL, 1 = NORMAL.
        assert_eq!(store.write(level).await.unwrap(), 2);
        let during = store
            .write_resumable(move |tx| {
                tx.execute(
                    "INSERT INTO events (at, level, kind, message) VALUES (1, 'info', 't', 'page')",
                    [],
                )?;
                level(tx)
            })
            .await
            .unwrap();
        assert_eq!(during, 1);
        assert_eq!(store.write(level).await.unwrap(), 2);
        // A failed resumable write keeps nothing and restores FULL as well.
        let failed: Result<(), _> = store
            .write_resumable(|tx| {
                tx.execute(
                    "INSERT INTO events (at, level, kind, message) VALUES (2, 'info', 't', 'lost')",
                    [],
                )?;
                tx.execute("INSERT INTO no_such_table VALUES (1)", [])?;
                Ok(())
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(store.write(level).await.unwrap(), 2);
        let messages: Vec<String> = store
            .read(|c| {
                let mut st = c.prepare("SELECT message FROM events WHERE kind = 't'")?;
                let rows = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
                Ok(rows)
            })
            .await
            .unwrap();
        assert_eq!(messages, ["page"]);
    }

    #[tokio::test]
    async fn a_panicking_write_is_rolled_back_and_the_writer_survives() {
        let (_dir, store) = temp_store();
        let r: Result<(), _> = store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO events (at, level, kind, message) VALUES (1, 'info', 't', 'a')",
                    [],
                )?;
                panic!("bug");
            })
            .await;
        assert!(matches!(r, Err(StoreError::Panicked)));
        store.write(|_| Ok(())).await.unwrap();
        let n: i64 = store
            .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn pragmas_are_wal_with_foreign_keys() {
        let (_dir, store) = temp_store();
        let (mode, fk): (String, i64) = store
            .read_blocking(|c| {
                Ok((
                    c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                    c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?,
                ))
            })
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(fk, 1);
    }
}
