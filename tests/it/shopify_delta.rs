//! Deltas from a Shopify shop: a poll brings what changed since its cursor
//! (an `updated_at` search) and the products deleted since (from
//! `deletionEvents`), and the id sweep finds a deletion no poll saw.

use std::time::Duration;

use possync::domain::{GmtTime, Resource};
use possync::store::Store;
use possync::store::lookup::products;
use possync::sync::delta::Delta;
use possync::sync::progress::PullProgress;
use possync::sync::pull;
use possync::sync::schedule::{self, Job};
use possync_sim::shopify::{ShopifyConfig, ShopifySim};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::common::replica_ids;
use crate::shopify_pull::{active_product_ids, client, location, options};

fn product_gid(id: i64) -> String {
    format!("gid://shopify/Product/{id}")
}

async fn name_of(store: &Store, id: i64) -> Option<String> {
    store
        .read(move |c| products::product(c, id, GmtTime::now()))
        .await
        .unwrap()
        .map(|p| p.name)
}

/// Variations the replica holds under `parent`.
async fn variations_of(store: &Store, parent: i64) -> usize {
    store
        .read(move |c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM products WHERE parent_id = ?1 AND type = 'variation'",
                [parent],
                |r| r.get::<_, i64>(0),
            )?)
        })
        .await
        .unwrap() as usize
}

#[tokio::test]
async fn a_poll_brings_renames_and_deletions_and_the_sweep_finds_what_no_poll_saw() {
    let sim = ShopifySim::spawn(ShopifyConfig::default()).await.unwrap();
    let client = client(&sim, location(&sim).await);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("replica.db")).unwrap();
    let opts = options(
        possync::upstream::shop::mirrored(possync::config::StoreKind::Shopify),
        &["publish"],
        25,
    );
    let token = CancellationToken::new();
    let (tx, _rx) = watch::channel(PullProgress::default());
    pull::run(&client, &store, &opts, &tx, &token)
        .await
        .unwrap();

    let active = active_product_ids(&sim).await;
    assert_eq!(replica_ids(&store, Resource::Products).await, active);
    // A product with variations, to see them leave with it.
    let mut with_variations = None;
    for &id in &active {
        if variations_of(&store, id).await > 0 {
            with_variations = Some(id);
            break;
        }
    }
    let deleted = with_variations.expect("the seeded shop has a product with variations");
    let renamed = *active.iter().find(|&&id| id != deleted).unwrap();
    let swept = *active
        .iter()
        .find(|&&id| id != deleted && id != renamed)
        .unwrap();

    assert!(sim.rename_product(&product_gid(renamed), "Renamed at the shop"));
    assert!(sim.delete_product(&product_gid(deleted)));
    let delta = Delta {
        upstream: &client,
        store: &store,
        opts: &opts,
        overlap: Duration::from_secs(5),
        token: &token,
    };
    let report = schedule::run_job(&delta, Job::Poll(Resource::Products))
        .await
        .unwrap();
    assert!(report.fetched >= 1, "{report:?}");
    assert_eq!(
        name_of(&store, renamed).await.as_deref(),
        Some("Renamed at the shop")
    );
    // Deleted with its variations; the renamed one, changed within the
    // overlap, is kept (a shop without a trash listing must not read a
    // recent change as a removal).
    assert_eq!(name_of(&store, deleted).await, None);
    assert_eq!(variations_of(&store, deleted).await, 0);
    let after_poll = replica_ids(&store, Resource::Products).await;
    assert!(after_poll.contains(&renamed));
    assert_eq!(after_poll.len(), active.len() - 1);

    // The sweep lists every id: a product gone without a poll since.
    assert!(sim.delete_product(&product_gid(swept)));
    schedule::run_job(&delta, Job::Sweep).await.unwrap();
    let after_sweep = replica_ids(&store, Resource::Products).await;
    assert!(!after_sweep.contains(&swept), "the sweep removes it");
    assert_eq!(after_sweep, active_product_ids(&sim).await);
    // Completeness, as the status page shows it, for every swept resource.
    let fresh = store.read(possync::store::delta::freshness).await.unwrap();
    for resource in [Resource::Products, Resource::Customers, Resource::Orders] {
        let f = fresh
            .iter()
            .find(|f| f.resource == resource)
            .unwrap_or_else(|| panic!("{resource} was swept: {fresh:?}"));
        assert_eq!(f.complete_pct, Some(100.0), "{f:?}");
        assert_eq!(f.upstream_count, f.local_count, "{f:?}");
    }
    sim.shutdown().await;
}

/// Every stamp of a listing walked page by page as the engine walks it:
/// an empty page ends it.
async fn walk_stamps(
    client: &possync::upstream::shopify::client::ShopifyClient,
    resource: Resource,
    statuses: &[&str],
    per_page: u8,
) -> Vec<i64> {
    use possync::upstream::{Filter, PageQuery, Scope, Upstream};
    let filter = Filter {
        statuses: statuses.iter().map(|s| (*s).to_owned()).collect(),
        ..Filter::default()
    };
    let first = PageQuery::first(resource, Scope::All, filter, per_page);
    let mut ids = Vec::new();
    let mut query = first.clone();
    loop {
        let page = Upstream::stamp_page(client, &query).await.unwrap();
        let empty = page.stamps.is_empty();
        ids.extend(page.stamps.iter().map(|s| s.id));
        match page.next {
            Some(next) if !empty => query = first.at(next),
            _ => break,
        }
    }
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn a_page_the_filters_empty_does_not_end_a_stamp_listing() {
    let sim = ShopifySim::spawn(ShopifyConfig::default()).await.unwrap();
    let client = client(&sim, location(&sim).await);
    // One node a page: drafts, archived products and default variants (which
    // are their products) each fill a page the filters leave empty.
    let active = active_product_ids(&sim).await;
    assert!(
        active.len() < sim.counts().products,
        "the shop has drafts too"
    );
    assert_eq!(
        walk_stamps(&client, Resource::Products, &["publish"], 1).await,
        active
    );
    // The same walk with the page size a sweep uses.
    assert_eq!(
        walk_stamps(&client, Resource::Products, &["publish"], 100).await,
        active
    );
    let variations = walk_stamps(&client, Resource::Variations, &[], 1).await;
    assert_eq!(
        variations,
        walk_stamps(&client, Resource::Variations, &[], 100).await
    );
    assert!(!variations.is_empty());
    sim.shutdown().await;
}
