//! The convergence campaign: hundreds of seeded random changes in the
//! simulated store, webhooks lost, duplicated, delayed and reordered, the
//! agent (the real binary) restarted and once killed with SIGKILL in
//! between. After a final delta cycle the replica's canonical dump equals
//! the store's, field for field.
//!
//! The seed is printed; `POSSYNC_CONVERGENCE_SEED=N cargo test convergence`
//! replays a failing campaign.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use nix::sys::signal::Signal;
use possync::domain::Resource;
use possync::store::dump;
use possync_sim::woo::{DeliveryOutcome, Sim, SimConfig, SimHandle, SimResource, WebhookFaults};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::{Connection, OpenFlags};
use serde_json::{Value, json};

use crate::cli::{possync, write_config};
use crate::common::{Agent, any_port, free_port, healthy};

const STEPS: usize = 300;
const SECRET: &str = "convergence-webhook-secret";
const ORDER_STATUSES: [&str; 5] = ["pending", "processing", "on-hold", "completed", "refunded"];

/// One random change in the store; returns what it did, for the log.
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

fn replica(db: &Path, resource: Resource) -> BTreeMap<i64, Value> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    canonical(
        dump::raw_rows(&conn, resource)
            .unwrap()
            .into_iter()
            .map(|(_, raw)| serde_json::from_str(&raw).unwrap()),
    )
}

fn upstream(
    sim: &SimHandle,
    resource: SimResource,
    keep: impl Fn(&Value) -> bool,
) -> BTreeMap<i64, Value> {
    canonical(sim.snapshot_json(resource).into_iter().filter(|v| keep(v)))
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

#[tokio::test]
async fn a_random_campaign_with_unreliable_webhooks_and_crashes_converges() {
    let seed: u64 = std::env::var("POSSYNC_CONVERGENCE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().r#gen());
    println!("convergence seed: {seed} (POSSYNC_CONVERGENCE_SEED={seed} to replay)");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);

    let sim = Sim::spawn(SimConfig {
        listen: any_port(),
        seed,
        products: 40,
        customers: 15,
        orders: 25,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    sim.set_webhook_faults(WebhookFaults {
        loss: 0.2,
        duplicate: 0.2,
        delay: 0.2,
        delay_for: Duration::from_millis(300),
        reorder: 0.2,
    });
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(
        &sim,
        dir.path(),
        &format!(
            "page_size = 20\n[schedule]\nproducts_secs = 2\nvariations_secs = 2\norders_secs = 2\ncustomers_secs = 3\nmetadata_secs = 3600\nsweep_secs = 3600\n[webhooks]\nsecret = \"{SECRET}\""
        ),
    );
    let db = dir.path().join("data").join("replica.db");
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

    let mut agent = Some(Agent::start(&config, port));
    healthy(port).await;
    let mut log = Vec::new();
    for n in 0..STEPS {
        log.push(step(&sim, &mut rng, n));
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
    sim.deliveries_settled().await;
    agent.take().unwrap().signal(Signal::SIGTERM);
    let delivered = sim
        .deliveries()
        .iter()
        .filter(|d| d.outcome == DeliveryOutcome::Status(200))
        .count();
    assert!(delivered > 0, "seed {seed}: webhooks reached the agent");

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

    let status_in = |v: &Value, set: &[&str]| set.contains(&v["status"].as_str().unwrap_or(""));
    // A variation is mirrored only while its parent is.
    let published: Vec<i64> = sim.product_ids(Some("publish"));
    let checks = [
        (
            "products",
            Resource::Products,
            upstream(&sim, SimResource::Products, |v| status_in(v, &["publish"])),
        ),
        (
            "variations",
            Resource::Variations,
            upstream(&sim, SimResource::Variations, |v| {
                v["status"] != "trash"
                    && v["parent_id"]
                        .as_i64()
                        .is_some_and(|p| published.contains(&p))
            }),
        ),
        (
            "customers",
            Resource::Customers,
            upstream(&sim, SimResource::Customers, |_| true),
        ),
        (
            "orders",
            Resource::Orders,
            upstream(&sim, SimResource::Orders, |v| status_in(v, &ORDER_STATUSES)),
        ),
        (
            "refunds",
            Resource::Refunds,
            upstream(&sim, SimResource::Refunds, |_| true),
        ),
    ];
    for (what, resource, shop) in &checks {
        let local = replica(&db, *resource);
        assert_same(what, &local, shop, seed);
    }
    let changed = log.iter().filter(|l| *l != "noop").count();
    println!("seed {seed}: {changed} changes applied, replica equals the store");
    sim.shutdown().await;
}
