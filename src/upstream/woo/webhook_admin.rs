//! Webhook subscriptions over REST (`GET/POST/PUT/DELETE /webhooks`).
//!
//! Listing is a GET and retried like every GET; writes are sent once (the
//! operator reruns `webhooks install`, which is idempotent).

use reqwest::Method;
use secrecy::SecretString;
use serde_json::Value;

use super::classify;
use super::client::WooClient;
use super::webhook::{self, WEBHOOKS_PATH};
use crate::domain::UpstreamId;
use crate::domain::webhooks::{Subscription, Topic};
use crate::telemetry::metrics::{self, UpstreamKind};
use crate::upstream::{SubscriptionChange, UpstreamError, WebhookAdmin};

/// Subscriptions asked per page.
const WEBHOOKS_PAGE: u32 = 100;
/// A shop with more subscriptions than this is not walked further.
const WEBHOOKS_MAX_PAGES: u32 = 50;

impl WooClient {
    /// One webhook write, sent once.
    async fn send_webhook_request(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<Value, UpstreamError> {
        let mut request = self.authorized(method, path, query);
        if let Some(body) = body {
            request = request.json(body);
        }
        self.count_request();
        let started = std::time::Instant::now();
        let out = self.webhook_answer(request).await;
        metrics::record_upstream(
            UpstreamKind::WebhookAdmin,
            started.elapsed(),
            out.as_ref().err(),
        );
        out
    }

    async fn webhook_answer(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Value, UpstreamError> {
        let response = request.send().await.map_err(classify::transport);
        self.note(&response);
        let response = response?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(classify::transport)?;
        if !status.is_success() {
            return Err(classify::status_error(status.as_u16(), &headers, &bytes));
        }
        classify::json_body(&bytes)
    }
}

impl WebhookAdmin for WooClient {
    async fn list_webhooks(&self) -> Result<Vec<Subscription>, UpstreamError> {
        let mut out = Vec::new();
        for page in 1..=WEBHOOKS_MAX_PAGES {
            let query = vec![
                ("per_page".to_owned(), WEBHOOKS_PAGE.to_string()),
                ("page".to_owned(), page.to_string()),
                ("orderby".to_owned(), "id".to_owned()),
                ("order".to_owned(), "asc".to_owned()),
            ];
            let answer = self.get(WEBHOOKS_PATH, &query).await?;
            let items = webhook::subscriptions(answer.body)?;
            let n = items.len();
            out.extend(items);
            if n == 0 || page >= answer.info.total_pages.unwrap_or(1) {
                break;
            }
        }
        Ok(out)
    }

    async fn create_webhook(
        &self,
        name: &str,
        topic: Topic,
        delivery_url: &str,
        secret: &SecretString,
    ) -> Result<Subscription, UpstreamError> {
        let body = webhook::create_body(name, topic, delivery_url, secret);
        let answer = self
            .send_webhook_request(Method::POST, WEBHOOKS_PATH, &[], Some(&body))
            .await?;
        webhook::subscription(answer)
    }

    async fn update_webhook(
        &self,
        id: UpstreamId,
        change: &SubscriptionChange,
    ) -> Result<Subscription, UpstreamError> {
        let body = webhook::update_body(
            change.status,
            change.secret.as_ref(),
            change.name.as_deref(),
        );
        let path = format!("{WEBHOOKS_PATH}/{id}");
        let answer = self
            .send_webhook_request(Method::PUT, &path, &[], Some(&body))
            .await?;
        webhook::subscription(answer)
    }

    async fn delete_webhook(&self, id: UpstreamId) -> Result<(), UpstreamError> {
        // Webhooks cannot be trashed: without force WooCommerce answers 501.
        let path = format!("{WEBHOOKS_PATH}/{id}");
        let query = vec![("force".to_owned(), "true".to_owned())];
        self.send_webhook_request(Method::DELETE, &path, &query, None)
            .await
            .map(|_| ())
    }
}
