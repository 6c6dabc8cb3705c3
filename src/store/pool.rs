//! A pool of read connections to one database file, shared by the replica
//! and the webhook inbox: reads run on the blocking thread pool, at most
//! as many at once as the pool holds, each on a connection of its own (WAL
//! lets them run while the file's writer commits).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::Semaphore;

use super::StoreError;

/// Opens one more read connection (when one was lost to a failed read).
type Open = fn(&Path) -> Result<Connection, StoreError>;

/// Read connections to the file at `path`. Cheap to clone.
#[derive(Clone)]
pub(super) struct ReadPool {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    open: Open,
    connections: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl ReadPool {
    /// Opens `size` connections with `open`.
    pub(super) fn open(path: &Path, size: usize, open: Open) -> Result<ReadPool, StoreError> {
        let connections = (0..size)
            .map(|_| open(path))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ReadPool {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                open,
                connections: Mutex::new(connections),
                permits: Semaphore::new(size),
            }),
        })
    }

    /// Runs `f` on a read connection on the blocking pool; it sees the last
    /// committed state and never waits for the writer.
    pub(super) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || inner.with_connection(f))
            .await
            .map_err(|_| StoreError::Panicked)?
    }

    /// [`ReadPool::read`] for code that is not async.
    pub(super) fn read_blocking<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.inner.with_connection(f)
    }
}

impl Inner {
    fn with_connection<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self
            .connections
            .lock()
            .map_err(|_| StoreError::Closed)?
            .pop()
            .map_or_else(|| (self.open)(&self.path), Ok)?;
        let out = f(&conn);
        if let Ok(mut pool) = self.connections.lock() {
            pool.push(conn);
        }
        out
    }
}
