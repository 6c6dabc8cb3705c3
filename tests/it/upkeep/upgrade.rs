//! Upgrades from the previous release's schema: a replica written by
//! migrations 0001-0006 (the last landed release, whose replica still held
//! the webhook inbox) with queued, unknown and confirmed sales and a
//! waiting delivery, migrated by this binary; the migration killed midway;
//! `tests/fixtures/upgrade/README.md` says how the fixture is made.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use possync::domain::outbox::EntryState;
use possync::store::{SCHEMA_VERSION, backup};
use possync::sync::engine::InitialPull;
use possync::{App, AppOptions};
use possync_sim::woo::{Sim, SimHandle};
use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};
use serde_json::json;
use uuid::Uuid;

use crate::common::{
    TEST_TOKEN_NAME, TestApp, agent_config, client_with_token, create_token, small_sim, wait_for,
};
use crate::outbox::{offline, sale, wait_state};

const WITHIN: Duration = Duration::from_secs(30);
/// The schema the previous release wrote.
const PREVIOUS_VERSION: i64 = 6;
/// The name the waiting delivery gives the mug.
const DELIVERED_NAME: &str = "Till mug (from a webhook)";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upgrade/replica-v6.db")
}

/// The sim the fixture was made against: its products have the same ids.
async fn shop() -> (SimHandle, i64) {
    let sim = Sim::spawn(small_sim()).await.unwrap();
    let mug = sim.add_simple_product("Till mug", "TILL-MUG", "10.00", Some(20));
    (sim, mug)
}

fn version(db: &Path) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

fn has_table(db: &Path, name: &str) -> bool {
    Connection::open(db)
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
        == 1
}

/// `(id, state)` of every outbox entry, in order.
fn entries(db: &Path) -> Vec<(Uuid, String)> {
    let conn = Connection::open(db).unwrap();
    let mut st = conn
        .prepare("SELECT id, state FROM outbox ORDER BY seq")
        .unwrap();
    st.query_map([], |r| {
        Ok((Uuid::parse_str(&r.get::<_, String>(0)?).unwrap(), r.get(1)?))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn with_state(list: &[(Uuid, String)], state: &str) -> Uuid {
    list.iter().find(|(_, s)| s == state).unwrap().0
}

fn order_posts(sim: &SimHandle) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/wc/v3/orders"))
        .count()
}

/// The fixture, copied where an agent's data directory will find it.
fn copy_fixture(data_dir: &Path) -> PathBuf {
    std::fs::create_dir_all(data_dir).unwrap();
    let db = data_dir.join("replica.db");
    std::fs::copy(fixture(), &db).unwrap();
    db
}

#[tokio::test]
async fn a_replica_of_the_previous_release_is_migrated_and_every_entry_replayed_once() {
    let (sim, mug) = shop().await;
    let dir = tempfile::tempdir().unwrap();
    let db = copy_fixture(dir.path());
    assert_eq!(version(&db), PREVIOUS_VERSION);
    let before = entries(&db);
    let sold: Vec<i64> = Connection::open(&db)
        .unwrap()
        .prepare("SELECT DISTINCT product_id FROM local_order_lines")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(sold, [mug], "the fixture was made against this sim");
    let (queued, unknown, confirmed) = (
        with_state(&before, "queued"),
        with_state(&before, "unknown"),
        with_state(&before, "confirmed"),
    );
    // The unknown sale had reached the shop before the old agent stopped.
    let (status, reached) = sim.call(
        "POST",
        "orders",
        json!({
            "status": "completed",
            "set_paid": true,
            "line_items": [{"product_id": mug, "quantity": 1}],
            "meta_data": [{"key": "possync_key", "value": unknown.to_string()}],
        }),
    );
    assert_eq!(status, 201, "{reached}");

    let app = App::spawn(
        agent_config(&sim, dir.path()),
        AppOptions {
            initial_pull: InitialPull::Always,
        },
    )
    .await
    .expect("the new binary opens the old replica");
    assert_eq!(version(&db), SCHEMA_VERSION as i64);
    assert!(!has_table(&db, "webhook_inbox"), "moved to the inbox file");
    // The old replica has no tokens: give the upgraded one its till's.
    let token = create_token(&app, TEST_TOKEN_NAME).await;
    let t = TestApp {
        app,
        sim,
        dir,
        http: client_with_token(&token),
        token,
    };
    wait_state(&t, queued, EntryState::Confirmed, WITHIN).await;
    let settled = wait_state(&t, unknown, EntryState::Confirmed, WITHIN).await;
    assert_eq!(
        settled.upstream_id.unwrap(),
        reached["id"].as_i64().unwrap()
    );
    assert_eq!(order_posts(&t.sim), 1, "only the queued sale was sent");
    assert_eq!(
        t.sim
            .order_ids_with_meta("possync_key", queued.to_string())
            .len(),
        1
    );
    assert_eq!(
        t.sim
            .order_ids_with_meta("possync_key", unknown.to_string())
            .len(),
        1
    );
    assert!(
        t.sim
            .order_ids_with_meta("possync_key", confirmed.to_string())
            .is_empty()
    );
    assert_eq!(
        crate::outbox::entry(&t, confirmed).await.state,
        EntryState::Confirmed
    );

    // The delivery that waited in the old replica is applied from the inbox file.
    wait_for("the waiting delivery to be applied", WITHIN, || async {
        let (_, p) = t.get_json(&format!("/api/products/{mug}")).await;
        (p["name"] == DELIVERED_NAME).then_some(())
    })
    .await;
    let inbox = Connection::open(backup::inbox_beside(&db)).unwrap();
    let states: Vec<String> = inbox
        .prepare("SELECT state FROM webhook_inbox")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(states, ["applied"]);

    // WooCommerce gives no risk recommendation (schema 13's column stays
    // empty): the old sales and the shop's orders are listed unflagged.
    t.pulled().await;
    let (status, page) = t.get_json("/api/orders?per_page=100").await;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    assert!(items.len() > 3, "{page}");
    assert!(items.iter().all(|o| o["risk"].is_null()), "{page}");
    t.stop().await;
}

#[tokio::test]
async fn a_migration_killed_midway_leaves_the_old_version_and_the_next_start_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = copy_fixture(dir.path());
    let before = entries(&db);
    let marker = dir.path().join("holding");
    let data_dir = dir.path().to_str().unwrap().to_owned();
    let mut child = Command::new(env!("CARGO_BIN_EXE_possync"))
        .args(["status", "--data-dir", &data_dir])
        .env("POSSYNC_TEST_HOLD_MIGRATION", &marker)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the migration to reach its hold", WITHIN, || async {
        marker.exists().then_some(())
    })
    .await;
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
    child.wait().unwrap();

    // Killed inside the migration's transaction: the old version, whole.
    assert_eq!(version(&db), PREVIOUS_VERSION);
    assert!(has_table(&db, "webhook_inbox"));
    assert!(!has_table(&db, "webhook_applied"));
    assert_eq!(entries(&db), before);
    let conn = Connection::open(&db).unwrap();
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(verdict, "ok");
    drop(conn);

    let out = super::possync(&["status", "--data-dir", &data_dir], &[]);
    assert!(out.status.success(), "{}", super::stderr(&out));
    assert_eq!(version(&db), SCHEMA_VERSION as i64);
    assert!(!has_table(&db, "webhook_inbox"));
    assert_eq!(entries(&db), before);
    let carried: i64 = Connection::open(backup::inbox_beside(&db))
        .unwrap()
        .query_row("SELECT COUNT(*) FROM webhook_inbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(carried, 1, "the delivery moved once, not once per start");
}

#[test]
fn a_replica_from_a_newer_release_is_refused_by_the_binary_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = copy_fixture(dir.path());
    Connection::open(&db)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION as i64 + 1)
        .unwrap();
    let bytes = std::fs::read(&db).unwrap();
    let out = super::possync(&["status", "--data-dir", dir.path().to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        super::stderr(&out).contains("newer than this possync knows"),
        "{}",
        super::stderr(&out)
    );
    assert_eq!(std::fs::read(&db).unwrap(), bytes, "untouched");
    assert!(!backup::inbox_beside(&db).exists());
}

/// The previous release's migrations, as released (never edited since).
fn previous_migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../../../migrations/0001_init.sql")),
        M::up(include_str!("../../../migrations/0002_lookup.sql")),
        M::up(include_str!("../../../migrations/0003_outbox.sql")),
        M::up(include_str!("../../../migrations/0004_webhooks.sql")),
        M::up(include_str!("../../../migrations/0005_delta.sql")),
        M::up(include_str!(
            "../../../migrations/0006_local_orders_lookup.sql"
        )),
    ])
}

/// Makes `tests/fixtures/upgrade/replica-v6.db`:
/// `cargo test --test it make_upgrade_fixture -- --ignored`.
#[tokio::test]
#[ignore = "writes the committed upgrade fixture"]
async fn make_upgrade_fixture() {
    // Three sales rung up offline by this binary: their rows are what the
    // previous release wrote too (0003's tables have not changed since).
    let (sim, mug) = shop().await;
    let t = TestApp::spawn_with_sim(sim, |_| {}).await;
    crate::common::assert_completed(&t.pulled().await);
    offline(&t.sim);
    for qty in 1..=3 {
        let (status, _) = t.post_json("/api/orders", sale(mug, qty)).await;
        assert_eq!(status, 201);
    }
    let mut delivered = t.sim.product(mug).unwrap();
    delivered["name"] = json!(DELIVERED_NAME);
    delivered["date_modified"] = json!("2030-01-01T00:00:00");
    delivered["date_modified_gmt"] = json!("2030-01-01T00:00:00");
    let TestApp { app, sim, dir, .. } = t;
    app.shutdown().await;
    sim.shutdown().await;

    let out = fixture();
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&out);
    let mut conn = Connection::open(&out).unwrap();
    previous_migrations().to_latest(&mut conn).unwrap();
    conn.execute(
        "ATTACH DATABASE ?1 AS live",
        [dir.path().join("replica.db").to_str().unwrap()],
    )
    .unwrap();
    conn.execute_batch(
        "INSERT INTO outbox SELECT * FROM live.outbox;
         INSERT INTO local_orders SELECT * FROM live.local_orders;
         INSERT INTO local_order_lines SELECT * FROM live.local_order_lines;
         DETACH DATABASE live;
         -- The first sale never left the till (offline, no attempt made);
         -- the second was in flight when the old agent stopped and was
         -- marked unknown at its next start; the third was confirmed.
         UPDATE outbox SET state = 'queued', attempts = 0, attempt_started_at = NULL,
             next_attempt_at = created_at, error_code = NULL, error_message = NULL
         WHERE seq = 1;
         UPDATE outbox SET state = 'unknown', attempts = 1, attempt_started_at = created_at,
             error_code = NULL, error_message = 'the agent stopped while this was being sent'
         WHERE seq = 2;
         UPDATE outbox SET state = 'confirmed', attempts = 1, attempt_started_at = created_at,
             upstream_id = 990001, confirmed_at = created_at + 1000,
             error_code = NULL, error_message = NULL
         WHERE seq = 3;
         UPDATE local_orders SET upstream_id = 990001, upstream_number = '990001',
             upstream_total = total
         WHERE outbox_id = (SELECT id FROM outbox WHERE seq = 3);",
    )
    .unwrap();
    conn.execute(
        "INSERT INTO webhook_inbox (received_at, topic, webhook_id, delivery_id, body)
         VALUES (strftime('%s', 'now') * 1000, 'product.updated', 7, 'fixture-1', ?1)",
        [serde_json::to_vec(&delivered).unwrap()],
    )
    .unwrap();
    conn.execute_batch(
        "UPDATE webhook_counters SET value = 1 WHERE name = 'received';
         VACUUM;",
    )
    .unwrap();
    drop(conn);
    assert_eq!(version(&out), PREVIOUS_VERSION);
}
