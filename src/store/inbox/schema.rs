//! The inbox file's schema: its own migrations (`migrations/inbox/`), in
//! its own `user_version`, applied at open like the replica's; a file newer
//! than this binary is refused and left untouched. And the move of an older
//! replica's deliveries into the inbox file.

use std::path::Path;
use std::sync::LazyLock;

use rusqlite::{Connection, named_params};
use rusqlite_migration::{M, Migrations};

use crate::store::{StoreError, migrate};

/// The inbox file's migrations with their numbers, in ascending order; a
/// test checks the list against `migrations/inbox/`.
const FILES: &[(u32, &str)] = &[(1, include_str!("../../../migrations/inbox/0001_inbox.sql"))];

static MIGRATIONS: LazyLock<Migrations<'static>> =
    LazyLock::new(|| Migrations::new(FILES.iter().map(|(_, sql)| M::up(sql)).collect()));

/// The schema version of the inbox file this binary writes.
pub const INBOX_SCHEMA_VERSION: usize = FILES.len();

const OLD_INBOX: &str =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'webhook_inbox'";
const OLD_ROWS: &str = "
SELECT id, received_at, topic, webhook_id, delivery_id, body, state,
       resource, object_id, date_modified_gmt, error, processed_at
FROM webhook_inbox ORDER BY id";
// Keeping the ids keeps the order deliveries are applied in, and makes the
// copy idempotent: a stop before the replica drops its tables copies again
// at the next open, onto the rows already here.
const CARRY_ROW: &str = "
INSERT OR IGNORE INTO webhook_inbox (id, received_at, topic, webhook_id, delivery_id, body,
    state, resource, object_id, date_modified_gmt, error, processed_at)
VALUES (:id, :received_at, :topic, :webhook_id, :delivery_id, :body,
    :state, :resource, :object_id, :modified, :error, :processed_at)";
const OLD_COUNTERS: &str = "SELECT name, value FROM webhook_counters";
// Totals only grow, so the larger value is the right one on a second copy.
const CARRY_COUNTER: &str = "
INSERT INTO webhook_counters (name, value) VALUES (:name, :value)
ON CONFLICT (name) DO UPDATE SET value = MAX(value, excluded.value)";

/// Refuses an inbox file written by a newer possync. Runs before any
/// pragma, so such a file is not modified at all.
pub(super) fn check_not_newer(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    migrate::refuse_newer(conn, path, INBOX_SCHEMA_VERSION)
}

/// Applies every pending migration in one transaction. Returns whether the
/// file was new (had no schema at all).
pub(super) fn apply(conn: &mut Connection) -> Result<bool, StoreError> {
    let fresh = migrate::version(conn)? == 0;
    MIGRATIONS.to_latest(conn).map_err(StoreError::Migrate)?;
    Ok(fresh)
}

/// Copies the deliveries and totals an older replica kept in its own
/// tables (schema 4 and 5) into the inbox file, in one transaction, before
/// the replica's migration drops those tables. Returns how many rows the
/// old table held.
pub(super) fn carry_over(
    replica: &Connection,
    inbox: &mut Connection,
) -> Result<usize, StoreError> {
    let present: i64 = replica.query_row(OLD_INBOX, [], |r| r.get(0))?;
    if present == 0 {
        return Ok(0);
    }
    let tx = inbox.transaction()?;
    let mut carried = 0;
    {
        let mut insert = tx.prepare(CARRY_ROW)?;
        let mut read = replica.prepare(OLD_ROWS)?;
        let mut rows = read.query([])?;
        while let Some(r) = rows.next()? {
            insert.execute(named_params! {
                ":id": r.get::<_, i64>(0)?,
                ":received_at": r.get::<_, i64>(1)?,
                ":topic": r.get::<_, String>(2)?,
                ":webhook_id": r.get::<_, Option<i64>>(3)?,
                ":delivery_id": r.get::<_, Option<String>>(4)?,
                ":body": r.get::<_, Vec<u8>>(5)?,
                ":state": r.get::<_, String>(6)?,
                ":resource": r.get::<_, Option<String>>(7)?,
                ":object_id": r.get::<_, Option<i64>>(8)?,
                ":modified": r.get::<_, Option<String>>(9)?,
                ":error": r.get::<_, Option<String>>(10)?,
                ":processed_at": r.get::<_, Option<i64>>(11)?,
            })?;
            carried += 1;
        }
        let mut insert = tx.prepare(CARRY_COUNTER)?;
        let mut read = replica.prepare(OLD_COUNTERS)?;
        let mut rows = read.query([])?;
        while let Some(r) = rows.next()? {
            insert.execute(named_params! {
                ":name": r.get::<_, String>(0)?,
                ":value": r.get::<_, i64>(1)?,
            })?;
        }
    }
    tx.commit()?;
    Ok(carried)
}

/// Makes the next delivery's id greater than `id` (ids of `webhook_inbox`
/// come from its `AUTOINCREMENT` sequence). Used at open for the ids the
/// replica's journal names: see `journal::highest_id`.
pub(super) fn reserve_ids_through(conn: &Connection, id: i64) -> Result<(), StoreError> {
    let tx = conn.unchecked_transaction()?;
    let updated = tx.execute(
        "UPDATE sqlite_sequence SET seq = MAX(seq, ?1) WHERE name = 'webhook_inbox'",
        [id],
    )?;
    if updated == 0 {
        tx.execute(
            "INSERT INTO sqlite_sequence (name, seq) VALUES ('webhook_inbox', ?1)",
            [id],
        )?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_migrations_validate() {
        MIGRATIONS.validate().unwrap();
    }

    #[test]
    fn every_inbox_migration_file_is_listed_once_in_number_order() {
        migrate::assert_listed("migrations/inbox", FILES);
    }

    #[test]
    fn a_new_file_reports_fresh_once() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert!(apply(&mut conn).unwrap());
        assert!(!apply(&mut conn).unwrap());
        assert_eq!(migrate::version(&conn).unwrap(), INBOX_SCHEMA_VERSION);
    }
}
