//! Webhook subscriptions on a Shopify shop: `webhookSubscriptions`,
//! `webhookSubscriptionCreate`, `webhookSubscriptionUpdate` and
//! `webhookSubscriptionDelete` of the pinned Admin API, behind the same
//! [`WebhookAdmin`] trait as WooCommerce's REST webhooks.
//!
//! Two differences from WooCommerce shape what `possync webhooks` can do:
//!
//! - **One secret for all.** Shopify signs every delivery with the app's
//!   client secret; a subscription has no secret of its own. The secret
//!   `create_webhook` or `update_webhook` is given is not sent (nothing
//!   would take it). To rotate, rotate the app's client secret in the
//!   Partner Dashboard or the shop's app settings and give the agent the
//!   new one (`store.client_secret`, or `webhooks.secret` beside an access
//!   token; both are taken while the change takes effect). So the
//!   per-subscription secrets `webhooks install` keeps in the replica mean
//!   nothing for a Shopify shop: the receiver at `/webhooks/shopify` checks
//!   deliveries against the configured secret(s) only.
//! - **No pause.** A Shopify subscription has no status: it delivers until
//!   deleted (Shopify deletes one itself after its retries are exhausted, 8
//!   over 4 hours). Every subscription listed is active; pausing is refused
//!   with that reason, and `remove` then `install` stands in for it.
//!
//! A subscription's id is the number of its `gid://shopify/WebhookSubscription/…`
//! (`legacyResourceId`), so the replica's subscription records keep working.

use serde::Deserialize;
use serde_json::{Value, json};

use super::classify::Answer;
use super::client::{Kind, ShopifyClient};
use super::delivery::DeliveryTopic;
use super::wire;
use crate::domain::UpstreamId;
use crate::domain::webhooks::{Subscription, SubscriptionStatus, Topic};
use crate::upstream::{SubscriptionChange, UpstreamError, WebhookAdmin};

/// Subscriptions asked per page (Shopify's most).
const PER_PAGE: u32 = 250;
const KIND: &str = "WebhookSubscription";

const SUBSCRIPTION_FIELDS: &str = "id name topic uri";

/// The list, a page at a time.
pub fn list_document() -> String {
    format!(
        "query WebhookSubscriptions($first: Int!, $after: String) {{ webhookSubscriptions(first: $first, after: $after) {{ nodes {{ {SUBSCRIPTION_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    )
}

pub fn create_document() -> String {
    format!(
        "mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {{ webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {{ webhookSubscription {{ {SUBSCRIPTION_FIELDS} }} userErrors {{ field message }} }} }}"
    )
}

pub fn update_document() -> String {
    format!(
        "mutation WebhookSubscriptionUpdate($id: ID!, $webhookSubscription: WebhookSubscriptionInput!) {{ webhookSubscriptionUpdate(id: $id, webhookSubscription: $webhookSubscription) {{ webhookSubscription {{ {SUBSCRIPTION_FIELDS} }} userErrors {{ field message }} }} }}"
    )
}

pub const DELETE_DOCUMENT: &str = "mutation WebhookSubscriptionDelete($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } } }";

#[derive(Deserialize)]
struct WireSubscription {
    id: String,
    name: Option<String>,
    topic: String,
    #[serde(default)]
    uri: String,
}

/// A listed subscription in our terms. The topic is the agent's
/// (`product.updated`) where Shopify's is one of the agent's topics, so
/// `webhooks install` recognises what it made; else Shopify's REST name
/// (`inventory_levels/update`), or the enum value of a topic not taken.
fn subscription(node: &Value) -> Result<Subscription, UpstreamError> {
    let (w, _) = wire::read_node::<WireSubscription>(node, "webhook subscription")?;
    Ok(Subscription {
        id: wire::gid_number(&w.id, KIND)?,
        name: w.name.unwrap_or_default(),
        topic: match DeliveryTopic::parse(&w.topic) {
            Some(t) => t
                .topic()
                .map_or_else(|| t.rest_name().to_owned(), |t| t.to_string()),
            None => w.topic.clone(),
        },
        delivery_url: w.uri,
        status: SubscriptionStatus::Active,
    })
}

/// `userErrors` as the shop's refusal.
fn refused(payload: &Value, what: &str) -> Option<UpstreamError> {
    let errors = payload.get("userErrors")?.as_array()?;
    if errors.is_empty() {
        return None;
    }
    let message = super::writes::user_error_text(errors);
    Some(UpstreamError::Rejected {
        status: 200,
        code: format!("{what}_refused"),
        message,
    })
}

fn payload<'a>(answer: &'a Answer, field: &str) -> Result<&'a Value, UpstreamError> {
    match answer.data.get(field) {
        Some(v) if v.is_object() => Ok(v),
        _ => Err(UpstreamError::Malformed {
            detail: format!("the answer has no {field}"),
            snippet: String::new(),
        }),
    }
}

impl ShopifyClient {
    async fn mutate(&self, document: &str, variables: Value) -> Result<Answer, UpstreamError> {
        Ok(self.request(document, variables, Kind::Write).await?)
    }
}

impl WebhookAdmin for ShopifyClient {
    async fn list_webhooks(&self) -> Result<Vec<Subscription>, UpstreamError> {
        let document = list_document();
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let answer = self
                .query(&document, json!({ "first": PER_PAGE, "after": after }))
                .await?;
            let conn = payload(&answer, "webhookSubscriptions")?;
            for node in conn["nodes"].as_array().into_iter().flatten() {
                out.push(subscription(node)?);
            }
            let info = &conn["pageInfo"];
            match (info["hasNextPage"].as_bool(), info["endCursor"].as_str()) {
                (Some(true), Some(cursor)) => after = Some(cursor.to_owned()),
                _ => return Ok(out),
            }
        }
    }

    async fn create_webhook(
        &self,
        name: &str,
        topic: Topic,
        delivery_url: &str,
        // Shopify signs with the app's client secret: see the module docs.
        _secret: &secrecy::SecretString,
    ) -> Result<Subscription, UpstreamError> {
        // Refused as the shop would refuse a topic (`webhooks install`
        // reports it and goes on with the others).
        let shop_topic =
            DeliveryTopic::for_topic(topic).ok_or_else(|| UpstreamError::Rejected {
                status: 422,
                code: "topic_not_delivered".to_owned(),
                message: format!("Shopify delivers nothing for {topic}"),
            })?;
        let answer = self
            .mutate(
                &create_document(),
                json!({
                    "topic": shop_topic.enum_name(),
                    "webhookSubscription": { "uri": delivery_url, "format": "JSON", "name": name },
                }),
            )
            .await?;
        let payload = payload(&answer, "webhookSubscriptionCreate")?;
        if let Some(e) = refused(payload, "webhook_create") {
            return Err(e);
        }
        subscription(&payload["webhookSubscription"])
    }

    async fn update_webhook(
        &self,
        id: UpstreamId,
        change: &SubscriptionChange,
    ) -> Result<Subscription, UpstreamError> {
        // `change.secret` has nowhere to go: a Shopify subscription has no
        // secret of its own (see the module docs).
        match change.status {
            None | Some(SubscriptionStatus::Active) => {}
            Some(other) => {
                return Err(UpstreamError::Setup(format!(
                    "a Shopify subscription cannot be {}: it delivers until removed",
                    other.as_str()
                )));
            }
        }
        let mut input = json!({});
        if let Some(name) = &change.name {
            input["name"] = json!(name);
        }
        let answer = self
            .mutate(
                &update_document(),
                json!({ "id": wire::gid(KIND, id), "webhookSubscription": input }),
            )
            .await?;
        let payload = payload(&answer, "webhookSubscriptionUpdate")?;
        if let Some(e) = refused(payload, "webhook_update") {
            return Err(e);
        }
        subscription(&payload["webhookSubscription"])
    }

    async fn delete_webhook(&self, id: UpstreamId) -> Result<(), UpstreamError> {
        let answer = self
            .mutate(DELETE_DOCUMENT, json!({ "id": wire::gid(KIND, id) }))
            .await?;
        let payload = payload(&answer, "webhookSubscriptionDelete")?;
        if let Some(e) = refused(payload, "webhook_delete") {
            return Err(e);
        }
        Ok(())
    }
}
