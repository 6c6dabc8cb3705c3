//! A first pull builds the name-search index once, when the catalog is in:
//! meanwhile a name search says so (503 `search_index_building`) while
//! barcode and SKU lookups answer from the rows already written; after it,
//! a name search finds every product.

use std::time::Duration;

use possync::domain::Resource;
use possync::sync::progress::StepState;
use possync_sim::woo::{FaultConfig, Sim, SimConfig};

use crate::common::{TestApp, assert_completed, small_sim};

#[tokio::test]
async fn name_search_during_a_first_pull_says_the_index_is_being_built() {
    // A slow shop, so the catalog arrives page by page for a while.
    let sim = Sim::spawn(SimConfig {
        products: 120,
        customers: 5,
        orders: 5,
        faults: FaultConfig {
            latency: Duration::from_millis(40),
            ..FaultConfig::default()
        },
        ..small_sim()
    })
    .await
    .unwrap();
    let t = TestApp::spawn_with_sim(sim, |_| {}).await;
    let mut progress = t.app.progress();
    progress
        .wait_for(|p| {
            p.resource(Resource::Products)
                .is_some_and(|r| r.pages_done >= 1 && r.state == StepState::Running)
        })
        .await
        .unwrap();

    // Some products are in; their barcodes and SKUs are found at once.
    let (status, listed) = t.get_json("/api/products?per_page=100").await;
    assert_eq!(status, 200, "{listed}");
    let first = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["barcodes"].as_array().is_some_and(|b| !b.is_empty()))
        .expect("a product with a barcode is in the replica")
        .clone();
    let barcode = first["barcodes"][0].as_str().unwrap();
    let (status, found) = t
        .get_json(&format!("/api/products?barcode={barcode}"))
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["items"][0]["id"], first["id"]);
    let sku = first["sku"].as_str().unwrap();
    let (status, found) = t.get_json(&format!("/api/products?sku={sku}")).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["items"][0]["id"], first["id"]);

    // A name search says the index is being built, and not a partial answer.
    let name = first["name"].as_str().unwrap();
    let (status, body) = t
        .get_json(&format!("/api/products?q={}", urlencode(name)))
        .await;
    let catalog_done = progress
        .borrow()
        .resource(Resource::Variations)
        .is_some_and(|r| r.state == StepState::Done);
    assert!(
        !catalog_done,
        "the catalog was in before the search was made"
    );
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "search_index_building", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("being built"),
        "{body}"
    );

    // Once the pull is over, every product is found by its name.
    assert_completed(&t.pulled().await);
    let (_, all) = t.get_json("/api/products?per_page=100&page=1").await;
    let total = all["total"].as_i64().unwrap();
    assert!(total >= 100, "{total}");
    let mut products = Vec::new();
    for page in 1..=(total + 99) / 100 {
        let (_, listed) = t
            .get_json(&format!("/api/products?per_page=100&page={page}"))
            .await;
        products.extend(listed["items"].as_array().unwrap().clone());
    }
    assert_eq!(products.len() as i64, total);
    for p in &products {
        let q = urlencode(p["name"].as_str().unwrap());
        let mut found = false;
        let mut page = 1;
        loop {
            let (status, hits) = t
                .get_json(&format!("/api/products?q={q}&per_page=100&page={page}"))
                .await;
            assert_eq!(status, 200, "{hits}");
            let items = hits["items"].as_array().unwrap();
            if items.iter().any(|h| h["id"] == p["id"]) {
                found = true;
                break;
            }
            if items.len() < 100 {
                break;
            }
            page += 1;
        }
        assert!(
            found,
            "{} is not found by its name after the pull",
            p["name"]
        );
    }
    t.stop().await;
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
