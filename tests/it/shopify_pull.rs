//! What a full pull from the simulated Shopify store does that is
//! Shopify's own (what every full pull guarantees runs against both shops
//! in tests/it/full_pull.rs): SKUs, prices and stock at the till's
//! location; bulk exports landing what pages land, failing, expiring,
//! waiting their turn; a pull cancelled midway resuming without asking
//! again for a page it had finished, and one killed while it downloads an
//! export reading on in the same file.

use std::path::Path;
use std::time::Duration;

use possync::config::Config;
use possync::domain::{GmtTime, Resource};
use possync::store::Store;
use possync::store::dump;
use possync::store::lookup::products;
use possync::sync::progress::PullProgress;
use possync::sync::pull::{self, PullOptions};
use possync::upstream::shopify::client::ShopifyClient;
use possync::upstream::shopify::connection::ShopifyConnection;
use possync::upstream::shopify::export::Polling;
use possync_sim::shopify::{ShopifyConfig, ShopifySim};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::common::replica_ids;

pub(crate) const VERSION: &str = "2026-04";

/// What the shop says one sellable thing is, asked over its own API.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sellable {
    /// The product (for a product's only, default variant) or the variant.
    pub id: i64,
    pub parent: i64,
    pub sku: Option<String>,
    pub price: Decimal,
    pub stock: Option<i64>,
}

pub(crate) fn gid_number(gid: &str) -> i64 {
    gid.rsplit('/').next().unwrap().parse().unwrap()
}

/// Asks the Shopify sim `document` over its GraphQL endpoint, as a client
/// would; a throttled answer is asked again once the bucket has refilled.
pub(crate) async fn ask(sim: &ShopifySim, document: &str, variables: Value) -> Value {
    crate::common::wait_for("an answer not throttled", Duration::from_secs(30), || {
        let variables = variables.clone();
        async move {
            let url = format!("{}/admin/api/{VERSION}/graphql.json", sim.url());
            let answer: Value = reqwest::Client::new()
                .post(url)
                .header("X-Shopify-Access-Token", sim.access_token())
                .json(&json!({ "query": document, "variables": variables }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if answer["errors"][0]["extensions"]["code"] == "THROTTLED" {
                return None;
            }
            assert!(answer.get("errors").is_none(), "{answer}");
            Some(answer["data"].clone())
        }
    })
    .await
}

/// The first location's id.
pub(crate) async fn location(sim: &ShopifySim) -> i64 {
    let data = ask(sim, "{ locations(first: 5) { nodes { id } } }", json!({})).await;
    gid_number(data["locations"]["nodes"][0]["id"].as_str().unwrap())
}

/// Every variant of an ACTIVE product, as the shop states it: the products
/// the till sells (a default variant as its product) and the variations.
pub(crate) async fn active_sellables(
    sim: &ShopifySim,
    location: i64,
) -> (Vec<Sellable>, Vec<Sellable>) {
    let document = format!(
        "query($after: String) {{ productVariants(first: 50, after: $after) {{ nodes {{ id sku price \
         product {{ id status hasOnlyDefaultVariant }} \
         inventoryItem {{ inventoryLevel(locationId: \"gid://shopify/Location/{location}\") {{ quantities(names: [\"available\"]) {{ quantity }} }} }} }} \
         pageInfo {{ hasNextPage endCursor }} }} }}"
    );
    let (mut products, mut variations) = (Vec::new(), Vec::new());
    let mut after = Value::Null;
    loop {
        let data = ask(sim, &document, json!({ "after": after })).await;
        let conn = &data["productVariants"];
        for v in conn["nodes"].as_array().unwrap() {
            let product = &v["product"];
            if product["status"] != "ACTIVE" {
                continue;
            }
            let parent = gid_number(product["id"].as_str().unwrap());
            let level = &v["inventoryItem"]["inventoryLevel"];
            let s = Sellable {
                id: gid_number(v["id"].as_str().unwrap()),
                parent,
                sku: v["sku"]
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
                price: v["price"].as_str().unwrap().parse().unwrap(),
                stock: level["quantities"][0]["quantity"].as_i64(),
            };
            if product["hasOnlyDefaultVariant"] == true {
                products.push(Sellable {
                    id: parent,
                    parent: 0,
                    ..s
                });
            } else {
                variations.push(s);
            }
        }
        if conn["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    (products, variations)
}

/// Every ACTIVE product's id.
pub(crate) async fn active_product_ids(sim: &ShopifySim) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = ask(
            sim,
            "query($after: String) { products(first: 100, after: $after) { nodes { id status } pageInfo { hasNextPage endCursor } } }",
            json!({ "after": after }),
        )
        .await;
        let conn = &data["products"];
        for p in conn["nodes"].as_array().unwrap() {
            if p["status"] == "ACTIVE" {
                ids.push(gid_number(p["id"].as_str().unwrap()));
            }
        }
        if conn["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    ids.sort_unstable();
    ids
}

/// A client made as the agent makes it, from the configuration: the
/// shop's myshopify.com name, reached at the sim through `store.admin_url`.
pub(crate) fn client(sim: &ShopifySim, location: i64) -> ShopifyClient {
    let env = [
        ("POSSYNC_STORE_KIND", "shopify".to_owned()),
        (
            "POSSYNC_STORE_SHOP",
            "possync-demo.myshopify.com".to_owned(),
        ),
        ("POSSYNC_STORE_ACCESS_TOKEN", sim.access_token().to_owned()),
        ("POSSYNC_STORE_API_VERSION", VERSION.to_owned()),
        ("POSSYNC_STORE_LOCATION", location.to_string()),
        ("POSSYNC_STORE_ADMIN_URL", sim.url()),
    ]
    .map(|(k, v)| (k.to_owned(), v));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("possync.toml");
    std::fs::write(&file, "").unwrap();
    let config = Config::load(Some(&file), env, &[]).unwrap();
    let conn = ShopifyConnection::from_config(config.store().unwrap()).unwrap();
    assert_eq!(
        conn.graphql_url(),
        format!("{}/admin/api/{VERSION}/graphql.json", sim.url())
    );
    ShopifyClient::new(conn).unwrap()
}

pub(crate) fn options(resources: &[Resource], statuses: &[&str], page_size: u8) -> PullOptions {
    PullOptions {
        page_size,
        concurrency: 2,
        product_statuses: statuses.iter().map(|s| (*s).to_owned()).collect(),
        order_statuses: Vec::new(),
        order_window_days: 0,
        max_records: 0,
        resources: resources.to_vec(),
    }
}

/// What the replica says of each sellable the shop lists.
async fn replica_view(store: &Store, want: &[Sellable]) -> Vec<Sellable> {
    let mut out = Vec::new();
    for s in want {
        let id = s.id;
        let view = store
            .read(move |c| products::product(c, id, GmtTime::now()))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{id} is not in the replica"));
        out.push(Sellable {
            id: view.id,
            parent: view.parent_id,
            sku: view.sku.filter(|s| !s.is_empty()),
            price: view.price.price.expect("a price"),
            stock: view.stock.quantity,
        });
    }
    out
}

pub(crate) async fn spawn_sim() -> ShopifySim {
    ShopifySim::spawn(ShopifyConfig::default()).await.unwrap()
}

/// What every full pull mirrors, and how exactly, is stated once for both
/// shops (tests/it/full_pull.rs); here what only a Shopify walk meets: a
/// variant page holding only default variants (products sold as one item)
/// has no variation on it, and the walk reads on past it; SKU, price and
/// stock are the variant's, at the till's location.
#[tokio::test]
async fn a_variant_walk_reads_on_past_pages_of_default_variants_and_keeps_stock_per_location() {
    let sim = spawn_sim().await;
    let location = location(&sim).await;
    let (want_products, want_variations) = active_sellables(&sim, location).await;
    assert!(!want_products.is_empty() && !want_variations.is_empty());
    assert!(
        active_product_ids(&sim).await.len() < sim.counts().products,
        "the sim has products that are not ACTIVE, to leave out"
    );

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("replica.db")).unwrap();
    let client = client(&sim, location);
    // One item a page: the walk follows many cursors, and a variant page
    // holding a product's default variant has no variation on it (the
    // walk must read on past it, not end there).
    let opts = options(&[Resource::Products, Resource::Variations], &["publish"], 1);
    let (tx, _rx) = watch::channel(PullProgress::default());
    let report = pull::run(&client, &store, &opts, &tx, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(report.resources.len(), 2, "{report:?}");

    assert_eq!(
        replica_ids(&store, Resource::Products).await,
        active_product_ids(&sim).await,
        "exactly the ACTIVE products"
    );
    let mut want_var_ids: Vec<i64> = want_variations.iter().map(|s| s.id).collect();
    want_var_ids.sort_unstable();
    assert_eq!(
        replica_ids(&store, Resource::Variations).await,
        want_var_ids,
        "exactly the variants of ACTIVE products that are not a default one"
    );
    assert_eq!(replica_view(&store, &want_products).await, want_products);
    assert_eq!(
        replica_view(&store, &want_variations).await,
        want_variations
    );
    sim.shutdown().await;
}

/// Product pages the running products run has written.
fn done_pages(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT COUNT(*) FROM pull_pages p JOIN pull_runs r ON r.id = p.run_id
         WHERE r.resource = 'products' AND r.state = 'running' AND p.scope = 0",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[tokio::test]
async fn cancelled_shopify_pull_resumes_without_fetching_a_finished_page_again() {
    let sim = spawn_sim().await;
    let location = location(&sim).await;
    let all = sim.counts().products as i64;
    let per_page: u8 = 4;
    // Every status: one cursor page per request, so requests count pages.
    let opts = options(&[Resource::Products], &["any"], per_page);
    let pages = (all + i64::from(per_page) - 1) / i64::from(per_page);
    assert!(pages >= 5, "enough pages to stop in the middle: {pages}");

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("replica.db");
    let store = Store::open(&db).unwrap();

    let first = client(&sim, location);
    let (tx, rx) = watch::channel(PullProgress::default());
    let token = CancellationToken::new();
    let stopper = {
        let (token, mut rx) = (token.clone(), rx.clone());
        tokio::spawn(async move {
            let _ = rx
                .wait_for(|p| p.resources.iter().any(|r| r.pages_done >= 2))
                .await;
            token.cancel();
        })
    };
    let outcome = pull::run(&first, &store, &opts, &tx, &token).await;
    stopper.await.unwrap();
    assert!(outcome.is_err(), "cancelled: {outcome:?}");
    drop(rx);
    let done = done_pages(&db);
    assert!(
        done >= 2 && done < pages,
        "stopped midway: {done} of {pages}"
    );

    let second = client(&sim, location);
    let (tx, _rx) = watch::channel(PullProgress::default());
    let report = pull::run(&second, &store, &opts, &tx, &CancellationToken::new())
        .await
        .unwrap();
    assert!(report.resources[0].resumed, "{report:?}");
    // The shop check, then only the pages not finished before, and one
    // page of the products the shop deleted since the run began.
    assert_eq!(second.requests_sent() as i64, 1 + pages - done + 1);

    let mut want: Vec<i64> = sim.product_ids().iter().map(|g| gid_number(g)).collect();
    want.sort_unstable();
    assert_eq!(replica_ids(&store, Resource::Products).await, want);
    sim.shutdown().await;
}

/// Every id under `root` (a connection), and the refund ids of orders.
pub(crate) async fn all_ids(sim: &ShopifySim, root: &str, fields: &str) -> Vec<Value> {
    let mut nodes = Vec::new();
    let mut after = Value::Null;
    loop {
        let document = format!(
            "query($after: String) {{ {root}(first: 50, after: $after) {{ nodes {{ {fields} }} pageInfo {{ hasNextPage endCursor }} }} }}"
        );
        let data = ask(sim, &document, json!({ "after": after })).await;
        let conn = &data[root];
        nodes.extend(conn["nodes"].as_array().unwrap().iter().cloned());
        if conn["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    nodes
}

/// Every resource, as a WooCommerce pull asks them: what Shopify has lands,
/// what is not read from it yet is named, and the pull says it is
/// incomplete rather than passing it over.
#[tokio::test]
async fn a_pull_of_every_resource_takes_only_what_a_shopify_shop_has() {
    let sim = spawn_sim().await;
    let location = location(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("replica.db")).unwrap();
    let client = client(&sim, location);
    let opts = options(&Resource::ALL, &["publish"], 50);
    let (tx, rx) = watch::channel(PullProgress::default());
    let report = pull::run(&client, &store, &opts, &tx, &CancellationToken::new())
        .await
        .unwrap();
    let pulled: Vec<Resource> = report.resources.iter().map(|r| r.resource).collect();
    assert_eq!(
        pulled,
        [
            Resource::Categories,
            Resource::Products,
            Resource::Variations,
            Resource::Customers,
            Resource::Orders,
            Resource::Refunds,
        ]
    );
    // Progress lists only those too: nothing shows as never pulled.
    let shown: Vec<Resource> = rx.borrow().resources.iter().map(|r| r.resource).collect();
    assert_eq!(shown.len(), pulled.len(), "{shown:?}");
    // And the replica needs no other full pull.
    let resources = possync::upstream::Upstream::resources(&client);
    assert!(
        !store
            .read(move |c| possync::store::sync_state::pull_needed(c, resources))
            .await
            .unwrap()
    );
    assert_eq!(
        replica_ids(&store, Resource::Products).await,
        active_product_ids(&sim).await
    );
    assert_eq!(
        replica_ids(&store, Resource::Customers).await.len(),
        sim.counts().customers
    );
    sim.shutdown().await;
}

/// Polls bulk operations at a test's pace.
fn fast_polling() -> Polling {
    Polling {
        first: Duration::from_millis(20),
        max: Duration::from_millis(100),
        timeout: Duration::from_secs(60),
    }
}

/// A client that exports in bulk every resource counting at least
/// `threshold` objects.
fn bulk_client(sim: &ShopifySim, location: i64, threshold: u64) -> ShopifyClient {
    client(sim, location)
        .with_export_threshold(threshold)
        .with_polling(fast_polling())
}

/// A raw JSON column with every `pageInfo` taken out: a cursor page says
/// where its nested lists end, a bulk file has no pages. The rest is the
/// object as the shop stated it.
fn without_page_info(raw: &str) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("pageInfo");
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: Value = serde_json::from_str(raw).unwrap();
    strip(&mut v);
    v
}

async fn replica_rows(store: &Store, resource: Resource) -> Vec<(String, Value)> {
    store
        .read(move |c| dump::raw_rows(c, resource))
        .await
        .unwrap()
        .into_iter()
        .map(|(k, raw)| (k, without_page_info(&raw)))
        .collect()
}

/// Every resource a Shopify pull reads, in the order a pull asks them.
const SHOPIFY_RESOURCES: [Resource; 6] = [
    Resource::Categories,
    Resource::Products,
    Resource::Variations,
    Resource::Customers,
    Resource::Orders,
    Resource::Refunds,
];

#[tokio::test]
async fn a_bulk_full_pull_lands_the_replica_a_paged_pull_does() {
    let sim = spawn_sim().await;
    let location = location(&sim).await;
    let (want_products, want_variations) = active_sellables(&sim, location).await;
    let opts = options(&SHOPIFY_RESOURCES, &["publish"], 50);

    // The shop as the default client sees it: too small for exports.
    let dir = tempfile::tempdir().unwrap();
    let paged = Store::open(&dir.path().join("paged.db")).unwrap();
    let (tx, _rx) = watch::channel(PullProgress::default());
    pull::run(
        &client(&sim, location),
        &paged,
        &opts,
        &tx,
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        sim.bulk_operations_started(),
        0,
        "a shop of {} products is walked by pages",
        sim.counts().products
    );

    // Above a threshold of 5, every resource but refunds is exported.
    let bulk = Store::open(&dir.path().join("bulk.db")).unwrap();
    let c = bulk_client(&sim, location, 5);
    let (tx, _rx) = watch::channel(PullProgress::default());
    let report = pull::run(&c, &bulk, &opts, &tx, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(
        report.resources.len(),
        SHOPIFY_RESOURCES.len(),
        "{report:?}"
    );
    assert_eq!(
        sim.bulk_operations_started(),
        5,
        "products, variants, collections, customers and orders in bulk"
    );
    assert!(c.points_used() > 0, "the shop's charges are counted");

    for resource in SHOPIFY_RESOURCES {
        let (a, b) = (
            replica_rows(&paged, resource).await,
            replica_rows(&bulk, resource).await,
        );
        assert!(!a.is_empty(), "{resource}: the shop has some");
        assert_eq!(a.len(), b.len(), "{resource}: as many rows");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, y, "{resource}: the same row");
        }
    }
    // SKU, price and stock at the location, as the shop states them.
    assert_eq!(replica_view(&bulk, &want_products).await, want_products);
    assert_eq!(replica_view(&bulk, &want_variations).await, want_variations);
    sim.shutdown().await;
}

/// A shop of `products` products.
async fn spawn_sim_of(products: usize) -> ShopifySim {
    let mut config = ShopifyConfig::default();
    config.sizes.products = products;
    ShopifySim::spawn(config).await.unwrap()
}

/// The marks the running products run has written (an export's start and
/// its batches).
fn export_marks(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT p.cursor FROM pull_pages p JOIN pull_runs r ON r.id = p.run_id
             WHERE r.resource = 'products' AND r.state = 'running' ORDER BY p.seq",
        )
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Runs a bulk pull of every product and cancels it once `marks` batches
/// are written (the export's start is the first); returns the marks.
async fn cancel_bulk_pull_after(
    sim: &ShopifySim,
    location: i64,
    store: &Store,
    db: &Path,
    marks: u64,
) -> Vec<String> {
    let opts = options(&[Resource::Products], &["any"], 50);
    let (tx, rx) = watch::channel(PullProgress::default());
    let token = CancellationToken::new();
    let stopper = {
        let (token, mut rx) = (token.clone(), rx.clone());
        tokio::spawn(async move {
            let _ = rx
                .wait_for(|p| p.resources.iter().any(|r| r.pages_done >= marks))
                .await;
            token.cancel();
        })
    };
    let c = bulk_client(sim, location, 10);
    let outcome = pull::run(&c, store, &opts, &tx, &token).await;
    stopper.await.unwrap();
    assert!(outcome.is_err(), "cancelled: {outcome:?}");
    drop(rx);
    export_marks(db)
}

async fn all_product_ids(sim: &ShopifySim) -> Vec<i64> {
    let mut want: Vec<i64> = sim.product_ids().iter().map(|g| gid_number(g)).collect();
    want.sort_unstable();
    want
}

/// Pulls every product in bulk to the end; the report of products.
async fn finish_bulk_pull(sim: &ShopifySim, location: i64, store: &Store) -> pull::ResourceReport {
    let opts = options(&[Resource::Products], &["any"], 50);
    let (tx, _rx) = watch::channel(PullProgress::default());
    let report = pull::run(
        &bulk_client(sim, location, 10),
        store,
        &opts,
        &tx,
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    report.resources[0].clone()
}

#[tokio::test]
async fn a_bulk_pull_cancelled_mid_download_resumes_from_its_operation() {
    let sim = spawn_sim_of(2_000).await;
    let location = location(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("replica.db");
    let store = Store::open(&db).unwrap();

    // The start, then the first batch of products.
    let marks = cancel_bulk_pull_after(&sim, location, &store, &db, 2).await;
    assert_eq!(sim.bulk_operations_started(), 1);
    assert!(marks.len() >= 2, "{marks:?}");
    let last = marks.last().unwrap();
    let written: u64 = last.rsplit(';').next().unwrap().parse().unwrap();
    assert!(
        written > 0 && written < 2_000,
        "stopped mid-download: {marks:?}"
    );
    assert!(replica_ids(&store, Resource::Products).await.len() < 2_000);

    let report = finish_bulk_pull(&sim, location, &store).await;
    assert!(report.resumed, "{report:?}");
    assert_eq!(
        sim.bulk_operations_started(),
        1,
        "the file of the first export is read on, not exported again"
    );
    assert_eq!(
        replica_ids(&store, Resource::Products).await,
        all_product_ids(&sim).await
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_expired_export_is_replaced_by_a_fresh_one_on_resume() {
    let sim = spawn_sim_of(2_000).await;
    let location = location(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("replica.db");
    let store = Store::open(&db).unwrap();
    cancel_bulk_pull_after(&sim, location, &store, &db, 2).await;
    assert_eq!(sim.expire_bulk_operations(), 1);

    let report = finish_bulk_pull(&sim, location, &store).await;
    assert!(report.resumed, "{report:?}");
    assert_eq!(sim.bulk_operations_started(), 2, "a fresh export");
    assert_eq!(
        replica_ids(&store, Resource::Products).await,
        all_product_ids(&sim).await
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_failed_export_is_replaced_by_a_fresh_one() {
    let sim = spawn_sim_of(60).await;
    let location = location(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("replica.db")).unwrap();
    sim.fail_next_bulk_operations(1);
    let report = finish_bulk_pull(&sim, location, &store).await;
    assert!(!report.resumed);
    assert_eq!(
        sim.bulk_operations_started(),
        2,
        "the failed one, a fresh one"
    );
    assert_eq!(
        replica_ids(&store, Resource::Products).await,
        all_product_ids(&sim).await
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_export_waits_while_the_shop_runs_as_many_as_it_allows() {
    let sim = spawn_sim_of(60).await;
    let location = location(&sim).await;
    // Five exports started elsewhere and not yet done: the shop's limit.
    for _ in 0..5 {
        let data = ask(
            &sim,
            "mutation($q: String!) { bulkOperationRunQuery(query: $q, groupObjects: true) { bulkOperation { id } userErrors { code message } } }",
            json!({ "q": "{ customers { edges { node { id } } } }" }),
        )
        .await;
        assert!(
            data["bulkOperationRunQuery"]["bulkOperation"]["id"].is_string(),
            "{data}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("replica.db")).unwrap();
    let opts = options(&[Resource::Products], &["any"], 50);
    let (tx, mut rx) = watch::channel(PullProgress::default());
    // Every message the pull's progress showed.
    let notes = tokio::spawn(async move {
        let mut seen: Vec<String> = Vec::new();
        while rx.changed().await.is_ok() {
            let p = rx.borrow_and_update().clone();
            for r in &p.resources {
                if let Some(m) = &r.message
                    && seen.last() != Some(m)
                {
                    seen.push(m.clone());
                }
            }
        }
        seen
    });
    let c = bulk_client(&sim, location, 10);
    pull::run(&c, &store, &opts, &tx, &CancellationToken::new())
        .await
        .unwrap();
    drop(tx);
    let notes = notes.await.unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("waiting for another bulk export to end")),
        "{notes:?}"
    );
    assert_eq!(sim.bulk_operations_started(), 6);
    assert_eq!(
        replica_ids(&store, Resource::Products).await,
        all_product_ids(&sim).await
    );
    sim.shutdown().await;
}

/// The root connection a bulk query exports (`products`, `productVariants`…).
fn exported_root(query: &str) -> String {
    query
        .trim_start_matches(|c: char| c == '{' || c.is_whitespace())
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect()
}

/// How many exports of each root the shop has been asked for.
fn exports_by_root(sim: &ShopifySim) -> std::collections::BTreeMap<String, usize> {
    let mut by_root = std::collections::BTreeMap::new();
    for q in sim.bulk_operation_queries() {
        *by_root.entry(exported_root(&q)).or_insert(0) += 1;
    }
    by_root
}

/// The running products run and the last export position it wrote
/// (`bulk;{operation};{root objects written}`): the run, the operation
/// and the count.
fn products_export_position(db: &Path) -> Option<(i64, String, u64)> {
    let conn = crate::resume::open(db)?;
    let (run, cursor): (i64, String) = conn
        .query_row(
            "SELECT r.id, p.cursor FROM pull_pages p JOIN pull_runs r ON r.id = p.run_id
             WHERE r.resource = 'products' AND r.state = 'running' AND p.scope = 0
             ORDER BY p.seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok()?;
    let (operation, roots) = cursor.strip_prefix("bulk;")?.rsplit_once(';')?;
    Some((run, operation.to_owned(), roots.parse().ok()?))
}

/// Issue 15's "a kill mid-download resumes without a second full export
/// where the URL is still valid", with a real kill: `possync sync --full`
/// against a shop big enough to be exported in bulk, SIGKILLed while it
/// reads the products' result file (served a line at a time, so that the
/// kill lands between two batches), then run again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_pull_killed_mid_download_resumes_from_the_same_export() {
    use crate::shops::{Kind, ShopSize, TestShop};
    use possync::upstream::shopify::export::EXPORT_THRESHOLD;

    let shop = TestShop::spawn(
        Kind::Shopify,
        ShopSize {
            seed: 5,
            products: 1_200,
            customers: 20,
            orders: 30,
            latency: Duration::ZERO,
        },
    )
    .await;
    let TestShop::Shopify(sim) = &shop else {
        unreachable!("a Shopify shop was asked for")
    };
    let active = active_product_ids(sim).await;
    assert!(
        active.len() as u64 >= EXPORT_THRESHOLD,
        "{} products on sale: enough to be exported",
        active.len()
    );
    sim.throttle_bulk_files(Duration::from_millis(1));

    const SYNC: &str = "page_size = 50\nconcurrency = 2";
    let dir = tempfile::tempdir().unwrap();
    let config = shop.write_config(dir.path(), SYNC).await;
    let db = dir.path().join("data").join("replica.db");
    let mut child = crate::cli::possync()
        .args(["sync", "--full", "--quiet", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (run_before, operation, written) = crate::common::wait_for(
        "a batch of the products' export written",
        Duration::from_secs(120),
        || async { products_export_position(&db).filter(|(_, _, roots)| *roots > 0) },
    )
    .await;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert!(!child.wait().unwrap().success(), "killed, not finished");
    // The position may have moved on between the look and the kill.
    let (_, _, written_at_kill) = products_export_position(&db).expect("the run is still open");
    assert!(written > 0 && written <= written_at_kill);
    assert!(
        written_at_kill < active.len() as u64,
        "killed mid-download: {written_at_kill} of {}",
        active.len()
    );
    let before = exports_by_root(sim);
    assert_eq!(before.get("products"), Some(&1), "{before:?}");

    sim.throttle_bulk_files(Duration::ZERO);
    sim.clear_log();
    crate::resume::sync_to_completion(&config).await;
    let paged = sim
        .graphql_log()
        .iter()
        .filter(|r| r.query.starts_with("query ProductsPage"))
        .count();
    assert_eq!(paged, 0, "the rest of the products came from the file");
    let after = exports_by_root(sim);
    assert_eq!(
        after.get("products"),
        Some(&1),
        "the products' file is read on from {operation}, not exported again: {after:?}"
    );
    for (root, n) in &after {
        assert_eq!(*n, 1, "{root} exported {n} times: {after:?}");
    }
    let resumed = crate::resume::resumed_like_never_interrupted(&shop, &db, run_before, SYNC).await;
    let products = resumed
        .iter()
        .find(|(r, _)| *r == Resource::Products)
        .map(|(_, rows)| rows.len())
        .unwrap();
    assert_eq!(products, active.len());
    shop.shutdown().await;
}
