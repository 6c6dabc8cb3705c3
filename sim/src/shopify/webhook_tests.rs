//! Webhook subscriptions through the Admin API and the signed deliveries
//! the store makes when its data changes, received over real HTTP.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::*;
use crate::hook_faults::WebhookFaults;

const CREATE: &str = "mutation Create($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) { webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) { webhookSubscription { id topic uri name format } userErrors { field message } } }";
const UPDATE: &str = "mutation Update($id: ID!, $sub: WebhookSubscriptionInput!) { webhookSubscriptionUpdate(id: $id, webhookSubscription: $sub) { webhookSubscription { id name uri } userErrors { field message } } }";
const DELETE: &str = "mutation Delete($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } } }";
const LIST: &str = "query List($first: Int!, $after: String) { webhookSubscriptions(first: $first, after: $after) { nodes { id topic uri name } pageInfo { hasNextPage endCursor } } }";

async fn gql(sim: &ShopifySim, query: &str, variables: Value) -> Value {
    let resp = reqwest::Client::new()
        .post(sim.graphql_url(ApiVersion::V2026_04))
        .header("X-Shopify-Access-Token", sim.access_token())
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

async fn subscribe(sim: &ShopifySim, topic: &str, uri: &str) -> String {
    let data = gql(
        sim,
        CREATE,
        json!({"topic": topic, "sub": {"uri": uri, "format": "JSON", "name": "possync"}}),
    )
    .await;
    let payload = &data["webhookSubscriptionCreate"];
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    payload["webhookSubscription"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn subscriptions_are_created_listed_updated_and_deleted_with_shopifys_user_errors() {
    let sim = ShopifySim::spawn(ShopifyConfig::default()).await.unwrap();
    let id = subscribe(
        &sim,
        "PRODUCTS_UPDATE",
        "https://till.example/webhooks/shopify",
    )
    .await;
    assert!(id.starts_with("gid://shopify/WebhookSubscription/"), "{id}");
    let list = gql(&sim, LIST, json!({"first": 10})).await;
    assert_eq!(
        list["webhookSubscriptions"]["nodes"],
        json!([{"id": id, "topic": "PRODUCTS_UPDATE", "uri": "https://till.example/webhooks/shopify", "name": "possync"}])
    );

    let blank = gql(
        &sim,
        CREATE,
        json!({"topic": "ORDERS_CREATE", "sub": {"format": "JSON"}}),
    )
    .await;
    assert_eq!(
        blank["webhookSubscriptionCreate"],
        json!({"webhookSubscription": null, "userErrors": [{"field": ["webhookSubscription", "callbackUrl"], "message": "Address can't be blank"}]})
    );

    let renamed = gql(&sim, UPDATE, json!({"id": id, "sub": {"name": "till 2"}})).await;
    assert_eq!(
        renamed["webhookSubscriptionUpdate"]["webhookSubscription"]["name"],
        "till 2"
    );
    let unknown = "gid://shopify/WebhookSubscription/999999999999";
    let missing = gql(&sim, UPDATE, json!({"id": unknown, "sub": {"name": "x"}})).await;
    assert_eq!(
        missing["webhookSubscriptionUpdate"]["userErrors"],
        json!([{"field": ["id"], "message": "Webhook subscription does not exist"}])
    );

    let deleted = gql(&sim, DELETE, json!({"id": id})).await;
    assert_eq!(
        deleted["webhookSubscriptionDelete"],
        json!({"deletedWebhookSubscriptionId": id, "userErrors": []})
    );
    let again = gql(&sim, DELETE, json!({"id": id})).await;
    assert_eq!(
        again["webhookSubscriptionDelete"]["userErrors"][0]["message"],
        "Webhook subscription does not exist"
    );
    let list = gql(&sim, LIST, json!({"first": 10})).await;
    assert_eq!(list["webhookSubscriptions"]["nodes"], json!([]));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_subscription_document_shopify_would_refuse_is_refused() {
    let sim = ShopifySim::spawn(ShopifyConfig::default()).await.unwrap();
    let resp = reqwest::Client::new()
        .post(sim.graphql_url(ApiVersion::V2026_04))
        .header("X-Shopify-Access-Token", sim.access_token())
        .json(&json!({"query": "mutation { webhookSubscriptionCreate(webhookSubscription: {uri: \"https://a.example\"}) { userErrors { message } } }"}))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert!(body["errors"][0]["message"].is_string(), "{body}");
    assert!(body.get("data").is_none_or(Value::is_null), "{body}");
    sim.shutdown().await;
}

/// What a test receiver got: headers and body of each request.
type Got = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

/// A receiver on loopback answering each request with the next status of
/// `statuses` (200 once they run out).
async fn receiver(statuses: Vec<u16>) -> (String, Got) {
    let got: Got = Arc::default();
    let plan = Arc::new(Mutex::new(statuses));
    let app = axum::Router::new()
        .route(
            "/webhooks/shopify",
            axum::routing::post(
                |State((got, plan)): State<(Got, Arc<Mutex<Vec<u16>>>)>,
                 headers: HeaderMap,
                 body: axum::body::Bytes| async move {
                    got.lock().unwrap().push((headers, body.to_vec()));
                    let mut plan = plan.lock().unwrap();
                    let status = if plan.is_empty() { 200 } else { plan.remove(0) };
                    StatusCode::from_u16(status).unwrap()
                },
            ),
        )
        .with_state((got.clone(), plan));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/shopify", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

async fn wait_for_requests(got: &Got, n: usize) -> Vec<(HeaderMap, Vec<u8>)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = got.lock().unwrap().clone();
        if now.len() >= n {
            return now;
        }
        assert!(Instant::now() < deadline, "{} of {n} deliveries", now.len());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn signed_by(secret: &str, body: &[u8], hmac: &str) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let raw = base64::engine::general_purpose::STANDARD
        .decode(hmac)
        .unwrap_or_default();
    mac.verify_slice(&raw).is_ok()
}

#[tokio::test]
async fn a_product_change_and_a_new_order_are_delivered_signed_with_shopifys_headers() {
    let config = ShopifyConfig::default();
    let secret = config.webhook_secret.clone();
    let sim = ShopifySim::spawn(config).await.unwrap();
    let (url, got) = receiver(Vec::new()).await;
    subscribe(&sim, "PRODUCTS_UPDATE", &url).await;
    subscribe(&sim, "ORDERS_CREATE", &url).await;

    let product = sim.product_ids()[0].clone();
    assert!(sim.rename_product(&product, "Renamed for the test"));
    let got_now = wait_for_requests(&got, 1).await;
    let (h, body) = &got_now[0];
    assert_eq!(header(h, "x-shopify-topic"), "products/update");
    assert_eq!(
        header(h, "x-shopify-shop-domain"),
        "possync-sim.myshopify.com"
    );
    assert_eq!(header(h, "x-shopify-api-version"), "2026-04");
    assert!(!header(h, "x-shopify-webhook-id").is_empty());
    assert!(!header(h, "x-shopify-triggered-at").is_empty());
    assert!(signed_by(&secret, body, header(h, "x-shopify-hmac-sha256")));
    assert!(!signed_by(
        "another secret",
        body,
        header(h, "x-shopify-hmac-sha256")
    ));
    let payload: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(payload["admin_graphql_api_id"], product.as_str());
    assert_eq!(payload["title"], "Renamed for the test");
    assert!(payload["id"].is_u64(), "REST ids are numbers: {payload}");
    assert!(payload["updated_at"].as_str().unwrap().ends_with("+00:00"));
    assert!(payload["tags"].is_string());
    assert!(!payload["variants"].as_array().unwrap().is_empty());

    let variant = {
        let store = sim.inner.store.read().unwrap();
        store.list("ProductVariant")[0].clone()
    };
    let order = sim.place_order(&variant, 2).expect("an order");
    let got_now = wait_for_requests(&got, 2).await;
    let (h, body) = &got_now[1];
    assert_eq!(header(h, "x-shopify-topic"), "orders/create");
    assert!(signed_by(&secret, body, header(h, "x-shopify-hmac-sha256")));
    let payload: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(payload["admin_graphql_api_id"], order.as_str());
    assert_eq!(payload["line_items"][0]["quantity"], 2);
    assert_eq!(payload["financial_status"], "paid");
    // The order is in the store too.
    let data = gql(
        &sim,
        "query O($id: ID!) { order(id: $id) { id name } }",
        json!({"id": order}),
    )
    .await;
    assert_eq!(data["order"]["id"], order.as_str());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_failed_delivery_and_the_deliver_twice_fault_repeat_the_webhook_id() {
    let sim = ShopifySim::spawn(ShopifyConfig::default()).await.unwrap();
    // The first answer is a 500: Shopify retries the same delivery.
    let (url, got) = receiver(vec![500]).await;
    subscribe(&sim, "PRODUCTS_UPDATE", &url).await;
    let product = sim.product_ids()[1].clone();
    assert!(sim.rename_product(&product, "First"));
    let first = wait_for_requests(&got, 2).await;
    let id = header(&first[0].0, "x-shopify-webhook-id").to_owned();
    assert_eq!(header(&first[1].0, "x-shopify-webhook-id"), id);
    assert_eq!(first[0].1, first[1].1, "a retry carries the same body");

    sim.deliver_twice(1);
    assert!(sim.rename_product(&product, "Second"));
    let all = wait_for_requests(&got, 4).await;
    let twice = header(&all[2].0, "x-shopify-webhook-id");
    assert_ne!(twice, id, "a new change is a new delivery");
    assert_eq!(header(&all[3].0, "x-shopify-webhook-id"), twice);
    assert_eq!(all[2].1, all[3].1);
    let log = sim.webhook_deliveries();
    assert_eq!(
        log.iter().map(|d| d.status).collect::<Vec<_>>(),
        [Some(500), Some(200), Some(200), Some(200)]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_lose_repeat_hold_back_and_reorder_deliveries_and_settling_waits_for_them() {
    let sim = ShopifySim::spawn(ShopifyConfig::default()).await.unwrap();
    let (url, got) = receiver(Vec::new()).await;
    subscribe(&sim, "PRODUCTS_UPDATE", &url).await;
    let product = sim.product_ids()[0].clone();

    sim.set_webhook_faults(WebhookFaults {
        loss: 1.0,
        ..WebhookFaults::default()
    });
    assert!(sim.rename_product(&product, "Lost"));
    sim.deliveries_settled().await;
    assert_eq!(sim.webhook_deliveries_lost(), 1);
    assert!(got.lock().unwrap().is_empty(), "nothing sent");

    sim.set_webhook_faults(WebhookFaults {
        duplicate: 1.0,
        delay: 1.0,
        delay_for: Duration::from_millis(200),
        ..WebhookFaults::default()
    });
    let start = Instant::now();
    assert!(sim.rename_product(&product, "Twice, late"));
    sim.deliveries_settled().await;
    assert!(start.elapsed() >= Duration::from_millis(200), "held back");
    let two = got.lock().unwrap().clone();
    assert_eq!(two.len(), 2, "sent twice");
    assert_eq!(
        header(&two[0].0, "x-shopify-webhook-id"),
        header(&two[1].0, "x-shopify-webhook-id")
    );

    // Three changes queued before the worker runs: a later one goes first.
    sim.set_webhook_faults(WebhookFaults {
        reorder: 1.0,
        ..WebhookFaults::default()
    });
    for n in 0..3 {
        assert!(sim.rename_product(&product, &format!("R{n}")));
    }
    sim.deliveries_settled().await;
    let all = got.lock().unwrap().clone();
    assert_eq!(all.len(), 5);
    let first: Value = serde_json::from_slice(&all[2].1).unwrap();
    assert_ne!(first["title"], "R0", "a later delivery was sent first");
    sim.shutdown().await;
}
