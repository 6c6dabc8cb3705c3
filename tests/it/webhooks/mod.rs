//! Webhooks end to end over real HTTP: the captured WooCommerce deliveries
//! replayed to the agent, bad input refused, deliveries applied to the
//! replica through the date guard, and subscriptions against the sim.

mod apply;
pub(crate) mod fixtures;
mod inbox;
mod receiver;
mod refetch;
mod shopify;
mod subscriptions;

use std::path::{Path, PathBuf};
use std::time::Duration;

use possync::config::{Config, WebhooksConfig};
use possync::domain::webhooks::SubscriptionStatus;
use possync::store::Store;
use possync::store::inbox::WebhookStats;
use possync::store::subscriptions::{LocalSubscription, save};
use possync::sync::engine::InitialPull;
use possync::upstream::woo::webhook;
use possync::{App, AppOptions, RunningApp};
use secrecy::SecretString;
use serde_json::Value;

use crate::common::{any_port, wait_for};

/// The secret configured for subscriptions made by hand, in these tests.
pub const HAND_SECRET: &str = "hand-made-test-secret";
pub const PATH: &str = "/webhooks/woocommerce";

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/woocommerce/webhooks")
}

/// An agent with no shop configured (nothing but the receiver runs), whose
/// replica holds the captured subscriptions' secrets.
pub struct Agent {
    pub app: RunningApp,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
}

pub fn config(dir: &Path) -> Config {
    Config {
        webhooks: WebhooksConfig {
            secret: Some(SecretString::from(HAND_SECRET.to_owned())),
        },
        ..Config::new(any_port(), dir.to_path_buf(), None)
    }
}

impl Agent {
    pub async fn spawn() -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("replica.db")).unwrap();
        // The fixtures README: secrets are realwoo-secret-<topic with '-'>.
        let topics = [
            "product.created",
            "product.updated",
            "product.deleted",
            "product.restored",
            "order.created",
            "order.updated",
            "order.deleted",
            "customer.created",
            "customer.updated",
            "customer.deleted",
            "coupon.updated",
        ];
        for (i, topic) in topics.into_iter().enumerate() {
            let sub = LocalSubscription {
                id: i as i64 + 1,
                topic: topic.to_owned(),
                delivery_url: format!("http://127.0.0.1:8080/hook/{topic}"),
                secret: SecretString::from(format!("realwoo-secret-{}", topic.replace('.', "-"))),
                status: SubscriptionStatus::Active,
            };
            store.write(move |tx| save(tx, &sub, 0)).await.unwrap();
        }
        drop(store);
        Agent::start(dir).await
    }

    /// Starts an agent on the data directory `dir` as it is (deliveries
    /// signed with the hand-made secret are taken).
    pub async fn start(dir: tempfile::TempDir) -> Agent {
        let app = App::spawn(
            config(dir.path()),
            AppOptions {
                initial_pull: InitialPull::Never,
            },
        )
        .await
        .unwrap();
        // The status API needs a token; deliveries are checked by signature
        // alone and ignore it.
        let token =
            crate::common::create_token(&app, &format!("webhook-tests-{}", uuid::Uuid::new_v4()))
                .await;
        Agent {
            app,
            dir,
            http: crate::common::client_with_token(&token),
        }
    }

    /// POSTs `body` with `headers` to the receiver; returns the status.
    pub async fn post(&self, headers: &[(String, String)], body: Vec<u8>) -> u16 {
        let mut req = self.http.post(format!("{}{PATH}", self.app.url()));
        for (k, v) in headers {
            // The client sets its own framing headers.
            if ["host", "content-length", "connection"].contains(&k.to_ascii_lowercase().as_str()) {
                continue;
            }
            req = req.header(k, v);
        }
        req.body(body).send().await.unwrap().status().as_u16()
    }

    /// POSTs a delivery for `topic` signed with the hand-made secret.
    pub async fn deliver(&self, topic: &str, body: &[u8]) -> u16 {
        self.post(&signed_headers(topic, body, HAND_SECRET), body.to_vec())
            .await
    }

    pub async fn status(&self) -> Value {
        self.http
            .get(format!("{}/api/sync/status", self.app.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn stats(&self) -> WebhookStats {
        self.app.store().inbox().stats(10).await.unwrap()
    }

    /// Waits until no stored delivery is left to apply.
    pub async fn settled(&self) -> WebhookStats {
        wait_for(
            "webhook deliveries applied",
            Duration::from_secs(10),
            || async {
                let s = self.stats().await;
                (s.waiting == 0).then_some(s)
            },
        )
        .await
    }

    pub async fn stop(self) {
        self.app.shutdown().await;
    }
}

/// WooCommerce's headers for an event delivery.
pub fn signed_headers(topic: &str, body: &[u8], secret: &str) -> Vec<(String, String)> {
    let (resource, event) = topic.split_once('.').unwrap_or((topic, ""));
    vec![
        ("Content-Type".into(), "application/json".into()),
        ("X-WC-Webhook-Source".into(), "https://shop.example/".into()),
        ("X-WC-Webhook-Topic".into(), topic.into()),
        ("X-WC-Webhook-Resource".into(), resource.into()),
        ("X-WC-Webhook-Event".into(), event.into()),
        (
            "X-WC-Webhook-Signature".into(),
            webhook::sign(body, &SecretString::from(secret.to_owned())),
        ),
        ("X-WC-Webhook-ID".into(), "99".into()),
        (
            "X-WC-Webhook-Delivery-ID".into(),
            "0123456789abcdef0123456789abcdef".into(),
        ),
    ]
}
