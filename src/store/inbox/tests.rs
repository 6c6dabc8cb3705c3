use std::path::Path;

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use super::*;
use crate::domain::GmtTime;
use crate::store::Store;

fn delivery(n: i64) -> ReceivedDelivery {
    ReceivedDelivery {
        received_at: 1_000 + n,
        topic: "product.updated".to_owned(),
        webhook_id: Some(1),
        delivery_id: None,
        body: format!(r#"{{"id":{n}}}"#).into_bytes(),
    }
}

fn applied(inbox_id: i64, object: i64) -> Outcome {
    Outcome {
        inbox_id,
        state: DeliveryState::Applied,
        key: Some(VersionKey {
            resource: Resource::Products,
            id: object,
            modified: GmtTime::parse("2026-01-01T10:00:00"),
        }),
        error: None,
    }
}

/// A replica as possync wrote it before the inbox had a file of its own.
fn schema_5_replica(path: &Path) -> Connection {
    let mut conn = Connection::open(path).unwrap();
    Migrations::new(vec![
        M::up(include_str!("../../../migrations/0001_init.sql")),
        M::up(include_str!("../../../migrations/0002_lookup.sql")),
        M::up(include_str!("../../../migrations/0003_outbox.sql")),
        M::up(include_str!("../../../migrations/0004_webhooks.sql")),
        M::up(include_str!("../../../migrations/0005_delta.sql")),
    ])
    .to_latest(&mut conn)
    .unwrap();
    conn.execute_batch(
        "
        INSERT INTO webhook_inbox (id, received_at, topic, body, state, resource, object_id,
                                   date_modified_gmt, processed_at)
        VALUES (7, 100, 'product.updated', X'7B7D', 'applied', 'products', 5, '2026-01-01T10:00:00', 101);
        INSERT INTO webhook_inbox (id, received_at, topic, webhook_id, delivery_id, body)
        VALUES (8, 200, 'product.updated', 3, 'abc', CAST('{\"id\":6}' AS BLOB));
        UPDATE webhook_counters SET value = 2 WHERE name = 'received';
        UPDATE webhook_counters SET value = 1 WHERE name = 'applied';
        UPDATE webhook_counters SET value = 200 WHERE name = 'last_received_at';
        ",
    )
    .unwrap();
    conn
}

fn table_exists(conn: &Connection, name: &str) -> bool {
    conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
        > 0
}

#[tokio::test]
async fn a_stored_delivery_is_pending_in_the_file_beside_the_replica() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("replica.db")).unwrap();
    assert_eq!(store.inbox().path(), dir.path().join("replica.inbox.db"));
    store.inbox().store(delivery(1)).await.unwrap();
    let items = store.inbox().read(|c| pending(c, 0, 10)).await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].body, br#"{"id":1}"#);
    let stats = store.inbox().stats(5).await.unwrap();
    assert_eq!((stats.received, stats.waiting), (1, 1), "{stats:?}");
    assert_eq!(stats.last_delivery_at, Some(1_001));
}

#[cfg(unix)]
#[tokio::test]
async fn the_inbox_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("replica.db")).unwrap();
    store.inbox().store(delivery(1)).await.unwrap();
    let mode = std::fs::metadata(store.inbox().path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test]
async fn marking_the_same_outcomes_twice_counts_them_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("replica.db")).unwrap();
    store.inbox().store(delivery(1)).await.unwrap();
    for expected in [1, 0] {
        let changed = store
            .inbox()
            .write(|tx| mark(tx, &[applied(1, 1)], 5))
            .await
            .unwrap();
        assert_eq!(changed, expected);
    }
    let stats = store.inbox().stats(5).await.unwrap();
    assert_eq!((stats.applied, stats.waiting), (1, 0), "{stats:?}");
    let still = store.inbox().read(|c| any_pending(c, &[1])).await.unwrap();
    assert!(!still);
}

#[tokio::test]
async fn the_journal_keeps_the_last_batch_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("replica.db")).unwrap();
    let gone = Outcome {
        inbox_id: 3,
        state: DeliveryState::Refetch,
        key: Some(VersionKey {
            resource: Resource::Orders,
            id: 0,
            modified: None,
        }),
        error: Some("woocommerce_rest_shop_order_invalid_id".to_owned()),
    };
    let first = vec![applied(1, 10), applied(2, 11)];
    let second = vec![gone.clone(), applied(4, 12)];
    store
        .write(move |tx| journal::replace(tx, &first))
        .await
        .unwrap();
    let expected = second.clone();
    store
        .write(move |tx| journal::replace(tx, &second))
        .await
        .unwrap();
    let entries = store.read(journal::entries).await.unwrap();
    assert_eq!(entries, expected);
}

#[tokio::test]
async fn a_schema_5_replica_hands_its_deliveries_and_totals_to_the_inbox_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replica.db");
    drop(schema_5_replica(&path));

    let store = Store::open(&path).unwrap();

    let stats = store.inbox().stats(5).await.unwrap();
    assert_eq!(
        (stats.received, stats.applied, stats.waiting),
        (2, 1, 1),
        "{stats:?}"
    );
    assert_eq!(stats.last_delivery_at, Some(200));
    let items = store.inbox().read(|c| pending(c, 0, 10)).await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0].id, items[0].body.as_slice()),
        (8, &br#"{"id":6}"#[..])
    );
    // The processed row came too: it still deduplicates.
    let key = applied(0, 5).key.unwrap();
    assert!(store.inbox().read(move |c| seen(c, 8, &key)).await.unwrap());
    let (old, journal) = store
        .read(|c| {
            Ok((
                table_exists(c, "webhook_inbox"),
                table_exists(c, "webhook_applied"),
            ))
        })
        .await
        .unwrap();
    assert!(!old, "the replica's own inbox table is dropped");
    assert!(journal);
    // New deliveries follow the carried ones.
    store.inbox().store(delivery(9)).await.unwrap();
    let ids: Vec<i64> = store
        .inbox()
        .read(|c| pending(c, 0, 10))
        .await
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids, [8, 9]);
}

#[test]
fn carrying_over_again_after_a_stop_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let replica = schema_5_replica(&dir.path().join("replica.db"));
    let mut inbox = Connection::open_in_memory().unwrap();
    schema::apply(&mut inbox).unwrap();
    // The first copy committed, then the agent stopped before the replica
    // dropped its tables: the next open copies again.
    assert_eq!(schema::carry_over(&replica, &mut inbox).unwrap(), 2);
    assert_eq!(schema::carry_over(&replica, &mut inbox).unwrap(), 2);
    let s = stats(&inbox, 5).unwrap();
    assert_eq!((s.received, s.applied, s.waiting), (2, 1, 1), "{s:?}");
    let rows: i64 = inbox
        .query_row("SELECT COUNT(*) FROM webhook_inbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 2);
}

#[test]
fn a_replica_without_the_old_tables_carries_nothing() {
    let mut replica = Connection::open_in_memory().unwrap();
    crate::store::migrate::apply(&mut replica).unwrap();
    let mut inbox = Connection::open_in_memory().unwrap();
    schema::apply(&mut inbox).unwrap();
    assert_eq!(schema::carry_over(&replica, &mut inbox).unwrap(), 0);
}

#[tokio::test]
async fn a_new_inbox_file_clears_a_journal_naming_the_old_ones_deliveries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replica.db");
    let inbox_path = {
        let store = Store::open(&path).unwrap();
        store
            .write(|tx| journal::replace(tx, &[applied(1, 10)]))
            .await
            .unwrap();
        store.inbox().path().to_path_buf()
    };
    // Removed by hand: its ids start from 1 again.
    for suffix in ["", "-wal", "-shm"] {
        let mut p = inbox_path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    let store = Store::open(&path).unwrap();
    assert!(store.read(journal::entries).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_inbox_file_from_a_newer_possync_is_refused_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replica.db");
    let inbox_path = db::path_beside(&path);
    {
        let conn = Connection::open(&inbox_path).unwrap();
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
            .unwrap();
    }
    let err = Store::open(&path).err().unwrap();
    assert!(
        err.to_string().contains(&format!(
            "schema version 99, newer than this possync knows ({INBOX_SCHEMA_VERSION})"
        )),
        "{err}"
    );
    let conn = Connection::open(&inbox_path).unwrap();
    let v: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, 99);
    assert!(!table_exists(&conn, "webhook_inbox"));
}

#[tokio::test]
async fn after_a_power_cut_a_new_delivery_never_takes_an_id_the_journal_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replica.db");
    {
        let store = Store::open(&path).unwrap();
        for n in 1..=2 {
            store.inbox().store(delivery(n)).await.unwrap();
        }
        // Deliveries 3 and 4 were stored and applied, then a power cut took
        // them from the inbox (not yet synced) but not from the replica.
        store
            .write(|tx| journal::replace(tx, &[applied(3, 30), applied(4, 40)]))
            .await
            .unwrap();
    }
    let store = Store::open(&path).unwrap();
    store.inbox().store(delivery(5)).await.unwrap();
    let ids: Vec<i64> = store
        .inbox()
        .read(|c| {
            let mut stmt = c.prepare("SELECT id FROM webhook_inbox ORDER BY id")?;
            let ids = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<i64>, _>>()?;
            Ok(ids)
        })
        .await
        .unwrap();
    assert_eq!(ids, vec![1, 2, 5]);
    // The journal's outcomes find nothing to mark: the new delivery stays
    // pending (with the two before the cut), to be applied.
    assert_eq!(
        crate::sync::webhooks::worker::recover(&store)
            .await
            .unwrap(),
        0
    );
    let s = store.inbox().read(|c| stats(c, 0)).await.unwrap();
    assert_eq!((s.waiting, s.applied), (3, 0), "{s:?}");
}
