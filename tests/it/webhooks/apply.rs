//! Deliveries reach the replica through the date guard: newer wins, older
//! and equal are kept out, duplicates are counted, deletions remove, and a
//! removed object is not brought back by a late copy of its old version.

use possync::domain::Resource;
use possync::store::dump;
use serde_json::{Value, json};

use super::Agent;

pub(super) fn product(id: i64, name: &str, modified: &str, status: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": id, "name": name, "slug": name.to_lowercase(), "type": "simple", "status": status,
        "sku": format!("SKU-{id}"), "price": "1.00", "regular_price": "1.00",
        "date_created_gmt": "2026-01-01T09:00:00", "date_modified_gmt": modified,
        "stock_quantity": 3, "manage_stock": true,
    }))
    .unwrap()
}

pub(super) async fn names(agent: &Agent) -> Vec<(String, String)> {
    agent
        .app
        .store()
        .read(|c| dump::raw_rows(c, Resource::Products))
        .await
        .unwrap()
        .into_iter()
        .map(|(k, raw)| {
            let v: Value = serde_json::from_str(&raw).unwrap();
            (k, v["name"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn newer_wins_older_and_repeated_versions_do_not_and_deletes_stick() {
    let agent = Agent::spawn().await;
    let t = "product.updated";
    assert_eq!(
        agent
            .deliver(t, &product(500, "First", "2026-01-01T10:00:00", "publish"))
            .await,
        200
    );
    assert_eq!(
        agent
            .deliver(t, &product(500, "Newest", "2026-01-01T10:05:00", "publish"))
            .await,
        200
    );
    // Reordered: an older version arrives last.
    assert_eq!(
        agent
            .deliver(t, &product(500, "Older", "2026-01-01T10:01:00", "publish"))
            .await,
        200
    );
    // Duplicated: the newest again (the delivery id is the same too).
    assert_eq!(
        agent
            .deliver(t, &product(500, "Newest", "2026-01-01T10:05:00", "publish"))
            .await,
        200
    );
    let s = agent.settled().await;
    assert_eq!((s.applied, s.stale, s.duplicates), (2, 1, 1), "{s:?}");
    assert_eq!(
        names(&agent).await,
        vec![("500".to_owned(), "Newest".to_owned())]
    );

    // Trashed: the deletion carries only the id.
    assert_eq!(
        agent.deliver("product.deleted", br#"{"id":500}"#).await,
        200
    );
    agent.settled().await;
    assert!(names(&agent).await.is_empty());
    // Delivered again: counted as a duplicate, nothing breaks.
    assert_eq!(
        agent.deliver("product.deleted", br#"{"id":500}"#).await,
        200
    );
    // A late delivery of a version older than the one removed (never seen
    // before, so not a duplicate) does not bring it back.
    assert_eq!(
        agent
            .deliver(t, &product(500, "Late", "2026-01-01T10:03:00", "publish"))
            .await,
        200
    );
    let s = agent.settled().await;
    assert_eq!((s.duplicates, s.stale), (2, 2), "{s:?}");
    assert!(names(&agent).await.is_empty());
    // Restored (trash and restore move the date): it comes back.
    let restored = product(500, "Restored", "2026-01-01T10:09:00", "publish");
    assert_eq!(agent.deliver("product.restored", &restored).await, 200);
    agent.settled().await;
    assert_eq!(
        names(&agent).await,
        vec![("500".to_owned(), "Restored".to_owned())]
    );

    // A delivery showing the product in the trash removes it as well.
    let trashed = product(500, "Restored", "2026-01-01T10:10:00", "trash");
    assert_eq!(agent.deliver(t, &trashed).await, 200);
    agent.settled().await;
    assert!(names(&agent).await.is_empty());
    agent.stop().await;
}

#[tokio::test]
async fn a_burst_of_deliveries_is_stored_and_applied_in_order() {
    let agent = Agent::spawn().await;
    let bodies: Vec<Vec<u8>> = (0..200)
        .map(|i| product(1000 + i, &format!("P{i}"), "2026-01-01T10:00:00", "publish"))
        .collect();
    let tasks: Vec<_> = bodies
        .iter()
        .map(|b| agent.deliver("product.created", b))
        .collect();
    let statuses = futures::future::join_all(tasks).await;
    assert!(statuses.iter().all(|s| *s == 200));
    let s = agent.settled().await;
    assert_eq!((s.received, s.applied), (200, 200), "{s:?}");
    assert_eq!(names(&agent).await.len(), 200);
    agent.stop().await;
}

fn variation(id: i64, parent: i64, modified: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": id, "name": format!("Tee - {id}"), "slug": format!("tee-{id}"), "type": "variation",
        "status": "publish", "parent_id": parent, "sku": format!("SKU-{id}"), "price": "1.00",
        "regular_price": "1.00", "date_created_gmt": "2026-01-01T09:00:00",
        "date_modified_gmt": modified, "stock_quantity": 3, "manage_stock": true,
    }))
    .unwrap()
}

async fn variation_ids(agent: &Agent) -> Vec<String> {
    agent
        .app
        .store()
        .read(|c| dump::raw_rows(c, Resource::Variations))
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

#[tokio::test]
async fn a_variation_is_kept_only_with_its_parent_and_leaves_with_it() {
    let agent = Agent::spawn().await;
    let t = "product.updated";
    // Its parent is not mirrored: the variation stays out.
    assert_eq!(
        agent
            .deliver(t, &variation(701, 700, "2026-01-01T10:00:00"))
            .await,
        200
    );
    let stats = agent.settled().await;
    assert_eq!(stats.ignored, 1, "{stats:?}");
    assert!(variation_ids(&agent).await.is_empty());

    // With its parent mirrored, it is kept.
    let mut parent: Value =
        serde_json::from_slice(&product(700, "Tee", "2026-01-01T10:00:00", "publish")).unwrap();
    parent["type"] = json!("variable");
    agent
        .deliver(t, &serde_json::to_vec(&parent).unwrap())
        .await;
    agent
        .deliver(t, &variation(701, 700, "2026-01-01T10:01:00"))
        .await;
    agent
        .deliver(t, &variation(702, 700, "2026-01-01T10:01:00"))
        .await;
    agent.settled().await;
    assert_eq!(variation_ids(&agent).await, vec!["701", "702"]);

    // The parent turns draft (not mirrored): its variations leave with it.
    parent["status"] = json!("draft");
    parent["date_modified_gmt"] = json!("2026-01-01T10:02:00");
    agent
        .deliver(t, &serde_json::to_vec(&parent).unwrap())
        .await;
    agent.settled().await;
    assert!(names(&agent).await.is_empty());
    assert!(variation_ids(&agent).await.is_empty());
    agent.stop().await;
}
