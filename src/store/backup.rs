//! Backups of the replica and its webhook inbox, and restoring one.
//!
//! A backup is taken while the agent runs, with SQLite's online backup API
//! (a consistent snapshot: WAL lets the agent keep writing meanwhile). Each
//! file is copied into `PATH.partial` (created 0600: it holds customers and
//! the shop's webhook secrets), switched to a single self-contained file
//! (`journal_mode=DELETE`), checked with `PRAGMA integrity_check`, synced
//! and only then renamed to `PATH`. The inbox goes beside it by the live
//! files' rule (`PATH` = `x.db` → `x.inbox.db`). The inbox is copied first,
//! the replica last, so the replica (which holds the sales) is the newer of
//! the two.
//!
//! Restoring never books a sale twice. A backup may show a sale as queued
//! or in flight that reached the shop after the backup was taken; so every
//! entry that is `queued`, `sending` or `rejected` in the restored file
//! becomes `unknown`, the state the replayer looks up at the shop by its
//! key before any resend. That change is made in a working copy of the
//! backup, which then replaces the replica in one step (the backup API
//! writes the live file in one transaction): a crash leaves either the old
//! replica or the restored one, never a restored one that would resend.
//! Restore runs with the agent stopped.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags, named_params};
use serde::Serialize;

use super::inbox::db as inbox;
use super::{StoreError, migrate};

/// Sales the shop has not confirmed (they would be lost by a restore that
/// replaces them).
const UNCONFIRMED_SALES: &str = "
SELECT COUNT(*) FROM outbox
WHERE kind = 'sale' AND state IN ('queued', 'sending', 'unknown', 'rejected')";
const HAS_OUTBOX: &str =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'outbox'";
/// Entries a restored backup may show as waiting although they reached the
/// shop since: looked up by key before any resend.
const MARK_FOR_LOOKUP: &str = "
UPDATE outbox SET state = 'unknown', next_attempt_at = :now, updated_at = :now,
    error_message = 'restored from a backup: looked up at the shop before any resend'
WHERE state IN ('queued', 'sending', 'rejected')";

/// How long a copy waits on a lock the agent holds before trying again.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a copy that found the source locked waits before its next step.
const LOCKED_RETRY: Duration = Duration::from_millis(50);

/// What a backup wrote.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    pub replica: PathBuf,
    pub replica_bytes: u64,
    /// `None` when there was no inbox file beside the replica.
    pub inbox: Option<PathBuf>,
    /// Sales in the copy the shop had not confirmed when it was taken.
    pub unconfirmed_sales: i64,
}

/// What a restore did.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    /// Unconfirmed sales of the replaced replica (0 unless forced).
    pub replaced_unconfirmed_sales: i64,
    /// Entries that will be looked up at the shop before any resend.
    pub marked_for_lookup: usize,
    /// Whether the backup had an inbox file, restored with it.
    pub inbox_restored: bool,
}

/// The inbox file that goes with a replica (or a backup of one) at `path`.
pub fn inbox_beside(path: &Path) -> PathBuf {
    inbox::path_beside(path)
}

/// Backs up the replica at `replica` (and its inbox) to `dest` (and the
/// inbox beside it).
pub fn create(replica: &Path, dest: &Path) -> Result<BackupReport, StoreError> {
    if !replica.exists() {
        return Err(StoreError::Backup {
            path: replica.to_path_buf(),
            reason: "no replica here (is data_dir right?)".to_owned(),
        });
    }
    if dest == replica {
        return Err(StoreError::Backup {
            path: dest.to_path_buf(),
            reason: "a backup cannot replace the replica it copies".to_owned(),
        });
    }
    let live_inbox = inbox::path_beside(replica);
    let inbox = if live_inbox.exists() {
        let to = inbox::path_beside(dest);
        copy_checked(&live_inbox, &to, |_| Ok(()))?;
        Some(to)
    } else {
        None
    };
    copy_checked(replica, dest, |_| Ok(()))?;
    let conn = open_read_only(dest)?;
    let unconfirmed_sales = unconfirmed_sales(&conn)?;
    let replica_bytes = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
    Ok(BackupReport {
        replica: dest.to_path_buf(),
        replica_bytes,
        inbox,
        unconfirmed_sales,
    })
}

/// Sales the shop has not confirmed in the replica at `path` (0 when
/// there is none).
pub fn unconfirmed_sales_at(path: &Path) -> Result<i64, StoreError> {
    if !path.exists() {
        return Ok(0);
    }
    unconfirmed_sales(&open_read_only(path)?)
}

fn unconfirmed_sales(conn: &Connection) -> Result<i64, StoreError> {
    let has_outbox: i64 = conn.query_row(HAS_OUTBOX, [], |r| r.get(0))?;
    if has_outbox == 0 {
        return Ok(0);
    }
    Ok(conn.query_row(UNCONFIRMED_SALES, [], |r| r.get(0))?)
}

/// Replaces the replica at `replica` (and its inbox) with the backup at
/// `backup`. Refuses when the replica holds unconfirmed sales, unless
/// `force`. The agent must be stopped.
pub fn restore(
    backup: &Path,
    replica: &Path,
    force: bool,
    now_ms: i64,
) -> Result<RestoreReport, StoreError> {
    let refuse = |reason: String| StoreError::Backup {
        path: backup.to_path_buf(),
        reason,
    };
    if !backup.is_file() {
        return Err(refuse("no backup file here".to_owned()));
    }
    {
        let conn = open_read_only(backup)?;
        check_integrity(&conn, backup)?;
        migrate::check_not_newer(&conn, backup)?;
    }
    let replaced = unconfirmed_sales_at(replica)?;
    if replaced > 0 && !force {
        return Err(StoreError::RestoreRefused {
            path: replica.to_path_buf(),
            unconfirmed: replaced,
        });
    }
    if let Some(dir) = replica.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    // A working copy beside the replica takes the lookup marks; the backup
    // itself is left as it is.
    let work = partial_path(replica, "restoring");
    let mut marked = 0;
    copy_checked(backup, &work, |conn| {
        let has_outbox: i64 = conn.query_row(HAS_OUTBOX, [], |r| r.get(0))?;
        if has_outbox > 0 {
            marked = conn.execute(MARK_FOR_LOOKUP, named_params! { ":now": now_ms })?;
        }
        Ok(())
    })?;
    let into_live = |from: &Path, to: &Path| -> Result<(), StoreError> {
        let src = open_read_only(from)?;
        let mut dst = open_write(to)?;
        run_backup(&src, &mut dst, to)?;
        check_integrity(&dst, to)?;
        drop(dst);
        super::restrict_permissions(to);
        Ok(())
    };
    let backup_inbox = inbox::path_beside(backup);
    let inbox_restored = backup_inbox.is_file();
    if inbox_restored {
        into_live(&backup_inbox, &inbox::path_beside(replica))?;
    }
    let restored = into_live(&work, replica);
    let _ = std::fs::remove_file(&work);
    restored?;
    Ok(RestoreReport {
        replaced_unconfirmed_sales: replaced,
        marked_for_lookup: marked,
        inbox_restored,
    })
}

/// Copies the database at `from` into a new file at `to` (0600, checked,
/// synced, then renamed into place), letting `adjust` change the copy
/// before it is checked.
fn copy_checked(
    from: &Path,
    to: &Path,
    adjust: impl FnOnce(&Connection) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let partial = partial_path(to, "partial");
    let _ = std::fs::remove_file(&partial);
    create_private(&partial)?;
    let result = (|| {
        let src = open_read_only(from)?;
        let mut dst = open_write(&partial)?;
        run_backup(&src, &mut dst, to)?;
        // One self-contained file: no -wal beside it to forget.
        dst.pragma_update(None, "journal_mode", "DELETE")?;
        adjust(&dst)?;
        check_integrity(&dst, to)?;
        drop(dst);
        sync_file(&partial)?;
        std::fs::rename(&partial, to).map_err(|e| io_failure(to, e))?;
        if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
            // The rename itself survives a power cut.
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
        super::restrict_permissions(to);
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn run_backup(src: &Connection, dst: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let failed = |e: rusqlite::Error| StoreError::Backup {
        path: path.to_path_buf(),
        reason: format!("the copy failed: {e}"),
    };
    let copy = Backup::new(src, dst).map_err(failed)?;
    // All pages in one step (-1): the snapshot is one read transaction of
    // the source, so a write meanwhile does not restart the copy.
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match copy.step(-1).map_err(failed)? {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            // Busy, locked (or a state added later): wait a little.
            _ if std::time::Instant::now() < deadline => {
                std::thread::sleep(LOCKED_RETRY);
            }
            _ => {
                return Err(StoreError::Backup {
                    path: path.to_path_buf(),
                    reason: format!("the database stayed locked for {BUSY_TIMEOUT:?}"),
                });
            }
        }
    }
}

fn check_integrity(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let verdict: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if verdict != "ok" {
        return Err(StoreError::Backup {
            path: path.to_path_buf(),
            reason: format!("integrity check failed: {verdict}"),
        });
    }
    Ok(())
}

fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

fn open_write(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(|source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// `dir/name.db` → `dir/name.db.SUFFIX`.
fn partial_path(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(suffix);
    path.with_file_name(name)
}

/// Creates an empty file readable by its owner only, before SQLite writes
/// anything into it.
fn create_private(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map(drop)
        .map_err(|e| io_failure(path, e))
}

fn sync_file(path: &Path) -> Result<(), StoreError> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_failure(path, e))
}

fn io_failure(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Backup {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}
