//! Webhook subscriptions over REST and their deliveries: the captured
//! shapes and headers, the ping, signatures, coalescing, state at
//! delivery time, auto-disable and injected trouble.

use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use possync_sim::woo::{DeliveryOutcome, SimResource, WebhookFaults};
use serde_json::{Value, json};
use sha2::Sha256;

use super::receiver::Receiver;
use super::spawn;
use crate::sim_fixtures::shape::{assert_same_shape, captured, load};

fn hmac_b64(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/woocommerce/webhooks")
        .join(name)
}

#[test]
fn the_signature_algorithm_matches_the_captured_deliveries() {
    for n in [
        "012_product_updated_event",
        "025_product_deleted_event",
        "016_order_created_event",
    ] {
        let body = std::fs::read(fixture(&format!("{n}.body"))).unwrap();
        let meta: Value =
            serde_json::from_slice(&std::fs::read(fixture(&format!("{n}.meta.json"))).unwrap())
                .unwrap();
        let secret = meta["signature_check"]["secret_used"].as_str().unwrap();
        assert_eq!(
            hmac_b64(secret, &body),
            meta["signature_check"]["header"],
            "{n}"
        );
    }
}

#[tokio::test]
async fn sim_webhook_subscriptions_have_the_captured_shape_and_rules() {
    let (sim, c) = spawn().await;
    let rx = Receiver::start(false).await;
    let body = json!({"name": "POS sync product.updated", "topic": "product.updated",
                      "delivery_url": rx.url, "secret": "s3cret", "status": "active"});
    let r = c.write("POST", "webhooks", Some(&body)).await;
    assert_eq!(r.status, 201);
    let created = r.json();
    assert!(created.get("secret").is_none());
    assert_eq!(created["date_modified"], Value::Null);
    assert_same_shape(
        "webhook",
        &captured(&[
            "webhook_create_product_updated",
            "webhook_single",
            "webhooks_list",
        ]),
        std::slice::from_ref(&created),
        &[],
        &[],
    );
    assert_eq!(
        created["hooks"],
        captured(&["webhook_create_product_updated"])[0]["hooks"]
    );
    let id = created["id"].as_i64().unwrap();
    let listed = c.get("webhooks", &[]).await;
    assert_eq!(listed.total(), 1);

    let r = c
        .write(
            "POST",
            "webhooks",
            Some(&json!({"topic": "product.exploded", "delivery_url": rx.url})),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (400, json!("woocommerce_rest_shop_webhook_invalid_topic"))
    );
    // WooCommerce 11 refuses a default topic no hook delivers, with the
    // captured answer.
    for topic in ["customer.restored", "order.published"] {
        let r = c
            .write(
                "POST",
                "webhooks",
                Some(&json!({"name": "x", "topic": topic, "delivery_url": rx.url, "status": "paused"})),
            )
            .await;
        assert_eq!(r.status, 400, "{topic}");
        assert_eq!(
            r.json(),
            load("err_400_webhook_topic_customer_restored"),
            "{topic}"
        );
    }
    let r = c
        .write(
            "PUT",
            &format!("webhooks/{id}"),
            Some(&json!({"status": "paused"})),
        )
        .await;
    assert_eq!(r.json()["status"], "paused");
    assert!(r.json()["date_modified"].is_string());
    assert_eq!(
        c.write("DELETE", &format!("webhooks/{id}"), None)
            .await
            .status,
        501
    );
    let r = c
        .try_write(
            "DELETE",
            &format!("webhooks/{id}"),
            &[("force", "true")],
            None,
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(sim.snapshot_json(SimResource::Webhooks).is_empty());
}

#[tokio::test]
async fn sim_deliveries_carry_woocommerce_headers_and_a_valid_signature() {
    let (sim, c) = spawn().await;
    let rx = Receiver::start(false).await;
    let updated = sim
        .create_webhook("product.updated", &rx.url, "secret-u")
        .unwrap();
    let deleted = sim
        .create_webhook("product.deleted", &rx.url, "secret-d")
        .unwrap();
    let pings = rx.wait_for(2).await;
    for (p, id) in pings.iter().zip([updated, deleted]) {
        assert_eq!(p.body, format!("webhook_id={id}").into_bytes());
        assert_eq!(
            p.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(
            p.header("user-agent"),
            Some("WooCommerce/11.0.1 Hookshot (WordPress/7.1)")
        );
        assert!(
            p.headers.iter().all(|(k, _)| !k.starts_with("x-wc-")),
            "pings are unsigned"
        );
    }

    let pid = sim.product_ids(Some("publish"))[2];
    // Held back long enough for the trash to happen first.
    sim.set_webhook_faults(WebhookFaults {
        delay: 1.0,
        delay_for: Duration::from_millis(200),
        ..WebhookFaults::default()
    });
    let r = c
        .write(
            "PUT",
            &format!("products/{pid}"),
            Some(&json!({"stock_quantity": 41, "manage_stock": true})),
        )
        .await;
    assert_eq!(r.status, 200);
    c.write("DELETE", &format!("products/{pid}"), None).await;
    sim.deliveries_settled().await;
    let got = rx.wait_for(4).await;
    let topic = |t: &str| {
        got.iter()
            .find(|d| d.header("x-wc-webhook-topic") == Some(t))
            .unwrap_or_else(|| panic!("a {t} delivery"))
    };
    let (event, gone) = (topic("product.updated"), topic("product.deleted"));
    assert_eq!(event.header("x-wc-webhook-topic"), Some("product.updated"));
    assert_eq!(event.header("x-wc-webhook-resource"), Some("product"));
    assert_eq!(event.header("x-wc-webhook-event"), Some("updated"));
    assert_eq!(
        event.header("x-wc-webhook-id"),
        Some(updated.to_string().as_str())
    );
    assert_eq!(
        event.header("x-wc-webhook-source"),
        Some(format!("{}/", sim.url()).as_str())
    );
    assert_eq!(
        event.header("x-wc-webhook-delivery-id").map(str::len),
        Some(32)
    );
    assert_eq!(event.header("content-type"), Some("application/json"));
    assert_eq!(
        event.header("x-wc-webhook-signature"),
        Some(hmac_b64("secret-u", &event.body).as_str())
    );
    // Built at delivery time: the product was trashed by then.
    assert_eq!(event.json()["id"], pid);
    assert_eq!(event.json()["status"], "trash");
    assert_eq!(event.json(), sim.product(pid).unwrap());
    assert_eq!(gone.body, format!("{{\"id\":{pid}}}").into_bytes());
    assert_eq!(
        gone.header("x-wc-webhook-signature"),
        Some(hmac_b64("secret-d", &gone.body).as_str())
    );

    // A permanent delete fires nothing.
    c.try_write(
        "DELETE",
        &format!("products/{pid}"),
        &[("force", "true")],
        None,
    )
    .await
    .unwrap();
    sim.deliveries_settled().await;
    assert_eq!(rx.received().len(), 4);
}

#[tokio::test]
async fn sim_bursts_coalesce_while_a_delivery_is_pending() {
    let (sim, c) = spawn().await;
    let rx = Receiver::start(true).await;
    sim.create_webhook("product.updated", &rx.url, "k").unwrap();
    rx.wait_for(1).await; // the ping, held by the receiver: the queue waits
    let pid = sim.product_ids(Some("publish"))[0];
    for qty in [10, 11, 12] {
        c.write(
            "PUT",
            &format!("products/{pid}"),
            Some(&json!({"manage_stock": true, "stock_quantity": qty})),
        )
        .await;
    }
    rx.release(10);
    sim.deliveries_settled().await;
    let got = rx.received();
    assert_eq!(got.len(), 2, "the ping and one coalesced delivery");
    assert_eq!(got[1].json()["stock_quantity"], 12, "the final state");
}

#[tokio::test]
async fn sim_webhook_is_disabled_on_the_seventh_consecutive_failure() {
    let (sim, c) = spawn().await;
    let rx = Receiver::start(false).await;
    rx.answer(500);
    let id = sim.create_webhook("product.updated", &rx.url, "k").unwrap();
    let pid = sim.product_ids(Some("publish"))[0];
    for n in 1..=7 {
        c.write(
            "PUT",
            &format!("products/{pid}"),
            Some(&json!({"manage_stock": true, "stock_quantity": n})),
        )
        .await;
        sim.deliveries_settled().await;
        let expected = if n < 7 { "active" } else { "disabled" };
        assert_eq!(
            sim.webhook_status(id).as_deref(),
            Some(expected),
            "after failure {n}"
        );
    }
    c.write(
        "PUT",
        &format!("products/{pid}"),
        Some(&json!({"stock_quantity": 99})),
    )
    .await;
    sim.deliveries_settled().await;
    assert_eq!(
        rx.received().len(),
        1 + 7,
        "nothing goes to a disabled webhook"
    );
    let r = c
        .write(
            "PUT",
            &format!("webhooks/{id}"),
            Some(&json!({"status": "active"})),
        )
        .await;
    assert_eq!(r.json()["status"], "active");
}

#[tokio::test]
async fn sim_injected_loss_duplication_and_delay_are_observable() {
    let (sim, c) = spawn().await;
    let rx = Receiver::start(false).await;
    sim.create_webhook("order.updated", &rx.url, "k").unwrap();
    rx.wait_for(1).await;
    let oid = sim.order_ids(Some("processing"))[0];
    let touch = |note: &'static str| {
        let c = &c;
        async move {
            c.write(
                "PUT",
                &format!("orders/{oid}"),
                Some(&json!({"customer_note": note})),
            )
            .await;
        }
    };

    sim.set_webhook_faults(WebhookFaults {
        loss: 1.0,
        ..WebhookFaults::default()
    });
    touch("lost").await;
    sim.deliveries_settled().await;
    assert_eq!(rx.received().len(), 1);
    assert!(
        sim.deliveries()
            .iter()
            .any(|d| d.outcome == DeliveryOutcome::Lost)
    );

    sim.set_webhook_faults(WebhookFaults {
        duplicate: 1.0,
        ..WebhookFaults::default()
    });
    touch("twice").await;
    sim.deliveries_settled().await;
    let got = rx.received();
    assert_eq!(got.len(), 3);
    assert_eq!(got[1].body, got[2].body);
    assert_eq!(
        got[1].header("x-wc-webhook-delivery-id"),
        got[2].header("x-wc-webhook-delivery-id")
    );

    sim.set_webhook_faults(WebhookFaults {
        delay: 1.0,
        delay_for: Duration::from_millis(300),
        ..WebhookFaults::default()
    });
    touch("late").await;
    assert_eq!(rx.received().len(), 3, "held back");
    sim.deliveries_settled().await;
    assert_eq!(rx.received().len(), 4);
    assert_eq!(rx.received()[3].json()["customer_note"], "late");
}
