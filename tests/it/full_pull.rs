//! The full pull against the simulated store: what lands in the replica,
//! how a pull over an existing replica converges, and what it does when the
//! store misbehaves. What a full pull guarantees whatever the shop runs
//! against both simulated shops from one source (`both_shops!`); what
//! only WooCommerce has (OAuth through an alias, an older store without
//! the flat lists, page numbers known ahead) runs against it alone.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use possync::config::{Config, ShopifyCredentials, StoreSettings};
use possync::domain::Resource;
use possync::store::{Store, dump};
use possync::sync::engine::InitialPull;
use possync::sync::progress::{PullProgress, PullState, StepState};
use possync::{App, AppOptions, RunningApp};
use possync_sim::shopify::ShopifyFault;
use possync_sim::woo::{FaultKind, FaultRule, SimConfig};
use secrecy::SecretString;
use serde_json::Value;

use crate::common::{
    TestApp, assert_completed, client_with_token, create_token, mirrored_variation_ids, small_sim,
};
use crate::shopify_pull::{active_product_ids, active_sellables, all_ids, gid_number, location};
use crate::shops::{Kind, ShopSize, TestShop};

/// The order statuses the agent mirrors by default.
const DEFAULT_ORDER_STATUSES: [&str; 5] =
    ["pending", "processing", "on-hold", "completed", "refunded"];

fn sorted(mut ids: Vec<i64>) -> Vec<i64> {
    ids.sort_unstable();
    ids
}

/// What a replica of a shop holds of one resource after a full pull with
/// the default configuration.
#[derive(Debug)]
enum Expect {
    /// Exactly these ids.
    Ids(Vec<i64>),
    /// As many rows as the shop has.
    Count(usize),
    /// Something (settings, gateways: keyed rows).
    NotEmpty,
    /// This kind of shop is not read for it: nothing.
    Nothing,
    /// Not checked by this suite.
    Unchecked,
}

/// One products listing request, as the shop received it.
#[derive(Debug)]
struct Listing {
    /// Asked in a fixed order, so that pages do not shift between asks.
    fixed_order: bool,
    /// The page size asked.
    per_page: Option<String>,
    /// Which page: WooCommerce's number ("1" for none), Shopify's `after`
    /// ("" for none).
    page: String,
}

/// What differs between the shops, for the full pull's suite.
impl TestShop {
    /// Whether the shop states how many objects a listing holds
    /// (WooCommerce's `X-WP-Total`; Shopify's cursor pages say nothing of
    /// the rest).
    fn states_totals(&self) -> bool {
        matches!(self, TestShop::WooCommerce(_))
    }

    /// Puts a wrong secret in `config`; the secret put.
    fn spoil_secret(&self, config: &mut Config) -> String {
        let store = config.store.as_mut().unwrap();
        match (self, &mut store.settings) {
            (TestShop::WooCommerce(_), StoreSettings::WooCommerce(w)) => {
                w.consumer_secret = SecretString::from("cs_wrong".to_owned());
                "cs_wrong".to_owned()
            }
            (TestShop::Shopify(_), StoreSettings::Shopify(s)) => {
                let wrong = "shpat_ffffffffffffffffffffffffffff0000";
                s.credentials = ShopifyCredentials::AccessToken(SecretString::from(wrong));
                wrong.to_owned()
            }
            _ => unreachable!("the config is made for its shop"),
        }
    }

    /// Whether `error` names the shop's refusal of the keys as the shop
    /// words it (its code, or the HTTP status).
    fn names_auth_refusal(&self, error: &str) -> bool {
        match self {
            TestShop::WooCommerce(_) => {
                error.contains("woocommerce_rest_authentication_error") || error.contains("401")
            }
            TestShop::Shopify(_) => {
                error.contains("Invalid API key or access token") && error.contains("401")
            }
        }
    }

    /// What a replica of this shop holds of `resource` after a full pull
    /// with the default configuration.
    async fn expect(&self, resource: Resource) -> Expect {
        match self {
            TestShop::WooCommerce(sim) => {
                let counts = sim.counts();
                match resource {
                    Resource::Products => Expect::Ids(sim.product_ids(Some("publish"))),
                    Resource::Variations => Expect::Ids(mirrored_variation_ids(sim)),
                    Resource::Customers => Expect::Ids(sim.customer_ids()),
                    Resource::Orders => Expect::Ids(sorted(
                        DEFAULT_ORDER_STATUSES
                            .iter()
                            .flat_map(|s| sim.order_ids(Some(s)))
                            .collect(),
                    )),
                    Resource::Refunds => Expect::Ids(sim.refund_ids()),
                    Resource::Categories => Expect::Count(counts.categories),
                    Resource::Tags => Expect::Count(counts.tags),
                    Resource::TaxRates => Expect::Count(counts.tax_rates),
                    Resource::ShippingZones => Expect::Count(counts.shipping_zones),
                    Resource::Settings | Resource::PaymentGateways => Expect::NotEmpty,
                    Resource::Countries | Resource::TaxClasses | Resource::Attributes => {
                        Expect::Unchecked
                    }
                }
            }
            TestShop::Shopify(sim) => match resource {
                Resource::Products => Expect::Ids(active_product_ids(sim).await),
                Resource::Variations => {
                    let (_, variations) = active_sellables(sim, location(sim).await).await;
                    Expect::Ids(sorted(variations.iter().map(|v| v.id).collect()))
                }
                Resource::Customers => Expect::Ids(ids_of(&all_ids(sim, "customers", "id").await)),
                // The till's statuses but "cancelled": not cancelled nor
                // voided.
                Resource::Orders => {
                    let orders = all_ids(sim, "orders", "id cancelledAt displayFinancialStatus")
                        .await
                        .into_iter()
                        .filter(|o| {
                            o["cancelledAt"].is_null() && o["displayFinancialStatus"] != "VOIDED"
                        })
                        .collect::<Vec<_>>();
                    Expect::Ids(ids_of(&orders))
                }
                Resource::Refunds => {
                    let orders = all_ids(sim, "orders", "id refunds { id }").await;
                    let refunds: Vec<Value> = orders
                        .iter()
                        .flat_map(|o| o["refunds"].as_array().unwrap().iter().cloned())
                        .collect();
                    Expect::Ids(ids_of(&refunds))
                }
                Resource::Categories => {
                    Expect::Ids(ids_of(&all_ids(sim, "collections", "id").await))
                }
                _ => Expect::Nothing,
            },
        }
    }

    /// The ids of what the replica should hold of `resource`.
    async fn mirrored_ids(&self, resource: Resource) -> Vec<i64> {
        match self.expect(resource).await {
            Expect::Ids(ids) => ids,
            other => panic!("{resource}: no ids to expect: {other:?}"),
        }
    }

    /// How many products the shop has that a till does not sell
    /// (WooCommerce: drafts and trash; Shopify: not ACTIVE).
    async fn products_left_out(&self) -> usize {
        match self {
            TestShop::WooCommerce(sim) => {
                let counts = sim.counts();
                counts.products_draft + counts.products_trash
            }
            TestShop::Shopify(sim) => sim.counts().products - active_product_ids(sim).await.len(),
        }
    }

    /// Variations the shop lists, of every product whatever its status.
    async fn variations_listed(&self) -> usize {
        match self {
            TestShop::WooCommerce(sim) => {
                let counts = sim.counts();
                counts.variations - counts.variations_trash
            }
            TestShop::Shopify(sim) => {
                all_ids(sim, "productVariants", "product { hasOnlyDefaultVariant }")
                    .await
                    .iter()
                    .filter(|v| v["product"]["hasOnlyDefaultVariant"] == false)
                    .count()
            }
        }
    }

    /// Every products listing request received (not a fetch by ids, not a
    /// listing of ids alone).
    fn product_listings(&self) -> Vec<Listing> {
        match self {
            TestShop::WooCommerce(sim) => sim
                .requests()
                .iter()
                .filter(|r| r.method == "GET" && r.path.ends_with("/wc/v3/products"))
                .filter_map(|req| {
                    let q = |k: &str| {
                        req.query
                            .iter()
                            .find(|(n, _)| n == k)
                            .map(|(_, v)| v.clone())
                    };
                    if q("include").is_some() || q("_fields").as_deref() == Some("id") {
                        return None;
                    }
                    Some(Listing {
                        fixed_order: q("orderby").as_deref() == Some("id")
                            && q("order").as_deref() == Some("asc"),
                        per_page: q("per_page"),
                        page: q("page").unwrap_or_else(|| "1".to_owned()),
                    })
                })
                .collect(),
            TestShop::Shopify(sim) => sim
                .graphql_log()
                .iter()
                .filter(|r| r.query.starts_with("query ProductsPage"))
                .map(|r| Listing {
                    fixed_order: r.query.contains("sortKey: "),
                    per_page: r.variables["first"].as_u64().map(|n| n.to_string()),
                    page: r.variables["after"].as_str().unwrap_or("").to_owned(),
                })
                .collect(),
        }
    }

    /// The categories (Shopify: collections) a product is in, ascending.
    fn product_category_ids(&self, product: i64) -> Vec<i64> {
        match self {
            TestShop::WooCommerce(sim) => {
                let p = sim.product(product).unwrap();
                sorted(
                    p["categories"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c["id"].as_i64().unwrap())
                        .collect(),
                )
            }
            TestShop::Shopify(sim) => sorted(
                sim.product_collections(&gid("Product", product))
                    .iter()
                    .map(|g| gid_number(g))
                    .collect(),
            ),
        }
    }

    /// Puts a product in `category` alone, as the merchant would.
    fn move_product_to_category(&self, product: i64, category: i64) {
        match self {
            TestShop::WooCommerce(sim) => {
                sim.update_product(
                    product,
                    serde_json::json!({ "categories": [{ "id": category }] }),
                )
                .unwrap();
            }
            TestShop::Shopify(sim) => {
                assert!(sim.set_product_collections(
                    &gid("Product", product),
                    &[gid("Collection", category)]
                ))
            }
        }
    }

    /// The first of `candidates` whose own row carries the regular price
    /// it is sold at (WooCommerce: every product; Shopify: one sold as its
    /// default variant, a product with options being priced per variant).
    async fn sold_at_its_own_price(&self, candidates: impl Iterator<Item = i64>) -> i64 {
        let mut candidates = candidates;
        match self {
            TestShop::WooCommerce(_) => candidates.next().unwrap(),
            TestShop::Shopify(sim) => {
                let (simple, _) = active_sellables(sim, location(sim).await).await;
                candidates
                    .find(|id| simple.iter().any(|s| s.id == *id))
                    .expect("a product sold as its default variant")
            }
        }
    }

    /// Sets the regular price a product is sold at (Shopify: of each of
    /// its variants).
    fn set_product_price(&self, product: i64, price: &str) {
        match self {
            TestShop::WooCommerce(sim) => sim.set_product_price(product, price),
            TestShop::Shopify(sim) => {
                assert!(sim.set_product_price(&gid("Product", product), price));
            }
        }
    }

    /// Deletes a product for good.
    fn delete_product(&self, product: i64) {
        match self {
            TestShop::WooCommerce(sim) => sim.delete_product(product),
            TestShop::Shopify(sim) => assert!(sim.delete_product(&gid("Product", product))),
        }
    }

    /// Takes a product off sale without deleting it (WooCommerce: to the
    /// trash; Shopify: archived).
    fn withdraw_product(&self, product: i64) {
        match self {
            TestShop::WooCommerce(sim) => sim.trash_product(product),
            TestShop::Shopify(sim) => {
                assert!(sim.set_product_status(&gid("Product", product), "ARCHIVED"));
            }
        }
    }

    /// From now on every products listing is answered with something that
    /// is not the shop's JSON and not worth retrying (WooCommerce: a PHP
    /// notice before the JSON; Shopify: an HTML page from a captive portal
    /// in between); what the error should quote of it.
    fn fail_product_listings(&self) -> &'static str {
        match self {
            TestShop::WooCommerce(sim) => {
                sim.inject(FaultRule {
                    method: None,
                    path_contains: Some("/wc/v3/products".to_owned()),
                    fault: FaultKind::HtmlBeforeJson,
                    times: 10_000,
                });
                "<br"
            }
            TestShop::Shopify(sim) => {
                sim.inject_on(ShopifyFault::HtmlPage, "query ProductsPage", 10_000);
                "<!DOCTYPE html>"
            }
        }
    }

    /// Whether the shop has answered any request with a fault.
    fn faults_were_injected(&self) -> bool {
        match self {
            TestShop::WooCommerce(sim) => sim.requests().iter().any(|r| r.fault.is_some()),
            TestShop::Shopify(sim) => sim.faults_drawn() > 0,
        }
    }
}

fn gid(kind: &str, id: i64) -> String {
    format!("gid://shopify/{kind}/{id}")
}

fn ids_of(nodes: &[Value]) -> Vec<i64> {
    sorted(
        nodes
            .iter()
            .map(|n| gid_number(n["id"].as_str().unwrap()))
            .collect(),
    )
}

/// A simulated shop of either kind and an agent syncing it, pulling at
/// once.
struct Agent {
    app: RunningApp,
    shop: TestShop,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Agent {
    async fn spawn(shop: TestShop, tweak: impl FnOnce(&mut Config)) -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let app = Self::start(&shop, dir.path(), tweak).await;
        let token = create_token(&app, "full-pull").await;
        Agent {
            app,
            shop,
            dir,
            http: client_with_token(&token),
        }
    }

    async fn start(shop: &TestShop, dir: &Path, tweak: impl FnOnce(&mut Config)) -> RunningApp {
        let mut config = shop.agent_config(dir).await;
        tweak(&mut config);
        App::spawn(
            config,
            AppOptions {
                initial_pull: InitialPull::Always,
            },
        )
        .await
        .expect("agent starts")
    }

    /// Stops the agent and starts another on the same replica and shop,
    /// pulling at once.
    async fn restart(self, tweak: impl FnOnce(&mut Config)) -> Agent {
        let Agent {
            app,
            shop,
            dir,
            http,
        } = self;
        app.shutdown().await;
        let app = Self::start(&shop, dir.path(), tweak).await;
        Agent {
            app,
            shop,
            dir,
            http,
        }
    }

    async fn pulled(&self) -> PullProgress {
        tokio::time::timeout(Duration::from_secs(60), self.app.pull_finished())
            .await
            .expect("the pull ends within a minute")
    }

    fn store(&self) -> &Store {
        self.app.store()
    }

    async fn replica_keys(&self, resource: Resource) -> Vec<String> {
        crate::common::replica_keys(self.store(), resource).await
    }

    async fn replica_ids(&self, resource: Resource) -> Vec<i64> {
        crate::common::replica_ids(self.store(), resource).await
    }

    async fn get_json(&self, path: &str) -> (u16, Value) {
        let res = self
            .http
            .get(format!("{}{path}", self.app.url()))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn stop(self) {
        self.app.shutdown().await;
        self.shop.shutdown().await;
    }
}

fn slow(latency: Duration) -> ShopSize {
    ShopSize {
        latency,
        ..ShopSize::small()
    }
}

crate::both_shops!(
    full_pull_mirrors_every_resource_of_the_store,
    mirrors_every_resource
);

async fn mirrors_every_resource(kind: Kind) {
    let t = Agent::spawn(TestShop::spawn(kind, ShopSize::small()).await, |_| {}).await;
    let p = t.pulled().await;
    assert_completed(&p);
    let totals = t.shop.states_totals();
    for r in &p.resources {
        assert_eq!(r.state, StepState::Done, "{kind:?}: {r:?}");
        // Done is all the shop said it holds, where it says.
        let total = totals.then_some(r.items_done);
        assert_eq!(total, r.items_total, "{kind:?}: {r:?}");
        assert!(r.message.is_none(), "{kind:?}: no warning expected: {r:?}");
    }

    let shop = &t.shop;
    for resource in Resource::ALL {
        match shop.expect(resource).await {
            Expect::Ids(ids) => assert_eq!(
                t.replica_ids(resource).await,
                ids,
                "{kind:?}: exactly the shop's {resource}"
            ),
            Expect::Count(n) => assert_eq!(
                t.replica_ids(resource).await.len(),
                n,
                "{kind:?}: {resource}"
            ),
            Expect::NotEmpty => assert!(
                !t.replica_keys(resource).await.is_empty(),
                "{kind:?}: {resource}"
            ),
            Expect::Nothing => assert!(
                t.replica_keys(resource).await.is_empty(),
                "{kind:?}: {resource} are not read from this shop"
            ),
            Expect::Unchecked => {}
        }
    }
    let products = shop.mirrored_ids(Resource::Products).await;
    let variations = shop.mirrored_ids(Resource::Variations).await;
    assert!(
        shop.products_left_out().await > 0,
        "{kind:?}: the sim has unpublished products to leave out"
    );
    assert!(
        variations.len() < shop.variations_listed().await,
        "{kind:?}: the sim has variations of unpublished products to leave out"
    );
    assert!(!variations.is_empty(), "{kind:?}");

    // Listing requests are stable (a fixed order), sized by the config,
    // and no page of a collection is fetched twice.
    let mut pages = BTreeSet::new();
    for req in shop.product_listings() {
        assert!(req.fixed_order, "{kind:?}: {req:?}");
        assert_eq!(req.per_page.as_deref(), Some("10"), "{kind:?}: {req:?}");
        assert!(
            pages.insert(req.page.clone()),
            "{kind:?}: page {} fetched twice",
            req.page
        );
    }
    assert_eq!(pages.len(), products.len().div_ceil(10), "{kind:?}");

    // A watermark taken before the pull is kept for the delta sync.
    let (status, body) = t.get_json("/api/sync/status").await;
    assert_eq!(status, 200);
    let row = |name: &str| {
        body["replica"]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == name)
            .unwrap()
            .clone()
    };
    let products_row = row("products");
    assert!(
        products_row["watermark"].is_string(),
        "{kind:?}: {products_row}"
    );
    assert_eq!(
        body["replica"]["counts"]["products"],
        products.len(),
        "{kind:?}"
    );
    assert_eq!(
        body["replica"]["counts"]["variations"],
        variations.len(),
        "{kind:?}: the counts leave out variations of products not mirrored"
    );
    let variations_row = row("variations");
    let total = totals.then_some(variations.len());
    assert_eq!(
        variations_row["upstream_total"],
        serde_json::json!(total),
        "{kind:?}: the shop's count, of the variations mirrored: {variations_row}"
    );
    t.stop().await;
}

crate::both_shops!(
    a_pull_over_an_existing_replica_ends_with_exactly_the_stores_set,
    over_an_existing_replica
);

async fn over_an_existing_replica(kind: Kind) {
    let t = Agent::spawn(TestShop::spawn(kind, ShopSize::small()).await, |_| {}).await;
    assert_completed(&t.pulled().await);
    let before = t.replica_ids(Resource::Products).await;
    let (gone, withdrawn) = (before[0], before[1]);
    // Its categories are the store's after the first pull (rows inserted)
    // and after the second (rows updated, links replaced).
    let recategorized = before[3];
    let repriced = t
        .shop
        .sold_at_its_own_price(
            before[2..]
                .iter()
                .copied()
                .filter(|&id| id != recategorized),
        )
        .await;
    let first_categories = t.shop.product_category_ids(recategorized);
    assert!(!first_categories.is_empty(), "{kind:?}");
    assert_eq!(
        category_links(t.store(), recategorized).await,
        first_categories,
        "{kind:?}"
    );
    let other = t
        .replica_ids(Resource::Categories)
        .await
        .into_iter()
        .find(|id| !first_categories.contains(id))
        .expect("a category it is not in");
    t.shop.move_product_to_category(recategorized, other);
    assert_eq!(
        t.shop.product_category_ids(recategorized),
        vec![other],
        "{kind:?}"
    );
    t.shop.delete_product(gone);
    t.shop.withdraw_product(withdrawn);
    t.shop.set_product_price(repriced, "12.34");
    let added = t.shop.add_product("Enamel mug", "MUG-ENAMEL-1", "9.50", 12);

    let t = t.restart(|_| {}).await;
    let p = t.pulled().await;
    assert_completed(&p);
    let after = t.replica_ids(Resource::Products).await;
    assert_eq!(
        after,
        t.shop.mirrored_ids(Resource::Products).await,
        "{kind:?}"
    );
    assert!(
        !after.contains(&gone) && !after.contains(&withdrawn),
        "{kind:?}"
    );
    assert!(after.contains(&added), "{kind:?}");
    assert_eq!(
        p.resource(Resource::Products).unwrap().removed,
        2,
        "{kind:?}"
    );

    let price: String = t
        .store()
        .read(move |c| {
            Ok(c.query_row(
                "SELECT regular_price FROM products WHERE id = ?1",
                [repriced],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(price, "12.34", "{kind:?}");
    assert_eq!(
        category_links(t.store(), recategorized).await,
        vec![other],
        "{kind:?}"
    );
    t.stop().await;
}

/// The categories the replica links a product to.
async fn category_links(store: &Store, product: i64) -> Vec<i64> {
    store
        .read(move |c| {
            let mut stmt = c.prepare(
                "SELECT category_id FROM product_categories WHERE product_id = ?1 ORDER BY 1",
            )?;
            let ids = stmt
                .query_map([product], |r| r.get(0))?
                .collect::<Result<Vec<i64>, _>>()?;
            Ok(ids)
        })
        .await
        .unwrap()
}

crate::both_shops!(
    rows_are_removed_only_when_the_pull_completes_never_midway,
    removed_only_when_complete
);

async fn removed_only_when_complete(kind: Kind) {
    let shop = TestShop::spawn(kind, slow(Duration::from_millis(40))).await;
    let t = Agent::spawn(shop, |_| {}).await;
    assert_completed(&t.pulled().await);
    let gone = *t.replica_ids(Resource::Products).await.last().unwrap();
    t.shop.delete_product(gone);

    let t = t.restart(|c| c.sync.concurrency = 1).await;
    let mut rx = t.app.progress();
    rx.wait_for(|p| {
        p.resource(Resource::Products)
            .is_some_and(|r| r.pages_done >= 2 && r.state == StepState::Running)
    })
    .await
    .unwrap();
    assert!(
        t.replica_ids(Resource::Products).await.contains(&gone),
        "{kind:?}: a row must stay until the pull that no longer sees it completes"
    );
    assert_completed(&t.pulled().await);
    assert!(
        !t.replica_ids(Resource::Products).await.contains(&gone),
        "{kind:?}"
    );
    t.stop().await;
}

crate::both_shops!(
    a_failed_resource_removes_nothing_and_the_others_complete,
    failed_resource_removes_nothing
);

async fn failed_resource_removes_nothing(kind: Kind) {
    let shop = TestShop::spawn(kind, slow(Duration::from_millis(20))).await;
    let t = Agent::spawn(shop, |_| {}).await;
    assert_completed(&t.pulled().await);
    let products_before = t.replica_ids(Resource::Products).await;
    t.shop.delete_product(products_before[0]);

    // Once the store has been probed, every catalog listing is answered
    // with something that is not the shop's JSON: not transient, the
    // catalog cannot be read.
    let t = t.restart(|_| {}).await;
    let mut rx = t.app.progress();
    rx.wait_for(|p| {
        p.resources
            .iter()
            .any(|r| r.resource != Resource::Products && r.state == StepState::Done)
    })
    .await
    .unwrap();
    let quoted = t.shop.fail_product_listings();
    let p = t.pulled().await;
    assert_eq!(p.state, PullState::Failed, "{kind:?}: {p:#?}");
    let products = p.resource(Resource::Products).unwrap();
    assert_eq!(products.state, StepState::Failed, "{kind:?}");
    let message = products.message.as_deref().unwrap();
    assert!(
        message.contains(quoted),
        "{kind:?}: the error quotes the body's first bytes: {message}"
    );
    assert_eq!(
        t.replica_ids(Resource::Products).await,
        products_before,
        "{kind:?}: a failed pull removes nothing"
    );
    // The resources it does not touch still completed.
    assert_eq!(
        p.resource(Resource::Customers).unwrap().state,
        StepState::Done,
        "{kind:?}"
    );
    assert_eq!(
        p.resource(Resource::Orders).unwrap().state,
        StepState::Done,
        "{kind:?}"
    );
    t.stop().await;
}

crate::both_shops!(
    a_product_deleted_while_the_pull_pages_loses_no_other_product,
    deleted_while_paging
);

async fn deleted_while_paging(kind: Kind) {
    // Deleting a product on page 1 after it was read shifts every later
    // product one place up: without a check, the first product of page 2
    // would never be seen.
    let shop = TestShop::spawn(kind, slow(Duration::from_millis(30))).await;
    let t = Agent::spawn(shop, |c| c.sync.concurrency = 1).await;
    let mut rx = t.app.progress();
    rx.wait_for(|p| {
        p.resource(Resource::Products)
            .is_some_and(|r| r.pages_done >= 1 && r.state == StepState::Running)
    })
    .await
    .unwrap();
    let first = t.shop.mirrored_ids(Resource::Products).await[0];
    t.shop.delete_product(first);
    let p = t.pulled().await;
    assert_completed(&p);
    assert_eq!(
        t.replica_ids(Resource::Products).await,
        t.shop.mirrored_ids(Resource::Products).await,
        "{kind:?}: the pull ends with exactly the store's set"
    );
    assert!(
        p.resource(Resource::Products).unwrap().message.is_none(),
        "{kind:?}"
    );
    t.stop().await;
}

crate::both_shops!(
    transient_faults_are_retried_and_the_pull_completes,
    transient_faults_retried
);

async fn transient_faults_retried(kind: Kind) {
    let shop = TestShop::spawn_failing(kind, ShopSize::small(), 0.15).await;
    let t = Agent::spawn(shop, |_| {}).await;
    let p = t.pulled().await;
    assert_completed(&p);
    assert!(
        t.shop.faults_were_injected(),
        "{kind:?}: faults were injected"
    );
    for resource in [Resource::Products, Resource::Customers] {
        assert_eq!(
            t.replica_ids(resource).await,
            t.shop.mirrored_ids(resource).await,
            "{kind:?}: {resource}"
        );
    }
    t.stop().await;
}

crate::both_shops!(
    a_wrong_secret_is_an_auth_error_with_the_stores_code,
    wrong_secret
);

async fn wrong_secret(kind: Kind) {
    let shop = TestShop::spawn(kind, ShopSize::small()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = shop.agent_config(dir.path()).await;
    let wrong = shop.spoil_secret(&mut config);
    let app = App::spawn(
        config,
        AppOptions {
            initial_pull: InitialPull::Always,
        },
    )
    .await
    .unwrap();
    let p = tokio::time::timeout(Duration::from_secs(60), app.pull_finished())
        .await
        .unwrap();
    assert_eq!(p.state, PullState::Failed, "{kind:?}");
    let error = p.error.clone().unwrap_or_default();
    assert!(shop.names_auth_refusal(&error), "{kind:?}: {error}");
    assert!(
        !error.contains(&wrong),
        "{kind:?}: the secret never shows: {error}"
    );
    let products = app
        .store()
        .read(|c| dump::raw_rows(c, Resource::Products))
        .await
        .unwrap();
    assert!(products.is_empty(), "{kind:?}");
    app.shutdown().await;
    shop.shutdown().await;
}

crate::both_shops!(max_records_caps_the_pull_and_says_so, max_records_caps);

async fn max_records_caps(kind: Kind) {
    let shop = TestShop::spawn(kind, ShopSize::small()).await;
    let t = Agent::spawn(shop, |c| c.sync.max_records = 15).await;
    let p = t.pulled().await;
    assert_completed(&p);
    let products = p.resource(Resource::Products).unwrap();
    assert_eq!(
        t.replica_ids(Resource::Products).await.len(),
        15,
        "{kind:?}"
    );
    let message = products.message.as_deref().unwrap_or_default();
    assert!(message.contains("max_records"), "{kind:?}: {message}");
    let (_, body) = t.get_json("/api/sync/status").await;
    let row = body["replica"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "products")
        .unwrap()
        .clone();
    assert!(
        row["last_warning"]
            .as_str()
            .unwrap_or_default()
            .contains("max_records"),
        "{kind:?}: {row}"
    );
    t.stop().await;
}

// What only a WooCommerce shop does.

/// WooCommerce's own: its page count, known from the first answer, lets
/// the last page be asked while earlier ones are out; a cursor walk
/// (Shopify) knows its last page only once it is answered.
#[tokio::test]
async fn the_next_resource_starts_while_the_one_before_finishes_its_last_pages() {
    // Products, then variations, as a relay: the variations' first page is
    // asked for once the products' last page is, not after the products'
    // tail is answered and written. Each answer takes 100 ms, so both are
    // seen running at once for at least that long.
    let t = TestApp::spawn(
        SimConfig {
            faults: possync_sim::woo::FaultConfig {
                latency: Duration::from_millis(100),
                ..Default::default()
            },
            ..small_sim()
        },
        |_| {},
    )
    .await;
    let running = |p: &possync::sync::progress::PullProgress, r: Resource| {
        p.resource(r).is_some_and(|r| r.state == StepState::Running)
    };
    let mut rx = t.app.progress();
    let seen = rx
        .wait_for(|p| {
            (running(p, Resource::Products) && running(p, Resource::Variations))
                || !matches!(p.state, PullState::Idle | PullState::Running)
        })
        .await
        .unwrap()
        .clone();
    assert!(
        running(&seen, Resource::Variations),
        "variations start before the products are done: {seen:?}"
    );
    let products = seen.resource(Resource::Products).unwrap();
    assert!(
        products.pages_total.is_some_and(|n| n > 2),
        "the products take several pages: {products:?}"
    );
    let p = t.pulled().await;
    assert_completed(&p);
    assert_eq!(
        t.replica_ids(Resource::Products).await,
        t.sim.product_ids(Some("publish"))
    );
    assert_eq!(
        t.replica_ids(Resource::Variations).await,
        mirrored_variation_ids(&t.sim)
    );
    t.stop().await;
}

/// WooCommerce's own: stores before the flat `/variations` and `/refunds`
/// lists (Shopify always lists variants and refunds flat).
#[tokio::test]
async fn an_older_store_without_the_flat_lists_is_walked_per_parent() {
    let t = TestApp::spawn(
        SimConfig {
            variations_endpoint: false,
            refunds_endpoint: false,
            ..small_sim()
        },
        |_| {},
    )
    .await;
    assert_completed(&t.pulled().await);
    let per_parent = t
        .sim
        .requests()
        .iter()
        .filter(|r| r.path.contains("/variations") && r.path.contains("/products/"))
        .count();
    assert!(per_parent > 0, "variations were asked per product");
    // Every variation of every mirrored variable product is in the replica.
    let products = t.replica_ids(Resource::Products).await;
    let expected: usize = products
        .iter()
        .map(|&id| t.sim.variation_ids(Some(id)).len())
        .sum();
    assert!(expected > 0);
    assert_eq!(t.replica_ids(Resource::Variations).await.len(), expected);
    let orders = t.replica_ids(Resource::Orders).await;
    assert!(!t.replica_ids(Resource::Refunds).await.is_empty());
    assert!(!orders.is_empty());
    t.stop().await;
}

/// WooCommerce's own: OAuth 1.0a signatures over the store's home URL
/// (Shopify's token is sent as it is).
#[tokio::test]
async fn home_url_makes_oauth_work_through_an_alias() {
    // The store believes it lives at another address (a proxy in front):
    // signatures must be computed over that home URL.
    let sim = SimConfig {
        home_url: Some("http://shop.example:8080".to_owned()),
        ..small_sim()
    };
    let t = TestApp::spawn(sim.clone(), |_| {}).await;
    assert_eq!(
        t.pulled().await.state,
        PullState::Failed,
        "no home_url: refused"
    );
    t.stop().await;

    let t = TestApp::spawn(sim, |c| {
        c.store.as_mut().unwrap().woo_mut().unwrap().home_url =
            Some("http://shop.example:8080".parse().unwrap());
    })
    .await;
    assert_completed(&t.pulled().await);
    assert!(!t.replica_ids(Resource::Products).await.is_empty());
    t.stop().await;
}
