//! `possync backup` / `possync restore`: a consistent private copy while
//! the agent runs; a restore that refuses to drop unconfirmed sales and
//! never books a sale twice.

use std::time::Duration;

use possync::domain::outbox::EntryState;
use possync::store::backup;
use possync::{App, AppOptions};
use possync_sim::woo::{FaultKind, FaultRule};
use rusqlite::Connection;

use super::{mode, possync, stderr, stdout};
use crate::common::{TestApp, agent_config};
use crate::outbox::{offline, online, sale, till, uuid, wait_state};
use possync::sync::engine::InitialPull;

const WITHIN: Duration = Duration::from_secs(30);

fn states(db: &std::path::Path) -> Vec<(String, String)> {
    let conn = Connection::open(db).unwrap();
    let mut st = conn
        .prepare("SELECT id, state FROM outbox ORDER BY seq")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Order creations the shop processed: a POST refused by the offline
/// switch's gateway page never reached it (the replayer may try one while
/// the shop is cut off).
fn order_posts(t: &TestApp) -> usize {
    t.sim
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/wc/v3/orders"))
        .filter(|r| !matches!(r.fault, Some(FaultKind::BadGateway)))
        .count()
}

#[tokio::test]
async fn a_backup_taken_while_the_agent_sells_is_consistent_checked_and_private() {
    let (t, shelf) = till(|_| {}).await;
    offline(&t.sim);
    for _ in 0..3 {
        let (status, _) = t.post_json("/api/orders", sale(shelf.mug, 1)).await;
        assert_eq!(status, 201);
    }
    let out_dir = tempfile::tempdir().unwrap();
    let dest = out_dir.path().join("till.db");
    // The agent keeps selling while the command copies.
    let selling = {
        let http = t.http.clone();
        let url = format!("{}/api/orders", t.app.url());
        let body = sale(shelf.mug, 1);
        tokio::spawn(async move {
            let mut ok = 0;
            for _ in 0..10 {
                if http.post(&url).json(&body).send().await.unwrap().status() == 201 {
                    ok += 1;
                }
            }
            ok
        })
    };
    let data_dir = t.dir.path().to_str().unwrap().to_owned();
    let out = tokio::task::spawn_blocking({
        let dest = dest.clone();
        move || {
            possync(
                &["backup", dest.to_str().unwrap(), "--data-dir", &data_dir],
                &[],
            )
        }
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("integrity ok, mode 0600"),
        "{}",
        stdout(&out)
    );
    assert_eq!(selling.await.unwrap(), 10);

    let inbox = backup::inbox_beside(&dest);
    assert_eq!(mode(&dest), 0o600);
    assert_eq!(mode(&inbox), 0o600);
    assert!(!dest.with_file_name("till.db.partial").exists());
    for file in [&dest, &inbox] {
        let conn = Connection::open(file).unwrap();
        let verdict: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(verdict, "ok");
        let journal: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(journal, "delete", "one self-contained file");
    }
    // A snapshot: every sale it holds is whole (order, lines and entry).
    let conn = Connection::open(&dest).unwrap();
    let (entries, orders, lines): (i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM outbox), (SELECT COUNT(*) FROM local_orders),
                    (SELECT COUNT(*) FROM local_order_lines)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert!((3..=13).contains(&entries), "{entries}");
    assert_eq!((orders, lines), (entries, entries));
    t.stop().await;
}

#[tokio::test]
async fn restore_refuses_to_replace_unconfirmed_sales_without_force_and_says_how_many() {
    let (t, shelf) = till(|_| {}).await;
    let out_dir = tempfile::tempdir().unwrap();
    let dest = out_dir.path().join("before.db");
    backup::create(&t.db_path(), &dest).unwrap();
    offline(&t.sim);
    for _ in 0..2 {
        let (status, _) = t.post_json("/api/orders", sale(shelf.mug, 1)).await;
        assert_eq!(status, 201);
    }
    let TestApp { app, sim, dir, .. } = t;
    app.shutdown().await;
    let before = states(&dir.path().join("replica.db"));
    let data_dir = dir.path().to_str().unwrap();
    let free = [("POSSYNC_LISTEN", "127.0.0.1:0")];
    let refused = possync(
        &["restore", dest.to_str().unwrap(), "--data-dir", data_dir],
        &free,
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("holds 2 sale(s) the shop has not confirmed"),
        "{}",
        stderr(&refused)
    );
    assert!(stderr(&refused).contains("--force"));
    assert_eq!(states(&dir.path().join("replica.db")), before, "untouched");

    let forced = possync(
        &[
            "restore",
            dest.to_str().unwrap(),
            "--force",
            "--data-dir",
            data_dir,
        ],
        &free,
    );
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(stdout(&forced).contains("replaced a replica holding 2 unconfirmed sale(s)"));
    assert!(states(&dir.path().join("replica.db")).is_empty());
    assert_eq!(mode(&dir.path().join("replica.db")), 0o600);
    sim.shutdown().await;
}

#[tokio::test]
async fn restoring_an_older_backup_then_restarting_books_every_sale_once() {
    let (t, shelf) = till(|c| c.store.as_mut().unwrap().timeout = Duration::from_secs(1)).await;
    offline(&t.sim);
    let (_, a) = t.post_json("/api/orders", sale(shelf.mug, 1)).await;
    let (_, b) = t.post_json("/api/orders", sale(shelf.cap, 2)).await;
    let (a, b) = (uuid(&a["outbox_id"]), uuid(&b["outbox_id"]));
    // The backup shows both sales queued.
    let out_dir = tempfile::tempdir().unwrap();
    let dest = out_dir.path().join("till.db");
    let report = backup::create(&t.db_path(), &dest).unwrap();
    assert_eq!(report.unconfirmed_sales, 2);

    // Then both reach the shop; the first one's answer is lost on the way.
    t.sim.inject(
        FaultRule::new(FaultKind::Reset)
            .path("/wc/v3/orders")
            .method("POST"),
    );
    online(&t.sim);
    wait_state(&t, a, EntryState::Confirmed, WITHIN).await;
    wait_state(&t, b, EntryState::Confirmed, WITHIN).await;
    assert_eq!(order_posts(&t), 2);

    // The till is restored from the older backup, with the agent stopped.
    let TestApp {
        app,
        sim,
        dir,
        http,
        token,
    } = t;
    app.shutdown().await;
    // The replayer may have tried a sale while the shop was cut off, leaving
    // it `unknown` in the backup already; every other waiting one is marked.
    let waiting_in_backup = states(&dest).iter().filter(|(_, s)| s != "unknown").count();
    let replica = dir.path().join("replica.db");
    let restored = backup::restore(&dest, &replica, false, 0).unwrap();
    assert_eq!(restored.replaced_unconfirmed_sales, 0);
    assert_eq!(restored.marked_for_lookup, waiting_in_backup);
    assert!(restored.inbox_restored);
    assert!(
        states(&replica).iter().all(|(_, s)| s == "unknown"),
        "{:?}",
        states(&replica)
    );

    // At restart the first lookup fails too: the sales wait, unsent.
    sim.inject(
        FaultRule::new(FaultKind::BadGateway)
            .path("/wc/v3/orders")
            .method("GET"),
    );
    let app = App::spawn(
        agent_config(&sim, dir.path()),
        AppOptions {
            initial_pull: InitialPull::Always,
        },
    )
    .await
    .unwrap();
    // The backup holds the token table as it was: the same token works.
    let t = TestApp {
        app,
        sim,
        dir,
        http,
        token,
    };
    let ea = wait_state(&t, a, EntryState::Confirmed, WITHIN).await;
    let eb = wait_state(&t, b, EntryState::Confirmed, WITHIN).await;
    assert_eq!(order_posts(&t), 2, "looked up by key, never sent again");
    assert_eq!(
        t.sim.order_ids_with_meta("possync_key", a.to_string()),
        vec![ea.upstream_id.unwrap()]
    );
    assert_eq!(
        t.sim.order_ids_with_meta("possync_key", b.to_string()),
        vec![eb.upstream_id.unwrap()]
    );
    assert_eq!(t.sim.product_stock(shelf.mug), Some(19));
    assert_eq!(t.sim.product_stock(shelf.cap), Some(3));
    t.stop().await;
}

#[tokio::test]
async fn the_page_downloads_a_checked_backup_of_the_replica() {
    let (t, shelf) = till(|_| {}).await;
    offline(&t.sim);
    let (status, _) = t.post_json("/api/orders", sale(shelf.mug, 1)).await;
    assert_eq!(status, 201);
    let res = t
        .http
        .get(format!("{}/api/backup", t.app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"possync-backup-"),
        "{disposition}"
    );
    let bytes = res.bytes().await.unwrap();
    let saved = t.dir.path().join("downloaded.db");
    std::fs::write(&saved, &bytes).unwrap();
    let conn = Connection::open(&saved).unwrap();
    let sales: i64 = conn
        .query_row("SELECT COUNT(*) FROM local_orders", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sales, 1);
    // Nothing is left beside the replica.
    let left: Vec<_> = std::fs::read_dir(t.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("download-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    t.stop().await;
}
