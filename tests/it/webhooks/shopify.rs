//! `POST /webhooks/shopify` over real HTTP on loopback, with a real inbox
//! file: Shopify's documented payloads signed with the app's secret and
//! Shopify's headers; a retry (same `X-Shopify-Webhook-Id`) is not stored
//! twice, before or after a restart; unsigned, forged, oversized, foreign
//! and topicless deliveries are refused with their reason and leave nothing
//! behind; stored deliveries are applied through the Shopify parser.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use possync::api::webhooks::{Receiver, ShopifyDeliveries, shopify_receiver};
use possync::domain::Resource;
use possync::store::{Store, dump};
use possync::sync::webhooks::apply::{Mirror, parser};
use possync::sync::webhooks::secrets::Secrets;
use possync::sync::webhooks::worker;
use possync::upstream::shopify::webhook::sign;
use secrecy::SecretString;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub const SHOP: &str = "possync-test.myshopify.com";
pub const APP_SECRET: &str = "shopify-app-client-secret-for-tests";
const PATH: &str = "/webhooks/shopify";

/// A Shopify documented payload (REST shape), as Shopify sends it.
pub fn payload(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/shopify/webhooks/payloads/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let file: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    serde_json::to_vec(&file["response"]).unwrap()
}

/// Shopify's headers for one delivery of `body`.
pub fn headers(topic: &str, id: &str, body: &[u8], secret: &str) -> Vec<(String, String)> {
    vec![
        ("Content-Type".into(), "application/json".into()),
        (
            "X-Shopify-Hmac-Sha256".into(),
            sign(body, &SecretString::from(secret.to_owned())),
        ),
        ("X-Shopify-Topic".into(), topic.into()),
        ("X-Shopify-Shop-Domain".into(), SHOP.into()),
        ("X-Shopify-Webhook-Id".into(), id.into()),
        ("X-Shopify-API-Version".into(), "2026-04".into()),
        (
            "X-Shopify-Triggered-At".into(),
            "2026-12-07T10:00:00.123456Z".into(),
        ),
        ("X-Shopify-Event-Id".into(), format!("event-{id}")),
    ]
}

fn with(mut h: Vec<(String, String)>, name: &str, value: Option<&str>) -> Vec<(String, String)> {
    h.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    if let Some(v) = value {
        h.push((name.to_owned(), v.to_owned()));
    }
    h
}

/// The receiver on a replica in `dir`, served on a loopback port.
struct Receiving {
    store: Store,
    addr: SocketAddr,
    stop: CancellationToken,
    http: reqwest::Client,
}

impl Receiving {
    async fn start(dir: &Path) -> Receiving {
        Receiving::start_with(
            dir,
            ShopifyDeliveries {
                shop_domain: SHOP.to_owned(),
                secrets: Arc::new(vec![SecretString::from(APP_SECRET.to_owned())]),
            },
        )
        .await
    }

    async fn start_with(dir: &Path, shopify: ShopifyDeliveries) -> Receiving {
        let store = Store::open(&dir.join("replica.db")).unwrap();
        let receiver = Receiver {
            inbox: store.inbox().clone(),
            secrets: Arc::new(Secrets::load(store.clone(), None).await.unwrap()),
            shopify: Some(shopify),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        let token = stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, shopify_receiver(receiver))
                .with_graceful_shutdown(token.cancelled_owned())
                .await
                .unwrap();
        });
        Receiving {
            store,
            addr,
            stop,
            http: reqwest::Client::new(),
        }
    }

    /// POSTs `body` with `headers`; the status and the JSON answer.
    async fn post(&self, headers: &[(String, String)], body: Vec<u8>) -> (u16, Value) {
        let mut req = self.http.post(format!("http://{}{PATH}", self.addr));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let res = req.body(body).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn deliver(&self, topic: &str, id: &str, body: &[u8]) -> (u16, Value) {
        self.post(&headers(topic, id, body, APP_SECRET), body.to_vec())
            .await
    }

    async fn stats(&self) -> possync::store::inbox::WebhookStats {
        self.store.inbox().stats(10).await.unwrap()
    }

    async fn stop(self) {
        self.stop.cancel();
    }
}

fn error_of(answer: &Value) -> (&str, &str) {
    (
        answer["error"]["code"].as_str().unwrap_or(""),
        answer["error"]["message"].as_str().unwrap_or(""),
    )
}

#[tokio::test]
async fn a_delivery_is_stored_once_and_its_retries_are_not_even_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let r = Receiving::start(dir.path()).await;
    let body = payload("products-update");
    let id = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043";

    let (status, answer) = r.deliver("products/update", id, &body).await;
    assert_eq!(
        (status, &answer),
        (200, &serde_json::json!({ "stored": true }))
    );
    // Shopify's retry: the same payload, the same webhook id.
    let (status, answer) = r.deliver("products/update", id, &body).await;
    assert_eq!(
        (status, &answer),
        (
            200,
            &serde_json::json!({ "stored": false, "duplicate": true })
        )
    );
    // Two copies at once: the writer tells them apart too.
    let other = "0d3f1c2e-5a2b-4c61-9b7e-3f1f2a9c8d11";
    let (a, b) = tokio::join!(
        r.deliver("products/update", other, &body),
        r.deliver("products/update", other, &body)
    );
    let stored: Vec<bool> = [a, b]
        .iter()
        .map(|(s, v)| {
            assert_eq!(*s, 200);
            v["stored"].as_bool().unwrap()
        })
        .collect();
    assert_eq!(stored.iter().filter(|s| **s).count(), 1, "{stored:?}");

    let stats = r.stats().await;
    assert_eq!((stats.received, stats.duplicates), (2, 2), "{stats:?}");

    // Read through the Shopify parser: one fetch of the product at that
    // version; the second stored delivery (another id, the same version)
    // is a duplicate of the first by version, not a second fetch.
    let done = worker::drain(
        &r.store,
        parser(possync::config::StoreKind::Shopify),
        &Mirror::default(),
    )
    .await
    .unwrap();
    assert_eq!((done.refetch, done.duplicates), (1, 1), "{done:?}");
    assert_eq!(r.stats().await.awaiting_refetch, 1);
    r.stop().await;

    // After a restart the inbox still knows the id.
    let r = Receiving::start(dir.path()).await;
    let (status, answer) = r.deliver("products/update", id, &body).await;
    assert_eq!((status, answer["duplicate"].as_bool()), (200, Some(true)));
    assert_eq!(r.stats().await.received, 2);
    r.stop().await;
}

#[tokio::test]
async fn bad_deliveries_are_refused_with_their_reason_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let r = Receiving::start(dir.path()).await;
    let body = payload("orders-create");
    let good = headers("orders/create", "id-1", &body, APP_SECRET);

    let unsigned = with(good.clone(), "X-Shopify-Hmac-Sha256", None);
    let (status, answer) = r.post(&unsigned, body.clone()).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(
        error_of(&answer),
        (
            "unauthorized",
            "the delivery has no X-Shopify-Hmac-Sha256 header"
        )
    );

    let forged = headers("orders/create", "id-1", &body, "not-the-app-secret");
    let (status, answer) = r.post(&forged, body.clone()).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(
        error_of(&answer).1,
        "the X-Shopify-Hmac-Sha256 signature does not match the body under the app's client secret"
    );

    // Signed, then changed on the way.
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let (status, _) = r.post(&good, tampered).await;
    assert_eq!(status, 401);

    let garbage = with(
        good.clone(),
        "X-Shopify-Hmac-Sha256",
        Some("%%% not base64"),
    );
    let (status, answer) = r.post(&garbage, body.clone()).await;
    assert_eq!(status, 401, "{answer}");
    assert!(
        error_of(&answer).1.contains("not a base64 HMAC-SHA256"),
        "{answer}"
    );

    let big = vec![b' '; 2 * 1024 * 1024 + 1];
    let (status, answer) = r
        .post(&headers("orders/create", "id-2", &big, APP_SECRET), big)
        .await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(
        error_of(&answer),
        (
            "payload_too_large",
            "the request body is larger than 2097152 bytes"
        )
    );

    let foreign = with(
        good.clone(),
        "X-Shopify-Shop-Domain",
        Some("someone-else.myshopify.com"),
    );
    let (status, answer) = r.post(&foreign, body.clone()).await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(
        error_of(&answer),
        (
            "other_shop",
            "the delivery is from someone-else.myshopify.com, but this agent syncs possync-test.myshopify.com"
        )
    );

    let topicless = with(good.clone(), "X-Shopify-Topic", None);
    let (status, answer) = r.post(&topicless, body.clone()).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        error_of(&answer).1,
        "the delivery has no X-Shopify-Topic header"
    );

    let unknown = headers("carts/create", "id-3", &body, APP_SECRET);
    let (status, answer) = r.post(&unknown, body.clone()).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["field"], "X-Shopify-Topic");
    assert!(
        error_of(&answer).1.starts_with(
            "X-Shopify-Topic: \"carts/create\" is not a topic the agent takes (products/create"
        ),
        "{answer}"
    );

    let idless = with(good.clone(), "X-Shopify-Webhook-Id", None);
    let (status, answer) = r.post(&idless, body.clone()).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        error_of(&answer).1,
        "the delivery has no X-Shopify-Webhook-Id header"
    );

    let stats = r.stats().await;
    assert_eq!(
        (stats.received, stats.duplicates, stats.waiting),
        (0, 0, 0),
        "{stats:?}"
    );
    // The same delivery, as Shopify sent it, is taken: the refusals did
    // not take its id either.
    let (status, answer) = r.post(&good, body.clone()).await;
    assert_eq!((status, answer["stored"].as_bool()), (200, Some(true)));
    let done = worker::drain(
        &r.store,
        parser(possync::config::StoreKind::Shopify),
        &Mirror::default(),
    )
    .await
    .unwrap();
    assert_eq!(done.applied, 1, "{done:?}");
    let orders = r
        .store
        .read(|c| dump::raw_rows(c, Resource::Orders))
        .await
        .unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].0, "820982911946154508");
    r.stop().await;
}

#[tokio::test]
async fn an_older_delivery_is_stale_and_a_deletion_removes_the_product() {
    let dir = tempfile::tempdir().unwrap();
    let r = Receiving::start(dir.path()).await;
    let newer = payload("products-update");
    let mut older: Value = serde_json::from_slice(&newer).unwrap();
    older["updated_at"] = "2021-12-30T19:00:00-05:00".into();
    older["title"] = "Older title".into();
    let older = serde_json::to_vec(&older).unwrap();
    let shopify = parser(possync::config::StoreKind::Shopify);
    // The product as a pull left it (an order delivery names no product, so
    // it is written here through the same guard, at the newer version).
    let pulled = possync::upstream::shopify::pages::records(
        Resource::Products,
        &[serde_json::json!({
            "id": "gid://shopify/Product/788032119674292922",
            "title": "Example T-Shirt",
            "handle": "example-t-shirt",
            "status": "ACTIVE",
            "tags": [],
            "createdAt": "2021-12-31T19:00:00-05:00",
            "updatedAt": "2021-12-31T19:00:00-05:00",
            "hasOnlyDefaultVariant": false,
            "options": [],
            "variants": { "nodes": [] },
            "collections": { "nodes": [] },
        })],
    )
    .unwrap();
    let variant = |id: i64, title: &str| {
        serde_json::json!({
            "id": format!("gid://shopify/ProductVariant/{id}"),
            "title": title,
            "price": "19.99",
            "createdAt": "2021-12-31T19:00:00-05:00",
            "updatedAt": "2021-12-31T19:00:00-05:00",
            "selectedOptions": [{ "name": "Title", "value": title }],
            "product": { "id": "gid://shopify/Product/788032119674292922", "hasOnlyDefaultVariant": false },
            "inventoryItem": { "tracked": false },
        })
    };
    let variants = possync::upstream::shopify::pages::records(
        Resource::Variations,
        &[
            variant(642667041472713922, "Small"),
            variant(757650484644203962, "Medium"),
        ],
    )
    .unwrap();
    r.store
        .write(move |tx| {
            for records in [&pulled, &variants] {
                let key = possync::sync::webhooks::apply::version_of(records).unwrap();
                possync::sync::webhooks::apply::write_version(
                    tx,
                    records,
                    &key,
                    &Mirror::default(),
                    0,
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let held = r
        .store
        .read(|c| dump::raw_rows(c, Resource::Variations))
        .await
        .unwrap();
    assert_eq!(held.len(), 2, "the product is held with its variants");
    // A delivery of an older version is stale: no fetch for it.
    assert_eq!(r.deliver("products/update", "o", &older).await.0, 200);
    let done = worker::drain(&r.store, shopify, &Mirror::default())
        .await
        .unwrap();
    assert_eq!((done.stale, done.refetch), (1, 0), "{done:?}");
    let rows = r
        .store
        .read(|c| dump::raw_rows(c, Resource::Products))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].1.contains("Example T-Shirt"), "{}", rows[0].1);

    let gone = br#"{"id":788032119674292922}"#;
    assert_eq!(r.deliver("products/delete", "d", gone).await.0, 200);
    let done = worker::drain(&r.store, shopify, &Mirror::default())
        .await
        .unwrap();
    assert_eq!(done.applied, 1, "{done:?}");
    let rows = r
        .store
        .read(|c| dump::raw_rows(c, Resource::Products))
        .await
        .unwrap();
    assert!(rows.is_empty(), "the product left: {rows:?}");
    let variations = r
        .store
        .read(|c| dump::raw_rows(c, Resource::Variations))
        .await
        .unwrap();
    assert!(variations.is_empty(), "its variants left: {variations:?}");
    r.stop().await;
}

/// The agent's Shopify client and receiver, made from one configuration
/// as the app makes them, against the simulated shop.
async fn agent_for(
    sim: &possync_sim::shopify::ShopifySim,
    dir: &Path,
) -> (possync::upstream::shopify::client::ShopifyClient, Receiving) {
    let env = [
        ("POSSYNC_STORE_KIND", "shopify".to_owned()),
        ("POSSYNC_STORE_SHOP", sim.shop_domain()),
        ("POSSYNC_STORE_ACCESS_TOKEN", sim.access_token().to_owned()),
        ("POSSYNC_STORE_ADMIN_URL", sim.url()),
        (
            "POSSYNC_WEBHOOKS_SECRET",
            possync_sim::shopify::ShopifyConfig::default().webhook_secret,
        ),
    ]
    .map(|(k, v)| (k.to_owned(), v));
    let file = dir.join("possync.toml");
    std::fs::write(&file, "").unwrap();
    let config = possync::Config::load(Some(&file), env, &[]).unwrap();
    let conn = possync::upstream::shopify::connection::ShopifyConnection::from_config(
        config.store().unwrap(),
    )
    .unwrap();
    let client = possync::upstream::shopify::client::ShopifyClient::new(conn).unwrap();
    let shopify = ShopifyDeliveries::from_config(&config).expect("a Shopify store with a secret");
    assert_eq!(shopify.shop_domain, sim.shop_domain());
    (client, Receiving::start_with(dir, shopify).await)
}

#[tokio::test]
async fn subscriptions_made_by_the_client_bring_the_shops_signed_changes_into_the_replica() {
    use possync::domain::webhooks::{Action, Subject, Topic};
    use possync::upstream::{SubscriptionChange, WebhookAdmin};

    let sim = possync_sim::shopify::ShopifySim::spawn(Default::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (client, r) = agent_for(&sim, dir.path()).await;
    let url = format!("http://{}{PATH}", r.addr);
    let topic = Topic {
        subject: Subject::Product,
        action: Action::Updated,
    };
    let unused = SecretString::from("per-subscription secrets are not sent".to_owned());
    let made = client
        .create_webhook("possync till", topic, &url, &unused)
        .await
        .unwrap();
    assert_eq!(
        (
            made.topic.as_str(),
            made.delivery_url.as_str(),
            made.name.as_str()
        ),
        ("product.updated", url.as_str(), "possync till")
    );
    let listed = client.list_webhooks().await.unwrap();
    assert_eq!(listed, vec![made.clone()]);
    // Shopify has neither pause nor per-subscription secrets.
    let pause = SubscriptionChange {
        status: Some(possync::domain::webhooks::SubscriptionStatus::Paused),
        ..SubscriptionChange::default()
    };
    let e = client.update_webhook(made.id, &pause).await.unwrap_err();
    assert!(e.to_string().contains("cannot be paused"), "{e}");
    let renamed = client
        .update_webhook(
            made.id,
            &SubscriptionChange {
                name: Some("possync till 2".to_owned()),
                ..SubscriptionChange::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "possync till 2");
    // A restored product has no Shopify topic.
    let restored = Topic {
        subject: Subject::Product,
        action: Action::Restored,
    };
    assert!(
        client
            .create_webhook("x", restored, &url, &unused)
            .await
            .is_err()
    );

    // The merchant renames a product: the delivery is verified, stored
    // and applied.
    let product = sim.product_ids()[0].clone();
    let number: i64 = product.rsplit('/').next().unwrap().parse().unwrap();
    assert!(sim.rename_product(&product, "Renamed in the admin"));
    crate::common::wait_for(
        "the delivery stored",
        std::time::Duration::from_secs(10),
        || async { (r.stats().await.received == 1).then_some(()) },
    )
    .await;
    let shopify = parser(possync::config::StoreKind::Shopify);
    let done = worker::drain(&r.store, shopify, &Mirror::default())
        .await
        .unwrap();
    // The payload names the product; the product is fetched by id.
    assert_eq!(done.refetch, 1, "{done:?}");
    assert!(
        possync::sync::webhooks::refetch::settle(&client, &r.store, &Mirror::default()).await,
        "the fetch settled"
    );
    let stats = r.stats().await;
    assert_eq!(
        (stats.refetched, stats.awaiting_refetch),
        (1, 0),
        "{stats:?}"
    );
    let rows = r
        .store
        .read(|c| dump::raw_rows(c, Resource::Products))
        .await
        .unwrap();
    let row = rows
        .iter()
        .find(|(k, _)| *k == number.to_string())
        .expect("the product in the replica");
    assert!(row.1.contains("Renamed in the admin"), "{}", row.1);

    // Sent twice with one webhook id: stored once.
    sim.deliver_twice(1);
    assert!(sim.rename_product(&product, "Renamed again"));
    crate::common::wait_for(
        "the copy turned away",
        std::time::Duration::from_secs(10),
        || async {
            let s = r.stats().await;
            (s.received == 2 && s.duplicates == 1).then_some(())
        },
    )
    .await;
    // The shop notes each answer once it has read it.
    let sent = crate::common::wait_for(
        "the shop to note three answered deliveries",
        std::time::Duration::from_secs(10),
        || async {
            let sent = sim.webhook_deliveries();
            (sent.len() == 3 && sent.iter().all(|d| d.status.is_some())).then_some(sent)
        },
    )
    .await;
    assert_eq!(sent[1].webhook_id, sent[2].webhook_id);
    assert!(sent.iter().all(|d| d.status == Some(200)), "{sent:?}");

    client.delete_webhook(made.id).await.unwrap();
    assert!(client.list_webhooks().await.unwrap().is_empty());
    let e = client.delete_webhook(made.id).await.unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
    r.stop().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn webhooks_install_subscribes_a_shopify_shop_to_what_it_delivers_once() {
    use possync::sync::webhooks::subscriptions::{self, Installed};

    let sim = possync_sim::shopify::ShopifySim::spawn(Default::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (client, r) = agent_for(&sim, dir.path()).await;
    let url = subscriptions::delivery_url_for(
        "https://till1.example.com/",
        possync::config::StoreKind::Shopify,
    )
    .unwrap();
    assert_eq!(url, "https://till1.example.com/webhooks/shopify");

    let done = subscriptions::install(&client, &r.store, &url)
        .await
        .unwrap();
    let created: Vec<String> = done
        .iter()
        .filter(|(_, w)| matches!(w, Installed::Created))
        .map(|(t, _)| t.to_string())
        .collect();
    assert_eq!(created.len(), 9, "{done:?}");
    let refused: Vec<String> = done
        .iter()
        .filter_map(|(t, w)| match w {
            Installed::Refused { code, .. } => Some(format!("{t} {code}")),
            _ => None,
        })
        .collect();
    assert_eq!(
        refused,
        [
            "product.restored topic_not_delivered",
            "order.restored topic_not_delivered"
        ]
    );
    // Again: everything is found and kept.
    let again = subscriptions::install(&client, &r.store, &url)
        .await
        .unwrap();
    assert_eq!(
        again
            .iter()
            .filter(|(_, w)| matches!(w, Installed::Unchanged))
            .count(),
        9,
        "{again:?}"
    );
    let listed = client.list_webhooks_for_test().await;
    assert_eq!(listed, 9);
    // Shopify has no pause.
    let e = subscriptions::set_all(
        &client,
        &r.store,
        possync::domain::webhooks::SubscriptionStatus::Paused,
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("cannot be paused"), "{e}");
    assert_eq!(
        subscriptions::remove_all(&client, &r.store).await.unwrap(),
        9
    );
    assert_eq!(client.list_webhooks_for_test().await, 0);
    r.stop().await;
    sim.shutdown().await;
}

trait CountSubscriptions {
    async fn list_webhooks_for_test(&self) -> usize;
}

impl CountSubscriptions for possync::upstream::shopify::client::ShopifyClient {
    async fn list_webhooks_for_test(&self) -> usize {
        use possync::upstream::WebhookAdmin;
        self.list_webhooks().await.unwrap().len()
    }
}

/// A whole agent syncing the simulated Shopify shop: the subscription its
/// client makes delivers to the agent's own `/webhooks/shopify` (through
/// the security layer), and the worker the app runs applies the change.
#[tokio::test]
async fn a_whole_agent_syncing_a_shopify_shop_takes_its_signed_deliveries() {
    use possync::domain::webhooks::{Action, Subject, Topic};
    use possync::upstream::WebhookAdmin;

    let sim = possync_sim::shopify::ShopifySim::spawn(Default::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (client, r) = agent_for(&sim, dir.path()).await;
    r.stop().await;
    let env = [
        ("POSSYNC_STORE_KIND", "shopify".to_owned()),
        ("POSSYNC_STORE_SHOP", sim.shop_domain()),
        ("POSSYNC_STORE_ACCESS_TOKEN", sim.access_token().to_owned()),
        ("POSSYNC_STORE_ADMIN_URL", sim.url()),
    ]
    .map(|(k, v)| (k.to_owned(), v));
    let file = dir.path().join("possync.toml");
    let loaded = possync::Config::load(Some(&file), env, &[]).unwrap();
    let config = possync::Config {
        webhooks: possync::config::WebhooksConfig {
            secret: Some(SecretString::from(
                possync_sim::shopify::ShopifyConfig::default().webhook_secret,
            )),
        },
        ..possync::Config::new(
            crate::common::any_port(),
            dir.path().join("agent"),
            loaded.store.clone(),
        )
    };
    let app = possync::App::spawn(
        config,
        possync::AppOptions {
            initial_pull: possync::sync::engine::InitialPull::Never,
        },
    )
    .await
    .unwrap();
    let topic = Topic {
        subject: Subject::Product,
        action: Action::Updated,
    };
    let url = format!("{}{PATH}", app.url());
    let unused = SecretString::from("unused".to_owned());
    client
        .create_webhook("possync", topic, &url, &unused)
        .await
        .unwrap();

    // An active product with one variant, stocked at both of the shop's
    // locations: the agent mirrors what is on sale, and the stock at its
    // own location (the primary), which the delivery's
    // `inventory_quantity` (the sum) is not.
    let location = crate::shopify_pull::location(&sim).await;
    let (simple, _) = crate::shopify_pull::active_sellables(&sim, location).await;
    let mut chosen = None;
    for p in simple {
        let total = crate::shopify_pull::ask(
            &sim,
            "query($id: ID!) { product(id: $id) { variants(first: 1) { nodes { inventoryQuantity } } } }",
            serde_json::json!({ "id": format!("gid://shopify/Product/{}", p.id) }),
        )
        .await["product"]["variants"]["nodes"][0]["inventoryQuantity"]
            .as_i64();
        if let (Some(here), Some(total)) = (p.stock, total)
            && total != here
        {
            chosen = Some((p.id, here));
            break;
        }
    }
    let (number, stock_here) = chosen.expect("a product stocked at both locations");
    let number = number.to_string();
    let product = format!("gid://shopify/Product/{number}");
    assert!(sim.rename_product(&product, "Renamed while the agent runs"));
    let store = app.store().clone();
    let stats = crate::common::wait_for(
        "the delivery applied",
        std::time::Duration::from_secs(20),
        || async {
            let s = store.inbox().stats(5).await.unwrap();
            (s.received == 1 && s.waiting == 0 && s.awaiting_refetch == 0).then_some(s)
        },
    )
    .await;
    // Fetched, or stale when a poll brought the same version first.
    assert_eq!(stats.refetched + stats.stale, 1, "{stats:?}");
    let id: i64 = number.parse().unwrap();
    let view = store
        .read(move |c| {
            possync::store::lookup::products::product(c, id, possync::domain::GmtTime::now())
        })
        .await
        .unwrap()
        .expect("looked up");
    assert_eq!(view.name, "Renamed while the agent runs");
    assert_eq!(
        view.stock.quantity,
        Some(stock_here),
        "the stock at the till's location, not the shop's total"
    );
    let rows = store
        .read(|c| dump::raw_rows(c, Resource::Products))
        .await
        .unwrap();
    let row = rows
        .iter()
        .find(|(k, _)| *k == number)
        .expect("in the replica");
    assert!(row.1.contains("Renamed while the agent runs"), "{}", row.1);
    let sent = sim.webhook_deliveries();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].status, Some(200));
    app.shutdown().await;
    sim.shutdown().await;
}
