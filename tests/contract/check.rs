//! `possync check --writes` on the real store, marked staging: the round
//! trip runs, reports each step, and leaves nothing behind.

use crate::shop::Shop;
use crate::webhooks::possync;

#[tokio::test]
async fn check_writes_runs_its_round_trip_on_a_staging_store_and_leaves_nothing() {
    let Some(shop) = Shop::take("check --writes").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = possync(
        &shop,
        dir.path(),
        &[("POSSYNC_STORE_MODE", "staging")],
        &["check", "--writes"],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let steps: Vec<&str> = stdout.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(steps.len(), 7, "{stdout}");
    assert!(steps.iter().all(|l| l.contains("] ok ")), "{stdout}");
    let left = shop
        .get("products?search=possync%20write%20check&status=any&_fields=id,name")
        .await;
    assert_eq!(left, serde_json::json!([]), "test products left behind");
}
