//! Schema migrations: the files in `migrations/`, embedded in order and
//! applied at open in one transaction, tracked in `PRAGMA user_version`.
//! A database newer than this binary is refused and left untouched.
//! Released migrations are never edited; a change is a new file.

use std::path::Path;
use std::sync::LazyLock;

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use super::StoreError;

/// The migration files with their numbers, in ascending order. Branches add
/// files under numbers reserved ahead (0002 lookup, 0003 outbox, 0004
/// webhooks); each entry names its number so that a merge puts every file
/// in its place, and a test checks the list against `migrations/`: ascending
/// numbers, no file missing. The schema version is the list's length.
const FILES: &[(u32, &str)] = &[
    (1, include_str!("../../migrations/0001_init.sql")),
    (2, include_str!("../../migrations/0002_lookup.sql")),
    (3, include_str!("../../migrations/0003_outbox.sql")),
    (4, include_str!("../../migrations/0004_webhooks.sql")),
    (5, include_str!("../../migrations/0005_delta.sql")),
    (
        6,
        include_str!("../../migrations/0006_local_orders_lookup.sql"),
    ),
    (7, include_str!("../../migrations/0007_inbox_file.sql")),
    (8, include_str!("../../migrations/0008_access.sql")),
    (9, include_str!("../../migrations/0009_search_deferred.sql")),
    (10, include_str!("../../migrations/0010_meta_mapping.sql")),
    (11, include_str!("../../migrations/0011_pull_cursors.sql")),
    (
        12,
        include_str!("../../migrations/0012_products_run_index.sql"),
    ),
    (13, include_str!("../../migrations/0013_order_risk.sql")),
];

static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    let last = FILES.len() - 1;
    Migrations::new(
        FILES
            .iter()
            .enumerate()
            .map(|(i, (_, sql))| {
                if i == last {
                    M::up_with_hook(sql, hold_for_test)
                } else {
                    M::up(sql)
                }
            })
            .collect(),
    )
});

/// Debug builds only, for the test that kills an upgrade midway: with
/// `POSSYNC_TEST_HOLD_MIGRATION=FILE`, the migration transaction, once
/// every pending file has run and before `user_version` is set and the
/// transaction committed, creates FILE and waits there to be killed.
/// Release builds ignore the variable.
fn hold_for_test(_tx: &rusqlite::Transaction<'_>) -> rusqlite_migration::HookResult {
    #[cfg(debug_assertions)]
    if let Some(marker) = std::env::var_os("POSSYNC_TEST_HOLD_MIGRATION") {
        let _ = std::fs::write(&marker, b"holding");
        loop {
            std::thread::park();
        }
    }
    Ok(())
}

/// The schema version this binary writes.
pub const SCHEMA_VERSION: usize = FILES.len();

/// A database's schema version (`PRAGMA user_version`).
pub(super) fn version(conn: &Connection) -> Result<usize, rusqlite::Error> {
    Ok(conn
        .pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))?
        .try_into()
        .unwrap_or(usize::MAX))
}

/// Refuses a database whose schema is newer than `known`. Runs before any
/// pragma, so such a file is not modified at all.
pub(super) fn refuse_newer(conn: &Connection, path: &Path, known: usize) -> Result<(), StoreError> {
    let found = version(conn).map_err(|source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    if found > known {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found,
            known,
        });
    }
    Ok(())
}

/// Refuses a replica written by a newer possync.
pub(super) fn check_not_newer(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    refuse_newer(conn, path, SCHEMA_VERSION)
}

/// Applies every pending migration in one transaction.
pub(super) fn apply(conn: &mut Connection) -> Result<(), StoreError> {
    MIGRATIONS.to_latest(conn).map_err(StoreError::Migrate)
}

/// Checks a migration list against its directory (below the crate root):
/// ascending numbers, every `NNNN_name.sql` file listed under its number.
#[cfg(test)]
pub(super) fn assert_listed(dir: &str, files: &[(u32, &str)]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut on_disk: Vec<(u32, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .map(|n| (n[..4].parse().expect("NNNN_name.sql"), n))
        .collect();
    on_disk.sort();
    let listed: Vec<u32> = files.iter().map(|(n, _)| *n).collect();
    assert!(
        listed.windows(2).all(|w| w[0] < w[1]),
        "migrations listed out of order: {listed:?}"
    );
    assert_eq!(
        on_disk.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        listed,
        "{} holds {on_disk:?}",
        dir.display()
    );
    for ((_, name), (_, sql)) in on_disk.iter().zip(files) {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        assert_eq!(&text, sql, "{name} is listed under another number");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_validate() {
        MIGRATIONS.validate().unwrap();
    }

    #[test]
    fn every_migration_file_is_listed_once_in_number_order() {
        assert_listed("migrations", FILES);
    }

    #[test]
    fn schema_version_matches_the_migration_list() {
        let mut conn = Connection::open_in_memory().unwrap();
        check_not_newer(&conn, Path::new(":memory:")).unwrap();
        apply(&mut conn).unwrap();
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v as usize, SCHEMA_VERSION);
    }

    #[test]
    fn pages_finished_before_cursors_carry_over_as_cursors() {
        let mut conn = Connection::open_in_memory().unwrap();
        MIGRATIONS.to_version(&mut conn, 10).unwrap();
        conn.execute_batch(
            "INSERT INTO pull_runs (id, resource, params, state, started_at, page_size)
             VALUES (7, 'products', 'v1', 'running', 1, 100);
             INSERT INTO pull_pages (run_id, scope, page, items, reported_items, reported_pages, done_at)
             VALUES (7, 0, 1, 100, 420, 5, 10), (7, 0, 2, 100, 420, 5, 11),
                    (7, 0, 5, 20, 420, 5, 12), (7, 31, 1, 3, 3, 1, 13),
                    (7, 32, 1, 100, 150, NULL, 14);",
        )
        .unwrap();
        apply(&mut conn).unwrap();
        let mut pages = super::super::sync_state::done_pages(&conn, 7).unwrap();
        pages.sort_by_key(|d| (d.scope, d.seq));
        let got: Vec<_> = pages
            .iter()
            .map(|d| {
                (
                    d.scope,
                    d.cursor.as_str(),
                    d.seq,
                    d.next.as_deref(),
                    d.items,
                    d.reported_items,
                    d.reported_pages,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (0, "", 1, Some("2"), 100, Some(420), Some(5)),
                (0, "2", 2, Some("3"), 100, Some(420), Some(5)),
                (0, "5", 5, None, 20, Some(420), Some(5)),
                (31, "", 1, None, 3, Some(3), Some(1)),
                (32, "", 1, None, 100, Some(150), None),
            ]
        );
    }

    #[test]
    fn shopify_orders_mirrored_before_keep_their_risk_recommendation() {
        let mut conn = Connection::open_in_memory().unwrap();
        MIGRATIONS.to_version(&mut conn, 12).unwrap();
        // As schema 12 kept them: Shopify's word in the meta data under
        // `_shopify_risk_recommendation`; WooCommerce orders have none.
        conn.execute_batch(
            r#"INSERT INTO orders (id, number, status, date_modified_gmt, meta_data, raw, synced_at) VALUES
             (1, '#1001', 'processing', '2026-01-01T00:00:00',
              '[{"key":"_shopify_risk_recommendation","value":"CANCEL"},{"key":"possync.key","value":"k"}]', '{}', 1),
             (2, '#1002', 'processing', '2026-01-01T00:00:00',
              '[{"key":"_shopify_source_identifier","value":"s"},{"key":"_shopify_risk_recommendation","value":"INVESTIGATE"}]', '{}', 1),
             (3, '#1003', 'completed', '2026-01-01T00:00:00',
              '[{"key":"_shopify_risk_recommendation","value":"NONE"}]', '{}', 1),
             (4, '#1004', 'completed', '2026-01-01T00:00:00',
              '[{"key":"_shopify_risk_recommendation","value":"SOMETHING_NEW"}]', '{}', 1),
             (5, '1005', 'processing', '2026-01-01T00:00:00',
              '[{"key":"_wc_note","value":"x"}]', '{}', 1);
             INSERT INTO outbox (id, seq, kind, subject, label, state, payload, next_attempt_at,
                                 created_at, updated_at)
             VALUES ('e1', 1, 'complete', 'c1', 'pickup of 1005', 'queued', '{}', 1, 1, 1);
             INSERT INTO local_completions (id, outbox_id, order_id, created_at)
             VALUES ('c1', 'e1', 5, 1);"#,
        )
        .unwrap();
        apply(&mut conn).unwrap();
        let mut stmt = conn
            .prepare("SELECT id, risk_recommendation FROM orders ORDER BY id")
            .unwrap();
        let got: Vec<(i64, Option<String>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let want = [
            (1, Some("cancel")),
            (2, Some("investigate")),
            (3, Some("none")),
            (4, None),
            (5, None),
        ]
        .map(|(id, r)| (id, r.map(str::to_owned)));
        assert_eq!(got, want);
        let completion: (Option<String>, Option<String>) = conn
            .query_row(
                "SELECT risk_override_by, risk_override_reason FROM local_completions",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(completion, (None, None), "no override on a past pickup");
        let refused = conn.execute(
            "UPDATE orders SET risk_recommendation = 'CANCEL' WHERE id = 1",
            [],
        );
        assert!(refused.is_err(), "only our own words are stored");
    }

    #[test]
    fn a_newer_database_is_refused_and_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("replica.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
                .unwrap();
        }
        let err = super::super::Store::open(&path).err().unwrap();
        let expected =
            format!("schema version 99, newer than this possync knows ({SCHEMA_VERSION})");
        assert!(err.to_string().contains(&expected), "{err}");
        let conn = Connection::open(&path).unwrap();
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, 99);
        let tables: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'products'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0);
    }
}
