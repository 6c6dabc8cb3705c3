//! Point 4: each request shape the agent sends to a shop, made against the
//! real store and the simulated store alike. Status code, error `code` and
//! the set of top-level keys must agree; a divergence fails with both
//! answers printed.

use possync_sim::woo::Sim;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::small_sim;
use crate::shop::{Keys, Reply, Shop, SimRest, run_id};

/// The objects one side holds, for routes and bodies naming them.
#[derive(Debug, Default, Clone)]
pub struct Ids {
    pub product: i64,
    pub order: i64,
    pub line: i64,
    pub customer: i64,
    pub webhook: i64,
    /// A product trashed on purpose.
    pub spare: i64,
}

/// Both stores, and what disagreed so far.
pub struct Pair<'a> {
    pub real: &'a Shop,
    pub sim: &'a SimRest,
    pub real_ids: Ids,
    pub sim_ids: Ids,
    pub divergences: Vec<String>,
    pub requests: usize,
}

/// How an answer is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// Status, error code and top-level keys.
    Keys,
    /// Status and error code only (a list that may be empty on one side).
    Code,
    /// Status only, where WooCommerce's own code depends on the
    /// authentication method.
    Status,
}

impl<'a> Pair<'a> {
    pub fn new(real: &'a Shop, sim: &'a SimRest) -> Self {
        Pair {
            real,
            sim,
            real_ids: Ids::default(),
            sim_ids: Ids::default(),
            divergences: Vec::new(),
            requests: 0,
        }
    }

    /// Makes the request on both sides, with the credentials `keys` picks
    /// (the side's own by default), and records any divergence.
    pub async fn both(
        &mut self,
        what: &str,
        method: Method,
        route: impl Fn(&Ids) -> String,
        body: impl Fn(&Ids) -> Option<Value>,
        compare: Compare,
    ) -> (Reply, Reply) {
        self.both_as(what, method, route, body, compare, None).await
    }

    pub async fn both_as(
        &mut self,
        what: &str,
        method: Method,
        route: impl Fn(&Ids) -> String,
        body: impl Fn(&Ids) -> Option<Value>,
        compare: Compare,
        keys: Option<(&Keys, &Keys)>,
    ) -> (Reply, Reply) {
        let real = match keys {
            Some((k, _)) => {
                self.real
                    .rest_as(
                        k,
                        method.clone(),
                        &route(&self.real_ids),
                        body(&self.real_ids),
                    )
                    .await
            }
            None => {
                self.real
                    .rest(method.clone(), &route(&self.real_ids), body(&self.real_ids))
                    .await
            }
        };
        let sim = match keys {
            Some((_, k)) => {
                self.sim
                    .rest_as(
                        k,
                        method.clone(),
                        &route(&self.sim_ids),
                        body(&self.sim_ids),
                    )
                    .await
            }
            None => {
                self.sim
                    .rest(method.clone(), &route(&self.sim_ids), body(&self.sim_ids))
                    .await
            }
        };
        self.requests += 2;
        let mut diffs = Vec::new();
        if real.status != sim.status {
            diffs.push(format!("status {} vs {}", real.status, sim.status));
        }
        if compare != Compare::Status && real.code() != sim.code() {
            diffs.push(format!("code {:?} vs {:?}", real.code(), sim.code()));
        }
        if compare == Compare::Keys && real.keys() != sim.keys() {
            let only_real: Vec<_> = real.keys().difference(&sim.keys()).cloned().collect();
            let only_sim: Vec<_> = sim.keys().difference(&real.keys()).cloned().collect();
            diffs.push(format!(
                "keys only on the real store {only_real:?}, only on the sim {only_sim:?}"
            ));
        }
        if !diffs.is_empty() {
            self.divergences.push(format!(
                "{what} ({method} {}): {}\n  real: {} {}\n  sim:  {} {}",
                route(&self.real_ids),
                diffs.join("; "),
                real.status,
                short(&real.body),
                sim.status,
                short(&sim.body),
            ));
        }
        (real, sim)
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 600 {
        format!("{}…", &s[..600])
    } else {
        s
    }
}

/// The order body the agent sends for a sale (see `woo::writes::order_body`),
/// with `billing` as given.
fn sale_body(ids: &Ids, run: &str, billing: Option<Value>) -> Value {
    let mut body = json!({
        "status": "completed",
        "set_paid": true,
        "customer_id": 0,
        "payment_method": "cod",
        "payment_method_title": "Cash",
        "customer_note": "",
        "line_items": [{"product_id": ids.product, "variation_id": 0, "quantity": 1}],
        "meta_data": [
            {"key": "possync_key", "value": format!("diff-{run}")},
            {"key": "possync_till", "value": "till-contract"},
        ],
    });
    if let Some(b) = billing {
        body["billing"] = b;
    }
    body
}

fn address(email: Option<&str>) -> Value {
    let mut a = json!({
        "first_name": "Contract", "last_name": "Run", "company": "",
        "address_1": "1 Test Street", "address_2": "", "city": "London", "state": "",
        "postcode": "SW1A 1AA", "country": "GB", "phone": "",
    });
    if let Some(e) = email {
        a["email"] = json!(e);
    }
    a
}

#[tokio::test]
async fn the_simulated_store_answers_every_contract_request_as_the_real_one_does() {
    let Some(shop) = Shop::take("differential").await else {
        return;
    };
    let sim = Sim::spawn(small_sim()).await.expect("sim starts");
    let sim_rest = SimRest::new(&sim);
    let run = run_id();
    let mut p = Pair::new(&shop, &sim_rest);
    use Compare::{Code as C, Keys as K, Status as S};

    // Reads the agent makes.
    p.both(
        "list products",
        Method::GET,
        |_| "products?per_page=2&page=1&orderby=id&order=asc&status=publish".into(),
        |_| None,
        K,
    )
    .await;
    p.both(
        "list ids and dates",
        Method::GET,
        |_| "products?per_page=5&_fields=id,date_modified_gmt".into(),
        |_| None,
        K,
    )
    .await;
    p.both(
        "list variations",
        Method::GET,
        |_| "variations?per_page=2&orderby=id&order=asc".into(),
        |_| None,
        K,
    )
    .await;
    p.both("list orders", Method::GET, |_| "orders?per_page=2&orderby=id&order=asc&status=pending,processing,on-hold,completed,refunded".into(), |_| None, K).await;
    p.both(
        "list customers",
        Method::GET,
        |_| "customers?per_page=2&orderby=id&order=asc".into(),
        |_| None,
        K,
    )
    .await;
    p.both(
        "settings",
        Method::GET,
        |_| "settings/general".into(),
        |_| None,
        K,
    )
    .await;
    p.both(
        "webhooks list",
        Method::GET,
        |_| "webhooks?per_page=100".into(),
        |_| None,
        C,
    )
    .await;

    // Error classes.
    p.both(
        "unknown product",
        Method::GET,
        |_| "products/987654321".into(),
        |_| None,
        K,
    )
    .await;
    p.both(
        "unknown order",
        Method::GET,
        |_| "orders/987654321".into(),
        |_| None,
        K,
    )
    .await;
    p.both(
        "unknown customer",
        Method::GET,
        |_| "customers/987654321".into(),
        |_| None,
        K,
    )
    .await;
    p.both(
        "unknown route",
        Method::GET,
        |_| "no-such-route".into(),
        |_| None,
        K,
    )
    .await;
    p.both(
        "per_page too large",
        Method::GET,
        |_| "products?per_page=101".into(),
        |_| None,
        K,
    )
    .await;
    p.both(
        "bad modified_after",
        Method::GET,
        |_| "orders?modified_after=yesterday".into(),
        |_| None,
        K,
    )
    .await;
    let wrong_key = |k: &Keys| Keys {
        key: format!("ck_{}", "0".repeat(40)),
        secret: k.secret.clone(),
    };
    let wrong_secret = |k: &Keys| Keys {
        key: k.key.clone(),
        secret: format!("cs_{}", "0".repeat(40)),
    };
    let (rk, sk) = (wrong_key(&shop.keys), wrong_key(&sim_rest.keys));
    // The codes differ by method, in WooCommerce itself: over Basic an
    // unknown key leaves the request anonymous (`woocommerce_rest_cannot_view`),
    // over OAuth it is named (`woocommerce_rest_authentication_error`).
    p.both_as(
        "wrong key",
        Method::GET,
        |_| "orders?per_page=1".into(),
        |_| None,
        S,
        Some((&rk, &sk)),
    )
    .await;
    let (rk, sk) = (wrong_secret(&shop.keys), wrong_secret(&sim_rest.keys));
    p.both_as(
        "wrong secret",
        Method::GET,
        |_| "orders?per_page=1".into(),
        |_| None,
        K,
        Some((&rk, &sk)),
    )
    .await;

    // A product to sell, hidden from the shop's catalogue.
    let product = |_: &Ids| {
        Some(json!({
            "name": format!("possync contract {run} diff mug"), "type": "simple",
            "status": "publish", "catalog_visibility": "hidden",
            "sku": format!("CT-{run}-DIFF"), "regular_price": "10.00",
            "manage_stock": true, "stock_quantity": 20,
        }))
    };
    let (r, s) = p
        .both(
            "create product",
            Method::POST,
            |_| "products".into(),
            product,
            K,
        )
        .await;
    p.real_ids.product = r.expect(201, "create product").id();
    p.sim_ids.product = s.expect(201, "create product on the sim").id();
    p.both(
        "duplicate SKU",
        Method::POST,
        |_| "products".into(),
        product,
        K,
    )
    .await;

    // Sales, as the agent sends them.
    let (r, s) = p
        .both(
            "anonymous sale",
            Method::POST,
            |_| "orders".into(),
            |ids| Some(sale_body(ids, &run, None)),
            K,
        )
        .await;
    let (r, s) = (
        r.expect(201, "anonymous sale"),
        s.expect(201, "anonymous sale on the sim"),
    );
    p.real_ids.order = r.id();
    p.real_ids.line = r.body["line_items"][0]["id"].as_i64().unwrap_or(0);
    p.sim_ids.order = s.id();
    p.sim_ids.line = s.body["line_items"][0]["id"].as_i64().unwrap_or(0);
    let mut made_orders = vec![p.real_ids.order];
    let (r, _) = p
        .both(
            "sale with billing and email",
            Method::POST,
            |_| "orders".into(),
            |ids| {
                Some(sale_body(
                    ids,
                    &run,
                    Some(address(Some(&format!("ct-{run}@possync.test")))),
                ))
            },
            K,
        )
        .await;
    made_orders.extend(r.body["id"].as_i64());
    let (r, _) = p
        .both(
            "sale with billing, no email key",
            Method::POST,
            |_| "orders".into(),
            |ids| Some(sale_body(ids, &run, Some(address(None)))),
            K,
        )
        .await;
    made_orders.extend(r.body["id"].as_i64());
    let (r, _) = p
        .both(
            "sale with an empty billing email",
            Method::POST,
            |_| "orders".into(),
            |ids| Some(sale_body(ids, &run, Some(address(Some(""))))),
            K,
        )
        .await;
    made_orders.extend(r.body["id"].as_i64());
    let (r, _) = p
        .both(
            "sale with an invalid billing email",
            Method::POST,
            |_| "orders".into(),
            |ids| Some(sale_body(ids, &run, Some(address(Some("not-an-email"))))),
            K,
        )
        .await;
    made_orders.extend(r.body["id"].as_i64());
    let (r, _) = p
        .both(
            "sale of an unknown product",
            Method::POST,
            |_| "orders".into(),
            |ids| {
                let mut b = sale_body(ids, &run, None);
                b["line_items"][0]["product_id"] = json!(987654321);
                Some(b)
            },
            K,
        )
        .await;
    made_orders.extend(r.body["id"].as_i64());
    let (r, _) = p
        .both(
            "sale with an unknown status",
            Method::POST,
            |_| "orders".into(),
            |ids| {
                let mut b = sale_body(ids, &run, None);
                b["status"] = json!("sold");
                Some(b)
            },
            K,
        )
        .await;
    made_orders.extend(r.body["id"].as_i64());
    // WooCommerce 11 sells an unknown product as an empty 0.00 line, and a
    // trashed one as if it were published.
    let trashed = |_: &Ids| {
        Some(json!({
            "name": format!("possync contract {run} diff trashed"), "type": "simple",
            "status": "publish", "catalog_visibility": "hidden", "regular_price": "3.00",
        }))
    };
    let (r, s) = p
        .both(
            "create a product to trash",
            Method::POST,
            |_| "products".into(),
            trashed,
            K,
        )
        .await;
    p.real_ids.spare = r.id();
    p.sim_ids.spare = s.id();
    p.both(
        "trash it",
        Method::DELETE,
        |ids| format!("products/{}", ids.spare),
        |_| None,
        K,
    )
    .await;
    let (r, _) = p
        .both(
            "sale of a trashed product",
            Method::POST,
            |_| "orders".into(),
            |ids| {
                let mut b = sale_body(ids, &run, None);
                b["line_items"][0]["product_id"] = json!(ids.spare);
                Some(b)
            },
            K,
        )
        .await;
    made_orders.extend(r.body["id"].as_i64());
    p.both("look up by key", Method::GET, |_| "orders?after=2020-01-01T00:00:00&dates_are_gmt=true&_fields=id,meta_data&per_page=100&orderby=id&order=asc".into(), |_| None, K).await;

    // A return by line with restock, then by amount without.
    p.both(
        "refund by line",
        Method::POST,
        |ids| format!("orders/{}/refunds", ids.order),
        |ids| {
            Some(json!({
                "amount": "10.00", "reason": "contract", "api_refund": false, "api_restock": true,
                "line_items": [{"id": ids.line, "quantity": 1, "refund_total": "10.00"}],
                "meta_data": [{"key": "possync_key", "value": format!("diff-refund-{run}")}],
            }))
        },
        K,
    )
    .await;
    p.both("refund beyond the total", Method::POST, |ids| format!("orders/{}/refunds", ids.order), |_| Some(json!({
        "amount": "5.00", "reason": "", "api_refund": false, "api_restock": false, "line_items": [],
    })), K).await;
    p.both(
        "refunds of the order",
        Method::GET,
        |ids| {
            format!(
                "orders/{}/refunds?_fields=id,meta_data&per_page=100",
                ids.order
            )
        },
        |_| None,
        K,
    )
    .await;

    // Order status (pickup), stock.
    p.both(
        "set status",
        Method::PUT,
        |ids| format!("orders/{}", ids.order),
        |_| Some(json!({"status": "completed"})),
        K,
    )
    .await;
    p.both(
        "read stock",
        Method::GET,
        |ids| format!("products/{}?_fields=id,stock_quantity", ids.product),
        |_| None,
        K,
    )
    .await;
    p.both(
        "set stock",
        Method::PUT,
        |ids| format!("products/{}", ids.product),
        |_| Some(json!({"manage_stock": true, "stock_quantity": 30})),
        K,
    )
    .await;

    // Customers.
    let email = format!("ct-{run}-diff@possync.test");
    let (r, s) = p
        .both(
            "create customer",
            Method::POST,
            |_| "customers".into(),
            |_| {
                Some(json!({
                    "email": email, "first_name": "Contract", "last_name": "Run",
                    "meta_data": [{"key": "possync_key", "value": format!("diff-customer-{run}")}],
                }))
            },
            K,
        )
        .await;
    p.real_ids.customer = r.expect(201, "create customer").id();
    p.sim_ids.customer = s.expect(201, "create customer on the sim").id();
    p.both(
        "existing email",
        Method::POST,
        |_| "customers".into(),
        |_| Some(json!({"email": email})),
        K,
    )
    .await;
    p.both(
        "customer by email",
        Method::GET,
        |_| format!("customers?email={email}&role=all&_fields=id,email"),
        |_| None,
        K,
    )
    .await;
    p.both(
        "update customer",
        Method::PUT,
        |ids| format!("customers/{}", ids.customer),
        |_| Some(json!({"last_name": "Updated"})),
        K,
    )
    .await;
    p.both(
        "customer with an empty billing email",
        Method::PUT,
        |ids| format!("customers/{}", ids.customer),
        |_| Some(json!({"billing": address(Some(""))})),
        K,
    )
    .await;

    // Webhooks.
    let hook = |topic: &str| {
        let topic = topic.to_owned();
        move |_: &Ids| {
            Some(json!({
                "name": "possync contract diff", "topic": topic,
                "delivery_url": "http://127.0.0.1:9/webhooks/woocommerce", "secret": "s3cret-contract",
                "status": "paused",
            }))
        }
    };
    let (r, s) = p
        .both(
            "create webhook",
            Method::POST,
            |_| "webhooks".into(),
            hook("product.updated"),
            K,
        )
        .await;
    p.real_ids.webhook = r.expect(201, "create webhook").id();
    p.sim_ids.webhook = s.expect(201, "create webhook on the sim").id();
    p.both(
        "webhook with a refused topic",
        Method::POST,
        |_| "webhooks".into(),
        hook("customer.restored"),
        K,
    )
    .await;
    p.both(
        "pause webhook",
        Method::PUT,
        |ids| format!("webhooks/{}", ids.webhook),
        |_| Some(json!({"status": "paused"})),
        K,
    )
    .await;
    p.both(
        "delete webhook",
        Method::DELETE,
        |ids| format!("webhooks/{}?force=true", ids.webhook),
        |_| None,
        K,
    )
    .await;

    // Read-only key on a write (asserted once the run's objects are gone).
    let mut read_only = None;
    if let Some(ro) = &shop.read_only {
        let real = shop
            .rest_as(
                ro,
                Method::POST,
                "customers",
                Some(json!({"email": format!("ct-{run}-ro@possync.test")})),
            )
            .await;
        p.requests += 1;
        read_only = Some(real);
    }

    // Clean up the real store.
    for id in made_orders {
        shop.delete(&format!("orders/{id}")).await;
    }
    shop.delete(&format!("customers/{}?reassign=0", p.real_ids.customer))
        .await;
    shop.delete(&format!("products/{}", p.real_ids.product))
        .await;
    shop.delete(&format!("products/{}", p.real_ids.spare)).await;
    shop.delete(&format!("webhooks/{}", p.real_ids.webhook))
        .await;

    crate::shop::say(&format!(
        "contract differential: {} requests, {} divergences",
        p.requests,
        p.divergences.len()
    ));
    sim.shutdown().await;
    if let Some(r) = &read_only {
        crate::errors::assert_read_only_refusal(r);
    }
    assert!(
        p.divergences.is_empty(),
        "the simulated store answers {} request(s) unlike the real one:\n{}",
        p.divergences.len(),
        p.divergences.join("\n")
    );
}
