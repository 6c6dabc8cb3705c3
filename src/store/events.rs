//! A bounded log of sync events (pulls finished, warnings, errors) that the
//! back-office page shows. Log files are not tailed: this table is the page's
//! source, and it keeps only the most recent entries.

use rusqlite::{Connection, Transaction, named_params};
use serde::Serialize;

use super::StoreError;
use super::paging::{self, Cursor, Page};

/// How many events are kept.
pub const MAX_EVENTS: i64 = 1000;

const INSERT: &str = "
INSERT INTO events (at, level, kind, resource, message) VALUES (:at, :level, :kind, :resource, :message)";
const PRUNE: &str = "DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - :keep";
const RECENT: &str = "
SELECT id, at, level, kind, resource, message FROM events ORDER BY id DESC LIMIT :limit";
/// Events of one level and kind (or any), newest first or just above `:after`.
const PAGE: &str = "
SELECT id, at, level, kind, resource, message FROM events
WHERE (:level IS NULL OR level = :level) AND (:kind IS NULL OR kind = :kind)
  AND (:before IS NULL OR id < :before) AND (:after IS NULL OR id > :after)
ORDER BY CASE WHEN :after IS NULL THEN -id ELSE id END
LIMIT :limit";
const PAGE_EXISTS: &str = "
SELECT EXISTS (SELECT 1 FROM events
WHERE (:level IS NULL OR level = :level) AND (:kind IS NULL OR kind = :kind)
  AND (:before IS NULL OR id < :before) AND (:after IS NULL OR id > :after))";
const KINDS: &str = "SELECT DISTINCT kind FROM events ORDER BY kind";

/// How serious an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Info, Level::Warn, Level::Error];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| format!("unknown level {s:?}: one of info, warn, error"))
    }
}

/// Which events the back-office log lists or exports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub level: Option<Level>,
    pub kind: Option<String>,
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
        .query_map(named_params! { ":limit": limit }, event_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn event_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Event> {
    Ok(Event {
        id: r.get(0)?,
        at: r.get(1)?,
        level: r.get(2)?,
        kind: r.get(3)?,
        resource: r.get(4)?,
        message: r.get(5)?,
    })
}

/// A page of at most `limit` events matching `filter`, newest first
/// (`limit` [`MAX_EVENTS`] with [`Cursor::Newest`] is every one kept).
pub fn page(
    conn: &Connection,
    filter: &EventFilter,
    cursor: Cursor,
    limit: i64,
) -> Result<Page<Event>, StoreError> {
    let level = filter.level.map(Level::as_str);
    let kind = filter.kind.as_deref();
    let (before, after) = cursor.bounds();
    let rows = conn
        .prepare_cached(PAGE)?
        .query_map(
            named_params! {
                ":level": level, ":kind": kind, ":before": before, ":after": after, ":limit": limit,
            },
            event_from_row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let mut exists = conn.prepare_cached(PAGE_EXISTS)?;
    paging::assemble(
        cursor,
        rows,
        |e| e.id,
        |before, after| {
            Ok(exists.query_row(
                named_params! { ":level": level, ":kind": kind, ":before": before, ":after": after },
                |r| r.get::<_, bool>(0),
            )?)
        },
    )
}

/// The kinds of event the log holds, for the page's filter.
pub fn kinds(conn: &Connection) -> Result<Vec<String>, StoreError> {
    Ok(conn
        .prepare_cached(KINDS)?
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<_>, _>>()?)
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

    #[tokio::test]
    async fn pages_of_one_level_are_stable_under_inserts() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("r.db")).unwrap();
        let add = |from: i64, to: i64| {
            store.write(move |tx| {
                for i in from..to {
                    let level = if i % 2 == 0 { Level::Warn } else { Level::Info };
                    append(tx, i, level, "test", None, &format!("event {i}"))?;
                }
                Ok(())
            })
        };
        add(0, 10).await.unwrap();
        let warn = EventFilter {
            level: Some(Level::Warn),
            kind: None,
        };
        let messages =
            |p: &Page<Event>| -> Vec<String> { p.rows.iter().map(|e| e.message.clone()).collect() };
        let f = warn.clone();
        let first = store
            .read(move |c| page(c, &f, Cursor::Newest, 2))
            .await
            .unwrap();
        assert_eq!(messages(&first), ["event 8", "event 6"]);
        assert!(first.newer.is_none());
        // New events arrive; the next page still follows on.
        add(10, 14).await.unwrap();
        let (f, anchor) = (warn.clone(), first.older.unwrap());
        let second = store
            .read(move |c| page(c, &f, Cursor::Before(anchor), 2))
            .await
            .unwrap();
        assert_eq!(messages(&second), ["event 4", "event 2"]);
        let (f, anchor) = (warn.clone(), second.newer.unwrap());
        let back = store
            .read(move |c| page(c, &f, Cursor::After(anchor), 2))
            .await
            .unwrap();
        assert_eq!(messages(&back), ["event 8", "event 6"]);
        assert!(back.newer.is_some(), "the events added meanwhile");
        let f = warn;
        let last = store
            .read(move |c| page(c, &f, Cursor::Before(second.older.unwrap()), 2))
            .await
            .unwrap();
        assert_eq!(messages(&last), ["event 0"]);
        assert!(last.older.is_none());
    }
}
