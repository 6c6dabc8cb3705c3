//! Behaviour of the simulated store that clients depend on: paging, delta
//! filters, statuses, lookups, OAuth, faults and determinism.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use possync::sim::{FaultKind, FaultRule, Sim, SimConfig, SimHandle};
use possync::upstream::woo::auth::{SignatureMethod, new_nonce};
use serde_json::Value;

use crate::sim_client::{Carrier, SimClient, now_unix};

async fn spawn(config: SimConfig) -> (SimHandle, SimClient) {
    let sim = Sim::spawn(config).await.expect("sim spawns");
    let client = SimClient::new(&sim);
    (sim, client)
}

fn error_message(reply: &crate::sim_client::Reply) -> String {
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
async fn sim_accepts_valid_oauth_in_query_or_header_with_either_hmac() {
    let (_sim, c) = spawn(SimConfig::default()).await;
    assert_eq!(c.get("products", &[("per_page", "1")]).await.status, 200);
    let mut h = c.with_carrier(Carrier::Header);
    assert_eq!(h.get("products", &[("per_page", "1")]).await.status, 200);
    h.method = SignatureMethod::HmacSha1;
    assert_eq!(
        h.get("orders", &[("status", "completed")]).await.status,
        200
    );
}

#[tokio::test]
async fn sim_refuses_a_reused_nonce() {
    let (_sim, c) = spawn(SimConfig::default()).await;
    let (url, _) = c.signed("products", &[("per_page", "1")], now_unix(), &new_nonce());
    assert_eq!(c.send(&url, None).await.status, 200);
    let again = c.send(&url, None).await;
    assert_eq!(again.status, 401);
    assert_eq!(
        error_message(&again),
        "Invalid nonce - nonce has already been used."
    );
}

#[tokio::test]
async fn sim_refuses_timestamps_outside_fifteen_minutes_of_its_clock() {
    let (sim, c) = spawn(SimConfig::default()).await;
    let (url, _) = c.signed("products", &[], now_unix() - 16 * 60, &new_nonce());
    let r = c.send(&url, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(error_message(&r), "Invalid timestamp.");
    assert!(r.header("www-authenticate").is_none());
    // The store's clock decides: an hour ahead, "now" is stale.
    sim.set_clock_offset(3600);
    let r = c.get("products", &[]).await;
    assert_eq!(error_message(&r), "Invalid timestamp.");
    let (url, _) = c.signed("products", &[], now_unix() + 3600, &new_nonce());
    assert_eq!(c.send(&url, None).await.status, 200);
}

#[tokio::test]
async fn sim_refuses_a_wrong_secret_and_partial_oauth() {
    let (sim, c) = spawn(SimConfig::default()).await;
    let mut wrong = SimClient::new(&sim);
    wrong.secret.push('x');
    let r = wrong.get("products", &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        error_message(&r),
        "Invalid signature - provided signature does not match."
    );
    let (url, _) = c.signed("products", &[], now_unix(), &new_nonce());
    let partial = url
        .split('&')
        .filter(|p| !p.starts_with("oauth_signature=") && !p.starts_with("oauth_nonce="))
        .collect::<Vec<_>>()
        .join("&");
    let r = c.send(&partial, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json()["code"],
        "woocommerce_rest_authentication_missing_parameter"
    );
    assert_eq!(
        error_message(&r),
        "Missing OAuth parameters oauth_nonce, oauth_signature"
    );
}

#[tokio::test]
async fn sim_checks_signatures_against_its_home_url_not_the_reached_address() {
    let (sim, mut c) = spawn(SimConfig {
        home_url: Some("https://shop.example.test:8443".to_owned()),
        ..SimConfig::default()
    })
    .await;
    // Signed for what the reached server is: refused.
    let r = c.get("products", &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        error_message(&r),
        "Invalid signature - provided signature does not match."
    );
    // Signed for the request's scheme with the home URL's host and port.
    c.signing_base = "http://shop.example.test:8443".to_owned();
    let r = c.get("products", &[("per_page", "1")]).await;
    assert_eq!(r.status, 200);
    assert!(
        r.json()[0]["permalink"]
            .as_str()
            .unwrap()
            .starts_with("https://shop.example.test:8443/")
    );
    drop(sim);
}

#[tokio::test]
async fn sim_faults_are_observable_at_the_client() {
    let (sim, c) = spawn(SimConfig::default()).await;
    let inject = |fault: FaultKind| {
        sim.inject(FaultRule {
            path_contains: Some("/products".to_owned()),
            fault,
            times: 1,
        })
    };

    inject(FaultKind::ServerError);
    let r = c.get("products", &[]).await;
    assert_eq!(r.status, 500);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(String::from_utf8_lossy(&r.body).contains("critical error"));

    inject(FaultKind::BadGateway);
    let r = c.get("products", &[]).await;
    assert!(r.status == 502 || r.status == 503, "{}", r.status);
    assert!(String::from_utf8_lossy(&r.body).contains("nginx"));

    inject(FaultKind::TooManyRequests {
        retry_after_secs: 7,
    });
    let r = c.get("products", &[]).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after").as_deref(), Some("7"));

    inject(FaultKind::HtmlBeforeJson);
    let r = c.get("products", &[("per_page", "2")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json; charset=UTF-8")
    );
    assert!(
        serde_json::from_slice::<Value>(&r.body).is_err(),
        "not parseable as JSON"
    );
    let text = String::from_utf8_lossy(&r.body);
    let json_start = text.find("[{").expect("the real JSON follows the notice");
    assert!(text.starts_with("<br />"));
    assert!(serde_json::from_str::<Value>(&text[json_start..]).is_ok());

    inject(FaultKind::Truncated);
    let (url, _) = c.signed("products", &[], now_unix(), &new_nonce());
    let resp = c.http.get(&url).send().await.expect("headers arrive");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.bytes().await.is_err(), "the body is cut short");

    inject(FaultKind::Reset);
    let (url, _) = c.signed("products", &[], now_unix(), &new_nonce());
    assert!(c.http.get(&url).send().await.is_err(), "no response at all");

    // The next request is served normally, and each fault was recorded.
    assert_eq!(c.get("products", &[]).await.status, 200);
    let faults: Vec<Option<FaultKind>> = sim.requests().into_iter().map(|r| r.fault).collect();
    assert_eq!(
        faults,
        vec![
            Some(FaultKind::ServerError),
            Some(FaultKind::BadGateway),
            Some(FaultKind::TooManyRequests {
                retry_after_secs: 7
            }),
            Some(FaultKind::HtmlBeforeJson),
            Some(FaultKind::Truncated),
            Some(FaultKind::Reset),
            None,
        ]
    );
    let statuses: Vec<u16> = sim.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses[4..], [200, 0, 200]);
}

#[tokio::test]
async fn sim_faults_before_the_store_leave_the_nonce_unused_and_after_it_use_it() {
    let (sim, c) = spawn(SimConfig::default()).await;
    sim.inject(FaultRule {
        path_contains: None,
        fault: FaultKind::BadGateway,
        times: 1,
    });
    let (url, _) = c.signed("products", &[], now_unix(), &new_nonce());
    assert!(c.send(&url, None).await.status >= 502);
    assert_eq!(
        c.send(&url, None).await.status,
        200,
        "the proxy error never reached the store"
    );
    sim.inject(FaultRule {
        path_contains: None,
        fault: FaultKind::Reset,
        times: 1,
    });
    let (url, _) = c.signed("products", &[], now_unix(), &new_nonce());
    assert!(c.http.get(&url).send().await.is_err());
    let r = c.send(&url, None).await;
    assert_eq!(
        error_message(&r),
        "Invalid nonce - nonce has already been used.",
        "the store had processed it"
    );
}

#[tokio::test]
async fn sim_fail_rate_and_latency_apply_to_every_request() {
    let (sim, c) = spawn(SimConfig::default()).await;
    sim.set_fail_rate(
        1.0,
        vec![FaultKind::TooManyRequests {
            retry_after_secs: 1,
        }],
    );
    assert_eq!(c.get("products", &[]).await.status, 429);
    sim.set_fail_rate(0.0, vec![]);
    assert_eq!(c.get("products", &[]).await.status, 200);
    sim.set_latency(Duration::from_millis(150));
    let started = Instant::now();
    assert_eq!(c.get("products", &[]).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
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
