//! A full pull killed with SIGKILL resumes from the pages it had not
//! finished, and ends with the same replica as an uninterrupted pull: for
//! both kinds of shop, from this one source.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use possync::domain::Resource;
use possync::store::dump;
use rusqlite::{Connection, OpenFlags};

use crate::cli::possync;
use crate::common::wait_for;
use crate::shops::{Kind, ShopSize, TestShop};

const SYNC: &str = "page_size = 10\nconcurrency = 1";

pub(crate) fn open(db: &Path) -> Option<Connection> {
    Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).ok()
}

/// The cursors of the product pages the current products run has
/// committed (WooCommerce's page number, "" for the first page).
fn done_product_pages(db: &Path) -> Option<(i64, BTreeSet<String>)> {
    let conn = open(db)?;
    let run: i64 = conn
        .query_row(
            "SELECT id FROM pull_runs WHERE resource = 'products' AND state = 'running'",
            [],
            |r| r.get(0),
        )
        .ok()?;
    let mut stmt = conn
        .prepare("SELECT cursor FROM pull_pages WHERE run_id = ?1 AND scope = 0")
        .ok()?;
    let pages = stmt
        .query_map([run], |r| r.get(0))
        .ok()?
        .collect::<Result<BTreeSet<String>, _>>()
        .ok()?;
    Some((run, pages))
}

pub(crate) fn full_dump(db: &Path) -> Vec<(Resource, Vec<(String, String)>)> {
    let conn = open(db).expect("replica exists");
    Resource::ALL
        .into_iter()
        .map(|r| (r, dump::raw_rows(&conn, r).unwrap()))
        .collect()
}

pub(crate) async fn sync_to_completion(config: &Path) {
    let config = config.to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        possync()
            .args(["sync", "--full", "--quiet", "--config"])
            .arg(&config)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The last products run in `db` is `run_before`, completed: the killed
/// run resumed, no new one began.
fn assert_same_run_completed(db: &Path, run_before: i64) {
    let conn = open(db).unwrap();
    let (state, run_after): (String, i64) = conn
        .query_row(
            "SELECT state, id FROM pull_runs WHERE resource = 'products' ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (state.as_str(), run_after),
        ("completed", run_before),
        "the same run resumed"
    );
}

/// After a killed pull was run again: its products run (`run_before`)
/// completed, not a new one, and the replica in `db` equals, table by
/// table, one a pull never interrupted makes with the same `[sync]`.
/// Returns the resumed replica's dump.
pub(crate) async fn resumed_like_never_interrupted(
    shop: &TestShop,
    db: &Path,
    run_before: i64,
    sync: &str,
) -> Vec<(Resource, Vec<(String, String)>)> {
    assert_same_run_completed(db, run_before);
    let other = tempfile::tempdir().unwrap();
    let other_config = shop.write_config(other.path(), sync).await;
    sync_to_completion(&other_config).await;
    let resumed = full_dump(db);
    let uninterrupted = full_dump(&other.path().join("data").join("replica.db"));
    for ((r, a), (_, b)) in resumed.iter().zip(&uninterrupted) {
        assert_eq!(a.len(), b.len(), "{r}: row counts differ");
        assert!(a == b, "{r}: replicas differ");
    }
    resumed
}

/// A simulated shop of 160 products (`seed`) answering in 40 ms, and a
/// `possync sync --full` against it SIGKILLed once five product pages are
/// written: the shop, the agent's directory and its config file.
async fn pull_killed_after_five_product_pages(
    kind: Kind,
    seed: u64,
) -> (TestShop, tempfile::TempDir, std::path::PathBuf) {
    let shop = TestShop::spawn(
        kind,
        ShopSize {
            seed,
            products: 160,
            customers: 20,
            orders: 30,
            latency: Duration::from_millis(40),
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = shop.write_config(dir.path(), SYNC).await;
    let db = dir.path().join("data").join("replica.db");
    let mut child = possync()
        .args(["sync", "--full", "--quiet", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("five product pages", Duration::from_secs(60), || async {
        done_product_pages(&db).filter(|(_, p)| p.len() >= 5)
    })
    .await;
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
    assert!(!child.wait().unwrap().success(), "killed, not finished");
    (shop, dir, config)
}

crate::both_shops!(
    a_pull_killed_with_sigkill_resumes_without_refetching_finished_pages,
    killed_pull_resumes
);

async fn killed_pull_resumes(kind: Kind) {
    let (shop, dir, config) = pull_killed_after_five_product_pages(kind, 11).await;
    let db = dir.path().join("data").join("replica.db");

    let (run_before, done) = done_product_pages(&db).expect("the run is still open");
    let total_pages = shop.active_product_ids().await.len().div_ceil(10);
    assert!(
        done.len() < total_pages,
        "{kind:?}: killed midway: {done:?}"
    );
    shop.clear_requests();

    sync_to_completion(&config).await;
    let requested = shop.product_page_cursors_requested();
    assert!(!requested.is_empty(), "{kind:?}: the pull went on");
    let refetched: Vec<&String> = requested.iter().filter(|p| done.contains(*p)).collect();
    assert!(
        refetched.is_empty(),
        "{kind:?}: pages {refetched:?} were finished before the kill and fetched again"
    );
    let resumed = resumed_like_never_interrupted(&shop, &db, run_before, SYNC).await;
    assert!(
        resumed
            .iter()
            .any(|(r, rows)| *r == Resource::Products && rows.len() > 100),
        "{kind:?}"
    );
    shop.shutdown().await;
}

/// Puts the finished pages back in the layout of schema 10 (pages kept by
/// number), as a version before cursors left them; later schema objects
/// (the products run index of 0012, the risk columns and index of 0013) go
/// too.
fn as_schema_10(db: &Path) {
    let conn = Connection::open(db).unwrap();
    conn.execute_batch(
        "BEGIN;
         CREATE TABLE pull_pages_v10 (
             run_id  INTEGER NOT NULL REFERENCES pull_runs (id) ON DELETE CASCADE,
             scope   INTEGER NOT NULL DEFAULT 0,
             page    INTEGER NOT NULL,
             items   INTEGER NOT NULL,
             reported_items INTEGER,
             reported_pages INTEGER,
             done_at INTEGER NOT NULL,
             PRIMARY KEY (run_id, scope, page)
         ) WITHOUT ROWID;
         INSERT INTO pull_pages_v10
             SELECT run_id, scope, CASE cursor WHEN '' THEN 1 ELSE CAST(cursor AS INTEGER) END,
                    items, reported_items, reported_pages, done_at
             FROM pull_pages;
         DROP TABLE pull_pages;
         ALTER TABLE pull_pages_v10 RENAME TO pull_pages;
         DROP INDEX products_run;
         DROP INDEX local_completions_outbox;
         ALTER TABLE orders DROP COLUMN risk_recommendation;
         ALTER TABLE local_completions DROP COLUMN risk_override_by;
         ALTER TABLE local_completions DROP COLUMN risk_override_reason;
         PRAGMA user_version = 10;
         COMMIT;",
    )
    .unwrap();
}

#[tokio::test]
async fn a_pull_killed_under_the_version_before_cursors_resumes_after_the_upgrade() {
    // Only WooCommerce shops were synced before cursors.
    let (shop, dir, config) = pull_killed_after_five_product_pages(Kind::WooCommerce, 12).await;
    let db = dir.path().join("data").join("replica.db");
    let (run_before, done) = done_product_pages(&db).expect("the run is still open");
    as_schema_10(&db);
    let version: i64 = open(&db)
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 10);
    shop.clear_requests();

    sync_to_completion(&config).await;
    let requested = shop.product_page_cursors_requested();
    let refetched: Vec<&String> = requested.iter().filter(|p| done.contains(*p)).collect();
    assert!(
        refetched.is_empty(),
        "pages {refetched:?} were finished before the upgrade and fetched again"
    );
    assert_same_run_completed(&db, run_before);
    let products = full_dump(&db)
        .into_iter()
        .find(|(r, _)| *r == Resource::Products)
        .map(|(_, rows)| rows.len())
        .unwrap();
    assert_eq!(products, shop.active_product_ids().await.len());
    shop.shutdown().await;
}
