//! The simulated Shopify store over real HTTP: documents checked against
//! each version's real schema, answers, pages, cost and throttling.

use serde_json::{Value, json};

use super::*;

async fn sim_with(config: ShopifyConfig) -> ShopifySim {
    ShopifySim::spawn(config).await.expect("sim starts")
}

async fn sim() -> ShopifySim {
    sim_with(ShopifyConfig {
        now: Some(1_780_000_000),
        ..ShopifyConfig::default()
    })
    .await
}

async fn post_to(url: &str, token: &str, query: &str, variables: Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(url)
        .header("X-Shopify-Access-Token", token)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .expect("request sent");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON body"))
}

async fn post(
    sim: &ShopifySim,
    version: ApiVersion,
    query: &str,
    variables: Value,
) -> (u16, Value) {
    post_to(
        &sim.graphql_url(version),
        sim.access_token(),
        query,
        variables,
    )
    .await
}

const LEVELS_WITH_IS_ACTIVE: &str = r#"
query Levels($location: ID!) {
  products(first: 3) {
    nodes {
      id
      variants(first: 5) {
        nodes {
          sku
          inventoryItem {
            id
            inventoryLevel(locationId: $location) {
              isActive
              quantities(names: ["available"]) { name quantity }
            }
          }
        }
      }
    }
  }
}"#;

fn first_location(sim: &ShopifySim) -> String {
    let store = sim.inner.store.read().unwrap();
    store.list("Location")[0].clone()
}

#[tokio::test]
async fn a_field_added_in_2026_04_is_refused_by_2026_01_with_shopifys_error() {
    let sim = sim().await;
    let vars = json!({"location": first_location(&sim)});
    for version in [ApiVersion::V2026_04, ApiVersion::V2026_07] {
        let (status, body) = post(&sim, version, LEVELS_WITH_IS_ACTIVE, vars.clone()).await;
        assert_eq!(status, 200);
        assert!(body.get("errors").is_none(), "{version:?}: {body}");
        let level = &body["data"]["products"]["nodes"][0]["variants"]["nodes"][0]["inventoryItem"]
            ["inventoryLevel"];
        assert_eq!(level["isActive"], true, "{body}");
        assert_eq!(level["quantities"][0]["name"], "available");
        assert!(level["quantities"][0]["quantity"].is_i64());
    }
    let (status, body) = post(&sim, ApiVersion::V2026_01, LEVELS_WITH_IS_ACTIVE, vars).await;
    assert_eq!(status, 200, "Shopify answers a schema error with 200");
    assert!(body.get("data").is_none(), "{body}");
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(
        errors[0]["message"],
        "Field 'isActive' doesn't exist on type 'InventoryLevel'"
    );
    assert_eq!(
        errors[0]["extensions"],
        json!({"code": "undefinedField", "typeName": "InventoryLevel", "fieldName": "isActive"})
    );
    assert_eq!(errors[0]["locations"][0]["line"], 12);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_field_added_in_2026_07_is_refused_by_the_earlier_versions() {
    let sim = sim().await;
    let q = "{ orders(first: 2) { nodes { id name cartToken } } }";
    // Valid in 2026-07: the executor gets it (the sim does not model the
    // field, which is a field error, not a schema error).
    let (_, body) = post(&sim, ApiVersion::V2026_07, q, json!({})).await;
    assert_ne!(
        body["errors"][0]["extensions"]["code"], "undefinedField",
        "{body}"
    );
    for version in [ApiVersion::V2026_01, ApiVersion::V2026_04] {
        let (status, body) = post(&sim, version, q, json!({})).await;
        assert_eq!(status, 200);
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "undefinedField",
            "{body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["fieldName"], "cartToken");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_missing_required_argument_and_an_unknown_one_get_shopifys_codes() {
    let sim = sim().await;
    let (status, body) = post(&sim, ApiVersion::V2026_04, "{ product { id } }", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["errors"][0]["message"],
        "Field 'product' is missing required arguments: id"
    );
    assert_eq!(
        body["errors"][0]["extensions"],
        json!({"code": "missingRequiredArguments", "className": "Field", "name": "product", "arguments": "id"})
    );
    let (_, body) = post(
        &sim,
        ApiVersion::V2026_04,
        "{ products(first: 1, colour: \"red\") { nodes { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "argumentNotAccepted",
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["argumentName"], "colour");
    let (_, body) = post(
        &sim,
        ApiVersion::V2026_04,
        "{ products(first: 1) { nodes { id }",
        json!({}),
    )
    .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("syntax error"),
        "{body}"
    );
    assert!(body.get("data").is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unknown_version_is_404_and_a_wrong_token_401() {
    let sim = sim().await;
    let url = format!("{}/admin/api/2025-13/graphql.json", sim.url());
    let (status, body) = post_to(&url, sim.access_token(), "{ shop { name } }", json!({})).await;
    assert_eq!((status, body), (404, json!({"errors": "Not Found"})));
    let url = sim.graphql_url(ApiVersion::V2026_04);
    let (status, body) = post_to(&url, "shpat_wrong", "{ shop { name } }", json!({})).await;
    assert_eq!(status, 401);
    assert!(
        body["errors"]
            .as_str()
            .unwrap()
            .contains("Invalid API key or access token")
    );
    sim.shutdown().await;
}

const PAGE: &str = r#"
query Page($after: String) {
  products(first: 7, after: $after, sortKey: UPDATED_AT) {
    edges { cursor node { id updatedAt } }
    pageInfo { hasNextPage endCursor }
  }
}"#;

#[tokio::test]
async fn paging_by_end_cursor_walks_every_product_exactly_once() {
    let sim = sim().await;
    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut last_updated = String::new();
    for _ in 0..100 {
        let (status, body) = post(&sim, ApiVersion::V2026_04, PAGE, json!({"after": after})).await;
        assert_eq!(status, 200);
        let products = &body["data"]["products"];
        for edge in products["edges"].as_array().unwrap() {
            let updated = edge["node"]["updatedAt"].as_str().unwrap().to_owned();
            assert!(updated >= last_updated, "sorted by update time");
            last_updated = updated;
            seen.push(edge["node"]["id"].as_str().unwrap().to_owned());
        }
        if products["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = products["pageInfo"]["endCursor"].clone();
        assert_eq!(
            after,
            products["edges"].as_array().unwrap().last().unwrap()["cursor"]
        );
    }
    let mut expected = sim.product_ids();
    assert_eq!(seen.len(), expected.len(), "no product twice");
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected);
    sim.shutdown().await;
}

#[tokio::test]
async fn every_answer_carries_its_cost_and_the_bucket() {
    let sim = sim().await;
    let q = "{ products(first: 10) { nodes { id title } } }";
    let (_, body) = post(&sim, ApiVersion::V2026_07, q, json!({})).await;
    let cost = &body["extensions"]["cost"];
    // 2 for the connection, 1 per product requested.
    assert_eq!(cost["requestedQueryCost"], 12);
    assert_eq!(cost["actualQueryCost"], 12);
    assert_eq!(cost["throttleStatus"]["maximumAvailable"], 2000.0);
    assert_eq!(cost["throttleStatus"]["restoreRate"], 100.0);
    let available = cost["throttleStatus"]["currentlyAvailable"]
        .as_u64()
        .unwrap();
    assert!((1988..=2000).contains(&available), "{cost}");
    // Fewer nodes than requested: the actual cost counts what came back.
    let (_, body) = post(
        &sim,
        ApiVersion::V2026_07,
        "{ locations(first: 50) { nodes { id name } } }",
        json!({}),
    )
    .await;
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 52);
    assert_eq!(body["extensions"]["cost"]["actualQueryCost"], 2 + 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn an_empty_bucket_throttles_at_http_200_as_shopify_does() {
    let sim = sim_with(ShopifyConfig {
        now: Some(1_780_000_000),
        bucket: BucketConfig {
            maximum_available: 40.0,
            restore_rate: 1.0,
        },
        ..ShopifyConfig::default()
    })
    .await;
    let q = "{ products(first: 10) { nodes { id } } }";
    let mut throttled = None;
    for _ in 0..10 {
        let (status, body) = post(&sim, ApiVersion::V2026_04, q, json!({})).await;
        assert_eq!(status, 200);
        if body.get("data").is_none() {
            throttled = Some(body);
            break;
        }
    }
    let body = throttled.expect("a 40-point bucket throttles 12-point queries within 10");
    let captured: Value = serde_json::from_str(include_str!(
        "../../../tests/fixtures/shopify/graphql-errors/throttled.http200.json"
    ))
    .unwrap();
    assert_eq!(body["errors"], captured["errors"]);
    let cost = &body["extensions"]["cost"];
    assert_eq!(cost["actualQueryCost"], Value::Null);
    assert_eq!(cost["requestedQueryCost"], 12);
    assert!(
        cost["throttleStatus"]["currentlyAvailable"]
            .as_u64()
            .unwrap()
            < 12
    );
    assert_eq!(sim.requests().1, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_query_over_1000_points_is_refused_before_it_runs() {
    let sim = sim().await;
    let q = "{ a: products(first: 250) { nodes { id } } b: customers(first: 250) { nodes { id } } \
             c: orders(first: 250) { nodes { id } } d: collections(first: 250) { nodes { id } } }";
    let (status, body) = post(&sim, ApiVersion::V2026_04, q, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["errors"][0]["extensions"]["code"], "MAX_COST_EXCEEDED");
    assert_eq!(body["errors"][0]["extensions"]["cost"], 4 * 252);
    assert_eq!(body["errors"][0]["extensions"]["maxCost"], 1000);
    assert!(
        body.get("extensions").is_none(),
        "no cost block on this error"
    );
    assert!(body.get("data").is_none());
    sim.shutdown().await;
}

/// Shopify accepted these on a live shop (requested 167 and 431,
/// `shopify-facts.md` (b)): nested page sizes do not multiply.
#[tokio::test]
async fn full_pages_with_full_nested_pages_are_accepted_as_at_shopify() {
    let sim = sim().await;
    for q in [
        "{ products(first: 250) { nodes { id title options { name values } variants(first: 250) { nodes { id sku price } } } } }",
        "{ orders(first: 250) { nodes { id name totalPriceSet { shopMoney { amount } } customer { id } \
           lineItems(first: 250) { nodes { id sku quantity originalUnitPriceSet { shopMoney { amount } } } } } } }",
    ] {
        let (_, body) = post(&sim, ApiVersion::V2026_04, q, json!({})).await;
        assert!(body.get("errors").is_none(), "{q}: {body}");
        let cost = &body["extensions"]["cost"];
        let requested = cost["requestedQueryCost"].as_u64().unwrap();
        assert!(requested < MAX_QUERY_COST, "{cost}");
        assert!(
            cost["actualQueryCost"].as_u64().unwrap() <= requested,
            "{cost}"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn searches_by_update_time_are_inclusive_and_in_utc() {
    let sim = sim().await;
    let (_, all) = post(
        &sim,
        ApiVersion::V2026_04,
        "{ customers(first: 250, sortKey: UPDATED_AT) { nodes { id updatedAt } } }",
        json!({}),
    )
    .await;
    let nodes = all["data"]["customers"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    let pivot = nodes[nodes.len() / 2]["updatedAt"]
        .as_str()
        .unwrap()
        .to_owned();
    let expected = nodes
        .iter()
        .filter(|n| n["updatedAt"].as_str().unwrap() >= pivot.as_str())
        .count();
    let (_, body) = post(
        &sim,
        ApiVersion::V2026_04,
        "query($q: String) { customers(first: 250, query: $q) { nodes { id updatedAt } } }",
        json!({"q": format!("updated_at:>='{pivot}'")}),
    )
    .await;
    let got = body["data"]["customers"]["nodes"].as_array().unwrap();
    assert_eq!(got.len(), expected, "{body}");
    assert!(
        got.iter()
            .all(|n| n["updatedAt"].as_str().unwrap() >= pivot.as_str())
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn orders_carry_refunds_risk_and_money_in_the_captured_shapes() {
    let sim = sim().await;
    let q = r#"{
      shop { name currencyCode myshopifyDomain }
      orders(first: 20) {
        nodes {
          id name createdAt updatedAt displayFinancialStatus displayFulfillmentStatus tags email
          currentTotalPriceSet { shopMoney { amount currencyCode } }
          customer { id email }
          risk { recommendation assessments { riskLevel } }
          lineItems(first: 5) { nodes { id sku quantity variant { id } } }
          refunds { id totalRefundedSet { shopMoney { amount } }
                    refundLineItems(first: 5) { nodes { quantity restockType lineItem { id } } } }
        }
      }
    }"#;
    let (_, body) = post(&sim, ApiVersion::V2026_04, q, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    let orders = body["data"]["orders"]["nodes"].as_array().unwrap();
    assert_eq!(orders.len(), 20);
    let captured: Value = serde_json::from_str(include_str!(
        "../../../tests/fixtures/shopify/captures/order-catalog-count-read.json"
    ))
    .unwrap();
    let real = &captured["response"]["data"]["seedCatalog"]["nodes"][0];
    for key in [
        "id",
        "name",
        "createdAt",
        "updatedAt",
        "displayFinancialStatus",
        "email",
    ] {
        assert_eq!(
            std::mem::discriminant(&orders[0][key]),
            std::mem::discriminant(&real[key]),
            "{key}: {} vs {}",
            orders[0][key],
            real[key]
        );
    }
    assert!(
        orders[0]["id"]
            .as_str()
            .unwrap()
            .starts_with("gid://shopify/Order/")
    );
    let amount = orders[0]["currentTotalPriceSet"]["shopMoney"]["amount"]
        .as_str()
        .unwrap();
    assert!(
        amount.parse::<f64>().is_ok() && amount.contains('.'),
        "{amount}"
    );
    assert!(
        orders
            .iter()
            .any(|o| !o["refunds"].as_array().unwrap().is_empty())
    );
    for o in orders {
        let rec = o["risk"]["recommendation"].as_str().unwrap();
        assert!(["ACCEPT", "INVESTIGATE", "CANCEL", "NONE"].contains(&rec));
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn the_same_seed_gives_the_same_shop() {
    let a = sim().await;
    let b = sim().await;
    let q = "{ products(first: 250) { nodes { id title updatedAt variants(first: 3) { nodes { sku price } } } } }";
    let (_, x) = post(&a, ApiVersion::V2026_04, q, json!({})).await;
    let (_, y) = post(&b, ApiVersion::V2026_04, q, json!({})).await;
    assert_eq!(x["data"], y["data"]);
    assert_eq!(a.counts().products, 40);
    a.shutdown().await;
    b.shutdown().await;
}

const RUN: &str = r#"mutation Run($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status objectCount rootObjectCount fileSize url }
    userErrors { field message code }
  }
}"#;

const POLL: &str = r#"query Poll($id: ID!) {
  bulkOperation(id: $id) { id status errorCode objectCount rootObjectCount fileSize url completedAt }
}"#;

const EXPORT: &str = r#"{
  products(query: "status:ACTIVE") {
    edges { node {
      id title
      variants { edges { node { id sku inventoryItem { id } } } }
    } }
  }
}"#;

async fn run_bulk(sim: &ShopifySim, query: &str) -> Value {
    let (status, body) = post(sim, ApiVersion::V2026_04, RUN, json!({"query": query})).await;
    assert_eq!(status, 200);
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["bulkOperationRunQuery"].clone()
}

#[tokio::test]
async fn a_bulk_export_runs_to_completion_and_serves_jsonl_with_parent_ids() {
    let sim = sim().await;
    let run = run_bulk(&sim, EXPORT).await;
    assert_eq!(run["userErrors"], json!([]));
    let op = &run["bulkOperation"];
    assert_eq!(op["status"], "CREATED");
    assert_eq!(
        op["objectCount"], "0",
        "counts are strings, as Shopify's UnsignedInt64"
    );
    let id = op["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("gid://shopify/BulkOperation/"));

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut statuses = Vec::new();
    let done = loop {
        let (_, body) = post(&sim, ApiVersion::V2026_04, POLL, json!({"id": id})).await;
        let op = body["data"]["bulkOperation"].clone();
        statuses.push(op["status"].as_str().unwrap().to_owned());
        if op["status"] == "COMPLETED" {
            break op;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never completed: {statuses:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(statuses[0], "CREATED");
    assert!(statuses.contains(&"RUNNING".to_owned()), "{statuses:?}");

    let resp = reqwest::get(done["url"].as_str().unwrap()).await.unwrap();
    assert_eq!(resp.headers()["content-type"], "application/jsonl");
    let body = resp.text().await.unwrap();
    assert_eq!(done["fileSize"], body.len().to_string());
    assert!(
        body.contains(r#""id":"gid:\/\/shopify\/Product\/"#),
        "slashes escaped as Shopify does"
    );

    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (active, variants) = {
        let store = sim.inner.store.read().unwrap();
        let active: Vec<String> = store
            .list("Product")
            .iter()
            .filter(|g| store.node(g).unwrap()["status"] == "ACTIVE")
            .cloned()
            .collect();
        let variants: usize = active
            .iter()
            .map(|g| {
                store.node(g).unwrap()["variants"]["__conn"]
                    .as_array()
                    .unwrap()
                    .len()
            })
            .sum();
        (active, variants)
    };
    assert_eq!(done["rootObjectCount"], active.len().to_string());
    assert_eq!(done["objectCount"], (active.len() + variants).to_string());
    assert_eq!(lines.len(), active.len() + variants);
    let mut parents_seen = std::collections::HashSet::new();
    for line in &lines {
        match line.get("__parentId") {
            None => {
                assert!(
                    line.get("variants").is_none(),
                    "nested connections are lines of their own"
                );
                parents_seen.insert(line["id"].as_str().unwrap().to_owned());
            }
            Some(parent) => {
                assert!(
                    parents_seen.contains(parent.as_str().unwrap()),
                    "child after its parent"
                );
                assert!(
                    line["inventoryItem"]["id"].is_string(),
                    "nested objects stay inline"
                );
            }
        }
    }
    assert_eq!(parents_seen.len(), active.len());
    sim.shutdown().await;
}

#[tokio::test]
async fn bulk_queries_are_refused_with_shopifys_messages() {
    let sim = sim().await;
    let run = run_bulk(&sim, "{ products { nodes { id } } }").await;
    assert_eq!(run["bulkOperation"], Value::Null);
    assert_eq!(
        run["userErrors"],
        json!([{"field": ["query"], "code": "INVALID", "message": "All connection fields in a bulk query must select their contents using 'edges' > 'node', e.g: 'products { edges { node {'. Selecting via 'nodes' is not supported. Invalid connection fields: 'products'."}])
    );
    let run = run_bulk(&sim, "{ shop { name } }").await;
    assert_eq!(
        run["userErrors"][0]["message"],
        "Bulk queries must contain at least one connection."
    );
    let run = run_bulk(&sim, "{ products { edges { node { id ").await;
    assert!(
        run["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid bulk query: "),
        "{run}"
    );
    // Against the version's schema, like any document.
    let (_, body) = post(
        &sim,
        ApiVersion::V2026_01,
        RUN,
        json!({"query": "{ inventoryItems { edges { node { id inventoryLevels { edges { node { id isActive } } } } } } }"}),
    )
    .await;
    let message = body["data"]["bulkOperationRunQuery"]["userErrors"][0]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("isActive"), "{message}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_sixth_running_bulk_query_is_operation_in_progress() {
    let sim = sim_with(ShopifyConfig {
        now: Some(1_780_000_000),
        bulk_run_time: std::time::Duration::from_secs(3600),
        ..ShopifyConfig::default()
    })
    .await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let run = run_bulk(&sim, EXPORT).await;
        ids.push(run["bulkOperation"]["id"].as_str().unwrap().to_owned());
    }
    let run = run_bulk(&sim, EXPORT).await;
    assert_eq!(run["bulkOperation"], Value::Null);
    assert_eq!(run["userErrors"][0]["code"], "OPERATION_IN_PROGRESS");
    assert_eq!(
        run["userErrors"][0]["message"],
        format!(
            "A bulk query operation for this app and shop is already in progress: {}.",
            ids.join(", ")
        )
    );
    let (_, body) = post(
        &sim,
        ApiVersion::V2026_04,
        "{ currentBulkOperation { id status } }",
        json!({}),
    )
    .await;
    assert_eq!(body["data"]["currentBulkOperation"]["id"], ids[4].as_str());
    sim.shutdown().await;
}

const ADDRESS: &str = "firstName lastName company address1 address2 city province provinceCode zip country countryCodeV2 phone";
const MONEY: &str = "shopMoney { amount currencyCode }";

/// Pages of every resource with the fields a full pull reads: the sim
/// answers each without a field error.
#[tokio::test]
async fn a_full_pulls_pages_are_answered_without_field_errors() {
    let sim = sim().await;
    let location = first_location(&sim);
    let variant = format!(
        "id title sku barcode price compareAtPrice taxable inventoryPolicy position createdAt updatedAt \
         selectedOptions {{ name value }} product {{ id hasOnlyDefaultVariant }} \
         inventoryItem {{ id tracked inventoryLevel(locationId: \"{location}\") {{ quantities(names: [\"available\"]) {{ name quantity }} }} }}"
    );
    let page = |name: &str, fields: &str| {
        format!(
            "query P($first: Int!, $after: String, $query: String) {{ {name}(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{ nodes {{ {fields} }} pageInfo {{ hasNextPage endCursor }} }} }}"
        )
    };
    let documents = [
        page(
            "products",
            &format!(
                "id title handle status vendor productType tags createdAt updatedAt hasOnlyDefaultVariant options {{ name values }} \
                 variants(first: 1) {{ nodes {{ {variant} }} }} collections(first: 25) {{ nodes {{ id }} }}"
            ),
        ),
        page(
            "collections",
            "id title handle description updatedAt sortOrder productsCount { count }",
        ),
        page(
            "customers",
            &format!(
                "id firstName lastName displayName state tags note createdAt updatedAt numberOfOrders \
                 defaultEmailAddress {{ emailAddress }} defaultPhoneNumber {{ phoneNumber }} defaultAddress {{ {ADDRESS} }}"
            ),
        ),
        page(
            "orders",
            &format!(
                "id name createdAt updatedAt processedAt closedAt cancelledAt currencyCode taxesIncluded \
                 displayFinancialStatus displayFulfillmentStatus email note sourceName sourceIdentifier \
                 paymentGatewayNames customer {{ id }} billingAddress {{ {ADDRESS} }} shippingAddress {{ {ADDRESS} }} \
                 subtotalPriceSet {{ {MONEY} }} totalPriceSet {{ {MONEY} }} totalTaxSet {{ {MONEY} }} \
                 totalDiscountsSet {{ {MONEY} }} totalShippingPriceSet {{ {MONEY} }} \
                 risk {{ recommendation }} metafield(namespace: \"possync\", key: \"key\") {{ value }} \
                 refunds {{ id note createdAt totalRefundedSet {{ {MONEY} }} \
                   refundLineItems(first: 5) {{ nodes {{ id quantity restockType lineItem {{ id }} subtotalSet {{ {MONEY} }} totalTaxSet {{ {MONEY} }} }} }} }} \
                 lineItems(first: 5) {{ nodes {{ id name title quantity sku variantTitle product {{ id }} variant {{ id }} \
                   originalUnitPriceSet {{ {MONEY} }} originalTotalSet {{ {MONEY} }} discountedTotalSet {{ {MONEY} }} \
                   taxLines {{ title ratePercentage priceSet {{ {MONEY} }} }} customAttributes {{ key value }} }} }}"
            ),
        ),
        "query { locations(first: 250, includeInactive: false) { nodes { id name isActive } pageInfo { hasNextPage endCursor } } }".to_owned(),
        "query { deletionEvents(first: 50, subjectTypes: [PRODUCT], sortKey: CREATED_AT) { nodes { occurredAt subjectId subjectType } pageInfo { hasNextPage } } }".to_owned(),
    ];
    for doc in &documents {
        let (status, body) = post(
            &sim,
            ApiVersion::V2026_04,
            doc,
            json!({"first": 10, "query": "updated_at:>='2026-01-01T00:00:00Z'"}),
        )
        .await;
        assert_eq!(status, 200);
        assert!(body.get("errors").is_none(), "{doc}\n→ {body}");
        assert!(
            body["extensions"]["cost"]["actualQueryCost"]
                .as_u64()
                .unwrap()
                > 0
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn injected_faults_answer_instead_of_the_shop_then_it_recovers() {
    let sim = sim().await;
    let q = "{ shop { name } }";
    sim.inject(ShopifyFault::TooManyRequests, 1);
    sim.inject(ShopifyFault::ServerError, 1);
    sim.inject(ShopifyFault::ServiceUnavailable, 1);
    let resp = reqwest::Client::new()
        .post(sim.graphql_url(ApiVersion::V2026_04))
        .header("X-Shopify-Access-Token", sim.access_token())
        .json(&json!({"query": q}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(resp.headers()["retry-after"], "4.0");
    let (status, _) = post(&sim, ApiVersion::V2026_04, q, json!({})).await;
    assert_eq!(status, 500);
    let (status, _) = post(&sim, ApiVersion::V2026_04, q, json!({})).await;
    assert_eq!(status, 503);
    let (status, body) = post(&sim, ApiVersion::V2026_04, q, json!({})).await;
    assert_eq!(
        (status, &body["data"]["shop"]["name"]),
        (200, &json!("possync demo shop"))
    );
    // Nothing ran for the three refused requests: only the last was charged.
    let available = body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"].as_u64();
    assert_eq!(available, Some(1999));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_truncated_answer_cuts_the_body_after_the_shop_answered() {
    // A bucket that barely refills, so the charges can be read exactly.
    let sim = sim_with(ShopifyConfig {
        now: Some(1_780_000_000),
        bucket: BucketConfig {
            maximum_available: 2000.0,
            restore_rate: 0.001,
        },
        ..ShopifyConfig::default()
    })
    .await;
    sim.inject(ShopifyFault::Truncated, 1);
    let resp = reqwest::Client::new()
        .post(sim.graphql_url(ApiVersion::V2026_04))
        .header("X-Shopify-Access-Token", sim.access_token())
        .json(&json!({"query": "{ products(first: 20) { nodes { id title } } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.bytes().await.is_err(), "the body never arrives whole");
    // The shop had run the query: its cost was charged.
    let (_, body) = post(&sim, ApiVersion::V2026_04, "{ shop { name } }", json!({})).await;
    let available = body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
        .as_u64()
        .unwrap();
    assert_eq!(available, 2000 - 22 - 1, "{body}");
    sim.shutdown().await;
}

#[tokio::test]
async fn latency_holds_every_answer_back() {
    let sim = sim_with(ShopifyConfig {
        now: Some(1_780_000_000),
        faults: ShopifyFaults {
            latency: std::time::Duration::from_millis(150),
            ..ShopifyFaults::default()
        },
        ..ShopifyConfig::default()
    })
    .await;
    let started = std::time::Instant::now();
    let (status, _) = post(&sim, ApiVersion::V2026_04, "{ shop { name } }", json!({})).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_renamed_product_shows_in_a_delta_and_a_deleted_one_in_deletion_events() {
    let sim = sim().await;
    let ids = sim.product_ids();
    let before = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    assert!(sim.rename_product(&ids[3], "Renamed"));
    assert!(sim.delete_product(&ids[5]));
    assert!(!sim.delete_product(&ids[5]), "gone already");
    let q = "query($q: String) { products(first: 250, query: $q) { nodes { id title } } \
             deletionEvents(first: 10, subjectTypes: [PRODUCT], query: $q, sortKey: CREATED_AT) { nodes { subjectId subjectType occurredAt } } }";
    let (_, body) = post(
        &sim,
        ApiVersion::V2026_04,
        q,
        json!({"q": format!("updated_at:>='{before}' occurred_at:>='{before}'")}),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"]["products"]["nodes"],
        json!([{"id": ids[3], "title": "Renamed"}])
    );
    let events = &body["data"]["deletionEvents"]["nodes"];
    assert_eq!(events.as_array().unwrap().len(), 1, "{body}");
    assert_eq!(events[0]["subjectId"], ids[5].as_str());
    assert_eq!(events[0]["subjectType"], "PRODUCT");
    let (_, body) = post(
        &sim,
        ApiVersion::V2026_04,
        "query($id: ID!) { product(id: $id) { id } }",
        json!({"id": ids[5]}),
    )
    .await;
    assert_eq!(body["data"]["product"], Value::Null);
    assert_eq!(sim.counts().products, ids.len() - 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn location_without_an_id_is_the_primary_location() {
    let sim = sim().await;
    let (status, all) = post(
        &sim,
        ApiVersion::V2026_04,
        "{ locations(first: 5) { nodes { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{all}");
    let first = all["data"]["locations"]["nodes"][0]["id"].clone();
    assert!(first.is_string(), "{all}");
    let (status, primary) = post(
        &sim,
        ApiVersion::V2026_04,
        "{ location { id name } }",
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{primary}");
    assert_eq!(primary["data"]["location"]["id"], first, "{primary}");
    let (_, unknown) = post(
        &sim,
        ApiVersion::V2026_04,
        "{ location(id: \"gid://shopify/Location/999999\") { id } }",
        json!({}),
    )
    .await;
    assert!(unknown["data"]["location"].is_null(), "{unknown}");
    sim.shutdown().await;
}
