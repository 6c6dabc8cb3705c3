//! REST writes against the simulated store, over HTTP with OAuth, compared
//! with the captured answers of a real WooCommerce 11.0.1 where one exists:
//! products and variations here; customers, orders and refunds, webhooks
//! and faults in the submodules.

mod customers;
mod faults;
mod orders;
mod receiver;
mod webhooks;

use possync_sim::woo::{Sim, SimConfig, SimHandle};
use serde_json::{Value, json};

use crate::sim_client::{SimClient, now_unix};
use crate::sim_fixtures::shape::{assert_same_shape, captured, load};

pub(crate) async fn spawn() -> (SimHandle, SimClient) {
    let sim = Sim::spawn(SimConfig::default()).await.expect("sim spawns");
    let client = SimClient::new(&sim);
    (sim, client)
}

/// `date_modified_gmt` of a JSON object, as Unix seconds.
pub(crate) fn modified_unix(v: &Value) -> i64 {
    let s = v["date_modified_gmt"].as_str().expect("date_modified_gmt");
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
        .expect("a WooCommerce date")
        .and_utc()
        .timestamp()
}

#[tokio::test]
async fn sim_product_create_update_trash_and_delete_answer_like_woocommerce() {
    let (sim, c) = spawn().await;
    // Ten minutes ahead: inside the OAuth window, and recognisable.
    sim.set_clock_offset(600);

    let r = c
        .write(
            "POST",
            "products",
            Some(
                &json!({"name": "Till Mug", "sku": "TILL-MUG", "regular_price": "9.50",
                         "manage_stock": true, "stock_quantity": 12,
                         "meta_data": [{"key": "possync_key", "value": "k-1"}]}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let created = r.json();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        r.header("location").as_deref(),
        Some(format!("{}/wp-json/wc/v3/products/{id}", sim.url()).as_str())
    );
    assert_eq!(created["stock_quantity"], 12);
    assert_eq!(created["price"], "9.50");
    assert_eq!(created["meta_data"][0]["key"], "possync_key");
    assert!(
        modified_unix(&created) >= now_unix() as i64 + 500,
        "the sim clock stamps it"
    );

    let r = c
        .write(
            "PUT",
            &format!("products/{id}"),
            Some(&json!({"stock_quantity": 55, "regular_price": "3.40", "date_created": "2001-01-01T00:00:00"})),
        )
        .await;
    assert_eq!(r.status, 200);
    let updated = r.json();
    assert_eq!(updated["stock_quantity"], 55);
    assert_eq!(updated["price"], "3.40");
    assert_eq!(
        updated["date_created"], created["date_created"],
        "read-only"
    );
    // A seeded product with tags and related products, changed too.
    let seeded = sim
        .product_ids(Some("publish"))
        .into_iter()
        .find(|p| {
            let v = sim.product(*p).unwrap();
            v["type"] == "simple" && v["tags"] != json!([]) && v["related_ids"] != json!([])
        })
        .expect("a tagged product");
    let r = c
        .write(
            "PUT",
            &format!("products/{seeded}"),
            Some(&json!({"name": "Renamed"})),
        )
        .await;
    assert_eq!(r.json()["name"], "Renamed");
    let edit_caps = captured(&[
        "event_product_update_response",
        "delete_product_trash_response",
        "delete_product_force_response",
    ]);
    let extra = [
        (".upsell_ids[]", "int"),
        (".grouped_products[]", "int"),
        (".related_ids[]", "int"),
    ];
    assert_same_shape(
        "product writes",
        &edit_caps,
        &[created.clone(), updated.clone(), r.json()],
        &[],
        &extra,
    );
    assert_eq!(sim.product(id).unwrap()["stock_quantity"], 55);
    assert_eq!(sim.product_stock(id), Some(55));

    // Trash: the answer is the product as it was; a second trash is 410.
    let r = c.write("DELETE", &format!("products/{id}"), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "publish");
    assert_eq!(
        c.get(&format!("products/{id}"), &[]).await.json()["status"],
        "trash"
    );
    let r = c.write("DELETE", &format!("products/{id}"), None).await;
    assert_eq!(r.status, 410);
    assert_eq!(r.json()["code"], "woocommerce_rest_already_trashed");
    assert!(sim.restore_product(id));
    assert_eq!(sim.product(id).unwrap()["status"], "publish");

    let r = c
        .try_write(
            "DELETE",
            &format!("products/{id}"),
            &[("force", "true")],
            None,
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let r = c.get(&format!("products/{id}"), &[]).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json(), load("get_force_deleted_product"));
}

#[tokio::test]
async fn sim_duplicate_sku_and_bad_input_are_refused_like_woocommerce() {
    let (sim, c) = spawn().await;
    let holder = sim.product_ids(Some("publish"))[0];
    let sku = sim.product(holder).unwrap()["sku"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = c
        .write(
            "POST",
            "products",
            Some(&json!({"name": "Dup", "sku": sku, "regular_price": "1"})),
        )
        .await;
    assert_eq!(r.status, 400);
    let body = r.json();
    let cap = load("err_400_duplicate_sku");
    assert_eq!(body["code"], cap["code"]);
    assert_eq!(body["message"], cap["message"]);
    assert_eq!(body["data"]["resource_id"], holder);
    assert_eq!(body["data"]["unique_sku"], format!("{sku}-1"));
    assert_eq!(
        body["data"].as_object().unwrap().keys().collect::<Vec<_>>(),
        cap["data"].as_object().unwrap().keys().collect::<Vec<_>>()
    );

    let r = c
        .write(
            "PUT",
            &format!("products/{holder}"),
            Some(&json!({"stock_quantity": "lots", "regular_price": 5})),
        )
        .await;
    assert_eq!(r.status, 400);
    let body = r.json();
    assert_eq!(body["code"], "rest_invalid_param");
    assert_eq!(
        body["data"]["params"]["stock_quantity"],
        "stock_quantity is not of type integer."
    );
    assert_eq!(
        body["data"]["params"]["regular_price"],
        "regular_price is not of type string."
    );

    let url = format!("{}/wp-json/wc/v3/products/{holder}", sim.url());
    let anonymous = c
        .http
        .put(&url)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);

    let r = c
        .write("PUT", "products/999999", Some(&json!({"name": "x"})))
        .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (400, json!("woocommerce_rest_product_invalid_id"))
    );
}

#[tokio::test]
async fn sim_variation_writes_sync_the_parent_and_trash_like_products() {
    let (sim, c) = spawn().await;
    sim.set_clock_offset(300);
    let vid = sim.variation_ids(None)[0];
    let parent = sim.variation(vid).unwrap()["parent_id"].as_i64().unwrap();
    let route = format!("products/{parent}/variations/{vid}");
    let r = c
        .write("PUT", &route, Some(&json!({"stock_quantity": 9})))
        .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["stock_quantity"], 9);
    assert_same_shape(
        "variation update",
        &captured(&[
            "event_variation_update_response",
            "product_variation_single",
        ]),
        std::slice::from_ref(&v),
        &[],
        &[],
    );
    assert_eq!(
        modified_unix(&sim.product(parent).unwrap()),
        modified_unix(&v),
        "the parent is saved with its variation"
    );
    let other = sim
        .variation_ids(None)
        .into_iter()
        .find(|i| sim.variation(*i).unwrap()["parent_id"] != parent)
        .unwrap();
    let r = c
        .write(
            "PUT",
            &format!("products/{parent}/variations/{other}"),
            Some(&json!({"sku": "X"})),
        )
        .await;
    assert_eq!(r.status, 403, "a variation of another parent");

    let r = c.write("DELETE", &route, None).await;
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (200, json!("publish"))
    );
    assert_eq!(sim.variation(vid).unwrap()["status"], "trash");
    assert_eq!(c.write("DELETE", &route, None).await.status, 410);
    let r = c
        .try_write("DELETE", &route, &[("force", "true")], None)
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(sim.variation(vid).is_none());
    assert!(
        !sim.product(parent).unwrap()["variations"]
            .as_array()
            .unwrap()
            .contains(&json!(vid))
    );

    let r = c
        .write("POST", &format!("products/{parent}/variations"), Some(&json!({"sku": "NEW-VAR", "regular_price": "7.00", "manage_stock": true, "stock_quantity": 4})))
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let new_id = r.json()["id"].as_i64().unwrap();
    assert!(
        sim.product(parent).unwrap()["variations"]
            .as_array()
            .unwrap()
            .contains(&json!(new_id))
    );
    let by_sku = c.get("products", &[("sku", "NEW-VAR")]).await.ids();
    assert_eq!(by_sku, vec![new_id]);
}

#[tokio::test]
async fn sim_batch_is_positional_and_not_transactional() {
    let (sim, c) = spawn().await;
    let holder = sim.product_ids(Some("publish"))[0];
    let sku = sim.product(holder).unwrap()["sku"].clone();
    let victim = sim.product_ids(Some("publish"))[1];
    let body = json!({
        "create": [
            {"name": "Batch A", "sku": "BATCH-A", "regular_price": "1.00"},
            {"name": "Batch dup", "sku": sku, "regular_price": "1.00"},
            {"name": "Batch B", "sku": "BATCH-B", "regular_price": "2.00"},
        ],
        "update": [{"id": holder, "stock_quantity": 3, "manage_stock": true}, {"id": 999999, "name": "x"}],
        "delete": [victim],
    });
    let r = c.write("POST", "products/batch", Some(&body)).await;
    assert_eq!(r.status, 200, "HTTP 200 even when items fail");
    let out = r.json();
    let created = out["create"].as_array().unwrap();
    assert_eq!(created.len(), 3);
    assert_eq!(created[0]["sku"], "BATCH-A");
    assert_eq!(created[1]["id"], 0);
    assert_eq!(created[1]["error"]["code"], "product_invalid_sku");
    assert_eq!(created[2]["sku"], "BATCH-B");
    assert_eq!(out["update"][0]["stock_quantity"], 3);
    assert_eq!(out["update"][1]["id"], 999999);
    assert_eq!(out["update"][1]["error"]["data"]["status"], 400);
    assert_eq!(out["delete"][0]["id"], victim);
    assert!(sim.product(victim).is_none(), "batch delete is forced");

    let many: Vec<Value> = (0..101).map(|i| json!({"name": format!("P{i}")})).collect();
    let r = c
        .write("POST", "products/batch", Some(&json!({"create": many})))
        .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (413, json!("woocommerce_rest_request_entity_too_large"))
    );
}
