//! The convergence campaign, against each simulated shop from one source:
//! hundreds of seeded random changes in the shop, webhooks lost,
//! duplicated, delayed and reordered, the agent (the real binary)
//! restarted and once killed with SIGKILL in between. After a final delta
//! cycle the replica's canonical dump equals the shop's objects, field for
//! field.
//!
//! The seed is printed; `POSSYNC_CONVERGENCE_SEED=N cargo test convergence`
//! replays a failing campaign (of either shop).
//!
//! What "the shop's objects" are differs by kind, each compared with the
//! rows the agent keeps of them: WooCommerce's REST objects as the sim
//! holds them ([`canonical`]); Shopify's nodes as the agent's own page
//! documents select them, asked of the shop over GraphQL
//! ([`shopify_canonical`]).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

use nix::sys::signal::Signal;
use possync::domain::Resource;
use possync::store::dump;
use possync::upstream::shopify::{delivery, queries};
use possync_sim::WebhookFaults;
use possync_sim::shopify::{ShopifyConfig, ShopifySim, Sizes};
use possync_sim::woo::{DeliveryOutcome, Sim, SimConfig, SimHandle, SimResource};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::{Connection, OpenFlags};
use serde_json::{Value, json};

use crate::cli::possync;
use crate::common::{Agent, any_port, free_port, healthy};
use crate::shopify_pull::ask;
use crate::shops::{Kind, TestShop};

const STEPS: usize = 300;
const SECRET: &str = "convergence-webhook-secret";
/// The shop `TestShop::write_config` names for a Shopify store, which
/// deliveries must come from.
const SHOPIFY_DOMAIN: &str = "corner-shop.myshopify.com";
const ORDER_STATUSES: [&str; 5] = ["pending", "processing", "on-hold", "completed", "refunded"];

/// One random change in the WooCommerce store; returns what it did, for
/// the log.
fn step(sim: &SimHandle, rng: &mut ChaCha8Rng, n: usize) -> String {
    let products = sim.product_ids(None);
    let published = sim.product_ids(Some("publish"));
    let trashed = sim.product_ids(Some("trash"));
    let pick =
        |rng: &mut ChaCha8Rng, v: &[i64]| (!v.is_empty()).then(|| v[rng.gen_range(0..v.len())]);
    match rng.gen_range(0..100) {
        0..=19 => match pick(rng, &published) {
            Some(id) => {
                let price = format!("{}.{:02}", rng.gen_range(1..200), rng.gen_range(0..100));
                let _ = sim.update_product(id, json!({ "regular_price": price }));
                format!("price {id} {price}")
            }
            None => "noop".to_owned(),
        },
        20..=39 => match pick(rng, &products) {
            Some(id) => {
                let q = rng.gen_range(0..50);
                sim.set_product_stock(id, q);
                format!("stock {id} {q}")
            }
            None => "noop".to_owned(),
        },
        40..=47 => {
            let id = sim.add_simple_product(
                &format!("Campaign item {n}"),
                &format!("CMP-{n}"),
                "5.00",
                Some(10),
            );
            format!("add {id}")
        }
        48..=55 => match pick(rng, &published) {
            Some(id) => {
                sim.trash_product(id);
                format!("trash {id}")
            }
            None => "noop".to_owned(),
        },
        56..=61 => match pick(rng, &trashed) {
            Some(id) => {
                sim.restore_product(id);
                format!("restore {id}")
            }
            None => "noop".to_owned(),
        },
        62..=67 => match pick(rng, &products) {
            Some(id) => {
                sim.delete_product(id);
                format!("delete {id}")
            }
            None => "noop".to_owned(),
        },
        68..=75 => match pick(rng, &sim.variation_ids(None)) {
            Some(id) => {
                let q = rng.gen_range(0..20);
                let _ =
                    sim.update_product(id, json!({ "stock_quantity": q, "manage_stock": true }));
                format!("variation stock {id} {q}")
            }
            None => "noop".to_owned(),
        },
        76..=83 => match pick(rng, &sim.customer_ids()) {
            Some(id) => {
                let name = format!("Renamed{n}");
                let (status, _) = sim.call(
                    "PUT",
                    &format!("customers/{id}"),
                    json!({ "first_name": name }),
                );
                format!("customer {id} renamed ({status})")
            }
            None => "noop".to_owned(),
        },
        84..=86 => {
            match sim.create_customer(&format!("c{n}@example.com"), "New", &format!("Customer{n}"))
            {
                Ok(id) => format!("customer {id} created"),
                Err(e) => format!("customer create refused: {e:?}"),
            }
        }
        87..=88 => match pick(rng, &sim.customer_ids()) {
            Some(id) => {
                sim.delete_customer(id);
                format!("customer {id} deleted")
            }
            None => "noop".to_owned(),
        },
        89..=95 => match pick(rng, &sim.order_ids(None)) {
            Some(id) => {
                let status =
                    ["processing", "completed", "on-hold", "cancelled"][rng.gen_range(0..4)];
                let (code, _) =
                    sim.call("PUT", &format!("orders/{id}"), json!({ "status": status }));
                format!("order {id} {status} ({code})")
            }
            None => "noop".to_owned(),
        },
        96..=97 => match pick(rng, &sim.order_ids(None)) {
            Some(id) => {
                sim.trash_order(id);
                format!("order {id} trashed")
            }
            None => "noop".to_owned(),
        },
        _ => match pick(rng, &sim.order_ids(None)) {
            Some(id) => {
                sim.delete_order(id);
                format!("order {id} deleted")
            }
            None => "noop".to_owned(),
        },
    }
}

/// Objects keyed by id, `_links` dropped, and fields the store changes
/// without moving `date_modified` (so no sync can see them move) left out:
/// a product's `total_sales`; what is computed from *other* objects when a
/// product is rendered (`related_ids`, and a grouped product's
/// `grouped_products`, `price_html`, `price` and `on_sale`, which follow its
/// children); and what an order line shows of its product *now* (SKU,
/// parent name, image).
fn canonical(items: impl IntoIterator<Item = Value>) -> BTreeMap<i64, Value> {
    items
        .into_iter()
        .map(|mut v| {
            if let Value::Object(m) = &mut v {
                m.remove("_links");
                for derived in [
                    "total_sales",
                    "related_ids",
                    "grouped_products",
                    "price_html",
                ] {
                    m.remove(derived);
                }
                // A grouped product's price is its cheapest child's: a
                // child's new price shows in it, its date does not move.
                if m.get("type").and_then(Value::as_str) == Some("grouped") {
                    for derived in ["price", "on_sale"] {
                        m.remove(derived);
                    }
                }
                if let Some(Value::Array(lines)) = m.get_mut("line_items") {
                    for line in lines.iter_mut().filter_map(Value::as_object_mut) {
                        for derived in ["sku", "parent_name", "image", "global_unique_id"] {
                            line.remove(derived);
                        }
                    }
                }
            }
            (v["id"].as_i64().unwrap(), v)
        })
        .collect()
}

/// The replica's rows of `resource`, as it keeps them.
fn replica(db: &Path, resource: Resource) -> Vec<Value> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    dump::raw_rows(&conn, resource)
        .unwrap()
        .into_iter()
        .map(|(_, raw)| serde_json::from_str(&raw).unwrap())
        .collect()
}

fn upstream(
    sim: &SimHandle,
    resource: SimResource,
    keep: impl Fn(&Value) -> bool,
) -> BTreeMap<i64, Value> {
    canonical(sim.snapshot_json(resource).into_iter().filter(|v| keep(v)))
}

/// The number at the end of a Shopify gid.
fn gid_number(gid: &Value) -> i64 {
    gid.as_str()
        .and_then(|g| g.rsplit('/').next())
        .and_then(|n| n.split('?').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{gid} is not a gid"))
}

/// Shopify nodes keyed by their number, with what is not the object left
/// out: every `pageInfo` (where a nested list's page ended says how it was
/// read: a list completed by a second query ends with no cursor), and what
/// an order line or a refund line shows of a product the shop no longer
/// has (`product` and `variant`, null once it is deleted), which changes
/// without the order's `updatedAt` moving. `products` are the gids of the
/// products the shop has.
fn shopify_canonical(
    items: impl IntoIterator<Item = Value>,
    products: &HashSet<String>,
) -> BTreeMap<i64, Value> {
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
    let line = |l: &mut Value| {
        let held = l["product"]["id"]
            .as_str()
            .is_some_and(|g| products.contains(g));
        if let (false, Value::Object(m)) = (held, l) {
            m.remove("product");
            m.remove("variant");
        }
    };
    items
        .into_iter()
        .map(|mut v| {
            strip(&mut v);
            if let Some(Value::Array(lines)) = v.pointer_mut("/lineItems/nodes") {
                lines.iter_mut().for_each(line);
            }
            if let Some(Value::Array(lines)) = v.pointer_mut("/refundLineItems/nodes") {
                for l in lines.iter_mut() {
                    if let Some(item) = l.get_mut("lineItem") {
                        line(item);
                    }
                }
            }
            (gid_number(&v["id"]), v)
        })
        .collect()
}

fn assert_same(what: &str, local: &BTreeMap<i64, Value>, shop: &BTreeMap<i64, Value>, seed: u64) {
    let missing: Vec<_> = shop.keys().filter(|k| !local.contains_key(k)).collect();
    let extra: Vec<_> = local.keys().filter(|k| !shop.contains_key(k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "seed {seed}: {what}: missing locally {missing:?}, extra locally {extra:?}"
    );
    for (id, theirs) in shop {
        let mine = &local[id];
        if mine != theirs {
            let fields: Vec<String> = theirs
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, v)| mine.get(*k) != Some(*v))
                .map(|(k, v)| {
                    format!(
                        "{k}: local {} store {v}",
                        mine.get(k).unwrap_or(&Value::Null)
                    )
                })
                .collect();
            panic!("seed {seed}: {what} {id} differs: {fields:?}");
        }
    }
}

/// Every node of a page document (`$first`, `$after`, `$query`) under
/// `root`, walked to its end.
async fn every_node(sim: &ShopifySim, document: &str, root: &str) -> Vec<Value> {
    let mut nodes = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = ask(
            sim,
            document,
            json!({ "first": 10, "after": after, "query": null }),
        )
        .await;
        let conn = &data[root];
        nodes.extend(conn["nodes"].as_array().unwrap().iter().cloned());
        if conn["pageInfo"]["hasNextPage"] != true {
            return nodes;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
}

/// One random change in the Shopify shop, of the same kinds and in the
/// same proportions as [`step`]'s where Shopify has them; returns what it
/// did, for the log.
fn shopify_step(sim: &ShopifySim, rng: &mut ChaCha8Rng, n: usize) -> String {
    let pick = |rng: &mut ChaCha8Rng, v: &[String]| {
        (!v.is_empty()).then(|| v[rng.gen_range(0..v.len())].clone())
    };
    let active = sim.products_with_status("ACTIVE");
    let hidden: Vec<String> = ["ARCHIVED", "DRAFT"]
        .iter()
        .flat_map(|s| sim.products_with_status(s))
        .collect();
    let locations = sim.location_ids();
    // The till's location (the first, the shop floor) or another.
    let location = |rng: &mut ChaCha8Rng| {
        let at = rng.gen_range(0..locations.len());
        let which = if at == 0 { "till" } else { "other" };
        (locations[at].clone(), which)
    };
    let product_of = |variant: &str| {
        sim.node(variant).unwrap()["product"]["__ref"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    match rng.gen_range(0..100) {
        0..=19 => {
            let on_sale: Vec<String> = [true, false]
                .iter()
                .flat_map(|d| sim.variant_ids(*d))
                .filter(|v| active.contains(&product_of(v)))
                .collect();
            match pick(rng, &on_sale) {
                Some(v) => {
                    let price = format!("{}.{:02}", rng.gen_range(1..200), rng.gen_range(0..100));
                    sim.set_variant_price(&v, &price);
                    format!("price {v} {price}")
                }
                None => "noop".to_owned(),
            }
        }
        // A simple product's stock (its default variant's), at the till's
        // location or another.
        20..=39 => match pick(rng, &sim.variant_ids(true)) {
            Some(v) => {
                let q = rng.gen_range(0..50);
                let (at, which) = location(rng);
                sim.set_available(&v, &at, q);
                format!("stock {v} {q} at {which}")
            }
            None => "noop".to_owned(),
        },
        40..=47 => {
            let sizes = ["S", "M", "L"];
            let variants: Vec<(&str, &str)> = sizes[..rng.gen_range(1..=3)]
                .iter()
                .map(|s| (*s, "5.0"))
                .collect();
            let g = sim.add_product_with_variants(
                &format!("Campaign item {n}"),
                &format!("CMP-{n}"),
                &variants,
                10,
            );
            format!("add {g} ({} variants)", variants.len())
        }
        // Shopify has no trash: a product leaves the till by being archived
        // or set back to draft, and comes back by being made active.
        48..=55 => match pick(rng, &active) {
            Some(p) => {
                let status = ["ARCHIVED", "DRAFT"][rng.gen_range(0..2)];
                sim.set_product_status(&p, status);
                format!("{status} {p}")
            }
            None => "noop".to_owned(),
        },
        56..=61 => match pick(rng, &hidden) {
            Some(p) => {
                sim.set_product_status(&p, "ACTIVE");
                format!("ACTIVE {p}")
            }
            None => "noop".to_owned(),
        },
        62..=67 => match pick(rng, &sim.product_ids()) {
            Some(p) => {
                sim.delete_product(&p);
                format!("delete {p}")
            }
            None => "noop".to_owned(),
        },
        // A variant's stock, of a product with several.
        68..=75 => match pick(rng, &sim.variant_ids(false)) {
            Some(v) => {
                let q = rng.gen_range(0..20);
                let (at, which) = location(rng);
                sim.set_available(&v, &at, q);
                format!("variant stock {v} {q} at {which}")
            }
            None => "noop".to_owned(),
        },
        76..=83 => match pick(rng, &sim.customer_ids()) {
            Some(c) => {
                sim.rename_customer(&c, &format!("Renamed{n}"));
                format!("customer {c} renamed")
            }
            None => "noop".to_owned(),
        },
        84..=86 => {
            match sim.add_customer(&format!("c{n}@example.com"), "New", &format!("Customer{n}")) {
                Ok(c) => format!("customer {c} created"),
                Err(e) => format!("customer create refused: {e}"),
            }
        }
        87..=88 => match pick(rng, &sim.customer_ids()) {
            Some(c) => match sim.delete_customer(&c) {
                Ok(()) => format!("customer {c} deleted"),
                Err(e) => format!("customer {c} not deleted: {e}"),
            },
            None => "noop".to_owned(),
        },
        89..=95 => match pick(rng, &sim.order_ids()) {
            Some(o) => match rng.gen_range(0..4) {
                0 => format!("order {o} fulfilled ({})", sim.fulfil_order(&o)),
                1 => format!(
                    "order {o} note ({})",
                    sim.set_order_note(&o, &format!("Note {n}"))
                ),
                2 => format!("order {o} cancelled ({:?})", sim.cancel_order(&o)),
                _ => format!("order {o} opened ({})", sim.close_order(&o, false)),
            },
            None => "noop".to_owned(),
        },
        // WooCommerce's trash for orders: Shopify archives (closes) one.
        96..=97 => match pick(rng, &sim.order_ids()) {
            Some(o) => format!("order {o} closed ({})", sim.close_order(&o, true)),
            None => "noop".to_owned(),
        },
        _ => match pick(rng, &sim.order_ids()) {
            Some(o) => {
                sim.delete_order(&o);
                format!("order {o} deleted")
            }
            None => "noop".to_owned(),
        },
    }
}

/// A shop of either kind for a campaign of `seed`: its data made from the
/// seed too.
async fn campaign_shop(kind: Kind, seed: u64) -> TestShop {
    match kind {
        Kind::WooCommerce => TestShop::WooCommerce(
            Sim::spawn(SimConfig {
                listen: any_port(),
                seed,
                products: 40,
                customers: 15,
                orders: 25,
                ..SimConfig::default()
            })
            .await
            .unwrap(),
        ),
        Kind::Shopify => TestShop::Shopify(
            ShopifySim::spawn(ShopifyConfig {
                seed,
                sizes: Sizes {
                    products: 40,
                    customers: 15,
                    orders: 25,
                    locations: 2,
                },
                shop_domain: SHOPIFY_DOMAIN.to_owned(),
                ..ShopifyConfig::default()
            })
            .await
            .unwrap(),
        ),
    }
}

/// The campaign's side of each kind of shop.
impl TestShop {
    fn set_webhook_faults(&self, faults: WebhookFaults) {
        match self {
            TestShop::WooCommerce(sim) => sim.set_webhook_faults(faults),
            TestShop::Shopify(sim) => sim.set_webhook_faults(faults),
        }
    }

    /// What the agent checks deliveries with: WooCommerce's per-webhook
    /// secret (set when subscribing), Shopify's app client secret.
    fn webhook_secret(&self) -> String {
        match self {
            TestShop::WooCommerce(_) => SECRET.to_owned(),
            TestShop::Shopify(_) => ShopifyConfig::default().webhook_secret,
        }
    }

    /// Subscribes the agent on `port` to every topic it takes.
    async fn subscribe(&self, port: u16) {
        match self {
            TestShop::WooCommerce(sim) => {
                let url = format!("http://127.0.0.1:{port}/webhooks/woocommerce");
                for topic in [
                    "product.created",
                    "product.updated",
                    "product.deleted",
                    "product.restored",
                    "order.created",
                    "order.updated",
                    "order.deleted",
                    "order.restored",
                    "customer.created",
                    "customer.updated",
                    "customer.deleted",
                ] {
                    sim.create_webhook(topic, &url, SECRET).unwrap();
                }
            }
            TestShop::Shopify(sim) => {
                let url = format!("http://127.0.0.1:{port}/webhooks/shopify");
                // What `possync webhooks install` subscribes, and the
                // cancellations beside it.
                let mut topics: Vec<String> = delivery::subscribed()
                    .iter()
                    .map(|t| t.enum_name())
                    .collect();
                topics.push(delivery::DeliveryTopic::OrdersCancelled.enum_name());
                for topic in topics {
                    let data = ask(
                        sim,
                        "mutation($topic: WebhookSubscriptionTopic!, $uri: String!) { webhookSubscriptionCreate(topic: $topic, webhookSubscription: { uri: $uri }) { webhookSubscription { id } userErrors { message } } }",
                        json!({ "topic": topic, "uri": url }),
                    )
                    .await;
                    assert_eq!(
                        data["webhookSubscriptionCreate"]["userErrors"],
                        json!([]),
                        "{topic}"
                    );
                }
            }
        }
    }

    fn random_change(&self, rng: &mut ChaCha8Rng, n: usize) -> String {
        match self {
            TestShop::WooCommerce(sim) => step(sim, rng, n),
            TestShop::Shopify(sim) => shopify_step(sim, rng, n),
        }
    }

    async fn deliveries_settled(&self) {
        match self {
            TestShop::WooCommerce(sim) => sim.deliveries_settled().await,
            TestShop::Shopify(sim) => sim.deliveries_settled().await,
        }
    }

    /// Deliveries the agent answered 200.
    fn deliveries_taken(&self) -> usize {
        match self {
            TestShop::WooCommerce(sim) => sim
                .deliveries()
                .iter()
                .filter(|d| d.outcome == DeliveryOutcome::Status(200))
                .count(),
            TestShop::Shopify(sim) => sim
                .webhook_deliveries()
                .iter()
                .filter(|d| d.status == Some(200))
                .count(),
        }
    }

    /// Objects of this shop keyed by id, canonical: see [`canonical`] and
    /// [`shopify_canonical`].
    fn canonical_rows(&self, items: Vec<Value>) -> BTreeMap<i64, Value> {
        match self {
            TestShop::WooCommerce(_) => canonical(items),
            TestShop::Shopify(sim) => {
                shopify_canonical(items, &sim.product_ids().into_iter().collect())
            }
        }
    }

    /// What the replica must hold of each resource compared, as the shop
    /// has it now, canonical.
    async fn mirrored(&self) -> Vec<(&'static str, Resource, BTreeMap<i64, Value>)> {
        match self {
            TestShop::WooCommerce(sim) => {
                let status_in =
                    |v: &Value, set: &[&str]| set.contains(&v["status"].as_str().unwrap_or(""));
                // A variation is mirrored only while its parent is.
                let published: Vec<i64> = sim.product_ids(Some("publish"));
                vec![
                    (
                        "products",
                        Resource::Products,
                        upstream(sim, SimResource::Products, |v| status_in(v, &["publish"])),
                    ),
                    (
                        "variations",
                        Resource::Variations,
                        upstream(sim, SimResource::Variations, |v| {
                            v["status"] != "trash"
                                && v["parent_id"]
                                    .as_i64()
                                    .is_some_and(|p| published.contains(&p))
                        }),
                    ),
                    (
                        "customers",
                        Resource::Customers,
                        upstream(sim, SimResource::Customers, |_| true),
                    ),
                    (
                        "orders",
                        Resource::Orders,
                        upstream(sim, SimResource::Orders, |v| status_in(v, &ORDER_STATUSES)),
                    ),
                    (
                        "refunds",
                        Resource::Refunds,
                        upstream(sim, SimResource::Refunds, |_| true),
                    ),
                ]
            }
            TestShop::Shopify(sim) => {
                let canonical = |items: Vec<Value>| self.canonical_rows(items);
                let location = gid_number(&json!(sim.location_ids()[0]));
                let products = every_node(sim, &queries::products_page(location), "products").await;
                // The till sells what is ACTIVE (`sync.product_statuses`
                // is `publish`), and a variation while its product is on
                // sale; a product's only, default variant is the product.
                let active: Vec<&Value> = products
                    .iter()
                    .filter(|p| p["status"] == "ACTIVE")
                    .map(|p| &p["id"])
                    .collect();
                let variants =
                    every_node(sim, &queries::variants_page(location), "productVariants").await;
                let orders = every_node(sim, &queries::orders_page(), "orders").await;
                let refunds: Vec<Value> = every_node(sim, &queries::refunds_page(), "orders")
                    .await
                    .into_iter()
                    .flat_map(|o| o["refunds"].as_array().cloned().unwrap_or_default())
                    .collect();
                vec![
                    (
                        "categories",
                        Resource::Categories,
                        canonical(
                            every_node(sim, &queries::collections_page(), "collections").await,
                        ),
                    ),
                    (
                        "products",
                        Resource::Products,
                        canonical(
                            products
                                .iter()
                                .filter(|p| p["status"] == "ACTIVE")
                                .cloned()
                                .collect(),
                        ),
                    ),
                    (
                        "variations",
                        Resource::Variations,
                        canonical(
                            variants
                                .into_iter()
                                .filter(|v| {
                                    v["product"]["hasOnlyDefaultVariant"] == false
                                        && active.contains(&&v["product"]["id"])
                                })
                                .collect(),
                        ),
                    ),
                    (
                        "customers",
                        Resource::Customers,
                        canonical(every_node(sim, &queries::customers_page(), "customers").await),
                    ),
                    (
                        "orders",
                        Resource::Orders,
                        // A cancelled (or voided) order is `cancelled` in
                        // the till's words, which `sync.order_statuses`
                        // leaves out; every other state of an order maps
                        // to a word it keeps.
                        canonical(
                            orders
                                .into_iter()
                                .filter(|o| {
                                    o["cancelledAt"].is_null()
                                        && o["displayFinancialStatus"] != "VOIDED"
                                })
                                .collect(),
                        ),
                    ),
                    ("refunds", Resource::Refunds, canonical(refunds)),
                ]
            }
        }
    }
}

crate::both_shops!(
    a_random_campaign_with_unreliable_webhooks_and_crashes_converges,
    campaign
);

async fn campaign(kind: Kind) {
    let seed: u64 = std::env::var("POSSYNC_CONVERGENCE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().r#gen());
    println!("{kind:?} convergence seed: {seed} (POSSYNC_CONVERGENCE_SEED={seed} to replay)");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);

    let shop = campaign_shop(kind, seed).await;
    shop.set_webhook_faults(WebhookFaults {
        loss: 0.2,
        duplicate: 0.2,
        delay: 0.2,
        delay_for: Duration::from_millis(300),
        reorder: 0.2,
    });
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = shop
        .write_config(
            dir.path(),
            &format!(
                "page_size = 20\n[schedule]\nproducts_secs = 2\nvariations_secs = 2\norders_secs = 2\ncustomers_secs = 3\nmetadata_secs = 3600\nsweep_secs = 3600\n[webhooks]\nsecret = \"{}\"",
                shop.webhook_secret()
            ),
        )
        .await;
    let db = dir.path().join("data").join("replica.db");
    shop.subscribe(port).await;

    let mut agent = Some(Agent::start(&config, port));
    healthy(port).await;
    let mut log = Vec::new();
    for n in 0..STEPS {
        log.push(shop.random_change(&mut rng, n));
        if n % 25 == 24 {
            // Let some polls and deliveries happen between bursts.
            tokio::time::sleep(Duration::from_millis(rng.gen_range(0..400))).await;
        }
        if n == STEPS / 2 {
            agent.take().unwrap().signal(Signal::SIGKILL);
            log.push("agent killed".to_owned());
            agent = Some(Agent::start(&config, port));
            healthy(port).await;
        } else if n % 100 == 60 {
            agent.take().unwrap().signal(Signal::SIGTERM);
            log.push("agent restarted".to_owned());
            agent = Some(Agent::start(&config, port));
            healthy(port).await;
        }
    }
    shop.deliveries_settled().await;
    agent.take().unwrap().signal(Signal::SIGTERM);
    assert!(
        shop.deliveries_taken() > 0,
        "seed {seed}: webhooks reached the agent"
    );

    // The final cycle: polls and the completeness sweep.
    let out = tokio::task::spawn_blocking({
        let config = config.clone();
        move || {
            possync()
                .args(["sync", "--delta", "--config"])
                .arg(&config)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "seed {seed}: final cycle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Shown with a failure: what the campaign did, in order.
    println!("{kind:?} seed {seed}: the campaign\n{}", log.join("\n"));
    for (what, resource, theirs) in &shop.mirrored().await {
        let local = shop.canonical_rows(replica(&db, *resource));
        assert_same(what, &local, theirs, seed);
    }
    let changed = log.iter().filter(|l| *l != "noop").count();
    println!(
        "{kind:?} seed {seed}: {changed} changes applied, {} deliveries taken, replica equals the store",
        shop.deliveries_taken()
    );
    shop.shutdown().await;
}
