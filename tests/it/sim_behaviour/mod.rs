//! Behaviour of the simulated store that clients depend on: paging, delta
//! filters, statuses, lookups and determinism here; OAuth and faults in the
//! submodules.

mod faults;
mod oauth;

use std::collections::BTreeSet;

use possync_sim::woo::{Sim, SimConfig, SimHandle};

use crate::sim_client::{Carrier, Reply, SimClient};

pub(crate) async fn spawn(config: SimConfig) -> (SimHandle, SimClient) {
    let sim = Sim::spawn(config).await.expect("sim spawns");
    let client = SimClient::new(&sim);
    (sim, client)
}

pub(crate) fn error_message(reply: &Reply) -> String {
    reply.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn sim_pagination_walk_returns_every_product_exactly_once() {
    let (sim, c) = spawn(SimConfig::default()).await;
    let mut seen = Vec::new();
    let mut page = 1;
    loop {
        let p = page.to_string();
        let r = c
            .get(
                "products",
                &[
                    ("per_page", "7"),
                    ("page", &p),
                    ("orderby", "id"),
                    ("order", "asc"),
                ],
            )
            .await;
        assert_eq!(r.status, 200);
        let ids = r.ids();
        if ids.is_empty() {
            break;
        }
        seen.extend(ids);
        page += 1;
    }
    let counts = sim.counts();
    let expected: Vec<i64> = sim
        .product_ids(None)
        .into_iter()
        .filter(|id| !sim.product_ids(Some("trash")).contains(id))
        .collect();
    assert_eq!(seen, expected, "ascending ids, each once, trash excluded");
    assert_eq!(seen.len(), counts.products - counts.products_trash);
}

/// Touches a product so its `date_modified` is the sim's "now", with the
/// sim clock a day ahead so no generated product shares that second.
async fn touched_product(sim: &SimHandle, c: &SimClient) -> (i64, String, String) {
    let id = sim.product_ids(Some("publish"))[3];
    sim.set_clock_offset(86_400);
    sim.set_product_stock(id, 17);
    // Back to the machine's time, which the client signs with.
    sim.set_clock_offset(0);
    let p = c.get(&format!("products/{id}"), &[]).await.json();
    assert_eq!(p["stock_quantity"], 17);
    let gmt = p["date_modified_gmt"].as_str().unwrap().to_owned();
    let local = p["date_modified"].as_str().unwrap().to_owned();
    (id, gmt, local)
}

fn minus_one_second(ts: &str) -> String {
    let t = chrono::NaiveDateTime::parse_from_str(ts, "%Y-%m-%dT%H:%M:%S").unwrap()
        - chrono::TimeDelta::seconds(1);
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

#[tokio::test]
async fn sim_modified_after_is_exclusive_to_the_second_and_honours_dates_are_gmt() {
    let (sim, c) = spawn(SimConfig::default()).await;
    let (id, gmt, local) = touched_product(&sim, &c).await;
    let before_gmt = minus_one_second(&gmt);
    let before_local = minus_one_second(&local);
    let ids = |q: Vec<(&'static str, String)>| {
        let c = &c;
        async move {
            let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = c.get("products", &q).await;
            assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
            r.ids()
        }
    };
    let gmt_flag = |v: &str| {
        vec![
            ("modified_after", v.to_owned()),
            ("dates_are_gmt", "true".to_owned()),
        ]
    };
    assert!(
        ids(gmt_flag(&gmt)).await.is_empty(),
        "exclusive: the same second is not after"
    );
    assert_eq!(
        ids(gmt_flag(&before_gmt)).await,
        vec![id],
        "one second earlier finds it"
    );
    // Without the flag the value is site-local time (UTC+1 here).
    assert!(
        ids(vec![("modified_after", local.clone())])
            .await
            .is_empty()
    );
    assert_eq!(
        ids(vec![("modified_after", before_local.clone())]).await,
        vec![id]
    );
    // A GMT value without the flag is read as local: an hour earlier.
    assert!(
        ids(vec![("modified_after", gmt.clone())])
            .await
            .contains(&id)
    );
    // An explicit offset is honoured as written.
    assert!(
        ids(vec![("modified_after", format!("{gmt}Z"))])
            .await
            .is_empty()
    );
    assert_eq!(
        ids(vec![("modified_after", format!("{before_gmt}Z"))]).await,
        vec![id]
    );
    assert_eq!(
        ids(vec![("modified_after", format!("{before_local}+01:00"))]).await,
        vec![id]
    );
    // modified_before is exclusive too, and the filters combine.
    let both = ids(vec![
        ("modified_after", before_gmt.clone()),
        ("modified_before", gmt.clone()),
        ("dates_are_gmt", "true".to_owned()),
    ])
    .await;
    assert!(both.is_empty());
}

#[tokio::test]
async fn sim_trash_is_hidden_by_default_and_listed_by_status() {
    let (sim, c) = spawn(SimConfig::default()).await;
    let id = sim.product_ids(Some("publish"))[0];
    let sku = c.get(&format!("products/{id}"), &[]).await.json()["sku"]
        .as_str()
        .unwrap()
        .to_owned();
    sim.trash_product(id);

    let all = c.get_all("products", &[]).await;
    assert!(
        !all.iter().any(|p| p["id"] == id),
        "default status any excludes trash"
    );
    let trash = c.get_all("products", &[("status", "trash")]).await;
    assert!(trash.iter().any(|p| p["id"] == id));
    assert!(trash.iter().all(|p| p["status"] == "trash"));
    let drafts = c.get_all("products", &[("status", "draft")]).await;
    assert!(!drafts.is_empty() && drafts.iter().all(|p| p["status"] == "draft"));
    let no_drafts = c
        .get_all("products", &[("exclude_status", "draft,private")])
        .await;
    assert!(
        no_drafts
            .iter()
            .all(|p| p["status"] != "draft" && p["status"] != "private")
    );

    let p = c.get(&format!("products/{id}"), &[]).await;
    assert_eq!(p.status, 200, "a trashed product can still be read");
    let p = p.json();
    assert_eq!(p["status"], "trash");
    assert!(p["slug"].as_str().unwrap().ends_with("__trashed"));
    assert_eq!(
        p["permalink"],
        format!("{}/?post_type=product&p={id}", sim.url())
    );

    let by_sku = c.get("products", &[("sku", &sku)]).await;
    assert_eq!(by_sku.body, b"[]", "SKU lookup skips the trash");
    assert_eq!(by_sku.header("x-wp-totalpages").as_deref(), Some("0"));

    sim.delete_product(id);
    let gone = c.get(&format!("products/{id}"), &[]).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.json()["code"], "woocommerce_rest_product_invalid_id");
}

#[tokio::test]
async fn sim_orders_filter_by_status_list_and_hide_the_trash() {
    let (sim, c) = spawn(SimConfig {
        orders: 120,
        ..SimConfig::default()
    })
    .await;
    let open = c
        .get_all("orders", &[("status", "processing,on-hold")])
        .await;
    assert!(
        open.iter()
            .all(|o| o["status"] == "processing" || o["status"] == "on-hold")
    );
    let expected = sim.order_ids(Some("processing")).len() + sim.order_ids(Some("on-hold")).len();
    assert_eq!(open.len(), expected);
    let default = c.get_all("orders", &[]).await;
    assert_eq!(
        default.len(),
        sim.counts().orders - sim.counts().orders_trash
    );
}

#[tokio::test]
async fn sim_sku_lookup_finds_variations_with_their_parent() {
    let (sim, c) = spawn(SimConfig::default()).await;
    let vid = sim.variation_ids(None)[0];
    let v = c
        .get_all("variations", &[("include", &vid.to_string())])
        .await;
    let sku = v[0]["sku"].as_str().unwrap().to_owned();
    let parent = v[0]["parent_id"].as_i64().unwrap();
    let r = c.get("products", &[("sku", &sku)]).await.json();
    let found = r.as_array().unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], vid);
    assert_eq!(found[0]["type"], "variation");
    assert_eq!(found[0]["parent_id"], parent);
    let parent_name = c.get(&format!("products/{parent}"), &[]).await.json()["name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        found[0]["name"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{parent_name} - "))
    );
}

#[tokio::test]
async fn sim_fields_trim_objects_like_wordpress() {
    let (sim, c) = spawn(SimConfig::default()).await;
    let r = c
        .get("products", &[("_fields", "sku,id"), ("per_page", "3")])
        .await
        .json();
    for p in r.as_array().unwrap() {
        let keys: Vec<&String> = p.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "sku"], "object order, not request order");
    }
    // WordPress keeps only what was asked for: no `id` unless requested.
    let r = c
        .get("products", &[("_fields", "sku"), ("per_page", "3")])
        .await
        .json();
    assert!(
        r.as_array()
            .unwrap()
            .iter()
            .all(|p| p.as_object().unwrap().keys().eq(["sku"]))
    );
    let r = c
        .get("customers", &[("_fields", "id,billing.email")])
        .await
        .json();
    let first = r[0].as_object().unwrap();
    assert_eq!(first.keys().collect::<Vec<_>>(), ["id", "billing"]);
    assert_eq!(
        first["billing"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["email"]
    );
    // A single object keeps its links.
    let id = sim.product_ids(Some("publish"))[0];
    let p = c
        .get(&format!("products/{id}"), &[("_fields", "id")])
        .await
        .json();
    assert_eq!(
        p.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["id", "_links"]
    );
}

#[tokio::test]
async fn sim_include_selects_and_orders_by_the_given_ids() {
    let (sim, c) = spawn(SimConfig::default()).await;
    let ids = sim.product_ids(Some("publish"));
    let pick = [ids[5], ids[1], ids[9]];
    let list = format!("{},{},{}", pick[0], pick[1], pick[2]);
    let r = c
        .get("products", &[("include", &list), ("orderby", "include")])
        .await;
    assert_eq!(r.ids(), pick);
    let r = c
        .get(
            "products",
            &[("include", &list), ("orderby", "id"), ("order", "asc")],
        )
        .await;
    let mut sorted = pick.to_vec();
    sorted.sort_unstable();
    assert_eq!(r.ids(), sorted);
}

#[tokio::test]
async fn sim_customers_ignore_modified_after() {
    let (sim, c) = spawn(SimConfig::default()).await;
    let r = c
        .get(
            "customers",
            &[
                ("modified_after", "2999-01-01T00:00:00"),
                ("dates_are_gmt", "true"),
                ("per_page", "100"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.total(),
        sim.counts().customers,
        "a future date filters nothing"
    );
    let r = c.get("customers", &[("modified_after", "yesterday")]).await;
    assert_eq!(r.status, 200, "not even validated");
    let all = c
        .get("customers", &[("role", "all"), ("per_page", "100")])
        .await;
    assert_eq!(all.total(), sim.counts().users);
}

#[tokio::test]
async fn sim_optional_endpoints_answer_no_route_when_switched_off() {
    let (_sim, c) = spawn(SimConfig {
        variations_endpoint: false,
        refunds_endpoint: false,
        ..SimConfig::default()
    })
    .await;
    for route in ["variations", "refunds"] {
        let r = c.get(route, &[]).await;
        assert_eq!(r.status, 404);
        assert_eq!(r.json()["code"], "rest_no_route");
    }
    assert_eq!(c.get("products/categories", &[]).await.status, 200);
}

async fn product_list_json(seed: u64) -> Vec<u8> {
    let (_sim, mut c) = spawn(SimConfig {
        seed,
        home_url: Some("http://shop.test".to_owned()),
        ..SimConfig::default()
    })
    .await;
    c.signing_base = "http://shop.test".to_owned();
    let r = c
        .with_carrier(Carrier::Header)
        .get("products", &[("per_page", "100"), ("orderby", "id")])
        .await;
    assert_eq!(r.status, 200);
    r.body
}

#[tokio::test]
async fn sim_same_seed_gives_identical_json_and_another_seed_differs() {
    let a = product_list_json(42).await;
    let b = product_list_json(42).await;
    let other = product_list_json(43).await;
    assert_eq!(a, b);
    assert_ne!(a, other);
}

#[tokio::test]
async fn sim_generates_the_catalogue_mix_a_real_store_has() {
    let (sim, c) = spawn(SimConfig {
        products: 400,
        orders: 300,
        ..SimConfig::default()
    })
    .await;
    let counts = sim.counts();
    let products = c.get_all("products", &[("status", "any")]).await;
    let types: BTreeSet<&str> = products
        .iter()
        .map(|p| p["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        BTreeSet::from(["external", "grouped", "simple", "variable"])
    );
    assert!(counts.products_variable * 100 / counts.products >= 15);
    let skus: BTreeSet<&str> = products
        .iter()
        .map(|p| p["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus.len(), products.len(), "unique SKUs");
    assert!(products.iter().any(|p| p["on_sale"] == true));
    assert!(products.iter().any(|p| p["stock_status"] == "outofstock"));
    assert!(products.iter().any(|p| p["stock_status"] == "onbackorder"));
    assert!(
        products
            .iter()
            .any(|p| p["global_unique_id"].as_str().unwrap().len() == 13)
    );
    let orders = c.get_all("orders", &[]).await;
    assert!(orders.iter().any(|o| o["customer_id"] == 0), "guest orders");
    assert!(orders.iter().any(|o| {
        o["status"] == "processing"
            && o["shipping_lines"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["method_id"] == "local_pickup")
    }));
    assert!(!c.get_all("refunds", &[]).await.is_empty());
}

#[tokio::test]
async fn sim_routes_match_case_insensitively_and_ignore_a_trailing_slash() {
    let (_sim, c) = spawn(SimConfig::default()).await;
    assert_eq!(c.get("PRODUCTS/", &[("per_page", "1")]).await.status, 200);
    assert_eq!(c.get("products/categories/", &[]).await.status, 200);
}

#[tokio::test]
async fn sim_variation_changes_also_touch_the_parent() {
    let (sim, c) = spawn(SimConfig::default()).await;
    let vid = sim.variation_ids(None)[0];
    let v = c
        .get_all("variations", &[("include", &vid.to_string())])
        .await;
    let parent = v[0]["parent_id"].as_i64().unwrap();
    let before =
        c.get(&format!("products/{parent}"), &[]).await.json()["date_modified_gmt"].clone();
    sim.set_clock_offset(120);
    sim.set_product_price(vid, "99.00");
    sim.set_clock_offset(0);
    let after = c.get(&format!("products/{parent}"), &[]).await.json();
    assert_ne!(
        after["date_modified_gmt"], before,
        "WC_Product_Variable::sync saves the parent"
    );
    let variation = c
        .get(&format!("products/{parent}/variations/{vid}"), &[])
        .await
        .json();
    assert_eq!(variation["regular_price"], "99.00");
    assert_eq!(variation["date_modified_gmt"], after["date_modified_gmt"]);
}

#[tokio::test]
async fn sim_shutdown_completes_with_an_idle_keep_alive_connection() {
    let (sim, c) = spawn(SimConfig::default()).await;
    assert_eq!(c.get("products", &[("per_page", "1")]).await.status, 200);
    let done = tokio::time::timeout(std::time::Duration::from_secs(10), sim.shutdown()).await;
    assert!(done.is_ok(), "shutdown waits for in-flight work only");
}
