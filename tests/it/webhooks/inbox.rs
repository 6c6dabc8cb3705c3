//! The inbox is a database file of its own: a delivery is answered while
//! the replica's writer is busy, survives a restart, comes over from an
//! older replica, and a batch applied just before a stop is not applied
//! twice.

use std::time::Duration;

use possync::domain::time::unix_millis_now;
use possync::domain::webhooks::ReceivedDelivery;
use possync::store::Store;
use possync::sync::webhooks::apply::Mirror;
use possync::sync::webhooks::worker;
use possync::upstream::woo::webhook;
use rusqlite_migration::{M, Migrations};

use super::Agent;
use super::apply::{names, product};

fn received(topic: &str, body: Vec<u8>) -> ReceivedDelivery {
    ReceivedDelivery {
        received_at: unix_millis_now(),
        topic: topic.to_owned(),
        webhook_id: Some(1),
        delivery_id: None,
        body,
    }
}

#[tokio::test]
async fn a_delivery_is_answered_and_stored_while_the_replica_writer_is_held() {
    let agent = Agent::spawn().await;
    // Arrange: a long replica transaction (a full-pull page, a checkpoint)
    // holds the replica's only writer until released.
    let (held_tx, held_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let long = tokio::spawn({
        let store = agent.app.store().clone();
        async move {
            store
                .write(move |_tx| {
                    let _ = held_tx.send(());
                    let _ = release_rx.recv();
                    Ok(())
                })
                .await
        }
    });
    held_rx.await.unwrap();

    // Act
    let body = product(600, "Held", "2026-01-01T10:00:00", "publish");
    let status = tokio::time::timeout(
        Duration::from_secs(5),
        agent.deliver("product.updated", &body),
    )
    .await
    .expect("answered while the replica's writer is held");

    // Assert: answered, committed in the inbox, not yet applied.
    assert_eq!(status, 200);
    let stats = agent.stats().await;
    assert_eq!(
        (stats.received, stats.waiting, stats.applied),
        (1, 1, 0),
        "{stats:?}"
    );
    assert!(names(&agent).await.is_empty());

    release_tx.send(()).unwrap();
    long.await.unwrap().unwrap();
    let stats = agent.settled().await;
    assert_eq!(stats.applied, 1, "{stats:?}");
    assert_eq!(
        names(&agent).await,
        vec![("600".to_owned(), "Held".to_owned())]
    );
    agent.stop().await;
}

#[tokio::test]
async fn a_delivery_stored_before_a_restart_is_applied_after_it() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(&dir.path().join("replica.db")).unwrap();
        let body = product(700, "Before the stop", "2026-01-01T10:00:00", "publish");
        store
            .inbox()
            .store(received("product.updated", body))
            .await
            .unwrap();
    }

    let agent = Agent::start(dir).await;

    let stats = agent.settled().await;
    assert_eq!((stats.received, stats.applied), (1, 1), "{stats:?}");
    assert_eq!(
        names(&agent).await,
        vec![("700".to_owned(), "Before the stop".to_owned())]
    );
    agent.stop().await;
}

#[tokio::test]
async fn a_pending_delivery_in_an_older_replica_is_carried_over_and_applied() {
    // Arrange: a replica at schema 5, whose own inbox table holds one
    // delivery not yet applied.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replica.db");
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        Migrations::new(vec![
            M::up(include_str!("../../../migrations/0001_init.sql")),
            M::up(include_str!("../../../migrations/0002_lookup.sql")),
            M::up(include_str!("../../../migrations/0003_outbox.sql")),
            M::up(include_str!("../../../migrations/0004_webhooks.sql")),
            M::up(include_str!("../../../migrations/0005_delta.sql")),
        ])
        .to_latest(&mut conn)
        .unwrap();
        conn.execute(
            "INSERT INTO webhook_inbox (received_at, topic, body) VALUES (1, 'product.updated', ?1)",
            [product(800, "Old inbox", "2026-01-01T10:00:00", "publish")],
        )
        .unwrap();
        conn.execute(
            "UPDATE webhook_counters SET value = 1 WHERE name = 'received'",
            [],
        )
        .unwrap();
    }

    // Act: the agent upgrades the replica at start.
    let agent = Agent::start(dir).await;

    // Assert
    let stats = agent.settled().await;
    assert_eq!((stats.received, stats.applied), (1, 1), "{stats:?}");
    assert_eq!(
        names(&agent).await,
        vec![("800".to_owned(), "Old inbox".to_owned())]
    );
    let old_table: i64 = agent
        .app
        .store()
        .read(|c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'webhook_inbox'",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(old_table, 0, "the replica no longer keeps deliveries");
    agent.stop().await;
}

#[tokio::test]
async fn a_batch_applied_just_before_a_stop_is_not_applied_again() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(&dir.path().join("replica.db")).unwrap();
        let mirror = Mirror {
            product_statuses: vec!["publish".to_owned()],
            order_statuses: Vec::new(),
        };
        let first = product(500, "First", "2026-01-01T10:00:00", "publish");
        store
            .inbox()
            .store(received("product.updated", first))
            .await
            .unwrap();
        worker::drain(&store, webhook::instruction, &mirror)
            .await
            .unwrap();
        // Trashed, then restored (a newer version) in one batch.
        for (topic, body) in [
            ("product.deleted", br#"{"id":500}"#.to_vec()),
            (
                "product.restored",
                product(500, "Restored", "2026-01-01T10:09:00", "publish"),
            ),
        ] {
            store.inbox().store(received(topic, body)).await.unwrap();
        }
        // The replica's half of the batch commits; the agent stops before
        // the outcomes are marked in the inbox.
        let outcomes = worker::apply_next(&store, webhook::instruction, &mirror, 0)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(outcomes.len(), 2);
        let stats = store.inbox().stats(5).await.unwrap();
        assert_eq!(stats.waiting, 2, "not marked: {stats:?}");
    }

    let agent = Agent::start(dir).await;

    // Applied again, the deletion would remove the restored product and the
    // restore would then count as stale.
    let stats = agent.settled().await;
    assert_eq!(
        (stats.received, stats.applied, stats.stale, stats.duplicates),
        (3, 3, 0, 0),
        "{stats:?}"
    );
    assert_eq!(
        names(&agent).await,
        vec![("500".to_owned(), "Restored".to_owned())]
    );
    agent.stop().await;
}
