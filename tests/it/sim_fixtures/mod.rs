//! The simulated store against the captures of a real WooCommerce 11.0.1
//! (`tests/fixtures/woocommerce/rest`): same field names, order and JSON
//! types per resource, same headers, same error bodies.

pub(crate) mod shape;

use std::collections::BTreeSet;

use possync_sim::woo::{Sim, SimConfig, SimHandle};
use serde_json::{Value, json};

use self::shape::{assert_same_shape, captured, items, load, load_headers};
use crate::sim_client::{Carrier, Reply, SimClient};

/// The host the captures were taken from.
const CAPTURED_HOME: &str = "https://127.0.0.1:8443";

async fn big_sim() -> (SimHandle, SimClient) {
    let sim = Sim::spawn(SimConfig {
        products: 300,
        customers: 40,
        orders: 250,
        ..SimConfig::default()
    })
    .await
    .expect("sim spawns");
    let client = SimClient::new(&sim);
    (sim, client)
}

#[tokio::test]
async fn sim_products_and_variations_have_the_captured_shape() {
    let (_sim, c) = big_sim().await;
    let mut products = c.get_all("products", &[("status", "any")]).await;
    products.extend(c.get_all("products", &[("status", "trash")]).await);
    let variations = c.get_all("variations", &[]).await;
    let skus: Vec<String> = variations
        .iter()
        .take(8)
        .map(|v| v["sku"].as_str().unwrap().to_owned())
        .collect();
    let by_sku = c.get("products", &[("sku", &skus.join(","))]).await.json();
    assert_eq!(
        by_sku.as_array().unwrap().len(),
        8,
        "variation SKUs are found through /products"
    );
    products.extend(items(by_sku));
    let view_caps = captured(&[
        "products_per100_all",
        "product_simple",
        "product_variable",
        "products_page1_per5",
        "products_page2_per5",
        "products_by_sku",
        "products_by_variation_sku",
        "get_trashed_product",
        "list_products_status_trash",
        // Not the PUT/DELETE responses: they are `context=edit`, which
        // adds `generated_slug` and `permalink_template`.
    ]);
    let extra = [
        // Arrays the captured store never filled.
        (".upsell_ids[]", "int"),
        (".grouped_products[]", "int"),
    ];
    assert_same_shape("products", &view_caps, &products, &[], &extra);
    // `context=edit` adds what the PUT and DELETE responses show.
    let mut edit = c
        .get_all("products", &[("status", "any"), ("context", "edit")])
        .await;
    let edit_skus = c
        .get("products", &[("sku", &skus.join(",")), ("context", "edit")])
        .await;
    edit.extend(items(edit_skus.json()));
    let mut edit_caps = view_caps.clone();
    edit_caps.extend(captured(&[
        "event_product_update_response",
        "delete_product_trash_response",
        "delete_product_force_response",
    ]));
    assert_same_shape("products (edit)", &edit_caps, &edit, &[], &extra);
    // Variations are products in WooCommerce: a field the captured
    // variations only showed in one state takes the product's types.
    let mut var_caps = captured(&[
        "product_variable_variations",
        "product_variation_single",
        "event_variation_update_response",
    ]);
    var_caps.push(json!({
        "date_on_sale_from": "2026-11-01T01:00:00", "date_on_sale_from_gmt": "2026-11-01T00:00:00",
        "date_on_sale_to": "2027-01-01T00:59:59", "date_on_sale_to_gmt": "2026-12-31T23:59:59",
        "low_stock_amount": 5
    }));
    assert_same_shape("variations", &var_caps, &variations, &[], &[]);
}

#[tokio::test]
async fn sim_taxonomies_have_the_captured_shape() {
    let (_sim, c) = big_sim().await;
    let cats = c.get_all("products/categories", &[]).await;
    assert_same_shape(
        "categories",
        &captured(&["products_categories"]),
        &cats,
        &[],
        &[],
    );
    let tags = c.get_all("products/tags", &[]).await;
    assert_same_shape("tags", &captured(&["products_tags"]), &tags, &[], &[]);
    let attrs = items(c.get("products/attributes", &[]).await.json());
    assert_same_shape(
        "attributes",
        &captured(&["products_attributes"]),
        &attrs,
        &[],
        &[],
    );
    let mut terms = c.get_all("products/attributes/1/terms", &[]).await;
    terms.extend(c.get_all("products/attributes/2/terms", &[]).await);
    let caps = captured(&[
        "products_attribute_size_terms",
        "products_attribute_colour_terms",
    ]);
    assert_same_shape("attribute terms", &caps, &terms, &[], &[]);
}

#[tokio::test]
async fn sim_customers_have_the_captured_shape() {
    let (_sim, c) = big_sim().await;
    let customers = c.get_all("customers", &[("role", "all")]).await;
    let caps = captured(&[
        "customers",
        "customer_single",
        "delete_customer_force_response",
    ]);
    assert_same_shape("customers", &caps, &customers, &[], &[]);
}

#[tokio::test]
async fn sim_orders_and_refunds_have_the_captured_shape() {
    let (sim, c) = big_sim().await;
    let mut orders = c.get_all("orders", &[]).await;
    orders.extend(c.get_all("orders", &[("status", "trash")]).await);
    assert_same_shape(
        "orders",
        &captured(&[
            "orders",
            "order_single_with_refund",
            "order_event_created",
            "orders_modified_orderby",
            "get_trashed_order",
            "event_order_create_response",
            "delete_order_trash_response",
            "delete_order_force_response",
        ]),
        &orders,
        &[],
        &[],
    );
    let mut refunds = Vec::new();
    for order in orders
        .iter()
        .filter(|o| !o["refunds"].as_array().unwrap().is_empty())
    {
        let id = order["id"].as_i64().unwrap();
        refunds.extend(c.get_all(&format!("orders/{id}/refunds"), &[]).await);
    }
    assert_eq!(
        refunds.len(),
        sim.refund_ids().len(),
        "every refund is listed under its order"
    );
    // Refund lines are order items printed by the same code as order lines;
    // the captured orders show the other types their fields take.
    let mut caps = captured(&[
        "order_refund_single",
        "order_refunds",
        "event_refund_create_response",
    ]);
    let order_caps = captured(&["orders", "order_single_with_refund", "order_event_created"]);
    let order_lines: Vec<Value> = order_caps
        .iter()
        .flat_map(|o| items(o["line_items"].clone()))
        .collect();
    let order_taxes: Vec<Value> = order_caps
        .iter()
        .flat_map(|o| items(o["tax_lines"].clone()))
        .collect();
    caps.push(json!({ "line_items": order_lines, "tax_lines": order_taxes }));
    assert_same_shape("order refunds", &caps, &refunds, &[], &[]);
    let flat = c.get_all("refunds", &[]).await;
    let mut caps = captured(&["refunds_all"]);
    caps.push(json!({ "line_items": order_lines, "tax_lines": order_taxes }));
    assert_same_shape("flat refunds", &caps, &flat, &[], &[]);
}

#[tokio::test]
async fn sim_store_configuration_has_the_captured_shape() {
    let (_sim, c) = big_sim().await;
    let get = |route: &'static str| {
        let c = &c;
        async move {
            let r = c.get(route, &[]).await;
            assert_eq!(
                r.status,
                200,
                "{route}: {}",
                String::from_utf8_lossy(&r.body)
            );
            items(r.json())
        }
    };
    assert_same_shape(
        "taxes",
        &captured(&["taxes"]),
        &c.get_all("taxes", &[]).await,
        &[],
        &[],
    );
    assert_same_shape(
        "tax classes",
        &captured(&["taxes_classes"]),
        &get("taxes/classes").await,
        &[],
        &[],
    );
    let mut zones = get("shipping/zones").await;
    zones.extend(get("shipping/zones/1").await);
    assert_same_shape(
        "zones",
        &captured(&["shipping_zones", "shipping_zone_single"]),
        &zones,
        &[],
        &[],
    );
    let mut locations = get("shipping/zones/1/locations").await;
    locations.extend(get("shipping/zones/2/locations").await);
    assert_same_shape(
        "zone locations",
        &captured(&["shipping_zone_locations"]),
        &locations,
        &[],
        &[],
    );
    let methods = get("shipping/zones/1/methods").await;
    assert_same_shape(
        "zone methods",
        &captured(&["shipping_zone_methods"]),
        &methods,
        &[],
        &[],
    );
    let gateways = get("payment_gateways").await;
    assert_same_shape(
        "gateways",
        &captured(&["payment_gateways"]),
        &gateways,
        &[],
        &[],
    );
    assert_same_shape(
        "settings groups",
        &captured(&["settings_groups"]),
        &get("settings").await,
        &[],
        &[],
    );
    for group in ["general", "tax", "products"] {
        let route: &'static str = match group {
            "general" => "settings/general",
            "tax" => "settings/tax",
            _ => "settings/products",
        };
        let caps = captured(&[&format!("settings_{group}")]);
        assert_same_shape(route, &caps, &get(route).await, &[".options"], &[]);
    }
    let mut countries = get("data/countries").await;
    countries.extend(get("data/countries/gb").await);
    let caps = captured(&["data_countries_trimmed", "data_country_gb"]);
    assert_same_shape("countries", &caps, &countries, &[], &[]);
    let currency = get("data/currencies/current").await;
    assert_same_shape(
        "currency",
        &captured(&["data_currencies_current"]),
        &currency,
        &[],
        &[],
    );
    let status = get("system_status").await;
    assert_same_shape(
        "system status",
        &captured(&["system_status_trimmed"]),
        &status,
        &[],
        &[],
    );
    assert_eq!(status[0]["environment"]["version"], "11.0.1");
}

/// Headers that are the same on every response of a kind.
const STABLE: &[&str] = &[
    "x-robots-tag",
    "x-content-type-options",
    "access-control-expose-headers",
    "access-control-allow-headers",
    "allow",
    "expires",
    "cache-control",
    "vary",
    "content-type",
];

/// Hop-by-hop and server-specific headers left out of comparisons.
const IGNORED: &[&str] = &[
    "date",
    "server",
    "keep-alive",
    "connection",
    "content-length",
    "transfer-encoding",
];

fn assert_headers_like(name: &str, reply: &Reply, home: &str) {
    let (status, cap) = load_headers(name);
    assert_eq!(reply.status, status, "{name}: status");
    let cap_names: BTreeSet<&str> = cap
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !IGNORED.contains(k))
        .collect();
    let sim_names: BTreeSet<&str> = reply
        .headers
        .keys()
        .map(|k| k.as_str())
        .filter(|k| !IGNORED.contains(k))
        .collect();
    assert_eq!(sim_names, cap_names, "{name}: header names");
    for (k, v) in &cap {
        if STABLE.contains(&k.as_str()) {
            assert_eq!(reply.header(k).as_deref(), Some(v.as_str()), "{name}: {k}");
        }
        if k == "link" && !v.contains("page=") {
            assert_eq!(
                reply.header(k),
                Some(v.replace(CAPTURED_HOME, home)),
                "{name}: link"
            );
        }
    }
}

#[tokio::test]
async fn sim_collection_headers_and_links_match_the_captures() {
    let sim = Sim::spawn(SimConfig::default()).await.expect("sim spawns");
    let c = SimClient::new(&sim).with_carrier(Carrier::Header);
    let home = sim.url();

    let first = c.get("products", &[("per_page", "5")]).await;
    assert_headers_like("products_page1_per5", &first, &home);
    let pages: usize = first.header("x-wp-totalpages").unwrap().parse().unwrap();
    assert_eq!(pages, first.total().div_ceil(5));
    assert!(pages > 2, "enough products for a middle page");
    let (_, cap) = load_headers("products_page1_per5");
    let cap_link = cap
        .iter()
        .find(|(k, _)| k == "link")
        .unwrap()
        .1
        .replace(CAPTURED_HOME, &home);
    assert_eq!(
        first.header("link").unwrap(),
        cap_link,
        "first page: next only"
    );

    let middle = c.get("products", &[("per_page", "5"), ("page", "2")]).await;
    assert_headers_like("products_page2_per5", &middle, &home);
    let (_, cap) = load_headers("products_page2_per5");
    let cap_link = cap
        .iter()
        .find(|(k, _)| k == "link")
        .unwrap()
        .1
        .replace(CAPTURED_HOME, &home);
    assert_eq!(
        middle.header("link").unwrap(),
        cap_link,
        "middle page: prev and next"
    );

    let beyond = (pages + 1).to_string();
    let past = c
        .get("products", &[("per_page", "5"), ("page", &beyond)])
        .await;
    assert_headers_like("products_page6_per5_beyond_last", &past, &home);
    assert_eq!(past.body, b"[]", "past the end is 200 []");
    assert_eq!(
        past.total(),
        first.total(),
        "totals stay correct past the end"
    );
    assert_eq!(
        past.header("link").unwrap(),
        format!("<{home}/wp-json/wc/v3/products?per_page=5&page={pages}>; rel=\"prev\""),
        "past the end: prev only, to the last page"
    );

    let one = c
        .get(
            "products",
            &[("per_page", "100"), ("orderby", "id"), ("order", "asc")],
        )
        .await;
    assert_headers_like("products_per100_all", &one, &home);
    assert_eq!(
        one.header("link").unwrap(),
        format!("<{home}/wp-json/>; rel=\"https://api.w.org/\"")
    );
    assert_eq!(one.header("x-wp-totalpages").as_deref(), Some("1"));

    let single = c.get(&format!("products/{}", one.ids()[0]), &[]).await;
    assert_headers_like("product_simple", &single, &home);
}

#[tokio::test]
async fn sim_orders_link_carries_the_parameters_woocommerce_adds() {
    let sim = Sim::spawn(SimConfig::default()).await.expect("sim spawns");
    let c = SimClient::new(&sim).with_carrier(Carrier::Header);
    let home = sim.url();
    let r = c
        .get(
            "orders",
            &[("orderby", "modified"), ("order", "asc"), ("per_page", "3")],
        )
        .await;
    let (_, cap) = load_headers("orders_modified_orderby");
    let cap_link = cap
        .iter()
        .find(|(k, _)| k == "link")
        .unwrap()
        .1
        .replace(CAPTURED_HOME, &home);
    assert_eq!(r.header("link").unwrap(), cap_link);
}

fn assert_body(reply: Reply, fixture: &str) {
    assert_eq!(reply.json(), load(fixture), "{fixture}: body");
}

#[tokio::test]
async fn sim_error_bodies_are_the_captured_ones() {
    let sim = Sim::spawn(SimConfig::default()).await.expect("sim spawns");
    let c = SimClient::new(&sim).with_carrier(Carrier::Header);
    let home = sim.url();
    for (query, fixture) in [
        (("per_page", "101"), "err_400_per_page_101"),
        (("per_page", "500"), "err_400_per_page_500"),
        (
            ("modified_after", "yesterday"),
            "err_400_bad_modified_after",
        ),
    ] {
        let r = c.get("products", &[query]).await;
        assert_headers_like(fixture, &r, &home);
        assert_body(r, fixture);
    }
    let r = c.get("orders", &[("status", "bogus")]).await;
    assert_headers_like("err_400_invalid_status", &r, &home);
    assert_body(r, "err_400_invalid_status");
    let r = c.get("products/999999", &[]).await;
    assert_headers_like("err_404_unknown_product", &r, &home);
    assert_body(r, "err_404_unknown_product");
    let r = c.get("orders/999999", &[]).await;
    assert_headers_like("err_404_unknown_order", &r, &home);
    assert_body(r, "err_404_unknown_order");
    let r = c.get("nosuchthing", &[]).await;
    assert_headers_like("err_404_unknown_route", &r, &home);
    assert_body(r, "err_404_unknown_route");
}

#[tokio::test]
async fn sim_credentials_errors_are_the_captured_ones_over_http() {
    let sim = Sim::spawn(SimConfig::default()).await.expect("sim spawns");
    let c = SimClient::new(&sim);
    let home = sim.url();

    let r = c.get_anonymous("products", &[]).await;
    assert_headers_like("err_401_no_auth", &r, &home);
    assert_body(r, "err_401_no_auth");
    let r = c.get_anonymous("orders", &[]).await;
    assert_headers_like("err_401_no_auth_orders", &r, &home);
    assert_body(r, "err_401_no_auth_orders");

    // Basic credentials over plain HTTP are ignored: an anonymous request.
    let url = format!("{home}/wp-json/wc/v3/products?per_page=1&_fields=id");
    let r = c
        .http
        .get(&url)
        .basic_auth(sim.consumer_key(), Some(sim.consumer_secret()))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 401);
    assert_eq!(body, load("auth_basic_over_plain_http_8088"));

    // Over HTTP a wrong secret is a signature mismatch, not the HTTPS
    // "Consumer secret is invalid." of err_401_bad_secret.
    let mut wrong = SimClient::new(&sim);
    wrong.secret = "cs_wrong".to_owned();
    let r = wrong.get("products", &[]).await;
    assert_headers_like("err_401_bad_secret", &r, &home);
    assert_eq!(
        r.json(),
        json!({"code": "woocommerce_rest_authentication_error",
               "message": "Invalid signature - provided signature does not match.",
               "data": {"status": 401}})
    );
    // An unknown key is named as such over HTTP (over HTTPS it is anonymous).
    let mut unknown = SimClient::new(&sim);
    unknown.key = "ck_0000000000000000000000000000000000000000".to_owned();
    let r = unknown.get("products", &[]).await;
    assert_headers_like("err_401_bad_key", &r, &home);
    assert_eq!(
        r.json(),
        json!({"code": "woocommerce_rest_authentication_error", "message": "Consumer key is invalid.", "data": {"status": 401}})
    );
}
