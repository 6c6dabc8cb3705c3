//! A bounded log of sync events (pulls finished, warnings, errors) that the
//! back-office page shows. Log files are not tailed: this table is the page's
//! source, and it keeps only the most recent entries.

use rusqlite::{Connection, Transaction, named_params};
use serde::Serialize;

use super::StoreError;

/// How many events are kept.
pub const MAX_EVENTS: i64 = 1000;

const INSERT: &str = "
INSERT INTO events (at, level, kind, resource, message) VALUES (:at, :level, :kind, :resource, :message)";
const PRUNE: &str = "DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - :keep";
const RECENT: &str = "
SELECT id, at, level, kind, resource, message FROM events ORDER BY id DESC LIMIT :limit";

/// How serious an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// One recorded event.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub id: i64,
    /// Unix ms.
    pub at: i64,
    pub level: String,
    pub kind: String,
    pub resource: Option<String>,
    pub message: String,
}

/// Appends an event and drops the oldest beyond [`MAX_EVENTS`].
pub fn append(
    tx: &Transaction<'_>,
    at_ms: i64,
    level: Level,
    kind: &str,
    resource: Option<&str>,
    message: &str,
) -> Result<(), StoreError> {
    tx.prepare_cached(INSERT)?.execute(named_params! {
        ":at": at_ms, ":level": level.as_str(), ":kind": kind, ":resource": resource, ":message": message,
    })?;
    tx.prepare_cached(PRUNE)?
        .execute(named_params! { ":keep": MAX_EVENTS })?;
    Ok(())
}

/// The most recent events, newest first.
pub fn recent(conn: &Connection, limit: i64) -> Result<Vec<Event>, StoreError> {
    let mut stmt = conn.prepare_cached(RECENT)?;
    let rows = stmt
        .query_map(named_params! { ":limit": limit }, |r| {
            Ok(Event {
                id: r.get(0)?,
                at: r.get(1)?,
                level: r.get(2)?,
                kind: r.get(3)?,
                resource: r.get(4)?,
                message: r.get(5)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[tokio::test]
    async fn keeps_only_the_most_recent_events() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("r.db")).unwrap();
        store
            .write(|tx| {
                for i in 0..(MAX_EVENTS + 5) {
                    append(tx, i, Level::Info, "test", None, &format!("event {i}"))?;
                }
                Ok(())
            })
            .await
            .unwrap();
        let all = store.read(|c| recent(c, 10_000)).await.unwrap();
        assert_eq!(all.len() as i64, MAX_EVENTS);
        assert_eq!(all[0].message, format!("event {}", MAX_EVENTS + 4));
    }
}
